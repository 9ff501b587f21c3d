# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The demo estate for end-to-end tests: two test-bed hosts running the simulated AppSuite, and
the project's playbooks run as users run them (the project's ansible.cfg, the venv's Ansible)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if os.path.join(ROOT, "tests", "testbed") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, "tests", "testbed"))

# pylint: disable=wrong-import-position
from testbed import Testbed  # noqa: E402

VENV_BIN = os.path.join(ROOT, ".venv", "bin")


class Project:
    """Runs the project's playbooks with the project's ansible.cfg and a given environment."""

    def __init__(self, env: dict):
        self.env = env
        self.bed = None  # the Testbed, when the project runs against one

    def playbook(self, name: str, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
        command = [os.path.join(VENV_BIN, "ansible-playbook"), os.path.join("playbooks", name), *args]
        proc = subprocess.run(command, cwd=ROOT, env=dict(self.env, **(env or {})), capture_output=True, text=True,
                              timeout=300, check=False)
        if check and proc.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s\n%s" % (name, proc.returncode, proc.stdout[-4000:], proc.stderr[-2000:]))
        return proc

    def fault(self, host: str, *fault: str) -> None:
        self.playbook("simulator.yml", "-l", host, "-e", "sim_action=fault", "-e", "sim_args='%s'" % " ".join(fault))

    def clear(self, host: str, fault: str = "all") -> None:
        self.playbook("simulator.yml", "-l", host, "-e", "sim_action=clear", "-e", "sim_args='%s'" % fault)


@contextlib.contextmanager
def demo_estate():
    """Bring up two test-bed hosts with the simulated AppSuite (no fault), as `make demo` does;
    stop the simulator and tear the bed down at the end. Needs root."""
    bed = Testbed()
    bed.up(2)
    env = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), IMAGICLE_TESTBED_STATE_DIR=bed.state_dir)
    project = Project(env)
    project.bed = bed
    try:
        project.playbook("simulator.yml")
        project.clear("appsuite")
        yield project
    finally:
        project.playbook("simulator.yml", "-e", "sim_action=stop", check=False)
        bed.down()
