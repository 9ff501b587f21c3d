# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's demo (scripts/demo.sh up, tour, down: what `make demo` runs after setting up)
shows faults becoming cases: a healthy check, then a VoIP stack crash and a disk close to
saturation, the check again with a P1 and a P3 and two cases opened in the local register,
the cases listed, and what to try next."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _path in (os.path.join(ROOT, "tests", "services"), os.path.join(ROOT, "tests", "testbed")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

# pylint: disable=wrong-import-position
from estate import start_estate  # noqa: E402
from testbed import Testbed  # noqa: E402


def demo(action: str, env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run(["bash", os.path.join(ROOT, "scripts", "demo.sh"), action], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, "demo.sh %s failed (%d):\n%s\n%s" % (action, proc.returncode, proc.stdout[-3000:],
                                                                     proc.stderr[-2000:])
    return proc


def flat(text: str) -> str:
    return " ".join(text.replace("'", "").split())


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the demo's test bed needs root (network namespaces, loop disks)")
    env = dict(os.environ, IMAGICLE_STATE_STORE=str(tmp_path_factory.mktemp("demo") / "state.sqlite"))
    env.pop("IMAGICLE_CASES_BACKEND", None)
    before = Testbed().status()  # the bed is one per machine: put back the session's after the demo
    try:
        demo("up", env)
        yield demo("tour", env).stdout
    finally:
        demo("down", env)
        if before["status"] == "up":
            start_estate(len(before["hosts"]))


def test_the_demo_shows_faults_becoming_cases(tour):
    steps = tour.split("==== ")
    assert [step.split(" ", 1)[0] for step in steps[1:]] == ["1/4", "2/4", "3/4", "4/4"]
    healthy, faults = flat(steps[1]), flat(steps[3])
    assert "ias-a (acme, gold): 0 alarm(s)" in healthy and "opened 0" in healthy
    assert "P1 voip_stack_crashed [voip_stack] VoIP stack (voip_stack) is not running (respond by" in faults
    assert "P3 disk_space [/srv/appsuite]" in faults
    assert "ias-a (acme, gold): 1 alarm(s), 1 P1" in faults and "ias-b (acme, gold): 1 alarm(s), 1 P3" in faults
    assert "opened 2 |" in faults
    listing = flat(steps[4])
    # Each host's case is filed as soon as that host is evaluated: the references follow the order the hosts finish in.
    crash = re.search(r"open local P1 LOCAL-(\d+) ias-a", listing)
    disk = re.search(r"open local P3 LOCAL-(\d+) ias-b", listing)
    assert crash and disk, listing
    assert {crash.group(1), disk.group(1)} == {"1", "2"}, listing
    assert "make explain HOST=ias-a" in listing and "make demo-down" in listing
