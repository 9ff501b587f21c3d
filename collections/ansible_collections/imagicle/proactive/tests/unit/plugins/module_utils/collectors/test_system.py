# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The system collector on this host."""

from __future__ import annotations

import os
import platform
import re
import socket
import subprocess
import sys
import time

import psutil

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors import _cpu, system
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import (
    CollectContext,
    HostState,
)

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _ctx(tmp_path, interval=0.2):
    sample = _cpu.CpuSampler(interval).start().finish()
    return CollectContext(HostState(str(tmp_path / "state")), cpu=sample)


def test_section_has_the_schema_keys(tmp_path):
    ctx = _ctx(tmp_path)
    section = system.collect({}, ctx)
    assert set(section) == {
        "hostname", "platform", "python", "psutil", "cpu_count", "cpu_percent", "cpu_interval",
        "load_average", "memory", "swap", "boot_time", "uptime_seconds",
    }
    assert section["hostname"] == socket.gethostname()
    assert section["platform"] == platform.platform()
    assert section["python"] == platform.python_version()
    assert section["psutil"] == psutil.__version__
    assert section["cpu_count"] == psutil.cpu_count()
    assert section["cpu_interval"] == round(ctx.cpu.interval, 2)
    assert section["cpu_percent"] == round(ctx.cpu.system_percent, 2)
    assert 0.0 <= section["cpu_percent"] <= 100.0
    assert len(section["load_average"]) == 3 and all(value >= 0 for value in section["load_average"])
    assert abs(section["load_average"][2] - os.getloadavg()[2]) < 1
    memory = section["memory"]
    assert memory["total"] == psutil.virtual_memory().total
    assert 0 < memory["available"] <= memory["total"]
    assert 0.0 < memory["used_percent"] < 100.0
    assert set(section["swap"]) == {"total", "used_percent"}
    assert ISO.match(section["boot_time"])
    assert abs(section["uptime_seconds"] - (time.time() - psutil.boot_time())) < 5


def test_cpu_percent_follows_a_busy_child(tmp_path):
    busy = subprocess.Popen([sys.executable, "-c", "while True:\n    pass"])
    try:
        time.sleep(0.3)
        section = system.collect({}, _ctx(tmp_path, interval=0.8))
    finally:
        busy.kill()
        busy.wait()
    # One core fully busy out of cpu_count.
    assert section["cpu_percent"] >= 100.0 / psutil.cpu_count() * 0.6


def test_without_a_module_sample_takes_its_own(tmp_path):
    ctx = CollectContext(HostState(str(tmp_path / "state")))
    section = system.collect({}, ctx)
    assert section["cpu_interval"] >= 0.5
