# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The replication collector: real status files and a real peer web server with a shifted clock."""

from __future__ import annotations

import json

import pytest

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors import replication
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import CollectorError
from ansible_collections.imagicle.proactive.tests.unit.plugins.module_utils.collectors._netfixtures import (  # noqa: F401 pylint: disable=unused-import
    Route, closed_port, make_ctx, tls_files, web, web_tls,
)


def status_file(tmp_path, data):
    path = tmp_path / "replication.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def options(path, **extra):
    opts = {"status_file": path, "peer_url": None, "ca_path": None, "validate_certs": True}
    opts.update(extra)
    return opts


def test_missing_file_means_not_configured(tmp_path):
    assert replication.collect(options(str(tmp_path / "none.json")), make_ctx(tmp_path)) == {"configured": False}


def test_no_status_file_set_is_a_host_outside_an_ha_pair(tmp_path):
    # No default path: unset, nothing is read (not even a file of the simulated AppSuite's layout).
    assert not hasattr(replication, "DEFAULT_STATUS_FILE")
    assert replication.collect({"status_file": None, "peer_url": None}, make_ctx(tmp_path)) == {"configured": False}


@pytest.mark.parametrize("raw", ["sync_ready", "sync ready", "Sync Ready", "SYNC-READY"])
def test_sync_ready_spellings(tmp_path, raw):
    path = status_file(tmp_path, {"state": raw, "reason": None, "peer": "ias-b", "updated_at": "2026-11-26T05:39:00Z"})
    section = replication.collect(options(path), make_ctx(tmp_path))
    assert section == {"configured": True, "state": "sync_ready", "healthy": True, "reason": None, "peer": "ias-b",
                       "updated_at": "2026-11-26T05:39:00Z", "clock_skew_seconds": None, "problem": None}


@pytest.mark.parametrize("raw, state", [
    ("sync not ready", "sync_not_ready"), ("failure", "failure"), ("failover", "failover"),
    ("no available node", "no_available_node"), ("failback", "failback"), ("Sync_Not_Ready", "sync_not_ready"),
])
def test_other_states_are_unhealthy(tmp_path, raw, state):
    path = status_file(tmp_path, {"state": raw, "reason": "disk full on ias-b", "peer": "ias-b"})
    section = replication.collect(options(path), make_ctx(tmp_path))
    assert section["state"] == state
    assert section["healthy"] is False
    assert section["reason"] == "disk full on ias-b"
    assert section["problem"] is None


def test_time_not_aligned_is_a_failure(tmp_path):
    path = status_file(tmp_path, {"state": "time not aligned", "peer": "ias-b"})
    section = replication.collect(options(path), make_ctx(tmp_path))
    assert (section["state"], section["reason"], section["healthy"]) == ("failure", "time not aligned", False)


def test_unknown_state(tmp_path):
    path = status_file(tmp_path, {"state": "banana"})
    section = replication.collect(options(path), make_ctx(tmp_path))
    assert section["state"] == "unknown"
    assert section["healthy"] is False
    assert '"banana"' in section["problem"] and path in section["problem"]


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", ""])
def test_garbage_status_file_raises_naming_it(tmp_path, content):
    path = status_file(tmp_path, content)
    with pytest.raises(CollectorError, match="replication.json"):
        replication.collect(options(path), make_ctx(tmp_path))


def test_unreadable_status_file(tmp_path):
    with pytest.raises(CollectorError, match="cannot read"):
        replication.collect(options(str(tmp_path)), make_ctx(tmp_path))  # a directory


def test_clock_aligned_peer(tmp_path, web):
    web.routes["/"] = Route("portal", content_type="text/html")
    path = status_file(tmp_path, {"state": "sync ready", "peer": "ias-b"})
    section = replication.collect(options(path, peer_url=web.url("/")), make_ctx(tmp_path))
    assert abs(section["clock_skew_seconds"]) <= 1.5  # Date has a one-second resolution
    assert section["healthy"] is True
    assert section["problem"] is None


@pytest.mark.parametrize("offset", [30, -40])
def test_peer_clock_off_by_more_than_15_s(tmp_path, web, offset):
    web.clock_offset = offset
    path = status_file(tmp_path, {"state": "sync_ready", "peer": "ias-b"})
    section = replication.collect(options(path, peer_url=web.url("/")), make_ctx(tmp_path))
    assert abs(section["clock_skew_seconds"] - offset) <= 1.5
    assert section["state"] == "sync_ready"
    assert section["healthy"] is False
    assert "NTP" in section["problem"]


def test_peer_clock_within_tolerance(tmp_path, web):
    web.clock_offset = 10
    path = status_file(tmp_path, {"state": "sync_ready"})
    section = replication.collect(options(path, peer_url=web.url("/")), make_ctx(tmp_path))
    assert 8.5 <= section["clock_skew_seconds"] <= 11.5
    assert section["healthy"] is True


def test_peer_asking_for_credentials_still_gives_its_clock(tmp_path, web_tls, tls_files):
    web_tls.routes["/"] = Route("[]", auth=("u", "p"))
    web_tls.clock_offset = -20
    path = status_file(tmp_path, {"state": "sync_ready"})
    section = replication.collect(options(path, peer_url=web_tls.url("/"), ca_path=tls_files.ca), make_ctx(tmp_path))
    assert abs(section["clock_skew_seconds"] + 20) <= 1.5
    assert section["healthy"] is False


def test_peer_unreachable(tmp_path, closed_port):
    path = status_file(tmp_path, {"state": "sync_ready"})
    section = replication.collect(options(path, peer_url="http://127.0.0.1:%d/" % closed_port), make_ctx(tmp_path))
    assert section["clock_skew_seconds"] is None
    assert section["healthy"] is True  # the state is healthy; the unknown skew is reported as error
    assert "clock skew unknown" in section["problem"] and "connection refused" in section["problem"]


def test_bad_peer_url_raises(tmp_path):
    path = status_file(tmp_path, {"state": "sync_ready"})
    with pytest.raises(CollectorError):
        replication.collect(options(path, peer_url="ftp://peer/"), make_ctx(tmp_path))


def test_missing_ca_file_raises(tmp_path):
    path = status_file(tmp_path, {"state": "sync_ready"})
    with pytest.raises(CollectorError, match="ca_path"):
        replication.collect(options(path, peer_url="https://127.0.0.1:1/", ca_path=str(tmp_path / "none.pem")),
                            make_ctx(tmp_path))
