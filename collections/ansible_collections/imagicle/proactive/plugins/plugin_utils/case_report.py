# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the state store knows, for people: the cases, one case in full, the silences, the outbox.

Used by the ``case_info`` module (``playbooks/cases.yml``) and ``scripts/cases.py``; it only
reads the store.
"""

from __future__ import annotations

from datetime import datetime

from ansible_collections.imagicle.proactive.plugins.plugin_utils import silences as silence_rules
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import OUTBOX_STATUSES

STATUSES = ("open", "resolved", "all")


class QueryError(ValueError):
    """A bad query; the message names the option and what to give."""


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def find_case(store, wanted: str):
    """The case record for a fingerprint, the start of one, or a backend reference (e.g. LOCAL-3,
    an RT ticket number); None when nothing matches; QueryError when several do."""
    wanted = str(wanted).strip()
    record = store.get_case(wanted)
    if record is not None:
        return record
    matches = [r for r in store.cases() if r.case_ref == wanted or (len(wanted) >= 6 and r.fingerprint.startswith(wanted))]
    if len(matches) > 1:
        raise QueryError("case %r matches %d cases (%s): give more of the fingerprint"
                         % (wanted, len(matches), ", ".join(r.fingerprint for r in matches[:5])))
    return matches[0] if matches else None


def case_lines(records) -> list:
    """The cases as a table, one line each."""
    if not records:
        return ["no case"]
    header = ("status", "backend", "pri", "case", "host", "opened", "reopens", "title")
    lines = ["%-8s %-8s %-3s %-10s %-12s %-16s %-7s %s" % header]
    for record in records:
        lines.append("%-8s %-8s %-3s %-10s %-12s %-16s %-7d %s" % (
            record.status, record.backend, record.priority, record.case_ref or "(queued)", record.host,
            _when(record.opened_at), record.reopen_count, record.title))
    return lines


def case_detail(store, record) -> dict:
    """One case: its record, what its backend holds when that is the local register (body and
    comments), and every outbox action of it."""
    detail = {"case": record.to_dict(), "actions": [item.to_dict() for item in store.outbox()
                                                    if item.fingerprint == record.fingerprint]}
    lines = ["%s %s %s, %s, opened %s, %d reopen(s)%s" % (
        record.case_ref or "(queued)", record.backend, record.priority, record.status, _when(record.opened_at),
        record.reopen_count, ", paged" if record.paged else ""), record.title or "", "fingerprint %s" % record.fingerprint]
    if record.backend == "local" and record.case_ref:
        local = store.local_get(record.case_ref)
        detail["local"] = {"body": local["fields"].get("body", ""), "status": local["status"],
                           "comments": [{"at": _when(c["at"]), "text": c["text"]} for c in local["comments"]]}
        lines += [""] + str(detail["local"]["body"]).splitlines()
        lines += ["-- %s: %s" % (c["at"], c["text"]) for c in detail["local"]["comments"]]
    lines += ["", "actions:"] + ["  %-6s %-8s %-12s %s%s" % (
        item["status"], item["kind"], item["backend"], item["created_at"],
        ("  (%s)" % item["last_error"]) if item["last_error"] else "") for item in detail["actions"]]
    detail["lines"] = lines
    return detail


def report(store, now: datetime, status: str = "open", host=None, customer=None, case=None) -> dict:
    """Cases (by status, host, customer) or one case (``case``), the silences in force or to come
    for them, and the state of the outbox."""
    if status not in STATUSES:
        raise QueryError("status must be one of %s, not %r" % (", ".join(STATUSES), status))
    out = {"store": store.display}
    if case not in (None, ""):
        record = find_case(store, case)
        if record is None:
            raise QueryError("no case %r in %s: give a fingerprint (or its first characters) or a case reference "
                             "from the list (playbooks/cases.yml without case=)" % (case, store.display))
        out.update(case_detail(store, record))
        out["cases"] = [out["case"]]
        host, customer = record.host, None
        lines = list(out.pop("lines"))
    else:
        records = store.cases(status=None if status == "all" else status, host=host or None, customer=customer or None)
        out["cases"] = [record.to_dict() for record in records]
        lines = case_lines(records)
    pending = [s for s in store.silences(ended_since=now)
               if (not host or s.host in (None, host)) and (not customer or s.customer in (None, customer))]
    out["silences"] = [s.to_dict() for s in pending]
    out["outbox"] = outbox_state(store)
    lines += ["", "silences in force or to come:" if pending else "no silence in force or to come"]
    lines += ["  " + silence_rules.describe(s) for s in pending]
    lines += outbox_lines(out["outbox"], now)
    out["lines"] = lines
    return out


def outbox_state(store) -> dict:
    """How many actions are undelivered (queued), sent and dropped, with each undelivered and dropped one."""
    counts = {name: 0 for name in OUTBOX_STATUSES}
    undelivered, dropped = [], []
    for item in store.outbox():
        counts[item.status] += 1
        if item.status == "queued":
            undelivered.append({"key": item.key, "kind": item.kind, "backend": item.backend, "attempts": item.attempts,
                                "refused": item.refused, "error": item.last_error, "since": item.to_dict()["created_at"],
                                "next_attempt_at": item.to_dict()["next_attempt_at"]})
        elif item.status == "dropped":
            dropped.append({"key": item.key, "kind": item.kind, "backend": item.backend, "reason": item.drop_reason,
                            "dropped_at": item.to_dict()["dropped_at"]})
    return dict(counts, undelivered_items=undelivered, dropped_items=dropped)


def outbox_lines(state: dict, now: datetime) -> list:
    """The outbox state as readable lines: the counts, then every undelivered action with its reason."""
    refused = sum(1 for item in state["undelivered_items"] if item["refused"])
    lines = ["outbox: %d undelivered (%d refused), %d sent, %d dropped"
             % (state["queued"], refused, state["sent"], state["dropped"])]
    for item in state["undelivered_items"]:
        lines.append("  undelivered %s %s to %s since %s, %d failed attempt(s)%s, next attempt %s%s" % (
            item["kind"], item["key"], item["backend"], item["since"], item["attempts"], ", REFUSED" if item["refused"] else "",
            "now" if not item["next_attempt_at"] or item["next_attempt_at"] <= _iso(now) else item["next_attempt_at"],
            (": %s" % item["error"]) if item["error"] else ""))
    lines += ["  dropped %s %s: %s" % (item["kind"], item["key"], item["reason"]) for item in state["dropped_items"]]
    return lines


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
