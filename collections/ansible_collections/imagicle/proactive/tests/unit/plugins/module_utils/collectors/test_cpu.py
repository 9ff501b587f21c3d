# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared CPU sampler, measured against real busy and idle child processes."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors import _cpu
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import (
    CollectContext,
    HostState,
)

IDLE = "import time\ntime.sleep(600)"
BUSY = "while True:\n    pass"


@pytest.fixture
def children():
    """Start children with ``spawn(code)``; every one is killed (by PID) at the end."""
    started = []

    def spawn(code):
        proc = subprocess.Popen([sys.executable, "-c", code])
        started.append(proc)
        return proc

    yield spawn
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _wait_running(procs, seconds=10.0):
    """Wait until every child runs its own code (after exec and interpreter start-up)."""
    deadline = time.monotonic() + seconds
    for proc in procs:
        while True:
            try:
                if psutil.Process(proc.pid).cmdline()[1:2] == ["-c"]:
                    break
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                pass
            assert time.monotonic() < deadline, "child %d did not start" % proc.pid
            time.sleep(0.02)
    time.sleep(0.5)


def test_busy_child_is_high_idle_child_is_near_zero(children):
    busy = children(BUSY)
    idle = children(IDLE)
    _wait_running([busy, idle])
    # What the kernel says the busy child used over the same window (other tests may load the
    # machine: the share a busy loop gets varies, the sampler must agree with the kernel).
    process = psutil.Process(busy.pid)
    before, started = sum(process.cpu_times()[:2]), time.monotonic()
    sample = _cpu.CpuSampler(1.0).start().finish()
    used = (sum(process.cpu_times()[:2]) - before) / (time.monotonic() - started) * 100.0
    assert sample.process_percent(busy.pid) == pytest.approx(used, abs=15.0)
    assert sample.process_percent(busy.pid) > 25.0
    assert sample.process_percent(idle.pid) < 5.0
    # One core of two (or of however many) busy: the host shows it.
    assert sample.system_percent >= 100.0 / psutil.cpu_count() * 0.6
    assert 0.0 <= sample.system_percent <= 100.0
    assert 0.99 <= sample.interval < 1.5


@pytest.fixture
def sleeps(monkeypatch):
    """Every time.sleep() of the sampler, recorded (and still slept)."""
    recorded = []
    real_sleep = time.sleep

    def recording_sleep(seconds):
        recorded.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(_cpu.time, "sleep", recording_sleep)
    return recorded


def test_one_sleep_for_the_whole_host(children, sleeps):
    procs = [children(IDLE) for dummy in range(50)]
    _wait_running(procs)
    del sleeps[:]
    sample = _cpu.CpuSampler(0.3).start().finish()
    # One sleep of at most the interval, not one per process.
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 0.3
    assert sample.interval >= 0.3
    for proc in procs:
        assert sample.process_percent(proc.pid) is not None


def test_finish_sleeps_only_what_is_left(sleeps):
    sampler = _cpu.CpuSampler(0.5).start()
    _cpu.time.sleep(0.4)  # other collectors at work
    sample = sampler.finish()
    assert len(sleeps) == 2 and sleeps[1] <= 0.1
    assert sample.interval >= 0.5


def test_finish_does_not_sleep_when_the_interval_is_over(sleeps):
    sampler = _cpu.CpuSampler(0.1).start()
    _cpu.time.sleep(0.2)
    sampler.finish()
    assert sleeps == [0.2]


def test_process_started_during_the_sample_has_no_percent(children):
    sampler = _cpu.CpuSampler(0.2).start()
    late = children(IDLE)
    sample = sampler.finish()
    assert sample.process_percent(late.pid) is None
    # It is still listed, with its details read once.
    info = {proc.info["pid"]: proc.info for proc in sample.processes}
    assert late.pid in info
    assert info[late.pid]["create_time"] == pytest.approx(psutil.Process(late.pid).create_time(), abs=0.01)


def test_process_gone_during_the_sample_is_not_listed(children):
    gone = children(IDLE)
    _wait_running([gone])
    sampler = _cpu.CpuSampler(0.2).start()
    gone.kill()
    gone.wait()
    sample = sampler.finish()
    assert sample.process_percent(gone.pid) is None
    assert gone.pid not in {proc.info["pid"] for proc in sample.processes}


def test_processes_carry_cached_details(children):
    idle = children(IDLE)
    _wait_running([idle])
    sample = _cpu.CpuSampler(0.1).start().finish()
    info = {proc.info["pid"]: proc.info for proc in sample.processes}[idle.pid]
    assert set(_cpu.PROCESS_ATTRS) <= set(info)
    assert info["cmdline"] == [sys.executable, "-c", IDLE]
    assert info["memory_info"].rss > 0
    assert isinstance(info["name"], str) and info["name"]


def test_a_sample_reads_only_what_it_is_asked_for_and_always_the_cpu_times(children):
    busy = children(BUSY)
    _wait_running([busy])
    sample = _cpu.CpuSampler(0.2, ["name"]).start().finish()
    info = {proc.info["pid"]: proc.info for proc in sample.processes}[busy.pid]
    assert set(info) == {"pid", "create_time", "cpu_times", "name"}
    assert sample.process_percent(busy.pid) > 0


def test_unknown_pid_is_none():
    sample = _cpu.CpuSampler(0.0).start().finish()
    assert sample.process_percent(-1) is None


def test_sample_for_takes_one_sample_when_the_module_gave_none(tmp_path):
    ctx = CollectContext(HostState(str(tmp_path / "state")))
    sample = _cpu.sample_for(ctx, interval=0.05)
    assert ctx.cpu is sample
    assert _cpu.sample_for(ctx) is sample
