# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A process restarted again and again is one P1 ticket in a real Request Tracker: the crash
ticket of its first restarts (a loop is three) is taken over by the restart loop, with one comment
saying so; it is neither resolved nor reopened nor noted again while the loop lasts, and resolves
when the process is left alone for longer than the window.

The VoIP stack of test-bed host ias-a is really killed and respawned by the simulator between two
runs (a new pid, a new start time that the ``processes`` collector reads on the host). The runs
are the scheduled job (playbooks/proactive_check.yml, backend rt), with simulated times
``STEP`` apart (``health_check_detected_at``), so the restart history the evaluate action records
in the state store spans minutes while the test takes seconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from test_cases_rt import Tickets  # pylint: disable=import-error  # tests/e2e is on sys.path
from test_disk_prediction_rt import attachments  # pylint: disable=import-error
from test_flapping_rt import counters  # pylint: disable=import-error

HOST = "ias-a"
PROCESS = "voip_stack"           # the process id alarms name (subject)
STEP = timedelta(minutes=5)      # simulated time between two runs
WINDOW = timedelta(minutes=60)   # process_restart_loop's window_minutes (default)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture()
def job(estate, request_tracker, tmp_path):
    estate.sim(HOST, "clear", "all")
    # A first run against a store of its own: the collector on the host remembers the start time
    # it saw, so that the test's first run does not see a restart an earlier test made.
    estate.playbook("proactive_check.yml", "-l", HOST, env={"IMAGICLE_CASES_BACKEND": "local",
                                                             "IMAGICLE_STATE_STORE": str(tmp_path / "warmup.sqlite")})
    request_tracker.reset()
    env = {"IMAGICLE_CASES_BACKEND": "rt", "IMAGICLE_RT_URL": request_tracker.url,
           "IMAGICLE_RT_TOKEN": request_tracker.token, "IMAGICLE_STATE_STORE": str(tmp_path / "state.sqlite"),
           "IMAGICLE_MAIL": "false", "IMAGICLE_PAGER": "none"}

    def run(at: datetime) -> dict:
        proc = estate.playbook("proactive_check.yml", "-l", HOST, "-e", "health_check_detected_at=%s" % stamp(at), env=env)
        return counters(proc.stdout)

    try:
        yield run
    finally:
        estate.sim(HOST, "clear", "all")


def restart(estate) -> None:
    """Kill the VoIP stack and respawn it at once: a new pid and a new start time on the host."""
    assert "restarted" in estate.sim(HOST, "fault", "restart-app", "voip")


def test_a_process_restarting_again_and_again_is_one_p1_ticket_taken_over_by_the_loop(estate, job, request_tracker):
    tickets = Tickets(request_tracker)
    first = (datetime.now(timezone.utc) - 3 * WINDOW).replace(second=0, microsecond=0)
    at = [first + index * STEP for index in range(6)]

    assert job(at[0]) == {}                                # baseline: running, no alarm
    runs = []
    for index in (1, 2, 3, 4):                             # a restart before each of four runs
        restart(estate)
        runs.append(job(at[index]))
    runs.append(job(at[5]))                                # no restart: the crash alarm clears, the loop does not
    assert runs == [
        {"opened": 1},                                     # the first restart: a crash (P1)
        {},                                                # the second: the crash case stays open
        {"noted": 1},                                      # the third: the loop takes the crash case over
        {},
        {},                                                # the case stays open, not resolved
    ], runs

    found = tickets.alarms()
    assert len(found) == 1, [t["Subject"] for t in found]
    [ticket] = found
    assert "%s: VoIP stack crashed (%s)" % (HOST, PROCESS) in ticket["Subject"], ticket["Subject"]
    assert int(ticket["Priority"]) == 90 and ticket["Status"] in ("new", "open")  # P1
    history = tickets.history(ticket["id"])
    notes = [entry for entry in history if entry.get("Type") == "Comment"]
    assert len(notes) == 1, history
    note = attachments(request_tracker, ticket["id"])[-1]  # the comment's: the last attachment of the ticket
    assert ("This case now follows Process restarting again and again (rule process_restart_loop; it followed rule "
            "voip_stack_crashed)") in note, note
    assert "restarted 3 times within 60 min" in note, note
    assert not any(entry.get("Type") == "Status" and "resolved" in str(entry.get("Data")) for entry in history), history

    # Left alone for longer than the window (simulated): the loop is over, and its one ticket resolves.
    assert job(at[4] + WINDOW + STEP) == {"resolved": 1}
    assert {t["id"]: t["Status"] for t in tickets.alarms()} == {ticket["id"]: "resolved"}
