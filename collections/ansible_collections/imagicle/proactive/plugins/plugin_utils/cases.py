# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The case manager: from this run's alarms to support cases, through the outbox.

Two steps, both plain functions over the state store:

``plan_run`` reconciles the alarms of this run with the case map and writes every action it
decides into the outbox, each under an idempotency key, before anything is sent. A case's new
state and the actions that carry it out are stored in one transaction: a crash at any point
leaves both or neither.

* a new fingerprint opens a case; the same fingerprint still firing does nothing, unless its
  priority changed (an update with a note);
* a case whose host was checked in this run, whose rule was measured and no longer fires, is
  resolved. No data is not good news: a case whose rule could not be measured (the section
  failed, vanished, or read null or NaN) or whose host did not report keeps its state; after
  ``Policy.no_data_note_after`` without data the case says so, once;
* the cases of hosts not evaluated in this run (another slice) stay as they are;
* the same condition back within the reopen window reopens its case; later, it opens a new one
  (the next generation of the fingerprint: its own idempotency key);
* an alarm of a host that is not eligible (no consent, basic plan, old release) is ignored:
  nothing about that host leaves the controller;
* an alarm matched by a silence in force (a maintenance window) opens, reopens, updates, pages
  and mails nothing; its case, if open, stays open; other cases resolve as usual;
* at most ``Policy.max_new_per_host`` cases open (or reopen) per host and
  ``Policy.max_new_per_run`` per run; the alarms past a cap are summarised in one case per
  host (or one for the run), the most urgent ones being filed first;
* an open case that has no reference in its backend and nothing queued to file it (an older
  collection crashed between the two) is planned again;
* the alarms a root cause explains (a host that did not report, a customer whose hosts all lost
  the cloud, an HA peer that is down) open no case of their own: the case of the cause names them
  and their open cases are held quietly (``root_cause.py``).
* an alarm of a sustained rule (``alarm["sustain"]``: runs in a row, minutes) is pending until its
  condition held that long: no case, no mail, no page. A run that could not measure it neither
  advances nor resets its streak; a run that measured it good resets it;
* a condition whose state changed (firing <-> clear) more than ``Policy.flap_changes`` times within
  ``Policy.flap_window`` is flapping: its case says so once and stays open, without a resolve, a
  reopen, a mail or a page per change, and without lowering its priority; it is resolved, with a
  note, once the condition is clear and changed no more than that within the window.

``drain`` sends what the outbox holds, oldest first, through the one interface of
``backends/base.py``, with bounded retries inside the run and, across runs, a backoff per item.
Nothing is forgotten: an action that fails stays queued with the reason, a refusal (bad
credentials, a login page, a rejected payload) as well as a timeout, and is reported on every
run until it is delivered, requeued or dropped by a person. The run keeps its lock alive while it
sends, stops when it loses it or when its send deadline passes, and leaves the rest queued.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ansible_collections.imagicle.proactive.plugins.module_utils._redact import mask_personal_data
from ansible_collections.imagicle.proactive.plugins.plugin_utils import silences
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import ActionContext, BackendError
from ansible_collections.imagicle.proactive.plugins.plugin_utils.mail import local_time_text
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import clean_text
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import CaseRecord, ConditionRecord, OutboxItem, StoreLocked

DEFAULT_REOPEN_WINDOW = timedelta(hours=24)
CASE_KINDS = ("open", "update", "resolve", "reopen", "comment")
FLOOD_RULE = "alarm_flood"
RUN_FLOOD_HOST = "(this run)"
RUN_FLOOD_CUSTOMER = "(several)"
FLOOD_LISTED = 50
PRIORITY_ORDER = {"P1": 0, "P2": 1, "P3": 2, "P4": 3}
# How many earlier cases of one fingerprint an "open" steps over (a store restored from an old backup).
MAX_GENERATION_STEPS = 50
# How many recent changes of state a condition keeps (more than any sensible flap_changes).
FLAP_CHANGES_KEPT = 200


@dataclass(frozen=True)
class Policy:
    """How the case manager files: the reopen window, the caps on new cases, the no-data note, the retry backoff."""

    reopen_window: timedelta = DEFAULT_REOPEN_WINDOW
    max_new_per_host: int = 10
    max_new_per_run: int = 100
    no_data_note_after: timedelta = timedelta(hours=1)
    retry_backoff: timedelta = timedelta(seconds=60)
    retry_backoff_max: timedelta = timedelta(hours=1)
    # A condition that changes state (firing <-> clear) more than flap_changes times within flap_window is flapping.
    flap_changes: int = 3
    flap_window: timedelta = timedelta(minutes=360)

    def backoff(self, failures: int) -> timedelta:
        """How long an action waits after its ``failures``-th failed run: the first failure is retried at the next run,
        then ``retry_backoff`` doubling up to ``retry_backoff_max``."""
        if failures <= 1 or self.retry_backoff <= timedelta(0):
            return timedelta(0)
        return min(self.retry_backoff_max, self.retry_backoff * (2 ** min(failures - 2, 30)))


@dataclass(frozen=True)
class Notifications:
    """Who else hears of a case: the on-call platform (``pager``: a paging backend's name, or
    None) and the customer's contacts by host (``contacts``: host → {"emails": [...],
    "language": "en"|"it"}; mail is sent only when ``mail`` is true)."""

    pager: str | None = None
    mail: bool = False
    contacts: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Gap:
    """A rule that could not be measured on a host in this run: ``rule`` None means every rule of
    the host (it did not report), ``subject`` None every subject of the rule."""

    host: str
    rule: str | None
    subject: str | None
    reason: str
    # A quiet hold: the state is known and the case is kept on purpose (a value between the
    # firing and the clearing threshold, an alarm covered by the case of its cause), so the case
    # gets no "no measurement" note.
    quiet: bool = False

    def covers(self, record: CaseRecord) -> bool:
        return (record.host == self.host and (self.rule is None or record.rule == self.rule)
                and (self.subject is None or (record.subject or "") == self.subject))


@dataclass
class RunInput:
    """What the run's ``evaluate`` tasks said, gathered for :func:`plan_run` (the cases callback feeds it)."""

    alarms: list = field(default_factory=list)
    checked_hosts: set = field(default_factory=set)
    evaluated_hosts: set = field(default_factory=set)
    gaps: list = field(default_factory=list)
    contacts: dict = field(default_factory=dict)
    customers: dict = field(default_factory=dict)
    evaluated: bool = False

    def add(self, result, host_name: str) -> str | None:
        """One ``evaluate`` task result (``alarms`` and ``evaluation``), of whatever shape it came; the
        eligible host it was about (None when nothing of it is filed)."""
        data = result if isinstance(result, dict) else {}
        evaluation = data.get("evaluation") if isinstance(data.get("evaluation"), dict) else {}
        if evaluation.get("file_cases") is False:
            return None  # a look at a host (playbook imagicle.proactive.explain), not a run that files cases
        self.evaluated = True
        eligibility = evaluation.get("eligibility") if isinstance(evaluation.get("eligibility"), dict) else {}
        if not eligibility.get("eligible"):
            return None  # nothing about a host that is not eligible leaves the controller
        host = str(evaluation.get("host") or host_name)
        self.evaluated_hosts.add(host)
        if isinstance(evaluation.get("customer"), str):
            self.customers[host] = evaluation["customer"]
        if evaluation.get("reporting") is True:
            self.checked_hosts.add(host)
        for gap in evaluation.get("no_data") or []:
            if isinstance(gap, dict):
                self.gaps.append(Gap(host, gap.get("rule"), gap.get("subject"), str(gap.get("reason") or "no data"),
                                     quiet=gap.get("quiet") is True))
        if isinstance(evaluation.get("notify"), dict):
            self.contacts[host] = evaluation["notify"]
        self.alarms.extend(alarm for alarm in data.get("alarms") or [] if isinstance(alarm, dict) and alarm.get("host") == host)
        return host

    def stands_alone(self, host: str) -> bool:
        """Whether the cases of ``host`` can be planned before the other hosts of the run are evaluated.

        Only the causes that join hosts need the others (see ``root_cause.py``): a host that did not
        report (its HA peer's replication alarm is folded into its case), a replication alarm (its
        peer may not report), a lost cloud (every host of the customer may have lost it). A host with
        none of these in this run has its cases planned as soon as it is evaluated.
        """
        from ansible_collections.imagicle.proactive.plugins.plugin_utils import root_cause

        if host not in self.checked_hosts:
            return False
        return not any(alarm.get("host") == host and root_cause.check_of(alarm) in root_cause.JOINING_CHECKS
                       for alarm in self.alarms)

    def part(self, host: str) -> "RunInput":
        """The input of ``host`` alone (without its customer: no customer-level case moves on one host)."""
        return RunInput(alarms=[alarm for alarm in self.alarms if alarm.get("host") == host],
                        checked_hosts={host} & self.checked_hosts, evaluated_hosts={host} & self.evaluated_hosts,
                        gaps=[gap for gap in self.gaps if gap.host == host],
                        contacts={h: c for h, c in self.contacts.items() if h == host}, evaluated=self.evaluated)

    def without(self, hosts: set) -> "RunInput":
        """The input with the alarms of ``hosts`` left out: those hosts were planned already in this run,
        and only their part in the causes that join hosts (reporting, measuring the cloud) still counts."""
        return dataclasses.replace(self, alarms=[alarm for alarm in self.alarms if alarm.get("host") not in hosts])


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


@dataclass
class RunReport:
    """What a run did, for the table printed at its end, and what went wrong."""

    opened: int = 0
    updated: int = 0
    resolved: int = 0
    reopened: int = 0
    noted: int = 0
    paged: int = 0
    unpaged: int = 0
    mailed: int = 0
    undelivered: int = 0
    refused: int = 0
    silenced: int = 0
    suppressed: int = 0
    held: int = 0
    capped: int = 0
    pending: int = 0
    flapping: int = 0
    # New and reopened cases planned so far in this run (what its caps count).
    new_cases: int = 0
    oldest_undelivered: datetime | None = None
    stopped: str | None = None
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def as_rows(self) -> list:
        return [
            ("opened", self.opened), ("updated", self.updated), ("resolved", self.resolved),
            ("reopened", self.reopened), ("noted", self.noted), ("paged", self.paged), ("page cleared", self.unpaged),
            ("mailed", self.mailed), ("undelivered", self.undelivered), ("refused", self.refused),
            ("silenced", self.silenced), ("suppressed", self.suppressed), ("held (no data)", self.held),
            ("capped", self.capped), ("pending", self.pending), ("flapping", self.flapping),
        ]


@contextlib.contextmanager
def run_lock(store, owner: str, wait_seconds: float = 300.0, ttl_seconds: int = 900, sleep=time.sleep, clock=time.monotonic,
             report: RunReport | None = None):
    """Hold the store's run lock, waiting up to ``wait_seconds`` for a run that holds it.

    Runs against one store take turns (two slices of one AWX job, a run started while the last
    one still files): the second waits instead of skipping its cases, and says so in ``report``
    (how long, for whom). A lock whose holder died on this machine is taken over at once, an
    expired one too, also with a note. Past the wait, the StoreLocked error says who holds the lock.
    """
    started = clock()
    deadline = started + max(0.0, wait_seconds)
    holder = None
    with contextlib.ExitStack() as stack:
        while True:
            try:
                held = stack.enter_context(store.run_lock(owner, ttl_seconds=ttl_seconds))
                break
            except StoreLocked as exc:
                holder = exc
                if clock() >= deadline:
                    raise
                sleep(1.0)
        if report is not None:
            waited = clock() - started
            if holder is not None and getattr(holder, "holder", None):
                report.notes.append("waited %.0f s for the run lock of the state store, held by %r (pid %s on %s) since %s"
                                    % (waited, holder.holder, holder.pid, holder.host, _iso(holder.since)))
            elif holder is not None:
                report.notes.append("waited %.0f s for the run lock of the state store" % waited)
            if held.took_over:
                report.notes.append("took over the run lock of %s" % held.took_over)
        yield held


def _iso(moment) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(moment, datetime) else "?"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def case_key(record: CaseRecord) -> str:
    """The idempotency key of one case, written into its backend: its fingerprint and generation
    (``<fingerprint>-<n>``; a case of an older collection keeps its fingerprint and opening time).
    It depends on nothing that a restored store rolls back to another value for the same case."""
    return record.case_key or "%s-%s" % (record.fingerprint, _stamp(record.opened_at))


def generation_key(fingerprint: str, generation: int) -> str:
    return "%s-%d" % (fingerprint, generation)


def flood_fingerprint(customer: str, host: str) -> str:
    """The fingerprint of the case that summarises the alarms past the cap of a host (or of the run)."""
    return hashlib.sha256(("%s\x00%s\x00%s" % (customer, host, FLOOD_RULE)).encode("utf-8")).hexdigest()[:20]


def _text(value, limit: int = 500) -> str:
    """Host-supplied text as it may leave the controller: one line, personal data masked, bounded.

    Fields the controller made itself (rule, priority, times, fingerprint) only go through
    ``clean_text``: masking would take a run of digits in a fingerprint for a phone number.
    """
    return mask_personal_data(clean_text(value, limit))


def _evidence_lines(evidence: dict) -> list:
    """(key, value) of each piece of evidence, sorted by key; a mapping (a prediction) one line per entry, as key.entry."""
    found = []
    for key, value in sorted(evidence.items(), key=lambda kv: str(kv[0])):
        if isinstance(value, dict):
            found += [("%s.%s" % (key, inner), item) for inner, item in sorted(value.items(), key=lambda kv: str(kv[0]))]
        else:
            found.append((key, value))
    return found


def case_title(alarm: dict, title=None) -> str:
    """``<host>: <title> (<subject>)``; ``title``: the alarm's title in another language (default: its own)."""
    subject = _text(alarm.get("subject") or "", 120)
    # The priority is a field of its own in every backend (and changes); the title does not carry it.
    return "%s: %s%s" % (
        _text(alarm["host"], 80), _text(title or alarm.get("title") or alarm["rule"], 120), (" (%s)" % subject) if subject else "",
    )


def _customer_time(alarm: dict) -> str | None:
    """The alarm's deadline in the customer's timezone (``response_timezone``), for people; None when either is unknown."""
    zone, due = alarm.get("response_timezone"), alarm.get("due")
    if not isinstance(zone, str) or not zone or not isinstance(due, str):
        return None
    try:
        instant = datetime.fromisoformat(due[:-1] + "+00:00" if due.endswith("Z") else due)
        return local_time_text(instant, zone, "en") if instant.tzinfo is not None else None
    except ValueError:
        return None


def case_content(alarm: dict) -> dict:
    """Title, priority, deadline and plain-text body of the case for one alarm.

    Only the alarm's own fields go out: never raw task results, never the whole facts. The body is
    in English (for the support team); the deadline is given in UTC and in the customer's time.
    """
    title = case_title(alarm)
    evidence = alarm.get("evidence") or {}
    customer_time = _customer_time(alarm)
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
    ]
    if customer_time:
        lines.append("Respond by, customer's time: %s" % clean_text(customer_time, 120))
    lines.append("Alarm fingerprint: %s" % clean_text(alarm["fingerprint"], 80))
    if isinstance(evidence, dict) and evidence:
        lines += ["", "Evidence:"]
        lines += ["  %s: %s" % (_text(key, 60), _text(value, 200)) for key, value in _evidence_lines(evidence)]
    content = {
        "title": title,
        "priority": alarm["priority"],
        "due": alarm.get("due"),
        "body": "\n".join(lines),
    }
    covers = [entry for entry in alarm.get("covers") or [] if isinstance(entry, dict)]
    if covers:
        # The alarms this case stands for (plugin_utils/root_cause.py); their lines are made there, host text masked.
        content["body"] += "\n\n" + "\n".join(covers_lines(covers))
        content["covers"] = {str(entry.get("fingerprint")): clean_text(entry.get("text"), 300) for entry in covers}
    return content


COVERS_LISTED = 50


def covers_lines(covers: list) -> list:
    """The lines of a case body that name the alarms the case covers (at most ``COVERS_LISTED``)."""
    lines = ["Covers (the alarms of the same cause, held without a case of their own while this case is open):"]
    lines += ["  covers: %s" % clean_text(entry.get("text"), 300) for entry in covers[:COVERS_LISTED]]
    if len(covers) > COVERS_LISTED:
        lines.append("  ... and %d more" % (len(covers) - COVERS_LISTED))
    return lines


def _recipient_id(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()[:12]


def _enqueue(store, record: CaseRecord, kind: str, payload: dict, now: datetime, suffix: str = "",
             backend: str | None = None) -> bool:
    key = "%s:%s%s" % (case_key(record), kind, suffix)
    item = OutboxItem(
        key=key, kind=kind, backend=backend or record.backend, fingerprint=record.fingerprint,
        payload=dict(payload, case_key=case_key(record)), status="queued", attempts=0, next_attempt_at=now, last_error=None,
        created_at=now, sent_at=None, result=None,
    )
    return store.enqueue(item)


def _mail_case(record: CaseRecord, content: dict, summary: str, language: str, alarm: dict | None) -> dict:
    """The case as the customer's mail shows it: the title and summary in ``language`` when the alarm has them
    (``texts``), and the customer's timezone for the deadline."""
    case = {"title": content.get("title") or record.title, "priority": record.priority, "summary": summary,
            "customer": record.customer, "host": record.host, "rule": record.rule, "due": content.get("due")}
    if alarm is None:
        return case
    if isinstance(alarm.get("response_timezone"), str):
        case["timezone"] = alarm["response_timezone"]
    texts = alarm.get("texts") if isinstance(alarm.get("texts"), dict) else {}
    own = texts.get(language) if isinstance(texts.get(language), dict) else {}
    if own.get("title"):
        case["title"] = case_title(alarm, own["title"])
        case["summary"] = _text(own.get("summary") or summary)
    return case


def _enqueue_mail(store, record: CaseRecord, event: str, content: dict, notifications: Notifications, summary: str,
                  now: datetime, suffix: str, alarm: dict | None = None) -> None:
    """One mail per contact (a refused address never holds back the others), threaded to that contact's open mail.

    With ``alarm``, the mail has its title and summary in the contact's language; a resolve mail (no alarm) has the
    title of that contact's open mail."""
    if not notifications.mail:
        return
    contact = notifications.contacts.get(record.host) or {}
    language = contact.get("language", "en")
    case = _mail_case(record, content, summary, language, alarm)
    for address in dict.fromkeys(contact.get("emails") or []):
        recipient = _recipient_id(address)
        thread = "%s:mail:open:%s" % (case_key(record), recipient)
        mailed = dict(case)
        opened = store.outbox_item(thread) if alarm is None and event != "open" else None
        if opened is not None and opened.payload.get("language") == language and isinstance(opened.payload.get("case"), dict):
            mailed["title"] = opened.payload["case"].get("title") or mailed["title"]
        _enqueue(store, record, "mail", {"event": event, "to": [address], "language": language,
                                         "case": mailed, "thread_key": thread if event != "open" else None},
                 now, ":%s%s:%s" % (event, suffix, recipient), backend="mail")


def _notify_open(store, record: CaseRecord, page: bool, content: dict, summary: str, notifications: Notifications,
                 now: datetime, suffix: str, alarm: dict | None = None) -> None:
    """Page (platinum P1) and mail the customer when a case opens or reopens (``alarm``: the alarm of the case)."""
    if page and notifications.pager:
        _enqueue(store, record, "page", {"page": page_content(record.to_dict(), content), "pager": notifications.pager},
                 now, suffix, backend=notifications.pager)
    _enqueue_mail(store, record, "open", content, notifications, summary, now, suffix, alarm)


def _new_record(fingerprint: str, alarm: dict, content: dict, backend: str, now: datetime, previous: CaseRecord | None) -> CaseRecord:
    generation = previous.generation + 1 if previous is not None else 1
    return CaseRecord(
        fingerprint=fingerprint, customer=alarm["customer"], host=alarm["host"], rule=alarm["rule"],
        subject=alarm.get("subject") or "", priority=alarm["priority"], status="open", backend=backend,
        case_ref=None, title=content["title"], opened_at=now, updated_at=now, resolved_at=None,
        reopen_count=0, paged=False, page_ref=None, case_key=generation_key(fingerprint, generation), generation=generation,
    )


class _Planner:
    """One run's reconciliation; every change of a case and its actions in one transaction."""

    def __init__(self, store, backend: str, now: datetime, report: RunReport, notifications: Notifications, policy: Policy):
        self.store = store
        self.backend = backend
        self.now = now
        self.report = report
        self.notifications = notifications
        self.policy = policy
        self.opened_per_host: dict = {}
        self.opened_in_run = 0
        self.overflow: dict = {}
        self.run_overflow: list = []
        self.room_per_host: dict = {}
        self.room_in_run = policy.max_new_per_run
        # What the store remembers of each condition (streaks, changes of state), and the flapping ones seen in this run.
        self.conditions: dict = {}
        self.flapping: set = set()

    def set_rooms(self, candidates: list) -> None:
        """How many cases may open in this run, per host and in all, given the alarms that need one (``candidates``).

        While a host's flood case is open, its alarms stay summarised there until few enough need a
        case to open them all; the same for the run's flood case.
        """
        per_host: dict = {}
        for alarm in candidates:
            per_host[alarm["host"]] = per_host.get(alarm["host"], 0) + 1
        self.room_per_host = {}
        for host, count in per_host.items():
            flood = self.store.get_case(flood_fingerprint(_customer_of(candidates, host), host))
            flooding = flood is not None and flood.status == "open"
            self.room_per_host[host] = 0 if flooding and count > self.policy.max_new_per_host else self.policy.max_new_per_host
        run_flood = self.store.get_case(flood_fingerprint(RUN_FLOOD_CUSTOMER, RUN_FLOOD_HOST))
        flooding = run_flood is not None and run_flood.status == "open"
        self.room_in_run = 0 if flooding and len(candidates) > self.policy.max_new_per_run else self.policy.max_new_per_run

    def _room(self, alarm: dict) -> bool:
        """Whether one more case may open for the alarm's host in this run; if not, it is summarised."""
        host = alarm["host"]
        if self.opened_per_host.get(host, 0) >= self.room_per_host.get(host, self.policy.max_new_per_host):
            self.overflow.setdefault(host, []).append(alarm)
            return False
        if self.opened_in_run >= self.room_in_run:
            self.run_overflow.append(alarm)
            return False
        self.opened_per_host[host] = self.opened_per_host.get(host, 0) + 1
        self.opened_in_run += 1
        return True

    def needs_case(self, record: CaseRecord | None) -> tuple:
        """(opens a new case, reopens the case) for an alarm whose case record is ``record``."""
        new_case = record is None or (record.status == "resolved" and now_past(record, self.now, self.policy.reopen_window))
        return new_case, not new_case and record.status == "resolved"

    def alarm(self, fingerprint: str, alarm: dict, record: CaseRecord | None, content: dict, summary: str, page: bool) -> None:
        store, now = self.store, self.now
        new_case, reopen = self.needs_case(record)
        if (new_case or reopen) and not self._room(alarm):
            self.report.capped += 1
            return
        with store.transaction("plan case %s" % fingerprint):
            condition = self.conditions.get(fingerprint)
            flapping = ""
            if new_case or reopen or (condition is not None and not condition.firing):
                condition = condition or self._new_condition(fingerprint, alarm["host"], alarm["rule"], alarm.get("subject"))
                flapping = self._change(condition, True)
                store.save_condition(condition, now)
            elif condition is not None and condition.flapping_since is not None:
                flapping = self._steady(condition)
            if new_case:
                record = _new_record(fingerprint, alarm, content, self.backend, now, record)
                store.save_case(record)
                _enqueue(store, record, "open", content, now)
                _notify_open(store, record, page, content, summary, self.notifications, now, "", alarm)
                if flapping:
                    _enqueue(store, record, "comment", {"note": flapping}, now, ":flapping:%s" % _stamp(now))
                return
            if reopen:
                record.status, record.resolved_at, record.updated_at = "open", None, now
                record.reopen_count += 1
                record.priority, record.rule = alarm["priority"], alarm["rule"]
                record.no_data_since, record.no_data_noted = None, False
                store.save_case(record)
                _enqueue(store, record, "reopen", dict(content, note=" ".join(
                    ["The condition is back: %s" % summary] + ([flapping] if flapping else []))), now, ":%s" % _stamp(now))
                _notify_open(store, record, page, content, summary, self.notifications, now, ":%s" % _stamp(now), alarm)
                return
            if flapping:
                _enqueue(store, record, "comment", {"note": flapping}, now, ":flapping:%s" % _stamp(now))
            taken = ""
            if record.rule != alarm["rule"]:
                # The alarm of a cause took this case over (root_cause.py: a restart loop files on the crash case
                # of its first restarts): said once; the case follows the new rule from now on.
                taken = "This case now follows %s (rule %s; it followed rule %s): %s" % (
                    _text(alarm.get("title") or alarm["rule"], 120), clean_text(alarm["rule"], 80),
                    clean_text(record.rule, 80), summary)
                record.rule, record.updated_at = alarm["rule"], now
                record.no_data_since, record.no_data_noted = None, False
            lower = PRIORITY_ORDER.get(alarm["priority"], 9) > PRIORITY_ORDER.get(record.priority, 9)
            if record.priority != alarm["priority"] and lower and condition is not None and condition.flapping_since is not None:
                pass  # a flapping condition keeps the most urgent priority it reached until it is stable again
            elif record.priority != alarm["priority"]:
                note = "Priority changed from %s to %s: %s" % (record.priority, alarm["priority"], summary)
                record.priority, record.updated_at = alarm["priority"], now
                record.no_data_since, record.no_data_noted = None, False
                store.save_case(record)
                _enqueue(store, record, "update", dict(content, note="%s %s" % (taken, note) if taken else note), now,
                         ":%s" % _stamp(now))
                return
            if taken:
                store.save_case(record)
                _enqueue(store, record, "comment", {"note": taken}, now, ":rule:%s" % _stamp(now))
            elif record.no_data_since is not None or record.no_data_noted:
                record.no_data_since, record.no_data_noted = None, False  # measured again
                store.save_case(record)

    def flood(self, customer: str, host: str, alarms: list, why: str) -> None:
        """One case that stands for the alarms past a cap (opened, or updated when it gets more urgent)."""
        fingerprint = flood_fingerprint(customer, host)
        alarms = sorted(alarms, key=lambda a: (PRIORITY_ORDER.get(a.get("priority"), 9), str(a.get("rule")), str(a.get("subject"))))
        priority = alarms[0]["priority"]
        lines = ["%d alarms were not filed one by one: %s. The most urgent first:" % (len(alarms), why), ""]
        for listed in alarms[:FLOOD_LISTED]:
            subject = (" (%s)" % _text(listed.get("subject"), 120)) if listed.get("subject") else ""
            lines.append("  %s %s %s%s" % (clean_text(listed.get("priority"), 4), _text(listed.get("host"), 80),
                                           clean_text(listed.get("rule"), 80), subject))
        if len(alarms) > FLOOD_LISTED:
            lines.append("  ... and %d more" % (len(alarms) - FLOOD_LISTED))
        lines += ["", "Look at the host (playbooks explain or cases) and fix the cause; this case is resolved when a run "
                      "files every alarm of it again one by one."]
        title = "%s: %d alarms not filed one by one (%s)" % (_text(host, 80), len(alarms), why)
        alarm = {"customer": customer, "host": host, "rule": FLOOD_RULE, "subject": "", "priority": priority,
                 "fingerprint": fingerprint}
        content = {"title": title, "priority": priority, "due": min((a.get("due") for a in alarms if a.get("due")), default=None),
                   "body": "\n".join(lines)}
        summary = "%d alarms past the cap (%s)" % (len(alarms), why)
        record = self.store.get_case(fingerprint)
        page = any(a.get("page") for a in alarms)
        if record is not None and record.status == "open" and PRIORITY_ORDER.get(priority, 9) >= PRIORITY_ORDER.get(record.priority, 9):
            return  # as urgent as it already says: nothing new to tell
        with self.store.transaction("plan case %s" % fingerprint):
            if record is None or (record.status == "resolved" and now_past(record, self.now, self.policy.reopen_window)):
                record = _new_record(fingerprint, alarm, content, self.backend, self.now, record)
                self.store.save_case(record)
                _enqueue(self.store, record, "open", content, self.now)
                _notify_open(self.store, record, page, content, summary, Notifications(pager=self.notifications.pager),
                             self.now, "")
            elif record.status == "resolved":
                record.status, record.resolved_at, record.updated_at, record.priority = "open", None, self.now, priority
                record.reopen_count += 1
                self.store.save_case(record)
                suffix = ":%s" % _stamp(self.now)
                _enqueue(self.store, record, "reopen", dict(content, note="The flood is back: %s" % summary), self.now, suffix)
                _notify_open(self.store, record, page, content, summary, Notifications(pager=self.notifications.pager),
                             self.now, suffix)
            else:
                note = "Priority changed from %s to %s: %s" % (record.priority, priority, summary)
                record.priority, record.updated_at = priority, self.now
                self.store.save_case(record)
                _enqueue(self.store, record, "update", dict(content, note=note), self.now, ":%s" % _stamp(self.now))

    def resolve(self, record: CaseRecord, note: str, condition: ConditionRecord | None = None) -> None:
        store, now = self.store, self.now
        with store.transaction("plan case %s" % record.fingerprint):
            if condition is not None:
                store.save_condition(condition, now)
            record.status, record.resolved_at, record.updated_at = "resolved", now, now
            record.no_data_since, record.no_data_noted = None, False
            store.save_case(record)
            suffix = ":%s" % _stamp(now)
            _enqueue(store, record, "resolve", {"note": note}, now, suffix)
            content = {"title": record.title, "due": None}
            if record.paged and self.notifications.pager:
                _enqueue(store, record, "unpage", {"page": page_content(record.to_dict(), content), "pager": self.notifications.pager},
                         now, suffix, backend=self.notifications.pager)
            if record.rule != FLOOD_RULE:
                _enqueue_mail(store, record, "resolve", content, self.notifications, note, now, suffix)

    # -- memory across runs: sustained conditions and flapping --

    def _new_condition(self, fingerprint: str, host, rule, subject, firing: bool = False) -> ConditionRecord:
        condition = ConditionRecord(fingerprint, host, rule, subject or "", firing=firing)
        self.conditions[fingerprint] = condition
        return condition

    def _recent(self, condition: ConditionRecord) -> list:
        """The condition's changes within the flap window (a change recorded "later" by a clock since set back counts)."""
        since = self.now - self.policy.flap_window
        return [moment for moment in condition.changes if moment > since]

    def _change(self, condition: ConditionRecord, firing: bool) -> str:
        """Record that the condition changed state now; the note to add to its case when it starts flapping, else ""."""
        condition.firing = firing
        condition.streak, condition.streak_since = 0, None
        # Never before the last change: a controller clock set back must not reorder or drop changes.
        at = max([self.now] + condition.changes[-1:])
        condition.changes = (self._recent(condition) + [at])[-FLAP_CHANGES_KEPT:]
        if condition.flapping_since is not None:
            self.flapping.add(condition.fingerprint)
            return ""
        if self.policy.flap_window <= timedelta(0):
            return ""
        count = len(self._recent(condition))
        if count <= self.policy.flap_changes:
            return ""
        condition.flapping_since = self.now
        self.flapping.add(condition.fingerprint)
        return ("This alarm is flapping: its condition changed state %d times in the last %s (more than %d). The case stays "
                "open and is not resolved, reopened, mailed or paged at each change; it is resolved once the condition is "
                "clear and changes state no more than %d times within %s."
                % (count, _age(self.policy.flap_window), self.policy.flap_changes, self.policy.flap_changes,
                   _age(self.policy.flap_window)))

    def _steady(self, condition: ConditionRecord) -> str:
        """A flapping condition that fires: the note that it stopped flapping when it changed little enough lately, else ""."""
        count = len(self._recent(condition))
        if count > self.policy.flap_changes:
            self.flapping.add(condition.fingerprint)
            return ""
        since, condition.flapping_since = condition.flapping_since, None
        self.store.save_condition(condition, self.now)
        return ("This alarm stopped flapping (flapping since %s): its condition changed state %d times in the last %s and "
                "holds now; the case follows it again." % (since.strftime("%Y-%m-%d %H:%M UTC"), count,
                                                           _age(self.policy.flap_window)))

    def sustained(self, fingerprint: str, alarm: dict, record: CaseRecord | None) -> bool:
        """Whether the alarm's condition held long enough for its case (always when the case is open); counts its streak."""
        if record is not None and record.status == "open":
            return True
        runs, minutes = sustain_of(alarm)
        condition = self.conditions.get(fingerprint)
        if runs <= 1 and minutes <= 0 and (condition is None or condition.streak <= 0):
            return True
        if condition is None:
            condition = self._new_condition(fingerprint, alarm["host"], alarm["rule"], alarm.get("subject"))
        if condition.streak <= 0 or condition.streak_since is None:
            condition.streak, condition.streak_since = 1, self.now
        else:
            # A controller clock set back restarts the duration from now; the runs still count.
            condition.streak, condition.streak_since = condition.streak + 1, min(condition.streak_since, self.now)
        self.store.save_condition(condition, self.now)
        return condition.streak >= runs and self.now - condition.streak_since >= timedelta(minutes=minutes)

    def cleared(self, record: CaseRecord, note: str) -> None:
        """The case's rule was measured and its condition no longer holds: resolve the case, unless it is flapping."""
        condition = self.conditions.get(record.fingerprint)
        if condition is None:  # a case filed before conditions were remembered
            condition = self._new_condition(record.fingerprint, record.host, record.rule, record.subject, firing=True)
        started = self._change(condition, False) if condition.firing else ""
        if condition.flapping_since is not None:
            count = len(self._recent(condition))
            if started or count > self.policy.flap_changes:
                self.flapping.add(record.fingerprint)
                with self.store.transaction("plan case %s" % record.fingerprint):
                    self.store.save_condition(condition, self.now)
                    if started:
                        _enqueue(self.store, record, "comment", {"note": started}, self.now, ":flapping:%s" % _stamp(self.now))
                return
            note = ("%s It stopped flapping (flapping since %s): its condition changed state %d times in the last %s."
                    % (note, condition.flapping_since.strftime("%Y-%m-%d %H:%M UTC"), count, _age(self.policy.flap_window)))
            condition.flapping_since = None
        self.resolve(record, note, condition)

    def forget_streaks(self, firing: dict, checked_hosts: set, gaps: list) -> None:
        """A pending streak ends when a run measured its condition good (not when the run could not measure it)."""
        for condition in self.conditions.values():
            if condition.streak <= 0 or condition.fingerprint in firing or condition.host not in checked_hosts:
                continue
            if any(gap.covers(condition) for gap in gaps):
                continue
            condition.streak, condition.streak_since = 0, None
            self.store.save_condition(condition, self.now)

    def hold(self, record: CaseRecord, gap: Gap) -> None:
        """No data for the case's rule: keep it as it is; after a while, say so in the case, once."""
        store, now = self.store, self.now
        self.report.held += 1
        if gap.quiet:
            return
        since = record.no_data_since or now
        note_due = not record.no_data_noted and now - since >= self.policy.no_data_note_after
        if record.no_data_since is not None and not note_due:
            return
        with store.transaction("plan case %s" % record.fingerprint):
            record.no_data_since = since
            if note_due:
                record.no_data_noted = True
                text = ("No measurement for this alarm since %s: %s. The case stays as it is until a check measures "
                        "a good value." % (since.strftime("%Y-%m-%d %H:%M UTC"), _text(gap.reason, 300)))
                _enqueue(store, record, "comment", {"note": text}, now, ":nodata:%s" % _stamp(since))
            store.save_case(record)

    def replan_unfiled(self, firing: dict) -> None:
        """An open case with no reference and no action to file it is planned again (nothing is forgotten)."""
        for record in self.store.cases(status="open"):
            if record.case_ref:
                continue
            opened = self.store.outbox_item("%s:open" % case_key(record))
            if opened is not None and opened.status == "queued":
                continue
            with self.store.transaction("plan case %s" % record.fingerprint):
                if opened is not None and opened.status == "sent" and (opened.result or {}).get("ref"):
                    record.case_ref = str(opened.result["ref"])
                    self.store.save_case(record)
                    continue
                alarm = firing.get(record.fingerprint)
                content = case_content(alarm) if alarm is not None else {
                    "title": record.title, "priority": record.priority, "due": None,
                    "body": "%s\n\nThis case was planned again: its first filing was lost." % (record.title or "")}
                if opened is not None:  # dropped by a person: a new generation, not the dropped key
                    self.store.delete_case(record.fingerprint)
                    record = dataclasses.replace(record, generation=record.generation + 1,
                                                 case_key=generation_key(record.fingerprint, record.generation + 1))
                    self.store.save_case(record)
                _enqueue(self.store, record, "open", content, self.now)
                if alarm is not None:
                    _notify_open(self.store, record, bool(alarm.get("page")), content,
                                 _text(alarm.get("summary") or alarm["rule"]), self.notifications, self.now, ":replanned",
                                 alarm)
                self.report.notes.append("case %s (%s) had no reference in %s and nothing queued to file it: planned again"
                                         % (record.fingerprint, record.title, record.backend))


def sustain_of(alarm: dict) -> tuple:
    """(runs, minutes) an alarm's condition must hold before its case opens: its ``sustain``, else (1, 0)."""
    value = alarm.get("sustain")
    runs, minutes = 1, 0.0
    if isinstance(value, dict):
        found = value.get("runs")
        if isinstance(found, int) and not isinstance(found, bool) and found > 1:
            runs = found
        found = value.get("minutes")
        if isinstance(found, (int, float)) and not isinstance(found, bool) and math.isfinite(found) and found > 0:
            minutes = float(found)
    return runs, minutes


def sustain_progress(store, alarm: dict, now: datetime) -> dict | None:
    """How far the firing alarm of a sustained rule is from its case, counted as the case manager
    counts it in this run (this run included): None when its case is open or opens now, else
    ``{"runs": seen, "for_runs": N, "minutes": held so far, "for_minutes": M}``. Reads the store, changes nothing."""
    runs, minutes = sustain_of(alarm)
    if runs <= 1 and minutes <= 0 or not alarm.get("fingerprint"):
        return None
    record = store.get_case(alarm["fingerprint"])
    if record is not None and record.status == "open":
        return None
    condition = store.get_condition(alarm["fingerprint"])
    seen, since = 1, now
    if condition is not None and condition.streak > 0 and condition.streak_since is not None:
        seen, since = condition.streak + 1, min(condition.streak_since, now)
    held = (now - since).total_seconds() / 60.0
    if seen >= runs and held >= minutes:
        return None
    return {"runs": seen, "for_runs": runs, "minutes": round(held, 1), "for_minutes": minutes}


def _customer_of(alarms: list, host: str) -> str:
    return next((a["customer"] for a in alarms if a["host"] == host), "")


def now_past(record: CaseRecord, now: datetime, window: timedelta) -> bool:
    return record.resolved_at is not None and now - record.resolved_at > window


def plan_run(store, alarms: list, checked_hosts: set, backend: str, now: datetime, report: RunReport | None = None,
             notifications: Notifications | None = None, *, gaps: list | None = None, evaluated_hosts: set | None = None,
             policy: Policy | None = None, customers: dict | None = None, host: str | None = None,
             planned_hosts: set | None = None) -> RunReport:
    """Reconcile this run's alarms with the case map; queue every action in the outbox.

    ``alarms`` are the dictionaries of ``imagicle.proactive.evaluate`` of the hosts evaluated in
    this run; ``checked_hosts`` are the eligible hosts that reported their facts in this run: only
    their cases may be resolved, and only those whose rule was measured (``gaps``: the
    :class:`Gap` of each rule that was not, and of each host that did not report).
    ``evaluated_hosts`` (default ``checked_hosts``) are the eligible hosts evaluated in this run,
    reporting or not. The alarms of a host that is not eligible are ignored and its cases are
    left alone: nothing about it leaves the controller. ``customers`` (host -> customer of each
    evaluated host) lets the alarms of a customer whose hosts all lost the cloud make one case;
    without it they are filed host by host (see ``root_cause.py`` for the causes that fold alarms).

    A run plans in steps: ``host`` plans that one host as soon as it is evaluated (its alarms,
    gaps and cases only; see :meth:`RunInput.stands_alone`), and the last step, with
    ``planned_hosts`` (the hosts planned so far), the rest with the whole run in view: the
    planned hosts count for the causes that join hosts (which of a customer's hosts reported and
    measured the cloud) but their alarms, cases and streaks are not touched again. The caps on new
    cases count over all the steps of a run (``report.new_cases``).
    """
    report = report or RunReport()
    notifications = notifications or Notifications()
    policy = policy or Policy()
    gaps = list(gaps or [])
    evaluated = set(evaluated_hosts) if evaluated_hosts is not None else set(checked_hosts)
    # One case per root cause: the alarms a cause explains are folded into the cause's case.
    from ansible_collections.imagicle.proactive.plugins.plugin_utils import root_cause
    causes = root_cause.fold(store, alarms, gaps, checked_hosts, evaluated, now, customers=customers,
                             contacts=notifications.contacts, host=host)
    alarms, gaps, checked_hosts, evaluated = causes.alarms, causes.gaps, causes.checked_hosts, causes.evaluated_hosts
    if planned_hosts:
        gaps = [gap for gap in gaps if gap.host not in planned_hosts]
        checked_hosts, evaluated = set(checked_hosts) - planned_hosts, set(evaluated) - planned_hosts
    notifications = dataclasses.replace(notifications, contacts=causes.contacts)
    report.suppressed += causes.suppressed
    planner = _Planner(store, backend, now, report, notifications, policy)
    planner.opened_in_run = report.new_cases
    firing = {}
    # The most urgent first: the outbox sends oldest first, so a P1 is not queued behind P4s of
    # hosts that happened to answer earlier (and case numbers follow priority, then host); the
    # caps keep the most urgent cases too.
    ordered = sorted((a for a in alarms if isinstance(a, dict) and a.get("eligible") and a.get("fingerprint")),
                     key=lambda a: (PRIORITY_ORDER.get(a.get("priority"), 9), str(a.get("host")), str(a.get("fingerprint"))))
    for alarm in ordered:
        firing.setdefault(alarm["fingerprint"], alarm)
    in_force = store.silences(active_at=now) if firing else []
    planner.conditions = {condition.fingerprint: condition for condition in store.conditions(host=host)}

    planned = []
    for fingerprint, alarm in firing.items():
        record = store.get_case(fingerprint)
        due = planner.sustained(fingerprint, alarm, record)  # its streak counts in a maintenance window too
        if silences.matching(in_force, alarm, now) is not None:
            # A maintenance window: nothing opens, reopens, changes, pages or mails; an open case stays open.
            report.silenced += 1
            continue
        if not due:
            report.pending += 1  # a sustained rule whose condition has not held long enough yet
            continue
        planned.append((fingerprint, alarm, record))
    planner.set_rooms([alarm for dummy, alarm, record in planned if any(planner.needs_case(record))])
    for fingerprint, alarm, record in planned:
        planner.alarm(fingerprint, alarm, record, case_content(alarm), _text(alarm.get("summary") or alarm["rule"]),
                      bool(alarm.get("page")))
    root_cause.tell(store, causes, now)

    flooded_hosts = set()
    for host, past in planner.overflow.items():
        flooded_hosts.add(host)
        planner.flood(past[0]["customer"], host, past, "more than %d new cases on this host in one run"
                      % policy.max_new_per_host)
    if planner.run_overflow:
        planner.flood(RUN_FLOOD_CUSTOMER, RUN_FLOOD_HOST, planner.run_overflow, "more than %d new cases in one run"
                      % policy.max_new_per_run)

    if host is None:
        planner.replan_unfiled(firing)

    for record in store.cases(status="open", host=host):
        if record.fingerprint in firing:
            continue
        if record.rule == FLOOD_RULE:
            if record.host == RUN_FLOOD_HOST:
                done = bool(evaluated) and not planner.run_overflow
            else:
                done = record.host in checked_hosts and record.host not in flooded_hosts
            if done:
                planner.resolve(record, "Every alarm of the flood is filed one by one again (or cleared); checked %s."
                                % now.strftime("%Y-%m-%d %H:%M UTC"))
            continue
        if record.host not in evaluated:
            continue  # not looked at in this run (another slice of the inventory)
        gap = next((g for g in gaps if g.covers(record)), None)
        if gap is None and record.host not in checked_hosts:
            gap = Gap(record.host, None, None, "the host did not report")
        if gap is not None:
            planner.hold(record, gap)
            continue
        planner.cleared(record, "The condition no longer holds on %s (checked %s)."
                        % (_text(record.host, 80), now.strftime("%Y-%m-%d %H:%M UTC")))
    planner.forget_streaks(firing, checked_hosts, gaps)
    report.new_cases = planner.opened_in_run
    if planner.conditions and host is None:
        # What is clear, not flapping and unchanged for the flap window (at least a day) is forgotten.
        store.prune_conditions(now - max(policy.flap_window, timedelta(days=1)))
    report.flapping += len(planner.flapping)
    return report


# --- sending -------------------------------------------------------------------------------------


class Waiting(BackendError):
    """The action depends on one not sent yet (the case is not opened in its backend yet)."""

    def __init__(self, message: str):
        super().__init__(message, retryable=True)


def _with_case(page: dict, ref: str | None, url: str | None) -> dict:
    """The page with the reference and link of its case, when the case is filed by now (the case
    is queued before its page, so it usually is; a page never waits for the ticketing system)."""
    if not ref:
        return page
    return dict(page, case_ref=ref, case_url=url)


def _filed(store, record: CaseRecord | None, key: str) -> tuple:
    """(ref, url) of the case with idempotency key ``key`` as this store knows it, else (None, None)."""
    opened = store.outbox_item("%s:open" % key)
    url = (opened.result or {}).get("url") if opened is not None and opened.status == "sent" else None
    if record is not None and case_key(record) == key and record.case_ref:
        return record.case_ref, url
    if opened is not None and opened.status == "sent" and (opened.result or {}).get("ref"):
        return str(opened.result["ref"]), url
    return None, None


def _rekey(store, record: CaseRecord, new_key: str) -> None:
    """Give the case the next generation's key, with its queued actions (an older case of the fingerprint owns the old one)."""
    old = case_key(record)
    for item in store.outbox("queued"):
        if item.fingerprint == record.fingerprint and (item.payload or {}).get("case_key") == old:
            store.set_payload(item.key, dict(item.payload, case_key=new_key))
    record.case_key = new_key


def _send(item: OutboxItem, backend, store, ctx: ActionContext):
    """Send one outbox item through its backend; returns (what to keep as its result, the case record to save or None)."""
    payload = item.payload
    record = store.get_case(item.fingerprint)
    key = payload["case_key"]
    current = record is not None and case_key(record) == key
    if item.kind == "open":
        ref = backend.create(ctx, payload)
        # A resolved case under this key belongs to an earlier case of the fingerprint (a restored
        # store forgot it): this case is the next generation, never that old one reopened by mistake.
        for dummy in range(MAX_GENERATION_STEPS):
            if not (current and ref.status == "resolved" and getattr(backend, "readable", True) and record.status == "open"):
                break
            record.generation += 1
            _rekey(store, record, generation_key(record.fingerprint, record.generation))
            store.save_case(record)
            ctx = dataclasses.replace(ctx, case_key=case_key(record))
            ref = backend.create(ctx, dict(payload, case_key=ctx.case_key))
        if current:
            record.case_ref = ref.ref
        return {"ref": ref.ref, "url": ref.url, "warning": ref.warning, "case_key": ctx.case_key}, record if current else None
    if item.kind == "page":
        ref, url = _filed(store, record, key)
        reference = backend.trigger(ctx, item.fingerprint, _with_case(payload["page"], ref, url))
        if record is not None:
            record.paged, record.page_ref = True, reference
        return {"ref": reference}, record
    if item.kind == "unpage":
        ref, url = _filed(store, record, key)
        backend.clear(ctx, item.fingerprint, _with_case(payload["page"], ref, url))
        return {"ref": item.fingerprint}, None
    ref, dummy = _filed(store, record, key)
    if ref is None and getattr(backend, "readable", False) and item.kind != "mail":
        found = backend.find(ctx)
        ref = found.ref if found is not None else None
    if ref is None:
        raise Waiting("the %s of case %s waits until the case is filed in %s" % (item.kind, key, record.backend if record else "?"))
    if item.kind == "mail":
        message = {"event": payload["event"], "to": payload["to"], "language": payload["language"],
                   "case": dict(payload["case"], case_ref=ref), "thread_key": payload.get("thread_key")}
        backend.deliver(ctx, message)
        return {"to": len(payload["to"])}, None
    if item.kind == "update":
        backend.update_priority(ctx, ref, payload["priority"], payload["note"])
    elif item.kind == "resolve":
        backend.resolve(ctx, ref, payload["note"])
    elif item.kind == "reopen":
        backend.reopen(ctx, ref, payload["note"])
    elif item.kind == "comment":
        backend.comment(ctx, ref, payload["note"])
    else:
        raise BackendError("unknown outbox action %r" % item.kind, retryable=False)
    return {"ref": ref}, None


COUNTERS = {"open": "opened", "update": "updated", "resolve": "resolved", "reopen": "reopened", "comment": "noted",
            "page": "paged", "unpage": "unpaged", "mail": "mailed"}


class _Keeper:
    """Keeps the run lock alive while the run sends; says when it was lost."""

    def __init__(self, lock, clock, every: float):
        self.lock = lock
        self.clock = clock
        self.every = every
        self.last = clock()

    def still_held(self) -> bool:
        if self.lock is None or self.clock() - self.last < self.every:
            return True
        try:
            self.lock.refresh()
        except StoreLocked:
            return False
        self.last = self.clock()
        return True


def drain(store, backends: dict, now: datetime, report: RunReport | None = None, attempts_in_run: int = 3,
          backoff_seconds: float = 0.5, sleep=time.sleep, *, policy: Policy | None = None, lock=None,
          send_seconds: float | None = None, clock=time.monotonic, down: set | None = None) -> RunReport:
    """Send the queued outbox items that are due, oldest first; bounded retries with backoff in this run.

    A backend that still fails after its retries (or refuses the credentials) is not tried again
    in this run: its items stay queued and go first at the next run. An item that fails waits
    ``policy.backoff`` before its next attempt. With ``lock`` (the held run lock) the lock is kept
    alive, and sending stops when it is lost; with ``send_seconds`` sending stops after that long.
    Every call gets a deadline within the run's. ``down`` (the backends that failed) carries over
    between the calls of one run that sends in steps.
    """
    report = report or RunReport()
    policy = policy or Policy()
    started = clock()
    deadline = started + send_seconds if send_seconds is not None else None
    keeper = _Keeper(lock, clock, every=min(30.0, max(1.0, getattr(lock, "ttl_seconds", 900) / 4.0)))
    down = set() if down is None else down
    for item in store.pending(now, limit=100000):
        if deadline is not None and clock() >= deadline:
            report.stopped = ("the run's send deadline (%.0f s) passed; the rest of the outbox waits for the next run"
                              % send_seconds)
            break
        if not keeper.still_held():
            report.stopped = ("the run lock was taken over by another run; this run stopped sending and leaves the rest "
                              "of the outbox to it")
            break
        backend = backends.get(item.backend)
        if backend is None:
            store.mark_retry(item.key, "no backend %r is configured for this action: configure it (or drop the item)"
                             % item.backend, now + policy.backoff(item.attempts + 1), refused=True)
            report.refused += 1
            report.problems.append("%s: no backend %s is configured" % (item.key, item.backend))
            continue
        if item.backend in down:
            continue
        ctx = ActionContext(case_key=item.payload.get("case_key", ""), action_id=item.key, deadline=deadline)
        _deliver(store, item, backend, ctx, now, report, down, policy, attempts_in_run, backoff_seconds, sleep, clock,
                 deadline)
    _count_undelivered(store, report)
    return report


def _deliver(store, item, backend, ctx, now, report, down, policy, attempts_in_run, backoff_seconds, sleep, clock, deadline):
    for attempt in range(max(1, attempts_in_run)):
        try:
            result, record = _send(item, backend, store, ctx)
        except Waiting as exc:
            store.mark_retry(item.key, str(exc), now, count_attempt=False)
        except BackendError as exc:
            pause = backoff_seconds * (2 ** attempt)
            room = deadline is None or clock() + pause < deadline
            if exc.retryable and not exc.backend_wide and attempt + 1 < attempts_in_run and room:
                sleep(pause)
                continue
            store.mark_retry(item.key, str(exc), now + policy.backoff(item.attempts + 1), refused=not exc.retryable)
            if not exc.retryable:
                report.refused += 1
                report.problems.append("%s refused by %s (stays queued, retried with backoff; fix it, then requeue it or "
                                       "wait): %s" % (item.kind, item.backend, exc))
            if exc.retryable or exc.backend_wide:
                down.add(item.backend)
                if exc.retryable:
                    report.problems.append("%s is failing, the rest of its actions wait for the next run: %s" % (item.backend, exc))
        else:
            with store.transaction("record the delivery of %s" % item.key):
                if record is not None:
                    store.save_case(record)
                store.mark_sent(item.key, result, now)
            if result.get("warning"):
                report.problems.append("%s %s: %s" % (item.backend, result.get("ref"), result["warning"]))
            counter = COUNTERS.get(item.kind)
            if counter:
                setattr(report, counter, getattr(report, counter) + 1)
        break


def _count_undelivered(store, report: RunReport) -> None:
    waiting = store.outbox("queued")
    report.undelivered = len(waiting)
    report.oldest_undelivered = min((item.created_at for item in waiting if item.created_at), default=None)


def undelivered_lines(store, now: datetime, limit: int = 10) -> list:
    """The actions still waiting in the outbox, oldest first, one line each (at most ``limit``, then a count)."""
    waiting = store.outbox("queued")
    lines = []
    for item in waiting[:limit]:
        age = now - item.created_at if item.created_at else timedelta(0)
        lines.append("%s %s to %s, waiting %s, %d failed attempt(s)%s%s" % (
            item.kind, item.key, item.backend, _age(age), item.attempts, ", REFUSED" if item.refused else "",
            (": %s" % clean_text(item.last_error, 300)) if item.last_error else ""))
    if len(waiting) > limit:
        lines.append("... and %d more (playbook cases lists them all)" % (len(waiting) - limit))
    return lines


def _age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return "%d s" % seconds
    if seconds < 7200:
        return "%d min" % (seconds // 60)
    if seconds < 172800:
        return "%.1f h" % (seconds / 3600.0)
    return "%.1f days" % (seconds / 86400.0)
