# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Properties of the whole controller side on arbitrary facts: evaluate, the callback's gathering
(``RunInput``), the case manager and the outbox, over a real SQLite store and the local register.

Facts are generated from the healthy shape with junk put anywhere (nulls, NaN, wrong types,
huge lists), sections dropped (collected or not), and hosts that do not report at all. Whatever
comes: nothing raises; every host ends with its alarms, or with collector_failing or
host_not_reporting for what could not be read; each firing alarm of an eligible host has exactly
one case, filed; a second identical run changes nothing; no case is resolved while its rule has
no data; and healthy facts afterwards resolve every case.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.imagicle.proactive.plugins.plugin_utils import cases, rules
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.local import LocalBackend
from ansible_collections.imagicle.proactive.plugins.plugin_utils.evaluation import evaluate_host, host_settings
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store

from .health_fixture import healthy_health
from .test_rules_evaluate import HEALTHY_PATHS, JUNK

T0 = datetime(2026, 11, 26, 5, 40, tzinfo=timezone.utc)
SETTINGS = {"imagicle_customer": "acme", "imagicle_consent": True, "imagicle_sla": {"plan": "gold"}}
# No caps here (they have tests of their own): HUGE draws up to 1,500 alarms on one host.
POLICY = cases.Policy(max_new_per_host=100000, max_new_per_run=1000000)
HUGE = st.integers(200, 1500).map(lambda n: [{"mount": "/mnt/%d" % i, "used_percent": 99.0, "free_bytes": 1, "total_bytes": 10}
                                             for i in range(n)])


@st.composite
def facts(draw):
    """(health or None for a host that did not report, whether its facts were changed)."""
    if draw(st.integers(0, 9)) == 0:
        return None
    health = healthy_health()
    if draw(st.integers(0, 9)) == 0:
        health["disks"]["items"] = draw(HUGE)  # a host reporting a flood of full mounts
    for path, junk in draw(st.lists(st.tuples(st.sampled_from(HEALTHY_PATHS), JUNK | HUGE), max_size=4)):
        target = health
        try:
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = junk
        except (KeyError, IndexError, TypeError):
            continue
    for name in draw(st.lists(st.sampled_from(rules.SECTIONS), max_size=3, unique=True)):
        health.pop(name, None)
        if draw(st.booleans()) and isinstance(health.get("gather_subset"), list) and name in health["gather_subset"]:
            health["gather_subset"].remove(name)  # left out on purpose, not missing
    return health


def one_run(store, estate: dict, now: datetime) -> tuple:
    """Evaluate every host as the evaluate action does, gather as the callback does, plan and send."""
    gathered = cases.RunInput()
    evaluations = {}
    for host, health in estate.items():
        settings_ = host_settings(host, SETTINGS)
        if health is None:
            evaluation = evaluate_host(settings_, facts_result={"unreachable": True, "msg": "ssh: timed out"}, detected_at=now)
        else:
            evaluation = evaluate_host(settings_, facts_result={"ansible_facts": {"imagicle_health": health}}, detected_at=now)
        alarms = evaluation.pop("alarms")
        evaluation["file_cases"] = True
        gathered.add({"alarms": alarms, "evaluation": evaluation}, host)
        evaluations[host] = (evaluation, alarms)
    report = cases.plan_run(store, gathered.alarms, gathered.checked_hosts, "local", now, gaps=gathered.gaps,
                            evaluated_hosts=gathered.evaluated_hosts, policy=POLICY)
    cases.drain(store, {"local": LocalBackend(store, clock=lambda: now)}, now, report, policy=POLICY)
    return report, evaluations, gathered


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(facts(), min_size=1, max_size=3), st.lists(facts(), min_size=1, max_size=3))
def test_any_facts_end_as_alarms_or_collector_failing_and_exactly_one_case_each(first, second):
    hosts = ["ias-%d" % n for n in range(len(first))]
    with tempfile.TemporaryDirectory() as directory, open_store(os.path.join(directory, "state.sqlite")) as store:
        report, evaluations, dummy = one_run(store, dict(zip(hosts, first)), T0)
        for host, (evaluation, alarms) in evaluations.items():
            rules_fired = {alarm["rule"] for alarm in alarms}
            if not evaluation["reporting"]:
                assert "host_not_reporting" in rules_fired
            else:
                health = dict(zip(hosts, first))[host]
                failing = [gap for found in rules.section_gaps(health).values() for gap in found if gap[2]]
                if failing:
                    assert "collector_failing" in rules_fired, failing
        firing = {alarm["fingerprint"] for dummy, alarms in evaluations.values() for alarm in alarms if alarm["eligible"]}
        open_cases = {record.fingerprint: record for record in store.cases(status="open")}
        assert set(open_cases) == firing
        assert all(record.case_ref for record in open_cases.values())
        keys = [case["key"] for case in store.local_list()]
        assert len(keys) == len(set(keys)) == len(firing)
        assert report.undelivered == 0 and report.refused == 0

        # The same again: nothing new, nothing twice.
        again, dummy, dummy = one_run(store, dict(zip(hosts, first)), T0 + timedelta(minutes=5))
        assert (again.opened, again.updated, again.resolved, again.reopened) == (0, 0, 0, 0)
        assert len(store.local_list()) == len(firing)

        # Other facts: a case is resolved only when its host reported and its rule was measured.
        later = dict(zip(hosts, second + first[len(second):]))
        before = {record.fingerprint: record for record in store.cases(status="open")}
        dummy, evaluations, gathered = one_run(store, later, T0 + timedelta(minutes=10))
        now_firing = {alarm["fingerprint"] for dummy, alarms in evaluations.values() for alarm in alarms if alarm["eligible"]}
        for fingerprint, record in before.items():
            after = store.get_case(fingerprint)
            if after.status == "resolved":
                assert record.host in gathered.checked_hosts and fingerprint not in now_firing
                assert not any(gap.covers(record) for gap in gathered.gaps)

        # Healthy facts everywhere: every case is resolved, each case still filed once.
        cases_before = len(store.local_list())
        one_run(store, {host: healthy_health() for host in hosts}, T0 + timedelta(minutes=15))
        assert store.cases(status="open") == []
        assert len(store.local_list()) == cases_before
        assert all(case["status"] == "resolved" for case in store.local_list())
