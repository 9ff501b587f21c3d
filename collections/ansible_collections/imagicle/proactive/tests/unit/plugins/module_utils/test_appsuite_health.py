# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The orchestration of appsuite_facts: subsets, one CPU sample, isolation of failures."""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.imagicle.proactive.plugins.module_utils import appsuite_health
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import CollectorError


@pytest.mark.parametrize(
    "requested, expected",
    [
        (["all"], list(appsuite_health.ALL_SECTIONS)),
        (None, list(appsuite_health.ALL_SECTIONS)),
        (["min"], ["system", "disks", "release"]),
        (["disks", "cloud"], ["disks", "cloud"]),
        (["cloud", "disks"], ["disks", "cloud"]),
        (["all", "!events", "!cloud"], [s for s in appsuite_health.ALL_SECTIONS if s not in ("events", "cloud")]),
        (["!events"], [s for s in appsuite_health.ALL_SECTIONS if s != "events"]),
        (["min", "!release"], ["system", "disks"]),
    ],
)
def test_resolve_subset(requested, expected):
    assert appsuite_health.resolve_subset(requested) == expected


def test_resolve_subset_rejects_unknown_names_and_lists_the_allowed_ones():
    with pytest.raises(ValueError) as info:
        appsuite_health.resolve_subset(["all", "dsks"])
    message = str(info.value)
    assert "'dsks'" in message
    assert "disks" in message and "min" in message


def _params(tmp_path, **extra):
    params = {
        "gather_subset": ["all"],
        "gather_timeout": 2,
        "cpu_interval": 0.2,
        "state_dir": str(tmp_path / "state"),
        "processes": [{"id": "me", "name": None, "pattern": "python", "role": "service", "application": "test"}],
        "disks": {"mounts": [], "exclude_fstypes": ["tmpfs"]},
        "database": {"engine": "none"},
        "webserver": {"url": "http://127.0.0.1:9/", "ca_path": None, "validate_certs": True, "timeout": 1},
        "webapi": {"base_url": "http://127.0.0.1:9", "username": "u", "password": "p", "ca_path": None,
                   "validate_certs": True},
        "capacity": {"apps": ["ivr"], "licensed": {"ivr": 4}, "paths": {"ivr": "/x"}},
        "events": {"sources": [], "max_events": 10, "max_bytes": 1000},
        "replication": {"status_file": str(tmp_path / "absent.json"), "peer_url": None, "ca_path": None,
                        "validate_certs": True},
        "cloud": {"url": "http://127.0.0.1:9/test", "proxy": None, "ca_path": None, "validate_certs": True,
                  "expected_message": "successfully connected!", "timeout": 1},
        "release": {"file": str(tmp_path / "release.txt")},
    }
    params.update(extra)
    return params


def test_gather_returns_every_section_and_isolates_failures(tmp_path):
    (tmp_path / "release.txt").write_text("not a release\n")
    health = appsuite_health.gather(_params(tmp_path))
    assert health["schema_version"] == 1
    assert health["gather_subset"] == list(appsuite_health.ALL_SECTIONS)
    for name in appsuite_health.ALL_SECTIONS:
        assert isinstance(health[name], dict), name
    # The bad release file is an error in its own section only.
    assert health["release"]["error"].startswith("release: ")
    assert "error" not in health["system"]
    assert health["system"]["cpu_count"] >= 1
    # Nothing listens on port 9: facts, not failures.
    assert health["cloud"]["reachable"] is False
    assert health["webserver"]["up"] is False
    assert health["replication"]["configured"] is False
    assert health["database"]["configured"] is False
    errors = appsuite_health.section_errors(health)
    assert any(e.startswith("release: ") for e in errors)


def test_gather_runs_the_io_collectors_during_the_cpu_sample(tmp_path, monkeypatch):
    """The I/O collectors overlap the CPU interval instead of adding to it."""
    release_started = threading.Event()
    seen_by_finish = []
    original_collect = appsuite_health.COLLECTORS["release"].collect
    original_finish = appsuite_health._cpu.CpuSampler.finish

    def release_collect(options, ctx):
        release_started.set()
        return original_collect(options, ctx)

    def finish(sampler):
        # The sample is still open: the release collector must already be running.
        seen_by_finish.append(release_started.wait(5))
        return original_finish(sampler)

    monkeypatch.setattr(appsuite_health.COLLECTORS["release"], "collect", release_collect)
    monkeypatch.setattr(appsuite_health._cpu.CpuSampler, "finish", finish)
    (tmp_path / "release.txt").write_text("2024.Winter.1\n")
    health = appsuite_health.gather(_params(tmp_path, gather_subset=["system", "release"]))
    assert seen_by_finish == [True]
    assert health["release"]["raw"] == "2024.Winter.1"
    assert "error" not in health["system"]


def test_unexpected_exception_in_a_collector_stays_in_its_section(tmp_path, monkeypatch):
    def broken(options, ctx):
        raise KeyError("surprise")

    def expected_failure(options, ctx):
        raise CollectorError("the file /x is unreadable; fix its permissions")

    monkeypatch.setattr(appsuite_health.COLLECTORS["disks"], "collect", broken)
    monkeypatch.setattr(appsuite_health.COLLECTORS["cloud"], "collect", expected_failure)
    health = appsuite_health.gather(_params(tmp_path, gather_subset=["disks", "cloud", "system"]))
    assert health["disks"] == {"error": "disks: unexpected KeyError: 'surprise'"}
    assert health["cloud"] == {"error": "cloud: the file /x is unreadable; fix its permissions"}
    assert "error" not in health["system"]


def test_a_hanging_collector_is_cut_off_by_the_backstop(tmp_path, monkeypatch):
    def hangs(options, ctx):
        time.sleep(30)

    monkeypatch.setattr(appsuite_health.COLLECTORS["cloud"], "collect", hangs)
    health = appsuite_health.gather(_params(tmp_path, gather_subset=["cloud"], gather_timeout=1))
    assert "did not finish within 6 s" in health["cloud"]["error"]


def test_missing_psutil_names_the_prerequisites_role(tmp_path, monkeypatch):
    monkeypatch.setattr(appsuite_health, "HAS_PSUTIL", False)
    health = appsuite_health.gather(_params(tmp_path, gather_subset=["system", "disks", "release"]))
    for name in ("system", "disks"):
        assert "psutil" in health[name]["error"]
        assert "imagicle.proactive.prerequisites" in health[name]["error"]
    assert "error" in health["release"]  # no release file in tmp_path: its own, unrelated error
    assert "prerequisites" not in health["release"]["error"]


def test_a_collector_with_nothing_to_look_at_is_not_configured_not_failed(tmp_path):
    params = _params(tmp_path, processes=None, database={}, events={"sources": None}, release={},
                     gather_subset=["processes", "database", "events", "release"])
    health = appsuite_health.gather(params)
    assert health["processes"] == {"not_configured": "processes: not configured: no Imagicle process to watch; "
                                   "set the option processes (inventory variable imagicle_processes), "
                                   "e.g. [{id: voip_stack, name: <process name>, role: voip_stack}]"}
    for name in ("database", "events", "release"):
        assert list(health[name]) == ["not_configured"], health[name]
    # Each one message, repeated as the module's warnings.
    expected = [health[name]["not_configured"] for name in ("processes", "database", "events", "release")]
    assert appsuite_health.section_errors(health) == expected
