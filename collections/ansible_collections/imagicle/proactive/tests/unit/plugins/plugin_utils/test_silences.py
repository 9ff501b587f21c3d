# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Maintenance windows: asking for one, and what the case manager does while one is in force
(a real SQLite state store, the local case register, recording pager and mailer)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils import cases, silences
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.local import LocalBackend
from ansible_collections.imagicle.proactive.plugins.plugin_utils.case_report import QueryError, report
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import load_catalogue
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils.test_cases import (
    T0,
    RecordingMailer,
    RecordingPager,
    alarm,
)

RULES = set(load_catalogue().ids())


@pytest.fixture
def store(tmp_path):
    with open_store(str(tmp_path / "state.sqlite")) as opened:
        yield opened


def silence(store, now=T0, **options):
    options.setdefault("duration", "2h")
    options.setdefault("reason", "CHG-7 upgrade")
    return store.add_silence(silences.build_silence(now=now, known_rules=RULES, **options), now=now)


def run(store, alarms, checked, now, pager=None, mailer=None):
    pager, mailer = pager or RecordingPager(), mailer or RecordingMailer()
    notifications = cases.Notifications(pager="alertmanager", mail=True,
                                        contacts={"ias-a": {"emails": ["it@acme.example"], "language": "it"}})
    plan = cases.plan_run(store, alarms, set(checked), "local", now, notifications=notifications)
    backends = {"local": LocalBackend(store, clock=lambda: now), "alertmanager": pager, "mail": mailer}
    return cases.drain(store, backends, now, plan, sleep=lambda seconds: None)


P1 = dict(rule="voip_stack_crashed", subject="voip_stack", priority="P1", page=True)


@pytest.mark.parametrize("text, minutes", [("90m", 90), ("2h", 120), ("1h30m", 90), ("3d", 4320), ("1w", 10080),
                                           ("45", 45), (30, 30), (" 2 h ", 120)])
def test_durations(text, minutes):
    assert silences.parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "soon", "2x", "h2", "-5m", "0m", True, "2h-"])
def test_bad_durations_name_the_option_and_the_forms(text):
    with pytest.raises(silences.SilenceError, match="duration must be"):
        silences.parse_duration(text)


@pytest.mark.parametrize("options, message", [
    ({"duration": "2h", "reason": "x"}, "give what to silence"),
    ({"host": "ias-a", "duration": "2h"}, "reason is required"),
    ({"host": "ias-a", "reason": "x"}, "exactly one of duration"),
    ({"host": "ias-a", "reason": "x", "duration": "2h", "ends": "2026-11-27T12:00:00Z"}, "exactly one of duration"),
    ({"rule": "disk_spce", "reason": "x", "duration": "2h"}, "not a rule of the catalogue; give one of: application_crashed"),
    ({"host": "ias-a", "reason": "x", "ends": "2026-11-27 12:00"}, "ends must be an ISO 8601 time with a timezone"),
    ({"host": "ias-a", "reason": "x", "ends": "2026-11-27T09:00:00Z"}, "would end"),
    ({"host": "ias-a", "reason": "x", "starts": "2026-11-27T08:00:00Z", "ends": "2026-11-27T09:30:00Z"}, "already be over"),
    ({"host": "ias-a", "reason": "x", "duration": "32d"}, "at most 31 days"),
])
def test_a_bad_request_says_what_to_give(options, message):
    with pytest.raises(silences.SilenceError, match=message):
        silences.build_silence(now=T0, known_rules=RULES, **options)


def test_a_window_can_start_later_and_end_at_a_time_in_any_timezone():
    made = silences.build_silence(host="ias-a", starts="2026-11-27T22:00:00+01:00", ends="2026-11-28T01:00:00+01:00",
                                  reason="night upgrade", now=T0, known_rules=RULES)
    assert (made.starts_at.isoformat(), made.ends_at.isoformat()) == ("2026-11-27T21:00:00+00:00", "2026-11-28T00:00:00+00:00")
    assert not made.active(T0) and made.active(T0 + timedelta(hours=12))


def test_matching_by_customer_host_and_rule():
    made = silences.build_silence(customer="acme", rule="disk_space", duration="1h", reason="x", now=T0, known_rules=RULES)
    assert made.matches(alarm(), T0)
    assert not made.matches(alarm(rule="voip_stack_crashed"), T0)
    assert not made.matches(dict(alarm(), customer="globex"), T0)
    assert not made.matches(alarm(), T0 + timedelta(hours=1))


def test_a_silenced_alarm_opens_pages_and_mails_nothing_then_opens_when_the_window_ends(store):
    pager, mailer = RecordingPager(), RecordingMailer()
    silence(store, host="ias-a")
    report_ = run(store, [alarm(**P1)], {"ias-a"}, T0 + timedelta(minutes=5), pager, mailer)
    assert (report_.opened, report_.paged, report_.mailed, report_.silenced) == (0, 0, 0, 1)
    assert store.local_list() == [] and store.outbox() == [] and pager.calls == [] and mailer.sent == []
    report_ = run(store, [alarm(**P1)], {"ias-a"}, T0 + timedelta(hours=2), pager, mailer)  # the window is over
    assert (report_.opened, report_.paged, report_.mailed, report_.silenced) == (1, 1, 1, 0)


def test_an_open_case_stays_open_and_unchanged_while_silenced_and_resolves_as_usual(store):
    run(store, [alarm()], {"ias-a"}, T0)
    silence(store, now=T0 + timedelta(minutes=1), host="ias-a", rule="disk_space")
    report_ = run(store, [alarm(priority="P3")], {"ias-a"}, T0 + timedelta(minutes=5))
    assert (report_.updated, report_.resolved, report_.silenced) == (0, 0, 1)
    [local] = store.local_list()
    assert local["status"] == "open" and local["priority"] == "P4" and local["comments"] == []
    report_ = run(store, [], {"ias-a"}, T0 + timedelta(minutes=10))  # the condition cleared in the window
    assert report_.resolved == 1
    assert store.local_list()[0]["status"] == "resolved"


def test_a_silence_of_one_rule_leaves_the_other_alarms_of_the_host_alone(store):
    silence(store, host="ias-a", rule="disk_space")
    report_ = run(store, [alarm(), alarm(**P1)], {"ias-a"}, T0 + timedelta(minutes=5))
    assert (report_.opened, report_.paged, report_.silenced) == (1, 1, 1)
    assert [c.rule for c in store.cases()] == ["voip_stack_crashed"]


def test_a_lifted_silence_no_longer_holds(store):
    made = silence(store, host="ias-a")
    outcome = silences.apply_absent(store, T0 + timedelta(minutes=1), silence_id=made.id)
    assert outcome["changed"] and outcome["lifted"][0].lifted_at == T0 + timedelta(minutes=1)
    assert run(store, [alarm()], {"ias-a"}, T0 + timedelta(minutes=5)).opened == 1
    assert silences.apply_absent(store, T0 + timedelta(minutes=6), silence_id=made.id)["changed"] is False
    with pytest.raises(silences.SilenceError, match="no silence #99"):
        silences.apply_absent(store, T0, silence_id=99)
    with pytest.raises(silences.SilenceError, match="give its id"):
        silences.apply_absent(store, T0)


def test_the_same_request_again_moves_the_end_instead_of_stacking(store):
    wanted = silences.build_silence(host="ias-a", duration="2h", reason="CHG-7", now=T0, known_rules=RULES)
    assert silences.apply_present(store, wanted, T0)["changed"]
    again = silences.build_silence(host="ias-a", duration="2h", reason="CHG-7", now=T0 + timedelta(minutes=30),
                                   known_rules=RULES)
    outcome = silences.apply_present(store, again, T0 + timedelta(minutes=30))
    assert outcome["changed"] and "end moved" in outcome["msg"]
    assert silences.apply_present(store, again, T0 + timedelta(minutes=31))["changed"] is False
    [only] = store.silences()
    assert only.ends_at == T0 + timedelta(hours=2, minutes=30)
    other = silences.build_silence(host="ias-a", duration="1h", reason="CHG-8", now=T0, known_rules=RULES)
    assert silences.apply_present(store, other, T0, check_mode=True)["changed"]
    assert len(store.silences()) == 1  # check mode wrote nothing
    assert silences.apply_absent(store, T0, host="ias-a", check_mode=True)["changed"]
    assert store.silences(active_at=T0 + timedelta(minutes=1))


def test_the_report_lists_cases_silences_and_the_outbox(store):
    run(store, [alarm(), alarm(host="ias-b")], {"ias-a", "ias-b"}, T0)
    silence(store, host="ias-b")
    found = report(store, T0 + timedelta(minutes=1), host="ias-a")
    assert [c["host"] for c in found["cases"]] == ["ias-a"]
    assert found["silences"] == []  # the silence is of another host
    assert found["outbox"]["sent"] >= 2 and found["outbox"]["queued"] == 0 and found["outbox"]["undelivered_items"] == []
    everything = report(store, T0 + timedelta(minutes=1))
    assert len(everything["cases"]) == 2 and len(everything["silences"]) == 1
    assert any("host ias-b" in line and "CHG-7 upgrade" in line for line in everything["lines"])
    ref = store.cases(host="ias-a")[0].case_ref
    one = report(store, T0, case=ref)
    assert one["case"]["case_ref"] == ref and "Respond by" in one["local"]["body"]
    assert [a["kind"] for a in one["actions"]] == ["open", "mail"]
    assert report(store, T0, case=store.cases(host="ias-a")[0].fingerprint[:8])["case"]["case_ref"] == ref
    with pytest.raises(QueryError, match="no case 'LOCAL-99'"):
        report(store, T0, case="LOCAL-99")
    with pytest.raises(QueryError, match="status must be one of open, resolved, all"):
        report(store, T0, status="closed")
