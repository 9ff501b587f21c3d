# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rule keys of memory across runs (for_runs, for_minutes, clear): validation in a catalogue
and in overrides, what evaluate says of them (alarm["sustain"], quiet holds), and the store's
conditions table on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from ansible_collections.imagicle.proactive.plugins.plugin_utils import cases
from ansible_collections.imagicle.proactive.plugins.plugin_utils import store as store_module
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import (
    DEFAULT_CATALOGUE_PATH,
    RulesError,
    apply_overrides,
    catalogue_from_data,
    evaluate_facts,
    load_catalogue,
)
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import MIGRATIONS, ConditionRecord, open_store
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils._pgcluster import pg_server, store_url  # noqa: F401 pylint: disable=unused-import

from .health_fixture import healthy_health, process

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
DEFAULT = load_catalogue(None)
GROUP = "imagicle_rule_overrides (host ias-a)"
with open(DEFAULT_CATALOGUE_PATH, encoding="utf-8") as _handle:
    DATA = yaml.safe_load(_handle)


def edited(rule_id, **changes):
    data = copy.deepcopy(DATA)
    for index, rule in enumerate(data["rules"]):
        if rule["id"] == rule_id:
            rule.update(changes)
            return data, index
    raise AssertionError(rule_id)


# --- defaults --------------------------------------------------------------------------------------

def test_the_defaults_fire_at_once_and_clear_the_space_rules_below_their_band():
    assert all((rule.for_runs, rule.for_minutes) == (1, 0) for rule in DEFAULT.rules)
    assert (DEFAULT.rule("disk_space").clear, DEFAULT.rule("disk_space").warn) == (80, 85)
    assert (DEFAULT.rule("database_space").clear, DEFAULT.rule("database_space").warn) == (75, 80)
    assert DEFAULT.rule("tls_certificate_expiring").clear is None


# --- the catalogue ---------------------------------------------------------------------------------

CATALOGUE_MISTAKES = [
    ("clear above warn", "disk_space", {"clear": 90},
     "(disk_space).clear: clear (90) is above warn (85); for this rule the value rises"),
    ("clear below warn of a below rule", "tls_certificate_expiring", {"clear": 20},
     "(tls_certificate_expiring).clear: clear (20) is below warn (30); for this rule the value falls"),
    ("clear not a percentage", "database_space", {"clear": -1}, "(database_space).clear: -1 is not a percentage"),
    ("clear on a single-priority rule", "web_portal_down", {"clear": 1},
     "(web_portal_down).clear: check webserver_down has a single priority"),
    ("for_runs zero", "voip_stack_crashed", {"for_runs": 0},
     "(voip_stack_crashed).for_runs: expected a whole number of runs, at least 1"),
    ("for_runs a float", "disk_space", {"for_runs": 2.5}, "(disk_space).for_runs: expected a whole number of runs"),
    ("for_minutes negative", "disk_space", {"for_minutes": -5},
     "(disk_space).for_minutes: expected a number of minutes, 0 or more"),
    ("for_minutes text", "web_portal_slow", {"for_minutes": "10m"}, "(web_portal_slow).for_minutes: expected a number of minutes"),
]


@pytest.mark.parametrize("rule_id, changes, message", [case[1:] for case in CATALOGUE_MISTAKES],
                         ids=[case[0] for case in CATALOGUE_MISTAKES])
def test_catalogue_mistakes_name_the_file_rule_and_key(rule_id, changes, message):
    data, index = edited(rule_id, **changes)
    with pytest.raises(RulesError) as info:
        catalogue_from_data(data, "/etc/imagicle/rules.yml")
    assert str(info.value).startswith("/etc/imagicle/rules.yml: rules[%d] (%s)" % (index, rule_id))
    assert message in str(info.value)


def test_a_catalogue_may_sustain_any_rule_and_clear_a_below_rule():
    data, dummy = edited("web_portal_slow", for_runs=3, for_minutes=10)
    data["rules"][[r["id"] for r in data["rules"]].index("tls_certificate_expiring")]["clear"] = 35
    catalogue = catalogue_from_data(data, "rules.yml")
    assert (catalogue.rule("web_portal_slow").for_runs, catalogue.rule("web_portal_slow").for_minutes) == (3, 10)
    assert catalogue.rule("tls_certificate_expiring").clear == 35


# --- overrides -------------------------------------------------------------------------------------

OVERRIDE_MISTAKES = [
    ("clear above warn", {"disk_space": {"clear": 86}},
     "imagicle_rule_overrides (host ias-a).disk_space.clear: clear (86) is above warn (85); for this rule the value rises, "
     "so its case is resolved once the value falls below clear, which must be at most warn"),
    ("clear above a new warn", {"disk_space": {"warn": 70, "crit": 80, "clear": 75}},
     "imagicle_rule_overrides (host ias-a).disk_space.clear: clear (75) is above warn (70)"),
    ("clear on a single-priority rule", {"web_portal_down": {"clear": 1}},
     "imagicle_rule_overrides (host ias-a).web_portal_down.clear: unknown key for rule web_portal_down; "
     "allowed: enabled, priority, for_runs, for_minutes"),
    ("for_runs bool", {"voip_stack_crashed": {"for_runs": True}},
     "imagicle_rule_overrides (host ias-a).voip_stack_crashed.for_runs: expected a whole number of runs, at least 1 (a case "
     "opens once the condition held on this many runs in a row), got bool true"),
    ("for_minutes null", {"disk_space": {"for_minutes": None}},
     "imagicle_rule_overrides (host ias-a).disk_space.for_minutes: expected a number of minutes, 0 or more"),
    ("unknown key lists the new ones", {"disk_space": {"for_hours": 1}},
     "unknown key for rule disk_space; allowed: enabled, warn, crit, warn_priority, crit_priority, clear, for_runs, for_minutes"),
]


@pytest.mark.parametrize("overrides, message", [case[1:] for case in OVERRIDE_MISTAKES], ids=[case[0] for case in OVERRIDE_MISTAKES])
def test_override_mistakes_name_the_variable_rule_and_key(overrides, message):
    with pytest.raises(RulesError) as info:
        apply_overrides(DEFAULT, overrides, GROUP)
    assert message in str(info.value)


def test_overrides_set_sustain_and_clear_per_group_then_host():
    group = apply_overrides(DEFAULT, {"disk_space": {"for_runs": 3, "clear": 70}, "cloud_connection_failed": {"for_minutes": 15}},
                            "imagicle_rule_overrides")
    host = apply_overrides(group, {"disk_space": {"for_runs": 2}}, "imagicle_rule_overrides_host")
    disk = host.rule("disk_space")
    assert (disk.for_runs, disk.for_minutes, disk.clear) == (2, 0, 70)
    assert host.rule("cloud_connection_failed").for_minutes == 15


def test_a_new_warn_without_a_clear_keeps_the_width_of_the_band():
    lower = apply_overrides(DEFAULT, {"disk_space": {"warn": 70, "crit": 80}}, GROUP).rule("disk_space")
    assert (lower.warn, lower.clear) == (70, 65)
    floor = apply_overrides(DEFAULT, {"database_space": {"warn": 2, "crit": 50}}, GROUP).rule("database_space")
    assert (floor.warn, floor.clear) == (2, 0)  # a percentage stays a percentage
    no_band = apply_overrides(DEFAULT, {"disk_space": {"clear": 85}}, GROUP).rule("disk_space")
    assert no_band.clear == no_band.warn == 85


# --- what evaluate says ---------------------------------------------------------------------------

def test_the_alarm_of_a_sustained_rule_carries_what_the_case_manager_waits_for():
    catalogue = apply_overrides(DEFAULT, {"voip_stack_crashed": {"for_runs": 2, "for_minutes": 5}}, GROUP)
    health = healthy_health()
    process(health, "voip_stack").update(running=False, count=0, pids=[])
    process(health, "ivr").update(running=False, count=0, pids=[])
    alarms, dummy = evaluate_facts(health, host="ias-a", customer="acme", catalogue=catalogue, detected_at=T0)
    found = {alarm.rule: alarm.to_dict() for alarm in alarms}
    assert found["voip_stack_crashed"]["sustain"] == {"runs": 2, "minutes": 5}
    assert "sustain" not in found["application_crashed"]  # the default: a case at once


@pytest.mark.parametrize("used, hold", [(84.9, True), (80, True), (79.9, False), (85, False), (30, False)])
def test_a_disk_between_clear_and_warn_is_a_quiet_hold_of_its_subject(used, hold):
    health = healthy_health()
    health["disks"]["items"][0]["used_percent"] = used
    alarms, no_data = evaluate_facts(health, host="ias-a", customer="acme", catalogue=DEFAULT, detected_at=T0)
    holds = [gap.to_dict() for gap in no_data if gap.quiet]
    if hold:
        assert alarms == [] and holds == [{"rule": "disk_space", "subject": "/", "quiet": True,
                                           "reason": "disks is %s, between clear (80) and warn (85): an open case stays open" % used}]
    else:
        assert holds == [] and [alarm.rule for alarm in alarms] == (["disk_space"] if used >= 85 else [])


def test_a_database_and_a_certificate_in_their_bands_are_held():
    catalogue = apply_overrides(DEFAULT, {"tls_certificate_expiring": {"clear": 40}}, GROUP)
    health = healthy_health()
    health["database"]["used_percent"] = 77.0
    health["webserver"]["tls"]["days_left"] = 33.0
    alarms, no_data = evaluate_facts(health, host="ias-a", customer="acme", catalogue=catalogue, detected_at=T0)
    assert alarms == []
    held = sorted((gap.rule, gap.subject) for gap in no_data if gap.quiet)
    assert held == [("database_space", ""), ("tls_certificate_expiring", "")]


def test_the_callback_turns_a_quiet_hold_into_a_quiet_gap_and_other_gaps_stay_loud():
    gathered = cases.RunInput()
    gathered.add({"alarms": [], "evaluation": {
        "host": "ias-a", "reporting": True, "eligibility": {"eligible": True},
        "no_data": [{"rule": "disk_space", "subject": "/", "reason": "in the band", "quiet": True},
                    {"rule": "database_space", "subject": None, "reason": "database: failed"},
                    {"rule": "cloud_connection_failed", "subject": None, "reason": "odd", "quiet": "yes"}]}}, "ias-a")
    assert [(gap.rule, gap.quiet) for gap in gathered.gaps] == [("disk_space", True), ("database_space", False),
                                                                ("cloud_connection_failed", False)]


# --- the conditions table on both engines -----------------------------------------------------------

def test_conditions_are_kept_listed_and_pruned(store_url):
    with open_store(store_url) as opened:
        kept = ConditionRecord("fp-1", "ias-a", "disk_space", "/", firing=True, changes=[T0 + timedelta(minutes=5), T0])
        pending = ConditionRecord("fp-2", "ias-b", "web_portal_slow", "", streak=2, streak_since=T0)
        clear = ConditionRecord("fp-3", "ias-a", "disk_space", "/var", changes=[T0])
        for record in (kept, pending, clear):
            opened.save_condition(record, T0)
        assert opened.get_condition("fp-1").changes == [T0, T0 + timedelta(minutes=5)]  # oldest first
        assert [c.fingerprint for c in opened.conditions(host="ias-a")] == ["fp-1", "fp-3"]
        assert opened.get_condition("fp-2") == pending
        assert opened.prune_conditions(T0 + timedelta(days=2)) == 2  # clear, and the streak not advanced since
        assert [c.fingerprint for c in opened.conditions()] == ["fp-1"]


def test_a_store_of_schema_4_gets_the_conditions_table_and_keeps_its_cases(store_url):
    engine = "sqlite" if "://" not in store_url else "postgresql"
    with store_module._open(store_url, "older collection", MIGRATIONS[engine][:4]) as old:
        old.save_case(store_module.CaseRecord(
            fingerprint="fp-1", customer="acme", host="ias-a", rule="disk_space", subject="/", priority="P4", status="open",
            backend="local", case_ref="LOCAL-1", title="t", opened_at=T0, updated_at=T0, case_key="fp-1-1"))
        kept = old.get_case("fp-1")
    with open_store(store_url) as current:
        assert current.schema_version() == store_module.SCHEMA_VERSION >= 5
        assert current.get_case("fp-1") == kept and current.conditions() == []
        current.save_condition(ConditionRecord("fp-1", "ias-a", "disk_space", "/", firing=True, changes=[T0]), T0)
        assert current.get_condition("fp-1").firing is True
