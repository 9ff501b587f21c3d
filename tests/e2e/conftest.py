# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""End-to-end fixtures: the demo estate (two test-bed hosts running the simulated AppSuite over
SSH), a real Request Tracker, and a way to run the project's playbooks as users do."""

from __future__ import annotations

import contextlib
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _path in (os.path.join(ROOT, "tests", "services"),):
    if _path not in sys.path:
        sys.path.insert(0, _path)

# pylint: disable=wrong-import-position
from alertmanager_service import alertmanager_installed, running_alertmanager  # noqa: E402
from estate import root_demo_estate  # noqa: E402
from mail_service import running_mail_server  # noqa: E402
from rt_service import running_rt  # noqa: E402

@pytest.fixture(scope="session")
def estate():
    """Two test-bed hosts with the simulated AppSuite, as `make demo` brings them up."""
    with root_demo_estate() as project:
        yield project


@contextlib.contextmanager
def _mail_server():
    """A real SMTP server (aiosmtpd) on a free loopback port: (port, mailbox)."""
    pytest.importorskip("aiosmtpd.controller")
    with running_mail_server() as server:
        yield server


@pytest.fixture(scope="session")
def smtp_server():
    with _mail_server() as server:
        yield server


@pytest.fixture(scope="module")
def module_smtp_server():
    """Like smtp_server, but the module's own: its mailbox starts empty and ends with the module."""
    with _mail_server() as server:
        yield server


@pytest.fixture(scope="session")
def request_tracker(tmp_path_factory):
    """A real Request Tracker on a free loopback port."""
    with running_rt(str(tmp_path_factory.mktemp("rt-e2e"))) as service:
        yield service


@pytest.fixture(scope="session")
def paging(tmp_path_factory):
    """A real Alertmanager whose webhook receiver records every notification."""
    if not alertmanager_installed():
        pytest.skip("Alertmanager is not installed: run tests/services/install-alertmanager.sh as root")
    with running_alertmanager(str(tmp_path_factory.mktemp("alertmanager-e2e"))) as (service, receiver):
        yield service, receiver
