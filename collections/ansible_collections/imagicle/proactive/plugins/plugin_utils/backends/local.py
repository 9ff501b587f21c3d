# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``local`` backend: the embedded case register in the state store (no external service).

Same interface as the other backends (find, create, update_priority, resolve, reopen, get); the
idempotency key of a case is the register's unique key, so creating twice gives one case.
"""

from __future__ import annotations

from datetime import datetime, timezone

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import BackendError, CaseRef
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import StoreError

NAME = "local"


class LocalBackend:
    """Cases kept in the state store's local register."""

    name = NAME

    def __init__(self, store, clock=None):
        self.store = store
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    def find(self, key: str) -> CaseRef | None:
        ref = self.store.local_find(key)
        return CaseRef(backend=NAME, ref=ref, url=None) if ref is not None else None

    def create(self, key: str, case: dict) -> CaseRef:
        fields = {name: case.get(name) for name in ("title", "priority", "due", "body")}
        ref = self.store.local_create(key, fields, self.clock())
        return CaseRef(backend=NAME, ref=ref, url=None)

    def _update(self, ref: str, **changes) -> None:
        try:
            self.store.local_update(ref, now=self.clock(), **changes)
        except StoreError as exc:
            raise BackendError(str(exc), retryable=False) from None

    def update_priority(self, ref: str, priority: str, comment: str) -> None:
        self._update(ref, priority=priority, comment=comment)

    def resolve(self, ref: str, note: str) -> None:
        self._update(ref, status="resolved", comment=note)

    def reopen(self, ref: str, note: str) -> None:
        self._update(ref, status="open", comment=note)

    def get(self, ref: str) -> dict:
        return self.store.local_get(ref)
