# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the case backend tests: a real Request Tracker on a free loopback port.

The RT instance is started once per session (its own state directory and SQLite database,
see tests/services/rt_service.py), reset to its post-setup database at the start of each
module, restarted if a test stopped it, and stopped at the end. Tests SKIP only when Debian's
request-tracker5 is not installed (install it with tests/services/install-rt.sh as root).
"""

from __future__ import annotations

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _path in (os.path.join(ROOT, "collections"), os.path.join(ROOT, "tests", "services")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

# pylint: disable=wrong-import-position
from rt_service import running_rt  # noqa: E402


@pytest.fixture(scope="session")
def rt_service(tmp_path_factory):
    """The session's Request Tracker (started once, stopped at the end)."""
    with running_rt(str(tmp_path_factory.mktemp("rt"))) as service:
        yield service


@pytest.fixture(scope="module")
def rt_module(rt_service):
    """The service reset to its post-setup database once per test module."""
    rt_service.reset()
    return rt_service


@pytest.fixture
def rt(rt_module):
    """The running service (started again if a previous test stopped it)."""
    if not rt_module.running():
        rt_module.start()
    return rt_module
