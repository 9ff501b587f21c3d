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


def _defaults(spec) -> list:
    """Every default of an argument spec, recursively, as JSON text per option."""
    found = []
    for name, option in spec.items():
        if "default" in option:
            found.append("%s=%s" % (name, json.dumps(option["default"])))
        found.extend("%s.%s" % (name, inner) for inner in _defaults(option.get("options") or {}))
    return found


def test_no_default_describes_an_installation():
    # What differs between installations is set in inventory: no default names a process or a
    # path of the simulated AppSuite (or any other installation).
    defaults = _defaults(appsuite_facts.argument_spec())
    assert [d for d in defaults if "/srv/" in d or "ias-" in d or ".pem" in d or ".sqlite" in d] == []
    spec = appsuite_facts.argument_spec()
    for section, option in [("database", "engine"), ("database", "path"), ("events", "sources"),
                            ("release", "file"), ("replication", "status_file"), ("replication", "ca_path"),
                            ("webserver", "ca_path"), ("webapi", "ca_path")]:
        assert "default" not in spec[section]["options"][option], (section, option)
    assert "default" not in spec["processes"]


def test_documentation_matches_the_defaults():
    import yaml

    options = yaml.safe_load(appsuite_facts.DOCUMENTATION)["options"]
    assert "default" not in options["processes"]
    assert "default" not in options["events"]["suboptions"]["sources"]
    assert "default" not in options["database"]["suboptions"]["engine"]
    assert "default" not in options["release"]["suboptions"]["file"]


def test_without_settings_the_sections_say_what_to_set_and_nothing_is_down(tmp_path, capsys):
    # Only what the module cannot do without (no network): the host's processes, database,
    # events and release are not described.
    result = run_module(capsys, {"state_dir": str(tmp_path / "state"), "cpu_interval": 0.1,
                                 "gather_subset": ["all", "!webserver", "!capacity", "!cloud"]})
    health = result["ansible_facts"]["imagicle_health"]
    expected = {"processes": "imagicle_processes", "database": "imagicle_database.engine",
                "events": "imagicle_events.sources", "release": "imagicle_release.file"}
    for section, variable in expected.items():
        assert set(health[section]) == {"not_configured"}, health[section]
        assert health[section]["not_configured"].startswith("%s: not configured: " % section)
        assert "(inventory variable %s)" % variable in health[section]["not_configured"]
        assert "(inventory variable %s)" % variable in json.dumps(result["warnings"])
    # Not in an HA pair, without a word: a standalone server needs no status file.
    assert health["replication"] == {"configured": False}
    assert "error" not in health["system"] and "error" not in health["disks"]
    assert not (tmp_path / "state" / "processes.json").exists()
