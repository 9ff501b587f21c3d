# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The facts schema's version, sections, priorities and languages are defined once and used by both sides."""

from __future__ import annotations

from ansible_collections.imagicle.proactive.plugins.filter import health_summary
from ansible_collections.imagicle.proactive.plugins.module_utils import _schema, appsuite_health
from ansible_collections.imagicle.proactive.plugins.plugin_utils import evaluation, mail, rules, sla
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends import webhook


def test_the_module_and_the_evaluator_read_the_same_schema():
    assert appsuite_health.SCHEMA_VERSION == rules.SCHEMA_VERSION == _schema.FACTS_SCHEMA_VERSION
    assert appsuite_health.ALL_SECTIONS == rules.SECTIONS == _schema.SECTIONS


def test_priorities_and_languages_have_one_definition():
    for module in (rules, sla, webhook, health_summary):
        assert module.PRIORITIES is _schema.PRIORITIES, module.__name__
    for module in (evaluation, mail):
        assert module.LANGUAGES is _schema.LANGUAGES, module.__name__


def test_a_facts_document_of_the_module_is_read_by_the_evaluator():
    reason = rules.not_reporting_reason({"schema_version": appsuite_health.SCHEMA_VERSION})
    assert reason is None
    assert "schema_version 2" in rules.not_reporting_reason({"schema_version": _schema.FACTS_SCHEMA_VERSION + 1})
