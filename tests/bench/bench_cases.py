# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmarks of the support cases, each against a baseline run in the same command.

``rt``: cases filed per second into a real Request Tracker by the case manager (what the
``cases`` callback runs at the end of a run: outbox, idempotency lookup, create, confirmation
read, state store) against a bare loop of ``POST /ticket`` calls to the same RT with the same
content. Both start from the same freshly reset RT database.

``callback``: the added cost of the ``cases`` callback on a run with no alarms: the scheduled
job over the demo test bed with the callback enabled (local register, its own state store)
against the same job with the callback disabled, interleaved.

Usage (as root, from the repository):
    .venv/bin/python tests/bench/bench_cases.py rt [--cases 50]
    make setup demo-up && .venv/bin/python tests/bench/bench_cases.py callback [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _path in (os.path.join(ROOT, "collections"), os.path.join(ROOT, "tests", "services")):
    sys.path.insert(0, _path)

# pylint: disable=wrong-import-position
import requests  # noqa: E402
from rt_service import RtService, free_port  # noqa: E402

from ansible_collections.imagicle.proactive.plugins.plugin_utils import cases  # noqa: E402
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.rt import RtBackend  # noqa: E402
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store  # noqa: E402


def alarms(count: int) -> list:
    return [{
        "rule": "disk_space", "title": "Disk space running low", "family": "disk_saturation", "priority": "P4",
        "customer": "acme", "host": "ias-%03d" % index, "subject": "/srv/appsuite", "fingerprint": "bench%015d" % index,
        "summary": "/srv/appsuite is 90.0 % full", "evidence": {"used_percent": 90.0}, "detected_at": "2026-11-27T10:00:00Z",
        "due": "2026-11-27T18:00:00Z", "response_target_minutes": 480, "response_calendar": "business", "plan": "gold",
        "eligible": True,
    } for index in range(count)]


def bare_loop(service: RtService, items: list) -> float:
    session = requests.Session()
    session.headers.update({"Authorization": "token %s" % service.token, "User-Agent": "imagicle-proactive-bench"})
    started = time.perf_counter()
    for alarm in items:
        content = cases.case_content(alarm)
        answer = session.post(service.rest_url + "/ticket", json={
            "Queue": "General", "Subject": content["title"], "Content": content["body"], "ContentType": "text/plain",
            "Priority": 30, "Due": "2026-11-27 18:00:00", "CustomFields": {"AlarmKey": alarm["fingerprint"]}}, timeout=30)
        answer.raise_for_status()
    return time.perf_counter() - started


def case_manager(service: RtService, items: list) -> tuple:
    with tempfile.TemporaryDirectory() as tmp, open_store(os.path.join(tmp, "state.sqlite")) as store:
        backend = RtBackend(service.url, token=service.token)
        now = datetime.now(timezone.utc)
        started = time.perf_counter()
        report = cases.plan_run(store, items, {a["host"] for a in items}, "rt", now)
        cases.drain(store, {"rt": backend}, now, report)
        return time.perf_counter() - started, report.opened


def bench_rt(count: int) -> int:
    with tempfile.TemporaryDirectory() as state:
        service = RtService(state, free_port()).start()
        try:
            items = alarms(count)
            service.reset()
            bare = bare_loop(service, items)
            service.reset()
            ours, opened = case_manager(service, items)
        finally:
            service.stop()
    if opened != count:
        print("the case manager opened %d cases of %d" % (opened, count))
        return 1
    print("%d cases into Request Tracker (fresh database each), %s" % (count, datetime.now().strftime("%Y-%m-%d")))
    print("| | wall | cases per second |")
    print("|---|---|---|")
    print("| bare loop of POST /ticket | %.2f s | %.1f |" % (bare, count / bare))
    print("| case manager (outbox, lookup, create, confirm, store) | %.2f s | %.1f |" % (ours, count / ours))
    print("ratio of throughput, case manager / bare loop: %.2f" % ((count / ours) / (count / bare)))
    return 0


def run_job(env: dict) -> float:
    started = time.perf_counter()
    proc = subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "playbooks/proactive_check.yml"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit("proactive_check.yml failed:\n%s" % proc.stdout[-3000:])
    return wall


def bench_callback(runs: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        base = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
                    IMAGICLE_STATE_STORE=os.path.join(tmp, "state.sqlite"), IMAGICLE_CASES_BACKEND="local")
        variants = {"with the cases callback": base, "without it": dict(base, ANSIBLE_CALLBACKS_ENABLED="ansible.builtin.default")}
        for env in variants.values():  # warm-up (SSH masters, store created)
            run_job(env)
        samples = {name: [] for name in variants}
        for dummy in range(runs):
            for name, env in variants.items():
                samples[name].append(run_job(env))
    ours, theirs = (statistics.median(samples[name]) for name in variants)
    print("the scheduled job over the demo test bed, no alarm, median of %d runs each" % runs)
    print("| | wall |")
    print("|---|---|")
    for name, values in samples.items():
        print("| %s | %.3f s |" % (name, statistics.median(values)))
    print("added by the callback: %.3f s per run (ratio %.3f)" % (ours - theirs, ours / theirs))
    return 0


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="what", required=True)
    rt = sub.add_parser("rt")
    rt.add_argument("--cases", type=int, default=50)
    callback = sub.add_parser("callback")
    callback.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    return bench_rt(args.cases) if args.what == "rt" else bench_callback(args.runs)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
