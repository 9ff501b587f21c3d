# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reduced form of the scale benchmark (the full one is `make bench`: 10 to 200 hosts, three
rounds): three test-bed hosts, one round, no warm-up, run as its command line. No timing is
asserted, only that the benchmark still measures what it says: every figure of both variants
present, finite and positive, every host finished, the JSON well formed with the machine and the
settings. It uses the test bed, so it runs with the test-bed tests (scripts/test.sh), not beside
them."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# pylint: disable=wrong-import-position
import bench_scale  # noqa: E402

HOSTS = 3


def _no_constant(name):
    raise ValueError("%s in the JSON" % name)


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def test_the_reduced_benchmark_measures_every_figure_of_both_variants(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the test bed needs root (network namespaces, loop disks)")
    out = tmp_path / "bench_scale.json"
    proc = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_scale.py"),
                           "--sizes", str(HOSTS), "--runs", "1", "--warmup", "0", "--output", str(out)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text(), parse_constant=_no_constant)
    settings, machine = result["settings"], result["machine"]
    assert settings["sizes"] == [HOSTS] and settings["runs"] == 1 and settings["warmup"] == 0
    assert settings["simulator"] in ("full", "light") and os.path.exists(os.path.join(bench_scale.ROOT, settings["profile"]))
    assert settings["forks"] >= 1 and settings["ssh"]["ssh_args"]
    for key in ("cpu_model", "kernel", "python", "ansible_core", "hosts_python", "platform"):
        assert machine[key], key
    assert _positive(machine["cpus"]) and _positive(machine["memory_bytes"]) and result["date"]
    [size] = result["sizes"]
    assert size["hosts"] == HOSTS
    for variant in bench_scale.VARIANTS:
        figures = size["variants"][variant]
        [run] = figures["runs"]
        assert run["hosts_finished"] == HOSTS and figures["hosts_finished"] == HOSTS, variant
        assert run["pss_samples"] >= 1, variant
        for name, _unit in bench_scale.FIGURES:
            assert _positive(run[name]), (variant, name, run[name])
            for statistic in ("median", "min", "max", "per_host"):
                assert _positive(figures["figures"][name][statistic]), (variant, name, statistic)
    for name, _unit in bench_scale.FIGURES:
        assert _positive(size["ratios_check_to_setup"][name]), name
    assert _positive(size["check_hosts_per_minute"])
    for name, _unit in bench_scale.FIGURES:
        assert "| %s |" % name in proc.stdout
    assert "check: " in proc.stdout and "hosts per minute" in proc.stdout


RECAP = """
PLAY RECAP *********************************************************************
ias-a                      : ok=5    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
ias-b                      : ok=5    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=%d
ias-c                      : ok=5    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
localhost                  : ok=1    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
"""
SUMMARY = """
TASK [Alarms per host, and the hosts without proactive cases with the reason] ***
ok: [localhost] =>
    msg:
    - 'ias-a (bench-rome, platinum): 0 alarm(s)'
    - 'ias-b (bench-newyork, gold): 1 alarm(s), 1 P2, NOT REPORTING'
    - 'ias-c (bench-tokyo, platinum): 2 alarm(s), 1 P3,
        1 P4'
"""


def test_a_host_finishes_only_when_it_reported():
    names = ["ias-a", "ias-b", "ias-c"]
    # Unreachable: ignored by the check's facts task, NOT REPORTING in its summary.
    assert bench_scale.finished_hosts("check", SUMMARY + RECAP % 1, names) == 2
    # Not reporting without being unreachable (its facts module failed): the summary tells.
    assert bench_scale.finished_hosts("check", SUMMARY + RECAP % 0, names) == 2
    # No summary: no host reported.
    assert bench_scale.finished_hosts("check", RECAP % 0, names) == 0
    assert bench_scale.finished_hosts("setup", RECAP % 0, names) == 3
    assert bench_scale.finished_hosts("setup", RECAP % 1, names) == 2
    assert bench_scale.finished_hosts("setup", RECAP % 0, names + ["ias-d"]) == 3
