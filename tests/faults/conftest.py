# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the fault-injection suite: one real Request Tracker, one real Alertmanager (with its
webhook receiver) and one real SMTP server (aiosmtpd) for the session, each reachable through the
fault proxy (tests/services/fault_proxy.py) where a hostile network is needed.

RT is started once and reset to its post-setup database at the start of each test module; the
proxies are cleared (no rules, empty log) before each test. Nothing here skips: a service that
cannot start fails the tests that need it (the suite counts a skip as a failure).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _path in (os.path.join(ROOT, "tests", "services"), os.path.dirname(os.path.abspath(__file__))):
    if _path not in sys.path:
        sys.path.insert(0, _path)

# pylint: disable=wrong-import-position
from alertmanager_service import alertmanager_installed, running_alertmanager  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402
from mail_service import running_mail_server  # noqa: E402
from rt_service import RtService, free_port, rt_installed  # noqa: E402

TESTBED_LOCK = "/tmp/imagicle-testbed.lock"


# --------------------------------------------------------------------------------------------
# Request Tracker
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def rt_session(tmp_path_factory):
    """The session's Request Tracker (started once, stopped at the end)."""
    if not rt_installed():
        pytest.fail("Request Tracker is not installed: run tests/services/install-rt.sh as root", pytrace=False)
    state_dir = str(tmp_path_factory.mktemp("rt-faults"))
    # This instance's auth tokens are hashed with a low bcrypt cost (RT checks the token on every
    # REST 2 request: ~0.2 s each at RT's default cost 12); read before the setup creates them.
    os.makedirs(os.path.join(state_dir, "etc", "RT_SiteConfig.d"), exist_ok=True)
    with open(os.path.join(state_dir, "etc", "RT_SiteConfig.d", "50-faults-speed.pm"), "w", encoding="utf-8") as handle:
        handle.write("# Test instance of tests/faults: cheap token checks.\nSet($BcryptCost, 4);\n1;\n")
    service = RtService(state_dir, free_port())
    service.start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def rt_module(rt_session):
    """RT reset to its post-setup database once per test module."""
    rt_session.reset()
    return rt_session


@pytest.fixture
def rt(rt_module):
    """The running RT (started again if a previous test stopped or killed it)."""
    if not rt_module.running():
        rt_module.stop()
        rt_module.start()
    return rt_module


@pytest.fixture(scope="session")
def rt_proxy_session(rt_session):
    with FaultProxy("127.0.0.1", rt_session.port, upstream_timeout=60) as proxy:
        yield proxy


def _fresh(proxy):
    """A session's fault proxy for one test: running, no rules, an empty log; its rules cleared after."""
    if not proxy.running:
        proxy.start()
    proxy.clear()
    proxy.clear_log()
    yield proxy
    if proxy.running:
        proxy.clear()


@pytest.fixture
def rt_proxy(rt_proxy_session, rt):
    """The fault proxy in front of RT: no rules, an empty log (restarted if a test killed it)."""
    yield from _fresh(rt_proxy_session)


# --------------------------------------------------------------------------------------------
# Alertmanager
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def paging(tmp_path_factory):
    """A real Alertmanager whose webhook receiver records every notification: (service, receiver)."""
    if not alertmanager_installed():
        pytest.fail("Alertmanager is not installed: run tests/services/install-alertmanager.sh as root", pytrace=False)
    with running_alertmanager(str(tmp_path_factory.mktemp("alertmanager-faults"))) as (service, receiver):
        yield service, receiver


@pytest.fixture(scope="session")
def am_proxy_session(paging):
    with FaultProxy("127.0.0.1", paging[0].port) as proxy:
        yield proxy


@pytest.fixture
def am_proxy(am_proxy_session):
    """The fault proxy in front of Alertmanager, as rt_proxy."""
    yield from _fresh(am_proxy_session)


# --------------------------------------------------------------------------------------------
# SMTP
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def smtp_session():
    """A real SMTP server on a free loopback port: (port, mailbox)."""
    try:
        import aiosmtpd.controller  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except ImportError as exc:
        pytest.fail("aiosmtpd is missing from the venv (%s): pip install -r requirements-test.txt" % exc, pytrace=False)
    with running_mail_server() as server:
        yield server


@pytest.fixture
def smtp(smtp_session):
    """The session's SMTP server with an empty mailbox: (port, mailbox)."""
    smtp_session[1].messages.clear()
    return smtp_session


# --------------------------------------------------------------------------------------------
# The test bed
# --------------------------------------------------------------------------------------------


def _inherited_lock_fd() -> int | None:
    """The descriptor of the test bed lock this process inherited (flock(1) around pytest), if any."""
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink("/proc/self/fd/%s" % name) == TESTBED_LOCK:
                return int(name)
    return None


@contextlib.contextmanager
def testbed_lock():
    """Hold the shared test bed's lock: the one flock(1) took around this pytest run, else take it here (waiting)."""
    inherited = _inherited_lock_fd()
    if inherited is not None:
        fcntl.flock(inherited, fcntl.LOCK_EX)  # the same open file: held already, returns at once
        yield
        return
    with open(TESTBED_LOCK, "a", encoding="utf-8") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def demo_estate_locked():
    """The demo estate (two test-bed hosts with the simulated AppSuite), brought up under the test bed's lock."""
    if os.geteuid() != 0:
        pytest.fail("the test bed needs root (network namespaces, loop disks)", pytrace=False)
    from estate import demo_estate  # pylint: disable=import-outside-toplevel

    with testbed_lock():
        with demo_estate() as project:
            yield project
