# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The evaluate action's logic: settings from inventory, facts to alarms with deadlines."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils import evaluation
from ansible_collections.imagicle.proactive.plugins.plugin_utils.evaluation import (
    SettingsError,
    evaluate_host,
    host_settings,
    summary_lines,
    usable_health,
)
from ansible_collections.imagicle.proactive.plugins.plugin_utils.history import History, disk_metric
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils.health_fixture import (
    healthy_health,
    process,
)

# Friday 27 November 2026, 17:50 in Rome (16:50 UTC).
FRIDAY_EVENING = datetime(2026, 11, 27, 16, 50, tzinfo=timezone.utc)

VARIABLES = {
    "imagicle_customer": "acme",
    "imagicle_consent": True,
    "imagicle_sla": {"plan": "gold", "timezone": "Europe/Rome", "holidays": {"country": "IT"}},
}


def settings(**changes):
    variables = dict(VARIABLES)
    variables.update(changes)
    return host_settings("ias-a", variables)


def facts_result(health):
    return {"changed": False, "ansible_facts": {"imagicle_health": health}}


def test_a_healthy_host_has_no_alarm_and_is_eligible():
    result = evaluate_host(settings(), facts_result(healthy_health()), detected_at=FRIDAY_EVENING)
    assert result["alarms"] == []
    assert result["reporting"] is True
    assert result["eligibility"] == {"eligible": True, "reasons": [], "consent": True}
    assert summary_lines(result) == ["no alarm"]


def test_a_disk_predicted_full_gets_p4_with_its_deadline():
    health = healthy_health()
    health["disks"]["items"][0]["used_percent"] = 70.0
    # 1 % a day for the last week, up to 69.75 % six hours ago: full in 30 days.
    slow = History({disk_metric("/", "used_percent"): tuple(
        (FRIDAY_EVENING - timedelta(hours=6 * index), 70.0 - 0.25 * index) for index in range(1, 29))})
    assert evaluate_host(settings(), facts_result(health), detected_at=FRIDAY_EVENING, history=slow)["alarms"] == []
    # 2.5 % a day: full in 12 days.
    fast = History({disk_metric("/", "used_percent"): tuple(
        (FRIDAY_EVENING - timedelta(hours=6 * index), 70.0 - 0.625 * index) for index in range(1, 29))})
    [alarm] = evaluate_host(settings(), facts_result(health), detected_at=FRIDAY_EVENING, history=fast)["alarms"]
    assert (alarm["rule"], alarm["priority"], alarm["subject"]) == ("disk_space", "P4", "/")
    assert alarm["summary"] == "/ is 70.0 % full (28000.0 MB free); predicted full on 2026-12-09 (in 12 days)"
    assert alarm["evidence"]["prediction"]["slope_per_day"] == pytest.approx(2.5)
    assert alarm["response_target_minutes"] == 480


@pytest.mark.parametrize("result, health, usable", [
    ({"changed": False, "ansible_facts": {"imagicle_health": healthy_health()}}, None, True),
    (None, healthy_health(), True),
    ({"unreachable": True, "msg": "no route"}, None, False),
    ({"failed": True, "ansible_facts": {"imagicle_health": healthy_health()}}, None, False),
    (None, {"schema_version": 9}, False),
    (None, None, False),
])
def test_usable_health_is_the_health_of_a_host_that_reported(result, health, usable):
    found = usable_health(result, health)
    assert (found == healthy_health()) if usable else found is None


def test_a_full_disk_gets_p3_due_on_monday_in_business_hours():
    health = healthy_health()
    disk = health["disks"]["items"][0]
    disk["used_percent"] = 96.0
    result = evaluate_host(settings(), facts_result(health), detected_at=FRIDAY_EVENING)
    [alarm] = result["alarms"]
    assert (alarm["rule"], alarm["priority"], alarm["subject"]) == ("disk_space", "P3", disk["mount"])
    # 10 minutes of Friday's business day, then 3 h 50 min of Monday from 09:00 Rome (08:00 UTC).
    assert alarm["due"] == "2026-11-30T11:50:00Z"
    assert alarm["response_calendar"] == "business" and alarm["response_target_minutes"] == 240
    assert alarm["page"] is False and alarm["eligible"] is True and alarm["plan"] == "gold"
    assert alarm["customer"] == "acme" and alarm["host"] == "ias-a"


def test_an_alarm_carries_the_customers_timezone_and_the_texts_of_the_contacts_language():
    health = healthy_health()
    health["disks"]["items"][0]["used_percent"] = 96.0
    [alarm] = evaluate_host(settings(imagicle_language="it"), facts_result(health), detected_at=FRIDAY_EVENING)["alarms"]
    assert alarm["response_timezone"] == "Europe/Rome"
    assert alarm["texts"] == {"it": {"title": "Spazio su disco prossimo alla saturazione", "summary": alarm["texts"]["it"]["summary"]}}
    assert alarm["texts"]["it"]["summary"].startswith("%s è pieno al 96.0 %%" % health["disks"]["items"][0]["mount"])
    # English contacts: the alarm's own texts only; another timezone of the plan's calendars.
    [alarm] = evaluate_host(settings(imagicle_sla={"plan": "gold", "timezone": "Europe/London"}), facts_result(health),
                            detected_at=FRIDAY_EVENING)["alarms"]
    assert "texts" not in alarm and alarm["response_timezone"] == "Europe/London"


def test_a_platinum_p1_is_paged_and_due_in_sixty_clock_minutes():
    health = healthy_health()
    process(health, "voip_stack").update(running=False, count=0, pids=[])
    sunday_night = datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)
    result = evaluate_host(settings(imagicle_sla={"plan": "platinum"}), facts_result(health), detected_at=sunday_night)
    [alarm] = result["alarms"]
    assert (alarm["rule"], alarm["priority"]) == ("voip_stack_crashed", "P1")
    assert alarm["due"] == "2026-11-29T03:00:00Z"
    assert alarm["page"] is True


def test_alarms_are_sorted_most_urgent_first():
    health = healthy_health()
    health["disks"]["items"][0]["used_percent"] = 90.0
    health["cloud"].update(reachable=False, problem="connection refused")
    result = evaluate_host(settings(), facts_result(health), detected_at=FRIDAY_EVENING)
    assert [a["priority"] for a in result["alarms"]] == ["P1", "P4"]


def test_an_unreachable_host_gets_one_not_reporting_alarm():
    unreachable = {"unreachable": True, "msg": "Failed to connect to the host via ssh: timeout", "changed": False}
    result = evaluate_host(settings(), unreachable, detected_at=FRIDAY_EVENING)
    assert result["reporting"] is False and "unreachable" in result["not_reporting_reason"]
    [alarm] = result["alarms"]
    assert alarm["rule"] == "host_not_reporting" and alarm["priority"] == "P2"


@pytest.mark.parametrize(
    "result, reason",
    [
        ({"failed": True, "msg": "MODULE FAILURE: /usr/bin/python3: not found"}, "failed"),
        ({"changed": False, "ansible_facts": {"imagicle_health": {"schema_version": 99}}}, "schema_version"),
        ({"changed": False, "ansible_facts": {}}, "no health facts"),
        ({"skipped": True}, "skipped"),
    ],
)
def test_a_host_without_usable_facts_is_not_reporting(result, reason):
    evaluation = evaluate_host(settings(), result, detected_at=FRIDAY_EVENING)
    assert reason in evaluation["not_reporting_reason"]
    assert [a["rule"] for a in evaluation["alarms"]] == ["host_not_reporting"]


def test_without_consent_alarms_are_computed_but_not_eligible():
    health = healthy_health()
    health["cloud"].update(reachable=False, problem="connection refused")
    result = evaluate_host(settings(imagicle_consent=False), facts_result(health), detected_at=FRIDAY_EVENING)
    assert result["eligibility"]["eligible"] is False and result["eligibility"]["consent"] is False
    assert all(alarm["eligible"] is False for alarm in result["alarms"])
    assert summary_lines(result)[0].startswith("no proactive cases for this host: ")


def test_overrides_are_applied_group_then_host():
    health = healthy_health()
    health["disks"]["items"][0]["used_percent"] = 82.0
    group = {"disk_space": {"warn": 80, "crit": 90}}
    host = {"disk_space": {"warn_priority": "P3"}}
    result = evaluate_host(settings(imagicle_rule_overrides=group, imagicle_rule_overrides_host=host),
                           facts_result(health), detected_at=FRIDAY_EVENING)
    [alarm] = result["alarms"]
    assert (alarm["rule"], alarm["priority"]) == ("disk_space", "P3")


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"imagicle_customer": ""}, ["imagicle_customer"]),
        ({"imagicle_consent": "yes"}, ["imagicle_consent"]),
        ({"imagicle_sla": {"plan": "diamond"}}, ["imagicle_sla", "plan", "diamond"]),
        ({"imagicle_sla": {"timezone": "Mars/Olympus"}}, ["imagicle_sla", "timezone"]),
        ({"imagicle_rule_overrides": {"disk_space": {"warn": 99, "crit": 90}}}, ["imagicle_rule_overrides", "disk_space"]),
        ({"imagicle_rule_overrides_host": {"no_such_rule": {}}}, ["imagicle_rule_overrides_host", "no_such_rule"]),
    ],
)
def test_malformed_settings_name_the_variable_and_key(changes, words):
    with pytest.raises(SettingsError) as info:
        settings(**changes)
    for word in words:
        assert word in str(info.value)


# --- the options of appsuite_facts from the profile and the host's variables -------------------------

def test_collect_options_merge_the_host_s_variables_over_the_profile():
    profile = {"processes": [{"id": "voip", "name": "ias-voip"}], "cpu_interval": 0.5,
               "database": {"engine": "sqlite", "path": "/srv/db.sqlite", "connect_timeout": 5},
               "webapi": {"url": "https://127.0.0.1/", "endpoints": {"qme": "/q", "ivr": "/i"}}, "unknown": 1}
    variables = {"imagicle_database": {"max_size_mb": 1024, "connect_timeout": 9},
                 "imagicle_webapi": {"password": "s3cret", "endpoints": {"ivr": "/ivr2"}},
                 "imagicle_processes": [{"id": "own", "name": "own"}], "imagicle_gather_timeout": 20}
    options = evaluation.collect_options("ias-a", profile, variables)
    assert options == {
        "gather_timeout": 20, "cpu_interval": 0.5, "processes": [{"id": "own", "name": "own"}],
        "database": {"engine": "sqlite", "path": "/srv/db.sqlite", "connect_timeout": 9, "max_size_mb": 1024},
        "webapi": {"url": "https://127.0.0.1/", "endpoints": {"qme": "/q", "ivr": "/ivr2"}, "password": "s3cret"},
        "disks": {}, "webserver": {}, "capacity": {}, "events": {}, "replication": {}, "cloud": {}, "release": {},
    }
    assert profile["database"] == {"engine": "sqlite", "path": "/srv/db.sqlite", "connect_timeout": 5}  # not changed


def test_collect_options_without_profile_or_variables_leave_every_default_to_the_module():
    assert evaluation.collect_options("ias-a", None, {}) == {name: {} for name in evaluation.FACTS_MAPPINGS}


@pytest.mark.parametrize("base, variables, named", [
    ("text", {}, "imagicle_profile"),
    ({"disks": ["/"]}, {}, "imagicle_profile.disks"),
    ({}, {"imagicle_events": "all"}, "imagicle_events"),
])
def test_collect_options_name_the_variable_that_is_not_a_mapping(base, variables, named):
    with pytest.raises(evaluation.SettingsError, match="host ias-a: %s must be a mapping" % re.escape(named)):
        evaluation.collect_options("ias-a", base, variables)


def test_preload_reads_the_default_catalogue_and_the_holiday_countries_once_for_the_workers(monkeypatch):
    monkeypatch.setattr(evaluation, "_CATALOGUES", {})
    listed = []

    class Library:
        @staticmethod
        def list_supported_countries():
            listed.append(1)
            return {"IT": ["RM"]}

    monkeypatch.setattr(evaluation.sla, "holidays_lib", Library)
    evaluation.preload()
    assert list(evaluation._CATALOGUES) == [(None, None)]
    catalogue = evaluation._CATALOGUES[(None, None)]
    evaluation.preload()
    assert evaluation._catalogue(None) is catalogue  # read once, then shared
    assert evaluation.sla.supported_countries() == {"IT": ["RM"]}
    assert listed == [1]


def test_preload_leaves_a_library_that_is_missing_to_the_evaluation(monkeypatch):
    monkeypatch.setattr(evaluation, "_CATALOGUES", {})
    monkeypatch.setattr(evaluation.sla, "holidays_lib", None)
    evaluation.preload()  # no exception: the hosts that need holidays say it, one by one
    assert (None, None) in evaluation._CATALOGUES
