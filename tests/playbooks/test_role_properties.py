# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Arbitrary facts through the role's tasks, ``evaluate`` and the cases callback, as users run them.

Hypothesis draws an estate: hosts whose facts carry nulls, NaN, wrong types, huge lists or
missing sections, and hosts that did not report at all (the same strategy as the unit-level
properties of the pipeline). Each estate goes through ``ansible-playbook`` with the project's
ansible.cfg: the health_check role (given the facts through ``health_check_facts_result``, so
that its display tasks, ``evaluate`` and the callback see exactly what a host could send), and
the cases callback filing into the local register of a SQLite store. Whatever the facts:

* the run succeeds and no host fails;
* every host ends with its alarms, with ``host_not_reporting`` when it did not report and with
  ``collector_failing`` when a section failed or reads as no measurement;
* each alarm of an eligible host has exactly one case, filed; a second identical run changes
  nothing.

The caps on new cases are lifted here (they have tests of their own) so that the counts are exact.
``IMAGICLE_PROPERTY_EXAMPLES`` sets how many estates are drawn (default 2: each costs two runs).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
if str(ROOT / "collections") not in sys.path:
    sys.path.insert(0, str(ROOT / "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.imagicle.proactive.plugins.plugin_utils import rules  # noqa: E402
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store  # noqa: E402
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils.test_pipeline_properties import (  # noqa: E402
    facts,
)

EXAMPLES = int(os.environ.get("IMAGICLE_PROPERTY_EXAMPLES", "2"))

PLAYBOOK = """
- name: The health_check role on the facts each host sent
  hosts: appsuite
  gather_facts: false
  tasks:
    - name: Check the host
      ansible.builtin.include_role:
        name: imagicle.proactive.health_check
      vars:
        health_check_facts_result: "{{ lookup('ansible.builtin.file', facts_file) | from_json }}"

    - name: Keep what the host ended with
      ansible.builtin.copy:
        content: "{{ {'alarms': imagicle_alarms, 'reporting': imagicle_evaluation.reporting} | to_json }}"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.json"
        mode: "0600"
"""


class Estate:
    """A throwaway inventory of local hosts, each given its facts from a file."""

    def __init__(self, directory: Path, estate: dict):
        self.directory = directory
        self.health = estate
        self.out = directory / "out"
        self.out.mkdir()
        hosts = {}
        for host, health in estate.items():
            facts_file = directory / ("%s.facts.json" % host)
            if health is None:
                result = {"unreachable": True, "msg": "ssh: connect to host %s port 22: Connection timed out" % host}
            else:
                result = {"changed": False, "ansible_facts": {"imagicle_health": health}}
            facts_file.write_text(json.dumps(result))  # NaN is written as NaN: from_json reads it back
            hosts[host] = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                           "imagicle_customer": "acme", "imagicle_consent": True, "imagicle_sla": {"plan": "gold"},
                           "facts_file": str(facts_file)}
        self.inventory = directory / "hosts.yml"
        self.inventory.write_text(yaml.safe_dump({"all": {"children": {"appsuite": {"hosts": hosts}}}}))
        (directory / "check.yml").write_text(PLAYBOOK)
        self.store = directory / "state.sqlite"
        self.env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                        IMAGICLE_STATE_STORE=str(self.store), IMAGICLE_CASES_BACKEND="local",
                        IMAGICLE_CASES_MAX_NEW_PER_HOST="100000", IMAGICLE_CASES_MAX_NEW_PER_RUN="1000000",
                        PATH=str(VENV_BIN) + os.pathsep + os.environ.get("PATH", ""))
        for name in ("IMAGICLE_PAGER", "IMAGICLE_MAIL"):
            self.env.pop(name, None)

    def run(self) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory), "-f", "10",
                               str(self.directory / "check.yml"), "-e", "out_dir=%s" % self.out],
                              cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=900, check=False)
        assert proc.returncode == 0, "the run failed (%d):\n%s\n%s" % (proc.returncode, proc.stdout[-6000:], proc.stderr[-3000:])
        for host in self.health:
            assert re.search(r"^%s\s*: ok=\d+ .*unreachable=0 +failed=0" % host, proc.stdout, re.M), (host, proc.stdout[-3000:])
        return proc

    def ended_with(self, host: str) -> dict:
        return json.loads((self.out / ("%s.json" % host)).read_text())


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(st.lists(facts(), min_size=6, max_size=10))
def test_any_facts_through_the_role_and_the_callback_end_as_alarms_and_one_case_each(drawn):
    estate = {"ias-%02d" % number: health for number, health in enumerate(drawn)}
    with tempfile.TemporaryDirectory(prefix="imagicle-role-properties-") as directory:
        job = Estate(Path(directory), estate)
        job.run()
        firing = set()
        for host, health in estate.items():
            ended = job.ended_with(host)
            fired = {alarm["rule"] for alarm in ended["alarms"]}
            if health is None:
                assert not ended["reporting"] and "host_not_reporting" in fired, (host, fired)
            else:
                failing = [gap for found in rules.section_gaps(health).values() for gap in found if gap[2]]
                if failing:
                    assert "collector_failing" in fired, (host, failing, fired)
            firing |= {alarm["fingerprint"] for alarm in ended["alarms"] if alarm["eligible"]}

        with open_store(str(job.store)) as store:
            open_cases = {record.fingerprint: record for record in store.cases(status="open")}
            assert set(open_cases) == firing
            assert all(record.case_ref for record in open_cases.values())
            keys = [case["key"] for case in store.local_list()]
            assert len(keys) == len(set(keys)) == len(firing)

        # The same facts again: nothing new, nothing twice.
        job.run()
        with open_store(str(job.store)) as store:
            assert {record.fingerprint for record in store.cases(status="open")} == firing
            assert len(store.local_list()) == len(firing)
