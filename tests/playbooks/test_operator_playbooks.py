# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operators' playbooks around the scheduled job, run as users run them (the project's
ansible.cfg, the venv's ansible-playbook, the cases callback on the local register of a SQLite
store): ``playbooks/cases.yml`` lists and shows cases, ``playbooks/silence.yml`` adds and lifts
maintenance windows that the callback honours, and an evaluation that only looks
(``file_cases: false``, what ``playbooks/explain.yml`` does) files nothing.

The alarms come from ``imagicle.proactive.evaluate`` given health facts directly (the shape
``appsuite_facts`` returns), on a host with a local connection: no test-bed host is needed here.
The explain playbook against a real host is in tests/e2e/test_explain.py; here only its check of
the request (its first play, on localhost).

AWX surveys (playbooks/awx_configure.yml) may pass an optional question left unanswered as an
empty string, depending on the AWX version: ``-e name=`` gives the playbooks the same "", which
they take as not given.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
if str(ROOT / "collections") not in sys.path:
    sys.path.insert(0, str(ROOT / "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils.health_fixture import (  # noqa: E402
    healthy_health,
    process,
)

JOB = """
- name: Alarms from given health facts, filed by the cases callback
  hosts: appsuite
  gather_facts: false
  tasks:
    - name: Evaluate
      imagicle.proactive.evaluate:
        health: "{{ lookup('ansible.builtin.file', health_file) | from_json }}"
        file_cases: "{{ file_cases | default(true) }}"
"""


class Operator:
    """Runs playbooks against a throwaway inventory and state store."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.store = tmp_path / "state.sqlite"
        inventory = {"all": {"children": {"appsuite": {"hosts": {"ias-q": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "imagicle_customer": "acme", "imagicle_consent": True,
            "imagicle_sla": {"plan": "gold", "timezone": "Europe/Rome"}}}}}}}
        self.inventory = tmp_path / "hosts.yml"
        self.inventory.write_text(yaml.safe_dump(inventory))
        (tmp_path / "job.yml").write_text(JOB)
        self.env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), IMAGICLE_STATE_STORE=str(self.store),
                        IMAGICLE_CASES_BACKEND="local", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                        PATH=str(VENV_BIN) + os.pathsep + os.environ.get("PATH", ""))
        self.env.pop("IMAGICLE_PAGER", None)
        self.env.pop("IMAGICLE_MAIL", None)

    def playbook(self, path, *extra, check=True):
        proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory), str(path), *extra],
                              cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300, check=False)
        if check and proc.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s\n%s" % (path, proc.returncode, proc.stdout[-3000:], proc.stderr[-2000:]))
        return proc

    def job(self, health, *extra):
        (self.tmp / "health.json").write_text(json.dumps(health))
        return self.playbook(self.tmp / "job.yml", "-e", "health_file=%s" % (self.tmp / "health.json"), *extra).stdout

    def cases(self, *extra, check=True):
        return self.playbook(ROOT / "playbooks" / "cases.yml", *extra, check=check)

    def silence(self, *extra, check=True):
        return self.playbook(ROOT / "playbooks" / "silence.yml", *extra, check=check)

    def explain(self, *extra, check=True):
        return self.playbook(ROOT / "playbooks" / "explain.yml", *extra, check=check)


def counts(output: str) -> dict:
    """The callback's table at the end of a run, as numbers."""
    table = output.split("IMAGICLE CASES", 1)[1]
    row = next(line for line in table.splitlines() if line.strip().startswith("opened "))
    return {name.strip(): int(number) for name, number in (cell.strip().rsplit(" ", 1) for cell in row.split("|"))}


def flat(proc) -> str:
    """What a playbook printed, on one line: the YAML output folds long lines."""
    return " ".join((proc.stdout + proc.stderr).replace("'", "").split())


def full_disk(health):
    disk = health["disks"]["items"][1]
    disk.update(used_percent=95.5, free_bytes=2700000, used_bytes=57300000)
    return health


def voip_down(health):
    voip = process(health, "voip_stack")
    voip.update(running=False, count=0, pids=[])
    return health


@pytest.fixture
def operator(tmp_path):
    return Operator(tmp_path)


def test_cases_are_listed_and_shown(operator):
    assert counts(operator.job(full_disk(healthy_health())))["opened"] == 1
    listing = flat(operator.cases())
    assert re.search(r"open local P3 LOCAL-1 ias-q", listing)
    assert "ias-q: Disk space close to saturation (/srv/appsuite)" in listing
    shown = flat(operator.cases("-e", "case=LOCAL-1"))
    assert "Respond by: " in shown and "Customer: acme" in shown and "sent open local" in shown
    assert all(line in shown for line in ("Evidence:", "used_percent: 95.5", "threshold: 95", "mount: /srv/appsuite"))
    assert "no case" in operator.cases("-e", "cases_status=resolved").stdout
    missing = operator.cases("-e", "case=LOCAL-99", check=False)
    assert missing.returncode != 0 and "no case LOCAL-99 in" in flat(missing)


def test_an_evaluation_that_only_looks_files_and_resolves_nothing(operator):
    operator.job(full_disk(healthy_health()))
    looked = operator.job(voip_down(healthy_health()), "-e", "file_cases=false")  # disk fine, VoIP down
    assert "IMAGICLE CASES" not in looked
    listing = flat(operator.cases("-e", "cases_status=all"))
    assert "Disk space close to saturation" in listing and "VoIP" not in listing
    assert "open local P3 LOCAL-1" in listing


def test_a_silence_holds_back_its_alarms_until_it_is_lifted(operator):
    added = operator.silence("-e", "silence_host=ias-q", "-e", "silence_for=2h", "-e", "silence_reason='CHG-7 upgrade'")
    assert "added: #1 host ias-q" in added.stdout and "changed=1" in added.stdout
    again = operator.silence("-e", "silence_host=ias-q", "-e", "silence_for=2h", "-e", "silence_reason='CHG-7 upgrade'")
    assert "end moved: #1" in again.stdout or "already silenced: #1" in again.stdout
    assert "#2" not in again.stdout
    run = counts(operator.job(voip_down(full_disk(healthy_health()))))
    assert (run["opened"], run["silenced"]) == (0, 2)
    listing = flat(operator.cases())
    assert "no case" in listing and "#1 host ias-q" in listing and "CHG-7 upgrade" in listing
    lifted = operator.silence("-e", "silence_lift=1")
    assert "lifted #1" in lifted.stdout and "no silence in force or to come" in lifted.stdout
    run = counts(operator.job(voip_down(full_disk(healthy_health()))))
    assert (run["opened"], run["silenced"]) == (2, 0)


def test_a_silence_of_a_customer_holds_back_its_hosts(operator):
    added = flat(operator.silence("-e", "silence_customer=acme", "-e", "silence_for=1h", "-e", "silence_reason='acme migration'"))
    assert "added: #1 customer acme" in added
    assert counts(operator.job(full_disk(healthy_health())))["silenced"] == 1


def test_a_silence_of_one_rule_files_the_others(operator):
    operator.silence("-e", "silence_host=ias-q", "-e", "silence_rule=disk_space", "-e", "silence_for=30m",
                     "-e", "silence_reason='archive migration'")
    run = counts(operator.job(voip_down(full_disk(healthy_health()))))
    assert (run["opened"], run["silenced"]) == (1, 1)
    assert "VoIP" in flat(operator.cases())


@pytest.mark.parametrize("extra, message", [
    (["-e", "silence_host=ias-z", "-e", "silence_for=1h", "-e", "silence_reason=x"],
     "silence_host=ias-z is not a host of the inventory"),
    (["-e", "silence_host=ias-q", "-e", "silence_for=1h"], "reason is required"),
    (["-e", "silence_host=ias-q", "-e", "silence_for=soon", "-e", "silence_reason=x"], "duration must be a duration"),
    (["-e", "silence_rule=disk_spce", "-e", "silence_for=1h", "-e", "silence_reason=x"], "is not a rule of the catalogue"),
    (["-e", "silence_lift=7"], "there is no silence #7"),
    (["-e", "silence_customer=acne", "-e", "silence_for=1h", "-e", "silence_reason=x"],
     "silence_customer=acne is not the imagicle_customer of any host of the inventory"),
])
def test_a_bad_silence_request_fails_saying_what_to_give(operator, extra, message):
    proc = operator.silence(*extra, check=False)
    assert proc.returncode != 0
    assert message in flat(proc)


def empty(*names):
    """-e NAME= for each name: an optional survey question left unanswered, as some AWX versions pass it."""
    return [arg for name in names for arg in ("-e", "%s=" % name)]


def test_empty_answers_to_optional_silence_questions_count_as_not_given(operator):
    added = operator.silence("-e", "silence_host=ias-q", "-e", "silence_for=2h", "-e", "silence_reason='CHG-9 upgrade'",
                             *empty("silence_rule", "silence_customer", "silence_lift"))
    assert "added: #1 host ias-q" in added.stdout and "changed=1" in added.stdout
    assert "rule" not in flat(added).split("added: #1 host ias-q", 1)[1].split(",", 1)[0]
    # Every optional answer empty, the defaults of the survey given: the silences are listed.
    listed = operator.silence("-e", "silence_for=2h", "-e", "silence_reason=x",
                              *empty("silence_host", "silence_rule", "silence_customer", "silence_lift"))
    assert "#1 host ias-q" in listed.stdout and "#2" not in listed.stdout and "changed=0" in listed.stdout
    run = counts(operator.job(full_disk(healthy_health())))
    assert (run["opened"], run["silenced"]) == (0, 1)
    # An integer answer (the survey's silence_lift), the other answers empty.
    lifted = operator.silence("-e", json.dumps({"silence_lift": 1}), "-e", "silence_for=2h", "-e", "silence_reason=x",
                              *empty("silence_host", "silence_rule", "silence_customer"))
    assert "lifted #1" in lifted.stdout and "no silence in force or to come" in lifted.stdout


def test_empty_answers_to_optional_cases_questions_count_as_not_given(operator):
    operator.job(full_disk(healthy_health()))
    listing = flat(operator.cases(*empty("cases_status", "cases_host", "cases_customer", "case")))
    assert re.search(r"open local P3 LOCAL-1 ias-q", listing)
    assert "Respond by: " not in listing  # a listing, not one case shown in full
    assert flat(operator.cases()) == listing


def test_explain_wants_a_host_and_says_so_for_an_empty_answer(operator):
    proc = operator.explain(*empty("explain_host"), check=False)
    assert proc.returncode != 0
    assert "give one host of the inventory: -e explain_host=NAME" in flat(proc) and "(got nothing)" in flat(proc)


def test_explain_with_an_empty_rule_explains_every_alarm(operator):
    # ias-q has a local connection: the check runs on this machine, its system section only.
    proc = operator.explain("-e", "explain_host=ias-q", *empty("explain_rule"),
                            "-e", json.dumps({"imagicle_gather_subset": ["system"],
                                              "imagicle_state_dir": str(operator.tmp / "host-state")}))
    text = flat(proc)
    assert "ias-q: customer acme, plan gold, reporting" in text
    assert "of rule" not in text  # not filtered on a rule named ""
