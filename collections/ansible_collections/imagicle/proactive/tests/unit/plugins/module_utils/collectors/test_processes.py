# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The processes collector against real child processes with their own names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import psutil
import pytest

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors import _cpu, processes
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import (
    CollectContext,
    CollectorError,
    HostState,
    NotConfigured,
)

# Renames itself (Linux comm, what psutil name() reads), then idles or spins.
NAMED = (
    "import sys, time\n"
    "with open('/proc/self/comm', 'w') as comm:\n"
    "    comm.write(sys.argv[1])\n"
    "if sys.argv[2] == 'busy':\n"
    "    while True:\n"
    "        pass\n"
    "time.sleep(600)\n"
)


@pytest.fixture
def named():
    """``named(name, *extra, busy=False)`` starts a child called ``name``; all are killed by PID."""
    started = []

    def spawn(name, *extra, **kwargs):
        mode = "busy" if kwargs.get("busy") else "idle"
        proc = subprocess.Popen([sys.executable, "-c", NAMED, name, mode] + list(extra))
        started.append(proc)
        deadline = time.monotonic() + 10
        while True:
            try:
                if psutil.Process(proc.pid).name() == name:
                    break
            except psutil.NoSuchProcess:
                pass
            assert time.monotonic() < deadline, "child %s did not rename itself" % name
            time.sleep(0.02)
        return proc

    yield spawn
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _stop(proc):
    proc.kill()
    proc.wait()


def _name():
    return "pt-" + uuid.uuid4().hex[:10]


def _item(ident, name=None, pattern=None, role="application"):
    return {"id": ident, "name": name, "pattern": pattern, "role": role, "application": ident.title()}


def _run(tmp_path, items, interval=0.1, check_mode=False):
    state = HostState(str(tmp_path / "state"), check_mode=check_mode)
    # The sample the module takes: what these items need, and no more.
    sample = _cpu.CpuSampler(interval, processes.sample_attrs({"items": items})).start().finish()
    ctx = CollectContext(state, check_mode=check_mode, cpu=sample)
    return processes.collect({"items": items}, ctx)


@pytest.mark.parametrize("items", [[], None])
def test_no_process_configured_reports_none_and_says_what_to_set(tmp_path, items):
    # No default process list (the names of the Suite's processes differ between installations):
    # nothing is "not running", nothing is remembered, and the message names the variable.
    with pytest.raises(NotConfigured) as info:
        _run(tmp_path, items)
    assert "no Imagicle process to watch; set the option processes (inventory variable imagicle_processes)" in str(info.value)
    assert not (tmp_path / "state" / "processes.json").exists()


def test_running_process_by_name(tmp_path, named):
    name = _name()
    proc = named(name)
    section = _run(tmp_path, [_item("voip", name=name, role="voip_stack")])
    assert section["cpu_interval"] >= 0.1
    row = section["items"][0]
    assert row["id"] == "voip" and row["role"] == "voip_stack" and row["application"] == "Voip"
    assert row["running"] is True and row["count"] == 1 and row["pids"] == [proc.pid]
    expected_rss = psutil.Process(proc.pid).memory_info().rss
    assert abs(row["rss_bytes"] - expected_rss) < 2 * 1024 * 1024
    assert 0 < row["memory_percent"] < 100
    assert row["start_time_epoch"] == pytest.approx(psutil.Process(proc.pid).create_time(), abs=0.01)
    assert row["start_time"].endswith("Z")
    # First run: nothing to compare with.
    assert row["previous_start_time_epoch"] is None
    assert row["restarted"] is False
    assert row["was_running"] is None


def test_items_keep_the_configured_order(tmp_path, named):
    first, second = _name(), _name()
    named(first)
    named(second)
    section = _run(tmp_path, [_item("b", name=second), _item("a", name=first), _item("c", name=_name())])
    assert [row["id"] for row in section["items"]] == ["b", "a", "c"]
    assert [row["running"] for row in section["items"]] == [True, True, False]


def test_not_running(tmp_path):
    row = _run(tmp_path, [_item("ghost", name=_name())])["items"][0]
    assert row["running"] is False and row["count"] == 0 and row["pids"] == []
    assert row["cpu_percent"] == 0.0 and row["rss_bytes"] == 0
    assert row["start_time_epoch"] is None and row["start_time"] is None
    assert row["restarted"] is False


def test_crash_and_come_back_between_runs_is_a_restart(tmp_path, named):
    name = _name()
    proc = named(name)
    first = _run(tmp_path, [_item("rec", name=name)])["items"][0]
    second = _run(tmp_path, [_item("rec", name=name)])["items"][0]
    assert second["restarted"] is False and second["was_running"] is True
    assert second["previous_start_time_epoch"] == first["start_time_epoch"]

    _stop(proc)
    time.sleep(1.2)  # start times are compared with a 1 s tolerance
    named(name)
    third = _run(tmp_path, [_item("rec", name=name)])["items"][0]
    assert third["restarted"] is True and third["was_running"] is True
    assert third["previous_start_time_epoch"] == first["start_time_epoch"]
    assert third["start_time_epoch"] > first["start_time_epoch"] + 1

    fourth = _run(tmp_path, [_item("rec", name=name)])["items"][0]
    assert fourth["restarted"] is False


def test_down_at_one_run_back_at_the_next_is_a_restart(tmp_path, named):
    name = _name()
    proc = named(name)
    first = _run(tmp_path, [_item("ivr", name=name)])["items"][0]
    _stop(proc)
    down = _run(tmp_path, [_item("ivr", name=name)])["items"][0]
    assert down["running"] is False and down["was_running"] is True and down["restarted"] is False
    time.sleep(1.2)
    named(name)
    back = _run(tmp_path, [_item("ivr", name=name)])["items"][0]
    assert back["running"] is True and back["was_running"] is False and back["restarted"] is True
    assert back["previous_start_time_epoch"] == first["start_time_epoch"]


def test_first_start_ever_is_not_a_restart(tmp_path, named):
    name = _name()
    assert _run(tmp_path, [_item("qme", name=name)])["items"][0]["running"] is False
    named(name)
    row = _run(tmp_path, [_item("qme", name=name)])["items"][0]
    assert row["running"] is True and row["was_running"] is False and row["restarted"] is False


def test_several_processes_worker_respawn_is_not_a_restart(tmp_path, named):
    name = _name()
    master = named(name)
    time.sleep(1.2)
    worker = named(name)
    first = _run(tmp_path, [_item("web", name=name)])["items"][0]
    assert first["count"] == 2 and first["pids"] == sorted([master.pid, worker.pid])
    assert first["start_time_epoch"] == pytest.approx(psutil.Process(master.pid).create_time(), abs=0.01)

    _stop(worker)
    time.sleep(1.2)
    named(name)
    respawned = _run(tmp_path, [_item("web", name=name)])["items"][0]
    assert respawned["count"] == 2 and respawned["restarted"] is False

    # The oldest process going away (and coming back) is a restart of the application.
    _stop(master)
    time.sleep(1.2)
    named(name)
    restarted = _run(tmp_path, [_item("web", name=name)])["items"][0]
    assert restarted["count"] == 2 and restarted["restarted"] is True


def test_pattern_searches_name_and_command_line(tmp_path, named):
    name = _name()
    tag = "--instance=" + uuid.uuid4().hex[:8]
    proc = named(name, tag)
    named(_name(), "--instance=other")
    rows = _run(tmp_path, [
        _item("by_cmdline", pattern=tag.replace("=", "[=]")),
        _item("by_name", pattern="^" + name + " "),
        _item("both", name=name, pattern=tag),
        _item("both_mismatch", name=_name(), pattern=tag),
    ])["items"]
    assert [row["pids"] for row in rows] == [[proc.pid], [proc.pid], [proc.pid], []]


def test_busy_process_cpu_percent(tmp_path, named):
    name = _name()
    named(name, busy=True)
    time.sleep(0.3)
    row = _run(tmp_path, [_item("busy", name=name)], interval=0.5)["items"][0]
    assert row["cpu_percent"] > 50


def test_own_process_never_matches(tmp_path):
    me = psutil.Process()
    row = _run(tmp_path, [_item("me", name=me.name())])["items"][0]
    assert os.getpid() not in row["pids"]


def test_invalid_regex_names_the_item(tmp_path):
    with pytest.raises(CollectorError) as info:
        _run(tmp_path, [_item("broken_one", pattern="(unclosed")])
    assert "broken_one" in str(info.value) and "(unclosed" in str(info.value)


def test_item_without_name_or_pattern(tmp_path):
    with pytest.raises(CollectorError) as info:
        _run(tmp_path, [_item("empty")])
    assert "empty" in str(info.value)


def test_state_is_saved_except_in_check_mode(tmp_path, named):
    name = _name()
    named(name)
    _run(tmp_path, [_item("rec", name=name)], check_mode=True)
    state_file = tmp_path / "state" / "processes.json"
    assert not state_file.exists()
    row = _run(tmp_path, [_item("rec", name=name)])["items"][0]
    saved = json.loads(state_file.read_text())["items"]["rec"]
    assert saved["running"] is True and saved["start_time_epoch"] == row["start_time_epoch"]


def test_without_a_module_sample_takes_its_own(tmp_path):
    ctx = CollectContext(HostState(str(tmp_path / "state")))
    section = processes.collect({"items": [_item("x", name=_name())]}, ctx)
    assert section["cpu_interval"] is not None and ctx.cpu is not None


def test_command_lines_are_read_only_for_a_pattern():
    by_name = [_item("a", name="ias-voip")]
    by_pattern = by_name + [_item("b", pattern=r"recorder\.exe")]
    assert "cmdline" not in processes.sample_attrs({"items": by_name})
    assert "cmdline" not in processes.sample_attrs({"items": []})
    assert processes.sample_attrs({"items": by_pattern}) == _cpu.PROCESS_ATTRS
    assert set(processes.sample_attrs({"items": by_name})) == set(_cpu.PROCESS_ATTRS) - {"cmdline"}
