# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""evaluate(): the brief's alarm table row by row, the project's own rules, levels, failing
collectors, hosts that do not report, and what evidence may contain."""

from __future__ import annotations

import json
import re
import types
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.imagicle.proactive.plugins.plugin_utils import rules
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import RulesError, apply_overrides, evaluate, load_catalogue

from .health_fixture import healthy_health, process
from .test_rules_behaviour import EXERCISED as HISTORY_RULES_EXERCISED
from .test_rules_capacity_peaks import EXERCISED as PEAK_RULES_EXERCISED

NOW = datetime(2026, 11, 26, 5, 40, tzinfo=timezone.utc)
CATALOGUE = load_catalogue()
SCHEMA_DOC = Path(__file__).resolve().parents[4] / "docs" / "facts-schema.md"
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def run(health, catalogue=CATALOGUE, **kwargs):
    options = {"host": "ias-a", "customer": "acme", "catalogue": catalogue, "detected_at": NOW}
    options.update(kwargs)
    return evaluate(health, **options)


def summary_of(alarms):
    return [(alarm.rule, alarm.priority, alarm.subject) for alarm in alarms]


def changed(*edits):
    """Healthy facts with ``edits`` applied, each a function of the facts."""
    health = healthy_health()
    for edit in edits:
        edit(health)
    return health


def set_key(section, key, value, *more):
    def edit(health):
        target = health[section]
        for step in more:
            target = target[step]
        target[key] = value
    return edit


def disk_used(percent):
    def edit(health):
        disk = health["disks"]["items"][1]
        disk["used_percent"] = percent
        disk["used_bytes"] = int(disk["total_bytes"] * percent / 100)
        disk["free_bytes"] = disk["total_bytes"] - disk["used_bytes"]
    return edit


def database_used(percent):
    def edit(health):
        database = health["database"]
        database["used_percent"] = percent
        database["size_bytes"] = int(database["limit_bytes"] * percent / 100)
    return edit


def process_state(process_id, **values):
    def edit(health):
        process(health, process_id).update(values)
    return edit


def capacity(app, in_use, licensed, available):
    def edit(health):
        health["capacity"]["apps"][app].update(in_use=in_use, licensed=licensed, available=available,
                                               used_percent=round(in_use * 100.0 / licensed, 2))
    return edit


def replication(**values):
    def edit(health):
        health["replication"].update(values)
    return edit


def release(raw):
    def edit(health):
        year, season, number = raw.split(".")
        health["release"].update(raw=raw, year=int(year), season=season, number=int(number))
    return edit


def section_replaced(name, value):
    def edit(health):
        health[name] = value
    return edit


DOWN = {"running": False, "count": 0, "pids": [], "cpu_percent": 0.0, "rss_bytes": 0, "memory_percent": 0.0,
        "start_time_epoch": None, "start_time": None, "restarted": False, "was_running": True}
RESTARTED = {"start_time_epoch": 1795003600.5, "start_time": "2026-11-18T13:26:40Z", "restarted": True}

# (case id, edits that trigger it, (rule, priority, subject), edits just short of it, what those give)
CASES = [
    # --- the product brief's table ---
    ("brief: VoIP stack crash", [process_state("voip_stack", **DOWN)], ("voip_stack_crashed", "P1", "voip_stack"),
     [process_state("voip_stack", restarted=False, was_running=None, previous_start_time_epoch=None)], None),
    ("brief: licensed application crash", [process_state("call_recording", **RESTARTED)],
     ("application_crashed", "P1", "call_recording"),
     [process_state("web_portal", **RESTARTED)], None),
    ("brief: HA replication problem", [replication(state="failure", healthy=False, reason="peer ias-b unreachable")],
     ("replication_problem", "P3", ""),
     [replication(clock_skew_seconds=15.0)], None),
    ("brief: disk space running low", [disk_used(85.0)], ("disk_space", "P4", "/srv/appsuite"),
     [disk_used(84.99)], None),
    ("brief: disk space close to saturation", [disk_used(95.0)], ("disk_space", "P3", "/srv/appsuite"),
     [disk_used(94.99)], ("disk_space", "P4", "/srv/appsuite")),
    ("brief: database space running low", [database_used(80.0)], ("database_space", "P4", ""),
     [database_used(79.99)], None),
    ("brief: database space close to saturation", [database_used(95.0)], ("database_space", "P3", ""),
     [database_used(94.99)], ("database_space", "P4", "")),
    ("brief: Call Recording channels exhausted", [capacity("call_recording", 8, 8, 0)],
     ("recording_channels_exhausted", "P3", "call_recording"),
     [capacity("call_recording", 7, 8, 1)], None),
    ("brief: QME licences exhausted", [capacity("advanced_queuing", 10, 10, 0)],
     ("qme_licences_exhausted", "P3", "advanced_queuing"),
     [capacity("advanced_queuing", 9, 10, 1)], None),
    ("brief: IVR licences exhausted", [capacity("ivr", 4, 4, 0)], ("ivr_licences_exhausted", "P3", "ivr"),
     [capacity("ivr", 3, 4, 1)], None),
    ("brief: cloud connection failed",
     [section_replaced("cloud", {"url": "https://api.imagicle.com/test", "reachable": False, "status_code": None,
                                 "message": None, "latency_ms": None, "problem": "GET https://api.imagicle.com/test: timed out"})],
     ("cloud_connection_failed", "P1", ""),
     [set_key("cloud", "latency_ms", 9000.0)], None),
    # --- the project's own rules ---
    ("project: replication clock skew", [replication(healthy=False, clock_skew_seconds=15.5,
                                                     problem="the peer clock differs by 15.5 s")],
     ("replication_problem", "P3", ""),
     [replication(configured=False)], None),
    ("project: web portal down",
     [section_replaced("webserver", {"url": "https://127.0.0.1/", "up": False, "status_code": 503, "latency_ms": 40.0,
                                     "tls": None, "problem": "GET https://127.0.0.1/ answered HTTP 503 Service Unavailable"})],
     ("web_portal_down", "P2", ""),
     [set_key("webserver", "status_code", 302)], None),
    ("project: web portal slow", [set_key("webserver", "latency_ms", 2000.1)], ("web_portal_slow", "P4", ""),
     [set_key("webserver", "latency_ms", 2000.0)], None),
    ("project: TLS certificate expires soon", [set_key("webserver", "days_left", 29.99, "tls")],
     ("tls_certificate_expiring", "P4", ""),
     [set_key("webserver", "days_left", 30.0, "tls")], None),
    ("project: TLS certificate about to expire", [set_key("webserver", "days_left", 6.99, "tls")],
     ("tls_certificate_expiring", "P3", ""),
     [set_key("webserver", "days_left", 7.0, "tls")], ("tls_certificate_expiring", "P4", "")),
    ("project: release unsupported", [release("2019.Summer.3")], ("release_unsupported", "P4", ""),
     [release("2020.Winter.1")], None),
    ("project: collector failing", [section_replaced("database", {"error": "database: cannot open /srv/appsuite/db"})],
     ("collector_failing", "P4", "database"),
     [section_replaced("database", {"configured": False})], None),
    ("project: one event source failing",
     [set_key("events", "sources", [{"path": "/var/log/ias.log", "offset": None, "rotated": False, "error": "permission denied"}])],
     ("collector_failing", "P4", "events//var/log/ias.log"),
     [set_key("events", "sources", [])], None),
]


@pytest.mark.parametrize("edits, expected, near_edits, near_expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_each_condition_gives_exactly_its_alarm(edits, expected, near_edits, near_expected):
    alarms = run(changed(*edits))
    assert summary_of(alarms) == [expected]
    near = run(changed(*near_edits))
    assert summary_of(near) == ([near_expected] if near_expected else [])


@pytest.mark.parametrize("edits, expected", [case[1:3] for case in CASES], ids=[case[0] for case in CASES])
def test_alarm_carries_the_rule_and_only_the_checks_evidence(edits, expected):
    alarm = run(changed(*edits))[0]
    rule = CATALOGUE.rule(alarm.rule)
    spec = rules.CHECKS[rule.check]
    assert set(alarm.evidence) == set(spec.evidence)
    assert alarm.family == rule.family
    assert alarm.fingerprint == rules.fingerprint("acme", "ias-a", alarm.rule, alarm.subject)
    assert alarm.detected_at == "2026-11-26T05:40:00Z"
    assert "unknown" not in alarm.summary and "None" not in alarm.summary and "=" not in alarm.summary
    data = alarm.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {"rule", "title", "family", "priority", "level", "customer", "host", "subject", "fingerprint",
                         "summary", "evidence", "detected_at", "texts"}
    # The Italian texts of every default rule: its own title of the level, its summary over the same evidence.
    italian = data["texts"]["it"]
    assert italian["title"] == rules.level_title(rule.i18n["it"], alarm.level) and italian["title"] != alarm.title
    assert italian["summary"] != alarm.summary
    assert "unknown" not in italian["summary"] and "None" not in italian["summary"] and "=" not in italian["summary"]


def test_every_rule_of_the_default_catalogue_is_exercised():
    # The rules that read history fire run after run, in test_rules_behaviour.
    exercised = {case[2][0] for case in CASES} | {"host_not_reporting", "host_not_configured"} | HISTORY_RULES_EXERCISED \
        | PEAK_RULES_EXERCISED
    assert exercised == set(CATALOGUE.ids())


def test_healthy_host_has_no_alarm():
    assert run(healthy_health()) == []


def test_disk_levels_share_one_fingerprint_and_change_priority():
    assert run(changed(disk_used(84.9))) == []
    warn = run(changed(disk_used(85.0)))
    crit = run(changed(disk_used(95.0)))
    assert [(a.priority, a.level, a.title) for a in warn] == [("P4", "warn", "Disk space running low")]
    assert [(a.priority, a.level, a.title) for a in crit] == [("P3", "crit", "Disk space close to saturation")]
    assert warn[0].fingerprint == crit[0].fingerprint
    assert warn[0].summary == "/srv/appsuite is 85.0 % full (8.6 MB free)"
    assert crit[0].evidence["threshold"] == 95


def test_two_full_disks_are_two_alarms():
    def both_full(health):
        for disk in health["disks"]["items"]:
            disk["used_percent"] = 99.0
    alarms = run(changed(both_full))
    assert summary_of(alarms) == [("disk_space", "P3", "/"), ("disk_space", "P3", "/srv/appsuite")]
    assert alarms[0].fingerprint != alarms[1].fingerprint


def test_restarted_voip_stack_is_p1_and_says_so():
    alarms = run(changed(process_state("voip_stack", **RESTARTED)))
    assert summary_of(alarms) == [("voip_stack_crashed", "P1", "voip_stack")]
    assert alarms[0].summary == "VoIP stack (voip_stack) restarted since the last run"
    assert alarms[0].evidence["restarted"] is True


def test_stopped_application_names_itself():
    alarms = run(changed(process_state("ivr", **DOWN)))
    assert summary_of(alarms) == [("application_crashed", "P1", "ivr")]
    assert alarms[0].summary == "IVR (ivr) is not running"


def test_two_crashed_applications_are_two_alarms():
    alarms = run(changed(process_state("ivr", **DOWN), process_state("advanced_queuing", **RESTARTED)))
    assert summary_of(alarms) == [("application_crashed", "P1", "advanced_queuing"), ("application_crashed", "P1", "ivr")]


@pytest.mark.parametrize("name", rules.SECTIONS)
def test_failed_section_gives_collector_failing_and_nothing_else(name):
    health = changed(section_replaced(name, {"error": "%s: the psutil Python library is missing" % name}))
    alarms = run(health)
    assert summary_of(alarms) == [("collector_failing", "P4", name)]
    assert alarms[0].summary == "The %s collector failed: %s: the psutil Python library is missing" % (name, name)


NOT_CONFIGURED = {
    "processes": "processes: not configured: no Imagicle process to watch; set the option processes "
                 "(inventory variable imagicle_processes)",
    "database": "database: not configured: the Suite's database is not described; set the option database.engine "
                "(inventory variable imagicle_database.engine)",
    "events": "events: not configured: no event log to read; set the option events.sources "
              "(inventory variable imagicle_events.sources)",
    "release": "release: not configured: no file to read the installed release from; set the option release.file "
               "(inventory variable imagicle_release.file)",
}


def test_sections_not_configured_are_one_p4_naming_what_to_set_and_no_crash():
    # A host whose inventory forgot the processes and more: no "VoIP stack not running" P1, one P4
    # for the host that names every such section and its variable, and their rules unmeasured (their
    # cases kept as they are); no collector failed.
    health = changed(*(section_replaced(name, {"not_configured": text}) for name, text in NOT_CONFIGURED.items()))
    alarms, no_data = rules.evaluate_facts(health, host="ias-a", customer="acme", catalogue=CATALOGUE, detected_at=NOW)
    assert summary_of(alarms) == [("host_not_configured", "P4", "")]
    assert alarms[0].summary == ("Not configured on this host: processes, database, events, release; set "
                                 "imagicle_processes, imagicle_database.engine, imagicle_events.sources, "
                                 "imagicle_release.file (or a profile, imagicle_profile)")
    assert alarms[0].evidence["detail"].startswith(NOT_CONFIGURED["processes"] + " | " + NOT_CONFIGURED["database"])
    assert dict(alarms[0].texts)["it"]["summary"].startswith("Non configurato su questo server: processes, database")
    # One section only: the same alarm (one fingerprint), naming it alone.
    one = changed(section_replaced("processes", {"not_configured": NOT_CONFIGURED["processes"]}))
    [alarm] = rules.evaluate_facts(one, host="ias-a", customer="acme", catalogue=CATALOGUE, detected_at=NOW)[0]
    assert alarm.fingerprint == alarms[0].fingerprint and alarm.evidence["settings"] == "imagicle_processes"
    unmeasured = {gap.rule: gap.reason for gap in no_data}
    for rule in ("voip_stack_crashed", "application_crashed", "process_restart_loop", "database_space", "release_unsupported"):
        assert "inventory variable imagicle_" in unmeasured[rule], rule


def test_failed_section_does_not_fire_its_rules_on_what_is_missing():
    health = changed(
        section_replaced("webserver", {"error": "webserver: bad url"}),
        section_replaced("cloud", {"error": "cloud: bad proxy"}),
        section_replaced("replication", {"error": "replication: status file is not JSON"}),
    )
    assert summary_of(run(health)) == [("collector_failing", "P4", "webserver"), ("collector_failing", "P4", "replication"),
                                       ("collector_failing", "P4", "cloud")]


def test_failed_disk_item_is_reported_and_not_measured():
    def broken(health):
        health["disks"]["items"][1] = {"mount": "/srv/appsuite", "device": None, "fstype": None,
                                       "error": "mount /srv/appsuite does not exist on this host"}
    alarms = run(changed(broken))
    assert summary_of(alarms) == [("collector_failing", "P4", "disks//srv/appsuite")]
    assert alarms[0].summary == "The disks /srv/appsuite collector failed: mount /srv/appsuite does not exist on this host"


def test_failed_capacity_app_is_reported_and_not_counted_as_exhausted():
    health = changed(set_key("capacity", "ivr", {"error": "GET https://127.0.0.1/fw/Apps/IVR/WebAPI/ActiveCalls: HTTP 401"}, "apps"))
    assert summary_of(run(health)) == [("collector_failing", "P4", "capacity/ivr")]


def test_section_left_out_by_gather_subset_gives_nothing():
    health = healthy_health()
    for name in ("processes", "capacity", "cloud", "replication"):
        del health[name]
        health["gather_subset"].remove(name)
    assert run(health) == []


def test_section_collected_but_missing_is_a_collector_failure_and_no_data_for_its_rules():
    health = healthy_health()
    del health["disks"]
    alarms, no_data = rules.evaluate_facts(health, host="ias-a", customer="acme", catalogue=CATALOGUE, detected_at=NOW)
    assert summary_of(alarms) == [("collector_failing", "P4", "disks")]
    assert "the disks section is missing from the facts" in alarms[0].summary
    assert [(gap.rule, gap.subject) for gap in no_data] == [("disk_space", None)]


@pytest.mark.parametrize("bad, failing", [(float("nan"), True), ("90%", True), (None, False), (float("inf"), True)])
def test_a_disk_that_reads_nan_or_null_is_no_data_not_recovery(bad, failing):
    health = healthy_health()
    health["disks"]["items"][1]["used_percent"] = bad
    alarms, no_data = rules.evaluate_facts(health, host="ias-a", customer="acme", catalogue=CATALOGUE, detected_at=NOW)
    assert [(gap.rule, gap.subject) for gap in no_data] == [("disk_space", "/srv/appsuite")]
    assert summary_of(alarms) == ([("collector_failing", "P4", "disks//srv/appsuite")] if failing else [])


def test_unreadable_facts_are_no_data_for_every_rule():
    alarms, no_data = rules.evaluate_facts(None, host="ias-a", customer="acme", catalogue=CATALOGUE, detected_at=NOW)
    assert summary_of(alarms) == [("host_not_reporting", "P2", "")]
    assert {gap.rule for gap in no_data} == {r.id for r in CATALOGUE.rules if r.enabled} - {"host_not_reporting"}
    assert all(gap.subject is None for gap in no_data)


def test_healthy_facts_have_no_gaps():
    assert rules.evaluate_facts(healthy_health(), host="ias-a", customer="acme", catalogue=CATALOGUE, detected_at=NOW) == ([], [])


def test_unknown_licence_count_and_unlicensed_app_do_not_fire():
    unknown = changed(set_key("capacity", "ivr", {"in_use": 3, "licensed": None, "available": None, "used_percent": None,
                                                  "source": "ActiveCalls"}, "apps"))
    unlicensed = changed(capacity("ivr", 0, 1, 0), set_key("capacity", "licensed", 0, "apps", "ivr"))
    assert run(unknown) == []
    assert run(unlicensed) == []


def test_database_without_known_limit_does_not_fire():
    health = changed(set_key("database", "used_percent", None), set_key("database", "limit_bytes", None),
                     set_key("database", "limit_source", "none"))
    assert run(health) == []


def test_web_portal_down_does_not_also_claim_it_is_slow_but_keeps_its_certificate_rule():
    health = changed(set_key("webserver", "up", False), set_key("webserver", "latency_ms", 9000.0),
                     set_key("webserver", "problem", "certificate verify failed"),
                     set_key("webserver", "days_left", -2.0, "tls"))
    assert summary_of(run(health)) == [("web_portal_down", "P2", ""), ("tls_certificate_expiring", "P3", "")]


def test_cloud_unreachable_keeps_the_other_alarms():
    health = changed(set_key("cloud", "reachable", False), set_key("cloud", "problem", "timed out"), disk_used(96.0))
    assert summary_of(run(health)) == [("disk_space", "P3", "/srv/appsuite"), ("cloud_connection_failed", "P1", "")]


def test_release_comparison_uses_season_order():
    assert summary_of(run(changed(release("2020.Winter.1")))) == []
    assert summary_of(run(changed(release("2019.Summer.9")))) == [("release_unsupported", "P4", "")]
    minimum_2021 = apply_overrides(CATALOGUE, {"release_unsupported": {"minimum": "2021.Spring"}}, "imagicle_rule_overrides")
    assert summary_of(run(changed(release("2021.Winter.4")), minimum_2021)) == [("release_unsupported", "P4", "")]
    assert summary_of(run(changed(release("2021.Spring.1")), minimum_2021)) == []


@pytest.mark.parametrize("health", [None, "facts", [], {}, {"schema_version": 2, "system": {}}, {"schema_version": "1"},
                                    {"schema_version": True}], ids=["none", "text", "list", "empty", "v2", "v-text", "v-bool"])
def test_host_without_usable_facts_gives_one_not_reporting_alarm(health):
    alarms = run(health)
    assert [(a.rule, a.priority, a.family, a.subject) for a in alarms] == [("host_not_reporting", "P2", "monitoring", "")]
    assert alarms[0].evidence["reason"]


def test_not_reporting_alarm_for_an_unreachable_host():
    alarm = rules.not_reporting_alarm(CATALOGUE, host="ias-b", customer="acme", reason="ssh: connect timed out\x1b[0m",
                                      detected_at=NOW)
    assert alarm.to_dict()["summary"] == "No usable health facts: ssh: connect timed out [0m"
    assert alarm.fingerprint == rules.fingerprint("acme", "ias-b", "host_not_reporting", "")
    assert alarm.fingerprint == run(None, host="ias-b")[0].fingerprint


def test_not_reporting_hides_every_other_alarm_of_unknown_schema():
    health = changed(disk_used(99.0), set_key("cloud", "reachable", False))
    health["schema_version"] = 2
    assert summary_of(run(health)) == [("host_not_reporting", "P2", "")]


def test_overrides_change_evaluation():
    catalogue = apply_overrides(CATALOGUE, {"disk_space": {"warn": 80, "crit": 90, "crit_priority": "P2"},
                                            "web_portal_slow": {"enabled": False}}, "imagicle_rule_overrides")
    catalogue = apply_overrides(catalogue, {"disk_space": {"crit": 92}}, "imagicle_rule_overrides_host")
    assert summary_of(run(changed(disk_used(81.0)), catalogue)) == [("disk_space", "P4", "/srv/appsuite")]
    assert summary_of(run(changed(disk_used(91.0)), catalogue)) == [("disk_space", "P4", "/srv/appsuite")]
    assert summary_of(run(changed(disk_used(92.0)), catalogue)) == [("disk_space", "P2", "/srv/appsuite")]
    assert run(changed(set_key("webserver", "latency_ms", 9000.0)), catalogue) == []
    # the original catalogue is untouched
    assert summary_of(run(changed(disk_used(81.0)))) == []


def test_disabled_not_reporting_rule_gives_nothing():
    catalogue = apply_overrides(CATALOGUE, {"host_not_reporting": {"enabled": False}}, "imagicle_rule_overrides_host")
    assert run(None, catalogue) == []


def test_fingerprint_depends_on_every_part():
    base = rules.fingerprint("acme", "ias-a", "disk_space", "/srv")
    assert re.fullmatch("[0-9a-f]{20}", base)
    others = {rules.fingerprint("acme2", "ias-a", "disk_space", "/srv"), rules.fingerprint("acme", "ias-b", "disk_space", "/srv"),
              rules.fingerprint("acme", "ias-a", "database_space", "/srv"), rules.fingerprint("acme", "ias-a", "disk_space", "/"),
              rules.fingerprint("acme", "ias-a", "disk_space/", "srv")}
    assert base not in others and len(others) == 5


def test_detected_at_is_utc_and_must_be_aware():
    alarms = run(changed(disk_used(99.0)), detected_at=datetime(2026, 11, 26, 6, 40, tzinfo=timezone(timedelta(hours=1))))
    assert alarms[0].detected_at == "2026-11-26T05:40:00Z"
    with pytest.raises(RulesError, match="timezone-aware"):
        run(healthy_health(), detected_at=datetime(2026, 11, 26, 5, 40))


def test_host_strings_are_cleaned_and_capped_never_templated():
    hostile = "/srv/{used_percent}\x1b[31m\n\u202e" + "A" * 5000

    def bad_mount(health):
        health["disks"]["items"][1]["mount"] = hostile
        health["disks"]["items"][1]["used_percent"] = 99.0
    alarm = run(changed(bad_mount))[0]
    mount = alarm.evidence["mount"]
    assert len(mount) <= rules.TEXT_LIMIT and mount.startswith("/srv/{used_percent} [31m")
    assert not CONTROL.search(alarm.summary + alarm.subject + mount) and "\u202e" not in mount
    assert alarm.summary.startswith("/srv/{used_percent} [31m")
    assert "99.0 % full" in alarm.summary


def test_evidence_never_holds_a_whole_structure():
    def structures(health):
        health["disks"]["items"][1].update(mount={"nested": healthy_health()}, used_percent=99.0)
        process(health, "ivr").update(running=False, id=["ivr"], application=healthy_health())
    alarms = run(changed(structures))
    assert summary_of(alarms) == [("application_crashed", "P1", "<list>"), ("disk_space", "P3", "<dict>")]
    for alarm in alarms:
        assert len(json.dumps(alarm.to_dict())) < 1000


def test_check_that_cannot_read_the_facts_reports_collector_failing(monkeypatch):
    def broken(section, rule):
        raise TypeError("unexpected shape")
    spec = rules.CHECKS["disk_used_percent"]
    patched = dict(rules.CHECKS)
    patched["disk_used_percent"] = rules.CheckSpec(spec.name, spec.section, broken, spec.evidence, spec.params, spec.levels,
                                                   spec.level_unit)
    monkeypatch.setattr(rules, "CHECKS", types.MappingProxyType(patched))
    alarms = run(changed(section_replaced("disks", {"error": "disks: psutil missing"})))
    assert summary_of(alarms) == [("collector_failing", "P4", "disks")]
    alarms = run(healthy_health())
    assert summary_of(alarms) == [("collector_failing", "P4", "disks")]
    assert "rule disk_space: TypeError" in alarms[0].summary


def _paths(value, prefix=()):
    """Every key path of a nested structure (mappings and lists)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


HEALTHY_PATHS = [path for path in _paths(healthy_health()) if path and path[0] != "schema_version"]
JUNK = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(HEALTHY_PATHS), JUNK), min_size=1, max_size=4))
def test_malformed_facts_never_raise_and_evidence_stays_small(replacements):
    health = healthy_health()
    for path, junk in replacements:
        target = health
        try:
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = junk
        except (KeyError, IndexError, TypeError):
            continue
    alarms = run(health)
    fingerprints = [alarm.fingerprint for alarm in alarms]
    assert len(fingerprints) == len(set(fingerprints))
    for alarm in alarms:
        assert alarm.priority in rules.PRIORITIES
        for value in alarm.evidence.values():
            assert value is None or isinstance(value, (bool, int, float, str))
            if isinstance(value, str):
                assert len(value) <= rules.LONG_TEXT_LIMIT and not CONTROL.search(value)
        assert not CONTROL.search(alarm.summary)
        json.dumps(alarm.to_dict(), allow_nan=False)


def _shape(value):
    """Mapping keys all the way down (lists by their first element), for comparing shapes."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value and isinstance(value[0], (dict, list)) else []
    return None


def test_fixture_has_the_shape_of_the_facts_schema():
    text = SCHEMA_DOC.read_text(encoding="utf-8")
    documented = yaml.safe_load(re.search(r"```yaml\n(.*?)```", text, re.S).group(1))["imagicle_health"]
    assert _shape(healthy_health()) == _shape(documented)


def test_sections_and_apps_match_the_collectors():
    from ansible_collections.imagicle.proactive.plugins.module_utils import appsuite_health
    from ansible_collections.imagicle.proactive.plugins.module_utils.collectors import capacity as capacity_collector
    from ansible_collections.imagicle.proactive.plugins.module_utils.collectors import replication as replication_collector

    assert rules.SECTIONS == appsuite_health.ALL_SECTIONS
    assert rules.SCHEMA_VERSION == appsuite_health.SCHEMA_VERSION
    assert rules.CAPACITY_APPS == capacity_collector.APPS
    assert CATALOGUE.rule("replication_problem").params["max_clock_skew_seconds"] == replication_collector.MAX_CLOCK_SKEW_SECONDS
