# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The case manager over a real SQLite state store and the local case register.

A backend that fails on purpose (``FlakyBackend``) wraps the real local register to show the
outbox's behaviour when a ticketing system is down, rejects an action, or dies mid-filing.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils import cases
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import ActionContext, BackendError
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.local import LocalBackend
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import StoreLocked, open_store

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)


def alarm(host="ias-a", rule="disk_space", subject="/srv/appsuite", priority="P4", eligible=True, **extra):
    record = {
        "rule": rule, "title": "Disk space running low", "family": "disk_saturation", "priority": priority,
        "customer": "acme", "host": host, "subject": subject, "fingerprint": "fp-%s-%s-%s" % (host, rule, subject),
        "summary": "%s is 86.0 %% full" % subject, "evidence": {"mount": subject, "used_percent": 86.0},
        "detected_at": "2026-11-27T10:00:00Z", "due": "2026-11-27T18:00:00Z", "response_target_minutes": 480,
        "response_calendar": "business", "plan": "gold", "eligible": eligible,
    }
    record.update(extra)
    return record


class FlakyBackend(LocalBackend):
    """The local register, failing the next calls as told."""

    def __init__(self, store):
        super().__init__(store, clock=lambda: T0)
        self.failures = []  # BackendErrors to raise, one per call, before working again
        self.calls = 0

    def _maybe_fail(self):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)

    def create(self, ctx, case):
        self._maybe_fail()
        return super().create(ctx, case)

    def resolve(self, ctx, ref, note):
        self._maybe_fail()
        return super().resolve(ctx, ref, note)


@pytest.fixture
def store(tmp_path):
    with open_store(str(tmp_path / "state.sqlite")) as opened:
        yield opened


def run(store, alarms, checked, now, backend=None, **kwargs):
    backend = backend or LocalBackend(store, clock=lambda: now)
    report = cases.plan_run(store, alarms, set(checked), "local", now)
    return cases.drain(store, {"local": backend}, now, report, sleep=lambda seconds: None, **kwargs)


def test_a_new_alarm_opens_one_case_and_ten_more_runs_add_nothing(store):
    report = run(store, [alarm()], {"ias-a"}, T0)
    assert report.opened == 1 and report.undelivered == 0
    [local] = store.local_list()
    assert local["fields"]["title"] == "ias-a: Disk space running low (/srv/appsuite)"
    assert local["priority"] == "P4" and "Respond by: 2026-11-27T18:00:00Z" in local["fields"]["body"]
    assert store.get_case(alarm()["fingerprint"]).case_ref == local["id"]
    for minutes in range(1, 11):
        report = run(store, [alarm()], {"ias-a"}, T0 + timedelta(minutes=5 * minutes))
        assert (report.opened, report.updated, report.resolved, report.reopened) == (0, 0, 0, 0)
    assert len(store.local_list()) == 1
    assert len(store.outbox()) == 1


def test_a_priority_change_updates_the_case_with_a_comment(store):
    run(store, [alarm()], {"ias-a"}, T0)
    report = run(store, [alarm(priority="P3")], {"ias-a"}, T0 + timedelta(minutes=5))
    assert report.updated == 1 and report.opened == 0
    [local] = store.local_list()
    assert local["priority"] == "P3"
    assert "Priority changed from P4 to P3" in local["comments"][-1]["text"]


def test_cleared_then_back_within_the_window_reopens_the_same_case(store):
    run(store, [alarm()], {"ias-a"}, T0)
    report = run(store, [], {"ias-a"}, T0 + timedelta(hours=1))
    assert report.resolved == 1
    assert store.local_list()[0]["status"] == "resolved"
    report = run(store, [alarm()], {"ias-a"}, T0 + timedelta(hours=3))
    assert report.reopened == 1 and report.opened == 0
    [local] = store.local_list()
    assert local["status"] == "open"
    assert store.get_case(alarm()["fingerprint"]).reopen_count == 1


def test_back_after_the_window_opens_a_new_case(store):
    run(store, [alarm()], {"ias-a"}, T0)
    run(store, [], {"ias-a"}, T0 + timedelta(hours=1))
    report = run(store, [alarm()], {"ias-a"}, T0 + timedelta(hours=30))
    assert report.opened == 1 and report.reopened == 0
    assert [c["status"] for c in store.local_list()] == ["resolved", "open"]


def test_cases_of_hosts_not_checked_in_this_run_stay_as_they_are(store):
    run(store, [alarm(host="ias-a"), alarm(host="ias-b")], {"ias-a", "ias-b"}, T0)
    # This run checked only ias-a (another slice, or ias-b unreachable): ias-b's case stays open.
    report = run(store, [], {"ias-a"}, T0 + timedelta(minutes=5))
    assert report.resolved == 1
    statuses = {c.host: c.status for c in store.cases()}
    assert statuses == {"ias-a": "resolved", "ias-b": "open"}


def test_alarms_of_ineligible_hosts_open_nothing(store):
    report = run(store, [alarm(eligible=False)], set(), T0)
    assert report.opened == 0 and store.local_list() == [] and store.outbox() == []


def test_backend_down_for_a_whole_run_loses_nothing_and_files_each_case_once(store):
    backend = FlakyBackend(store)
    backend.failures = [BackendError("connection refused", retryable=True)] * 3
    report = run(store, [alarm(), alarm(subject="/var")], {"ias-a"}, T0, backend=backend, attempts_in_run=3)
    assert report.opened == 0 and report.undelivered == 2
    assert backend.calls == 3  # three attempts on the first case, then the backend is left alone this run
    assert store.local_list() == []
    # Next run: the backend is back; the queued actions go first, nothing is filed twice.
    report = run(store, [alarm(), alarm(subject="/var")], {"ias-a"}, T0 + timedelta(minutes=5), backend=backend)
    assert report.opened == 2 and report.undelivered == 0
    assert len(store.local_list()) == 2


def test_a_retry_inside_the_run_succeeds_after_a_transient_failure(store):
    backend = FlakyBackend(store)
    backend.failures = [BackendError("HTTP 503", retryable=True, status=503)]
    report = run(store, [alarm()], {"ias-a"}, T0, backend=backend)
    assert report.opened == 1 and report.undelivered == 0 and backend.calls == 2


def test_an_action_the_backend_refuses_stays_queued_is_reported_and_filed_once_it_is_accepted(store):
    backend = FlakyBackend(store)
    backend.failures = [BackendError("HTTP 401 Unauthorized: token rotated", retryable=False, status=401, backend_wide=True)]
    report = run(store, [alarm()], {"ias-a"}, T0, backend=backend)
    assert report.refused == 1 and report.undelivered == 1 and backend.calls == 1
    assert "refused" in report.problems[0] and "401" in report.problems[0]
    [item] = store.outbox()
    assert (item.status, item.refused, item.attempts) == ("queued", True, 1)
    assert "token rotated" in item.last_error
    # Later runs plan nothing new for the case, but the action is still there and is sent once the backend accepts it.
    report = run(store, [alarm()], {"ias-a"}, T0 + timedelta(minutes=5), backend=backend)
    assert report.opened == 1 and report.undelivered == 0 and report.refused == 0
    assert len(store.local_list()) == 1 and store.get_case(alarm()["fingerprint"]).case_ref == "LOCAL-1"


def test_a_failing_action_backs_off_between_runs(store):
    backend = FlakyBackend(store)
    backend.failures = [BackendError("HTTP 503", retryable=True, status=503)] * 9
    policy = cases.Policy(retry_backoff=timedelta(minutes=1), retry_backoff_max=timedelta(minutes=3))
    times = []
    for minute in range(0, 12):
        now = T0 + timedelta(minutes=minute)
        before = backend.calls
        report = cases.plan_run(store, [alarm()], {"ias-a"}, "local", now, policy=policy)
        cases.drain(store, {"local": backend}, now, report, attempts_in_run=1, sleep=lambda seconds: None, policy=policy)
        if backend.calls > before:
            times.append(minute)
    # first failure: next run; then 1, 2, 3 (the cap), 3 ... minutes
    assert times[:6] == [0, 1, 2, 4, 7, 10]
    [item] = store.outbox()
    assert item.status == "queued" and not item.refused


def test_a_crash_after_queueing_and_before_sending_files_the_case_at_the_next_run(store, tmp_path):
    cases.plan_run(store, [alarm()], {"ias-a"}, "local", T0)  # the controller dies here
    with open_store(str(tmp_path / "state.sqlite")) as reopened:
        report = run(reopened, [alarm()], {"ias-a"}, T0 + timedelta(minutes=5))
        assert report.opened == 1
        assert len(reopened.local_list()) == 1 and len(reopened.outbox()) == 1


def test_a_crash_after_the_backend_created_the_case_does_not_file_it_twice(store):
    cases.plan_run(store, [alarm()], {"ias-a"}, "local", T0)
    [item] = store.pending(T0)
    # The backend filed the case, then the controller died before marking the item sent.
    LocalBackend(store, clock=lambda: T0).create(ActionContext(item.payload["case_key"], item.key), item.payload)
    report = run(store, [alarm()], {"ias-a"}, T0 + timedelta(minutes=5))
    assert report.opened == 1  # the item is now sent ...
    assert len(store.local_list()) == 1  # ... and found the existing case instead of creating another


def test_a_resolve_waits_for_its_open_when_the_open_could_not_be_sent(store):
    backend = FlakyBackend(store)
    backend.failures = [BackendError("timeout", retryable=True)] * 3
    run(store, [alarm()], {"ias-a"}, T0, backend=backend)
    report = run(store, [], {"ias-a"}, T0 + timedelta(minutes=5), backend=backend)
    assert report.opened == 1 and report.resolved == 1
    [local] = store.local_list()
    assert local["status"] == "resolved"


def test_host_text_is_one_line_masked_and_bounded(store):
    hostile = alarm(subject="/srv/{{ lookup('pipe', 'id') }}\x1b[31m", summary="call +39 02 1234 5678 <b>now</b>{% raw %}",
                    evidence={"line": "mail ops@example.com \x00\x07 +39 333 1234567"})
    content = cases.case_content(hostile)
    text = content["title"] + content["body"]
    assert "\x1b" not in text and "\x00" not in text and "\x07" not in text
    assert "1234 5678" not in text and "1234567" not in text and "ops@example.com" not in text
    assert "{{ lookup('pipe', 'id') }}" in content["title"]  # kept as inert text, never templated
    assert "\n" not in content["title"]


def test_a_prediction_in_the_evidence_is_one_line_per_figure():
    prediction = {"eta": "2026-12-07T10:00:00Z", "hours_left": 240.0, "slope_per_day": 1.4, "quality": 1.0, "points": 29,
                  "reason": "at 1.4 per day the limit 100 is reached in 10 days"}
    content = cases.case_content(alarm(evidence={"mount": "/srv/appsuite", "used_percent": 86.0, "prediction": prediction}))
    lines = content["body"].split("\n")
    evidence = lines[lines.index("Evidence:") + 1:]
    assert evidence == [
        "  mount: /srv/appsuite",
        "  prediction.eta: 2026-12-07T10:00:00Z",
        "  prediction.hours_left: 240.0",
        "  prediction.points: 29",
        "  prediction.quality: 1.0",
        "  prediction.reason: at 1.4 per day the limit 100 is reached in 10 days",
        "  prediction.slope_per_day: 1.4",
        "  used_percent: 86.0",
    ]


class RecordingPager:
    """Stands in for the on-call platform (the real ones are tested against Alertmanager and
    PagerDuty's documented API); records what the case manager asks of it."""

    name = "alertmanager"

    def __init__(self):
        self.calls = []

    def trigger(self, ctx, dedup_key, page):
        self.calls.append(("trigger", dedup_key, page))
        return dedup_key

    def clear(self, ctx, dedup_key, page):
        self.calls.append(("clear", dedup_key, page))


class RecordingMailer:
    """Stands in for SMTP (the real mail path is tested against an SMTP server)."""

    def __init__(self):
        self.sent = []

    def deliver(self, ctx, message):
        self.sent.append(dict(message, key=ctx.action_id))


def run_notified(store, alarms, checked, now, pager, mailer, contacts=None):
    notifications = cases.Notifications(pager="alertmanager", mail=True,
                                        contacts=contacts or {"ias-a": {"emails": ["it@acme.example"], "language": "it"}})
    report = cases.plan_run(store, alarms, set(checked), "local", now, notifications=notifications)
    backends = {"local": LocalBackend(store, clock=lambda: now), "alertmanager": pager, "mail": mailer}
    return cases.drain(store, backends, now, report, sleep=lambda seconds: None)


def test_a_platinum_p1_is_paged_once_and_the_page_resolves_with_the_case(store):
    pager, mailer = RecordingPager(), RecordingMailer()
    p1 = alarm(rule="voip_stack_crashed", subject="voip_stack", priority="P1", page=True)
    report = run_notified(store, [p1], {"ias-a"}, T0, pager, mailer)
    assert report.opened == 1 and report.paged == 1
    for minutes in (5, 10, 15):
        run_notified(store, [p1], {"ias-a"}, T0 + timedelta(minutes=minutes), pager, mailer)
    assert [call[0] for call in pager.calls] == ["trigger"]
    assert pager.calls[0][1] == p1["fingerprint"]  # the dedup key is the fingerprint
    [local] = store.local_list()
    assert pager.calls[0][2]["case_ref"] == local["id"]  # the page names its case
    report = run_notified(store, [], {"ias-a"}, T0 + timedelta(minutes=20), pager, mailer)
    assert report.resolved == 1 and report.unpaged == 1
    assert [call[0] for call in pager.calls] == ["trigger", "clear"]
    assert pager.calls[1][2]["case_ref"] == local["id"]


def test_a_page_does_not_wait_for_its_case_when_the_case_backend_is_down(store):
    pager, mailer = RecordingPager(), RecordingMailer()
    flaky = FlakyBackend(store)
    flaky.failures = [BackendError("connection refused", retryable=True)] * 3
    notifications = cases.Notifications(pager="alertmanager")
    p1 = alarm(rule="voip_stack_crashed", subject="voip_stack", priority="P1", page=True)
    report = cases.plan_run(store, [p1], {"ias-a"}, "local", T0, notifications=notifications)
    cases.drain(store, {"local": flaky, "alertmanager": pager, "mail": mailer}, T0, report, sleep=lambda seconds: None)
    assert report.paged == 1 and report.opened == 0
    assert "case_ref" not in pager.calls[0][2]


def test_an_alarm_that_does_not_page_is_not_paged(store):
    pager, mailer = RecordingPager(), RecordingMailer()
    run_notified(store, [alarm(priority="P1", page=False)], {"ias-a"}, T0, pager, mailer)
    run_notified(store, [], {"ias-a"}, T0 + timedelta(minutes=5), pager, mailer)
    assert pager.calls == []


def test_the_customer_is_mailed_on_open_and_on_resolve_in_their_language(store):
    pager, mailer = RecordingPager(), RecordingMailer()
    report = run_notified(store, [alarm()], {"ias-a"}, T0, pager, mailer)
    assert report.mailed == 1
    run_notified(store, [alarm()], {"ias-a"}, T0 + timedelta(minutes=5), pager, mailer)
    run_notified(store, [], {"ias-a"}, T0 + timedelta(minutes=10), pager, mailer)
    assert [(m["event"], m["to"], m["language"]) for m in mailer.sent] == [
        ("open", ["it@acme.example"], "it"), ("resolve", ["it@acme.example"], "it")]
    assert mailer.sent[0]["case"]["case_ref"] == store.local_list()[0]["id"]
    assert mailer.sent[0]["thread_key"] is None
    assert mailer.sent[1]["thread_key"] == mailer.sent[0]["key"]  # the resolve mail answers the open mail


def test_the_mail_has_the_title_and_summary_in_the_contacts_language_and_the_customers_timezone(store):
    pager, mailer = RecordingPager(), RecordingMailer()
    italian = alarm(response_timezone="Europe/Rome", texts={"it": {
        "title": "Spazio su disco in esaurimento", "summary": "/srv/appsuite è pieno al 86.0 % ({0} {{ x }})"}})
    run_notified(store, [italian], {"ias-a"}, T0, pager, mailer)
    [opened] = mailer.sent
    assert opened["case"]["title"] == "ias-a: Spazio su disco in esaurimento (/srv/appsuite)"
    assert opened["case"]["summary"] == "/srv/appsuite è pieno al 86.0 % ({0} {{ x }})"
    assert opened["case"]["timezone"] == "Europe/Rome" and opened["case"]["due"] == "2026-11-27T18:00:00Z"
    # The case itself stays in English for the support team, with the deadline also in the customer's time.
    [local] = store.local_list()
    assert local["fields"]["title"] == "ias-a: Disk space running low (/srv/appsuite)"
    assert "Respond by: 2026-11-27T18:00:00Z (480 minutes on the business calendar, plan gold)" in local["fields"]["body"]
    assert "Respond by, customer's time: Friday 27 November 2026, 19:00 (Europe/Rome)" in local["fields"]["body"]
    # The resolve mail (no alarm any more) has the title of the open mail.
    run_notified(store, [], {"ias-a"}, T0 + timedelta(minutes=10), pager, mailer)
    assert [m["event"] for m in mailer.sent] == ["open", "resolve"]
    assert mailer.sent[1]["case"]["title"] == "ias-a: Spazio su disco in esaurimento (/srv/appsuite)"


def test_an_english_contact_gets_the_alarms_own_texts(store):
    pager, mailer = RecordingPager(), RecordingMailer()
    english = alarm(response_timezone="Europe/London", texts={"it": {"title": "Spazio su disco", "summary": "pieno"}})
    run_notified(store, [english], {"ias-a"}, T0, pager, mailer, contacts={"ias-a": {"emails": ["ops@acme.example"], "language": "en"}})
    [opened] = mailer.sent
    assert opened["case"]["title"] == "ias-a: Disk space running low (/srv/appsuite)"
    assert opened["case"]["summary"] == "/srv/appsuite is 86.0 % full" and opened["case"]["timezone"] == "Europe/London"


def test_an_alarm_without_texts_or_timezone_mails_its_own_title_and_the_time_in_utc(store):
    pager, mailer = RecordingPager(), RecordingMailer()
    run_notified(store, [alarm()], {"ias-a"}, T0, pager, mailer)
    [opened] = mailer.sent
    assert opened["case"]["title"] == "ias-a: Disk space running low (/srv/appsuite)" and "timezone" not in opened["case"]
    [local] = store.local_list()
    assert "customer's time" not in local["fields"]["body"]


def test_no_contacts_no_mail(store):
    pager, mailer = RecordingPager(), RecordingMailer()
    run_notified(store, [alarm()], {"ias-a"}, T0, pager, mailer, contacts={"ias-b": {"emails": ["b@x.example"]}})
    assert mailer.sent == []


def test_mail_waits_for_its_case_when_the_case_backend_is_down(store):
    pager, mailer = RecordingPager(), RecordingMailer()
    flaky = FlakyBackend(store)
    flaky.failures = [BackendError("connection refused", retryable=True)] * 3
    notifications = cases.Notifications(pager=None, mail=True, contacts={"ias-a": {"emails": ["a@acme.example"]}})
    report = cases.plan_run(store, [alarm()], {"ias-a"}, "local", T0, notifications=notifications)
    cases.drain(store, {"local": flaky, "mail": mailer}, T0, report, sleep=lambda seconds: None)
    assert mailer.sent == [] and report.undelivered == 2
    report = cases.drain(store, {"local": flaky, "mail": mailer}, T0 + timedelta(minutes=5), sleep=lambda seconds: None)
    assert report.opened == 1 and report.mailed == 1 and len(mailer.sent) == 1


def test_a_second_run_waits_for_the_lock_instead_of_skipping(tmp_path):
    path = str(tmp_path / "state.sqlite")
    with open_store(path) as first, open_store(path) as second:
        holder = first.run_lock("slice 1")
        holder.__enter__()
        waits = []

        def release_after_two_waits(seconds):
            waits.append(seconds)
            if len(waits) == 2:
                holder.__exit__(None, None, None)

        with cases.run_lock(second, "slice 2", wait_seconds=60, sleep=release_after_two_waits):
            report = cases.plan_run(second, [alarm()], {"ias-a"}, "local", T0)
        assert len(waits) == 2 and report is not None
        assert len(second.outbox()) == 1


def test_a_lock_held_past_the_wait_gives_up_naming_the_holder(tmp_path):
    path = str(tmp_path / "state.sqlite")
    ticks = iter(range(0, 1000, 10))
    with open_store(path) as first, open_store(path) as second:
        with first.run_lock("the other run"):
            with pytest.raises(StoreLocked) as info:
                with cases.run_lock(second, "this run", wait_seconds=30, sleep=lambda seconds: None,
                                    clock=lambda: next(ticks)):
                    pass
    assert "the other run" in str(info.value)


def test_the_most_urgent_case_is_queued_and_filed_first(store):
    alarms = [alarm(host="ias-a", priority="P4"), alarm(host="ias-c", rule="voip_stack_crashed", subject="voip_stack",
                                                        priority="P1"),
              alarm(host="ias-b", priority="P3")]
    run(store, alarms, {"ias-a", "ias-b", "ias-c"}, T0)
    assert [(item.kind, store.get_case(item.fingerprint).priority) for item in store.outbox()] == [
        ("open", "P1"), ("open", "P3"), ("open", "P4")]
    assert [(c["id"], c["priority"]) for c in store.local_list()] == [("LOCAL-1", "P1"), ("LOCAL-2", "P3"), ("LOCAL-3", "P4")]
