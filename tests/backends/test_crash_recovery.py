# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nothing lost, nothing twice, with a real Request Tracker and real kills.

The case manager files 30 cases into RT (what the ``cases`` callback does at the end of a run).
Once with the controller killed with SIGKILL in the middle of filing, once with RT itself killed
with SIGKILL in the middle of filing; after the next run, every case is in RT exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.parse
from datetime import datetime, timezone

import requests

from ansible_collections.imagicle.proactive.plugins.plugin_utils import cases
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.rt import RtBackend
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COUNT = 30

FILE_CASES = textwrap.dedent("""
    import json, sys
    from datetime import datetime, timezone
    sys.path.insert(0, sys.argv[1])
    from ansible_collections.imagicle.proactive.plugins.plugin_utils import cases
    from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.rt import RtBackend
    from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store
    alarms = json.loads(sys.argv[5])
    now = datetime.now(timezone.utc)
    with open_store(sys.argv[2]) as store:
        report = cases.plan_run(store, alarms, {a["host"] for a in alarms}, "rt", now)
        cases.drain(store, {"rt": RtBackend(sys.argv[3], token=sys.argv[4])}, now, report)
""")


def alarms(tag: str) -> list:
    return [{
        "rule": "disk_space", "title": "Disk space running low", "family": "disk_saturation", "priority": "P4",
        "customer": "acme", "host": "%s-%02d" % (tag, index), "subject": "/srv/appsuite",
        "fingerprint": "%s%016d" % (tag, index), "summary": "/srv/appsuite is 90.0 % full", "evidence": {},
        "detected_at": "2026-11-27T10:00:00Z", "due": "2026-11-27T18:00:00Z", "response_target_minutes": 480,
        "response_calendar": "business", "plan": "gold", "eligible": True,
    } for index in range(COUNT)]


def tickets(service, tag: str) -> list:
    query = urllib.parse.quote("Subject LIKE '%s-'" % tag)
    answer = requests.get("%s/tickets?query=%s&fields=Subject,CustomFields&per_page=100" % (service.rest_url, query),
                          headers={"Authorization": "token %s" % service.token, "User-Agent": "imagicle-proactive-tests"},
                          timeout=30)
    answer.raise_for_status()
    return answer.json()["items"]


def next_run(service, store_path: str, items: list) -> cases.RunReport:
    now = datetime.now(timezone.utc)
    with open_store(store_path) as store:
        report = cases.plan_run(store, items, {a["host"] for a in items}, "rt", now)
        return cases.drain(store, {"rt": RtBackend(service.url, token=service.token)}, now, report)


def assert_each_case_once(service, tag: str, items: list) -> None:
    found = tickets(service, tag)
    hosts = sorted(ticket["Subject"].split("] ", 1)[1].split(":", 1)[0] for ticket in found)
    assert hosts == sorted(a["host"] for a in items), "missing or duplicate tickets: %s" % hosts


def wait_for_tickets(service, tag: str, at_least: int, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(tickets(service, tag)) >= at_least:
            return
        time.sleep(0.05)
    raise AssertionError("RT never had %d tickets tagged %s" % (at_least, tag))


def test_controller_killed_while_filing(rt, tmp_path):
    items = alarms("kctl")
    store_path = str(tmp_path / "state.sqlite")
    child = subprocess.Popen([sys.executable, "-c", FILE_CASES, os.path.join(ROOT, "collections"), store_path, rt.url,
                              rt.token, json.dumps(items)])
    try:
        wait_for_tickets(rt, "kctl", 5)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
    assert child.returncode == -signal.SIGKILL
    assert 5 <= len(tickets(rt, "kctl")) < COUNT, "the kill came too late to test anything"
    report = next_run(rt, store_path, items)
    assert report.undelivered == 0 and report.refused == 0
    assert_each_case_once(rt, "kctl", items)


def test_request_tracker_killed_while_filing(rt, tmp_path):
    items = alarms("krt")
    store_path = str(tmp_path / "state.sqlite")
    killer_started = []

    def kill_rt_after_some_tickets():  # RT dies in the middle of filing
        wait_for_tickets(rt, "krt", 5)
        killer_started.append(True)
        os.killpg(rt.pid(), signal.SIGKILL)

    killer = threading.Thread(target=kill_rt_after_some_tickets, daemon=True)
    killer.start()
    report = next_run(rt, store_path, items)  # RT dies under it: the rest stays queued
    killer.join(60)
    assert killer_started, "RT was never killed"
    assert report.undelivered > 0
    rt.stop()  # reap what is left of it
    rt.start()
    filed_before = len(tickets(rt, "krt"))
    assert filed_before < COUNT
    report = next_run(rt, store_path, items)
    assert report.undelivered == 0 and report.refused == 0
    assert_each_case_once(rt, "krt", items)
