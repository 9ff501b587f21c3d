# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Disk space predicted full, through ansible-playbook: the evaluate action records each run's
space metrics in the state store of the cases callback and reads them back.

Run as users run it (the project's ansible.cfg, the venv's ansible-playbook), on a host with a
local connection that is given its facts. A week of earlier runs is fed with ``detected_at``
set to their own times, a filesystem filling by 3 % a day; then the health_check role evaluates
this run's facts (70 % used: no threshold reached) and the disk gets a P4 "running low" whose
evidence is the prediction. A state store that cannot be opened is a warning, and the host is
still evaluated on its facts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
if str(ROOT / "collections") not in sys.path:
    sys.path.insert(0, str(ROOT / "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store  # noqa: E402
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils.health_fixture import healthy_health  # noqa: E402

MOUNT = "/srv/appsuite"
RATE_PER_DAY = 3.0
NOW_PERCENT = 70.0

PLAYBOOK = Path(__file__).with_name("earlier_runs.yml")


def facts(used_percent: float) -> dict:
    health = healthy_health()
    disk = next(item for item in health["disks"]["items"] if item["mount"] == MOUNT)
    disk["used_percent"] = used_percent
    return {"changed": False, "ansible_facts": {"imagicle_health": health}}


class Runner:
    def __init__(self, tmp_path: Path, store: str):
        self.tmp = tmp_path
        self.store = store
        host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                "imagicle_customer": "acme", "imagicle_consent": True,
                "imagicle_sla": {"plan": "gold", "timezone": "Europe/Rome"}}
        self.inventory = tmp_path / "hosts.yml"
        self.inventory.write_text(yaml.safe_dump({"all": {"children": {"appsuite": {"hosts": {"ias-t": host}}}}}))
        self.playbook = tmp_path / "check.yml"
        self.playbook.write_text(PLAYBOOK.read_text())
        self.alarms = tmp_path / "alarms.json"
        self.env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                        IMAGICLE_STATE_STORE=store, IMAGICLE_CASES_BACKEND="local",
                        PATH=str(VENV_BIN) + os.pathsep + os.environ.get("PATH", ""))
        for name in ("IMAGICLE_PAGER", "IMAGICLE_MAIL"):
            self.env.pop(name, None)

    def run(self, runs: list, now_percent: float) -> subprocess.CompletedProcess:
        runs_file = self.tmp / "runs.json"
        runs_file.write_text(json.dumps(runs))
        facts_file = self.tmp / "facts.json"
        facts_file.write_text(json.dumps(facts(now_percent)))
        command = [str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory), str(self.playbook),
                   "-e", "runs_file=%s facts_file=%s alarms_file=%s file_cases=false" % (runs_file, facts_file, self.alarms)]
        proc = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, "failed (%d):\n%s\n%s" % (proc.returncode, proc.stdout[-4000:], proc.stderr[-2000:])
        assert re.search(r"ias-t\s*: ok=\d+ .*failed=0", proc.stdout)
        return proc

    def disk_alarm(self):
        found = [alarm for alarm in json.loads(self.alarms.read_text())
                 if alarm["rule"] == "disk_space" and alarm["subject"] == MOUNT]
        assert len(found) <= 1
        return found[0] if found else None


def earlier_runs(now: datetime, days: int = 7, every_hours: int = 6) -> list:
    """A run every 6 hours for a week before ``now``, the disk 3 % a day below NOW_PERCENT per day back."""
    runs = []
    for index in range(days * 24 // every_hours, 0, -1):
        hours = index * every_hours
        at = now - timedelta(hours=hours)
        runs.append({"at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "facts": facts(round(NOW_PERCENT - RATE_PER_DAY * hours / 24.0, 3))})
    return runs


def test_a_disk_filling_for_a_week_is_predicted_full_before_any_threshold(tmp_path):
    store = str(tmp_path / "state.sqlite")
    runner = Runner(tmp_path, store)
    # The first run has no history: 70 % is below every threshold, no alarm.
    runner.run([], NOW_PERCENT)
    assert runner.disk_alarm() is None

    now = datetime.now(timezone.utc)
    proc = runner.run(earlier_runs(now), NOW_PERCENT)
    alarm = runner.disk_alarm()
    assert (alarm["priority"], alarm["level"], alarm["title"]) == ("P4", "warn", "Disk space running low")
    assert alarm["evidence"]["threshold"] is None
    prediction = alarm["evidence"]["prediction"]
    assert prediction["slope_per_day"] == pytest.approx(RATE_PER_DAY, rel=0.01)
    assert 9.5 * 24 <= prediction["hours_left"] <= 10.5 * 24
    assert prediction["points"] >= 29 and prediction["quality"] >= 0.9
    eta = datetime.fromisoformat(prediction["eta"].replace("Z", "+00:00"))
    assert abs(eta - (now + timedelta(days=10))) < timedelta(hours=12)
    assert re.search(r"^/srv/appsuite is 70\.0 % full \(56\.3 MB free\); predicted full on \d{4}-\d\d-\d\d \(in 10 days\)$",
                     alarm["summary"])
    shown = " ".join(proc.stdout.split())  # the callback folds long lines
    assert "P4 disk_space [/srv/appsuite] /srv/appsuite is 70.0 % full (56.3 MB free); predicted full on" in shown
    # The history is in the store the cases callback uses: every run's values, raw for a week.
    with open_store(store) as opened:
        history = opened.metrics("ias-t", "disk:%s:used_percent" % MOUNT, now - timedelta(days=30))
        assert len(history) == 28 + 1 + 1  # the week fed, the first run, the last one
        assert history[0][1] == pytest.approx(NOW_PERCENT - 7 * RATE_PER_DAY)
        assert [value for dummy, value in history[-2:]] == [NOW_PERCENT, NOW_PERCENT]
        assert opened.metrics("ias-t", "database:used_percent", now - timedelta(days=30))[-1][1] == 12.5


def test_a_state_store_that_cannot_be_opened_is_a_warning_and_the_host_is_evaluated(tmp_path):
    directory = tmp_path / "not-a-file"
    directory.mkdir()
    runner = Runner(tmp_path, str(directory))
    proc = runner.run([], 96.0)
    alarm = runner.disk_alarm()
    assert (alarm["priority"], alarm["evidence"]["threshold"]) == ("P3", 95)
    warnings = " ".join(proc.stderr.split())
    assert ("host ias-t: the metric history in the state store could not be used (state store sqlite://%s: %s is a "
            "directory" % (directory, directory)) in warnings
    assert "evaluated on this run's facts only" in warnings
