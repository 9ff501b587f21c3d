# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: evaluate() of the default rules catalogue over 10,000 hosts' facts.

Builds N hosts' ``imagicle_health`` (90 % healthy, 10 % with one or two faults of various kinds:
a crashed process, a full disk or database, exhausted licences, replication, cloud, web portal,
certificate, an old release, a failed collector, no facts at all), then measures, interleaved in
the same process so that both see the same machine, per round:

* ``evaluate()`` over every host, with the default catalogue loaded once;
* the whole evaluation of the ``evaluate`` action (``evaluation.evaluate_host``): the alarms,
  the response deadline of each (gold plan, Europe/Rome business calendar with Italian public
  holidays) and the eligibility;
* two baselines over the same facts: ``copy.deepcopy`` of every host's facts, and a JSON round
  trip (``json.loads(json.dumps(...))``), the cheapest thing any controller does with facts.

It prints the median and best wall time of the rounds, the time per host and the ratio to each
baseline. Usage: ``python tests/bench/bench_evaluate.py [--hosts N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import statistics
import sys
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.imagicle.proactive.plugins.plugin_utils.evaluation import evaluate_host, host_settings  # noqa: E402
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import evaluate, load_catalogue  # noqa: E402
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils.health_fixture import healthy_health  # noqa: E402


def _process_down(health):
    item = health["processes"]["items"][random.randrange(5)]
    item.update(running=False, count=0, pids=[], start_time_epoch=None, start_time=None)


def _process_restarted(health):
    health["processes"]["items"][0].update(restarted=True, start_time_epoch=1795003600.5)


def _disk_full(health):
    health["disks"]["items"][1]["used_percent"] = random.choice([86.0, 96.5])


def _database_full(health):
    health["database"]["used_percent"] = random.choice([81.0, 97.0])


def _licences(health):
    app = random.choice(["call_recording", "advanced_queuing", "ivr"])
    usage = health["capacity"]["apps"][app]
    usage.update(in_use=usage["licensed"], available=0, used_percent=100.0)


def _replication(health):
    health["replication"].update(state="failure", healthy=False, reason="peer unreachable")


def _cloud(health):
    health["cloud"].update(reachable=False, status_code=None, message=None, problem="timed out")


def _web_down(health):
    health["webserver"].update(up=False, status_code=503, problem="HTTP 503")


def _web_slow(health):
    health["webserver"]["latency_ms"] = 3500.0


def _certificate(health):
    health["webserver"]["tls"]["days_left"] = random.choice([20.0, 3.0])


def _old_release(health):
    health["release"].update(raw="2019.Summer.1", year=2019, season="Summer", number=1)


def _collector_failed(health):
    name = random.choice(["disks", "database", "capacity", "events"])
    health[name] = {"error": "%s: collector failed" % name}


FAULTS = [_process_down, _process_restarted, _disk_full, _database_full, _licences, _replication, _cloud, _web_down,
          _web_slow, _certificate, _old_release, _collector_failed]


def build_estate(hosts: int, seed: int = 2026) -> list:
    """``(host name, facts)`` for every host; about a tenth faulty, a few of those with no facts."""
    random.seed(seed)
    estate = []
    for index in range(hosts):
        health = healthy_health()
        if index % 10 == 9:
            if index % 200 == 199:
                health = None
            else:
                # In list order, so that a failed collector comes after the faults of its section.
                for fault in sorted(random.sample(FAULTS, random.choice([1, 1, 2])), key=FAULTS.index):
                    fault(health)
        estate.append(("ias-%05d" % index, health))
    return estate


def run_evaluate(estate, catalogue, now) -> int:
    count = 0
    for host, health in estate:
        count += len(evaluate(health, host=host, customer="acme", catalogue=catalogue, detected_at=now))
    return count


def run_evaluate_host(estate, settings, now) -> int:
    return sum(len(evaluate_host(settings, health=health, detected_at=now)["alarms"]) for dummy, health in estate)


def run_deepcopy(estate) -> int:
    return sum(1 for dummy, health in estate if copy.deepcopy(health) is not None)


def run_json(estate) -> int:
    return sum(1 for dummy, health in estate if json.loads(json.dumps(health)) is not None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    estate = build_estate(args.hosts)
    catalogue = load_catalogue()
    now = datetime.now(timezone.utc)
    settings = host_settings("ias", {"imagicle_customer": "acme", "imagicle_consent": True,
                                     "imagicle_sla": {"plan": "gold", "timezone": "Europe/Rome",
                                                      "holidays": {"country": "IT"}}})
    runners = {
        "evaluate": lambda: run_evaluate(estate, catalogue, now),
        "with deadlines": lambda: run_evaluate_host(estate, settings, now),
        "deepcopy": lambda: run_deepcopy(estate),
        "json round trip": lambda: run_json(estate),
    }
    times = {name: [] for name in runners}
    alarms = run_evaluate(estate, catalogue, now)  # warm-up, and the alarm count
    for dummy in range(args.rounds):
        for name, runner in runners.items():
            started = time.perf_counter()
            runner()
            times[name].append(time.perf_counter() - started)

    faulty = sum(1 for dummy, health in estate if health is None or health != estate[0][1])
    print("hosts: %d (%d with faults or no facts), alarms: %d, rounds: %d, Python %s"
          % (len(estate), faulty, alarms, args.rounds, sys.version.split()[0]))
    print("%-16s %12s %12s %14s" % ("", "median wall", "best wall", "per host"))
    for name, values in times.items():
        median = statistics.median(values)
        print("%-16s %10.3f s %10.3f s %11.1f us" % (name, median, min(values), median / len(estate) * 1e6))
    for ours in ("evaluate", "with deadlines"):
        for name in ("deepcopy", "json round trip"):
            print("ratio %s / %s: %.2f" % (ours, name, statistics.median(times[ours]) / statistics.median(times[name])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
