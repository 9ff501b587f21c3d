# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every case backend (Request Tracker, ServiceNow, webhook, local register) shares.

``BackendError`` tells the outbox whether to try again: ``retryable`` is True for what may work
later (timeouts, refused connections, HTTP 408/425/429 and 5xx) and False for an answer the
backend will never accept (other 4xx: bad credentials, missing rights, unknown queue, invalid
data), which the outbox parks instead of retrying. Messages name the URL (never a secret) and
the backend's own explanation.
"""

from __future__ import annotations

from dataclasses import dataclass

RETRYABLE_STATUSES = frozenset((408, 425, 429))


class BackendError(Exception):
    """A backend call failed; ``retryable`` says whether the same call may succeed later."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status

    def __repr__(self) -> str:
        return f"BackendError({self.message!r}, retryable={self.retryable}, status={self.status})"


def status_is_retryable(status: int) -> bool:
    """True for HTTP statuses worth retrying later (408, 425, 429, 5xx); False for other 4xx."""
    return status in RETRYABLE_STATUSES or status >= 500


@dataclass(frozen=True)
class CaseRef:
    """Where a case lives: the backend's name, its id there and, if any, a link for humans.

    ``warning`` is set when the case exists but something was not stored as asked (for example
    Request Tracker silently dropping the idempotency custom field).
    """

    backend: str
    ref: str
    url: str | None = None
    warning: str | None = None
