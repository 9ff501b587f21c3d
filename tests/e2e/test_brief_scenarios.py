# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every condition of the product brief's table, and an unreachable host, through the whole pipeline.

An estate of five test-bed hosts (tests/e2e/inventory): three eligible customers on different
plans and timezones (platinum 24/7 in Rome, gold in New York, platinum 24/7 in Tokyo), one on the
basic plan and one without consent. For each row a fault is injected on one eligible host, the
scheduled job runs (playbooks/proactive_check.yml, the cases callback filing into a real Request
Tracker, paging a real Alertmanager, mailing a real SMTP server), and the row's ticket (priority,
deadline, customer, evidence), page (platinum P1 only) and customer mail are checked; the fault
is cleared, the job runs again, and the ticket, page and mail say resolved. The basic-plan and
no-consent hosts carry faults too, and nothing about them reaches any of the three.

Rows on different hosts share a run (a round: one row per eligible host), which keeps the module
short; every assertion is about one row. docs/scenarios.md has the matrix.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, time as clock, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if os.path.join(ROOT, "collections") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, "collections"))

# pylint: disable=wrong-import-position
from alertmanager_service import wait_until  # noqa: E402 (tests/services, put on the path by conftest)
from ansible_collections.imagicle.proactive.plugins.plugin_utils import sla  # noqa: E402
from estate import VENV_BIN, demo_estate, start_estate  # noqa: E402
from test_cases_rt import Tickets  # noqa: E402
from testbed import Testbed  # noqa: E402

INVENTORY = "tests/e2e/inventory"
HOSTS = 5

# The product brief's table of conditions (docs/DESIGN.md, "the table of conditions"): the
# condition as the brochure words it, and its priority. The expectations below come from here.
BRIEF = {
    "crash of the VoIP stack": "P1",
    "crash of one of the licensed applications": "P1",
    "HA replication problem": "P3",
    "disk space running low": "P4",
    "disk space close to saturation": "P3",
    "database space running low": "P4",
    "database space close to saturation": "P3",
    "available channels exhausted (Call Recording)": "P3",
    "available licences exhausted (QME)": "P3",
    "available licences exhausted (IVR)": "P3",
    "the server cannot talk to api.imagicle.com": "P1",
}
# Not in the brief: a host that gives no facts is the project's host_not_reporting, P2 (docs/alarms.md).
NOT_REPORTING = "P2"
# The brief's response targets, in (business) minutes.
TARGET_MINUTES = {"P1": 60, "P2": 120, "P3": 240, "P4": 480}
# Request Tracker's priority field per P-level (docs/backends.md: 90, 70, 50, 30).
RT_PRIORITY = {"P1": 90, "P2": 70, "P3": 50, "P4": 30}
# The project's default calendars (docs/sla.md), as weekday -> (opening, closing) local time.
CALENDAR_HOURS = {
    "business": {day: (clock(9), clock(18)) for day in range(5)},
    "extended": {**{day: (clock(8), clock(20)) for day in range(5)}, 5: (clock(9), clock(13))},
}
# What each language's mail says in its subject: case, opened, resolved.
MAIL_WORDS = {"it": ("Segnalazione", "Aperta", "Risolta"), "en": ("Case", "Opened", "Resolved")}
REPLICATION_REASON = ("sync", "failed")


@dataclass(frozen=True)
class Row:
    """One row of the brief's table on one host: what to inject and what to expect."""

    name: str                      # the test id
    condition: str                 # a key of BRIEF, or "" for the unreachable host
    host: str
    fault: tuple                   # the simulator's fault arguments; () = take the host's link down
    rule: str                      # the catalogue rule (docs/alarms.md) the condition is
    words: tuple                   # words of the condition the ticket's subject must carry
    evidence: tuple = ()           # lines the ticket's evidence must hold
    percent: tuple | None = None   # (at least, below) for the evidence's used_percent
    restarts: bool = False         # a crash: back, but restarted since the last run, then stable
    round: int = 0

    @property
    def priority(self) -> str:
        return BRIEF[self.condition] if self.condition else NOT_REPORTING


def _rows() -> list:
    """Rows in rounds: each round has one row per eligible host, rotating conditions over the plans."""
    rounds = [
        [Row("voip-stack-crash", "crash of the VoIP stack", "ias-a", ("crash-voip",), "voip_stack_crashed",
             ("voip stack", "crash"), ("process: voip_stack", "application: VoIP stack"), restarts=True),
         Row("cloud-connection-failed", "the server cannot talk to api.imagicle.com", "ias-b", ("cut-cloud",),
             "cloud_connection_failed", ("cloud connection", "failed"), ("url: http://127.0.0.1:8780/test",)),
         Row("licensed-app-crash", "crash of one of the licensed applications", "ias-c", ("crash-app", "recorder"),
             "application_crashed", ("application", "crash"),
             ("process: call_recording", "application: Call Recording"), restarts=True)],
        [Row("disk-close-to-saturation", "disk space close to saturation", "ias-a", ("fill-disk", "96"), "disk_space",
             ("disk space", "saturation"), ("mount: /srv/appsuite",), percent=(95, 101)),
         Row("replication-problem", "HA replication problem", "ias-b", ("break-replication",) + REPLICATION_REASON,
             "replication_problem", ("replication",), ("state: failure", "reason: " + " ".join(REPLICATION_REASON),
                                                       "peer: ias-c")),
         Row("disk-running-low", "disk space running low", "ias-c", ("fill-disk", "86"), "disk_space",
             ("disk space", "low"), ("mount: /srv/appsuite",), percent=(85, 95))],
        [Row("recording-channels-exhausted", "available channels exhausted (Call Recording)", "ias-a",
             ("occupy", "call_recording", "8"), "recording_channels_exhausted", ("call recording", "exhausted"),
             ("app: call_recording", "in_use: 8", "licensed: 8", "available: 0")),
         Row("database-running-low", "database space running low", "ias-b", ("grow-db", "85"), "database_space",
             ("database space", "low"), ("engine: sqlite",), percent=(80, 95)),
         Row("database-close-to-saturation", "database space close to saturation", "ias-c", ("grow-db", "97"),
             "database_space", ("database space", "saturation"), ("engine: sqlite",), percent=(95, 101))],
        [Row("host-unreachable", "", "ias-a", (), "host_not_reporting", ("not reporting",), ("reason: unreachable",)),
         Row("qme-licences-exhausted", "available licences exhausted (QME)", "ias-b",
             ("occupy", "advanced_queuing", "10"), "qme_licences_exhausted", ("qme", "exhausted"),
             ("app: advanced_queuing", "in_use: 10", "licensed: 10", "available: 0")),
         Row("ivr-licences-exhausted", "available licences exhausted (IVR)", "ias-c", ("occupy", "ivr", "4"),
             "ivr_licences_exhausted", ("ivr", "exhausted"), ("app: ivr", "in_use: 4", "licensed: 4", "available: 0"))],
    ]
    return [Row(**dict(row.__dict__, round=number)) for number, rows in enumerate(rounds, 1) for row in rows]


ROWS = _rows()
# The hosts that must leave no trace (basic plan, no consent), and their faults from the first round on.
SILENT_HOSTS = ("ias-d", "ias-e")
SILENT_FAULTS = (("crash-voip",), ("fill-disk", "96"))


# ---------------------------------------------------------------------------------------------- helpers
@dataclass(frozen=True)
class Customer:
    """A host's customer as the inventory describes it."""

    host: str
    ip: str
    name: str
    plan: str
    timezone: str
    settings: dict
    contacts: tuple
    language: str
    consent: bool

    @property
    def eligible(self) -> bool:
        return self.plan in ("gold", "platinum") and self.consent


def read_inventory(project) -> dict:
    """Host -> Customer, as ansible-inventory reads tests/e2e/inventory."""
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible-inventory"), "-i", project.inventory, "--list"], cwd=ROOT,
                          env=project.env, capture_output=True, text=True, timeout=60, check=True)
    hostvars = json.loads(proc.stdout)["_meta"]["hostvars"]
    return {host: Customer(host=host, ip=hv["ansible_host"], name=hv["imagicle_customer"],
                           plan=hv["imagicle_sla"]["plan"], timezone=hv["imagicle_sla"]["timezone"],
                           settings=hv["imagicle_sla"], contacts=tuple(hv["imagicle_contacts"]),
                           language=hv["imagicle_language"], consent=hv["imagicle_consent"] is True)
            for host, hv in hostvars.items()}


class RtReader(Tickets):
    """The e2e Tickets reader, plus every ticket of the instance and the text of a ticket."""

    def everything(self) -> list:
        return self.search("id > 0")

    def _get(self, path: str):
        answer = requests.get(self.base + path, headers=self.headers, timeout=10)
        answer.raise_for_status()
        return answer.json()

    def body(self, ticket_id: str) -> str:
        """The content of the ticket's first (create) attachment: the case body."""
        items = self._get("/ticket/%s/attachments?fields=Content,TransactionId&per_page=100" % ticket_id)["items"]
        items.sort(key=lambda item: int(item["id"]))
        return items[0]["Content"] if items else ""

    def dump(self, ticket_id: str) -> str:
        """Everything RT shows of one ticket (fields, history, attachments) as one text."""
        parts = [self._get("/ticket/%s" % ticket_id),
                 self._get("/ticket/%s/history?fields=Type,Data,Field,OldValue,NewValue&per_page=100" % ticket_id),
                 self._get("/ticket/%s/attachments?fields=Subject,Content,Headers&per_page=100" % ticket_id)]
        return json.dumps(parts, ensure_ascii=False)


def host_of(ticket: dict) -> str:
    """The host a ticket is about: its subject is ``[alarm:<key>] <host>: <title>``."""
    match = re.match(r"^\[alarm:[^\]]+\]\s+([^:\s]+):", ticket["Subject"])
    return match.group(1) if match else ""


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def am_alerts(service) -> list:
    """Every alert Alertmanager holds now (GET /api/v2/alerts): posted alerts show at once, no grouping wait."""
    with urllib.request.urlopen(service.url + "/api/v2/alerts", timeout=5) as response:
        return json.loads(response.read())


def parsed_mail(message: dict) -> dict:
    mail = email.message_from_string(message["data"], policy=email.policy.default)
    return {"to": sorted(message["to"]), "subject": str(mail["Subject"]).strip(),  # a folded header keeps its space
            "text": mail.get_body(("plain",)).get_content(),
            "message_id": str(mail["Message-ID"]), "in_reply_to": str(mail.get("In-Reply-To") or "")}


@dataclass
class RoundResult:
    """What one round saw: the open run's window and tickets, and the tickets after each run once cleared."""

    started: datetime
    finished: datetime
    output: str = ""                   # what the open run printed
    new_tickets: dict = field(default_factory=dict)   # host -> [ticket] created by the open run
    after_open: dict = field(default_factory=dict)    # {ticket id: ticket} after the open run
    alerts: list = field(default_factory=list)        # Alertmanager's alerts right after the open run
    after_clear: list = field(default_factory=list)   # one {ticket id: ticket} per run after clearing
    error: BaseException | None = None


class Scenarios:
    """Runs the rounds, each once, in order, and keeps what each saw for the per-row tests."""

    def __init__(self, project, customers, job, tickets, paging):
        self.project, self.customers, self.job, self.tickets = project, customers, job, tickets
        self.alertmanager, self.receiver = paging
        self.results: dict = {}

    def round(self, number: int) -> RoundResult:
        """Round 0 is the run without any fault; round N plays the rows of round N (after the earlier ones)."""
        for earlier in range(number):
            self.round(earlier)
        if number not in self.results:
            try:
                self.results[number] = self._play([row for row in ROWS if row.round == number], number)
            except Exception as exc:  # pylint: disable=broad-except  # every row of that round fails with its cause
                now = datetime.now(timezone.utc)
                self.results[number] = RoundResult(now, now, error=exc)
        result = self.results[number]
        if result.error is not None:
            raise AssertionError("round %d failed: %s" % (number, result.error)) from result.error
        return result

    def _play(self, rows: list, number: int) -> RoundResult:
        before = {ticket["id"] for ticket in self.tickets.everything()}
        if number == 1:
            for host in SILENT_HOSTS:
                for fault in SILENT_FAULTS:
                    self.project.sim(host, "fault", *fault)
        for row in rows:
            if row.fault:
                self.project.sim(row.host, "fault", *row.fault)
            else:
                self.project.bed.set_link(row.host, False)
        started = datetime.now(timezone.utc).replace(microsecond=0)
        output = self.job()
        finished = datetime.now(timezone.utc)
        result = RoundResult(started, finished, output, alerts=am_alerts(self.alertmanager))
        for ticket in self.tickets.everything():
            result.after_open[ticket["id"]] = ticket
            if ticket["id"] not in before:
                result.new_tickets.setdefault(host_of(ticket), []).append(ticket)
        if not rows:
            return result
        for row in rows:
            if row.fault:
                self.project.sim(row.host, "clear", "all")
            else:
                self.project.bed.set_link(row.host, True)
        for dummy in range(2 if any(row.restarts for row in rows) else 1):
            self.job()
            result.after_clear.append({ticket["id"]: ticket for ticket in self.tickets.everything()})
        return result


# ---------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def scenario_estate():
    """Five test-bed hosts with the simulated AppSuite, the inventory of tests/e2e/inventory."""
    if os.geteuid() != 0:
        pytest.skip("the test bed needs root (network namespaces, loop disks)")
    # The bed is one per machine: when a demo estate is up (the session's, when another module
    # ran first), bring it back after this module the way the demo has it.
    before = Testbed().status()
    with demo_estate(hosts=HOSTS, inventory=INVENTORY) as project:
        yield project
    if before["status"] == "up":
        start_estate(len(before["hosts"]))


@pytest.fixture(scope="module")
def scenarios(scenario_estate, request_tracker, module_smtp_server, paging, tmp_path_factory):
    request_tracker.reset()
    store = tmp_path_factory.mktemp("scenarios-store") / "state.sqlite"
    service, receiver = paging
    env = {"IMAGICLE_CASES_BACKEND": "rt", "IMAGICLE_RT_URL": request_tracker.url,
           "IMAGICLE_RT_TOKEN": request_tracker.token, "IMAGICLE_STATE_STORE": str(store),
           "IMAGICLE_PAGER": "alertmanager", "IMAGICLE_ALERTMANAGER_URL": service.url,
           "IMAGICLE_MAIL": "true", "IMAGICLE_SMTP_HOST": "127.0.0.1",
           "IMAGICLE_SMTP_PORT": str(module_smtp_server[0]),
           "IMAGICLE_SMTP_SECURITY": "none", "IMAGICLE_MAIL_FROM": "Imagicle Support <support@example.net>"}

    def job():
        return scenario_estate.playbook("proactive_check.yml", env=env).stdout

    customers = read_inventory(scenario_estate)
    run = Scenarios(scenario_estate, customers, job, RtReader(request_tracker), paging)
    run.mailbox = module_smtp_server[1]
    run.posts_from = len(receiver.posts)   # the session's receiver: only what comes after
    return run


def one(items: list, what: str, among=None):
    """The single item of ``items``; otherwise fail saying what was expected and what there was."""
    assert len(items) == 1, "expected exactly one %s, found %d%s" % (
        what, len(items), "" if among is None else "; there were: %s" % (among,))
    return items[0]


def mails(scenarios) -> list:
    return [parsed_mail(message) for message in scenarios.mailbox.messages]


def notifications(scenarios) -> list:
    with scenarios.receiver.lock:
        posts = list(scenarios.receiver.posts[scenarios.posts_from:])
    return [post["json"] for post in posts if isinstance(post["json"], dict)]


def pages_of(scenarios, customer: Customer, rule: str) -> list:
    """(status, alert) of every notification the receiver got about this customer's host and rule."""
    return [(note["status"], alert) for note in notifications(scenarios) for alert in note.get("alerts", [])
            if alert.get("labels", {}).get("host") == customer.host and alert["labels"].get("rule") == rule
            and alert["labels"].get("customer") == customer.name]


def expected_due_window(customer: Customer, priority: str, started: datetime, finished: datetime) -> tuple:
    """The deadline of an alarm detected between ``started`` and ``finished``, by the project's SLA clock."""
    config = sla.build_sla(customer.settings, "the scenario inventory of %s" % customer.host)
    return tuple(sla.response_due(moment, priority, config)["due"].replace(microsecond=0)
                 for moment in (started, finished))


def check_deadline_plausible(customer: Customer, priority: str, due: datetime, started: datetime, finished: datetime):
    """The deadline is what the brief promises, counted without the project's clock."""
    target = timedelta(minutes=TARGET_MINUTES[priority])
    if customer.plan == "platinum" and priority == "P1":
        # Platinum 24/7: plain clock time after detection.
        assert started + target <= due <= finished + target, (due, started, finished)
        return
    calendar = "extended" if priority == "P1" else "business"   # gold P1: extended hours; P2-P4: business hours
    local = due.astimezone(ZoneInfo(customer.timezone))
    hours = CALENDAR_HOURS[calendar].get(local.weekday())
    assert hours, "due %s falls on a %s, a day without %s hours in %s" % (local, local.strftime("%A"), calendar,
                                                                          customer.timezone)
    assert hours[0] < local.time() <= hours[1], "due %s is outside %s hours in %s" % (local, calendar,
                                                                                        customer.timezone)
    assert due >= started + target


# ---------------------------------------------------------------------------------------------- tests
def test_the_estate_is_quiet_without_faults(scenarios):
    """Five healthy hosts: no ticket, no page, no mail (the starting point of every row)."""
    assert sorted(scenarios.customers) == ["ias-a", "ias-b", "ias-c", "ias-d", "ias-e"]
    eligible = [c for c in scenarios.customers.values() if c.eligible]
    silent = [scenarios.customers[host] for host in SILENT_HOSTS]
    assert not any(c.eligible for c in silent)
    assert any(c.plan == "basic" and c.consent for c in silent)
    assert any(c.plan != "basic" and not c.consent for c in silent)
    assert len(eligible) >= 3
    assert len({c.plan for c in eligible}) >= 2 and len({c.timezone for c in eligible}) == len(eligible)
    assert {row.host for row in ROWS} == {c.host for c in eligible}
    assert sorted(row.condition for row in ROWS if row.condition) == sorted(BRIEF)
    result = scenarios.round(0)
    assert "opened 0" in result.output
    assert result.after_open == {}
    names = {c.name for c in scenarios.customers.values()}
    assert [a for a in result.alerts if a["labels"].get("customer") in names] == []
    assert mails(scenarios) == [] and notifications(scenarios) == []


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_the_fault_opens_one_case_with_its_page_and_mail(scenarios, row):
    result = scenarios.round(row.round)
    customer = scenarios.customers[row.host]
    round_hosts = {r.host for r in ROWS if r.round == row.round}
    assert set(result.new_tickets) <= round_hosts, "tickets for hosts without a fault: %s" % sorted(result.new_tickets)

    # The ticket: exactly one for the row's host, naming the condition, at the brief's priority.
    ticket = one(result.new_tickets.get(row.host, []), "new ticket for %s" % row.host,
                 {host: [t["Subject"] for t in tickets] for host, tickets in result.new_tickets.items()})
    title = ticket["Subject"].split("] ", 1)[1]
    assert all(word in title.lower() for word in row.words), title
    assert int(ticket["Priority"]) == RT_PRIORITY[row.priority]
    assert ticket["Status"] in ("new", "open")

    # The deadline: the project's SLA clock for this plan and calendar, and what the brief promises.
    due = utc(ticket["Due"])
    low, high = expected_due_window(customer, row.priority, result.started, result.finished)
    assert low <= due <= high, (due, low, high)
    check_deadline_plausible(customer, row.priority, due, result.started, result.finished)

    # The body: the customer, the host, the rule, the deadline, the evidence.
    body = scenarios.tickets.body(ticket["id"])
    assert "Customer: %s" % customer.name in body
    assert "Host: %s" % row.host in body and "Rule: %s " % row.rule in body
    assert "Priority: %s" % row.priority in body
    assert "Respond by: %s" % ticket["Due"] in body
    detected = utc(re.search(r"^Detected: (\S+)$", body, re.M).group(1))
    assert result.started <= detected <= result.finished
    evidence = body.split("\nEvidence:\n", 1)[1].splitlines()
    for line in row.evidence:
        assert any(item.strip().startswith(line) for item in evidence), (line, evidence)
    if row.percent:
        [used] = [float(item.split(":", 1)[1]) for item in evidence if item.strip().startswith("used_percent:")]
        assert row.percent[0] <= used < row.percent[1], used

    # The page: platinum P1 only. Alertmanager holds every posted alert at once.
    alerts = [a for a in result.alerts if a["labels"].get("host") == row.host and a["labels"].get("rule") == row.rule
              and a["labels"].get("customer") == customer.name]
    if customer.plan == "platinum" and row.priority == "P1":
        [alert] = alerts
        assert alert["labels"]["customer"] == customer.name
        assert alert["annotations"]["due"] == ticket["Due"]
        assert alert["annotations"]["summary"] == title
        firing = wait_until(lambda: [a for status, a in pages_of(scenarios, customer, row.rule) if status == "firing"],
                            what="the page of %s on %s at the receiver" % (row.rule, row.host))
        assert firing[0]["labels"]["dedup_key"] == alert["labels"]["dedup_key"]
    else:
        assert alerts == [], "a %s %s paged the on-call engineer" % (customer.plan, row.priority)

    # The customer's mail: one to each of its contacts (a refused address never holds back the
    # others), in its language, naming the case.
    case_word, opened_word, dummy = MAIL_WORDS[customer.language]
    tag = "[%s %s]" % (case_word, ticket["id"])
    for contact in customer.contacts:
        mail = one([m for m in mails(scenarios) if m["subject"].startswith(tag) and opened_word in m["subject"]
                    and m["to"] == [contact]],
                   "open mail for ticket %s to %s" % (ticket["id"], contact),
                   [(m["to"], m["subject"]) for m in mails(scenarios)])
        assert row.host in mail["subject"] and customer.name in mail["text"]
    assert sorted(m["to"][0] for m in mails(scenarios) if m["subject"].startswith(tag)
                   and opened_word in m["subject"]) == sorted(customer.contacts)


PAGED = [row for row in ROWS if row.priority == "P1" and row.host in ("ias-a", "ias-c")]


@pytest.mark.parametrize("row", PAGED, ids=[row.name for row in PAGED])
def test_the_page_names_its_case(scenarios, row):
    """docs/paging.md: the page's ``case`` annotation is ``<case_ref> <case_url>`` once the case exists,
    and the case is filed before the page is sent."""
    result = scenarios.round(row.round)
    customer = scenarios.customers[row.host]
    assert customer.plan == "platinum"
    [ticket] = result.new_tickets[row.host]
    [alert] = [a for a in result.alerts if a["labels"].get("host") == row.host and a["labels"].get("rule") == row.rule
               and a["labels"].get("customer") == customer.name]
    reference, link = alert["annotations"]["case"].split()
    assert reference == str(ticket["id"])
    assert link.endswith("/Ticket/Display.html?id=%s" % ticket["id"]) and link.startswith("http")


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_clearing_the_fault_resolves_the_case_its_page_and_mails(scenarios, row):
    result = scenarios.round(row.round)
    customer = scenarios.customers[row.host]
    [opened] = result.new_tickets[row.host]
    final = result.after_clear[-1]
    # No ticket opens while the fault clears, and every ticket of the host ends resolved.
    assert [t for i, t in final.items() if host_of(t) == row.host and i not in result.after_open] == []
    assert [t["id"] for t in final.values() if host_of(t) == row.host and t["Status"] != "resolved"] == []
    if row.restarts:
        # Back, but restarted since the last run: the case stays open one more run.
        assert result.after_clear[0][opened["id"]]["Status"] in ("new", "open")
    assert final[opened["id"]]["Status"] == "resolved"

    case_word, opened_word, resolved_word = MAIL_WORDS[customer.language]
    tag = "[%s %s]" % (case_word, opened["id"])
    subjects = [(m["to"], m["subject"]) for m in mails(scenarios)]
    for contact in customer.contacts:
        to_contact = [m for m in mails(scenarios) if m["subject"].startswith(tag) and m["to"] == [contact]]
        open_mail = one([m for m in to_contact if opened_word in m["subject"]],
                        "open mail for ticket %s to %s" % (opened["id"], contact), subjects)
        resolve_mail = one([m for m in to_contact if resolved_word in m["subject"]],
                           "resolve mail for ticket %s to %s" % (opened["id"], contact), subjects)
        # Threaded to the open mail that contact received.
        assert resolve_mail["in_reply_to"] == open_mail["message_id"]

    pages = pages_of(scenarios, customer, row.rule)
    if customer.plan == "platinum" and row.priority == "P1":
        wait_until(lambda: [a for status, a in pages_of(scenarios, customer, row.rule) if status == "resolved"],
                   what="the resolved page of %s on %s" % (row.rule, row.host))
        pages = pages_of(scenarios, customer, row.rule)
        assert [status for status, dummy in pages].count("firing") == 1
    else:
        assert pages == []


def test_basic_plan_and_no_consent_hosts_leave_no_trace(scenarios):
    """Their servers had faults from the first round on; no ticket, page or mail says anything of them."""
    scenarios.round(max(row.round for row in ROWS))
    silent = [scenarios.customers[host] for host in SILENT_HOSTS]
    for customer in silent:
        # The job saw their faults (a P1 and a P3 each), and the faults were there all along.
        line = r"^\s*- '?%s \(%s, %s\): (\d+) alarm" % tuple(
            map(re.escape, (customer.host, customer.name, customer.plan)))
        seen = re.search(line, scenarios.round(1).output, re.M)
        assert seen and int(seen.group(1)) >= len(SILENT_FAULTS), customer.host
        status = scenarios.project.sim(customer.host, "status")
        assert '"crash-voip"' in status and '"fill-disk"' in status

    tickets = scenarios.tickets.everything()
    corpus = {"tickets": " ".join(scenarios.tickets.dump(t["id"]) for t in tickets),
              "pages": " ".join(json.dumps(n, ensure_ascii=False) for n in notifications(scenarios)),
              "alerts": json.dumps(am_alerts(scenarios.alertmanager), ensure_ascii=False),
              "mails": " ".join(m["data"] + " " + " ".join(m["to"]) for m in scenarios.mailbox.messages)}
    # The search finds what is there: the eligible hosts are in every channel.
    for name, text in corpus.items():
        if name != "alerts":
            assert "ias-a" in text and "alpi-logistica" in text, name
    found = [(needle, name) for customer in silent for needle in (customer.host, customer.ip, customer.name,
                                                                  *customer.contacts)
             for name, text in corpus.items() if needle.lower() in text.lower()]
    assert found == [], "data of hosts without proactive support went out: %s" % found
