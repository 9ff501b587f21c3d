# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A test-bed host checked by an inventory that describes nothing of its installation: no
processes, no database, no event log, no release file (no profile, no imagicle_* module option).

The module has no defaults for them, so each of those sections says what to set instead of being
measured, and the evaluation raises one P4 ``host_not_configured`` naming them all and nothing else;
above all no "VoIP stack not running" P1 for processes nobody configured, even while the host's
VoIP stack is down (the simulator's crash-voip fault: the profile-configured check would page)."""

from __future__ import annotations

import json

import yaml

HOST = "ias-a"
ADDRESS = "10.231.47.11"  # tests/testbed/testbed.py's first host, as in inventories/demo/hosts.yml
# Only the sections about the host itself: the network ones (vendor cloud, portal, Web API) are
# not process or path settings, and the test bed has no way out to the vendor's cloud.
SUBSET = ["system", "processes", "disks", "database", "events", "release", "replication"]
NOT_CONFIGURED = {
    "processes": "set the option processes (inventory variable imagicle_processes)",
    "database": "set the option database.engine (inventory variable imagicle_database.engine)",
    "events": "set the option events.sources (inventory variable imagicle_events.sources)",
    "release": "set the option release.file (inventory variable imagicle_release.file)",
}

PLAYBOOK = """
- name: The health_check role on a host whose inventory describes nothing of its installation
  hosts: forgotten
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
        dest: "{{ out_file }}"
        mode: "0600"
      delegate_to: localhost
      vars:
        ansible_connection: local
        ansible_python_interpreter: "{{ ansible_playbook_python }}"
"""


def _inventory(state_dir: str) -> dict:
    """The connection to the test-bed host and the customer, and nothing else."""
    host = {
        "ansible_host": ADDRESS, "ansible_user": "root", "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_ssh_private_key_file": "%s/id_ed25519" % state_dir,
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "
                                   "-o ControlPath=%s/cp-%%C" % state_dir,
        "imagicle_customer": "acme", "imagicle_consent": True, "imagicle_sla": {"plan": "platinum"},
        "imagicle_gather_subset": SUBSET, "imagicle_state_dir": "/var/tmp/imagicle-proactive-not-configured",
    }
    return {"all": {"children": {"forgotten": {"hosts": {HOST: host}}}}}


def test_a_host_without_settings_says_what_to_set_and_pages_nobody(estate, tmp_path):
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(_inventory(estate.bed.state_dir)))
    (tmp_path / "check.yml").write_text(PLAYBOOK)
    out = tmp_path / "ended.json"
    store = {"IMAGICLE_CASES_BACKEND": "local", "IMAGICLE_STATE_STORE": str(tmp_path / "state.sqlite")}
    estate.sim(HOST, "fault", "crash-voip")
    try:
        proc = estate.playbook(str(tmp_path / "check.yml"), "-i", str(tmp_path / "hosts.yml"),
                               "-e", "out_file=%s" % out, env=store)
    finally:
        estate.sim(HOST, "clear", "all")
    ended = json.loads(out.read_text())
    health, alarms = ended["health"], ended["alarms"]

    # One message per section that names what to set; nothing measured, so nothing down.
    for section, what in NOT_CONFIGURED.items():
        assert list(health[section]) == ["not_configured"], (section, health[section])
        assert what in health[section]["not_configured"], health[section]
    assert health["replication"] == {"configured": False}
    assert "error" not in health["system"] and "error" not in health["disks"]
    assert any(item["mount"] == "/srv/appsuite" for item in health["disks"]["items"])  # the host was measured

    # The evaluation: one P4 that names every section not configured and what to set, no P1 (the
    # VoIP stack is down, but nobody said what the VoIP stack is).
    assert [(a["rule"], a["priority"], a["subject"]) for a in alarms] == [("host_not_configured", "P4", "")]
    assert [a for a in alarms if a["priority"] == "P1" or a["page"]] == []
    assert alarms[0]["summary"] == (
        "Not configured on this host: processes, database, events, release; set imagicle_processes, "
        "imagicle_database.engine, imagicle_events.sources, imagicle_release.file (or a profile, imagicle_profile)")

    # What the run shows: the health summary line and the module's warning.
    text = " ".join((proc.stdout + proc.stderr).replace("'", "").split())
    assert "processes: NOT CONFIGURED: no Imagicle process to watch; " + NOT_CONFIGURED["processes"] in text
    assert "[WARNING]: processes: not configured: no Imagicle process to watch" in text
