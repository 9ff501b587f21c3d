# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run planned host by host, as the cases callback does while the run goes on, gives the same
cases as the run planned at once at its end.

Each scenario is a sequence of runs over one estate (two customers, an HA pair, hosts that die,
lose the cloud, crash, fill their disks and recover). It is played twice on two fresh stores:
once with one :func:`cases.plan_run` per run, once as the callback plans it (each host that
stands alone as soon as it comes, in the order the hosts answered, then the rest with the whole
run in view). The cases (status, priority, rule, title), their comments and every outbox action
must be the same.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils import cases
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.local import LocalBackend
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import fingerprint
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store

from .test_cases import alarm
from .test_root_cause import cloud, crash, loop, not_reporting, replication

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
CUSTOMERS = {"ias-a": "acme", "ias-b": "acme", "ias-c": "acme", "bz-1": "bozo", "bz-2": "bozo"}


def disk(host, priority="P4"):
    return alarm(host=host, subject="/srv/appsuite", priority=priority, customer=CUSTOMERS[host])


def bozo_cloud(host):
    record = cloud(host)
    record.update(customer="bozo", fingerprint=fingerprint("bozo", host, "cloud_connection_failed", ""))
    return record


def result_of(host, alarms, dead=False):
    """What the evaluate task of ``host`` returns, as the callback sees it."""
    no_data = [{"rule": None, "subject": None, "reason": "unreachable: ssh timed out"}] if dead else []
    return {"alarms": alarms, "evaluation": {
        "host": host, "customer": CUSTOMERS[host], "reporting": not dead, "no_data": no_data,
        "eligibility": {"eligible": True}}}


# Each run: host -> (its alarms, dead). Hosts missing from a run were not in it.
SCENARIO = [
    {"ias-a": ([disk("ias-a")], False), "ias-b": ([], False), "ias-c": ([crash(host="ias-c")], False),
     "bz-1": ([], False), "bz-2": ([disk("bz-2", "P3")], False)},
    # acme loses the cloud everywhere; ias-b's peer ias-a dies; bz-2 recovers.
    {"ias-a": ([not_reporting("ias-a")], True), "ias-b": ([cloud("ias-b"), replication("ias-b", "ias-a")], False),
     "ias-c": ([cloud("ias-c"), crash(host="ias-c")], False), "bz-1": ([bozo_cloud("bz-1")], False),
     "bz-2": ([], False)},
    # ias-a is back with its disk alarm; ias-c's crash becomes a restart loop; bozo loses the cloud on both.
    {"ias-a": ([disk("ias-a", "P3"), cloud("ias-a")], False), "ias-b": ([cloud("ias-b")], False),
     "ias-c": ([cloud("ias-c"), loop(host="ias-c"), crash(host="ias-c")], False),
     "bz-1": ([bozo_cloud("bz-1")], False), "bz-2": ([bozo_cloud("bz-2"), disk("bz-2")], False)},
    # ias-b recovers from the cloud loss, so acme's hosts get cases of their own; bz-2 dies.
    {"ias-a": ([cloud("ias-a")], False), "ias-b": ([], False), "ias-c": ([loop(host="ias-c")], False),
     "bz-1": ([bozo_cloud("bz-1")], False), "bz-2": ([not_reporting("bz-2")], True)},
    # Only acme in this run (another slice), all well.
    {"ias-a": ([], False), "ias-b": ([], False), "ias-c": ([], False)},
    # Everything clear again.
    {host: ([], False) for host in CUSTOMERS},
]


def run_input(run: dict, order: list) -> tuple:
    """The callback's input of a run, and the hosts that stand alone in the order they answered."""
    whole = cases.RunInput()
    alone = []
    for host in order:
        alarms, dead = run[host]
        added = whole.add(result_of(host, alarms, dead), host)
        if added is not None and whole.stands_alone(added):
            alone.append((added, whole.part(added)))
    return whole, alone


def play(store, stepwise: bool, seed: int, policy=None) -> list:
    reports = []
    for index, run in enumerate(SCENARIO):
        now = T0 + timedelta(minutes=5 * index)
        order = sorted(run)
        random.Random(seed + index).shuffle(order)
        whole, alone = run_input(run, order)
        report = cases.RunReport()
        backends = {"local": LocalBackend(store, clock=lambda: now)}
        planned = set()
        if stepwise:
            for host, part in alone:
                cases.plan_run(store, part.alarms, part.checked_hosts, "local", now, report, gaps=part.gaps,
                               evaluated_hosts=part.evaluated_hosts, host=host, policy=policy)
                planned.add(host)
                cases.drain(store, backends, now, report, sleep=lambda seconds: None, policy=policy)
            whole = whole.without(planned)
        cases.plan_run(store, whole.alarms, whole.checked_hosts, "local", now, report, gaps=whole.gaps,
                       evaluated_hosts=whole.evaluated_hosts, customers=whole.customers, planned_hosts=planned,
                       policy=policy)
        cases.drain(store, backends, now, report, sleep=lambda seconds: None, policy=policy)
        reports.append((report.opened, report.updated, report.resolved, report.reopened, report.noted,
                        report.suppressed, report.capped))
    return reports


def state(store) -> dict:
    """Every case by fingerprint: what it is, what it said, every action sent for it."""
    seen = {}
    for record in store.cases():
        filed = store.local_get(record.case_ref) if record.case_ref else None
        seen[record.fingerprint] = {
            "status": record.status, "priority": record.priority, "rule": record.rule, "title": record.title,
            "comments": [comment["text"] if isinstance(comment, dict) and "text" in comment else comment
                         for comment in (filed or {}).get("comments", [])] if filed else None,
            "filed_status": (filed or {}).get("status"),
            "actions": sorted((item.kind, item.status) for item in store.outbox_of(record.fingerprint)),
        }
    return seen


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_planned_host_by_host_the_run_gives_the_same_cases_as_planned_at_its_end(tmp_path, seed):
    with open_store(str(tmp_path / "whole.sqlite")) as whole, open_store(str(tmp_path / "steps.sqlite")) as steps:
        reports_whole = play(whole, False, seed)
        reports_steps = play(steps, True, seed)
        assert state(steps) == state(whole)
        assert reports_steps == reports_whole
        # The scenario does what it is meant to: a customer-level case, a dead host, a takeover.
        assert any(record.host == "acme (all hosts)" for record in whole.cases())
        assert any(record.rule == "host_not_reporting" for record in whole.cases())
        assert any(record.rule == "process_restart_loop" for record in whole.cases())
        # bz-2's disk case came and went four times: it is flapping, kept open with a note.
        assert [(r.host, r.rule) for r in whole.cases(status="open")] == [("bz-2", "disk_space")]


def test_hosts_that_join_others_wait_for_the_end_of_the_run():
    whole, alone = run_input(SCENARIO[1], sorted(SCENARIO[1]))
    assert [host for host, part in alone] == ["bz-2"]
    part = dict(alone)["bz-2"]
    assert part.checked_hosts == {"bz-2"} and part.alarms == [] and not part.customers
    # ias-a did not report; ias-b has a replication alarm; acme and bz-1 lost the cloud.
    assert not whole.stands_alone("ias-a") and not whole.stands_alone("ias-b") and not whole.stands_alone("bz-1")


def test_the_cap_on_new_cases_counts_over_the_steps_of_a_run(tmp_path):
    """Planned in steps, the run's cap counts every step: the hosts that come first take the room (planned at
    once, the most urgent would), the rest is summarised in the run's flood case."""
    policy = cases.Policy(max_new_per_run=2)
    with open_store(str(tmp_path / "steps.sqlite")) as steps:
        reports = play(steps, True, 0, policy)
        assert reports[0][0] == 3 and reports[0][6] == 1  # 2 cases and the flood case opened, 1 alarm capped
        first = [r for r in steps.cases() if r.opened_at == T0]
        assert sorted(r.rule for r in first) == ["alarm_flood", "disk_space", "disk_space"]
        flood = [r for r in first if r.rule == cases.FLOOD_RULE][0]
        assert flood.host == cases.RUN_FLOOD_HOST
        filed = steps.local_get(flood.case_ref)
        assert "P1 ias-c voip_stack_crashed" in filed["fields"]["body"]
        assert filed["priority"] == "P1"  # the flood case carries the most urgent alarm it summarises
