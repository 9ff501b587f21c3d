# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The records of the state store (a case, an outbox action, a silence) and the checks of their
fields; used by :mod:`store` (plugin_utils.store), which reads and writes them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

CASE_STATUSES = ("open", "resolved")
OUTBOX_KINDS = ("open", "update", "resolve", "reopen", "comment", "page", "unpage", "mail")
# queued: not delivered yet (waiting for its next attempt, with the reason of the last failure);
# sent: the backend accepted it; dropped: a person decided it is not to be delivered.
OUTBOX_STATUSES = ("queued", "sent", "dropped")


# --- records -------------------------------------------------------------------------------------

def _utc(value: datetime | None, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ValueError("%s must be a datetime, not %r" % (field, type(value).__name__))
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("%s must be a timezone-aware datetime (got naive %s)" % (field, value.isoformat()))
    return value.astimezone(timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _check_choice(value: str, allowed: Sequence[str], field: str) -> None:
    if value not in allowed:
        raise ValueError("%s must be one of %s, not %r" % (field, ", ".join(allowed), value))


class _Record:
    """A stored record as JSON-friendly data."""

    def to_dict(self) -> dict[str, Any]:
        """A copy with its times as ISO 8601 UTC strings."""
        return {name: _iso(value) if isinstance(value, datetime) else value
                for name, value in dataclasses.asdict(self).items()}


@dataclasses.dataclass
class CaseRecord(_Record):
    """One alarm fingerprint and the support case that tracks it."""

    fingerprint: str
    customer: str | None
    host: str | None
    rule: str | None
    subject: str | None
    priority: str | None
    status: str
    backend: str | None
    case_ref: str | None
    title: str | None
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    reopen_count: int = 0
    paged: bool = False
    page_ref: str | None = None
    # The idempotency key written into the backend (None: a case of an older collection, whose key
    # was its fingerprint and opening time) and which case of this fingerprint it is (1, 2, ...).
    case_key: str | None = None
    generation: int = 1
    # Since when the rule could not be measured on the host (the case is kept as it is), and
    # whether the case already says so.
    no_data_since: datetime | None = None
    no_data_noted: bool = False

    def __post_init__(self) -> None:
        if not self.fingerprint:
            raise ValueError("a case record needs a fingerprint")
        _check_choice(self.status, CASE_STATUSES, "case status")
        self.opened_at = _utc(self.opened_at, "opened_at")
        self.updated_at = _utc(self.updated_at, "updated_at")
        self.resolved_at = _utc(self.resolved_at, "resolved_at")
        self.no_data_since = _utc(self.no_data_since, "no_data_since")
        self.reopen_count = int(self.reopen_count)
        self.generation = int(self.generation)
        self.paged = bool(self.paged)
        self.no_data_noted = bool(self.no_data_noted)


@dataclasses.dataclass
class ConditionRecord(_Record):
    """What the case manager remembers of one alarm condition between runs: whether its case
    follows it as firing, the streak of runs it fired before its case may open (a sustained
    rule), and its recent changes of state (firing <-> clear), from which it is flapping."""

    fingerprint: str
    host: str | None = None
    rule: str | None = None
    subject: str | None = None
    # The state the case follows: True from the run its case opened (or reopened) until a run
    # measured it clear.
    firing: bool = False
    # Runs in a row that it fired while not firing yet (0: none), and since when.
    streak: int = 0
    streak_since: datetime | None = None
    # Times of its recent changes of state, oldest first.
    changes: list[datetime] = dataclasses.field(default_factory=list)
    flapping_since: datetime | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.fingerprint:
            raise ValueError("a condition record needs a fingerprint")
        self.firing = bool(self.firing)
        self.streak = int(self.streak)
        self.streak_since = _utc(self.streak_since, "streak_since")
        self.flapping_since = _utc(self.flapping_since, "flapping_since")
        self.updated_at = _utc(self.updated_at, "updated_at")
        self.changes = sorted(_utc(moment, "changes") for moment in self.changes or [])


@dataclasses.dataclass
class OutboxItem(_Record):
    """One outbound action, stored before it is sent; ``key`` is its idempotency key."""

    key: str
    kind: str
    backend: str
    fingerprint: str | None
    payload: dict[str, Any]
    status: str = "queued"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None
    result: dict[str, Any] | None = None
    # The last answer was a refusal that a person must act on (credentials, rights, a rejected
    # payload); the item is still retried, with backoff, and reported loudly.
    refused: bool = False
    dropped_at: datetime | None = None
    drop_reason: str | None = None

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("an outbox item needs an idempotency key")
        _check_choice(self.kind, OUTBOX_KINDS, "outbox kind")
        _check_choice(self.status, OUTBOX_STATUSES, "outbox status")
        self.next_attempt_at = _utc(self.next_attempt_at, "next_attempt_at")
        self.created_at = _utc(self.created_at, "created_at")
        self.sent_at = _utc(self.sent_at, "sent_at")
        self.dropped_at = _utc(self.dropped_at, "dropped_at")
        self.attempts = int(self.attempts)
        self.refused = bool(self.refused)


@dataclasses.dataclass
class Silence(_Record):
    """A maintenance window: alarms that match it open, update, page and mail nothing until it ends.

    ``customer``, ``host`` and ``rule`` narrow what it matches; one left empty (None) matches any.
    """

    id: int | None
    customer: str | None
    host: str | None
    rule: str | None
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str | None = None
    created_at: datetime | None = None
    lifted_at: datetime | None = None

    def __post_init__(self) -> None:
        self.starts_at = _utc(self.starts_at, "starts_at")
        self.ends_at = _utc(self.ends_at, "ends_at")
        self.created_at = _utc(self.created_at, "created_at")
        self.lifted_at = _utc(self.lifted_at, "lifted_at")
        if not (self.customer or self.host or self.rule):
            raise ValueError("a silence needs a customer, a host or a rule (a silence of everything is refused)")
        if self.ends_at <= self.starts_at:
            raise ValueError("a silence must end after it starts (%s is not after %s)" % (_iso(self.ends_at), _iso(self.starts_at)))
        if not str(self.reason or "").strip():
            raise ValueError("a silence needs a reason (the change or maintenance it is for)")

    def active(self, now: datetime) -> bool:
        """In force at ``now``: started, not ended, not lifted."""
        return self.lifted_at is None and self.starts_at <= now < self.ends_at

    def matches(self, alarm: Mapping[str, Any], now: datetime) -> bool:
        """In force at ``now`` and matching the alarm's customer, host and rule."""
        return self.active(now) and all(
            wanted is None or str(alarm.get(name) or "") == wanted
            for name, wanted in (("customer", self.customer), ("host", self.host), ("rule", self.rule)))
