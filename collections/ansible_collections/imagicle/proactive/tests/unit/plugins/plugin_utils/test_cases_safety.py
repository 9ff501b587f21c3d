# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No alarm lost, none doubled: the case manager over a real SQLite store and the local register.

Restores, crashes between two writes, missing data, alarm floods, a lost lock, a send deadline,
refused actions requeued or dropped by a person, and one bad contact among good ones.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils import cases, outbox
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import BackendError, Notifier
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.local import LocalBackend
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import StoreLocked, open_store

from .test_cases import FlakyBackend, alarm, run

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
FP = alarm()["fingerprint"]


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "state.sqlite")


@pytest.fixture
def store(path):
    with open_store(path) as opened:
        yield opened


def comments(store, ref="LOCAL-1"):
    return [c["text"] for c in store.local_get(ref)["comments"]]


# --- keys that survive a restore -------------------------------------------------------------------

def test_the_case_key_is_the_fingerprint_and_its_generation(store):
    run(store, [alarm()], {"ias-a"}, T0)
    record = store.get_case(FP)
    assert (cases.case_key(record), record.generation) == (FP + "-1", 1)
    run(store, [], {"ias-a"}, T0 + timedelta(hours=1))
    run(store, [alarm()], {"ias-a"}, T0 + timedelta(hours=30))  # after the reopen window: the next case
    assert cases.case_key(store.get_case(FP)) == FP + "-2"
    assert [c["key"] for c in store.local_list()] == [FP + "-1", FP + "-2"]


def test_a_store_restored_from_a_backup_finds_the_case_instead_of_filing_it_again(store, path, tmp_path):
    backup = str(tmp_path / "backup.sqlite")
    shutil.copyfile(path, backup)  # taken before the fault
    run(store, [alarm()], {"ias-a"}, T0)
    assert len(store.local_list()) == 1
    # The store is restored (the local register is kept elsewhere in real life: copy it over the backup).
    with open_store(backup) as restored:
        for case in store.local_list():
            restored.local_create(case["key"], case["fields"], T0)
        report = run(restored, [alarm()], {"ias-a"}, T0 + timedelta(minutes=5))
        assert report.opened == 1  # the open is sent again ...
        assert len(restored.local_list()) == 1  # ... and finds the case it filed before the restore
        assert restored.get_case(FP).case_ref == "LOCAL-1"


def test_a_restore_older_than_an_earlier_resolved_case_opens_the_next_case_not_the_old_one(store, path, tmp_path):
    backup = str(tmp_path / "backup.sqlite")
    shutil.copyfile(path, backup)
    run(store, [alarm()], {"ias-a"}, T0)
    run(store, [], {"ias-a"}, T0 + timedelta(hours=1))  # resolved; the backup knows nothing of it
    with open_store(backup) as restored:
        for case in store.local_list():
            ref = restored.local_create(case["key"], case["fields"], T0)
            restored.local_update(ref, status=case["status"], now=T0)
        report = run(restored, [alarm()], {"ias-a"}, T0 + timedelta(hours=30))
        assert report.opened == 1
        keys = [(c["key"], c["status"]) for c in restored.local_list()]
        assert keys == [(FP + "-1", "resolved"), (FP + "-2", "open")]
        assert cases.case_key(restored.get_case(FP)) == FP + "-2"
        assert restored.get_case(FP).case_ref == restored.local_find(FP + "-2")


# --- atomic planning --------------------------------------------------------------------------------

def test_a_crash_between_saving_the_case_and_queueing_its_action_leaves_neither(store, monkeypatch):
    def killed(item):
        raise SystemExit("killed right after the case was saved")

    monkeypatch.setattr(store, "enqueue", killed)
    with pytest.raises(SystemExit):
        cases.plan_run(store, [alarm()], {"ias-a"}, "local", T0)
    monkeypatch.undo()
    assert store.get_case(FP) is None and store.outbox() == []
    report = run(store, [alarm()], {"ias-a"}, T0 + timedelta(minutes=5))
    assert report.opened == 1 and len(store.local_list()) == 1


def test_an_open_case_with_nothing_queued_to_file_it_is_planned_again(store):
    # What an older collection could leave after a crash between its two transactions.
    run(store, [alarm()], {"ias-a"}, T0)
    record = store.get_case(FP)
    with store._tx("tamper") as cur:
        store._execute(cur, "DELETE FROM outbox")
        store._execute(cur, "DELETE FROM local_cases")
        store._execute(cur, "UPDATE cases SET case_ref = NULL")
    report = run(store, [alarm()], {"ias-a"}, T0 + timedelta(minutes=5))
    assert report.opened == 1 and any("planned again" in note for note in report.notes)
    assert store.get_case(FP).case_ref and len(store.local_list()) == 1 and record.case_ref


# --- no data is not good news -----------------------------------------------------------------------

def gap(reason="disks: the disks section is missing from the facts", rule="disk_space", subject=None, host="ias-a"):
    return cases.Gap(host, rule, subject, reason)


def test_a_case_whose_rule_has_no_data_keeps_its_state_and_says_so_once_after_a_while(store):
    run(store, [alarm()], {"ias-a"}, T0)
    policy = cases.Policy(no_data_note_after=timedelta(minutes=30))
    for minutes in (5, 10, 40, 45, 50):
        report = cases.plan_run(store, [], {"ias-a"}, "local", T0 + timedelta(minutes=minutes), gaps=[gap()], policy=policy)
        cases.drain(store, {"local": LocalBackend(store)}, T0 + timedelta(minutes=minutes), report)
        assert report.resolved == 0 and report.held == 1
    assert store.get_case(FP).status == "open" and store.local_list()[0]["status"] == "open"
    [note] = comments(store)
    assert "No measurement for this alarm since 2026-11-27 10:05 UTC" in note and "disks section is missing" in note
    # A measured good value resolves it.
    report = run(store, [], {"ias-a"}, T0 + timedelta(minutes=55))
    assert report.resolved == 1 and store.local_list()[0]["status"] == "resolved"


def test_no_data_of_another_subject_or_rule_does_not_hold_the_case(store):
    run(store, [alarm()], {"ias-a"}, T0)
    report = cases.plan_run(store, [], {"ias-a"}, "local", T0 + timedelta(minutes=5),
                            gaps=[gap(subject="/var"), gap(rule="database_space")])
    assert report.resolved == 0 and store.get_case(FP).status == "resolved"


def test_a_host_that_did_not_report_keeps_its_cases_and_they_say_so(store):
    run(store, [alarm()], {"ias-a"}, T0)
    policy = cases.Policy(no_data_note_after=timedelta(0))
    report = cases.plan_run(store, [], set(), "local", T0 + timedelta(minutes=5), evaluated_hosts={"ias-a"},
                            gaps=[cases.Gap("ias-a", None, None, "unreachable: ssh timed out")], policy=policy)
    cases.drain(store, {"local": LocalBackend(store)}, T0 + timedelta(minutes=5), report)
    assert report.held == 1 and store.get_case(FP).status == "open"
    assert "unreachable: ssh timed out" in comments(store)[0]


# --- caps -------------------------------------------------------------------------------------------

def test_a_flood_of_alarms_opens_at_most_the_cap_and_one_case_for_the_rest(store):
    flood = [alarm(subject="/mnt/%04d" % n, priority="P3") for n in range(3000)] + [alarm(rule="voip_stack_crashed",
                                                                                          subject="voip", priority="P1")]
    policy = cases.Policy(max_new_per_host=10, max_new_per_run=100)
    report = cases.plan_run(store, flood, {"ias-a"}, "local", T0, policy=policy)
    cases.drain(store, {"local": LocalBackend(store)}, T0, report)
    assert report.opened == 11 and report.capped == 2991
    titles = [c["fields"]["title"] for c in store.local_list()]
    assert titles[0] == "ias-a: Disk space running low (voip)"  # the P1 first
    assert "2991 alarms not filed one by one" in titles[-1]
    # The next run with the same flood adds nothing.
    report = cases.plan_run(store, flood, {"ias-a"}, "local", T0 + timedelta(minutes=5), policy=policy)
    cases.drain(store, {"local": LocalBackend(store)}, T0 + timedelta(minutes=5), report)
    assert report.opened == 0 and len(store.local_list()) == 11
    # The flood is over: its summary case is resolved with the rest.
    report = cases.plan_run(store, [], {"ias-a"}, "local", T0 + timedelta(minutes=10), policy=policy)
    cases.drain(store, {"local": LocalBackend(store)}, T0 + timedelta(minutes=10), report)
    assert report.resolved == 11


def test_the_run_cap_summarises_the_rest_of_the_run(store):
    many = [alarm(host="ias-%03d" % n) for n in range(30)]
    report = cases.plan_run(store, many, {a["host"] for a in many}, "local", T0,
                            policy=cases.Policy(max_new_per_host=10, max_new_per_run=20))
    cases.drain(store, {"local": LocalBackend(store)}, T0, report)
    assert report.opened == 21 and report.capped == 10
    assert store.local_list()[-1]["fields"]["title"].startswith("(this run): 10 alarms not filed one by one")


# --- sending: the lock, the deadline, refusals ------------------------------------------------------

def test_a_run_that_loses_its_lock_stops_sending(store, path):
    with open_store(path) as other:
        with store.run_lock("this run", ttl_seconds=60) as lock:
            cases.plan_run(store, [alarm(host="ias-%d" % n) for n in range(5)], {"ias-%d" % n for n in range(5)}, "local", T0)
            with store._tx("expire") as cur:
                store._execute(cur, "UPDATE run_lock SET expires_at = ?", (store._dt(T0),))
            with other.run_lock("the next run"):
                ticks = iter(range(0, 1000, 31))
                report = cases.drain(store, {"local": LocalBackend(store)}, T0, lock=lock, clock=lambda: next(ticks))
    assert report.opened == 0 and "taken over by another run" in report.stopped
    assert report.undelivered == 5


def test_the_send_deadline_leaves_the_rest_queued(store):
    cases.plan_run(store, [alarm(host="ias-%d" % n) for n in range(5)], {"ias-%d" % n for n in range(5)}, "local", T0)
    ticks = iter([0, 0, 1, 2, 50, 60, 70, 80])
    report = cases.drain(store, {"local": LocalBackend(store)}, T0, send_seconds=40, clock=lambda: next(ticks))
    assert report.opened == 2 and report.undelivered == 3 and "deadline" in report.stopped


def test_a_run_that_waited_for_the_lock_says_for_whom_and_how_long(path):
    with open_store(path) as first, open_store(path) as second:
        holder = first.run_lock("slice 1")
        holder.__enter__()
        clock = iter([0.0, 0.0, 1.0, 2.0, 3.0, 3.0])

        def sleep(seconds):
            if next(clock) >= 2.0:
                holder.__exit__(None, None, None)

        report = cases.RunReport()
        with pytest.raises(StoreLocked):
            with cases.run_lock(second, "slice 2", wait_seconds=0.5, sleep=lambda s: None, clock=iter([0.0, 1.0]).__next__):
                pass
        with cases.run_lock(second, "slice 2", wait_seconds=60, sleep=sleep, clock=lambda: next(clock), report=report):
            pass
        assert any("waited 3 s for the run lock" in note and "'slice 1'" in note for note in report.notes)


def test_a_refused_action_can_be_requeued_after_the_fix_or_dropped_on_purpose(store):
    backend = FlakyBackend(store)
    backend.failures = [BackendError("HTTP 401", retryable=False, status=401, backend_wide=True)] * 2
    policy = cases.Policy(retry_backoff=timedelta(hours=1))
    for minute in (0, 5):
        report = cases.plan_run(store, [alarm(), alarm(host="ias-b")], {"ias-a", "ias-b"}, "local",
                                T0 + timedelta(minutes=minute), policy=policy)
        cases.drain(store, {"local": backend}, T0 + timedelta(minutes=minute), report, policy=policy)
    assert report.refused == 1 and report.undelivered == 2
    # The refused one is backed off for an hour; the other one, never tried, goes at the next run.
    report = cases.drain(store, {"local": backend}, T0 + timedelta(minutes=10), policy=policy)
    assert report.opened == 1 and backend.calls == 3 and report.undelivered == 1
    report = cases.drain(store, {"local": backend}, T0 + timedelta(minutes=11), policy=policy)
    assert report.opened == 0 and backend.calls == 3
    # The token is fixed: requeued, it is filed at the next run.
    assert outbox.requeue(store, "all", T0 + timedelta(minutes=11))["keys"] == [FP + "-1:open"]
    report = cases.drain(store, {"local": backend}, T0 + timedelta(minutes=12), policy=policy)
    assert report.opened == 1 and report.undelivered == 0 and len(store.local_list()) == 2


def test_dropping_an_open_forgets_its_case_and_what_waits_for_it(store):
    backend = FlakyBackend(store)
    backend.failures = [BackendError("HTTP 400 bad queue", retryable=False, status=400)]
    notifications = cases.Notifications(mail=True, contacts={"ias-a": {"emails": ["a@acme.example"]}})
    report = cases.plan_run(store, [alarm()], {"ias-a"}, "local", T0, notifications=notifications)
    cases.drain(store, {"local": backend, "mail": RecordingNotifier()}, T0, report)
    keys = [item.key for item in store.outbox("queued")]
    assert len(keys) == 2
    with pytest.raises(outbox.OutboxError, match="reason is required"):
        outbox.drop(store, [keys[0]], "", T0)
    done = outbox.drop(store, [keys[0]], "filed by hand as RT#12", T0)
    assert sorted(done["keys"]) == sorted(keys) and done["forgotten_cases"] == [FP]
    assert store.get_case(FP) is None and store.outbox("queued") == []
    with pytest.raises(outbox.OutboxError, match="forgotten"):
        outbox.requeue(store, [keys[0]], T0)


class RecordingNotifier(Notifier):
    """Stands in for SMTP (the real mail path is tested against an SMTP server); refuses the addresses it is told to."""

    name = "mail"

    def __init__(self, refuse=()):
        self.sent = []
        self.refuse = set(refuse)

    def deliver(self, ctx, message):
        if set(message["to"]) & self.refuse:
            raise BackendError("SMTP: 550 no such user %s" % message["to"], retryable=False, status=550)
        self.sent.append(dict(message, key=ctx.action_id))


def test_one_refused_contact_never_holds_back_the_others(store):
    mailer = RecordingNotifier(refuse={"bad@acme.example"})
    notifications = cases.Notifications(mail=True, contacts={"ias-a": {"emails": ["ops@acme.example", "bad@acme.example",
                                                                                  "it@acme.example"], "language": "it"}})
    report = cases.plan_run(store, [alarm()], {"ias-a"}, "local", T0, notifications=notifications)
    cases.drain(store, {"local": LocalBackend(store), "mail": mailer}, T0, report)
    assert sorted(m["to"][0] for m in mailer.sent) == ["it@acme.example", "ops@acme.example"]
    assert report.mailed == 2 and report.refused == 1
    assert [item.payload["to"] for item in store.outbox("queued")] == [["bad@acme.example"]]
