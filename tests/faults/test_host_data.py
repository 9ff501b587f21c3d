# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile or broken host data: nothing lost, nothing twice, nothing leaked.

* Missing data is not recovery: a disk case stays open (no resolve, no "Resolved" mail) while the
  disks section is missing, reads NaN or has an error; a measured good value resolves it once.
* One malformed contact address does not cost the good contacts their mail, and the run names the
  host and ``imagicle_contacts``.
* A host reporting 3,000 full mounts opens the per-host cap of cases plus one summarising case.
* Phone numbers in host text never reach RT or the customer's mail; CR/LF in host text does not
  forge lines in the console output.
"""

from __future__ import annotations

import math

from fault_job import (
    Estate,
    Job,
    Tickets,
    appsuite_disk,
    disk,
    full_disks,
    healthy,
    mail_settings,
    mails_to,
    rt_settings,
)

DEFAULT_CAP = 10  # max_new_cases_per_host's default


def _resolve_mails(mailbox, address: str, about: tuple = ("Disk space", "Spazio su disco")) -> list:
    """The resolve mails (threaded to the open mail) to ``address`` about the ``about`` case (its
    title in any of the contacts' languages: English, Italian)."""
    return [m for m in mails_to(mailbox, address) if m["message"]["In-Reply-To"]
            and any(title in m["subject"] for title in ((about,) if isinstance(about, str) else about))]


def _about_disk(mail) -> bool:
    return "Disk space" in mail["subject"] or "Spazio su disco" in mail["subject"]


def _disk_tickets(tickets, host: str) -> list:
    return [t for t in tickets.of_host(host) if "Disk space" in t["Subject"]]


def test_missing_data_is_not_recovery(tmp_path, rt, rt_proxy, smtp):
    hosts = {"t04-nodisks": ("it", "ops-nodisks@acme.example"), "t04-nan": ("en", "ops-nan@acme.example"),
             "t04-error": ("en", "ops-error@acme.example")}
    estate = Estate(tmp_path / "estate")
    for host, (language, contact) in hosts.items():
        estate.add(host, appsuite_disk(healthy(host), 96), contacts=[contact], language=language)
    job = Job(estate, tmp_path / "state.sqlite", **rt_settings(rt_proxy.url, rt.token), **mail_settings(smtp[0]))
    tickets = Tickets(rt)
    opened = job.run()
    assert opened.returncode == 0, opened.describe()
    ids = {}
    for host in hosts:
        [ticket] = _disk_tickets(tickets, host)
        ids[host] = ticket["id"]

    # No measurement of the disk in this run: the section vanished, the value reads NaN, the item failed.
    nodisks = healthy("t04-nodisks")
    del nodisks["disks"]
    estate.report("t04-nodisks", nodisks)
    nan = healthy("t04-nan")
    for item in nan["disks"]["items"]:
        item.update(used_percent=math.nan, used_bytes=math.nan, free_bytes=math.nan)
    estate.report("t04-nan", nan)
    failed = healthy("t04-error")
    failed["disks"]["items"] = [item if item["mount"] != "/srv/appsuite" else
                                {"mount": "/srv/appsuite", "error": "[Errno 13] Permission denied: '/srv/appsuite'"}
                                for item in failed["disks"]["items"]]
    estate.report("t04-error", failed)
    gap = job.run()
    for host, (language, contact) in hosts.items():
        assert tickets.status(ids[host]) != "resolved", "%s: no data resolved its disk case:\n%s" % (host, gap.describe())
        assert _resolve_mails(smtp[1], contact) == [], "%s: a 'resolved' mail went out without data" % host
        assert not [m["subject"] for m in mails_to(smtp[1], contact) if _about_disk(m)
                    and ("Resolved" in m["subject"] or "Risolta" in m["subject"])]

    # A measured good value: now each disk case resolves, once, with one resolve mail.
    for host in hosts:
        estate.report(host, appsuite_disk(healthy(host), 30))
    good = job.run()
    job.run()
    for host, (language, contact) in hosts.items():
        assert tickets.status(ids[host]) == "resolved", "%s:\n%s" % (host, good.describe())
        assert len(_disk_tickets(tickets, host)) == 1
        resolved = [c for c in tickets.comments(ids[host])]
        assert len(resolved) == 1, "%s: one resolve comment, got %s" % (host, [c.get("Data") for c in resolved])
        [mail] = _resolve_mails(smtp[1], contact)
        assert ("Risolta" if language == "it" else "Resolved") in mail["subject"]
        assert len([m for m in mails_to(smtp[1], contact) if _about_disk(m)]) == 2


def test_one_malformed_contact_does_not_cost_the_others_their_mail(tmp_path, rt, rt_proxy, smtp):
    host = "t10-contacts"
    good = ["ops1@contacts.example", "ops2@contacts.example"]
    estate = Estate(tmp_path / "estate")
    estate.add(host, appsuite_disk(healthy(host), 96), contacts=[good[0], "not-an-address", good[1]])
    job = Job(estate, tmp_path / "state.sqlite", **rt_settings(rt_proxy.url, rt.token), **mail_settings(smtp[0]))
    run = job.run()
    assert Tickets(rt).count(host) == 1, "the host's alarm must still be filed:\n%s" % run.describe()
    for address in good:
        assert len(mails_to(smtp[1], address)) == 1, "%s must get its mail:\n%s" % (address, run.describe())
    assert host in run.output and "imagicle_contacts" in run.output, (
        "the run must name the host and imagicle_contacts:\n%s" % run.describe())


def test_three_thousand_full_mounts_open_the_cap_and_one_summary(tmp_path, rt, rt_proxy):
    host = "t11-flood"
    estate = Estate(tmp_path / "estate")
    estate.add(host, full_disks(host, 3000))
    job = Job(estate, tmp_path / "state.sqlite", **rt_settings(rt_proxy.url, rt.token))
    proc = job.start()
    try:
        run = proc.wait(timeout=90)
    except AssertionError as exc:
        filed = Tickets(rt).count(host)
        raise AssertionError("%d tickets filed for one host before the run was stopped (cap %d + 1): %s"
                             % (filed, DEFAULT_CAP, exc)) from None
    found = Tickets(rt).of_host(host)
    assert len(found) == DEFAULT_CAP + 1, "%d tickets (cap %d + 1 summary):\n%s" % (len(found), DEFAULT_CAP, run.describe())
    summaries = [t for t in found if "disk_space" not in t["Subject"] and "Disk space" not in t["Subject"]]
    assert len(summaries) == 1, [t["Subject"] for t in found]
    assert run.count("capped") == 3000 - DEFAULT_CAP, run.table()
    again = job.run()
    assert Tickets(rt).count(host) == DEFAULT_CAP + 1, again.describe()


PHONES = ("3471234567", "02-12-3456")


def test_phone_numbers_in_host_text_reach_neither_rt_nor_mail(tmp_path, rt, rt_proxy, smtp):
    host, contact = "t14-phones", "ops-phones@acme.example"
    health = healthy(host)
    health["disks"]["items"] += [disk("/srv/caller[3471234567]", 96), disk("/srv/rec/02-12-3456", 96)]
    estate = Estate(tmp_path / "estate")
    estate.add(host, health, contacts=[contact], language="en")
    job = Job(estate, tmp_path / "state.sqlite", **rt_settings(rt_proxy.url, rt.token), **mail_settings(smtp[0]))
    run = job.run()
    tickets = Tickets(rt)
    found = tickets.of_host(host)
    assert len(found) == 2, run.describe()
    mails = mails_to(smtp[1], contact)
    assert len(mails) == 2, run.describe()
    for ticket in found:
        text = tickets.texts(ticket["id"])
        assert not [p for p in PHONES if p in text], "RT ticket %s carries a phone number:\n%s" % (ticket["id"], text[:3000])
    for mail in mails:
        assert not [p for p in PHONES if p in mail["subject"]], mail["subject"]
        assert not [p for p in PHONES if p in mail["text"]], mail["text"][:3000]


def test_cr_lf_in_host_text_does_not_forge_console_lines(tmp_path):
    """The role on this machine (ansible_connection=local) with disk paths holding CR/LF: what the
    run prints must keep each host string on its own line. Results are printed as JSON here, where
    a string can never span lines: a line starting with the forged text is one the product split
    off, and a JSON escape right before it is a raw newline that the project's YAML output would
    print as a line of its own."""
    host = "t14-crlf"
    estate = Estate(tmp_path / "estate")
    forged = "FAKE: ok"
    estate.add(host, None, imagicle_gather_subset=["disks"], imagicle_state_dir=str(tmp_path / "module-state"),
               imagicle_disks={"mounts": [str(tmp_path / ("x\n%s" % forged)), str(tmp_path / ("y\r\n%s" % forged)),
                                          str(tmp_path / ("z\r%s" % forged))]})
    job = Job(estate, tmp_path / "state.sqlite")
    run = job.run(playbook="role.yml", env={"ANSIBLE_CALLBACK_RESULT_FORMAT": "json"})
    assert "disk " in run.stdout and run.returncode == 0, "the role showed no health summary:\n%s" % run.describe()
    split_off = [line for line in run.output.replace("\r", "\n").splitlines() if line.strip().strip("'\"").startswith(forged)]
    escaped = [escape for escape in ("\\n" + forged, "\\r" + forged) if escape in run.output]
    assert split_off == [] and escaped == [], "host text forged console lines %s %s:\n%s" % (split_off, escaped, run.describe())
