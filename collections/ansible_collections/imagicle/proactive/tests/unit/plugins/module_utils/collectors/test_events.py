# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The events collector on real log files: new lines only, rotation, truncation, caps."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors import events
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import (
    CollectContext,
    HostState,
    NotConfigured,
)

PATTERNS = [
    {"regex": r"\bCRITICAL\b", "severity": "critical"},
    {"regex": r"\bERROR\b", "severity": "error"},
    {"regex": r"\bWARNING\b", "severity": "warning"},
]


def _ctx(tmp_path, check_mode=False):
    return CollectContext(HostState(str(tmp_path / "state"), check_mode=check_mode), check_mode=check_mode)


def _options(*paths, **caps):
    options = {"sources": [{"path": str(path), "patterns": PATTERNS} for path in paths]}
    options.update(caps)
    return options


def _append(path, *lines):
    with open(str(path), "ab") as handle:
        for line in lines:
            handle.write(line if isinstance(line, bytes) else (line + "\n").encode("utf-8"))


def _lines(section):
    return [item["line"] for item in section["items"]]


def _start(tmp_path, *lines):
    """A log with history and a first run that sets the offset to its end."""
    log = tmp_path / "events.log"
    _append(log, *lines)
    first = events.collect(_options(log), _ctx(tmp_path))
    return log, first


def test_first_run_starts_at_end_then_returns_only_new_lines(tmp_path):
    log, first = _start(tmp_path, "old ERROR one", "old CRITICAL two")
    assert first["items"] == [] and first["new_count"] == 0
    assert first["sources"] == [{"path": str(log), "offset": log.stat().st_size, "rotated": False, "error": None}]

    _append(log, "2026-11-26T05:39:58Z ERROR ias-recorder: disk write failed", "INFO all fine",
            "2026-11-26T05:40:00Z WARNING ias-qme: queue slow", "CRITICAL and ERROR in one line")
    second = events.collect(_options(log), _ctx(tmp_path))
    assert [(item["severity"], item["pattern"]) for item in second["items"]] == [
        ("error", r"\bERROR\b"), ("warning", r"\bWARNING\b"), ("critical", r"\bCRITICAL\b")]
    assert second["items"][0] == {
        "source": str(log),
        "line": "2026-11-26T05:39:58Z ERROR ias-recorder: disk write failed",
        "severity": "error",
        "pattern": r"\bERROR\b",
    }
    assert (second["new_count"], second["returned"], second["truncated"]) == (3, 3, False)
    assert second["sources"][0]["offset"] == log.stat().st_size

    third = events.collect(_options(log), _ctx(tmp_path))
    assert third["items"] == [] and third["new_count"] == 0


def test_state_records_inode_and_offset(tmp_path):
    log, _first = _start(tmp_path, "x")
    state = json.loads((tmp_path / "state" / "events.json").read_text())
    assert state["sources"][str(log)]["inode"] == log.stat().st_ino
    assert state["sources"][str(log)]["offset"] == log.stat().st_size


def test_unfinished_line_waits_for_its_end(tmp_path):
    log, _first = _start(tmp_path, "start")
    _append(log, "ERROR complete", b"ERROR half a li")
    section = events.collect(_options(log), _ctx(tmp_path))
    assert _lines(section) == ["ERROR complete"]
    _append(log, b"ne\n")
    assert _lines(events.collect(_options(log), _ctx(tmp_path))) == ["ERROR half a line"]


def test_rotation_reads_the_rest_of_the_old_file_then_the_new_one(tmp_path):
    log, _first = _start(tmp_path, "history ERROR")
    _append(log, "ERROR before rotation, already read")
    events.collect(_options(log), _ctx(tmp_path))
    _append(log, "ERROR written just before rotation")
    os.rename(str(log), str(log) + ".1")
    _append(log, "ERROR first line of the new file")
    section = events.collect(_options(log), _ctx(tmp_path))
    assert _lines(section) == ["ERROR written just before rotation", "ERROR first line of the new file"]
    assert section["sources"][0]["rotated"] is True
    assert section["sources"][0]["offset"] == log.stat().st_size
    # Next run: back to normal following of the new file.
    _append(log, "ERROR later")
    again = events.collect(_options(log), _ctx(tmp_path))
    assert _lines(again) == ["ERROR later"] and again["sources"][0]["rotated"] is False


def test_rotation_without_predecessor_reads_new_file_from_start(tmp_path):
    log, _first = _start(tmp_path, "history")
    _append(log, "ERROR lost with the old file")
    os.rename(str(log), str(tmp_path / "elsewhere.log"))
    _append(log, "ERROR new file")
    # A different file at .1 (not the old inode) must not be read.
    _append(str(log) + ".1", "ERROR unrelated old file")
    section = events.collect(_options(log), _ctx(tmp_path))
    assert _lines(section) == ["ERROR new file"]
    assert section["sources"][0]["rotated"] is True


def test_truncation_in_place_reads_from_start(tmp_path):
    log, _first = _start(tmp_path, "a long history line " * 20)
    inode = log.stat().st_ino
    with open(str(log), "r+b") as handle:
        handle.truncate(0)
    _append(log, "ERROR after truncate")
    assert log.stat().st_ino == inode
    section = events.collect(_options(log), _ctx(tmp_path))
    assert _lines(section) == ["ERROR after truncate"]
    assert section["sources"][0]["rotated"] is True


def test_max_events_keeps_the_most_severe_in_log_order(tmp_path):
    log, _first = _start(tmp_path, "history")
    _append(log, "CRITICAL first", *["ERROR number %d" % index for index in range(10)])
    _append(log, "WARNING late")
    section = events.collect(_options(log, max_events=3), _ctx(tmp_path))
    assert (section["new_count"], section["returned"], section["truncated"]) == (12, 3, True)
    # The critical line survives; then the newest errors; returned in log order.
    assert _lines(section) == ["CRITICAL first", "ERROR number 8", "ERROR number 9"]
    # The offset still moved past everything: nothing is returned twice.
    assert events.collect(_options(log, max_events=3), _ctx(tmp_path))["new_count"] == 0


def test_max_bytes_caps_the_returned_lines(tmp_path):
    log, _first = _start(tmp_path, "history")
    _append(log, *["ERROR %s" % ("x" * 90) for dummy in range(20)])  # 96 bytes each
    section = events.collect(_options(log, max_bytes=500), _ctx(tmp_path))
    assert section["new_count"] == 20 and section["returned"] == 5 and section["truncated"] is True
    assert sum(len(line.encode("utf-8")) for line in _lines(section)) <= 500


def test_huge_backlog_is_read_in_part_and_offset_reaches_the_end(tmp_path):
    log, _first = _start(tmp_path, "history")
    _append(log, "CRITICAL oldest line of the backlog")
    _append(log, *["INFO filler line %06d %s" % (index, "y" * 80) for index in range(20000)])  # ~2 MB
    _append(log, "ERROR newest line of the backlog")
    size = log.stat().st_size
    section = events.collect(_options(log, max_bytes=1024), _ctx(tmp_path))
    assert section["sources"][0]["offset"] == size
    assert section["truncated"] is True
    assert _lines(section) == ["ERROR newest line of the backlog"]
    # No half line was taken for a line: every filler line read was whole, none matched.
    assert section["new_count"] == 1


def test_unreadable_sources_get_an_error_and_others_still_work(tmp_path):
    good, _first = _start(tmp_path, "history")
    directory = tmp_path / "a_directory.log"
    directory.mkdir()
    missing = tmp_path / "no_such_dir" / "events.log"
    options = _options(directory, missing, good)
    events.collect(options, _ctx(tmp_path))
    _append(good, "ERROR still collected")
    section = events.collect(options, _ctx(tmp_path))
    by_path = {entry["path"]: entry for entry in section["sources"]}
    assert "not a regular file" in by_path[str(directory)]["error"]
    assert str(missing) in by_path[str(missing)]["error"]
    assert "No such file" in by_path[str(missing)]["error"]
    assert by_path[str(good)]["error"] is None
    assert _lines(section) == ["ERROR still collected"]


def test_a_log_that_appears_later_is_read_from_its_start(tmp_path):
    log = tmp_path / "later.log"
    first = events.collect(_options(log), _ctx(tmp_path))
    assert first["sources"][0]["error"]
    _append(log, "ERROR first line ever")
    assert _lines(events.collect(_options(log), _ctx(tmp_path))) == ["ERROR first line ever"]


def test_bad_pattern_is_an_error_of_that_source_only(tmp_path):
    good, _first = _start(tmp_path, "history")
    bad = tmp_path / "bad.log"
    _append(bad, "ERROR x")
    options = {"sources": [
        {"path": str(bad), "patterns": [{"regex": "(unclosed", "severity": "error"}]},
        {"path": str(bad), "patterns": [{"regex": "x", "severity": "fatal"}]},
        {"path": str(good), "patterns": PATTERNS},
    ]}
    _append(good, "ERROR fine")
    section = events.collect(options, _ctx(tmp_path))
    assert "(unclosed" in section["sources"][0]["error"]
    assert "fatal" in section["sources"][1]["error"]
    assert _lines(section) == ["ERROR fine"]


def test_control_characters_and_invalid_utf8(tmp_path):
    log, _first = _start(tmp_path, "history")
    _append(log, b"ERROR \x1b[31mred\x1b[0m\tcol\x00umn \xff\xfe end\r\n")
    section = events.collect(_options(log), _ctx(tmp_path))
    assert _lines(section) == ["ERROR [31mred[0m\tcolumn \ufffd\ufffd end"]


def test_personal_data_is_masked(tmp_path):
    log, _first = _start(tmp_path, "history")
    _append(log, "2026-11-26T05:39:58Z ERROR ias-recorder: disk write failed for +39 021 234 5678 "
                 "(agent mario.rossi@example.com, peer 10.1.2.3)")
    section = events.collect(_options(log), _ctx(tmp_path))
    assert _lines(section) == [
        "2026-11-26T05:39:58Z ERROR ias-recorder: disk write failed for +39 *** *** **** "
        "(agent ***@***, peer 10.1.2.3)"
    ]


def test_check_mode_does_not_advance_the_offset(tmp_path):
    log, _first = _start(tmp_path, "history")
    state_file = tmp_path / "state" / "events.json"
    before = state_file.read_text()
    _append(log, "ERROR seen twice")
    checked = events.collect(_options(log), _ctx(tmp_path, check_mode=True))
    assert _lines(checked) == ["ERROR seen twice"]
    assert state_file.read_text() == before
    real = events.collect(_options(log), _ctx(tmp_path))
    assert _lines(real) == ["ERROR seen twice"]
    assert events.collect(_options(log), _ctx(tmp_path))["items"] == []


def test_check_mode_on_first_run_writes_no_state(tmp_path):
    log = tmp_path / "events.log"
    _append(log, "ERROR history")
    events.collect(_options(log), _ctx(tmp_path, check_mode=True))
    assert not (tmp_path / "state" / "events.json").exists()


@pytest.mark.parametrize("sources", [[], None])
def test_no_sources_is_not_configured(tmp_path, sources):
    # No default log path: nothing is read, and the message says what to set.
    with pytest.raises(NotConfigured) as info:
        events.collect({"sources": sources}, _ctx(tmp_path))
    assert "no event log to read; set the option events.sources (inventory variable imagicle_events.sources)" in str(info.value)
    assert not os.path.exists(os.path.join(str(tmp_path), "state", "events.json"))
