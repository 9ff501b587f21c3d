# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A process restarting again and again, through ansible-playbook: one P1 alarm and one case.

Run as users run it (the project's ansible.cfg, the venv's ansible-playbook), on a host with a
local connection that is given its facts. Four earlier runs, five minutes apart, are fed with
``detected_at`` set to their own times; the IVR process has a new start time at three of them,
yet every run finds it running. Then the health_check role evaluates this run's facts (IVR
running, no restart since the last run) and files cases in the ``local`` backend: the history
in the state store gives exactly one alarm, ``process_restart_loop`` P1 for ``ivr``, and one open
case for it. The same facts without the earlier runs give no alarm.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
if not VENV_BIN.exists():  # a worktree without its own venv uses the interpreter running the tests
    VENV_BIN = Path(sys.executable).parent
if str(ROOT / "collections") not in sys.path:
    sys.path.insert(0, str(ROOT / "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store  # noqa: E402
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils.health_fixture import healthy_health  # noqa: E402

PLAYBOOK = Path(__file__).with_name("earlier_runs.yml")


def facts(start_epoch: float, restarted: bool) -> dict:
    health = healthy_health()
    ivr = next(item for item in health["processes"]["items"] if item["id"] == "ivr")
    ivr.update(start_time_epoch=start_epoch, restarted=restarted)
    return {"changed": False, "ansible_facts": {"imagicle_health": health}}


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def run_playbook(tmp_path: Path, store: str, runs: list, now_facts: dict) -> tuple[subprocess.CompletedProcess, list]:
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "imagicle_customer": "acme", "imagicle_consent": True,
            "imagicle_sla": {"plan": "gold", "timezone": "Europe/Rome"}}
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"appsuite": {"hosts": {"ias-t": host}}}}}))
    playbook = tmp_path / "check.yml"
    playbook.write_text(PLAYBOOK.read_text())
    runs_file, facts_file, alarms_file = tmp_path / "runs.json", tmp_path / "facts.json", tmp_path / "alarms.json"
    runs_file.write_text(json.dumps(runs))
    facts_file.write_text(json.dumps(now_facts))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               IMAGICLE_STATE_STORE=store, IMAGICLE_CASES_BACKEND="local",
               PATH=str(VENV_BIN) + os.pathsep + os.environ.get("PATH", ""))
    for name in ("IMAGICLE_PAGER", "IMAGICLE_MAIL"):
        env.pop(name, None)
    command = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(playbook),
               "-e", "runs_file=%s facts_file=%s alarms_file=%s file_cases=true" % (runs_file, facts_file, alarms_file)]
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, "failed (%d):\n%s\n%s" % (proc.returncode, proc.stdout[-4000:], proc.stderr[-2000:])
    assert re.search(r"ias-t\s*: ok=\d+ .*failed=0", proc.stdout)
    return proc, json.loads(alarms_file.read_text())


def test_a_process_restarting_again_and_again_is_one_p1_alarm_and_one_case(tmp_path):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    first = now.timestamp() - 86400
    # Runs at -20, -15, -10 and -5 minutes: a new start time at the last three, each a minute before its run.
    starts = [first] + [(now - timedelta(minutes=minutes + 1)).timestamp() for minutes in (15, 10, 5)]
    runs = [{"at": stamp(now - timedelta(minutes=20 - 5 * index)), "facts": facts(start, restarted=index > 0)}
            for index, start in enumerate(starts)]
    store = str(tmp_path / "state.sqlite")
    proc, alarms = run_playbook(tmp_path, store, runs, facts(starts[-1], restarted=False))
    [alarm] = alarms
    assert (alarm["rule"], alarm["priority"], alarm["subject"], alarm["page"]) == ("process_restart_loop", "P1", "ivr", False)
    assert alarm["evidence"]["restarts"] == 3 and alarm["evidence"]["running"] is True
    assert alarm["evidence"]["restart_times"] == ", ".join(stamp(datetime.fromtimestamp(start, timezone.utc))
                                                           for start in starts[1:])
    assert alarm["summary"].startswith("IVR (ivr) restarted 3 times within 60 min (started at ")
    shown = " ".join(proc.stdout.split())
    assert "P1 process_restart_loop [ivr] IVR (ivr) restarted 3 times within 60 min" in shown
    with open_store(store) as opened:
        cases = opened.cases(status="open")
        assert [(case.rule, case.subject, case.priority, case.fingerprint) for case in cases] == [
            ("process_restart_loop", "ivr", "P1", alarm["fingerprint"])]
        assert len(opened.local_list()) == 1


def test_the_same_facts_without_earlier_runs_give_no_alarm(tmp_path):
    now = datetime.now(timezone.utc)
    dummy, alarms = run_playbook(tmp_path, str(tmp_path / "state.sqlite"), [], facts(now.timestamp() - 60, restarted=False))
    assert alarms == []
