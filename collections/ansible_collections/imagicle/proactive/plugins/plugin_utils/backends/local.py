# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``local`` backend: the embedded case register in the state store (no external service).

A :class:`~.base.CaseBackend` like the others: the idempotency key of a case is the register's
unique key, so creating twice gives one case, and each comment is kept under the id of the
action that wrote it, so a retried action does not add its note twice.
"""

from __future__ import annotations

from datetime import datetime, timezone

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import ActionContext, BackendError, CaseBackend, CaseRef
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import StoreError

NAME = "local"


class LocalBackend(CaseBackend):
    """Cases kept in the state store's local register."""

    name = NAME

    def __init__(self, store, clock=None):
        self.store = store
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    def find(self, ctx: ActionContext) -> CaseRef | None:
        ref = self.store.local_find(ctx.case_key)
        if ref is None:
            return None
        status = self.store.local_get(ref)["status"]
        return CaseRef(backend=NAME, ref=ref, url=None, status="resolved" if status == "resolved" else "open")

    def create(self, ctx: ActionContext, case: dict) -> CaseRef:
        fields = {name: case.get(name) for name in ("title", "priority", "due", "body")}
        ref = self.store.local_create(ctx.case_key, fields, self.clock())
        # an existing case of this key is returned as it is (resolved, when an earlier case of the fingerprint had it)
        status = self.store.local_get(ref)["status"]
        return CaseRef(backend=NAME, ref=ref, url=None, status="resolved" if status == "resolved" else "open")

    def _update(self, ctx: ActionContext, ref: str, **changes) -> None:
        try:
            self.store.local_update(ref, now=self.clock(), marker=ctx.action_id, **changes)
        except StoreError as exc:
            raise BackendError(str(exc), retryable=False) from None

    def update_priority(self, ctx: ActionContext, ref: str, priority: str, note: str | None) -> None:
        self._update(ctx, ref, priority=priority, comment=note)

    def resolve(self, ctx: ActionContext, ref: str, note: str | None) -> None:
        self._update(ctx, ref, status="resolved", comment=note)

    def reopen(self, ctx: ActionContext, ref: str, note: str | None) -> None:
        self._update(ctx, ref, status="open", comment=note)

    def comment(self, ctx: ActionContext, ref: str, text: str) -> None:
        self._update(ctx, ref, comment=text)

    def get(self, ref: str) -> dict:
        return self.store.local_get(ref)
