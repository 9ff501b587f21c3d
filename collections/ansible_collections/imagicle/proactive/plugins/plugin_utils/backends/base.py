# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one interface of every outbound part: case backends, pagers and the customer mailer.

The outbox (``plugin_utils/cases.py``) calls these and nothing else. Every call gets an
:class:`ActionContext`: the idempotency key of the case (written into the backend, so a retry
finds what an earlier attempt filed), the id of this action (its outbox key, stable across
retries, so a retried comment or mail can be recognised) and the deadline by which the call must
have returned (a total, not per read).

Three roles, with their own verbs where the meanings differ:

* :class:`CaseBackend` (local register, Request Tracker, ServiceNow, webhook): ``find``,
  ``create``, ``update_priority``, ``resolve``, ``reopen``, ``comment``. Each is idempotent: a
  retry after a lost answer does not file a second case nor repeat a note.
* :class:`Pager` (Alertmanager, PagerDuty): ``trigger`` and ``clear`` a page. Clearing a page is
  not resolving a case: the case stays what the case backend says.
* :class:`Notifier` (customer mail): ``deliver`` one message.

An answer counts only when it has the shape the peer documents; anything else raises
:class:`BackendError`. ``retryable`` True means "may work later by itself" (timeouts, refused
connections, 408/425/429/5xx, a body cut short); False means "refused: a person must fix
something" (bad credentials, missing rights, a login page or a proxy's HTML page instead of the
API's answer, a payload the peer rejects). The outbox keeps both
kinds and retries them with backoff; the second kind is reported loudly. ``backend_wide`` says
that the whole backend is unusable for now (credentials, a login page, a wrong URL), so the rest
of its actions wait instead of each failing the same way. Messages name the URL (never a
secret), say what came back and what to do.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

RETRYABLE_STATUSES = frozenset((408, 425, 429))


class BackendError(Exception):
    """A call failed; ``retryable``: may work later by itself; ``backend_wide``: every call to this backend would fail now."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None, backend_wide: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status
        self.backend_wide = backend_wide

    def __repr__(self) -> str:
        return f"BackendError({self.message!r}, retryable={self.retryable}, status={self.status}, backend_wide={self.backend_wide})"


def status_is_retryable(status: int) -> bool:
    """True for HTTP statuses worth retrying later (408, 425, 429, 5xx); False for other 4xx."""
    return status in RETRYABLE_STATUSES or status >= 500


@dataclass(frozen=True)
class ActionContext:
    """What one outbound call is for.

    ``case_key``: the idempotency key of the case, written into the backend (RT custom field and
    subject tag, ServiceNow correlation_id, webhook key, the local register's key).
    ``action_id``: the outbox key of this action, the same on every retry (webhook
    Idempotency-Key, mail Message-ID, the marker of a comment).
    ``deadline``: ``time.monotonic()`` by which the call must have returned, or None.
    """

    case_key: str
    action_id: str
    deadline: float | None = None


@dataclass(frozen=True)
class CaseRef:
    """Where a case lives: the backend's name, its id there and, if any, a link for humans.

    ``status`` is ``"open"`` or ``"resolved"`` when the backend said (``find``), else None.
    ``warning`` is set when the case exists but something was not stored as asked (for example
    Request Tracker silently dropping the idempotency custom field).
    """

    backend: str
    ref: str
    url: str | None = None
    warning: str | None = None
    status: str | None = None


class CaseBackend(abc.ABC):
    """Where support cases are kept. ``readable`` is False when ``find`` cannot ask the backend (a webhook)."""

    name: str = ""
    readable: bool = True

    @abc.abstractmethod
    def find(self, ctx: ActionContext) -> CaseRef | None:
        """The case carrying ``ctx.case_key`` (any status, with ``status`` set), or None."""

    @abc.abstractmethod
    def create(self, ctx: ActionContext, case: dict[str, Any]) -> CaseRef:
        """Open a case for ``ctx.case_key`` unless one exists (then return it). ``case``: title, priority, due, body."""

    @abc.abstractmethod
    def update_priority(self, ctx: ActionContext, ref: str, priority: str, note: str | None) -> None:
        """Set the priority (P1..P4) and add ``note``; a retry does not add the note twice."""

    @abc.abstractmethod
    def resolve(self, ctx: ActionContext, ref: str, note: str | None) -> None:
        """Resolve the case with ``note``; nothing is repeated when it is already resolved."""

    @abc.abstractmethod
    def reopen(self, ctx: ActionContext, ref: str, note: str | None) -> None:
        """Reopen the case with ``note``; nothing is repeated when it is already open."""

    @abc.abstractmethod
    def comment(self, ctx: ActionContext, ref: str, text: str) -> None:
        """Add an internal note; a retry does not add it twice."""


class Pager(abc.ABC):
    """The on-call platform: a page per dedup key, triggered and cleared."""

    name: str = ""

    @abc.abstractmethod
    def trigger(self, ctx: ActionContext, dedup_key: str, page: dict[str, Any]) -> str:
        """Raise (or keep raised) the page ``dedup_key``; returns the key. Repeating it is harmless."""

    @abc.abstractmethod
    def clear(self, ctx: ActionContext, dedup_key: str, page: dict[str, Any]) -> None:
        """End the page ``dedup_key`` (the on-call engineer is no longer called). Repeating it is harmless."""


class Notifier(abc.ABC):
    """Messages to the customer."""

    name: str = ""

    @abc.abstractmethod
    def deliver(self, ctx: ActionContext, message: dict[str, Any]) -> None:
        """Send one message: ``{"event", "to", "language", "case", "thread_key"}``; ``ctx.action_id`` makes its Message-ID."""
