# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the state store knows, for people: the cases, one case in full, the silences, the outbox.

Used by the ``case_info`` module (the playbook ``imagicle.proactive.cases``) and the project's
command-line case report; it only reads the store.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ansible_collections.imagicle.proactive.plugins.plugin_utils import silences as silence_rules
from ansible_collections.imagicle.proactive.plugins.plugin_utils import trends
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import OUTBOX_STATUSES

STATUSES = ("open", "resolved", "all")
# The longest history shown (the store keeps daily values for longer), and how many values of one
# metric are returned at most (hourly, then daily means when there are more).
HISTORY_MAX_DAYS = 400
HISTORY_MAX_POINTS = 100


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


def report(store, now: datetime, status: str = "open", host=None, customer=None, case=None, days=0) -> dict:
    """Cases (by status, host, customer) or one case (``case``), the silences in force or to come
    for them, the state of the outbox and, with ``days`` (option history_days), the metric
    history of the host (of ``host``, or of the case's host)."""
    if status not in STATUSES:
        raise QueryError("status must be one of %s, not %r" % (", ".join(STATUSES), status))
    days = history_days(days)
    if days and host in (None, "") and case in (None, ""):
        raise QueryError("history_days shows the metric history of one host: give host (or case) too")
    out = {"store": store.display}
    if case not in (None, ""):
        record = find_case(store, case)
        if record is None:
            raise QueryError("no case %r in %s: give a fingerprint (or its first characters) or a case reference "
                             "from the list (the playbook imagicle.proactive.cases without case=)" % (case, store.display))
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
    if days:
        out["history"] = history(store, host, now, days)
        lines += [""] + out["history"]["lines"]
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


def _number(value: float) -> str:
    return ("%.6g" % value) if value is not None else "-"


def history_days(value) -> int:
    """The option ``history_days`` checked: a whole number of days from 0 (no history) to HISTORY_MAX_DAYS."""
    if value in (None, ""):
        return 0
    try:
        days = int(str(value).strip())
    except ValueError:
        days = -1
    if isinstance(value, bool) or days < 0 or days > HISTORY_MAX_DAYS or str(days) != str(value).strip():
        raise QueryError("history_days must be a whole number of days from 0 (no history) to %d, not %r"
                         % (HISTORY_MAX_DAYS, value))
    return days


def _shown_points(points: list) -> list:
    """At most HISTORY_MAX_POINTS of ``points``: as recorded, else hourly, else daily means."""
    for bucket in (None, timedelta(hours=1), timedelta(days=1)):
        shown = points if bucket is None else trends.downsample(points, bucket)
        if len(shown) <= HISTORY_MAX_POINTS:
            return shown
    return shown[-HISTORY_MAX_POINTS:]


def history(store, host: str, now: datetime, days: int) -> dict:
    """The metric history of ``host`` over the last ``days`` as of ``now``: for each metric the
    values recorded (at most HISTORY_MAX_POINTS, averaged by hour or day when there are more),
    their range and the Theil-Sen trend through them (what the space prediction fits), and the
    same as readable lines."""
    since = now - timedelta(days=days)
    series = store.metric_series(host, since)
    metrics, lines = {}, []
    for name in sorted(series):
        points = [(at, value) for at, value in series[name] if at <= now]
        if not points:
            continue
        values = [value for dummy, value in points]
        fit = trends.theil_sen(points)
        shown = _shown_points(points)
        metrics[name] = {
            "count": len(points),
            "first_at": _iso(points[0][0]),
            "last_at": _iso(points[-1][0]),
            "last": values[-1],
            "min": min(values),
            "max": max(values),
            "slope_per_day": None if fit is None else round(fit.slope_per_day, 6),
            "quality": None if fit is None else round(fit.quality, 2),
            "points": [[_iso(at), value] for at, value in shown],
        }
        trend = ("trend %+.4g a day (quality %.2f)" % (fit.slope_per_day, fit.quality)) if fit is not None else \
            "too few values for a trend"
        lines.append("  %s: %d value(s) %s to %s, min %s, max %s, last %s; %s" % (
            name, len(points), _when(points[0][0]), _when(points[-1][0]), _number(min(values)), _number(max(values)),
            _number(values[-1]), trend))
    head = ("history of %s over the last %d day(s), from %s:" % (host, days, store.display) if metrics
            else "no metric history of %s in the last %d day(s) in %s" % (host, days, store.display))
    conditions, condition_lines = host_conditions(store, host)
    return {"days": days, "metrics": metrics, "conditions": conditions, "lines": [head] + lines + condition_lines}


def host_conditions(store, host: str) -> tuple[list, list]:
    """What the case manager remembers of each alarm condition of ``host`` (its state changes,
    whether it is flapping, the streak of a sustained rule), as data and as readable lines."""
    found, lines = [], []
    for record in store.conditions(host=host):
        found.append(dict(record.to_dict(), changes=[_iso(moment) for moment in record.changes]))
        state = "firing" if record.firing else "clear"
        if record.streak:
            state = "pending (%d run(s) in a row since %s)" % (record.streak, _when(record.streak_since))
        changes = ", ".join(_when(moment) for moment in record.changes[-10:])
        lines.append("  condition %s%s: %s; %d recent change(s) of state%s%s" % (
            record.rule or "?", (" [%s]" % record.subject) if record.subject else "", state, len(record.changes),
            (" (%s)" % changes) if changes else "",
            ("; flapping since %s" % _when(record.flapping_since)) if record.flapping_since else ""))
    if lines:
        lines.insert(0, "conditions of %s (changes of state, flapping, pending):" % host)
    return found, lines
