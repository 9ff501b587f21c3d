# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The soak: many consecutive runs of the scheduled job with a changing mix of faults on the hosts
and failures of the backends, then a count of what reached the real services.

The estate is the end-to-end one (tests/e2e/inventory: five test-bed hosts running the
simulated AppSuite; three eligible customers, two platinum). The job files into a real Request
Tracker, pages a real Alertmanager and mails a real SMTP server, each behind the project's fault
proxy (tests/services/fault_proxy.py). Before each run a seeded random draw changes the faults of
the eligible hosts (a disk low or nearly full, the VoIP stack down, IVR licences exhausted, the
cloud cut, replication broken) and chooses what the backends do in that run (answer well, 500,
an HTML login page, 401, garbage instead of JSON, drip the answer, lose the answer after acting,
hang; Alertmanager an HTML page; the mail server hang or refuse).

At the end the backends answer well again and the job runs until nothing is left to send. Then:
every case the store ever opened (each sent ``open`` of the outbox, every generation) has exactly
one ticket in RT carrying its key, and no ticket is without a case; each ticket's status is its
case's (the newest generation: open or resolved; older generations: resolved); every case that
paged and is still open has its alert active in Alertmanager, and no other page is active; no
mail arrived twice. Run times of the runs without backend failures are compared, early against
late: they must not grow.

    .venv/bin/python tests/soak/soak.py --runs 200 [--seed 7] [--out tests/output/soak.json]

needs root (the test bed), Request Tracker and Alertmanager installed (scripts/setup.sh test).
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import urllib.parse

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _path in (os.path.join(ROOT, "collections"), os.path.join(ROOT, "tests", "services")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

# pylint: disable=wrong-import-position
from alertmanager_service import free_port, running_alertmanager  # noqa: E402
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store  # noqa: E402
from estate import demo_estate  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402
from mail_service import running_mail_server  # noqa: E402
from rt_service import RtService  # noqa: E402

INVENTORY = "tests/e2e/inventory"
HOSTS = 5
ELIGIBLE = ("ias-a", "ias-b", "ias-c")
HOST_FAULTS = {
    "disk": (("fill-disk", "86"), ("fill-disk", "95")),
    "voip": (("crash-voip",),),
    "ivr": (("occupy", "ivr", "4"),),
    "cloud": (("cut-cloud",),),
    "replication": (("break-replication", "sync failed"),),
}
CLEAR = {"disk": "fill-disk", "voip": "crash-voip", "ivr": "occupy", "cloud": "cut-cloud", "replication": "break-replication"}
RT_MODES = {
    "none": [],
    "rt-500": [{"fault": "status", "status": 500, "body": "{\"message\": \"Internal Server Error\"}",
                "content_type": "application/json"}],
    "rt-login-page": [{"fault": "html200"}],
    "rt-401": [{"fault": "status", "status": 401, "body": "{\"message\": \"Unauthorized\"}", "content_type": "application/json"}],
    "rt-garbage": [{"fault": "garbage"}],
    "rt-drip": [{"fault": "drip", "bytes": 1, "interval": 0.5, "count": 2}],
    "rt-lost-answer": [{"method": "POST", "path": r"^/REST/2\.0/ticket$", "fault": "forward_then_fail", "then": 502},
                       {"method": "PUT", "path": r"^/REST/2\.0/ticket/\d+$", "fault": "forward_then_fail", "then": "drop"}],
    "rt-hang": [{"fault": "hang", "seconds": 30, "count": 1}],
}
AM_MODES = {"none": [], "am-login-page": [{"fault": "html200"}], "am-500": [{"fault": "status", "status": 500}]}
SMTP_MODES = {"none": [], "smtp-hang": [{"fault": "hang", "seconds": 20, "count": 1}], "smtp-refuse": [{"fault": "refuse"}]}
OK_EXIT_CODES = (0, 75)  # 75: an action was refused in the run (the backend's fault of the moment)


@contextlib.contextmanager
def services(directory: str):
    """RT, Alertmanager (with its receiver) and an SMTP server, each behind a fault proxy."""
    rt = RtService(os.path.join(directory, "rt"), free_port()).start()
    try:
        with running_alertmanager(os.path.join(directory, "am")) as (alertmanager, _receiver), \
                running_mail_server() as (smtp_port, mailbox):
            proxies = {"rt": FaultProxy("127.0.0.1", rt.port), "am": FaultProxy("127.0.0.1", alertmanager.port),
                       "smtp": FaultProxy("127.0.0.1", smtp_port, mode="tcp")}
            try:
                for proxy in proxies.values():
                    proxy.start()
                yield rt, alertmanager, mailbox, proxies
            finally:
                for proxy in proxies.values():
                    proxy.stop()
    finally:
        rt.stop()


def rt_tickets(rt) -> list:
    """Every ticket of the queue (resolved ones too) with its key and status, read from RT directly."""
    headers = {"Authorization": "token %s" % rt.token, "User-Agent": "imagicle-proactive-soak"}
    found, page = [], 1
    while True:
        query = urllib.parse.quote("Queue = 'General'")
        answer = requests.get("%s/tickets?query=%s&fields=Subject,Status,CustomFields&per_page=100&page=%d"
                              % (rt.rest_url, query, page), headers=headers, timeout=30)
        answer.raise_for_status()
        data = answer.json()
        for item in data["items"]:
            values = [v for cf in item.get("CustomFields") or [] if cf.get("name") == "AlarmKey" for v in cf.get("values") or []]
            tag = re.match(r"^\[alarm:([^\]]+)\]", item.get("Subject") or "")
            found.append({"id": item["id"], "status": item["Status"], "key": values[0] if values else (tag.group(1) if tag else None)})
        if not data.get("next_page"):
            return found
        page += 1


def active_pages(alertmanager) -> set:
    query = urllib.parse.urlencode({"filter": 'alertname="ImagicleProactiveP1"', "active": "true", "silenced": "true",
                                    "inhibited": "true"})
    answer = requests.get("%s/api/v2/alerts?%s" % (alertmanager.url, query), timeout=10)
    answer.raise_for_status()
    return {alert["labels"]["dedup_key"] for alert in answer.json()}


def draw_faults(rng: random.Random, state: dict) -> list:
    """Change the faults of the eligible hosts: each host, a few times in ten runs, gets one set or cleared."""
    changes = []
    for host in ELIGIBLE:
        if rng.random() >= 0.35:
            continue
        kind = rng.choice(sorted(HOST_FAULTS))
        if kind in state[host]:
            state[host].discard(kind)
            changes.append((host, "clear", (CLEAR[kind],)))
        else:
            state[host].add(kind)
            changes.append((host, "fault", rng.choice(HOST_FAULTS[kind])))
    return changes


def draw_failures(rng: random.Random) -> tuple:
    """What the backends do in this run: mostly well."""
    rt = "none" if rng.random() < 0.5 else rng.choice(sorted(set(RT_MODES) - {"none"}))
    am = "none" if rng.random() < 0.8 else rng.choice(sorted(set(AM_MODES) - {"none"}))
    smtp = "none" if rng.random() < 0.8 else rng.choice(sorted(set(SMTP_MODES) - {"none"}))
    return rt, am, smtp


def table(output: str) -> dict:
    match = re.search(r"opened \d+ \|.*", output)
    if not match:
        return {}
    return {name.strip(): int(number) for name, number in re.findall(r"([a-z() ]+?) (\d+)(?: \||$)", match.group(0))}


def soak(runs: int, seed: int = 7, out: str | None = None, log=print) -> dict:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="imagicle-soak-") as directory, services(directory) as (rt, am, mailbox, proxies):
        store = os.path.join(directory, "state.sqlite")
        env = {"IMAGICLE_CASES_BACKEND": "rt", "IMAGICLE_RT_URL": proxies["rt"].url, "IMAGICLE_RT_TOKEN": rt.token,
               "IMAGICLE_STATE_STORE": store, "IMAGICLE_PAGER": "alertmanager", "IMAGICLE_ALERTMANAGER_URL": proxies["am"].url,
               "IMAGICLE_MAIL": "true", "IMAGICLE_SMTP_HOST": "127.0.0.1", "IMAGICLE_SMTP_PORT": str(proxies["smtp"].port),
               "IMAGICLE_SMTP_SECURITY": "none", "IMAGICLE_MAIL_FROM": "Imagicle Support <support@example.net>",
               "IMAGICLE_CASES_RETRY_BACKOFF_SECONDS": "0", "IMAGICLE_CASES_REQUEST_TIMEOUT_SECONDS": "3",
               "IMAGICLE_CASES_RETRY_ATTEMPTS": "2", "IMAGICLE_CASES_UNDELIVERED_FAIL_MINUTES": "100000"}
        with demo_estate(hosts=HOSTS, inventory=INVENTORY) as estate:
            state = {host: set() for host in ELIGIBLE}
            history = []
            for number in range(1, runs + 1):
                for host, action, args in draw_faults(rng, state):
                    estate.sim(host, action, *args)
                modes = draw_failures(rng)
                proxies["rt"].set_rules(RT_MODES[modes[0]])
                proxies["am"].set_rules(AM_MODES[modes[1]])
                proxies["smtp"].set_rules(SMTP_MODES[modes[2]])
                started = time.monotonic()
                proc = estate.playbook("proactive_check.yml", env=env, check=False)
                wall = time.monotonic() - started
                counts = table(proc.stdout)
                history.append({"run": number, "wall_s": round(wall, 2), "rc": proc.returncode, "failures": list(modes),
                                "faults": {host: sorted(kinds) for host, kinds in state.items()}, "table": counts})
                log("run %3d  %5.1f s  rc %-3d  %-15s %-14s %-11s %s" % (number, wall, proc.returncode, *modes,
                                                                       " ".join("%s=%s" % kv for kv in counts.items() if kv[1])))
                if proc.returncode not in OK_EXIT_CODES or not counts:
                    raise AssertionError("run %d failed (%d):\n%s\n%s" % (number, proc.returncode, proc.stdout[-4000:],
                                                                         proc.stderr[-2000:]))
            for proxy in proxies.values():
                proxy.clear()
            settled = False
            for dummy in range(6):
                proc = estate.playbook("proactive_check.yml", env=env, check=False)
                if proc.returncode == 0 and table(proc.stdout).get("undelivered") == 0:
                    settled = True
                    break
            if not settled:
                raise AssertionError("the outbox did not empty once the backends were well:\n%s" % proc.stdout[-4000:])
        return check(store, rt, am, mailbox, history, out)


def check(store_path: str, rt, am, mailbox, history: list, out: str | None) -> dict:
    """Count what reached the services against what the store opened; the run times, early against late."""
    with open_store(store_path) as store:
        opened = {}
        for item in store.outbox("sent"):
            if item.kind == "open":
                opened[item.payload["case_key"]] = item
        newest = {record.case_key: record for record in store.cases() if record.case_key}
        paged_open = {record.fingerprint for record in store.cases(status="open") if record.paged}
        undelivered = store.outbox("queued")
    tickets = rt_tickets(rt)
    by_key = {}
    for ticket in tickets:
        by_key.setdefault(ticket["key"], []).append(ticket)
    problems = []
    duplicated = {key: [t["id"] for t in found] for key, found in by_key.items() if len(found) > 1}
    lost = sorted(set(opened) - set(by_key))
    stray = sorted(set(by_key) - set(opened))
    wrong_state = []
    for key, found in by_key.items():
        if key not in opened or len(found) != 1:
            continue
        record = newest.get(key)
        want = ("resolved",) if record is None or record.status == "resolved" else ("new", "open")
        if found[0]["status"] not in want:
            wrong_state.append((key, found[0]["id"], found[0]["status"], want))
    pages = active_pages(am)
    mail_ids = [email.message_from_string(message["data"], policy=email.policy.default)["Message-ID"]
                for message in mailbox.messages]
    mails_twice = sorted({mid for mid in mail_ids if mail_ids.count(mid) > 1})
    for name, value in (("duplicated tickets", duplicated), ("lost tickets", lost), ("tickets without a case", stray),
                        ("tickets in the wrong state", wrong_state), ("undelivered at the end", [i.key for i in undelivered]),
                        ("pages missing", sorted(paged_open - pages)), ("pages left active", sorted(pages - paged_open)),
                        ("mails twice", mails_twice)):
        if value:
            problems.append("%s: %s" % (name, value))
    clean = [run["wall_s"] for run in history if run["failures"] == ["none", "none", "none"]]
    third = max(1, len(clean) // 3)
    early, late = (statistics.median(clean[:third]), statistics.median(clean[-third:])) if clean else (0.0, 0.0)
    result = {"runs": len(history), "cases_opened": len(opened), "tickets": len(tickets), "pages_active": len(pages),
              "mails": len(mail_ids), "problems": problems, "clean_runs": len(clean),
              "median_clean_run_s": {"first_third": early, "last_third": late,
                                     "ratio": round(late / early, 2) if early else None},
              "history": history}
    if out:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=1)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "output", "soak.json"))
    args = parser.parse_args(argv)
    result = soak(args.runs, args.seed, args.out)
    summary = {key: value for key, value in result.items() if key != "history"}
    print(json.dumps(summary, indent=1))
    growth = result["median_clean_run_s"]["ratio"]
    if result["problems"]:
        print("soak: FAILED: %s" % "; ".join(result["problems"]))
        return 1
    if growth is not None and growth > 1.5:
        print("soak: FAILED: runs without backend failures got slower: %s" % result["median_clean_run_s"])
        return 1
    print("soak: passed (%d runs, %d cases, each filed once, every ticket in its case's state)" % (result["runs"],
                                                                                                   result["cases_opened"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
