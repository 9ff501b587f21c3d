# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``events`` section: lines of the Suite's event logs added since the previous run.

Options::

    {"sources": [{"path": "/var/log/appsuite/events.log",
                  "patterns": [{"regex": "\\bERROR\\b", "severity": "error"}, ...]}],
     "max_events": 100, "max_bytes": 65536}

How a log is followed. The host keeps, per path, the device, inode and byte offset reached
(state file ``events.json``); each run reads from that offset to the last complete line.

* First run ever for a path: nothing is returned and the offset is set to the END of the file,
  so that installing the collection does not report the whole history as new events. A path
  that was missing at an earlier run is read from its start once it appears.
* Rotation by rename (inode changed): the rest of the old file is read from ``<path>.1`` when
  that file has the old inode, then the new file from its start; ``rotated`` is true.
* Truncation in place (same inode, file now shorter than the offset, e.g. copytruncate): the
  file is read from its start; ``rotated`` is true.
* Backlog: at most ``4 * max_bytes`` (at least 64 KiB) is read from one file per run; with a
  larger backlog the newest part is read and the offset still moves to the end, so a huge log
  never stalls the collector (``truncated`` is true).
* Check mode reads but does not store the new offsets: the next run returns the same lines.

Each line is decoded as UTF-8 (invalid bytes replaced), control characters other than tab are
removed, lines longer than 4096 characters are cut, and the first pattern (a Python regular
expression, case-sensitive) that matches gives the severity. Personal data (phone numbers,
e-mail addresses) is masked in every returned line. When more than ``max_events`` lines or
``max_bytes`` bytes match, the most severe are kept (the newest first within a severity), the
rest are dropped (``truncated`` true, ``new_count`` still counts them all); the kept lines are
returned in log order.

No source at all is not configured (where the Suite logs its events differs between
installations and is not guessed): the section is ``{"not_configured": "..."}``.

An unreadable source (missing, a directory, permission denied, bad pattern) gets an ``error``
in its ``sources`` entry and keeps its stored offset; the other sources are still read.
"""

from __future__ import annotations

import os
import re
import stat

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import CollectorError, NotConfigured

STATE_NAME = "events"
SEVERITIES = ("critical", "error", "warning", "info")
DEFAULT_MAX_EVENTS = 100
DEFAULT_MAX_BYTES = 65536
MAX_LINE_CHARS = 4096
MIN_READ_LIMIT = 65536
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


class _SourceError(Exception):
    """A problem with one source; reported in its entry, the others go on."""


def clean_line(raw: bytes) -> str:
    """Decode one log line and remove control characters (tab is kept); cut very long lines."""
    text = _CONTROL.sub("", raw.decode("utf-8", errors="replace"))
    if len(text) > MAX_LINE_CHARS:
        text = text[:MAX_LINE_CHARS] + "..."
    return text


def _compile_patterns(source: dict) -> list:
    compiled = []
    for index, pattern in enumerate(source.get("patterns") or []):
        if not isinstance(pattern, dict) or not pattern.get("regex"):
            raise _SourceError("patterns[%d] needs a regex (and a severity)" % index)
        severity = str(pattern.get("severity") or "error").lower()
        if severity not in SEVERITIES:
            raise _SourceError(
                "patterns[%d] has severity %r; use one of %s" % (index, pattern.get("severity"), ", ".join(SEVERITIES))
            )
        try:
            regex = re.compile(pattern["regex"])
        except re.error as exc:
            raise _SourceError("patterns[%d] regex %r is invalid (%s)" % (index, pattern["regex"], exc))
        compiled.append((regex, severity, pattern["regex"]))
    if not compiled:
        raise _SourceError("no patterns configured; add at least one {regex, severity}")
    return compiled


def _read_range(handle, start: int, end: int, limit: int, final: bool):
    """Read complete lines of ``handle`` between byte offsets ``start`` and ``end``.

    Returns ``(lines, new_offset, skipped)``. At most ``limit`` bytes are read: with more, the
    newest ``limit`` bytes are read (from the next line start) and ``skipped`` is true. Unless
    ``final`` (a rotated file that will not grow), an unfinished last line is left for the next
    run.
    """
    skipped = False
    if end - start > limit:
        start = end - limit
        skipped = True
    if end <= start:
        return [], min(start, end), skipped
    handle.seek(start)
    data = handle.read(end - start)
    end = start + len(data)
    if skipped and start > 0:
        handle.seek(start - 1)
        if handle.read(1) != b"\n":
            cut = data.find(b"\n")
            data = b"" if cut == -1 else data[cut + 1:]
    new_offset = end
    if not final and data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n")
        if cut != -1:
            new_offset = end - (len(data) - cut - 1)
            data = data[:cut + 1]
        elif len(data) < limit:
            # One unfinished line: wait for its end.
            return [], end - len(data), skipped
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines, new_offset, skipped


def _identity(status) -> list:
    return [int(status.st_dev), int(status.st_ino)]


def _read_source(path: str, previous, limit: int):
    """Read the new lines of one log. Returns ``(lines, entry, rotated, skipped)``."""
    try:
        status = os.stat(path)
    except OSError as exc:
        raise _SourceError("cannot read %s (%s)" % (path, exc.strerror or exc))
    if not stat.S_ISREG(status.st_mode):
        raise _SourceError("%s is not a regular file; point events.sources[].path at the log file" % path)
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise _SourceError("cannot read %s (%s)" % (path, exc.strerror or exc))
    lines = []
    rotated = False
    skipped = False
    with handle:
        status = os.fstat(handle.fileno())
        size = status.st_size
        identity = _identity(status)
        if not isinstance(previous, dict):
            # First run for this path: start at the end, do not report history.
            return [], {"dev": identity[0], "inode": identity[1], "offset": size}, False, False
        offset = int(previous.get("offset") or 0)
        if previous.get("inode") is None:
            offset = 0
        elif [previous.get("dev"), previous.get("inode")] != identity:
            rotated = True
            lines, skipped = _read_rotated_tail(path + ".1", previous, offset, limit)
            offset = 0
        elif size < offset:
            rotated = True
            offset = 0
        new_lines, offset, more_skipped = _read_range(handle, offset, size, limit, final=False)
    lines.extend(new_lines)
    entry = {"dev": identity[0], "inode": identity[1], "offset": offset}
    return lines, entry, rotated, skipped or more_skipped


def _read_rotated_tail(old_path: str, previous: dict, offset: int, limit: int):
    """Lines after ``offset`` in the rotated file, if it is the one we were reading."""
    try:
        with open(old_path, "rb") as old:
            status = os.fstat(old.fileno())
            if _identity(status) != [previous.get("dev"), previous.get("inode")]:
                return [], False
            lines, _offset, skipped = _read_range(old, offset, status.st_size, limit, final=True)
            return lines, skipped
    except OSError:
        return [], False


def _select(found: list, max_events: int, max_bytes: int) -> list:
    """Keep the most severe (newest first within a severity) within both caps, in log order."""
    order = sorted(
        range(len(found)),
        key=lambda index: (SEVERITIES.index(found[index]["severity"]), -index),
    )
    kept = []
    used = 0
    for index in order:
        if len(kept) >= max_events:
            break
        size = len(found[index]["line"].encode("utf-8"))
        if used + size > max_bytes:
            continue
        kept.append(index)
        used += size
    return [found[index] for index in sorted(kept)]


def _int_option(options: dict, key: str, default: int) -> int:
    value = options.get(key)
    if value is None:
        return default
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise CollectorError("events.%s must be a whole number, got %r" % (key, value))
    if value < 0:
        raise CollectorError("events.%s must not be negative, got %d" % (key, value))
    return value


def collect(options: dict, ctx) -> dict:
    """Return the ``events`` section."""
    if not options.get("sources"):
        raise NotConfigured("no event log to read", "events.sources",
                            "[{path: <log file>, patterns: [{regex: '\\bERROR\\b', severity: error}]}]")
    max_events = _int_option(options, "max_events", DEFAULT_MAX_EVENTS)
    max_bytes = _int_option(options, "max_bytes", DEFAULT_MAX_BYTES)
    limit = max(4 * max_bytes, MIN_READ_LIMIT)
    stored = ctx.state.load(STATE_NAME)
    previous = stored.get("sources") if isinstance(stored.get("sources"), dict) else {}
    new_state = {}
    found = []
    reports = []
    truncated = False
    for source in options.get("sources") or []:
        source = source if isinstance(source, dict) else {"path": source}
        path = str(source.get("path") or "")
        before = previous.get(path)
        try:
            if not path:
                raise _SourceError("a source has no path")
            patterns = _compile_patterns(source)
            lines, entry, rotated, skipped = _read_source(path, before, limit)
        except _SourceError as exc:
            missing = not os.path.lexists(path) if path else False
            if isinstance(before, dict):
                new_state[path] = before
            elif missing:
                # Read a log that appears later from its first line.
                new_state[path] = {"dev": None, "inode": None, "offset": 0}
            reports.append({
                "path": path,
                "offset": before.get("offset") if isinstance(before, dict) and before.get("inode") else None,
                "rotated": False,
                "error": str(exc),
            })
            continue
        truncated = truncated or skipped
        if lines:
            # The masking patterns are many and large: compiled only by a run that has lines to mask.
            from ansible_collections.imagicle.proactive.plugins.module_utils._redact import mask_personal_data
        for raw in lines:
            line = clean_line(raw)
            for regex, severity, text in patterns:
                if regex.search(line):
                    found.append({
                        "source": path,
                        "line": mask_personal_data(line),
                        "severity": severity,
                        "pattern": text,
                    })
                    break
        new_state[path] = entry
        reports.append({"path": path, "offset": entry["offset"], "rotated": rotated, "error": None})

    items = _select(found, max_events, max_bytes)
    if not ctx.check_mode:
        ctx.state.save(STATE_NAME, {"sources": new_state})
    return {
        "new_count": len(found),
        "returned": len(items),
        "truncated": truncated or len(items) < len(found),
        "items": items,
        "sources": reports,
    }
