# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health_check role's ``imagicle_profile``: what servers installed the same way share, with
each host's own ``imagicle_<option>`` merged over it, through the real module on hosts with a
local connection (the controller itself; no test-bed host is needed).

* a host of the profile gets the profile's processes, database, event log and release file, and
  its own ``imagicle_database`` adds a key without losing the profile's engine and path;
* a host's own ``imagicle_processes`` (a list) replaces the profile's as a whole;
* a host outside the profile, without settings, gets ``not_configured`` sections naming the
  variables to set and no alarm but the P4s that say so.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"

PLAYBOOK = """
- name: The health_check role with a profile
  hosts: appsuite
  gather_facts: false
  tasks:
    - name: Check the host
      ansible.builtin.include_role:
        name: imagicle.proactive.health_check
      vars:
        health_check_file_cases: false

    - name: Keep what the host ended with
      ansible.builtin.copy:
        content: "{{ {'health': ansible_facts.imagicle_health, 'alarms': imagicle_alarms} | to_json }}"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.json"
        mode: "0600"
"""


def test_profile_merged_under_the_hosts_own_options(tmp_path):
    marker = "imagicle-profile-%s" % uuid.uuid4().hex[:10]
    # A process with the marker in its command line, stopped by its PID at the end.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", marker])
    try:
        (tmp_path / "release.txt").write_text("2024.Summer.2\n")
        (tmp_path / "events.log").write_text("")
        sqlite3.connect(str(tmp_path / "app.sqlite")).execute("CREATE TABLE t (x)").connection.commit()
        profile = {
            "gather_subset": ["processes", "database", "events", "release"],
            "processes": [{"id": "voip_stack", "pattern": marker, "role": "voip_stack", "application": "VoIP stack"}],
            "database": {"engine": "sqlite", "path": str(tmp_path / "app.sqlite")},
            "events": {"sources": [{"path": str(tmp_path / "events.log"),
                                    "patterns": [{"regex": "ERROR", "severity": "error"}]}]},
            "release": {"file": str(tmp_path / "release.txt")},
        }
        common = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                  "imagicle_customer": "acme", "imagicle_consent": True, "imagicle_sla": {"plan": "gold"}}
        hosts = {
            "profiled": dict(common, imagicle_profile=profile, imagicle_database={"max_size_mb": 8},
                             imagicle_state_dir=str(tmp_path / "state-profiled")),
            "replaced": dict(common, imagicle_profile=profile, imagicle_state_dir=str(tmp_path / "state-replaced"),
                             imagicle_processes=[{"id": "ivr", "pattern": marker + "-absent", "role": "service"}]),
            "bare": dict(common, imagicle_gather_subset=["processes", "database", "events", "release"],
                         imagicle_state_dir=str(tmp_path / "state-bare")),
        }
        (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"appsuite": {"hosts": hosts}}}}))
        (tmp_path / "check.yml").write_text(PLAYBOOK)
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), IMAGICLE_CASES_BACKEND="local",
                   IMAGICLE_STATE_STORE=str(tmp_path / "state.sqlite"),
                   PATH=str(VENV_BIN) + os.pathsep + os.environ.get("PATH", ""))
        proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", str(tmp_path / "hosts.yml"),
                               str(tmp_path / "check.yml"), "-e", "out_dir=%s" % tmp_path],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    ended = {host: json.loads((tmp_path / ("%s.json" % host)).read_text()) for host in hosts}

    profiled = ended["profiled"]["health"]
    assert [(item["id"], item["running"], item["pids"]) for item in profiled["processes"]["items"]] == [
        ("voip_stack", True, [sleeper.pid])]
    # The host's imagicle_database added the limit; the profile's engine and path stayed.
    assert profiled["database"]["engine"] == "sqlite" and profiled["database"]["name"] == str(tmp_path / "app.sqlite")
    assert profiled["database"]["limit_bytes"] == 8 * 1048576 and profiled["database"]["limit_source"] == "configured"
    assert profiled["release"]["raw"] == "2024.Summer.2"
    assert [source["path"] for source in profiled["events"]["sources"]] == [str(tmp_path / "events.log")]
    assert ended["profiled"]["alarms"] == []

    # A list option of the host replaces the profile's whole list.
    replaced = ended["replaced"]
    assert [(item["id"], item["running"]) for item in replaced["health"]["processes"]["items"]] == [("ivr", False)]
    assert replaced["health"]["database"]["limit_bytes"] is None  # no imagicle_database of its own: the profile's only
    assert replaced["alarms"] == []  # a service down is no rule's business here

    # Without a profile or settings: what to set, section by section, in one P4 for the host; no P1.
    bare = ended["bare"]
    for section, variable in (("processes", "imagicle_processes"), ("database", "imagicle_database.engine"),
                              ("events", "imagicle_events.sources"), ("release", "imagicle_release.file")):
        assert "(inventory variable %s)" % variable in bare["health"][section]["not_configured"]
    assert [(a["rule"], a["priority"], a["subject"]) for a in bare["alarms"]] == [("host_not_configured", "P4", "")]
    assert bare["alarms"][0]["evidence"]["settings"] == ("imagicle_processes, imagicle_database.engine, "
                                                         "imagicle_events.sources, imagicle_release.file")
