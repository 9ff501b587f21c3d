# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loading and overriding the rules catalogue: the default loads, and every mistake in a
catalogue file or an inventory override is reported with its file or variable and key path."""

from __future__ import annotations

import copy

import pytest
import yaml

from ansible_collections.imagicle.proactive.plugins.plugin_utils import rules
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import RulesError, apply_overrides, load_catalogue

DEFAULT = load_catalogue()
with open(rules.DEFAULT_CATALOGUE_PATH, encoding="utf-8") as _handle:
    DEFAULT_DATA = yaml.safe_load(_handle)
BRIEF = {
    "voip_stack_crashed": ("service_degradation", "P1"),
    "application_crashed": ("service_degradation", "P1"),
    "replication_problem": ("service_degradation", "P3"),
    "recording_channels_exhausted": ("capacity_saturation", "P3"),
    "qme_licences_exhausted": ("capacity_saturation", "P3"),
    "ivr_licences_exhausted": ("capacity_saturation", "P3"),
    "cloud_connection_failed": ("cloud_connection", "P1"),
}


def index_of(rule_id):
    return [entry["id"] for entry in DEFAULT_DATA["rules"]].index(rule_id)


def write_catalogue(tmp_path, edit=None, text=None):
    """A catalogue file: the default one changed by ``edit(data)``, or ``text`` as is."""
    path = tmp_path / "customer_rules.yml"
    if text is None:
        data = copy.deepcopy(DEFAULT_DATA)
        if edit is not None:
            edit(data)
        text = yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return str(path)


def rule_edit(rule_id, **changes):
    def edit(data):
        entry = data["rules"][index_of(rule_id)]
        for key, value in changes.items():
            if value is DELETE:
                del entry[key]
            else:
                entry[key] = value
    return edit


DELETE = object()


def test_default_catalogue_loads_with_the_briefs_priorities():
    assert DEFAULT.sources == (rules.DEFAULT_CATALOGUE_PATH,)
    for rule_id, (family, priority) in BRIEF.items():
        rule = DEFAULT.rule(rule_id)
        assert (rule.family, rule.priority, rule.enabled) == (family, priority, True)
    disk, database = DEFAULT.rule("disk_space"), DEFAULT.rule("database_space")
    assert (disk.warn, disk.warn_priority, disk.crit, disk.crit_priority) == (85, "P4", 95, "P3")
    assert (database.warn, database.warn_priority, database.crit, database.crit_priority) == (80, "P4", 95, "P3")
    tls = DEFAULT.rule("tls_certificate_expiring")
    assert (tls.warn, tls.warn_priority, tls.crit, tls.crit_priority) == (30, "P4", 7, "P3")
    assert DEFAULT.rule("host_not_reporting").priority == "P2"
    assert DEFAULT.rule("web_portal_slow").params["above_ms"] == 2000
    assert DEFAULT.rule("release_unsupported").params["minimum"] == "2020.Winter"
    assert DEFAULT.rule("default_admin_password") is None


def test_same_file_loads_from_an_explicit_path(tmp_path):
    catalogue = load_catalogue(write_catalogue(tmp_path))
    assert catalogue.rules == DEFAULT.rules


def test_every_check_sample_renders_every_summary_of_the_catalogue():
    for rule in DEFAULT.rules:
        text = rules.render_summary(rule, rule.title, dict(rules.CHECKS[rule.check].evidence))
        assert "=" not in text, rule.id


# --- catalogue files --------------------------------------------------------------------------

FILE_MISTAKES = [
    ("unknown key", rule_edit("disk_space", threshold=90), "rules[3] (disk_space).threshold: unknown key; allowed: id,"),
    ("warn not a number", rule_edit("disk_space", warn="high"), "rules[3] (disk_space).warn: expected a number, got str \"high\""),
    ("enabled not a bool", rule_edit("cloud_connection_failed", enabled="yes"),
     "rules[8] (cloud_connection_failed).enabled: expected true or false, got str \"yes\""),
    ("param wrong type", rule_edit("web_portal_slow", params={"above_ms": "fast"}),
     "rules[10] (web_portal_slow).params.above_ms: expected a number, got str \"fast\""),
    ("param not whole", rule_edit("ivr_licences_exhausted", params={"app": "ivr", "available_at_most": 0.5}),
     "rules[7] (ivr_licences_exhausted).params.available_at_most: expected a whole number, got float 0.5"),
    ("unknown param", rule_edit("ivr_licences_exhausted", params={"app": "ivr", "free": 1}),
     "rules[7] (ivr_licences_exhausted).params.free: unknown parameter of check capacity_available; allowed: app, available_at_most"),
    ("missing param", rule_edit("ivr_licences_exhausted", params={}),
     "rules[7] (ivr_licences_exhausted).params.app: missing; check capacity_available needs it"),
    ("unknown choice", rule_edit("ivr_licences_exhausted", params={"app": "fax"}),
     "rules[7] (ivr_licences_exhausted).params.app: unknown value \"fax\"; allowed: call_recording, advanced_queuing, ivr"),
    ("bad release", rule_edit("release_unsupported", params={"minimum": "2020.Autumn"}),
     "rules[12] (release_unsupported).params.minimum: expected a release like"),
    ("warn above crit", rule_edit("disk_space", warn=96), "rules[3] (disk_space).warn: warn (96) is above crit (95)"),
    ("below rule reversed", rule_edit("tls_certificate_expiring", warn=5),
     "rules[11] (tls_certificate_expiring).warn: warn (5) is below crit (7); for this rule the value falls"),
    ("percent over 100", rule_edit("database_space", crit=101), "rules[4] (database_space).crit: 101 is not a percentage; allowed: 0 to 100"),
    ("percent below 0", rule_edit("disk_space", warn=-1), "rules[3] (disk_space).warn: -1 is not a percentage; allowed: 0 to 100"),
    ("unknown priority", rule_edit("voip_stack_crashed", priority="P5"),
     "rules[0] (voip_stack_crashed).priority: unknown priority \"P5\"; allowed: P1, P2, P3, P4"),
    ("lowercase priority", rule_edit("disk_space", crit_priority="p3"),
     "rules[3] (disk_space).crit_priority: unknown priority \"p3\"; allowed: P1, P2, P3, P4"),
    ("priority on a two-level rule", rule_edit("disk_space", priority="P3"),
     "rules[3] (disk_space).priority: check disk_used_percent has two levels; use warn_priority and crit_priority"),
    ("levels on a single-priority rule", rule_edit("web_portal_down", warn=1),
     "rules[9] (web_portal_down).warn: check webserver_down has a single priority"),
    ("missing level", rule_edit("disk_space", crit_priority=DELETE), "rules[3] (disk_space).crit_priority: missing"),
    ("missing priority", rule_edit("web_portal_down", priority=DELETE), "rules[9] (web_portal_down).priority: missing; allowed: P1"),
    ("unknown check", rule_edit("disk_space", check="eval"), "rules[3] (disk_space).check: unknown check \"eval\"; allowed: capacity_available,"),
    ("section of another check", rule_edit("disk_space", section="database"),
     "rules[3] (disk_space).section: check disk_used_percent reads section \"disks\", not \"database\""),
    ("unknown family", rule_edit("disk_space", family="storage"), "rules[3] (disk_space).family: unknown family \"storage\"; allowed: service_degradation"),
    ("missing title", rule_edit("disk_space", title=DELETE), "rules[3] (disk_space).title: missing"),
    ("summary unknown field", rule_edit("disk_space", summary="{mount} on {hostname}"),
     "rules[3] (disk_space).summary: field {hostname} is not evidence of check disk_used_percent; allowed fields: free_mb, mount,"),
    ("summary attribute access", rule_edit("disk_space", summary="{mount.__class__}"),
     "rules[3] (disk_space).summary: field {mount.__class__} is not evidence"),
    ("summary positional field", rule_edit("disk_space", summary="{} full"), "rules[3] (disk_space).summary: field {} is not evidence"),
    ("summary bad format for a text", rule_edit("disk_space", summary="{mount:.1f}"),
     "rules[3] (disk_space).summary: Unknown format code 'f' for object of type 'str'"),
    ("summary malformed", rule_edit("disk_space", summary="{mount is full"), "rules[3] (disk_space).summary: not a valid format string"),
    ("summary nested field", rule_edit("disk_space", summary="{used_percent:{threshold}}"),
     "rules[3] (disk_space).summary: field {used_percent} uses a conversion or a nested field"),
    ("bad rule id", rule_edit("disk_space", id="Disk Space"), "rules[3].id: expected a rule id of lowercase letters"),
    ("rule not a mapping", lambda data: data["rules"].append("disk_space"), "rules[%d]: expected a mapping (a rule), got str" % len(DEFAULT.rules)),
    ("duplicate id", lambda data: data["rules"].append(copy.deepcopy(data["rules"][3])),
     "rules[%d] (disk_space).id: duplicate rule id disk_space" % len(DEFAULT.rules)),
    ("unknown top-level key", lambda data: data.update(defaults={}), ": defaults: unknown top-level key; allowed: version, rules"),
    ("unsupported version", lambda data: data.update(version=2), ": version: unsupported catalogue version 2; allowed: 1"),
    ("no rules", lambda data: data.update(rules=[]), ": rules: expected a non-empty list of rules"),
    ("predict days zero", rule_edit("disk_space", params={"predict_warn_days": 0}),
     "rules[3] (disk_space).params.predict_warn_days: must be a positive number (warn when the trend predicts full "
     "within this many days), got int 0"),
    ("predict days text", rule_edit("database_space", params={"predict_crit_days": "3d"}),
     "rules[4] (database_space).params.predict_crit_days: must be a positive number (crit when the trend predicts full "
     "within this many days), got str \"3d\""),
    ("predict crit after warn", rule_edit("disk_space", params={"predict_warn_days": 2}),
     "rules[3] (disk_space).params.predict_crit_days: predict_crit_days (3) is above predict_warn_days (2); "
     "predict_crit_days must be at most predict_warn_days"),
    ("predict not a bool", rule_edit("disk_space", params={"predict": "yes"}),
     "rules[3] (disk_space).params.predict: expected true or false, got str \"yes\""),
    ("predict on a check without history", rule_edit("web_portal_slow", params={"predict_warn_days": 3}),
     "(web_portal_slow).params.predict_warn_days: unknown parameter of check webserver_latency_above; allowed: above_ms"),
]


@pytest.mark.parametrize("edit, message", [case[1:] for case in FILE_MISTAKES], ids=[case[0] for case in FILE_MISTAKES])
def test_catalogue_mistake_names_file_and_key_path(tmp_path, edit, message):
    path = write_catalogue(tmp_path, edit)
    with pytest.raises(RulesError) as info:
        load_catalogue(path)
    assert str(info.value).startswith(path + ":")
    assert message in str(info.value)


def test_malformed_yaml_gives_the_line(tmp_path):
    text = "version: 1\nrules:\n  - id: disk_space\n    family: [disk_saturation\n    section: disks\n"
    path = write_catalogue(tmp_path, text=text)
    with pytest.raises(RulesError) as info:
        load_catalogue(path)
    assert str(info.value).startswith("%s: malformed YAML at line 5, column 12" % path)


def test_top_level_list_is_refused(tmp_path):
    path = write_catalogue(tmp_path, text="- id: disk_space\n")
    with pytest.raises(RulesError, match="expected a mapping with a 'rules' list at the top, got list"):
        load_catalogue(path)


def test_missing_file_is_named(tmp_path):
    path = str(tmp_path / "nowhere.yml")
    with pytest.raises(RulesError) as info:
        load_catalogue(path)
    assert str(info.value).startswith(path + ": cannot read the rules catalogue")


def test_customer_catalogue_may_add_its_own_rule(tmp_path):
    def add_service_rule(data):
        data["rules"].append({"id": "web_process_crashed", "family": "web", "section": "processes",
                              "check": "process_down_or_restarted", "params": {"role": "service"}, "priority": "P3",
                              "title": "Web portal process crashed", "summary": "{application} {state}"})
    catalogue = load_catalogue(write_catalogue(tmp_path, add_service_rule))
    rule = catalogue.rule("web_process_crashed")
    assert (rule.priority, rule.enabled, dict(rule.params)) == ("P3", True, {"role": "service"})


# --- inventory overrides ----------------------------------------------------------------------

GROUP = "imagicle_rule_overrides"
HOST = "imagicle_rule_overrides_host"


def test_overrides_apply_in_order_and_leave_the_original_alone():
    group = apply_overrides(DEFAULT, {"disk_space": {"warn": 80, "crit": 90, "crit_priority": "P2"},
                                      "web_portal_slow": {"enabled": False, "above_ms": 5000}}, GROUP)
    host = apply_overrides(group, {"disk_space": {"crit": 97}, "tls_certificate_expiring": {"warn": 45, "warn_priority": "P3"}}, HOST)
    disk = host.rule("disk_space")
    assert (disk.warn, disk.crit, disk.warn_priority, disk.crit_priority) == (80, 97, "P4", "P2")
    slow = host.rule("web_portal_slow")
    assert (slow.enabled, slow.params["above_ms"]) == (False, 5000)
    assert (host.rule("tls_certificate_expiring").warn, host.rule("tls_certificate_expiring").warn_priority) == (45, "P3")
    assert host.sources == (rules.DEFAULT_CATALOGUE_PATH, GROUP, HOST)
    assert DEFAULT.rule("disk_space").warn == 85 and DEFAULT.rule("web_portal_slow").enabled is True
    assert [rule.id for rule in host.rules] == DEFAULT.ids()


def test_space_rules_predict_by_default_and_overrides_keep_the_other_settings():
    for rule_id in ("disk_space", "database_space"):
        assert dict(DEFAULT.rule(rule_id).params) == {"predict": True, "predict_warn_days": 14, "predict_crit_days": 3}
    catalogue = apply_overrides(DEFAULT, {"disk_space": {"predict_warn_days": 30.5, "warn": 80}}, GROUP)
    catalogue = apply_overrides(catalogue, {"disk_space": {"predict_crit_days": 7}}, HOST)
    disk = catalogue.rule("disk_space")
    assert dict(disk.params) == {"predict": True, "predict_warn_days": 30.5, "predict_crit_days": 7}
    assert (disk.warn, disk.crit) == (80, 95)


def test_a_catalogue_without_the_prediction_params_gets_their_defaults(tmp_path):
    catalogue = load_catalogue(write_catalogue(tmp_path, rule_edit("disk_space", params=DELETE)))
    assert dict(catalogue.rule("disk_space").params) == {"predict": True, "predict_warn_days": 14, "predict_crit_days": 3}


def test_a_summary_may_say_when_full_and_says_nothing_without_a_prediction(tmp_path):
    catalogue = load_catalogue(write_catalogue(tmp_path, rule_edit("disk_space", summary="{mount}: {predicted_full}.")))
    rule = catalogue.rule("disk_space")
    assert rules.render_summary(rule, rule.title, {"mount": "/srv"}) == "/srv: ."
    assert rules.render_summary(rule, rule.title, {"mount": "/srv", "predicted_full": "; full soon"}) == "/srv: ; full soon."


def test_param_override_keeps_the_other_params():
    catalogue = apply_overrides(DEFAULT, {"ivr_licences_exhausted": {"available_at_most": 1}}, GROUP)
    assert dict(catalogue.rule("ivr_licences_exhausted").params) == {"app": "ivr", "available_at_most": 1}


@pytest.mark.parametrize("overrides", [None, {}])
def test_empty_overrides_change_nothing(overrides):
    assert apply_overrides(DEFAULT, overrides, GROUP) is DEFAULT


OVERRIDE_MISTAKES = [
    ("unknown rule id", {"default_admin_password": {"enabled": True}},
     "imagicle_rule_overrides.default_admin_password: unknown rule id; allowed: voip_stack_crashed,"),
    ("unknown key", {"disk_space": {"critical": 90}},
     "imagicle_rule_overrides.disk_space.critical: unknown key for rule disk_space; allowed: enabled, warn, crit, warn_priority, crit_priority"),
    ("priority on two levels", {"disk_space": {"priority": "P2"}}, "imagicle_rule_overrides.disk_space.priority: unknown key"),
    ("levels on one priority", {"web_portal_down": {"crit": 3}},
     "imagicle_rule_overrides.web_portal_down.crit: unknown key for rule web_portal_down; allowed: enabled, priority"),
    ("summary not overridable", {"disk_space": {"summary": "{mount}"}}, "imagicle_rule_overrides.disk_space.summary: unknown key"),
    ("wrong type", {"disk_space": {"warn": "80%"}}, "imagicle_rule_overrides.disk_space.warn: expected a number, got str \"80%\""),
    ("bool as number", {"web_portal_slow": {"above_ms": True}}, "imagicle_rule_overrides.web_portal_slow.above_ms: expected a number, got bool"),
    ("enabled as text", {"web_portal_slow": {"enabled": "false"}},
     "imagicle_rule_overrides.web_portal_slow.enabled: expected true or false, got str \"false\""),
    ("negative param", {"web_portal_slow": {"above_ms": -5}}, "imagicle_rule_overrides.web_portal_slow.above_ms: -5 is below the minimum 0"),
    ("warn above crit", {"disk_space": {"warn": 96}},
     "imagicle_rule_overrides.disk_space.warn: warn (96) is above crit (95); for this rule the value rises"),
    ("crit below warn", {"database_space": {"crit": 70}}, "imagicle_rule_overrides.database_space.warn: warn (80) is above crit (70)"),
    ("below rule reversed", {"tls_certificate_expiring": {"crit": 40}},
     "imagicle_rule_overrides.tls_certificate_expiring.warn: warn (30) is below crit (40)"),
    ("percent over 100", {"disk_space": {"crit": 150}}, "imagicle_rule_overrides.disk_space.crit: 150 is not a percentage; allowed: 0 to 100"),
    ("percent below 0", {"database_space": {"warn": -0.5}}, "imagicle_rule_overrides.database_space.warn: -0.5 is not a percentage"),
    ("unknown priority", {"cloud_connection_failed": {"priority": "critical"}},
     "imagicle_rule_overrides.cloud_connection_failed.priority: unknown priority \"critical\"; allowed: P1, P2, P3, P4"),
    ("unknown choice", {"ivr_licences_exhausted": {"app": "fax"}}, "imagicle_rule_overrides.ivr_licences_exhausted.app: unknown value \"fax\""),
    ("bad release", {"release_unsupported": {"minimum": 2020}}, "imagicle_rule_overrides.release_unsupported.minimum: expected a release like"),
    ("settings not a mapping", {"disk_space": [80, 90]}, "imagicle_rule_overrides.disk_space: expected a mapping of settings, got list"),
    ("predict days negative", {"disk_space": {"predict_warn_days": -1}},
     "imagicle_rule_overrides.disk_space.predict_warn_days: must be a positive number (warn when the trend predicts full "
     "within this many days), got int -1"),
    ("predict days not finite", {"disk_space": {"predict_crit_days": float("nan")}},
     "imagicle_rule_overrides.disk_space.predict_crit_days: must be a positive number"),
    ("predict days bool", {"database_space": {"predict_warn_days": True}},
     "imagicle_rule_overrides.database_space.predict_warn_days: must be a positive number"),
    ("predict crit above warn", {"database_space": {"predict_crit_days": 20}},
     "imagicle_rule_overrides.database_space.predict_crit_days: predict_crit_days (20) is above predict_warn_days (14)"),
    ("predict not a bool", {"disk_space": {"predict": "false"}},
     "imagicle_rule_overrides.disk_space.predict: expected true or false, got str \"false\""),
]


@pytest.mark.parametrize("overrides, message", [case[1:] for case in OVERRIDE_MISTAKES], ids=[case[0] for case in OVERRIDE_MISTAKES])
def test_override_mistake_names_variable_and_key_path(overrides, message):
    with pytest.raises(RulesError) as info:
        apply_overrides(DEFAULT, overrides, GROUP)
    assert message in str(info.value)


def test_override_mistake_names_the_host_variable_after_a_valid_group_override():
    group = apply_overrides(DEFAULT, {"disk_space": {"warn": 70, "crit": 80}}, GROUP)
    with pytest.raises(RulesError) as info:
        apply_overrides(group, {"disk_space": {"warn": 85}}, HOST)
    assert str(info.value).startswith("imagicle_rule_overrides_host.disk_space.warn: warn (85) is above crit (80)")


@pytest.mark.parametrize("overrides", [["disk_space"], "disk_space: {warn: 80}", 3])
def test_overrides_must_be_a_mapping(overrides):
    with pytest.raises(RulesError, match=r"^imagicle_rule_overrides: expected a mapping of rule id to settings"):
        apply_overrides(DEFAULT, overrides, GROUP)
