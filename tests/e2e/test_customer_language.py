# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The customer reads their own language and time: the mails a real SMTP server receives.

Two customers on the gold plan, one Italian in Rome, one English in New York, each with a disk close to
saturation. Their hosts' settings go through the evaluation as the ``evaluate`` action runs it, the
alarms through the case manager as the cases callback feeds it (local case register, state store in a
temporary directory), and the mails through :class:`Mailer` to a real SMTP server (aiosmtpd on a free
loopback port). The messages are read back as received: subject and body in the contact's language,
the title and summary of the rules catalogue's translation, and the response deadline in the customer's
timezone, written as people of that language write it. No test-bed host is needed.
"""

from __future__ import annotations

import email
import email.policy
import os
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if os.path.join(ROOT, "collections") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.imagicle.proactive.plugins.plugin_utils import cases, evaluation  # noqa: E402
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.local import LocalBackend  # noqa: E402
from ansible_collections.imagicle.proactive.plugins.plugin_utils.mail import Mailer, SmtpSettings  # noqa: E402
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store  # noqa: E402
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils.health_fixture import healthy_health  # noqa: E402

# Friday 27 November 2026, 16:50 UTC: 17:50 in Rome (ten business minutes left that day), 11:50 in New York.
DETECTED = datetime(2026, 11, 27, 16, 50, tzinfo=timezone.utc)
HOSTS = {
    "ias-rome": {"imagicle_customer": "Alpi Logistica", "imagicle_consent": True, "imagicle_language": "it",
                 "imagicle_sla": {"plan": "gold", "timezone": "Europe/Rome"}, "imagicle_contacts": ["it@alpi.example"]},
    "ias-nyc": {"imagicle_customer": "Hudson Freight", "imagicle_consent": True, "imagicle_language": "en",
                "imagicle_sla": {"plan": "gold", "timezone": "America/New_York", "holidays": {"country": "US"}},
                "imagicle_contacts": ["ops@hudson.example"]},
}
# Written out here, not taken from the code under test.
DAYS = {"it": ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"],
        "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]}
MONTHS = {"it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre",
                 "novembre", "dicembre"],
          "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                 "November", "December"]}


def people_time(due: str, zone: str, language: str) -> str:
    local = datetime.fromisoformat(due.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
    return "%s %d %s %d, %02d:%02d (%s)" % (DAYS[language][local.weekday()], local.day, MONTHS[language][local.month - 1],
                                            local.year, local.hour, local.minute, zone)


def one_run(store, port, full: bool, now: datetime):
    """The scheduled job once: evaluate both hosts, plan, send."""
    run = cases.RunInput()
    for host, variables in HOSTS.items():
        health = healthy_health()
        if full:
            health["disks"]["items"][0]["used_percent"] = 96.0
        result = evaluation.evaluate_host(evaluation.host_settings(host, variables),
                                          {"changed": False, "ansible_facts": {"imagicle_health": health}}, detected_at=now)
        alarms = result.pop("alarms")
        run.add({"alarms": alarms, "evaluation": result}, host)
    report = cases.plan_run(store, run.alarms, run.checked_hosts, "local", now,
                            notifications=cases.Notifications(mail=True, contacts=run.contacts),
                            evaluated_hosts=run.evaluated_hosts, gaps=run.gaps, customers=run.customers)
    mailer = Mailer(SmtpSettings(host="127.0.0.1", port=port, security="none", sender="Imagicle Support <support@example.net>"))
    cases.drain(store, {"local": LocalBackend(store, clock=lambda: now), "mail": mailer}, now, report, sleep=lambda seconds: None)
    return run, report


def received(mailbox, address: str) -> list:
    found = []
    for message in mailbox.messages:
        if message["to"] == [address]:
            parsed = email.message_from_string(message["data"], policy=email.policy.default)
            found.append({"subject": str(parsed["Subject"]), "text": parsed.get_body(preferencelist=("plain",)).get_content(),
                          "html": parsed.get_body(preferencelist=("html",)).get_content(),
                          "message_id": parsed["Message-ID"], "in_reply_to": parsed["In-Reply-To"]})
    return found


@pytest.fixture(scope="module")
def mails(module_smtp_server, tmp_path_factory):
    port, mailbox = module_smtp_server
    with open_store(str(tmp_path_factory.mktemp("language") / "state.sqlite")) as store:
        run, report = one_run(store, port, True, DETECTED)
        assert (report.opened, report.mailed, report.undelivered) == (2, 2, 0)
        one_run(store, port, False, DETECTED + timedelta(minutes=10))
        alarms = {alarm["host"]: alarm for alarm in run.alarms}
        tickets = {case.host: case.case_ref for case in store.cases()}
        bodies = {entry["host"]: entry["fields"]["body"] for entry in
                  ({"host": case.host, "fields": store.local_get(case.case_ref)["fields"]} for case in store.cases())}
    return {"alarms": alarms, "tickets": tickets, "bodies": bodies,
            "it": received(mailbox, "it@alpi.example"), "en": received(mailbox, "ops@hudson.example")}


def test_the_italian_customer_reads_italian_and_rome_time(mails):
    alarm, ref = mails["alarms"]["ias-rome"], mails["tickets"]["ias-rome"]
    opened, resolved = mails["it"]
    mount = alarm["subject"]
    # 10 minutes on Friday, 3 h 50 min from Monday 09:00 in Rome.
    assert alarm["due"] == "2026-11-30T11:50:00Z"
    assert opened["subject"] == "[Segnalazione %s] Aperta: ias-rome: Spazio su disco prossimo alla saturazione (%s)" % (ref, mount)
    assert "Problema:" in opened["text"] and "Priorità:" in opened["text"]
    assert "Dettagli: %s è pieno al 96.0 %%" % mount in " ".join(opened["text"].split())
    deadline = people_time(alarm["due"], "Europe/Rome", "it")
    assert deadline == "lunedì 30 novembre 2026, 12:50 (Europe/Rome)"
    assert "Risposta entro: %s" % deadline in " ".join(opened["text"].split())
    assert deadline in opened["html"] and "UTC" not in opened["text"]
    for word in ("Disk space", "is 96.0 % full", "Response by"):
        assert word not in opened["text"]
    assert resolved["subject"] == "[Segnalazione %s] Risolta: ias-rome: Spazio su disco prossimo alla saturazione (%s)" % (ref, mount)
    assert resolved["in_reply_to"] == opened["message_id"]


def test_the_english_customer_reads_english_and_new_york_time(mails):
    alarm, ref = mails["alarms"]["ias-nyc"], mails["tickets"]["ias-nyc"]
    opened, resolved = mails["en"]
    mount = alarm["subject"]
    # Friday 11:50 in New York, four business hours later: 15:50 the same day.
    assert alarm["due"] == "2026-11-27T20:50:00Z"
    assert opened["subject"] == "[Case %s] Opened: ias-nyc: Disk space close to saturation (%s)" % (ref, mount)
    assert "Details: %s is 96.0 %% full" % mount in " ".join(opened["text"].split())
    deadline = people_time(alarm["due"], "America/New_York", "en")
    assert deadline == "Friday 27 November 2026, 15:50 (America/New_York)"
    assert "Response by: %s" % deadline in " ".join(opened["text"].split())
    assert "Segnalazione" not in opened["text"] and "Spazio" not in opened["text"]
    assert resolved["subject"] == "[Case %s] Resolved: ias-nyc: Disk space close to saturation (%s)" % (ref, mount)


def test_the_case_stays_english_with_the_deadline_also_in_the_customers_time(mails):
    body = mails["bodies"]["ias-rome"]
    assert "Respond by: 2026-11-30T11:50:00Z (240 minutes on the business calendar, plan gold)" in body
    assert "Respond by, customer's time: Monday 30 November 2026, 12:50 (Europe/Rome)" in body
    assert "Spazio" not in body
    assert "Respond by, customer's time: Friday 27 November 2026, 15:50 (America/New_York)" in mails["bodies"]["ias-nyc"]
