# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One case per root cause, into a real Request Tracker: a host that stops answering gives one
ticket, which names the host's open tickets and its HA survivor's replication problem, instead of
a ticket per rule; when it is back, everything is measured again and resolves on its own.

The demo estate (ias-a and ias-b, an HA pair of customer acme) over SSH; ias-b's link to the test
bed is taken down, as an unreachable server.
"""

from __future__ import annotations

import pytest
import requests

from test_cases_rt import Tickets  # noqa: E402 (tests/e2e is on the path)

DEAD, SURVIVOR = "ias-b", "ias-a"


@pytest.fixture
def job(estate, request_tracker, tmp_path):
    request_tracker.reset()
    env = {"IMAGICLE_CASES_BACKEND": "rt", "IMAGICLE_RT_URL": request_tracker.url,
           "IMAGICLE_RT_TOKEN": request_tracker.token, "IMAGICLE_STATE_STORE": str(tmp_path / "state.sqlite"),
           # A case held for no data would say so at once: the covered ones must not.
           "IMAGICLE_CASES_NO_DATA_NOTE_MINUTES": "0"}
    try:
        yield lambda: estate.playbook("proactive_check.yml", env=env).stdout
    finally:
        estate.bed.set_link(DEAD, True)
        for host in (DEAD, SURVIVOR):
            estate.sim(host, "clear", "all")


def comments(tickets, ticket) -> list:
    return [t for t in tickets.history(ticket["id"]) if t.get("Type") == "Comment"]


def test_a_dead_host_is_one_ticket_naming_what_it_covers(estate, job, request_tracker):
    tickets = Tickets(request_tracker)
    estate.sim(DEAD, "fault", "fill-disk", "86")
    estate.sim(DEAD, "fault", "occupy", "ivr", "4")
    assert "opened 2" in job()
    before = {t["id"]: t for t in tickets.alarms()}
    assert len(before) == 2 and all("%s:" % DEAD in t["Subject"] for t in before.values())

    # ias-b stops answering; its HA survivor now reports replication failing, peer ias-b.
    estate.sim(SURVIVOR, "fault", "break-replication", "peer", "lost")
    estate.bed.set_link(DEAD, False)
    output = job()
    assert "opened 1" in output and "suppressed 3" in output, output[-2000:]
    now = tickets.alarms()
    [dead] = [t for t in now if t["id"] not in before]
    assert "%s: Host not reporting" % DEAD in dead["Subject"]
    body = request_tracker_body(tickets, dead["id"])
    ids = {("Disk" if "Disk" in t["Subject"] else "IVR"): t["id"] for t in before.values()}
    assert "covers: disk_space /srv/appsuite (case %s)" % ids["Disk"] in body
    assert "covers: ivr_licences_exhausted ivr (case %s)" % ids["IVR"] in body
    assert "covers: %s replication_problem (no case)" % SURVIVOR in body
    assert len(now) == 3 and not any("replication" in t["Subject"].lower() for t in now)
    assert all(comments(tickets, t) == [] for t in now)  # no note on the covered tickets

    # Back, and every fault cleared: the covered tickets and the dead host's resolve; no replication ticket ever.
    estate.bed.set_link(DEAD, True)
    for host in (DEAD, SURVIVOR):
        estate.sim(host, "clear", "all")
    assert "resolved 3" in job()
    after = tickets.alarms()
    assert len(after) == 3 and {t["Status"] for t in after} == {"resolved"}


def request_tracker_body(tickets, ticket_id) -> str:
    """The content of the ticket's first (create) attachment: the case body as filed."""
    answer = requests.get("%s/ticket/%s/attachments?fields=Content&per_page=100" % (tickets.base, ticket_id),
                          headers=tickets.headers, timeout=10)
    answer.raise_for_status()
    items = sorted(answer.json()["items"], key=lambda item: int(item["id"]))
    return items[0]["Content"] if items else ""
