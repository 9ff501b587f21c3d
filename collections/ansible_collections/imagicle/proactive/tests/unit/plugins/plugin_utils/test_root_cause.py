# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One case per root cause: sequences of runs through the case manager, over a real SQLite store
and the local register.

A host that does not report, a customer whose hosts all lose the cloud, an HA pair whose peer is
down: each gives one case that names what it covers; the covered alarms come back on their own.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils import cases, root_cause
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.local import LocalBackend
from ansible_collections.imagicle.proactive.plugins.plugin_utils.evaluation import evaluate_host, host_settings
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import fingerprint
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import Silence, open_store
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils.health_fixture import healthy_health

from .test_cases import alarm

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
ACME = {"ias-a": "acme", "ias-b": "acme", "ias-c": "acme"}
CUSTOMER_HOST = "acme (all hosts)"
CLOUD_FP = fingerprint("acme", CUSTOMER_HOST, "cloud_connection_failed", "")


@pytest.fixture
def store(tmp_path):
    with open_store(str(tmp_path / "state.sqlite")) as opened:
        yield opened


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def step(store, alarms, reporting, now, *, dead=(), customers=None, gaps=(), contacts=None):
    """One run: ``reporting`` hosts gave facts, ``dead`` hosts did not (their gap as evaluate gives it)."""
    gaps = list(gaps) + [cases.Gap(host, None, None, "unreachable: ssh timed out") for host in dead]
    report = cases.plan_run(store, alarms, set(reporting), "local", now, gaps=gaps,
                            evaluated_hosts=set(reporting) | set(dead), customers=customers,
                            notifications=cases.Notifications(mail=bool(contacts), contacts=contacts or {}))
    return cases.drain(store, {"local": LocalBackend(store, clock=lambda: now)}, now, report, sleep=lambda seconds: None)


def not_reporting(host="ias-a"):
    return alarm(host=host, rule="host_not_reporting", subject="", priority="P2", check="host_not_reporting",
                 title="Host not reporting", family="monitoring", summary="No usable health facts: unreachable",
                 evidence={"reason": "unreachable: ssh timed out"})


def cloud(host, priority="P1", due="2026-11-27T11:00:00Z", page=False):
    return alarm(host=host, rule="cloud_connection_failed", subject="", priority=priority, check="cloud_unreachable",
                 title="Imagicle cloud connection failed", family="cloud_connection", due=due, page=page,
                 summary="The server cannot reach the Imagicle cloud", fingerprint=fingerprint("acme", host, "cloud_connection_failed", ""),
                 evidence={"url": "https://api.imagicle.com/test", "status_code": None, "problem": "timed out"})


def replication(host="ias-a", peer="ias-b"):
    return alarm(host=host, rule="replication_problem", subject="", priority="P3", check="replication_unhealthy",
                 title="HA replication problem", family="service_degradation",
                 summary="HA replication is not healthy (state failure): peer unreachable",
                 evidence={"state": "failure", "reason": "peer unreachable", "peer": peer, "detail": "peer unreachable"})


FIVE = [alarm(subject="/srv/appsuite"), alarm(subject="/var", priority="P3"),
        alarm(rule="ivr_licences_exhausted", subject="ivr", priority="P3"),
        alarm(rule="web_portal_slow", subject=""), alarm(rule="release_unsupported", subject="")]


def case_of(store, fp):
    record = store.get_case(fp)
    return store.local_get(record.case_ref)


def comments(store, fp):
    return [c["text"] for c in case_of(store, fp)["comments"]]


# --- a host that does not report ----------------------------------------------------------------------

def test_a_dead_host_gives_one_case_naming_its_open_cases_which_get_no_note_and_come_back_as_measured(store):
    report = step(store, FIVE, {"ias-a"}, T0)
    assert report.opened == 5
    refs = {a["fingerprint"]: store.get_case(a["fingerprint"]).case_ref for a in FIVE}

    report = step(store, [not_reporting()], set(), at(5), dead={"ias-a"})
    assert (report.opened, report.suppressed, report.held, report.noted, report.resolved) == (1, 5, 5, 0, 0)
    dead = not_reporting()["fingerprint"]
    body = case_of(store, dead)["fields"]["body"]
    assert len(store.local_list()) == 6
    for covered in FIVE:
        subject = (" " + covered["subject"]) if covered["subject"] else ""
        assert "covers: %s%s (case %s)" % (covered["rule"], subject, refs[covered["fingerprint"]]) in body

    # Hours without facts: no "no measurement" note on the covered cases, no second word on the cause's case.
    for minutes in (10, 70, 130, 300):
        report = step(store, [not_reporting()], set(), at(minutes), dead={"ias-a"})
        assert (report.opened, report.noted, report.updated, report.resolved, report.suppressed) == (0, 0, 0, 0, 5)
    assert all(comments(store, a["fingerprint"]) == [] for a in FIVE)
    assert comments(store, dead) == []
    assert all(store.get_case(a["fingerprint"]).no_data_since is None for a in FIVE)

    # Back: measured as usual. Two still fire (kept as they are), three cleared and the cause resolve.
    still = [FIVE[0], FIVE[2]]
    report = step(store, still, {"ias-a"}, at(305))
    assert (report.opened, report.resolved, report.suppressed, report.updated) == (0, 4, 0, 0)
    assert {a["fingerprint"]: store.get_case(a["fingerprint"]).status for a in FIVE + [not_reporting()]} == {
        FIVE[0]["fingerprint"]: "open", FIVE[1]["fingerprint"]: "resolved", FIVE[2]["fingerprint"]: "open",
        FIVE[3]["fingerprint"]: "resolved", FIVE[4]["fingerprint"]: "resolved", dead: "resolved"}
    assert comments(store, FIVE[0]["fingerprint"]) == []


def test_a_dead_host_without_its_cause_alarm_keeps_the_no_data_note(store):
    # host_not_reporting disabled (or the host not eligible): nothing folds, the cases say they have no data.
    step(store, FIVE[:1], {"ias-a"}, T0)
    report = step(store, [], set(), at(90), dead={"ias-a"})
    report = step(store, [], set(), at(200), dead={"ias-a"})
    assert report.suppressed == 0 and report.noted == 1
    assert "No measurement for this alarm since" in comments(store, FIVE[0]["fingerprint"])[0]


def test_when_the_covered_set_changes_the_cause_says_so_once(store):
    step(store, FIVE[:2], {"ias-a"}, T0)
    step(store, [not_reporting()], set(), at(5), dead={"ias-a"})
    dead = not_reporting()["fingerprint"]
    # Its HA peer now reports a replication problem: covered too, one comment, and no more.
    for minutes in (10, 15, 20):
        report = step(store, [not_reporting(), replication(host="ias-b", peer="ias-a")], {"ias-b"}, at(minutes),
                      dead={"ias-a"})
        assert report.opened == 0 and report.suppressed == 3
    [note] = comments(store, dead)
    assert "now also covers: ias-b replication_problem (no case)" in note
    assert "covers: disk_space /srv/appsuite (case %s)" % store.get_case(FIVE[0]["fingerprint"]).case_ref in note
    # The peer's replication recovers while the host is still down: one more comment.
    step(store, [not_reporting()], {"ias-b"}, at(25), dead={"ias-a"})
    step(store, [not_reporting()], {"ias-b"}, at(30), dead={"ias-a"})
    notes = comments(store, dead)
    assert len(notes) == 2 and "no longer covers: ias-b replication_problem (no case)" in notes[1]


def test_a_host_renamed_in_the_inventory_leaves_the_old_name_s_cases_alone(store):
    step(store, FIVE[:2], {"ias-a"}, T0)
    # Renamed ias-a -> ias-a2, and ias-a2 does not report: its case covers nothing of ias-a.
    report = step(store, [not_reporting("ias-a2")], set(), at(5), dead={"ias-a2"})
    assert report.opened == 1 and report.suppressed == 0
    assert "covers:" not in case_of(store, not_reporting("ias-a2")["fingerprint"])["fields"]["body"]
    assert [store.get_case(a["fingerprint"]).status for a in FIVE[:2]] == ["open", "open"]
    assert all(comments(store, a["fingerprint"]) == [] for a in FIVE[:2])


# --- HA peer down ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("peer", ["ias-b", "IAS-B", "ias-b.acme.local", "IAS-B.Acme.Local."])
def test_a_survivor_files_no_replication_case_while_its_peer_is_down(store, peer):
    report = step(store, [not_reporting("ias-b"), replication(peer=peer)], {"ias-a"}, T0, dead={"ias-b"})
    assert (report.opened, report.suppressed) == (1, 1)
    [case] = store.local_list()
    assert case["fields"]["title"] == "ias-b: Host not reporting"
    assert "covers: ias-a replication_problem (no case)" in case["fields"]["body"]
    assert store.get_case(replication()["fingerprint"]) is None
    # The peer is back and replication healthy again: the peer's case resolves, nothing else happens.
    report = step(store, [], {"ias-a", "ias-b"}, at(5))
    assert (report.opened, report.resolved) == (0, 1)
    # The peer back, replication still failing: now the survivor gets its replication case.
    report = step(store, [replication(peer=peer)], {"ias-a", "ias-b"}, at(10))
    assert report.opened == 1 and store.get_case(replication()["fingerprint"]).status == "open"


def test_an_open_replication_case_of_the_survivor_is_held_quietly_and_named(store):
    step(store, [replication()], {"ias-a", "ias-b"}, T0)
    ref = store.get_case(replication()["fingerprint"]).case_ref
    for minutes in (5, 90, 200):
        report = step(store, [not_reporting("ias-b"), replication()], {"ias-a"}, at(minutes), dead={"ias-b"})
        assert report.resolved == 0 and report.noted == 0
    assert store.get_case(replication()["fingerprint"]).status == "open"
    assert "covers: ias-a replication_problem (case %s)" % ref in case_of(store, not_reporting("ias-b")["fingerprint"])["fields"]["body"]
    assert comments(store, replication()["fingerprint"]) == []


def test_a_peer_that_names_no_host_of_the_run_or_one_that_reports_folds_nothing(store):
    # The peer as the product knows it is not an inventory name (or its short name is ambiguous): filed as usual.
    report = step(store, [not_reporting("ias-b"), replication(peer="10.0.0.12")], {"ias-a"}, T0, dead={"ias-b"})
    assert (report.opened, report.suppressed) == (2, 0)
    # A peer that reports (its replication is the problem, not the peer) folds nothing either.
    report = step(store, [replication(host="ias-c", peer="ias-a")], {"ias-a", "ias-c"}, at(5))
    assert (report.opened, report.suppressed) == (1, 0)


def test_match_host():
    hosts = ["ias-a", "ias-b.acme.local", "ias-c.one.local", "ias-c.two.local", "10.0.0.12"]
    assert root_cause.match_host("IAS-A.acme.local", hosts) == "ias-a"
    assert root_cause.match_host("ias-b", hosts) == "ias-b.acme.local"
    assert root_cause.match_host("IAS-B.ACME.LOCAL", hosts) == "ias-b.acme.local"
    assert root_cause.match_host("ias-c", hosts) is None  # two hosts have that short name
    assert root_cause.match_host("ias-c.two.local", hosts) == "ias-c.two.local"
    assert root_cause.match_host("10.0.0.99", hosts) is None and root_cause.match_host("10.0.0.12", hosts) == "10.0.0.12"
    assert root_cause.match_host("", hosts) is None and root_cause.match_host(None, hosts) is None


# --- a customer's cloud lost on every host ----------------------------------------------------------------

def test_a_customer_losing_the_cloud_on_all_hosts_gets_one_case_then_per_host_cases_when_one_recovers(store):
    three = [cloud("ias-a"), cloud("ias-b", due="2026-11-27T10:45:00Z", page=True), cloud("ias-c", priority="P2")]
    report = step(store, three, set(ACME), T0, customers=ACME)
    assert (report.opened, report.suppressed) == (1, 3)
    [case] = store.local_list()
    assert case["fields"]["title"] == "acme (all hosts): Imagicle cloud connection failed"
    assert case["priority"] == "P1" and case["fields"]["due"] == "2026-11-27T10:45:00Z"
    body = case["fields"]["body"]
    for host in ACME:
        assert "covers: %s cloud_connection_failed (no case)" % host in body
    assert "None of the 3 hosts of acme that checked the cloud can reach it (ias-a, ias-b, ias-c): timed out" in body
    record = store.get_case(CLOUD_FP)
    assert (record.host, record.customer, record.rule) == (CUSTOMER_HOST, "acme", "cloud_connection_failed")
    # It pages when one of them would.
    assert [i.kind for i in store.outbox_of(CLOUD_FP)] == ["open"] and not record.paged
    for minutes in (5, 10):
        report = step(store, three, set(ACME), at(minutes), customers=ACME)
        assert (report.opened, report.noted, report.suppressed) == (0, 0, 3)

    # ias-c reaches the cloud again: not every host any more. The customer case resolves, the two get their own.
    report = step(store, three[:2], set(ACME), at(15), customers=ACME)
    assert (report.opened, report.resolved, report.suppressed) == (2, 1, 0)
    assert store.get_case(CLOUD_FP).status == "resolved"
    assert {store.get_case(a["fingerprint"]).status for a in three[:2]} == {"open"}
    assert store.get_case(three[2]["fingerprint"]) is None

    # All three again: the customer case reopens and the two per-host cases are held quietly, and named (one
    # comment: two of the alarms it covers now have a case), then nothing more.
    report = step(store, three, set(ACME), at(20), customers=ACME)
    assert (report.reopened, report.opened, report.resolved, report.suppressed, report.noted) == (1, 0, 0, 3, 1)
    report = step(store, three, set(ACME), at(200), customers=ACME)
    assert (report.resolved, report.noted, report.updated) == (0, 0, 0)
    [note] = [text for text in comments(store, CLOUD_FP) if text.startswith("The alarms this case covers changed.")]
    ref_a = store.get_case(three[0]["fingerprint"]).case_ref
    assert "now with a case of its own (held while this case covers it): ias-a cloud_connection_failed (case %s)" % ref_a in note
    assert "covers: ias-c cloud_connection_failed (no case)" in note
    assert all(comments(store, a["fingerprint"]) == [] for a in three[:2])


def test_the_customer_case_mails_in_the_contacts_language(store):
    texts = {"it": {"title": "Connessione al cloud Imagicle non riuscita", "summary": "irraggiungibile"}}
    three = [dict(cloud(host), texts=texts, response_timezone="Europe/Rome") for host in ("ias-a", "ias-b", "ias-c")]
    contacts = {host: {"emails": ["it@acme.example"], "language": "it"} for host in ACME}
    step(store, three, set(ACME), T0, customers=ACME, contacts=contacts)
    [mail] = [item for item in store.outbox_of(CLOUD_FP) if item.kind == "mail"]
    assert mail.payload["language"] == "it" and mail.payload["case"]["timezone"] == "Europe/Rome"
    assert mail.payload["case"]["title"] == "acme (all hosts): Connessione al cloud Imagicle non riuscita"
    assert mail.payload["case"]["summary"] == (
        "Nessuno dei 3 server di acme che hanno verificato il cloud riesce a raggiungerlo (ias-a, ias-b, ias-c): timed out")


def test_the_customer_case_pages_when_one_of_its_alarms_would(store):
    three = [cloud("ias-a"), cloud("ias-b", page=True), cloud("ias-c")]
    report = cases.plan_run(store, three, set(ACME), "local", T0, customers=ACME,
                            notifications=cases.Notifications(pager="alertmanager"))
    assert report.suppressed == 3
    assert sorted(i.kind for i in store.outbox_of(CLOUD_FP)) == ["open", "page"]


def test_one_host_of_a_customer_losing_the_cloud_gets_its_own_case(store):
    report = step(store, [cloud("ias-b")], set(ACME), T0, customers=ACME)
    assert (report.opened, report.suppressed) == (1, 0)
    [case] = store.local_list()
    assert case["fields"]["title"].startswith("ias-b: ")
    # Two of three: still host by host.
    report = step(store, [cloud("ias-b"), cloud("ias-c")], set(ACME), at(5), customers=ACME)
    assert (report.opened, report.suppressed) == (1, 0) and store.get_case(CLOUD_FP) is None


def test_hosts_that_could_not_measure_the_cloud_or_did_not_report_do_not_count(store):
    # ias-c's cloud section failed: the two that measured it both fail, that is every host that measured it.
    gap = cases.Gap("ias-c", "cloud_connection_failed", None, "cloud: the collector failed")
    report = step(store, [cloud("ias-a"), cloud("ias-b")], set(ACME), T0, customers=ACME, gaps=[gap])
    assert (report.opened, report.suppressed) == (1, 2) and store.get_case(CLOUD_FP).status == "open"
    # Next run ias-c is unreachable: it does not count either; its own host_not_reporting case opens.
    report = step(store, [cloud("ias-a"), cloud("ias-b"), not_reporting("ias-c")], {"ias-a", "ias-b"}, at(5),
                  customers=ACME, dead={"ias-c"})
    assert (report.opened, report.resolved) == (1, 0)
    # No host measures the cloud (both sections failing, ias-c still down): the customer case is held, not resolved.
    gaps = [cases.Gap(h, "cloud_connection_failed", None, "cloud: the collector failed") for h in ("ias-a", "ias-b")]
    report = step(store, [not_reporting("ias-c")], {"ias-a", "ias-b"}, at(10), customers=ACME, dead={"ias-c"}, gaps=gaps)
    assert report.resolved == 0 and store.get_case(CLOUD_FP).status == "open"


def test_without_the_customers_of_the_hosts_nothing_is_grouped(store):
    three = [cloud("ias-a"), cloud("ias-b"), cloud("ias-c")]
    report = step(store, three, set(ACME), T0)
    assert (report.opened, report.suppressed) == (3, 0)


def test_a_run_over_another_slice_leaves_the_customer_case_alone(store):
    customers = dict(ACME, **{"ias-d": "acme", "zeta-a": "zeta"})
    step(store, [cloud("ias-a"), cloud("ias-b")], {"ias-a", "ias-b"}, T0, customers={"ias-a": "acme", "ias-b": "acme"})
    assert store.get_case(CLOUD_FP).status == "open"
    # Another slice: other hosts of acme, healthy; the customer's covered hosts are not in it.
    report = step(store, [], {"ias-c", "ias-d", "zeta-a"}, at(5), customers=customers)
    assert report.resolved == 0 and store.get_case(CLOUD_FP).status == "open"
    # A run that sees ias-a reach the cloud again resolves it.
    report = step(store, [cloud("ias-b")], {"ias-a", "ias-b"}, at(10), customers=customers)
    assert (report.resolved, report.opened) == (1, 1) and store.get_case(CLOUD_FP).status == "resolved"


def test_the_customer_case_mails_the_contacts_of_its_hosts_once_each(store):
    contacts = {"ias-a": {"emails": ["ops@acme.example"], "language": "it"},
                "ias-b": {"emails": ["ops@acme.example", "noc@acme.example"], "language": "it"}}
    report = cases.plan_run(store, [cloud("ias-a"), cloud("ias-b")], {"ias-a", "ias-b"}, "local", T0, customers=ACME,
                            notifications=cases.Notifications(mail=True, contacts=contacts))
    assert report.suppressed == 2
    mails = [i for i in store.outbox_of(CLOUD_FP) if i.kind == "mail"]
    assert sorted(i.payload["to"][0] for i in mails) == ["noc@acme.example", "ops@acme.example"]
    assert {i.payload["language"] for i in mails} == {"it"}


# --- silences still apply -----------------------------------------------------------------------------------

def silence(store, **match):
    store.add_silence(Silence(id=None, customer=match.get("customer"), host=match.get("host"), rule=match.get("rule"),
                              starts_at=T0 - timedelta(hours=1), ends_at=T0 + timedelta(days=1), reason="CHG-1",
                              created_at=T0 - timedelta(hours=1), lifted_at=None))


def test_a_silenced_dead_host_opens_nothing_and_its_cases_stay_quiet(store):
    step(store, FIVE[:2], {"ias-a"}, T0)
    silence(store, host="ias-a")
    for minutes in (5, 120):
        report = step(store, [not_reporting()], set(), at(minutes), dead={"ias-a"})
        assert (report.opened, report.silenced, report.noted, report.resolved) == (0, 1, 0, 0)
    assert len(store.local_list()) == 2 and all(comments(store, a["fingerprint"]) == [] for a in FIVE[:2])


def test_silences_apply_to_the_hosts_of_a_customer_case(store):
    three = [cloud("ias-a"), cloud("ias-b"), cloud("ias-c")]
    silence(store, host="ias-c")
    report = step(store, three, set(ACME), T0, customers=ACME)
    assert (report.opened, report.suppressed, report.silenced) == (1, 2, 1)
    body = case_of(store, CLOUD_FP)["fields"]["body"]
    assert "covers: ias-a" in body and "covers: ias-b" in body and "ias-c" not in body.split("Covers")[1]


def test_a_silence_of_the_customer_s_cloud_rule_holds_back_everything(store):
    silence(store, customer="acme", rule="cloud_connection_failed")
    report = step(store, [cloud("ias-a"), cloud("ias-b"), cloud("ias-c")], set(ACME), T0, customers=ACME)
    assert (report.opened, report.silenced) == (0, 3) and store.local_list() == []


# --- from evaluate to the case manager ------------------------------------------------------------------------

def test_evaluated_hosts_of_one_customer_without_cloud_make_one_case_through_the_callback_s_input(store):
    run = cases.RunInput()
    for host in ("ias-a", "ias-b"):
        health = healthy_health()
        health["cloud"].update(reachable=False, status_code=None, problem="timed out")
        settings = host_settings(host, {"imagicle_customer": "acme", "imagicle_consent": True,
                                        "imagicle_sla": {"plan": "gold", "timezone": "Europe/Rome"}})
        result = evaluate_host(settings, {"ansible_facts": {"imagicle_health": health}}, detected_at=T0)
        run.add({"alarms": result["alarms"], "evaluation": result}, host)
    assert run.customers == {"ias-a": "acme", "ias-b": "acme"}
    assert {a["check"] for a in run.alarms} == {"cloud_unreachable"}
    report = cases.plan_run(store, run.alarms, run.checked_hosts, "local", T0, gaps=run.gaps,
                            evaluated_hosts=run.evaluated_hosts, customers=run.customers)
    cases.drain(store, {"local": LocalBackend(store, clock=lambda: T0)}, T0, report)
    assert (report.opened, report.suppressed) == (1, 2)
    assert store.get_case(CLOUD_FP).status == "open"


def test_host_text_in_what_a_case_covers_is_masked_and_one_line(store):
    odd = alarm(subject="/srv/{evidence}\n+39 021 234 5678")
    step(store, [odd], {"ias-a"}, T0)
    step(store, [not_reporting()], set(), at(5), dead={"ias-a"})
    body = case_of(store, not_reporting()["fingerprint"])["fields"]["body"]
    line = next(line for line in body.splitlines() if line.startswith("  covers:"))
    assert "/srv/{evidence}" in line and "5678" not in line and "+39 ***" in line


# --- a process in a restart loop ----------------------------------------------------------------------------

def crash(process="voip_stack", host="ias-a", rule="voip_stack_crashed", state="restarted since the last run"):
    return alarm(host=host, rule=rule, subject=process, priority="P1", check="process_down_or_restarted",
                 title="VoIP stack crashed", family="service_degradation", summary="VoIP stack (%s) %s" % (process, state),
                 evidence={"process": process, "application": "VoIP stack", "role": "voip_stack", "state": state,
                           "running": True, "restarted": True, "count": 1})


def loop(process="voip_stack", host="ias-a"):
    return alarm(host=host, rule="process_restart_loop", subject=process, priority="P1", check="process_restart_loop",
                 title="Process restarting again and again", family="service_degradation",
                 summary="VoIP stack (%s) restarted 3 times within 60 min" % process,
                 evidence={"process": process, "application": "VoIP stack", "role": "voip_stack", "restarts": 3,
                           "window_minutes": 60})


def loop_held(process="voip_stack", host="ias-a"):
    """The quiet hold evaluate gives while one or two restarts remain in the window."""
    return cases.Gap(host, "process_restart_loop", process, "restarted 1 time(s) within 60 min", quiet=True)


def test_a_restart_loop_and_the_crash_of_the_same_process_are_one_case(store):
    report = step(store, [loop(), crash()], {"ias-a"}, T0)
    assert (report.opened, report.suppressed) == (1, 1)
    [case] = store.local_list()
    assert case["fields"]["title"] == "ias-a: Process restarting again and again (voip_stack)" and case["priority"] == "P1"
    assert "covers: voip_stack_crashed voip_stack (no case)" in case["fields"]["body"]
    assert store.get_case(crash()["fingerprint"]) is None
    # Run after run, restarting or not at each run: no crash case, no word on the loop's case.
    for minutes, alarms in ((5, [loop(), crash()]), (10, [loop()]), (15, [loop(), crash()])):
        report = step(store, alarms, {"ias-a"}, at(minutes))
        assert (report.opened, report.resolved, report.noted, report.reopened) == (0, 0, 0, 0)
    assert len(store.local_list()) == 1 and comments(store, loop()["fingerprint"]) == []


def test_a_crash_case_open_before_the_loop_is_taken_over_by_it_one_case_for_the_process(store):
    # The first restarts are crashes (a loop is three); the crash case is open when the loop starts.
    step(store, [crash()], {"ias-a"}, T0)
    step(store, [crash()], {"ias-a"}, at(5))
    ref = store.get_case(crash()["fingerprint"]).case_ref
    report = step(store, [loop(), crash()], {"ias-a"}, at(10))
    # The loop files on the crash case: no case of its own, one note on the crash case, the rule now the loop's.
    assert (report.opened, report.noted, report.suppressed, report.updated) == (0, 1, 0, 0)
    assert store.get_case(loop()["fingerprint"]) is None
    record = store.get_case(crash()["fingerprint"])
    assert (record.rule, record.status, record.case_ref, record.priority) == ("process_restart_loop", "open", ref, "P1")
    [note] = comments(store, crash()["fingerprint"])
    assert note.startswith("This case now follows Process restarting again and again (rule process_restart_loop; "
                           "it followed rule voip_stack_crashed): VoIP stack (voip_stack) "
                           "restarted 3 times within 60 min"), note
    assert len(store.local_list()) == 1
    # Restarting or not, the loop firing or slowing down (held): the case neither moves nor gets another word.
    for minutes, alarms, gaps in ((15, [loop()], []), (20, [], [loop_held()]), (25, [crash()], [loop_held()]),
                                  (30, [loop(), crash()], [])):
        report = step(store, alarms, {"ias-a"}, at(minutes), gaps=gaps)
        held = 1 if gaps else 0
        assert (report.opened, report.resolved, report.noted, report.reopened, report.held) == (0, 0, 0, 0, held)
    assert len(comments(store, crash()["fingerprint"])) == 1 and len(store.local_list()) == 1
    assert store.get_case(crash()["fingerprint"]).no_data_since is None
    # The loop is over (a window without a restart): the one case resolves.
    report = step(store, [], {"ias-a"}, at(95))
    assert (report.resolved, report.suppressed) == (1, 0)
    assert store.get_case(crash()["fingerprint"]).status == "resolved"
    # The process crashes again within the reopen window: the case reopens as the crash it was.
    report = step(store, [crash(state="is not running")], {"ias-a"}, at(120))
    assert report.reopened == 1 and store.get_case(crash()["fingerprint"]).rule == "voip_stack_crashed"


def test_a_loop_with_a_case_of_its_own_keeps_it_and_covers_a_crash_case_opened_meanwhile(store):
    # A store whose loop case and crash case are both open (filed by an earlier release): the loop keeps its own
    # case, the crash case is held quietly and named.
    step(store, [crash()], {"ias-a"}, T0)
    crash_case = store.get_case(crash()["fingerprint"])
    store.save_case(cases._new_record(loop()["fingerprint"], loop(), cases.case_content(loop()), "local", at(6), None))
    report = step(store, [loop(), crash()], {"ias-a"}, at(10))
    assert (report.opened, report.suppressed) == (1, 1)  # the loop's record had no reference: filed now
    assert "covers: voip_stack_crashed voip_stack (case %s)" % crash_case.case_ref in \
        case_of(store, loop()["fingerprint"])["fields"]["body"]
    assert store.get_case(crash()["fingerprint"]).rule == "voip_stack_crashed"


def test_a_loop_takes_over_a_crash_case_and_raises_its_priority_in_one_update(store):
    step(store, [dict(crash(), priority="P2")], {"ias-a"}, T0)
    report = step(store, [loop(), crash()], {"ias-a"}, at(10))
    assert (report.opened, report.updated, report.noted) == (0, 1, 0)
    record = store.get_case(crash()["fingerprint"])
    assert (record.rule, record.priority) == ("process_restart_loop", "P1")
    [update] = comments(store, crash()["fingerprint"])
    assert "This case now follows Process restarting again and again" in update and "Priority changed from P2 to P1" in update


def test_the_loop_of_one_process_does_not_cover_the_crash_of_another_nor_of_another_host(store):
    other = crash("ivr", rule="application_crashed", state="is not running")
    report = step(store, [loop(), other, crash(host="ias-b")], {"ias-a", "ias-b"}, T0)
    assert (report.opened, report.suppressed) == (3, 0)
    assert "covers:" not in case_of(store, loop()["fingerprint"])["fields"]["body"]


def test_when_the_loop_stops_a_crash_that_still_fires_gets_its_case(store):
    step(store, [loop(), crash()], {"ias-a"}, T0)
    assert store.get_case(crash()["fingerprint"]) is None
    # The loop is over, and the process is down now: the crash alarm is filed, the loop's case resolved.
    report = step(store, [crash(state="is not running")], {"ias-a"}, at(90))
    assert (report.opened, report.resolved, report.suppressed) == (1, 1, 0)
    assert store.get_case(crash()["fingerprint"]).status == "open"


def test_a_crash_rule_of_another_name_is_covered_too(store):
    custom = crash(rule="voip_down_custom")
    report = step(store, [loop(), custom], {"ias-a"}, T0)
    assert (report.opened, report.suppressed) == (1, 1)


# --- a capacity pool exhausted ----------------------------------------------------------------------------

def running_out(priority="P4", days=10.0):
    return alarm(rule="ivr_licences_running_out", subject="ivr", priority=priority, check="capacity_peak_predicted",
                 title="IVR licences running out" if priority == "P4" else "IVR licences close to saturation",
                 family="capacity_saturation", summary="IVR: daily peaks up to 29 of 40 in use; predicted full in %g days" % days,
                 evidence={"app": "ivr", "days_left": days, "licensed": 40, "peak": 29})


def exhausted():
    return alarm(rule="ivr_licences_exhausted", subject="ivr", priority="P3", check="capacity_available",
                 title="IVR licences exhausted", family="capacity_saturation", summary="IVR: 40 of 40 channels in use, 0 available",
                 evidence={"app": "ivr", "in_use": 40, "licensed": 40, "available": 0})


def test_a_pool_running_out_then_exhausted_then_free_again_is_one_case(store):
    fp = running_out()["fingerprint"]
    report = step(store, [running_out()], {"ias-a"}, T0)
    assert report.opened == 1
    step(store, [running_out("P3", 2.0)], {"ias-a"}, at(60 * 24 * 8))           # P4 -> P3: one update
    # Exhausted: the exhausted alarm takes the case over (its rule now), the prediction opens no case.
    report = step(store, [exhausted(), running_out("P3", 0.0)], {"ias-a"}, at(60 * 24 * 10))
    assert (report.opened, report.noted, report.updated, report.suppressed) == (0, 1, 0, 0)
    assert store.get_case(exhausted()["fingerprint"]) is None and store.get_case(fp).rule == "ivr_licences_exhausted"
    report = step(store, [exhausted(), running_out("P3", 0.0)], {"ias-a"}, at(60 * 24 * 10 + 5))
    assert (report.opened, report.noted, report.updated, report.resolved) == (0, 0, 0, 0)
    # Channels free again, the peaks still near the count: the case follows the prediction again (one comment).
    report = step(store, [running_out("P3", 1.0)], {"ias-a"}, at(60 * 24 * 10 + 10))
    assert (report.opened, report.noted, report.resolved) == (0, 1, 0) and store.get_case(fp).rule == "ivr_licences_running_out"
    # Neither fires: the one case resolves.
    report = step(store, [], {"ias-a"}, at(60 * 24 * 12))
    assert report.resolved == 1 and len(store.local_list()) == 1
    texts = comments(store, fp)
    assert any(t.startswith("This case now follows IVR licences exhausted (rule ivr_licences_exhausted; it followed rule "
                            "ivr_licences_running_out)") for t in texts), texts


def test_an_exhausted_case_covers_the_prediction_of_its_pool(store):
    step(store, [exhausted()], {"ias-a"}, T0)
    report = step(store, [exhausted(), running_out("P3", 0.0)], {"ias-a"}, at(5))
    assert (report.opened, report.suppressed) == (0, 1)
    assert store.get_case(running_out()["fingerprint"]) is None
    [note] = comments(store, exhausted()["fingerprint"])
    assert "now also covers: ivr_licences_running_out ivr (no case)" in note
