# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a person may do with the undelivered actions of the outbox: requeue them or drop them.

Used by the ``outbox`` module (the playbook ``imagicle.proactive.outbox``). Nothing here sends anything:

* :func:`requeue` makes the chosen actions due at the next run, whatever their backoff (after
  fixing a token, a queue name or a mail server); a dropped action can be taken back the same way.
* :func:`drop` decides, with a reason, that the chosen actions are not to be delivered. Dropping
  the ``open`` of a case forgets the case and drops what else waits for it: if its alarm still
  fires, the next run opens a new case (silence the alarm first if that is not wanted).
"""

from __future__ import annotations

from datetime import datetime

from ansible_collections.imagicle.proactive.plugins.plugin_utils.cases import case_key


class OutboxError(ValueError):
    """A bad request; the message names the option and what to give."""


def _chosen(store, keys, statuses: tuple) -> list:
    """The outbox items named by ``keys`` (a list of keys, or ``all``) among those with ``statuses``."""
    if isinstance(keys, str):
        keys = [keys]
    wanted = [str(key).strip() for key in keys or [] if str(key).strip()]
    if not wanted:
        raise OutboxError("give the keys of the actions (as listed by playbook cases.yml), or all")
    items = [item for item in store.outbox() if item.status in statuses]
    if wanted == ["all"]:
        return items
    by_key = {item.key: item for item in store.outbox()}
    unknown = [key for key in wanted if key not in by_key]
    if unknown:
        raise OutboxError("no outbox action %s in %s: give keys as listed by playbook cases.yml" % (", ".join(unknown), store.display))
    wrong = [key for key in wanted if by_key[key].status not in statuses]
    if wrong:
        raise OutboxError("outbox action(s) %s are %s: only %s actions can be taken here"
                          % (", ".join(wrong), "/".join(sorted({by_key[key].status for key in wrong})), " or ".join(statuses)))
    return [by_key[key] for key in wanted]


def requeue(store, keys, now: datetime, check_mode: bool = False) -> dict:
    """Make the undelivered (or dropped) actions ``keys`` due at the next run."""
    items = _chosen(store, keys, ("queued", "dropped"))
    for item in items:
        record = store.get_case(item.fingerprint) if item.fingerprint else None
        if item.status == "dropped" and (record is None or case_key(record) != item.payload.get("case_key")):
            raise OutboxError("outbox action %s belongs to a case that was forgotten when its open was dropped: it cannot be "
                              "requeued (if its alarm still fires, the next run opens a new case)" % item.key)
    if not check_mode:
        with store.transaction("requeue outbox actions"):
            for item in items:
                store.requeue(item.key, now)
    return {"changed": bool(items), "keys": [item.key for item in items],
            "msg": "%d action(s) requeued for the next run" % len(items) if items else "nothing to requeue"}


def drop(store, keys, reason, now: datetime, check_mode: bool = False) -> dict:
    """Drop the undelivered actions ``keys`` with ``reason``; dropping an ``open`` forgets its case."""
    if not str(reason or "").strip():
        raise OutboxError("reason is required to drop actions (what was decided, e.g. 'ticket filed by hand as RT#123')")
    items = _chosen(store, keys, ("queued",))
    dropped = {item.key: item for item in items}
    forgotten = []
    for item in items:
        if item.kind != "open":
            continue
        record = store.get_case(item.fingerprint)
        if record is not None and case_key(record) == item.payload.get("case_key"):
            forgotten.append(record.fingerprint)
        for other in store.outbox("queued"):
            if other.fingerprint == item.fingerprint and (other.payload or {}).get("case_key") == item.payload.get("case_key"):
                dropped.setdefault(other.key, other)
    if not check_mode:
        with store.transaction("drop outbox actions"):
            for key in dropped:
                store.mark_dropped(key, str(reason).strip(), now)
            for fingerprint in forgotten:
                store.delete_case(fingerprint)
    return {"changed": bool(dropped), "keys": list(dropped), "forgotten_cases": forgotten,
            "msg": "%d action(s) dropped%s" % (len(dropped), ", %d case(s) forgotten" % len(forgotten) if forgotten else "")}
