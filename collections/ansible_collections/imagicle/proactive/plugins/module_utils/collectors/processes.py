# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``processes`` section: is each configured Imagicle process running, what it uses, and
whether it restarted since the previous run.

Options::

    {"items": [{"id": "voip_stack", "name": "ias-voip", "pattern": None,
                "role": "voip_stack", "application": "VoIP stack"}, ...]}

A process matches an item when its name (``psutil`` ``name()``) equals ``name`` and/or the
regular expression ``pattern`` is found in ``name + " " + " ".join(cmdline)``; when both are
given both must hold. The module's own process never matches. No item at all is not configured (the names of the
Suite's processes differ between installations and are not guessed): the section is
``{"not_configured": "..."}`` and nothing is reported as not running.

Restart detection. For every item the host keeps, in the state file ``processes.json``, whether
it was running at the last run and the earliest start time of its processes the last time it
was seen running. ``restarted`` is true when the item runs now and its earliest start time is
more than 1 s later than that remembered one, so:

* a process that crashed and came back between two runs -> restarted;
* a process seen down at one run and back at the next -> restarted (and ``was_running`` false);
* the first time a process is ever seen running -> not restarted (nothing to compare with);
* several processes (a master and its workers): a worker respawned while the oldest process
  kept running is not a restart of the application; it is one when the oldest process goes.

``previous_start_time_epoch`` is that remembered start time (what the host last saw running).
"""

from __future__ import annotations

import os
import re
import time

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import (
    CollectorError,
    NotConfigured,
    round2,
)
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._cpu import PROCESS_ATTRS, sample_for

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._psutil import psutil

STATE_NAME = "processes"
# Start times closer than this are the same start (create_time is rounded to clock ticks).
RESTART_TOLERANCE = 1.0


def _utc(epoch):
    return None if epoch is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _compile(item: dict):
    """Return the compiled ``pattern`` of an item (or None); CollectorError if invalid."""
    pattern = item.get("pattern")
    if not item.get("name") and not pattern:
        raise CollectorError(
            "process %r: set name (the exact process name) or pattern (a regular expression)"
            % item.get("id")
        )
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise CollectorError(
            "process %r: pattern %r is not a valid regular expression (%s)" % (item.get("id"), pattern, exc)
        )


def sample_attrs(options: dict) -> list:
    """The process attributes the CPU sample must read for ``options``: the command line of every
    process only when a configured process is matched by ``pattern``."""
    items = options.get("items") or []
    if any(isinstance(item, dict) and item.get("pattern") for item in items):
        return list(PROCESS_ATTRS)
    return [attr for attr in PROCESS_ATTRS if attr != "cmdline"]


def _matches(info: dict, name, regex) -> bool:
    proc_name = info.get("name") or ""
    if name and proc_name != name:
        return False
    if regex is not None:
        haystack = "%s %s" % (proc_name, " ".join(info.get("cmdline") or []))
        if not regex.search(haystack):
            return False
    return True


def _measure(matches: list, sample, total_memory: int) -> dict:
    """Figures of the matching processes (a list of ``.info`` dicts)."""
    pids = sorted(info["pid"] for info in matches)
    rss = sum(int(info["memory_info"].rss) for info in matches if info.get("memory_info") is not None)
    cpu_values = [sample.process_percent(pid) for pid in pids]
    starts = [info["create_time"] for info in matches if info.get("create_time") is not None]
    start = min(starts) if starts else None
    return {
        "running": bool(matches),
        "count": len(matches),
        "pids": pids,
        "cpu_percent": round2(sum(value for value in cpu_values if value is not None)),
        "rss_bytes": rss,
        "memory_percent": round2(rss * 100.0 / total_memory) if total_memory else None,
        "start_time_epoch": round2(start),
        "start_time": _utc(start),
    }


def _restart_fields(measured: dict, previous):
    """(report fields, new state entry) from this run's figures and the last run's state."""
    previous = previous if isinstance(previous, dict) else None
    last_start = previous.get("last_start_time_epoch") if previous else None
    was_running = previous.get("running") if previous else None
    start = measured["start_time_epoch"]
    restarted = bool(
        measured["running"]
        and start is not None
        and last_start is not None
        and start - float(last_start) > RESTART_TOLERANCE
    )
    fields = {
        "previous_start_time_epoch": last_start,
        "restarted": restarted,
        "was_running": None if was_running is None else bool(was_running),
    }
    entry = {
        "running": measured["running"],
        "start_time_epoch": start,
        # Kept while the process is down, so that its return counts as a restart.
        "last_start_time_epoch": start if start is not None else last_start,
        "seen_at": round2(time.time()),
    }
    return fields, entry


def collect(options: dict, ctx) -> dict:
    """Return the ``processes`` section; one item per configured process, in order."""
    if psutil is None:
        raise CollectorError("the psutil Python library is missing on this host; install python3-psutil")
    items = list(options.get("items") or [])
    if not items:
        raise NotConfigured("no Imagicle process to watch", "processes",
                            "[{id: voip_stack, name: <process name>, role: voip_stack}]")
    compiled = [_compile(item) for item in items]
    sample = sample_for(ctx)
    total_memory = int(psutil.virtual_memory().total)
    own = {os.getpid()}
    infos = [proc.info for proc in sample.processes if proc.info.get("pid") not in own]

    stored = ctx.state.load(STATE_NAME)
    previous_items = stored.get("items") if isinstance(stored.get("items"), dict) else {}
    new_state = {"items": {}}
    result = []
    for item, regex in zip(items, compiled):
        matches = [info for info in infos if _matches(info, item.get("name"), regex)]
        measured = _measure(matches, sample, total_memory)
        fields, entry = _restart_fields(measured, previous_items.get(item.get("id")))
        row = {
            "id": item.get("id"),
            "role": item.get("role") or "application",
            "application": item.get("application") or item.get("id"),
        }
        row.update(measured)
        row.update(fields)
        result.append(row)
        new_state["items"][item.get("id")] = entry
    if not ctx.check_mode:
        ctx.state.save(STATE_NAME, new_state)
    return {"cpu_interval": round2(sample.interval), "items": result}
