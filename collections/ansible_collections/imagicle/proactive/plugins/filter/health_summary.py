# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readable lines for the console: health_summary, health_report and run_summary (documented in their .yml files).

Both print what hosts sent, so both follow the same rules: they never raise, whatever the
facts or variables hold (a display must never keep a host from being evaluated or fail a run);
every host-supplied string becomes one line (control characters are spaces, so a process name
with a newline cannot forge a line), with phone numbers and e-mail addresses masked, and cut to
a length; long lists are cut to a count. A value of the wrong type gives a line saying so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ansible_collections.imagicle.proactive.plugins.module_utils._schema import PRIORITIES
from ansible_collections.imagicle.proactive.plugins.module_utils._redact import one_line, type_name as _type_name
from ansible_collections.imagicle.proactive.plugins.plugin_utils.evaluation import summary_lines

# Longest line either filter returns, and longest host-supplied value within a line.
LINE_LIMIT = 300
TEXT_LIMIT = 120
ERROR_LIMIT = 200
# Items shown per list (processes, disks, applications), and the last events shown.
MAX_ITEMS = 50
MAX_EVENTS = 5
MEGABYTE = 1048576


# --- values ----------------------------------------------------------------------------------

def _text(value, limit: int = TEXT_LIMIT, empty: str = "?") -> str:
    """A host-supplied value as one masked, bounded line; ``empty`` when there is nothing to show."""
    return one_line(value, limit) or empty


def _number(value) -> float | None:
    """A finite number, or None for anything else (null, NaN, a string, a boolean)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _fmt(value, pattern: str, scale: float = 1.0, unknown: str = "?") -> str:
    """``pattern % (value / scale)``, or ``unknown`` when ``value`` is no number."""
    number = _number(value)
    return unknown if number is None else pattern % (number / scale)


def _plain(value, unknown: str = "?") -> str:
    """A number written as short as it goes (12.5, 3, 0.1), or ``unknown``."""
    number = _number(value)
    if number is None:
        return unknown
    return "%d" % number if number.is_integer() and abs(number) < 1e15 else "%g" % number


def _is_list(value) -> bool:
    return isinstance(value, (list, tuple))


def _cap(line: str) -> str:
    return line if len(line) <= LINE_LIMIT else line[:LINE_LIMIT - 3].rstrip() + "..."


def _items(name: str, what: str, value, limit: int = MAX_ITEMS):
    """The first ``limit`` entries of a list of facts, and a line for what was left out or unreadable."""
    if not _is_list(value):
        return [], "%s: unreadable facts (list expected for its %s, got %s)" % (name, what, _type_name(value))
    more = len(value) - limit
    return list(value[:limit]), ("%s: %d more %s not shown" % (name, more, what) if more > 0 else None)


# --- health_summary --------------------------------------------------------------------------

def _release(section: Mapping) -> list:
    return ["release: %s" % _text(section.get("raw"), empty="unknown")]


def _system(section: Mapping) -> list:
    memory = section.get("memory")
    used = memory.get("used_percent") if isinstance(memory, Mapping) else None
    load = section.get("load_average")
    if _is_list(load) and load and all(_number(value) is not None for value in load[:3]):
        load_text = "/".join(_plain(value) for value in load[:3])
    else:
        load_text = "unknown"
    return ["system: cpu %s %%, memory %s %% used, load %s, up %s days" % (
        _fmt(section.get("cpu_percent"), "%.1f"), _fmt(used, "%.1f"), load_text,
        _fmt(section.get("uptime_seconds"), "%.1f", 86400))]


def _process(item) -> str:
    if not isinstance(item, Mapping):
        return "process ?: unreadable facts (mapping expected, got %s)" % _type_name(item)
    name = _text(item.get("id"))
    running = item.get("running")
    if running is True:
        pids = item.get("pids")
        if _is_list(pids) and pids:
            pid_text = ",".join(_plain(pid) for pid in pids[:10]) + (",..." if len(pids) > 10 else "")
        else:
            pid_text = "?"
        state = "running, pid %s, cpu %s %%, %s MB" % (
            pid_text, _fmt(item.get("cpu_percent"), "%.1f"), _fmt(item.get("rss_bytes"), "%.0f", MEGABYTE))
    elif running is False:
        state = "NOT RUNNING"
    else:
        state = "state unknown"
    restarted = ", RESTARTED since the last run" if item.get("restarted") is True else ""
    return "process %s: %s%s" % (name, state, restarted)


def _processes(section: Mapping) -> list:
    items, note = _items("processes", "processes", section.get("items"))
    return [_process(item) for item in items] + ([note] if note else [])


def _disk(item) -> str:
    if not isinstance(item, Mapping):
        return "disk ?: unreadable facts (mapping expected, got %s)" % _type_name(item)
    mount = _text(item.get("mount"))
    if item.get("error"):
        return "disk %s: ERROR %s" % (mount, _text(item["error"], ERROR_LIMIT))
    return "disk %s: %s %% used, %s MB free" % (
        mount, _fmt(item.get("used_percent"), "%.1f"), _fmt(item.get("free_bytes"), "%.0f", MEGABYTE))


def _disks(section: Mapping) -> list:
    items, note = _items("disks", "disks", section.get("items"))
    return [_disk(item) for item in items] + ([note] if note else [])


def _database(section: Mapping) -> list:
    if section.get("configured") is False:
        return ["database: not configured"]
    limit = _fmt(section.get("limit_bytes"), "%.0f MB", MEGABYTE, unknown="no known limit")
    return ["database (%s): %s MB of %s (%s %%)" % (
        _text(section.get("engine")), _fmt(section.get("size_bytes"), "%.1f", MEGABYTE), limit,
        _plain(section.get("used_percent"), unknown="-"))]


def _webserver(section: Mapping) -> list:
    up = section.get("up")
    if up is True:
        state = "up, HTTP %s in %s ms" % (_plain(section.get("status_code")), _fmt(section.get("latency_ms"), "%.0f"))
    elif up is False:
        state = "DOWN: %s" % _text(section.get("problem"), ERROR_LIMIT, empty="no reason given")
    else:
        state = "state unknown"
    tls = section.get("tls")
    days_left = _number(tls.get("days_left")) if isinstance(tls, Mapping) else None
    expiry = ", certificate expires in %.0f days" % days_left if days_left is not None else ""
    return ["web portal: %s%s" % (state, expiry)]


def _capacity(section: Mapping) -> list:
    apps = section.get("apps")
    if not isinstance(apps, Mapping):
        return ["capacity: unreadable facts (mapping expected for its apps, got %s)" % _type_name(apps)]
    lines = []
    for app, usage in list(apps.items())[:MAX_ITEMS]:
        name = _text(app)
        if not isinstance(usage, Mapping):
            lines.append("capacity %s: unreadable facts (mapping expected, got %s)" % (name, _type_name(usage)))
        elif usage.get("error"):
            lines.append("capacity %s: ERROR %s" % (name, _text(usage["error"], ERROR_LIMIT)))
        else:
            lines.append("capacity %s: %s in use of %s licensed" % (
                name, _plain(usage.get("in_use")), _plain(usage.get("licensed"))))
    if len(apps) > MAX_ITEMS:
        lines.append("capacity: %d more applications not shown" % (len(apps) - MAX_ITEMS))
    return lines


def _replication(section: Mapping) -> list:
    configured = section.get("configured")
    if configured is not True:
        if configured in (False, None):
            return ["replication: not configured"]
        return ["replication: unreadable facts (true or false expected for configured, got %s)" % _type_name(configured)]
    reason = _text(section.get("reason"), empty="")
    skew = _number(section.get("clock_skew_seconds"))
    skew_text = ("%.1f s" % skew) if skew is not None else \
        "unknown (%s)" % _text(section.get("problem"), ERROR_LIMIT, empty="no reason given")
    return ["replication: %s%s with %s, clock skew %s" % (
        _text(section.get("state"), empty="unknown"), " (%s)" % reason if reason else "", _text(section.get("peer")),
        skew_text)]


def _cloud(section: Mapping) -> list:
    reachable = section.get("reachable")
    if reachable is True:
        return ["cloud: reachable in %s ms" % _fmt(section.get("latency_ms"), "%.0f")]
    if reachable is False:
        return ["cloud: NOT REACHABLE: %s" % _text(section.get("problem"), ERROR_LIMIT, empty="no reason given")]
    return ["cloud: state unknown"]


def _events(section: Mapping) -> list:
    capped = " (capped)" if section.get("truncated") is True else ""
    lines = ["events: %s new%s" % (_plain(section.get("new_count")), capped)]
    items = section.get("items")
    if not _is_list(items):
        return lines + ["events: unreadable facts (list expected for its items, got %s)" % _type_name(items)]
    for item in items[-MAX_EVENTS:]:
        if isinstance(item, Mapping):
            lines.append("  %s: %s" % (_text(item.get("severity")), _text(item.get("line"), ERROR_LIMIT, empty="")))
        else:
            lines.append("  ?: unreadable event (mapping expected, got %s)" % _type_name(item))
    return lines


# Section name -> its lines, in the order they are printed.
SECTION_LINES = (
    ("release", _release),
    ("system", _system),
    ("processes", _processes),
    ("disks", _disks),
    ("database", _database),
    ("webserver", _webserver),
    ("capacity", _capacity),
    ("replication", _replication),
    ("cloud", _cloud),
    ("events", _events),
)


def _no_facts_reason(result: Mapping) -> str:
    """Why a registered result of the facts task carries no health facts."""
    message = _text(result.get("msg"), ERROR_LIMIT, empty="")
    detail = " (%s)" % message if message else ""
    if result.get("unreachable"):
        return "the host could not be reached%s" % detail
    if result.get("skipped"):
        return "the health check was skipped for this host"
    if result.get("failed"):
        return "the health check failed%s" % detail
    return "the facts task returned no imagicle_health%s" % detail


def health_lines(value) -> list:
    """The lines of :func:`health_summary`, which adds the last guard against any failure."""
    if isinstance(value, Mapping) and ("ansible_facts" in value or any(
            key in value for key in ("unreachable", "failed", "skipped", "msg"))):
        facts = value.get("ansible_facts")
        health = facts.get("imagicle_health") if isinstance(facts, Mapping) else None
        if health is None:
            return ["health: no facts, %s" % _no_facts_reason(value)]
    else:
        health = value
    if health is None:
        return ["health: no facts"]
    if not isinstance(health, Mapping):
        return ["health: unreadable facts (mapping expected, got %s)" % _type_name(health)]
    lines = []
    for name, render in SECTION_LINES:
        if name not in health:
            continue
        section = health[name]
        if not isinstance(section, Mapping):
            lines.append("%s: unreadable facts (mapping expected, got %s)" % (name, _type_name(section)))
            continue
        if section.get("error"):
            lines.append("%s: ERROR %s" % (name, _text(section["error"], ERROR_LIMIT)))
            continue
        if section.get("not_configured"):
            lines.append(_not_configured_line(name, section["not_configured"]))
            continue
        try:
            lines.extend(render(section))
        except Exception as exc:  # pylint: disable=broad-exception-caught  # a display never fails the host
            lines.append("%s: unreadable facts (%s)" % (name, type(exc).__name__))
    return lines or ["health: no section collected"]


def _not_configured_line(name: str, message) -> str:
    """``processes: NOT CONFIGURED: no Imagicle process to watch; set ...`` (the section's message
    without its own ``processes: not configured:`` prefix)."""
    text = message if isinstance(message, str) else ""
    for prefix in ("%s: " % name, "not configured: "):
        text = text[len(prefix):] if text.startswith(prefix) else text
    return "%s: NOT CONFIGURED: %s" % (name, _text(text or message, 2 * ERROR_LIMIT))


def health_summary(value) -> list:
    """The health of one host as readable lines, from the registered result of the facts task or its imagicle_health.

    Never raises: a value it cannot read gives a line saying what was expected.
    """
    try:
        lines = health_lines(value)
    except Exception as exc:  # pylint: disable=broad-exception-caught  # a display never fails the host
        lines = ["health: unreadable facts (%s)" % type(exc).__name__]
    return [_cap(line) for line in lines]


# --- run_summary -----------------------------------------------------------------------------

def _host_line(name: str, evaluation, alarms) -> str:
    """One host's line of the run summary."""
    if evaluation is None:
        return "%s: not evaluated (the check did not run for this host)" % name
    if not isinstance(evaluation, Mapping):
        return "%s: not evaluated (imagicle_evaluation is %s, not a mapping)" % (name, _type_name(evaluation))
    head = "%s (%s, %s)" % (name, _text(evaluation.get("customer")), _text(evaluation.get("plan")))
    if alarms is None:
        alarms = []
    if _is_list(alarms):
        counted = [alarm.get("priority") for alarm in alarms if isinstance(alarm, Mapping)]
        line = "%s: %d alarm(s)" % (head, len(alarms)) + "".join(
            ", %d %s" % (counted.count(priority), priority) for priority in PRIORITIES if priority in counted)
    else:
        line = "%s: alarms unreadable (imagicle_alarms is %s, not a list)" % (head, _type_name(alarms))
    if evaluation.get("reporting") is False:
        line += ", NOT REPORTING"
    eligibility = evaluation.get("eligibility")
    if isinstance(eligibility, Mapping) and eligibility.get("eligible") is False:
        reasons = eligibility.get("reasons")
        if _is_list(reasons) and reasons:
            reason_text = "; ".join(_text(reason, ERROR_LIMIT) for reason in reasons[:10])
        else:
            reason_text = "no reason given"
        line += "; no proactive cases: " + reason_text
    return line


def run_lines(hostvars, hosts) -> list:
    """The lines of :func:`run_summary`, one per host; a host whose variables cannot be read says so."""
    if isinstance(hosts, str):
        hosts = [hosts]
    if not _is_list(hosts):
        return ["run summary: no hosts (a list of host names expected, got %s)" % _type_name(hosts)]
    lines = []
    for host in hosts:
        name = _text(host)
        try:
            variables = hostvars[host]
            evaluation = variables.get("imagicle_evaluation")
            alarms = variables.get("imagicle_alarms")
        except Exception as exc:  # pylint: disable=broad-exception-caught  # hostvars template lazily; any error is one host's
            lines.append("%s: not evaluated (its variables cannot be read: %s)" % (name, type(exc).__name__))
            continue
        try:
            lines.append(_host_line(name, evaluation, alarms))
        except Exception as exc:  # pylint: disable=broad-exception-caught  # a display never fails the run
            lines.append("%s: unreadable evaluation (%s)" % (name, type(exc).__name__))
    return lines or ["no host checked"]


def run_summary(hostvars, hosts) -> list:
    """One line per checked host: its alarms by priority, whether it reported, and why it has no proactive cases.

    Never raises.
    """
    try:
        lines = run_lines(hostvars, hosts)
    except Exception as exc:  # pylint: disable=broad-exception-caught  # a display never fails the run
        lines = ["run summary: unavailable (%s)" % type(exc).__name__]
    return [_cap(line) for line in lines]


# --- health_report -----------------------------------------------------------------------------

def _report_lines(variables) -> list:
    """One host's health lines and alarm lines, from the facts the evaluate task set."""
    evaluation = variables.get("imagicle_evaluation")
    facts = variables.get("ansible_facts")
    health = facts.get("imagicle_health") if isinstance(facts, Mapping) else None
    health = health if health is not None else variables.get("imagicle_health")
    if evaluation is None:
        if health is not None:
            return health_lines(health) + ["not evaluated (facts collected only)"]
        return ["not evaluated (the check did not run for this host)"]
    if not isinstance(evaluation, Mapping):
        return ["not evaluated (imagicle_evaluation is %s, not a mapping)" % _type_name(evaluation)]
    if evaluation.get("reporting") is False:
        lines = ["health: no facts, the host did not report (see its alarm)"]
    else:
        lines = health_lines(health)
    return lines + summary_lines(dict(evaluation, alarms=variables.get("imagicle_alarms")))


def health_report(hostvars, hosts) -> dict:
    """Each host's health and alarms as readable lines, host by host: what the role prints once for a whole play.

    Never raises.
    """
    if isinstance(hosts, str):
        hosts = [hosts]
    if not _is_list(hosts):
        return {"health report": ["no hosts (a list of host names expected, got %s)" % _type_name(hosts)]}
    report = {}
    for host in hosts[:100000]:
        name = _text(host)
        try:
            lines = _report_lines(hostvars[host])
        except Exception as exc:  # pylint: disable=broad-exception-caught  # a display never fails the run
            lines = ["unreadable (%s)" % type(exc).__name__]
        report[name] = [_cap(line) for line in lines]
    return report


class FilterModule:
    """Console summaries of a host's health and of a run."""

    def filters(self):
        return {"health_summary": health_summary, "health_report": health_report, "run_summary": run_summary}
