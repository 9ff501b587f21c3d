# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The case manager: from this run's alarms to support cases, through the outbox.

Two steps, both plain functions over the state store:

``plan_run`` reconciles the alarms of this run with the case map and writes every action it
decides into the outbox, each under an idempotency key, before anything is sent:

* a new fingerprint opens a case; the same fingerprint still firing does nothing, unless its
  priority changed (an update with a comment);
* a case whose host was checked in this run and whose alarm no longer fires is resolved; the
  cases of hosts not checked in this run (unreachable, skipped, another slice) stay as they are;
* the same condition back within the reopen window reopens its case; later, it opens a new one;
* an alarm of a host that is not eligible (no consent, basic plan, old release) is ignored:
  nothing about that host leaves the controller;
* an alarm matched by a silence in force (a maintenance window) opens, reopens, updates, pages
  and mails nothing; its case, if open, stays open; other cases resolve as usual.

``drain`` sends what the outbox holds, oldest first, with bounded retries and backoff inside the
run. A retryable failure (timeout, refused, 5xx) stays queued for the next run; an answer the
backend will never accept (a 4xx) parks the item and reports it. The idempotency key of a case is
also written into the backend (RT custom field or subject tag, the local register's key), so a
retry after a crash finds the case instead of opening a second one.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ansible_collections.imagicle.proactive.plugins.module_utils._redact import mask_personal_data
from ansible_collections.imagicle.proactive.plugins.plugin_utils import silences
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import BackendError, CaseRef
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import clean_text
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import CaseRecord, OutboxItem, StoreLocked

DEFAULT_REOPEN_WINDOW = timedelta(hours=24)
CASE_KINDS = ("open", "update", "resolve", "reopen")


@dataclass(frozen=True)
class Notifications:
    """Who else hears of a case: the on-call platform (``pager``: a paging backend's name, or
    None) and the customer's contacts by host (``contacts``: host → {"emails": [...],
    "language": "en"|"it"}; mail is sent only when ``mail`` is true)."""

    pager: str | None = None
    mail: bool = False
    contacts: dict = field(default_factory=dict)


def page_content(alarm_or_record, content: dict) -> dict:
    """What the on-call platform gets: enough to act, nothing more."""
    return {
        "summary": content["title"],
        "customer": _text(alarm_or_record["customer"], 80),
        "host": _text(alarm_or_record["host"], 80),
        "rule": clean_text(alarm_or_record["rule"], 80),
        "priority": clean_text(alarm_or_record["priority"], 4),
        "due": content.get("due"),
    }


def _mail_payload(event: str, record: CaseRecord, content: dict, contacts: dict, summary: str) -> dict | None:
    recipients = (contacts.get(record.host) or {}).get("emails") or []
    if not recipients:
        return None
    return {"event": event, "to": list(recipients), "language": (contacts.get(record.host) or {}).get("language", "en"),
            "case": {"title": content.get("title") or record.title, "priority": record.priority, "summary": summary,
                     "customer": record.customer, "host": record.host, "rule": record.rule, "due": content.get("due")}}


@dataclass
class RunReport:
    """What a run did, for the table printed at its end."""

    opened: int = 0
    updated: int = 0
    resolved: int = 0
    reopened: int = 0
    paged: int = 0
    unpaged: int = 0
    mailed: int = 0
    queued: int = 0
    parked: int = 0
    silenced: int = 0
    problems: list = field(default_factory=list)

    def as_rows(self) -> list:
        return [
            ("opened", self.opened), ("updated", self.updated), ("resolved", self.resolved),
            ("reopened", self.reopened), ("paged", self.paged), ("page resolved", self.unpaged), ("mailed", self.mailed),
            ("queued for retry", self.queued), ("parked (rejected)", self.parked), ("silenced", self.silenced),
        ]


@contextlib.contextmanager
def run_lock(store, owner: str, wait_seconds: float = 300.0, ttl_seconds: int = 900, sleep=time.sleep, clock=time.monotonic):
    """Hold the store's run lock, waiting up to ``wait_seconds`` for a run that holds it.

    Runs against one store take turns (two slices of one AWX job, a run started while the last
    one still files): the second waits instead of skipping its cases. Past the wait, the
    StoreLocked error says who holds the lock.
    """
    deadline = clock() + max(0.0, wait_seconds)
    with contextlib.ExitStack() as stack:
        while True:
            try:
                held = stack.enter_context(store.run_lock(owner, ttl_seconds=ttl_seconds))
                break
            except StoreLocked:
                if clock() >= deadline:
                    raise
                sleep(1.0)
        yield held


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def case_key(record: CaseRecord) -> str:
    """The idempotency key of one case: its fingerprint and when it was opened."""
    return "%s-%s" % (record.fingerprint, _stamp(record.opened_at))


def _text(value, limit: int = 500) -> str:
    """Host-supplied text as it may leave the controller: one line, personal data masked, bounded.

    Fields the controller made itself (rule, priority, times, fingerprint) only go through
    ``clean_text``: masking would take a run of digits in a fingerprint for a phone number.
    """
    return mask_personal_data(clean_text(value, limit))


def case_content(alarm: dict) -> dict:
    """Title, priority, deadline and plain-text body of the case for one alarm.

    Only the alarm's own fields go out: never raw task results, never the whole facts.
    """
    subject = _text(alarm.get("subject") or "", 120)
    # The priority is a field of its own in every backend (and changes); the title does not carry it.
    title = "%s: %s%s" % (
        _text(alarm["host"], 80), _text(alarm.get("title") or alarm["rule"], 120), (" (%s)" % subject) if subject else "",
    )
    evidence = alarm.get("evidence") or {}
    lines = [
        _text(alarm.get("summary") or ""),
        "",
        "Customer: %s" % _text(alarm["customer"], 80),
        "Host: %s" % _text(alarm["host"], 80),
        "Rule: %s (%s)" % (clean_text(alarm["rule"], 80), clean_text(alarm.get("family") or "-", 40)),
        "Priority: %s" % clean_text(alarm["priority"], 4),
        "Detected: %s" % clean_text(alarm.get("detected_at") or "-", 40),
        "Respond by: %s (%s minutes on the %s calendar, plan %s)" % (
            clean_text(alarm.get("due") or "-", 40), clean_text(alarm.get("response_target_minutes") or "-", 10),
            clean_text(alarm.get("response_calendar") or "-", 40), clean_text(alarm.get("plan") or "-", 40)),
        "Alarm fingerprint: %s" % clean_text(alarm["fingerprint"], 80),
    ]
    if evidence:
        lines += ["", "Evidence:"]
        lines += ["  %s: %s" % (_text(key, 60), _text(value, 200)) for key, value in sorted(evidence.items())]
    return {
        "title": title,
        "priority": alarm["priority"],
        "due": alarm.get("due"),
        "body": "\n".join(lines),
    }


def _enqueue(store, record: CaseRecord, kind: str, payload: dict, now: datetime, suffix: str = "",
             backend: str | None = None) -> bool:
    key = "%s:%s%s" % (case_key(record), kind, suffix)
    item = OutboxItem(
        key=key, kind=kind, backend=backend or record.backend, fingerprint=record.fingerprint, payload=dict(payload, case_key=case_key(record)),
        status="queued", attempts=0, next_attempt_at=now, last_error=None, created_at=now, sent_at=None, result=None,
    )
    return store.enqueue(item)


def plan_run(store, alarms: list, checked_hosts: set, backend: str, now: datetime,
             reopen_window: timedelta = DEFAULT_REOPEN_WINDOW, report: RunReport | None = None,
             notifications: Notifications | None = None) -> RunReport:
    """Reconcile this run's alarms with the case map; queue every action in the outbox.

    ``alarms`` are the dictionaries of ``imagicle.proactive.evaluate`` of the hosts evaluated in
    this run; ``checked_hosts`` are the eligible hosts that reported their facts in this run: only
    their cases may be resolved. A host that did not report has its ``host_not_reporting`` alarm
    and its other cases stay as they are. The alarms of a host that is not eligible are ignored
    and its cases are left alone: nothing about it leaves the controller.
    """
    report = report or RunReport()
    notifications = notifications or Notifications()
    firing = {}
    # The most urgent first: the outbox sends oldest first, so a P1 is not queued behind P4s of
    # hosts that happened to answer earlier (and case numbers follow priority, then host).
    for alarm in sorted(alarms, key=lambda a: (str(a.get("priority")), str(a.get("host")), str(a.get("fingerprint")))):
        if alarm.get("eligible"):
            firing[alarm["fingerprint"]] = alarm
    in_force = store.silences(active_at=now) if firing else []

    for fingerprint, alarm in firing.items():
        if silences.matching(in_force, alarm, now) is not None:
            # A maintenance window: nothing opens, reopens, changes, pages or mails; an open case stays open.
            report.silenced += 1
            continue
        content = case_content(alarm)
        summary = _text(alarm.get("summary") or alarm["rule"])
        record = store.get_case(fingerprint)
        if record is None or (record.status == "resolved" and record.resolved_at is not None
                              and now - record.resolved_at > reopen_window):
            record = CaseRecord(
                fingerprint=fingerprint, customer=alarm["customer"], host=alarm["host"], rule=alarm["rule"],
                subject=alarm.get("subject") or "", priority=alarm["priority"], status="open", backend=backend,
                case_ref=None, title=content["title"], opened_at=now, updated_at=now, resolved_at=None,
                reopen_count=0, paged=False, page_ref=None,
            )
            store.save_case(record)
            _enqueue(store, record, "open", content, now)
            _notify_open(store, record, alarm, content, summary, notifications, now, "")
        elif record.status == "resolved":
            record.status, record.resolved_at, record.updated_at = "open", None, now
            record.reopen_count += 1
            record.priority = alarm["priority"]
            store.save_case(record)
            _enqueue(store, record, "reopen", dict(content, note="The condition is back: %s" % summary),
                     now, ":%s" % _stamp(now))
            _notify_open(store, record, alarm, content, summary, notifications, now, ":%s" % _stamp(now))
        elif record.priority != alarm["priority"]:
            note = "Priority changed from %s to %s: %s" % (record.priority, alarm["priority"], summary)
            record.priority, record.updated_at = alarm["priority"], now
            store.save_case(record)
            _enqueue(store, record, "update", dict(content, note=note), now, ":%s" % _stamp(now))

    for record in store.cases(status="open"):
        if record.host in checked_hosts and record.fingerprint not in firing:
            record.status, record.resolved_at, record.updated_at = "resolved", now, now
            store.save_case(record)
            note = "The condition no longer holds on %s (checked %s)." % (_text(record.host, 80),
                                                                          now.strftime("%Y-%m-%d %H:%M UTC"))
            suffix = ":%s" % _stamp(now)
            _enqueue(store, record, "resolve", {"note": note}, now, suffix)
            content = {"title": record.title, "due": None}
            if record.paged and notifications.pager:
                _enqueue(store, record, "unpage", {"page": page_content(record.to_dict(), content), "pager": notifications.pager},
                         now, suffix, backend=notifications.pager)
            mail = _mail_payload("resolve", record, content, notifications.contacts, note) if notifications.mail else None
            if mail:
                _enqueue(store, record, "mail", mail, now, ":resolve" + suffix, backend="mail")
    return report


def _notify_open(store, record: CaseRecord, alarm: dict, content: dict, summary: str, notifications: Notifications,
                 now: datetime, suffix: str) -> None:
    """Page (platinum P1) and mail the customer when a case opens or reopens."""
    if alarm.get("page") and notifications.pager:
        _enqueue(store, record, "page", {"page": page_content(alarm, content), "pager": notifications.pager}, now, suffix,
                 backend=notifications.pager)
    mail = _mail_payload("open", record, content, notifications.contacts, summary) if notifications.mail else None
    if mail:
        _enqueue(store, record, "mail", mail, now, ":open" + suffix, backend="mail")


def _with_case(page: dict, record: CaseRecord | None, store) -> dict:
    """The page with the reference and link of its case, when the case is filed by now (the case
    is queued before its page, so it usually is; a page never waits for the ticketing system)."""
    if record is None or not record.case_ref:
        return page
    opened = store.outbox_item("%s:open" % case_key(record))
    url = (opened.result or {}).get("url") if opened is not None and opened.status == "sent" else None
    return dict(page, case_ref=record.case_ref, case_url=url)


def _send(item: OutboxItem, backend, store) -> dict:
    """Send one outbox item through its backend; returns what to keep as its result."""
    payload = item.payload
    record = store.get_case(item.fingerprint)
    if item.kind == "open":
        ref = backend.create(payload["case_key"], payload)
        if record is not None and case_key(record) == payload["case_key"]:
            record.case_ref = ref.ref
            store.save_case(record)
        return {"ref": ref.ref, "url": ref.url, "warning": getattr(ref, "warning", None)}
    if item.kind == "page":
        reference = backend.trigger(item.fingerprint, _with_case(payload["page"], record, store))
        if record is not None:
            record.paged, record.page_ref = True, reference
            store.save_case(record)
        return {"ref": reference}
    if item.kind == "unpage":
        backend.resolve(item.fingerprint, _with_case(payload["page"], record, store))
        return {"ref": item.fingerprint}
    if item.kind == "mail":
        if record is None or record.case_ref is None:
            raise Waiting("the mail for case %s waits until the case is opened" % payload["case_key"])
        case = dict(payload["case"], case_ref=record.case_ref)
        backend.deliver(item.key, payload["event"], payload["to"], payload["language"], case,
                        thread_key="%s:mail:open" % payload["case_key"])
        return {"to": len(payload["to"])}
    ref = record.case_ref if record is not None and case_key(record) == payload["case_key"] else None
    if ref is None:
        found = backend.find(payload["case_key"])
        if found is None:
            raise Waiting("the case %s is not opened yet in %s" % (payload["case_key"], item.backend))
        ref = found.ref
    case = CaseRef(backend=item.backend, ref=ref, url=None)
    # A webhook receiver deduplicates by Idempotency-Key: give it the case's key and this action's.
    extra = {"key": payload["case_key"], "action_id": item.key} if getattr(backend, "name", "") == "webhook" else {}
    if item.kind == "update":
        backend.update_priority(case.ref, payload["priority"], payload["note"], **extra)
    elif item.kind == "resolve":
        backend.resolve(case.ref, payload["note"], **extra)
    elif item.kind == "reopen":
        backend.reopen(case.ref, payload["note"], **extra)
    else:
        raise BackendError("unknown outbox action %r" % item.kind, retryable=False)
    return {"ref": ref}


class Waiting(BackendError):
    """The action depends on one not sent yet (the case is not opened in its backend yet)."""

    def __init__(self, message: str):
        super().__init__(message, retryable=True)


COUNTERS = {"open": "opened", "update": "updated", "resolve": "resolved", "reopen": "reopened", "page": "paged",
            "unpage": "unpaged", "mail": "mailed"}


def drain(store, backends: dict, now: datetime, report: RunReport | None = None, attempts_in_run: int = 3,
          backoff_seconds: float = 0.5, sleep=time.sleep) -> RunReport:
    """Send the queued outbox items, oldest first; bounded retries with backoff in this run.

    A backend that still fails after its retries is not tried again in this run: its items stay
    queued and go first at the next run.
    """
    report = report or RunReport()
    down = set()
    for item in store.pending(now, limit=10000):
        backend = backends.get(item.backend)
        if backend is None:
            store.mark_parked(item.key, "no backend %r is configured for this action" % item.backend)
            report.parked += 1
            report.problems.append("%s: no backend %s" % (item.key, item.backend))
            continue
        if item.backend in down:
            continue
        for attempt in range(attempts_in_run):
            try:
                result = _send(item, backend, store)
            except Waiting as exc:
                store.mark_retry(item.key, str(exc), now)
            except BackendError as exc:
                if not exc.retryable:
                    store.mark_parked(item.key, str(exc))
                    report.parked += 1
                    report.problems.append("%s rejected by %s: %s" % (item.kind, item.backend, exc))
                    break
                if attempt + 1 < attempts_in_run:
                    sleep(backoff_seconds * (2 ** attempt))
                    continue
                store.mark_retry(item.key, str(exc), now)
                down.add(item.backend)
                report.problems.append("%s is failing, the rest waits for the next run: %s" % (item.backend, exc))
            else:
                store.mark_sent(item.key, result, now)
                if result.get("warning"):
                    report.problems.append("%s %s: %s" % (item.backend, result.get("ref"), result["warning"]))
                counter = COUNTERS.get(item.kind)
                if counter:
                    setattr(report, counter, getattr(report, counter) + 1)
            break
    report.queued = len(store.pending(now + timedelta(days=3650), limit=100000))
    return report
