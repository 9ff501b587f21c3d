# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A disk filled steadily from outside is predicted full, P4 then P3, before any threshold, in
one Request Tracker ticket.

The disk is real: ``/srv/appsuite`` of test-bed host ias-b is its own loop-mounted ext4 image
(tests/testbed, 64 MB), the filesystem the ``disks`` collector measures there with psutil
(statvfs). The test writes real bytes onto it from outside the project, straight through the
test bed (``nsenter``), a file of a fixed size between two runs.

The test cannot wait days, so time is simulated: the scheduled job (playbooks/proactive_check.yml,
the health_check role, the cases callback filing into a real RT) runs once per simulated
``STEP`` with ``health_check_detected_at`` set to that run's simulated time, and the fill between
two runs is ``step_bytes``. The real rate is then ``step_bytes`` per ``STEP``, and the real time
left at a run is the free space the host reports (statvfs, read by the test) divided by that
rate. The evaluate action records each run's ``used_percent`` in the state store at its
simulated time; the prediction needs 4 values over at least a day.

What must happen (docs/alarms.md, "Predicted full"): no alarm while the history is too short;
then a P4 ticket ("running low", predicted full within 14 days) while the disk is below the
85 % warn threshold; then the same ticket raised to P3 (predicted full within 3 days) while the
disk is below 95 %; every prediction within 20 % of the real time left; one ticket for the
disk, ever. The alarms of each run are read from Ansible's own fact cache (jsonfile), where the
evaluate action's facts ``imagicle_alarms`` land; the ticket from RT's REST 2 API.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timedelta, timezone

import pytest
import requests

from test_cases_rt import Tickets  # tests/e2e, as test_brief_scenarios imports it

HOST = "ias-b"
MOUNT = "/srv/appsuite"
FILL_DIR = MOUNT + "/e2e-steady-fill"  # removed at the end, whatever happens
STEP = timedelta(hours=8)              # simulated time between two runs
START_PERCENT = 59.5                   # used before the first run
STEP_PERCENT = 3.0                     # written between two runs: 9 % a simulated day
RUNS = 7
WARN, CRIT = 85.0, 95.0                # the disk_space thresholds (docs/alarms.md)
RT_PRIORITY = {"P4": 30, "P3": 50}
TOLERANCE = 0.2                        # of the real time left

STATVFS = ("import os, json; s = os.statvfs(%r); "
           "print(json.dumps({'frsize': s.f_frsize, 'used': (s.f_blocks - s.f_bfree) * s.f_frsize, "
           "'avail': s.f_bavail * s.f_frsize}))" % MOUNT)
WRITE = ("import os, sys; os.makedirs(sys.argv[1], exist_ok=True); path = os.path.join(sys.argv[1], sys.argv[2]); "
         "fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600); size = int(sys.argv[3]); chunk = b'\\xa5' * 65536\n"
         "while size > 0:\n    size -= os.write(fd, chunk[:min(size, len(chunk))])\n"
         "os.fsync(fd); os.close(fd)")


def space(estate) -> dict:
    """Used and available bytes of the host's filesystem, as statvfs tells the test (not the project)."""
    proc = estate.bed.exec(HOST, ["/usr/bin/python3", "-c", STATVFS])
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def write(estate, name: str, size: int) -> None:
    proc = estate.bed.exec(HOST, ["/usr/bin/python3", "-c", WRITE, FILL_DIR, name, str(size)])
    assert proc.returncode == 0, "writing %d bytes to %s/%s on %s failed: %s" % (size, FILL_DIR, name, HOST, proc.stderr)


def attachments(service, ticket_id: str) -> list:
    """The text of the ticket's attachments, oldest first: the case body, then the comments."""
    answer = requests.get("%s/ticket/%s/attachments?fields=Content,ContentType&per_page=100" % (service.rest_url, ticket_id),
                          headers={"Authorization": "token %s" % service.token}, timeout=10)
    answer.raise_for_status()
    items = sorted(answer.json()["items"], key=lambda item: int(item["id"]))
    return [item["Content"] for item in items]


@pytest.fixture()
def filling(estate):
    """The host's disk, emptied of the test's files at the end."""
    estate.bed.exec(HOST, ["rm", "-rf", FILL_DIR])
    yield
    proc = estate.bed.exec(HOST, ["rm", "-rf", FILL_DIR])
    assert proc.returncode == 0, proc.stderr


def cached_facts(cache_dir) -> dict:
    """The facts of HOST in Ansible's jsonfile fact cache: the file is named after the host (ansible-core 2.19
    prefixes it with its serialization profile, ``s1_``, and wraps the facts as a JSON string in ``__payload__``)."""
    [path] = [path for path in cache_dir.iterdir() if re.fullmatch(r"(\w+_)?%s" % re.escape(HOST), path.name)]
    with open(path, encoding="utf-8") as handle:
        facts = json.load(handle)
    return json.loads(facts["__payload__"]) if set(facts) == {"__payload__"} else facts


def disk_alarm(cache_dir) -> dict | None:
    """The disk_space alarm of MOUNT that the run left in Ansible's fact cache, or None."""
    facts = cached_facts(cache_dir)
    found = [alarm for alarm in facts["imagicle_alarms"] if alarm["rule"] == "disk_space" and alarm["subject"] == MOUNT]
    assert len(found) <= 1, found
    return found[0] if found else None


def test_a_disk_filling_steadily_is_predicted_full_p4_then_p3_before_the_thresholds(
        estate, request_tracker, filling, tmp_path):
    request_tracker.reset()
    tickets = Tickets(request_tracker)
    cache_dir = tmp_path / "facts"
    env = {"IMAGICLE_CASES_BACKEND": "rt", "IMAGICLE_RT_URL": request_tracker.url,
           "IMAGICLE_RT_TOKEN": request_tracker.token, "IMAGICLE_STATE_STORE": str(tmp_path / "state.sqlite"),
           "IMAGICLE_MAIL": "false", "IMAGICLE_PAGER": "none",
           "ANSIBLE_CACHE_PLUGIN": "ansible.builtin.jsonfile", "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(cache_dir)}

    before = space(estate)
    capacity = before["used"] + before["avail"]  # what psutil's used_percent divides by
    step_bytes = int(capacity * STEP_PERCENT / 100) // before["frsize"] * before["frsize"]
    write(estate, "base.bin", int(capacity * START_PERCENT / 100) - before["used"])

    first = (datetime.now(timezone.utc) - (RUNS - 1) * STEP).replace(minute=0, second=0, microsecond=0)
    runs = []
    for index in range(RUNS):
        if index:
            write(estate, "step-%02d.bin" % index, step_bytes)
        measured = space(estate)
        at = first + index * STEP
        shutil.rmtree(cache_dir, ignore_errors=True)  # what is read back is this run's
        estate.playbook("proactive_check.yml", "-l", HOST, "-e", "health_check_detected_at=%s" % at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        env=env)
        runs.append({"at": at, "used_percent": measured["used"] * 100.0 / capacity,
                     # The real time left: the free space at the real rate, step_bytes per STEP.
                     "true_hours": measured["avail"] / step_bytes * STEP.total_seconds() / 3600,
                     "alarm": disk_alarm(cache_dir),
                     "tickets": [t for t in tickets.alarms() if re.search(r"\] %s: .*\(%s\)$" % (HOST, MOUNT), t["Subject"])]})
    report = "\n".join("run %d at %s: %.1f %% used, %.1f h left; alarm %s; tickets %s" % (
        index, run["at"].strftime("%Y-%m-%dT%H:%MZ"), run["used_percent"], run["true_hours"],
        run["alarm"] and (run["alarm"]["priority"], run["alarm"]["evidence"].get("prediction", {}).get("hours_left")),
        [(t["id"], t["Priority"], t["Status"]) for t in run["tickets"]]) for index, run in enumerate(runs))

    # The collector measured what the test wrote; the disk never reached a threshold.
    for run in runs:
        assert run["alarm"] is None or run["alarm"]["evidence"]["used_percent"] == pytest.approx(run["used_percent"], abs=0.5)
    assert runs[-1]["used_percent"] < WARN, report
    # Too little history (fewer than 4 values over a day): no alarm, no ticket.
    for run in runs[:3]:
        assert run["alarm"] is None and run["tickets"] == [], report
    # Then P4 on the prediction alone below 85 %, then P3 below 95 %, and it stays P3.
    priorities = [run["alarm"]["priority"] if run["alarm"] else None for run in runs]
    assert "P4" in priorities and "P3" in priorities, report
    p4, p3 = priorities.index("P4"), priorities.index("P3")
    assert p4 < p3 and set(priorities[p4:p3]) == {"P4"} and set(priorities[p3:]) == {"P3"}, report
    assert runs[p4]["used_percent"] < WARN and runs[p3]["used_percent"] < CRIT, report
    for run in runs[p4:]:
        alarm = run["alarm"]
        assert alarm["detected_at"] == run["at"].strftime("%Y-%m-%dT%H:%M:%SZ"), report
        assert alarm["evidence"]["threshold"] is None, report
        prediction = alarm["evidence"]["prediction"]
        # Predicted full within 20 % of the real time left, in hours and as a time.
        assert abs(prediction["hours_left"] - run["true_hours"]) <= TOLERANCE * run["true_hours"], report
        eta = datetime.fromisoformat(prediction["eta"].replace("Z", "+00:00"))
        assert abs(eta - (run["at"] + timedelta(hours=run["true_hours"]))) <= timedelta(hours=TOLERANCE * run["true_hours"]), report
        assert prediction["hours_left"] <= 14 * 24 and (prediction["hours_left"] <= 3 * 24) == (alarm["priority"] == "P3"), report
    assert len({run["alarm"]["fingerprint"] for run in runs[p4:]}) == 1, report

    # One ticket for the disk, ever: opened at P4 by the first run that predicted it, raised to P3 once.
    assert all(len(run["tickets"]) == 1 for run in runs[p4:]), report
    [ticket_id] = {t["id"] for run in runs for t in run["tickets"]}
    for run in runs[p4:]:
        [ticket] = run["tickets"]
        assert int(ticket["Priority"]) == RT_PRIORITY[run["alarm"]["priority"]] and ticket["Status"] in ("new", "open"), report
    assert "Disk space running low (%s)" % MOUNT in runs[p4]["tickets"][0]["Subject"], report
    comments = [entry for entry in tickets.history(ticket_id) if entry.get("Type") == "Comment"]
    assert len(comments) == 1, report  # the one priority change
    # What the support engineer reads: the prediction as evidence, then the change of priority.
    body, comment = attachments(request_tracker, ticket_id)
    assert "Priority: P4" in body and "prediction.hours_left: %s" % runs[p4]["alarm"]["evidence"]["prediction"]["hours_left"] in body
    assert "threshold: \n" in body and "predicted full on" in body.splitlines()[0], body
    assert comment.startswith("Priority changed from P4 to P3: %s is %.1f %% full" % (MOUNT, runs[p3]["used_percent"])), comment
    assert "predicted full on" in comment, comment
