# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The demo estate for end-to-end tests: test-bed hosts running the simulated AppSuite, and the
project's playbooks run as users run them (the project's ansible.cfg, the venv's Ansible).

By default two hosts and the project's demo inventory (inventories/demo, the one ansible.cfg
names); ``demo_estate(hosts=5, inventory="tests/e2e/inventory")`` brings up more hosts and runs
every playbook with ``-i`` that inventory."""

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
SIM_SCRIPT = "/usr/local/lib/imagicle-sim/appsuite_sim.py"  # where playbooks/simulator.yml puts it
SIM_ROOT = "/srv/appsuite"


class Project:
    """Runs the project's playbooks with the project's ansible.cfg and a given environment."""

    def __init__(self, env: dict, inventory: str | None = None):
        self.env = env
        self.bed = None  # the Testbed, when the project runs against one
        self.inventory = inventory  # None: the inventory of ansible.cfg (inventories/demo)

    def playbook(self, name: str, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
        inventory = ["-i", self.inventory] if self.inventory else []
        command = [os.path.join(VENV_BIN, "ansible-playbook"), *inventory, os.path.join("playbooks", name), *args]
        proc = subprocess.run(command, cwd=ROOT, env=dict(self.env, **(env or {})), capture_output=True, text=True,
                              timeout=300, check=False)
        if check and proc.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s\n%s" % (name, proc.returncode, proc.stdout[-4000:], proc.stderr[-2000:]))
        return proc

    def fault(self, host: str, *fault: str) -> None:
        self.playbook("simulator.yml", "-l", host, "-e", "sim_action=fault", "-e", "sim_args='%s'" % " ".join(fault))

    def clear(self, host: str, fault: str = "all") -> None:
        self.playbook("simulator.yml", "-l", host, "-e", "sim_action=clear", "-e", "sim_args='%s'" % fault)

    def sim(self, host: str, action: str, *args: str) -> str:
        """The simulator's own command on one host (what simulator.yml runs over SSH), straight
        through the test bed: ``sim("ias-a", "fault", "fill-disk", "90")``. Returns its output."""
        proc = self.bed.exec(host, ["/usr/bin/python3", SIM_SCRIPT, action, *args, "--root", SIM_ROOT], timeout=60)
        if proc.returncode != 0:
            raise AssertionError("simulator %s %s on %s failed (%d): %s" % (action, " ".join(args), host, proc.returncode,
                                                                             (proc.stderr or proc.stdout).strip()))
        return proc.stdout


def start_estate(hosts: int = 2, inventory: str | None = None) -> Project:
    """Bring up ``hosts`` test-bed hosts (tearing down any bed that runs) and start the simulated
    AppSuite, without fault, on the hosts of group ``appsuite`` of ``inventory`` (None: the demo
    inventory). Needs root."""
    bed = Testbed()
    bed.up(hosts)
    env = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), IMAGICLE_TESTBED_STATE_DIR=bed.state_dir)
    project = Project(env, inventory=os.path.join(ROOT, inventory) if inventory else None)
    project.bed = bed
    try:
        project.playbook("simulator.yml")
        project.clear("appsuite")
    except BaseException:
        stop_estate(project)
        raise
    return project


def stop_estate(project: Project) -> None:
    """Stop the simulator and tear the test bed down."""
    try:
        project.playbook("simulator.yml", "-e", "sim_action=stop", check=False)
    finally:
        project.bed.down()


@contextlib.contextmanager
def demo_estate(hosts: int = 2, inventory: str | None = None):
    """Bring up ``hosts`` test-bed hosts with the simulated AppSuite (no fault), as `make demo`
    does (two hosts, the demo inventory) or against ``inventory`` (a path, relative to the
    repository or absolute); stop the simulator and tear the bed down at the end. Needs root."""
    project = start_estate(hosts, inventory)
    try:
        yield project
    finally:
        stop_estate(project)


@contextlib.contextmanager
def root_demo_estate():
    """The demo estate for a test session; the test is skipped when not root (the test bed needs
    network namespaces and loop disks)."""
    import pytest  # pylint: disable=import-outside-toplevel

    if os.geteuid() != 0:
        pytest.skip("the test bed needs root (network namespaces, loop disks)")
    with demo_estate() as project:
        yield project
