# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The appsuite_facts module as Ansible runs it: arguments in, JSON out."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.imagicle.proactive.plugins.modules import appsuite_facts


def run_module(capsys, args: dict) -> dict:
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            appsuite_facts.main()
    return json.loads(capsys.readouterr().out)


def _args(tmp_path, **extra):
    args = {
        "state_dir": str(tmp_path / "state"),
        "cpu_interval": 0.1,
        "gather_timeout": 2,
        "release": {"file": str(tmp_path / "release.txt")},
        "events": {"sources": [{"path": str(tmp_path / "events.log"),
                                "patterns": [{"regex": "ERROR", "severity": "error"}]}]},
        "cloud": {"url": "http://127.0.0.1:9/test"},
        "webserver": {"url": "http://127.0.0.1:9/"},
        "webapi": {"base_url": "http://127.0.0.1:9", "username": "proactive", "password": "S3cret-webapi-pw"},
        "database": {"engine": "sqlite", "path": str(tmp_path / "absent.sqlite"), "password": "S3cret-db-pw"},
        "replication": {"status_file": str(tmp_path / "replication.json")},
    }
    args.update(extra)
    return args


def test_module_returns_facts_and_warns_about_failed_sections(tmp_path, capsys):
    (tmp_path / "release.txt").write_text("2021.Spring.3\n")
    (tmp_path / "events.log").write_text("old ERROR line\n")
    result = run_module(capsys, _args(tmp_path))
    assert result["changed"] is False
    health = result["ansible_facts"]["imagicle_health"]
    assert health["schema_version"] == 1
    assert health["release"]["raw"] == "2021.Spring.3"
    assert health["release"]["year"] == 2021
    # The missing SQLite file is an error of the database section, repeated as a warning.
    assert "absent.sqlite" in health["database"]["error"]
    # (ansible-core 2.19 returns warnings as structured summaries; their text is what matters)
    assert "absent.sqlite" in json.dumps(result["warnings"])
    # Secrets never come back.
    text = json.dumps(result)
    assert "S3cret-webapi-pw" not in text
    assert "S3cret-db-pw" not in text


def test_check_mode_does_not_write_the_state_dir(tmp_path, capsys):
    (tmp_path / "release.txt").write_text("2021.Spring.3\n")
    (tmp_path / "events.log").write_text("first line\n")
    args = _args(tmp_path, _ansible_check_mode=True)
    result = run_module(capsys, args)
    assert result["ansible_facts"]["imagicle_health"]["check_mode"] is True
    assert not (tmp_path / "state").exists()
    result = run_module(capsys, _args(tmp_path))
    assert (tmp_path / "state").is_dir()


def test_bad_gather_subset_fails_with_the_allowed_names(tmp_path, capsys):
    result = run_module(capsys, _args(tmp_path, gather_subset=["all", "disk"]))
    assert result["failed"] is True
    assert "'disk'" in result["msg"] and "disks" in result["msg"]


def test_a_process_entry_needs_a_name_or_a_pattern(tmp_path, capsys):
    result = run_module(capsys, _args(tmp_path, processes=[{"id": "voip_stack", "role": "voip_stack"}]))
    assert result["failed"] is True
    assert "name" in result["msg"] and "pattern" in result["msg"]
