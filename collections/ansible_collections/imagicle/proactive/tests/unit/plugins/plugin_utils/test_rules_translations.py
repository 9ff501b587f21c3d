# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules' texts in the customer's language (``i18n``): validated like the English ones, added or
replaced by overrides and customer catalogues, and rendered into the alarm's ``texts``."""

from __future__ import annotations

import copy
import json
import string
from datetime import datetime, timezone

import pytest
import yaml

from ansible_collections.imagicle.proactive.plugins.plugin_utils import rules
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import RulesError, apply_overrides, load_catalogue
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils.health_fixture import healthy_health, process

DEFAULT = load_catalogue()
with open(rules.DEFAULT_CATALOGUE_PATH, encoding="utf-8") as _handle:
    DEFAULT_DATA = yaml.safe_load(_handle)
GROUP = "imagicle_rule_overrides (host ias-a)"
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
STAMP = "2026-11-27T10:00:00Z"


def index_of(rule_id):
    return [entry["id"] for entry in DEFAULT_DATA["rules"]].index(rule_id)


def catalogue_file(tmp_path, rule_id, i18n):
    """The default catalogue with ``i18n`` as the translations of ``rule_id`` (DELETE: none)."""
    data = copy.deepcopy(DEFAULT_DATA)
    entry = data["rules"][index_of(rule_id)]
    if i18n is DELETE:
        del entry["i18n"]
    else:
        entry["i18n"] = i18n
    path = tmp_path / "customer_rules.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return str(path)


DELETE = object()


def fields(summary):
    return {parsed[1] for parsed in string.Formatter().parse(summary) if parsed[1]}


def test_every_default_rule_speaks_italian_over_its_own_evidence():
    for rule in DEFAULT.rules:
        italian = rule.i18n["it"]
        assert set(rule.i18n) == {"it"}, rule.id
        assert italian["title"] != rule.title, rule.id
        # The same evidence fields as the English summary, and the sample evidence fits their formats.
        assert fields(italian["summary"]) == fields(rule.summary), rule.id
        sample = dict(rules.CHECKS[rule.check].evidence, **rules.CHECKS[rule.check].optional_evidence)
        assert "=" not in rules.render_summary(rule, italian["title"], sample, italian["summary"]), rule.id
        if rule.warn_title:
            assert italian["warn_title"] and italian["crit_title"], rule.id


FILE_MISTAKES = [
    ("not a mapping", "disk_space", ["it"], "rules[3] (disk_space).i18n: expected a mapping of language to texts"),
    ("unknown language", "disk_space", {"de": {"title": "Speicherplatz", "summary": "{mount}"}},
     "rules[3] (disk_space).i18n.de: unknown language; allowed: it (English is the rule's own title and summary)"),
    ("english is the rule's own", "disk_space", {"en": {"title": "Disk", "summary": "{mount}"}},
     "rules[3] (disk_space).i18n.en: unknown language; allowed: it"),
    ("texts not a mapping", "disk_space", {"it": "Spazio su disco"},
     "rules[3] (disk_space).i18n.it: expected a mapping of texts (title, warn_title, crit_title, summary), got str"),
    ("unknown key", "disk_space", {"it": {"title": "Spazio", "summary": "{mount}", "descrizione": "x"}},
     "rules[3] (disk_space).i18n.it.descrizione: unknown key; allowed: title, warn_title, crit_title, summary"),
    ("level title of a single-priority rule", "web_portal_down", {"it": {"title": "Portale", "summary": "{url}", "crit_title": "x"}},
     "rules[9] (web_portal_down).i18n.it.crit_title: unknown key (check webserver_down has a single priority); allowed: title, summary"),
    ("missing summary", "disk_space", {"it": {"title": "Spazio su disco"}},
     "rules[3] (disk_space).i18n.it.summary: missing; a translation needs a title and a summary"),
    ("missing title", "disk_space", {"it": {"summary": "{mount}"}}, "rules[3] (disk_space).i18n.it.title: missing"),
    ("empty title", "disk_space", {"it": {"title": " ", "summary": "{mount}"}},
     "rules[3] (disk_space).i18n.it.title: expected a non-empty string, got str"),
    ("summary unknown field", "disk_space", {"it": {"title": "Spazio", "summary": "{mount} su {hostname}"}},
     "rules[3] (disk_space).i18n.it.summary: field {hostname} is not evidence of check disk_used_percent; allowed fields:"),
    ("summary attribute access", "disk_space", {"it": {"title": "Spazio", "summary": "{mount.__class__}"}},
     "rules[3] (disk_space).i18n.it.summary: field {mount.__class__} is not evidence"),
    ("summary bad format", "disk_space", {"it": {"title": "Spazio", "summary": "{mount:.1f}"}},
     "rules[3] (disk_space).i18n.it.summary: Unknown format code 'f' for object of type 'str'"),
    ("summary malformed", "disk_space", {"it": {"title": "Spazio", "summary": "{mount è pieno"}},
     "rules[3] (disk_space).i18n.it.summary: not a valid format string"),
]


@pytest.mark.parametrize("rule_id, i18n, message", [case[1:] for case in FILE_MISTAKES], ids=[case[0] for case in FILE_MISTAKES])
def test_a_translation_mistake_names_file_and_key_path(tmp_path, rule_id, i18n, message):
    path = catalogue_file(tmp_path, rule_id, i18n)
    with pytest.raises(RulesError) as info:
        load_catalogue(path)
    assert str(info.value).startswith(path + ":")
    assert message in str(info.value)


def test_a_rule_without_translations_has_none_and_its_alarm_no_texts(tmp_path):
    catalogue = load_catalogue(catalogue_file(tmp_path, "voip_stack_crashed", DELETE))
    assert dict(catalogue.rule("voip_stack_crashed").i18n) == {}
    health = healthy_health()
    process(health, "voip_stack").update(running=False, count=0, pids=[])
    [alarm] = rules.evaluate(health, host="ias-a", customer="acme", catalogue=catalogue, detected_at=NOW)
    assert alarm.texts is None and "texts" not in alarm.to_dict()


def test_a_customer_catalogue_translates_its_own_rule(tmp_path):
    data = copy.deepcopy(DEFAULT_DATA)
    data["rules"].append({
        "id": "tmp_space", "family": "disk_saturation", "section": "disks", "check": "disk_used_percent",
        "warn": 70, "warn_priority": "P4", "crit": 90, "crit_priority": "P2", "title": "Temporary space",
        "summary": "{mount} at {used_percent:.0f} %",
        "i18n": {"it": {"title": "Spazio temporaneo", "crit_title": "Spazio temporaneo esaurito",
                        "summary": "{mount} al {used_percent:.0f} %"}}})
    data["rules"][index_of("disk_space")]["enabled"] = False
    path = tmp_path / "customer_rules.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    catalogue = load_catalogue(str(path))
    health = healthy_health()
    health["disks"]["items"][0]["used_percent"] = 93.0
    [alarm] = rules.evaluate(health, host="ias-a", customer="acme", catalogue=catalogue, detected_at=NOW)
    mount = health["disks"]["items"][0]["mount"]
    assert (alarm.rule, alarm.priority, alarm.title) == ("tmp_space", "P2", "Temporary space")
    assert alarm.to_dict()["texts"] == {"it": {"title": "Spazio temporaneo esaurito", "summary": "%s al 93 %%" % mount}}
    # warn without a translated warn_title: the translated title.
    health["disks"]["items"][0]["used_percent"] = 75.0
    [alarm] = rules.evaluate(health, host="ias-a", customer="acme", catalogue=catalogue, detected_at=NOW)
    assert alarm.texts["it"]["title"] == "Spazio temporaneo"


def test_an_override_adds_or_replaces_translated_texts_and_keeps_the_others():
    changed = apply_overrides(DEFAULT, {"disk_space": {"i18n": {"it": {"warn_title": "Disco quasi pieno"}}}}, GROUP)
    italian = changed.rule("disk_space").i18n["it"]
    assert italian["warn_title"] == "Disco quasi pieno"
    assert italian["summary"] == DEFAULT.rule("disk_space").i18n["it"]["summary"]
    assert DEFAULT.rule("disk_space").i18n["it"]["warn_title"] == "Spazio su disco in esaurimento"  # the original is left alone
    again = apply_overrides(changed, {"disk_space": {"i18n": {"it": {"summary": "{mount}: {used_percent:.0f} %"}}}},
                            "imagicle_rule_overrides_host (host ias-a)")
    assert dict(again.rule("disk_space").i18n["it"]) == dict(italian, summary="{mount}: {used_percent:.0f} %")


OVERRIDE_MISTAKES = [
    ("unknown language", {"disk_space": {"i18n": {"fr": {"title": "Disque"}}}},
     "imagicle_rule_overrides (host ias-a).disk_space.i18n.fr: unknown language; allowed: it"),
    ("summary unknown field", {"disk_space": {"i18n": {"it": {"summary": "{mount} {password}"}}}},
     "imagicle_rule_overrides (host ias-a).disk_space.i18n.it.summary: field {password} is not evidence of check disk_used_percent"),
    ("unknown key", {"web_portal_down": {"i18n": {"it": {"warn_title": "Lento"}}}},
     "imagicle_rule_overrides (host ias-a).web_portal_down.i18n.it.warn_title: unknown key"),
    ("not a mapping", {"disk_space": {"i18n": "it"}},
     "imagicle_rule_overrides (host ias-a).disk_space.i18n: expected a mapping of language to texts"),
]


@pytest.mark.parametrize("overrides, message", [case[1:] for case in OVERRIDE_MISTAKES], ids=[case[0] for case in OVERRIDE_MISTAKES])
def test_a_translation_override_mistake_names_variable_and_key_path(overrides, message):
    with pytest.raises(RulesError) as info:
        apply_overrides(DEFAULT, overrides, GROUP)
    assert message in str(info.value)


# --- the words a check writes, in Italian ------------------------------------------------------


def italian(rule_id, evidence, level=None):
    texts = rules.alarm_texts(DEFAULT.rule(rule_id), level, evidence, STAMP)
    assert json.loads(json.dumps(texts)) == texts
    return texts["it"]


def test_a_process_state_in_italian():
    evidence = {"process": "voip", "application": "VoIP stack", "role": "voip_stack", "state": "is not running",
                "running": False, "restarted": False, "count": 0}
    assert italian("voip_stack_crashed", evidence) == {
        "title": "Arresto anomalo dello stack VoIP", "summary": "VoIP stack (voip) non è in esecuzione"}
    evidence.update(state="restarted since the last run", running=True, restarted=True)
    assert italian("voip_stack_crashed", evidence)["summary"] == "VoIP stack (voip) è stato riavviato dall'ultimo controllo"


def test_when_a_space_is_predicted_full_in_italian():
    evidence = {"mount": "/srv", "used_percent": 90.5, "free_mb": 100.0, "total_mb": 1000.0, "threshold": 85.0,
                "predicted_full": "; predicted full on 2026-12-06 (in 9 days)",
                "prediction": {"eta": "2026-12-06T10:00:00Z", "hours_left": 216.0}}
    assert italian("disk_space", evidence, "warn") == {
        "title": "Spazio su disco in esaurimento",
        "summary": "/srv è pieno al 90.5 % (100.0 MB liberi); saturazione prevista il 06/12/2026 (tra 9 giorni)"}
    evidence["prediction"] = {"eta": "2026-11-28T04:00:00Z", "hours_left": 18.0}
    assert italian("disk_space", evidence, "crit")["summary"].endswith("; saturazione prevista il 28/11/2026 (tra 18 ore)")
    evidence["prediction"] = {"eta": "2026-11-27T10:00:00Z", "hours_left": 0.0}
    assert italian("disk_space", evidence, "crit")["summary"].endswith("; saturazione prevista già ora")
    # Without a prediction the phrase is empty in both languages.
    del evidence["prediction"], evidence["predicted_full"]
    assert italian("disk_space", evidence, "crit")["summary"] == "/srv è pieno al 90.5 % (100.0 MB liberi)"


def test_when_memory_reaches_its_limit_in_italian():
    evidence = {"process": "voip", "application": "VoIP stack", "role": "voip_stack", "rss_mb": 812.5,
                "slope_mb_per_day": 60.25, "growth_percent_per_day": 8.4, "rising_share": 0.97,
                "since": "2026-11-20T00:00:00Z", "points": 1650, "span_hours": 149.5, "limit_mb": 2048,
                "limit_eta": "2026-12-17T10:00:00Z", "reaches_limit": "; reaches its 2048 MB limit on 2026-12-17 (in 20 days)"}
    assert italian("process_memory_growing", evidence)["summary"] == (
        "La memoria di VoIP stack (voip) cresce di 60.2 MB al giorno (8.4 % al giorno) dal 2026-11-20T00:00:00Z, "
        "ora è di 812.5 MB; raggiungerà il suo limite di 2048 MB il 17/12/2026 (tra 20 giorni)")
    evidence.update(limit_eta=STAMP, reaches_limit="; at its 2048 MB limit now")
    assert italian("process_memory_growing", evidence)["summary"].endswith("; ha già raggiunto il suo limite di 2048 MB")


def test_an_unusual_metric_in_italian():
    evidence = {"process": "voip", "application": "VoIP stack", "role": "voip_stack", "metric": "memory", "value": 900.0,
                "unit": "MB", "median": 400.0, "mad": 10.0, "limit": 460.0, "basis": "hour of week", "points": 2520}
    assert italian("process_unusual_behaviour", evidence)["summary"] == (
        "VoIP stack (voip): memoria a 900.0 MB, di solito 400.0 MB (MAD 10.0, riferimento per ora della settimana, 2520 valori)")
    evidence.update(metric="CPU", unit="%", basis="whole window")
    assert italian("process_unusual_behaviour", evidence)["summary"].endswith("riferimento sull'intero periodo, 2520 valori)")


def test_host_text_in_a_translated_summary_stays_data():
    evidence = {"url": "https://ias-a/", "status_code": 503, "problem": "{0.__class__} {{ lookup('pipe','id') }}"}
    assert italian("web_portal_down", evidence)["summary"] == (
        "Il portale web https://ias-a/ non risponde: {0.__class__} {{ lookup('pipe','id') }}")
