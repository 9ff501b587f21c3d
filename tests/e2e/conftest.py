# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""End-to-end fixtures: the demo estate (two test-bed hosts running the simulated AppSuite over
SSH), a real Request Tracker, and a way to run the project's playbooks as users do."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _path in (os.path.join(ROOT, "tests", "services"), os.path.join(ROOT, "tests", "testbed")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

# pylint: disable=wrong-import-position
from alertmanager_service import Alertmanager, Receiver, alertmanager_installed  # noqa: E402
from rt_service import RtService, free_port, rt_installed  # noqa: E402
from testbed import Testbed  # noqa: E402

VENV_BIN = os.path.join(ROOT, ".venv", "bin")


class Project:
    """Runs the project's playbooks with the project's ansible.cfg and a given environment."""

    def __init__(self, env: dict):
        self.env = env

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


@pytest.fixture(scope="session")
def estate():
    """Two test-bed hosts with the simulated AppSuite, as `make demo` brings them up."""
    if os.geteuid() != 0:
        pytest.skip("the test bed needs root (network namespaces, loop disks)")
    bed = Testbed()
    bed.up(2)
    env = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), IMAGICLE_TESTBED_STATE_DIR=bed.state_dir)
    project = Project(env)
    try:
        project.playbook("simulator.yml")
        yield project
    finally:
        project.playbook("simulator.yml", "-e", "sim_action=stop", check=False)
        bed.down()


class Mailbox:
    """A real SMTP server (aiosmtpd) on a free loopback port that keeps what it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append({"to": list(envelope.rcpt_tos), "data": envelope.content.decode("utf-8", "replace")})
        return "250 OK"


@pytest.fixture(scope="session")
def smtp_server():
    controller_module = pytest.importorskip("aiosmtpd.controller")
    mailbox = Mailbox()
    controller = controller_module.Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def request_tracker(tmp_path_factory):
    """A real Request Tracker on a free loopback port."""
    if not rt_installed():
        pytest.skip("Request Tracker is not installed: run tests/services/install-rt.sh as root")
    service = RtService(str(tmp_path_factory.mktemp("rt-e2e")), free_port())
    service.start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="session")
def paging(tmp_path_factory):
    """A real Alertmanager whose webhook receiver records every notification."""
    if not alertmanager_installed():
        pytest.skip("Alertmanager is not installed: run tests/services/install-alertmanager.sh as root")
    receiver = Receiver()
    receiver.start()
    service = Alertmanager(str(tmp_path_factory.mktemp("alertmanager-e2e")), receiver.url, free_port())
    service.start()
    try:
        yield service, receiver
    finally:
        service.stop()
        receiver.stop()
