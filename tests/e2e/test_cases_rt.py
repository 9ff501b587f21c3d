# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fault on a test-bed host becomes exactly one Request Tracker ticket, and follows the fault.

The scheduled job (playbooks/proactive_check.yml with the cases callback, backend rt) runs over
SSH against the simulated AppSuite; the tickets are read back from the real RT's REST 2 API.
The steps build on each other, in order.
"""

from __future__ import annotations

import email
import email.policy
import urllib.parse

import pytest
import requests
from test_customer_language import people_time

FAULTY = "ias-a"


class Tickets:
    """Reads Request Tracker directly (not through the code under test)."""

    def __init__(self, service):
        self.base = service.rest_url
        self.headers = {"Authorization": "token %s" % service.token, "User-Agent": "imagicle-proactive-tests"}

    def search(self, query: str) -> list:
        url = "%s/tickets?query=%s&fields=Subject,Status,Priority,Due,CustomFields&per_page=100" % (
            self.base, urllib.parse.quote(query))
        answer = requests.get(url, headers=self.headers, timeout=10)
        answer.raise_for_status()
        return answer.json()["items"]

    def alarms(self) -> list:
        # Resolved tickets too; RT leaves out deleted ones.
        return self.search("Subject LIKE '[alarm:' AND Queue = 'General'")

    def history(self, ticket_id: str) -> list:
        answer = requests.get("%s/ticket/%s/history?fields=Type,Data" % (self.base, ticket_id), headers=self.headers,
                              timeout=10)
        answer.raise_for_status()
        return answer.json()["items"]


CONTACTS = '{"imagicle_contacts": ["ops@acme.example"], "imagicle_language": "it"}'


@pytest.fixture(scope="module")
def job(estate, request_tracker, smtp_server, tmp_path_factory):
    request_tracker.reset()
    store = tmp_path_factory.mktemp("store") / "state.sqlite"
    env = {"IMAGICLE_CASES_BACKEND": "rt", "IMAGICLE_RT_URL": request_tracker.url,
           "IMAGICLE_RT_TOKEN": request_tracker.token, "IMAGICLE_STATE_STORE": str(store),
           "IMAGICLE_MAIL": "true", "IMAGICLE_SMTP_HOST": "127.0.0.1", "IMAGICLE_SMTP_PORT": str(smtp_server[0]),
           "IMAGICLE_SMTP_SECURITY": "none", "IMAGICLE_MAIL_FROM": "Imagicle Support <support@example.net>"}
    estate.clear(FAULTY)
    estate.playbook("proactive_check.yml", "-e", CONTACTS, env=env)  # baseline: no alarm, no ticket

    def run(*args, check=True):
        return estate.playbook("proactive_check.yml", "-e", CONTACTS, *args, env=env, check=check)

    return run


def test_a_fault_opens_exactly_one_ticket_and_more_runs_keep_it_one(estate, job, request_tracker, smtp_server):
    tickets = Tickets(request_tracker)
    mailbox = smtp_server[1]
    assert tickets.alarms() == []
    estate.fault(FAULTY, "fill-disk", "86")  # about 90 % for psutil (ext4 keeps 5 % for root)
    output = job().stdout
    assert "opened 1" in output and "mailed 1" in output
    [ticket] = tickets.alarms()
    assert "Disk space running low (/srv/appsuite)" in ticket["Subject"]
    assert ticket["Priority"] in (30, "30")  # P4
    assert ticket["Status"] == "new"
    assert not ticket["Due"].startswith("1970")
    # The customer got one mail, in Italian, naming the ticket.
    [mail] = mailbox.messages
    assert mail["to"] == ["ops@acme.example"]
    assert "Segnalazione %s" % ticket["id"] in mail["data"]
    # What the catalogue says in Italian, and the deadline in the customer's time (the demo's Europe/Rome).
    parsed = email.message_from_string(mail["data"], policy=email.policy.default)
    text = " ".join(parsed.get_body(preferencelist=("plain",)).get_content().split())
    assert str(parsed["Subject"]) == "[Segnalazione %s] Aperta: %s: Spazio su disco in esaurimento (/srv/appsuite)" % (
        ticket["id"], FAULTY)
    assert "/srv/appsuite è pieno al" in text
    assert "Risposta entro: %s" % people_time(ticket["Due"], "Europe/Rome", "it") in text
    for dummy in range(4):  # the soak (make soak) runs it two hundred times
        job()
    assert len(tickets.alarms()) == 1
    assert len(mailbox.messages) == 1


def test_a_priority_change_is_one_update(estate, job, request_tracker):
    tickets = Tickets(request_tracker)
    estate.clear(FAULTY, "fill-disk")
    estate.fault(FAULTY, "fill-disk", "95")
    output = job().stdout
    assert "updated 1" in output and "opened 0" in output
    [ticket] = tickets.alarms()
    assert ticket["Priority"] in (50, "50")  # P3
    comments = [t for t in tickets.history(ticket["id"]) if t.get("Type") == "Comment"]
    assert len(comments) == 1
    job()
    assert len([t for t in tickets.history(ticket["id"]) if t.get("Type") == "Comment"]) == 1


def test_clearing_resolves_and_the_fault_back_reopens_the_same_ticket(estate, job, request_tracker, smtp_server):
    tickets = Tickets(request_tracker)
    mailbox = smtp_server[1]
    estate.clear(FAULTY, "fill-disk")
    assert "resolved 1" in job().stdout
    assert "Risolta" in mailbox.messages[-1]["data"] and "In-Reply-To:" in mailbox.messages[-1]["data"]
    [ticket] = tickets.alarms()
    assert ticket["Status"] == "resolved"
    estate.fault(FAULTY, "fill-disk", "95")
    assert "reopened 1" in job().stdout
    [again] = tickets.alarms()
    assert again["id"] == ticket["id"] and again["Status"] == "open"
    estate.clear(FAULTY, "fill-disk")
    job()


def test_rt_down_for_a_whole_run_loses_nothing(estate, job, request_tracker):
    tickets = Tickets(request_tracker)
    before = len(tickets.alarms())
    estate.fault(FAULTY, "occupy", "ivr", "4")
    request_tracker.stop()
    try:
        output = job().stdout  # the run itself works
        assert "undelivered 2" in output  # the ticket, and the customer's mail that waits for it
    finally:
        request_tracker.start()
    output = job().stdout
    assert "opened 1" in output and "mailed 1" in output and "undelivered 0" in output
    ivr = [t for t in tickets.alarms() if "IVR" in t["Subject"]]
    assert len(ivr) == 1 and len(tickets.alarms()) == before + 1
    job()
    assert len(tickets.alarms()) == before + 1
    estate.clear(FAULTY, "occupy")


def test_the_token_never_appears_in_verbose_output_tickets_or_mails(estate, job, request_tracker, smtp_server):
    proc = job("-vvvv")
    token = request_tracker.token
    assert token not in proc.stdout + proc.stderr
    assert all(token not in mail["data"] for mail in smtp_server[1].messages)
    tickets = Tickets(request_tracker)
    for ticket in tickets.alarms():
        assert all(token not in str(entry) for entry in tickets.history(ticket["id"]))


def test_a_wrong_configuration_fails_the_run_loudly_and_says_why(estate):
    # backend rt without its URL and token: every host is checked and evaluated, then the run fails and says why no
    # case was filed, so that cron mail and AWX show it.
    proc = estate.playbook("proactive_check.yml", env={"IMAGICLE_CASES_BACKEND": "rt", "IMAGICLE_RT_URL": "",
                                                       "IMAGICLE_RT_TOKEN": ""}, check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 78, text[-3000:]
    assert text.count("imagicle.proactive.cases cannot file cases in this run") == 1
    assert "no case was filed" in text and "IMAGICLE_RT_URL" in text and "IMAGICLE CASES" not in text
    assert "Summary of the run" in text  # the run's own summary still printed
