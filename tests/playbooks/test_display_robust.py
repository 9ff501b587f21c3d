# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the health_check role and the scheduled job print cannot fail, forge lines or leak numbers.

Run as users run them (the project's ansible.cfg, the venv's ansible-playbook), on a host with a
local connection that is given its facts (the role's ``health_check_facts_result``) instead of
collecting them: facts a real host may send when something is off - ``system.load_average: null``
(the load could not be read), a process id and an event line with a line break followed by
``FAKE LINE: P1 ok``, a caller's phone number. The host must still be evaluated (its alarms set),
no printed line may start with ``FAKE LINE``, the number may not appear, and one bad contact
address is a warning, not a failed host.

The console output is the default callback's YAML: each task's result is parsed back, so that a
line break inside a message shows as what it is (a second line) and not as the callback's folding
of long lines.
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

PHONE = "3471234567"
FAKE = "\nFAKE LINE: P1 ok"

ROLE_PLAYBOOK = """
- name: The role's evaluate and display steps on given facts
  hosts: appsuite
  gather_facts: false
  tasks:
    - name: Check the host with the facts it sent
      ansible.builtin.include_role:
        name: imagicle.proactive.health_check
      vars:
        health_check_facts_result: "{{ lookup('ansible.builtin.file', facts_file) | from_json }}"
        health_check_file_cases: false

    - name: The host was evaluated
      ansible.builtin.assert:
        that:
          - imagicle_alarms is defined
          - imagicle_alarms | selectattr('rule', 'eq', 'voip_stack_crashed') | list | length == 1
          - imagicle_evaluation.notify.emails == ['it-ops@acme.example']
        quiet: true
"""


def odd_health() -> dict:
    """Healthy facts, but with what a host may really send when something is off."""
    health = healthy_health()
    health["system"]["load_average"] = None
    voip = process(health, "voip_stack")
    voip.update(id="voip" + FAKE, application="VoIP caller %s%s" % (PHONE, FAKE), running=False, count=0, pids=[])
    health["events"]["items"] = [
        {"source": "/srv/appsuite/logs/events.log", "severity": "error" + FAKE, "pattern": "error",
         "line": "2026-11-26T05:39:58Z ERROR call from %s dropped%s" % (PHONE, FAKE)},
    ]
    health["disks"]["items"][1]["mount"] = "/srv/caller%s%s" % (PHONE, FAKE)
    return health


class Runner:
    """ansible-playbook on a throwaway inventory: one checked host, one that was not checked."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        hosts = {
            "ias-t": {
                "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                "imagicle_customer": "acme", "imagicle_consent": True,
                "imagicle_sla": {"plan": "gold", "timezone": "Europe/Rome"},
                "imagicle_contacts": ["it-ops@acme.example", "ops@acme.example, boss@acme.example"],
            },
            # In the group but left out of the run (--limit): the summary reads what the inventory
            # says of it, an evaluation without eligibility and alarms that are not a list.
            "ias-u": {
                "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                "imagicle_evaluation": {"customer": "acme\nFAKE LINE: P1 ok", "plan": "gold"},
                "imagicle_alarms": "not a list",
            },
        }
        self.inventory = tmp_path / "hosts.yml"
        self.inventory.write_text(yaml.safe_dump({"all": {"children": {"appsuite": {"hosts": hosts}}}}))
        self.facts = tmp_path / "facts.json"
        self.facts.write_text(json.dumps({"changed": False, "ansible_facts": {"imagicle_health": odd_health()}}))
        self.env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                        ANSIBLE_CALLBACK_RESULT_FORMAT="yaml", IMAGICLE_STATE_STORE=str(tmp_path / "state.sqlite"),
                        IMAGICLE_CASES_BACKEND="local", PATH=str(VENV_BIN) + os.pathsep + os.environ.get("PATH", ""))
        for name in ("IMAGICLE_PAGER", "IMAGICLE_MAIL"):
            self.env.pop(name, None)

    def playbook(self, path, *extra) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory), str(path), *extra],
                              cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, "%s failed (%d):\n%s\n%s" % (path, proc.returncode, proc.stdout[-4000:],
                                                                 proc.stderr[-2000:])
        return proc


def task_messages(stdout: str) -> dict:
    """{task name: [the msg of each host]} of the debug tasks, parsed back from the YAML output."""
    messages: dict = {}
    task = None
    lines = stdout.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        header = re.match(r"TASK \[(?:[^\]]* : )?(.*)\] \*+$", line)
        if header:
            task = header.group(1)
        elif re.match(r"ok: \[[^\]]+\] => ?$", line):
            block = []
            index += 1
            while index < len(lines) and lines[index].startswith("    "):
                block.append(lines[index][4:])
                index += 1
            result = yaml.safe_load("\n".join(block)) or {}
            if "msg" in result:
                messages.setdefault(task, []).append(result["msg"])
            continue
        index += 1
    return messages


def assert_one_line_each(lines):
    assert isinstance(lines, list) and lines
    for line in lines:
        assert isinstance(line, str) and "\n" not in line and "\r" not in line, repr(line)
        assert not line.lstrip().startswith("FAKE LINE"), line


def assert_nothing_forged_or_leaked(proc):
    # A forged line would be an item of its own ("- FAKE LINE: ..."); an indented line without a
    # dash is the callback folding a long item, which the parsed messages show as one line.
    for line in proc.stdout.splitlines():
        assert not re.match(r"\s*- ['\"]?FAKE LINE", line), line
        assert not line.startswith("FAKE LINE"), line
    everything = proc.stdout + proc.stderr
    assert PHONE not in everything and PHONE[3:] not in everything


@pytest.fixture
def runner(tmp_path):
    return Runner(tmp_path)


def test_the_role_evaluates_and_prints_odd_facts_safely(runner):
    playbook = runner.tmp / "check.yml"
    playbook.write_text(ROLE_PLAYBOOK)
    proc = runner.playbook(playbook, "--limit", "ias-t", "-e", "facts_file=%s" % runner.facts)
    assert re.search(r"ias-t\s*: ok=\d+ .*failed=0", proc.stdout)
    messages = task_messages(proc.stdout)
    [report] = messages["Show the health and the alarms of each host"]
    health = alarms = report["ias-t"]
    assert_one_line_each(health)
    assert "system: cpu 12.5 %, memory 4.1 % used, load unknown, up 6.2 days" in health
    assert "process voip FAKE LINE: P1 ok: NOT RUNNING" in health
    assert any(line.startswith("  error FAKE LINE: P1 ok: 2026-11-26T05:39:58Z ERROR call from 347******* dropped")
               for line in health)
    assert any(line.startswith("P1 voip_stack_crashed [voip FAKE LINE: P1 ok] VoIP caller 347******* FAKE LINE")
               for line in alarms)
    assert_nothing_forged_or_leaked(proc)
    # One bad contact is a warning naming host, variable and entry; the good one is kept (asserted in the play).
    warnings = " ".join(proc.stderr.split())
    assert "host ias-t: imagicle_contacts entry 2 'ops@acme.example, boss@acme.example' was left out" in warnings


def test_the_scheduled_job_prints_odd_facts_and_odd_hostvars_safely(runner):
    # The job as scheduled, its facts given as extra vars (-e @file): the role and the summary play.
    extra = runner.tmp / "extra.json"
    extra.write_text(json.dumps({"health_check_facts_result": json.loads(runner.facts.read_text()),
                                 "health_check_file_cases": False}))
    proc = runner.playbook(ROOT / "playbooks" / "proactive_check.yml", "--limit", "ias-t,localhost", "-e", "@%s" % extra)
    assert re.search(r"ias-t\s*: ok=\d+ .*failed=0", proc.stdout)
    assert re.search(r"localhost\s*: ok=1 .*failed=0", proc.stdout)
    messages = task_messages(proc.stdout)
    [report] = messages["Show the health and the alarms of each host"]
    assert sorted(report) == ["ias-t"]  # the play is limited to ias-t
    for lines in report.values():
        assert_one_line_each(lines)
    [summary] = messages["Alarms per host, and the hosts without proactive cases with the reason"]
    assert summary == [
        "ias-t (acme, gold): 1 alarm(s), 1 P1",
        "ias-u (acme FAKE LINE: P1 ok, gold): alarms unreadable (imagicle_alarms is str, not a list)",
    ]
    assert_nothing_forged_or_leaked(proc)
