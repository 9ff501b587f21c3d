# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Memory across runs in the case manager, over a real SQLite store and the local register:
sustained conditions (runs in a row, minutes), recovery hysteresis (a value between clear and
warn keeps its case quietly), flapping (one case, one note, no mail or page per change), a
controller clock set back, and a store of schema 4 migrated to 5.

Each test feeds a sequence of runs to ``plan_run`` and asserts what each run did.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils import cases
from ansible_collections.imagicle.proactive.plugins.plugin_utils import store as store_module
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.local import LocalBackend
from ansible_collections.imagicle.proactive.plugins.plugin_utils.evaluation import evaluate_host, host_settings
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import MIGRATIONS, SCHEMA_VERSION, CaseRecord, open_store

from .health_fixture import healthy_health
from .test_cases import RecordingMailer, RecordingPager, alarm

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
CONTACTS = {"ias-a": {"emails": ["it@acme.example"], "language": "en"}}
COUNTERS = ("opened", "updated", "resolved", "reopened", "noted", "paged", "unpaged", "mailed", "pending", "flapping", "held")


@pytest.fixture
def store(tmp_path):
    with open_store(str(tmp_path / "state.sqlite")) as opened:
        yield opened


class Runs:
    """Runs of the case manager against one store, with a recording pager and mailer."""

    def __init__(self, store, policy=None):
        self.store = store
        self.policy = policy or cases.Policy()
        self.pager, self.mailer = RecordingPager(), RecordingMailer()

    def __call__(self, alarms, now, checked=("ias-a",), gaps=None):
        notifications = cases.Notifications(pager="alertmanager", mail=True, contacts=CONTACTS)
        report = cases.plan_run(self.store, alarms, set(checked), "local", now, notifications=notifications, gaps=gaps,
                                policy=self.policy)
        backends = {"local": LocalBackend(self.store, clock=lambda: now), "alertmanager": self.pager, "mail": self.mailer}
        cases.drain(self.store, backends, now, report, sleep=lambda seconds: None, policy=self.policy)
        assert report.undelivered == 0 and not report.problems
        return {name: getattr(report, name) for name in COUNTERS if getattr(report, name)}

    def comments(self):
        return [[comment["text"] for comment in case["comments"]] for case in self.store.local_list()]

    def mails(self):
        return [mail["event"] for mail in self.mailer.sent]

    def pages(self):
        return [call[0] for call in self.pager.calls]


def minutes(count):
    return T0 + timedelta(minutes=count)


def p1(**extra):
    return alarm(rule="voip_stack_crashed", subject="voip_stack", priority="P1", page=True, **extra)


def gap(rule="disk_space", subject=None, reason="disks: the disks section is missing from the facts", quiet=False):
    return cases.Gap("ias-a", rule, subject, reason, quiet=quiet)


# --- sustained conditions --------------------------------------------------------------------------

def test_a_rule_sustained_for_three_runs_opens_its_case_on_the_third_and_nothing_before(store):
    runs = Runs(store)
    sustained = alarm(sustain={"runs": 3, "minutes": 0})
    assert runs([sustained], minutes(0)) == {"pending": 1}
    assert runs([sustained], minutes(5)) == {"pending": 1}
    assert store.local_list() == [] and store.outbox() == [] and runs.mails() == []
    assert store.get_condition(sustained["fingerprint"]).streak == 2
    assert runs([sustained], minutes(10)) == {"opened": 1, "mailed": 1}
    assert runs([sustained], minutes(15)) == {}
    assert len(store.local_list()) == 1


def test_a_p1_with_the_default_sustain_opens_and_pages_at_once(store):
    runs = Runs(store)
    assert runs([p1()], minutes(0)) == {"opened": 1, "paged": 1, "mailed": 1}


def test_a_rule_sustained_for_minutes_opens_once_the_condition_held_that_long(store):
    runs = Runs(store)
    sustained = alarm(sustain={"runs": 1, "minutes": 15})
    for at in (0, 5, 10):
        assert runs([sustained], minutes(at)) == {"pending": 1}
    assert runs([sustained], minutes(15)) == {"opened": 1, "mailed": 1}


def test_runs_and_minutes_are_both_needed(store):
    runs = Runs(store)
    sustained = alarm(sustain={"runs": 2, "minutes": 30})
    assert runs([sustained], minutes(0)) == {"pending": 1}
    assert runs([sustained], minutes(5)) == {"pending": 1}  # two runs, but only 5 minutes
    assert runs([sustained], minutes(30)) == {"opened": 1, "mailed": 1}


def test_a_run_without_measurement_neither_advances_nor_resets_the_streak(store):
    runs = Runs(store)
    sustained = alarm(sustain={"runs": 3})
    assert runs([sustained], minutes(0)) == {"pending": 1}
    assert runs([], minutes(5), gaps=[gap()]) == {}  # the disks section failed
    assert runs([], minutes(10), gaps=[cases.Gap("ias-a", None, None, "unreachable")]) == {}  # the host did not report
    assert runs([], minutes(15), checked=()) == {}  # the host was not in this run
    assert store.get_condition(sustained["fingerprint"]).streak == 1
    assert runs([sustained], minutes(20)) == {"pending": 1}
    assert runs([sustained], minutes(25)) == {"opened": 1, "mailed": 1}  # the third run that measured it firing


def test_a_measured_good_value_resets_the_streak(store):
    runs = Runs(store)
    sustained = alarm(sustain={"runs": 3})
    runs([sustained], minutes(0))
    runs([sustained], minutes(5))
    assert runs([], minutes(10), gaps=[gap(rule="database_space")]) == {}  # another rule's gap: this one was measured good
    assert store.get_condition(sustained["fingerprint"]).streak == 0
    assert runs([sustained], minutes(15)) == {"pending": 1}
    assert runs([sustained], minutes(20)) == {"pending": 1}
    assert runs([sustained], minutes(25)) == {"opened": 1, "mailed": 1}


def test_a_sustained_condition_back_after_its_resolve_waits_again(store):
    runs = Runs(store)
    sustained = alarm(sustain={"runs": 2})
    runs([sustained], minutes(0))
    assert runs([sustained], minutes(5)) == {"opened": 1, "mailed": 1}
    assert runs([], minutes(10)) == {"resolved": 1, "mailed": 1}
    assert runs([sustained], minutes(15)) == {"pending": 1}
    assert runs([sustained], minutes(20)) == {"reopened": 1, "mailed": 1}


def test_a_silenced_pending_alarm_counts_its_runs_and_opens_when_the_window_ends(store):
    runs = Runs(store)
    sustained = alarm(sustain={"runs": 2})
    store.add_silence(store_module.Silence(None, None, "ias-a", None, minutes(-1), minutes(7), "CHG-1"), now=minutes(-1))
    runs([sustained], minutes(0))
    runs([sustained], minutes(5))
    assert store.local_list() == []
    assert runs([sustained], minutes(10)) == {"opened": 1, "mailed": 1}


# --- recovery hysteresis ------------------------------------------------------------------------------

SETTINGS = host_settings("ias-a", {"imagicle_customer": "acme", "imagicle_consent": True,
                                   "imagicle_sla": {"plan": "gold", "timezone": "Europe/Rome"}})


def evaluated(used_percent, now):
    """What the evaluate action says of ias-a with its first disk at ``used_percent``, gathered as the callback does."""
    health = healthy_health()
    health["disks"]["items"][0]["used_percent"] = used_percent
    result = evaluate_host(SETTINGS, {"ansible_facts": {"imagicle_health": health}}, detected_at=now)
    gathered = cases.RunInput()
    gathered.add({"alarms": result.pop("alarms"), "evaluation": result}, "ias-a")
    return gathered


def run_evaluated(runs, used_percent, now):
    gathered = evaluated(used_percent, now)
    return runs(gathered.alarms, now, checked=gathered.checked_hosts, gaps=gathered.gaps)


def test_a_value_between_clear_and_warn_keeps_the_open_case_quietly_and_below_clear_resolves_it(store):
    runs = Runs(store, cases.Policy(no_data_note_after=timedelta(minutes=10)))
    assert run_evaluated(runs, 90.0, minutes(0)) == {"opened": 1, "mailed": 1}
    [hold] = evaluated(82.0, minutes(5)).gaps
    assert (hold.rule, hold.subject, hold.quiet) == ("disk_space", "/", True)
    assert "between clear (80) and warn (85)" in hold.reason
    for at in (5, 30, 60, 120):  # long past no_data_note_after: a quiet hold gets no note
        assert run_evaluated(runs, 82.0, minutes(at)) == {"held": 1}
    assert runs.comments() == [[]] and store.local_list()[0]["status"] == "open"
    assert run_evaluated(runs, 79.0, minutes(125)) == {"resolved": 1, "mailed": 1}


def test_a_value_between_clear_and_warn_opens_nothing(store):
    runs = Runs(store)
    for at in (0, 5, 10):
        assert run_evaluated(runs, 84.9, minutes(at)) == {}
    assert store.local_list() == [] and store.cases() == []


def test_a_value_between_clear_and_warn_after_a_resolve_does_not_reopen(store):
    runs = Runs(store)
    run_evaluated(runs, 90.0, minutes(0))
    run_evaluated(runs, 70.0, minutes(5))
    assert run_evaluated(runs, 82.0, minutes(10)) == {}
    assert store.local_list()[0]["status"] == "resolved"


# --- flapping -------------------------------------------------------------------------------------------

def toggle(runs, count, start=0, every=5, fault=p1):
    """``count`` runs every ``every`` minutes from ``start``, the fault present on every other run (first: present)."""
    return [runs([fault()] if index % 2 == 0 else [], minutes(start + index * every)) for index in range(count)]


def test_twelve_toggles_without_flap_detection_file_every_change(store):
    # What the case manager did before it knew flapping: the contrast to the next test.
    runs = Runs(store, cases.Policy(flap_window=timedelta(0)))
    toggle(runs, 12)
    assert len(store.local_list()) == 1
    assert len(runs.comments()[0]) == 11 and len(runs.mails()) == 12 and runs.pages().count("trigger") == 6


def test_twelve_toggles_are_one_case_with_one_flapping_note_and_no_mail_or_page_per_change(store):
    runs = Runs(store)  # default: more than 3 changes within 360 minutes
    reports = toggle(runs, 12)
    assert reports[:4] == [
        {"opened": 1, "paged": 1, "mailed": 1},
        {"resolved": 1, "unpaged": 1, "mailed": 1},
        {"reopened": 1, "paged": 1, "mailed": 1},
        {"noted": 1, "flapping": 1},  # the 4th change: flapping, the case stays open
    ]
    assert reports[4:] == [{"flapping": 1}] * 8
    [case] = store.local_list()
    assert case["status"] == "open"
    [resolve_note, reopen_note, flapping_note] = runs.comments()[0]
    assert "no longer holds" in resolve_note and "The condition is back" in reopen_note
    assert "flapping: its condition changed state 4 times in the last 6.0 h (more than 3)" in flapping_note
    assert runs.mails() == ["open", "resolve", "open"]
    assert runs.pages() == ["trigger", "clear", "trigger"]  # the on-call stays paged while it flaps
    condition = store.get_condition(p1()["fingerprint"])
    assert (condition.firing, condition.flapping_since, len(condition.changes)) == (False, minutes(15), 12)

    # Clear from now on: the case stays open until the changes age out of the window.
    assert runs([], minutes(120)) == {"flapping": 1}
    assert runs([], minutes(395)) == {"flapping": 1}  # changes after 10:35: 45, 50, 55 and 40 -> 4
    report = runs([], minutes(400))  # 3 changes left in the window, and clear: stable
    assert report == {"resolved": 1, "unpaged": 1, "mailed": 1}
    assert "stopped flapping (flapping since 2026-11-27 10:15 UTC)" in runs.comments()[0][-1]
    assert runs.mails() == ["open", "resolve", "open", "resolve"]
    assert runs.pages() == ["trigger", "clear", "trigger", "clear"]
    assert store.get_condition(p1()["fingerprint"]).flapping_since is None
    assert len(store.local_list()) == 1


def test_a_flapping_case_is_raised_but_not_lowered_and_follows_again_once_steady(store):
    runs = Runs(store)
    toggle(runs, 4, fault=alarm)  # P4, flapping from the 4th change
    assert runs([alarm(priority="P3")], minutes(20)) == {"updated": 1, "flapping": 1}
    assert runs([alarm(priority="P4")], minutes(25)) == {"flapping": 1}  # not lowered while it flaps
    assert store.get_case(alarm()["fingerprint"]).priority == "P3"
    # Firing steadily: once the changes aged out of the window it stops flapping, and the priority follows again.
    assert runs([alarm(priority="P4")], minutes(400)) == {"noted": 1, "updated": 1}
    assert "stopped flapping" in runs.comments()[0][-2] and "Priority changed from P3 to P4" in runs.comments()[0][-1]
    assert store.get_case(alarm()["fingerprint"]).status == "open"


def test_with_an_even_limit_flapping_starts_on_a_reopen_whose_note_says_so(store):
    runs = Runs(store, cases.Policy(flap_changes=2))
    reports = toggle(runs, 6)
    assert reports[2] == {"reopened": 1, "paged": 1, "mailed": 1, "flapping": 1}
    assert reports[3:] == [{"flapping": 1}] * 3
    assert "is flapping" in runs.comments()[0][-1] and "The condition is back" in runs.comments()[0][-1]
    assert runs.mails() == ["open", "resolve", "open"]


def test_a_gap_holds_a_flapping_case_without_counting_a_change(store):
    runs = Runs(store)
    toggle(runs, 5)  # flapping, last run fired
    before = store.get_condition(p1()["fingerprint"]).changes
    assert runs([], minutes(30), gaps=[cases.Gap("ias-a", None, None, "unreachable")]) == {"held": 1}
    assert store.get_condition(p1()["fingerprint"]).changes == before


# --- a controller clock set back ------------------------------------------------------------------------

def test_a_run_earlier_than_the_last_change_neither_fails_nor_corrupts_the_counts(store):
    runs = Runs(store)
    toggle(runs, 4)  # flapping since 10:15, last change at 10:15
    fingerprint = p1()["fingerprint"]
    changes = store.get_condition(fingerprint).changes
    assert runs([p1()], minutes(-60)) == {"flapping": 1}  # the clock went back an hour; the condition fired again
    condition = store.get_condition(fingerprint)
    assert condition.changes == changes + [minutes(15)]  # recorded, never before the last change
    assert condition.firing and condition.flapping_since == minutes(15)
    assert runs([], minutes(-55)) == {"flapping": 1}
    assert len(store.get_condition(fingerprint).changes) == 6
    assert runs([], minutes(20)) == {"flapping": 1}  # the clock is right again
    assert len(store.local_list()) == 1 and store.local_list()[0]["status"] == "open"


def test_a_streak_started_in_the_future_restarts_its_duration_from_now(store):
    runs = Runs(store)
    sustained = alarm(sustain={"runs": 1, "minutes": 10})
    assert runs([sustained], minutes(60)) == {"pending": 1}
    assert runs([sustained], minutes(0)) == {"pending": 1}  # the clock went back
    assert store.get_condition(sustained["fingerprint"]).streak_since == minutes(0)
    assert runs([sustained], minutes(10)) == {"opened": 1, "mailed": 1}


# --- the store ---------------------------------------------------------------------------------------

def test_a_store_of_schema_4_is_migrated_to_5_and_keeps_its_cases(tmp_path):
    path = str(tmp_path / "old.sqlite")
    fingerprint = alarm()["fingerprint"]
    with store_module._open(path, "older collection", MIGRATIONS["sqlite"][:4]) as old:
        assert old.schema_version() == 4
        ref = old.local_create(fingerprint + "-1", {"title": "ias-a: Disk space running low (/srv/appsuite)"}, T0)
        old.save_case(CaseRecord(fingerprint=fingerprint, customer="acme", host="ias-a", rule="disk_space",
                                 subject="/srv/appsuite", priority="P4", status="open", backend="local", case_ref=ref,
                                 title="ias-a: Disk space running low (/srv/appsuite)", opened_at=T0, updated_at=T0,
                                 case_key=fingerprint + "-1"))
    with open_store(path) as current:
        assert current.schema_version() == SCHEMA_VERSION >= 5
        assert current.get_case(fingerprint).case_ref == ref and current.conditions() == []
        runs = Runs(current)
        assert runs([alarm()], minutes(5)) == {}  # the case it knew stays open, nothing again
        assert runs([], minutes(10)) == {"resolved": 1, "mailed": 1}
        assert [case["status"] for case in current.local_list()] == ["resolved"]
        assert current.get_condition(fingerprint).changes == [minutes(10)]


def test_conditions_that_are_clear_and_old_are_forgotten(store):
    runs = Runs(store)
    runs([alarm()], minutes(0))
    runs([], minutes(5))
    assert store.get_condition(alarm()["fingerprint"]) is not None
    runs([], minutes(5 + 24 * 60 + 1))
    assert store.conditions() == []


# --- what evaluate says of a pending alarm --------------------------------------------------------------

def test_evaluate_says_how_far_a_pending_alarm_is_from_its_case(store):
    from ansible_collections.imagicle.proactive.plugins.plugin_utils.evaluation import summary_lines

    runs = Runs(store)
    sustained = alarm(sustain={"runs": 3, "minutes": 10})
    assert cases.sustain_progress(store, sustained, minutes(0)) == {"runs": 1, "for_runs": 3, "minutes": 0.0,
                                                                    "for_minutes": 10.0}
    runs([sustained], minutes(0))
    progress = cases.sustain_progress(store, sustained, minutes(5))
    assert progress == {"runs": 2, "for_runs": 3, "minutes": 5.0, "for_minutes": 10.0}
    [line] = summary_lines({"alarms": [dict(sustained, pending=progress)]})
    assert line.endswith(" - pending, no case yet: 2 of 3 runs, 5.0 of 10.0 min")
    runs([sustained], minutes(5))
    assert cases.sustain_progress(store, sustained, minutes(10)) is None  # this run opens it
    runs([sustained], minutes(10))
    assert cases.sustain_progress(store, sustained, minutes(15)) is None  # open
    assert cases.sustain_progress(store, alarm(), minutes(15)) is None  # not a sustained rule
