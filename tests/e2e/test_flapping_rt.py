# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fault that comes and goes at every run is one Request Tracker ticket that says it is
flapping, not a resolve, a reopen and a customer mail per change.

The scheduled job (playbooks/proactive_check.yml with the cases callback, backend rt, mail on)
runs over SSH against the simulated AppSuite of one test-bed host, whose cloud stand-in is cut
before every other run; the ticket is read back from the real RT's REST 2 API and the mails
from a real SMTP server.
"""

from __future__ import annotations

import re

import pytest

from test_cases_rt import CONTACTS, Tickets  # pylint: disable=import-error  # tests/e2e is on sys.path

FAULTY = "ias-a"
RUNS = 8


def counters(output: str) -> dict:
    """The counters of the run's IMAGICLE CASES table that are not 0."""
    line = next(line for line in output.splitlines() if line.strip().startswith("opened "))
    found = {name.strip(): int(count) for name, count in re.findall(r"([a-z ()]+?) (\d+)(?: \||$)", line.strip())}
    return {name: count for name, count in found.items() if count}


@pytest.fixture(scope="module")
def job(estate, request_tracker, module_smtp_server, tmp_path_factory):
    request_tracker.reset()
    store = tmp_path_factory.mktemp("flapping-store") / "state.sqlite"
    env = {"IMAGICLE_CASES_BACKEND": "rt", "IMAGICLE_RT_URL": request_tracker.url,
           "IMAGICLE_RT_TOKEN": request_tracker.token, "IMAGICLE_STATE_STORE": str(store),
           "IMAGICLE_MAIL": "true", "IMAGICLE_SMTP_HOST": "127.0.0.1", "IMAGICLE_SMTP_PORT": str(module_smtp_server[0]),
           "IMAGICLE_SMTP_SECURITY": "none", "IMAGICLE_MAIL_FROM": "Imagicle Support <support@example.net>"}
    estate.sim(FAULTY, "clear", "all")

    def run():
        return estate.playbook("proactive_check.yml", "-l", FAULTY, "-e", CONTACTS, env=env)

    yield run
    estate.sim(FAULTY, "clear", "all")


def test_a_cloud_connection_cut_at_every_other_run_is_one_ticket_with_three_comments_and_three_mails(
        estate, job, request_tracker, module_smtp_server):
    tickets = Tickets(request_tracker)
    mailbox = module_smtp_server[1]
    runs = []
    for index in range(RUNS):
        estate.sim(FAULTY, "fault" if index % 2 == 0 else "clear", "cut-cloud")
        runs.append(counters(job().stdout))
    assert runs == [
        {"opened": 1, "mailed": 1},
        {"resolved": 1, "mailed": 1},
        {"reopened": 1, "mailed": 1},
        {"noted": 1, "flapping": 1},  # the fourth change within 360 minutes: flapping
    ] + [{"flapping": 1}] * (RUNS - 4)
    [ticket] = tickets.alarms()
    assert "Imagicle cloud connection failed" in ticket["Subject"]
    assert ticket["Status"] == "open"  # kept open while it flaps, not resolved at the last clear run
    comments = [entry for entry in tickets.history(ticket["id"]) if entry.get("Type") == "Comment"]
    assert len(comments) == 3
    statuses = [entry for entry in tickets.history(ticket["id"]) if entry.get("Type") == "Status"]
    assert len(statuses) <= 3  # new -> resolved -> open (RT may add its own new -> open)
    assert len(mailbox.messages) == 3
    assert all(message["to"] == ["ops@acme.example"] for message in mailbox.messages)
