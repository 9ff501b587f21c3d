# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the paging tests: a real Prometheus Alertmanager and a webhook receiver, both on 127.0.0.1.

The receiver is a small HTTP server that records every POST (path, headers, decoded JSON). The
Alertmanager (Debian's ``prometheus-alertmanager``, installed by tests/services/install-alertmanager.sh)
runs from a configuration written here: one route to a webhook receiver pointing at the recorder,
grouped by ``dedup_key`` (one group per page), ``group_wait`` 1s, ``group_interval`` 1s and a long
``repeat_interval``; its own storage directory; the web API on a free loopback port and the cluster
listener disabled (``--cluster.listen-address=``). It is started once per session in the background,
ready when ``GET /api/v2/status`` answers, restarted if a test stopped it, and stopped by its PID at
the end. Tests SKIP only when the binary is not installed.
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
from alertmanager_service import (  # noqa: E402,F401  (re-exported for the tests)
    BINARY,
    GROUP_INTERVAL_S,
    Alertmanager,
    Receiver,
    alertmanager_installed,
    free_port,
    wait_until,
)


@pytest.fixture(scope="session")
def receiver():
    server = Receiver()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def alertmanager_service(tmp_path_factory, receiver):
    """The session's Alertmanager (started once, stopped by PID at the end)."""
    if not alertmanager_installed():
        pytest.skip(f"{BINARY} is not installed: run tests/services/install-alertmanager.sh as root")
    service = Alertmanager(str(tmp_path_factory.mktemp("alertmanager")), receiver.url, free_port())
    service.start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def alertmanager(alertmanager_service):
    """The running Alertmanager (started again if a previous test stopped it)."""
    if not alertmanager_service.running():
        alertmanager_service.start()
    return alertmanager_service
