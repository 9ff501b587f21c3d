# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wrong answers from the peers, through the fault proxy: nothing lost, nothing twice.

* Request Tracker answers 401 (a rotated token), a 302 to its login page, or an HTML page with
  status 200 (a login page or a proxy's) for a whole run: that run exits 75 saying what came back,
  and the P1's ticket, page and mail are filed at the next run, each once.
* Alertmanager answers an HTML page with status 200: the page is retried at the next run and
  reaches Alertmanager once.
* Request Tracker fails the status change of a resolve (500, then a lost answer after RT acted)
  for two runs: after recovery the ticket is resolved with exactly one comment, the customer got
  one resolve mail.

Every count is read in the real services (RT's REST 2, Alertmanager's API v2 and its webhook
receiver, the SMTP server's mailbox).
"""

from __future__ import annotations

import os
import time

import pytest

from alertmanager_service import wait_until
from fault_job import (
    ROOT,
    Estate,
    Job,
    Tickets,
    active_alerts,
    appsuite_disk,
    healthy,
    mail_settings,
    mails_to,
    notifications,
    pager_settings,
    rt_settings,
    voip_crashed,
)

ALL_RT = r"^/REST/2\.0/"
WRONG_ANSWERS = {
    "401": ({"path": ALL_RT, "fault": "status", "status": 401, "body": '{"message": "Unauthorized"}',
             "content_type": "application/json"}, ("401",)),
    "302": ({"path": ALL_RT, "fault": "redirect302", "location": "/NoAuth/Login.html"}, ("302",)),
    "html200": ({"path": ALL_RT, "fault": "html200"}, ("HTML",)),
}


def _platinum_p1(tmp_path, host: str, contact: str) -> Estate:
    estate = Estate(tmp_path / "estate")
    estate.add(host, voip_crashed(healthy(host)), customer="alpi-logistica", plan="platinum", contacts=[contact], language="it")
    return estate


@pytest.mark.parametrize("answer", sorted(WRONG_ANSWERS))
def test_rt_wrong_answer_for_one_run_then_the_p1_is_filed_once(answer, tmp_path, rt, rt_proxy, paging, smtp):
    host, contact = "t01-%s" % answer, "noc-%s@alpi.example" % answer
    alertmanager, receiver = paging
    estate = _platinum_p1(tmp_path, host, contact)
    job = Job(estate, tmp_path / "state.sqlite", **rt_settings(rt_proxy.url, rt.token), **pager_settings(alertmanager.url),
              **mail_settings(smtp[0]))
    tickets = Tickets(rt)
    rule, said = WRONG_ANSWERS[answer]

    rt_proxy.set_rules([rule])
    bad = job.run()
    assert rt_proxy.rules()[0]["applied"] >= 1, "the fault was never applied"
    assert tickets.count(host) == 0, "RT never saw a request: no ticket can exist yet"
    # The operators' outbox playbook lists the refused open with what came back.
    listed = job.run(playbook=os.path.join(ROOT, "playbooks", "outbox.yml"))
    assert listed.returncode == 0, listed.describe()
    assert "undelivered open" in listed.output and "REFUSED" in listed.output, listed.describe()
    assert any(word in listed.output for word in said), listed.describe()

    rt_proxy.clear()
    good = job.run()
    found = tickets.of_host(host)
    assert len(found) == 1, "once RT answers properly the P1 must be filed, once (%d tickets):\n%s\n%s" % (
        len(found), bad.describe(), good.describe())
    assert "VoIP" in found[0]["Subject"] and found[0]["Priority"] in ("90", 90)
    assert len(mails_to(smtp[1], contact)) == 1, "the customer's open mail, once:\n%s" % good.describe()
    assert len(active_alerts(alertmanager.url, host)) == 1, "the P1 page, once"
    wait_until(lambda: notifications(receiver, host), timeout=15, what="the page's notification")
    time.sleep(1.5)  # group_interval 1 s: a second page would have been notified by now
    assert [n["status"] for n in notifications(receiver, host)] == ["firing"]
    assert good.returncode == 0, good.describe()

    # The bad run failed loudly, saying what came back.
    assert bad.returncode == 75, "a run whose RT answers %s must exit 75:\n%s" % (answer, bad.describe())
    assert any(word in bad.output for word in said), "the run must say what came back (%s):\n%s" % (said, bad.describe())


def test_alertmanager_html_page_is_retried_and_pages_once(tmp_path, rt, rt_proxy, paging, am_proxy):
    host = "t02-amhtml"
    alertmanager, receiver = paging
    estate = _platinum_p1(tmp_path, host, "noc-am@alpi.example")
    job = Job(estate, tmp_path / "state.sqlite", **rt_settings(rt_proxy.url, rt.token), **pager_settings(am_proxy.url))

    am_proxy.set_rules([{"method": "POST", "path": r"^/api/v2/alerts$", "fault": "html200"}])
    first = job.run()
    assert am_proxy.rules()[0]["applied"] >= 1, "the page was never attempted:\n%s" % first.describe()
    assert active_alerts(alertmanager.url, host) == []

    am_proxy.clear()
    job.run()
    alerts = active_alerts(alertmanager.url, host)
    assert len(alerts) == 1, "the page that met a login page must reach Alertmanager at a later run (got %s):\n%s" % (
        alerts, first.describe())
    wait_until(lambda: notifications(receiver, host), timeout=15, what="the page's notification")
    time.sleep(1.5)
    assert [n["status"] for n in notifications(receiver, host)] == ["firing"]
    assert len(Tickets(rt).of_host(host)) == 1


def test_a_retried_resolve_does_not_repeat_its_comment(tmp_path, rt, rt_proxy, smtp):
    host, contact = "t06-resolve", "ops-resolve@acme.example"
    estate = Estate(tmp_path / "estate")
    estate.add(host, appsuite_disk(healthy(host), 96), contacts=[contact])
    job = Job(estate, tmp_path / "state.sqlite", **rt_settings(rt_proxy.url, rt.token), **mail_settings(smtp[0]))
    tickets = Tickets(rt)
    assert job.run().returncode == 0
    [ticket] = tickets.of_host(host)

    estate.report(host, appsuite_disk(healthy(host), 30))  # the condition clears
    put = {"method": "PUT", "path": r"^/REST/2\.0/ticket/\d+$"}
    rt_proxy.set_rules([dict(put, fault="status", status=500, body='{"message": "Internal Server Error"}',
                             content_type="application/json")])
    job.run()  # RT fails every status change of this run
    rt_proxy.set_rules([dict(put, fault="forward_then_fail", count=1)])
    job.run()  # RT resolves the ticket, but its answer is lost
    rt_proxy.clear()
    job.run()

    assert tickets.status(ticket["id"]) == "resolved"
    comments = tickets.comments(ticket["id"])
    assert len(comments) == 1, "one resolve, one comment; got %d: %s" % (len(comments), [c.get("Data") for c in comments])
    resolve_mails = [m for m in mails_to(smtp[1], contact) if m["message"]["In-Reply-To"]]
    assert len(resolve_mails) == 1
    assert len(mails_to(smtp[1], contact)) == 2  # the open mail and the resolve mail
