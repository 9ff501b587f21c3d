# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Platinum P1 pages the on-call engineer once through a real Alertmanager, and the page
resolves when the case does. Gold P1s open a case but page nobody."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if os.path.join(ROOT, "collections") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store  # noqa: E402

FAULTY = "ias-a"
PLATINUM = json.dumps({"imagicle_sla": {"plan": "platinum", "timezone": "Europe/Rome", "holidays": {"country": "IT"}}})


def wait_for(condition, what, seconds=30.0):
    """Poll until ``condition()`` is true; fail naming ``what`` after ``seconds`` (a bound, not a measurement)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("gave up waiting for %s" % what)


@pytest.fixture(scope="module")
def run(estate, paging, tmp_path_factory):
    service, dummy = paging
    store = str(tmp_path_factory.mktemp("paging-store") / "state.sqlite")
    env = {"IMAGICLE_CASES_BACKEND": "local", "IMAGICLE_STATE_STORE": store, "IMAGICLE_PAGER": "alertmanager",
           "IMAGICLE_ALERTMANAGER_URL": service.url}
    estate.clear(FAULTY)
    # A first run against a store of its own: the collector on the host remembers the start times
    # it saw, so that the test's runs do not see a restart an earlier test made.
    estate.playbook("proactive_check.yml", "-l", FAULTY, env={
        "IMAGICLE_CASES_BACKEND": "local", "IMAGICLE_PAGER": "none",
        "IMAGICLE_STATE_STORE": str(tmp_path_factory.mktemp("paging-warmup") / "state.sqlite")})

    def job(*extra):
        return estate.playbook("proactive_check.yml", *extra, env=env).stdout

    job("-e", PLATINUM)
    job.store = store
    return job


def voip_fingerprint(store_path):
    with open_store(store_path) as store:
        [case] = [c for c in store.cases() if c.rule == "voip_stack_crashed"]
        return case.fingerprint, case.status


def test_a_platinum_p1_pages_once_and_the_page_resolves(estate, run, paging):
    dummy, receiver = paging
    estate.fault(FAULTY, "crash-voip")
    output = run("-e", PLATINUM)
    assert "opened 1" in output and "paged 1" in output
    fingerprint, status = voip_fingerprint(run.store)
    firing = wait_for(lambda: receiver.notifications(fingerprint), "the firing notification")
    assert firing[0]["status"] == "firing"
    alert = firing[0]["alerts"][0]
    assert alert["labels"]["host"] == FAULTY and alert["labels"]["rule"] == "voip_stack_crashed"
    for dummy_run in range(2):
        assert "paged 0" in run("-e", PLATINUM)
    time.sleep(3)  # three group intervals: a second notification would have arrived by now
    assert len(receiver.notifications(fingerprint)) == 1

    estate.clear(FAULTY)
    run("-e", PLATINUM)  # back, but restarted since the last run: still firing
    output = run("-e", PLATINUM)
    assert "resolved 1" in output and "page cleared 1" in output
    resolved = wait_for(lambda: [n for n in receiver.notifications(fingerprint) if n["status"] == "resolved"],
                        "the resolved notification")
    assert len(resolved) == 1
    assert voip_fingerprint(run.store)[1] == "resolved"


def test_a_gold_p1_opens_a_case_and_pages_nobody(estate, run, paging):
    dummy, receiver = paging
    before = len(receiver.posts)
    estate.fault(FAULTY, "cut-cloud")
    output = run()  # the demo inventory's plan: gold
    assert "opened 1" in output and "paged 0" in output
    time.sleep(3)
    assert len(receiver.posts) == before
    estate.clear(FAULTY)
    run()
