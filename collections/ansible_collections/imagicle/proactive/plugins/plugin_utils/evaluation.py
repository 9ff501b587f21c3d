# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""From one host's facts and inventory settings to its alarms, deadlines and eligibility.

This is the logic of the ``imagicle.proactive.evaluate`` action plugin, as plain functions:

1. ``host_settings`` reads and checks the host's inventory settings (customer, SLA plan and
   calendars, consent, cloud, rules catalogue and overrides);
2. ``evaluate_host`` turns the result of the ``appsuite_facts`` task (or its absence: an
   unreachable host) into alarms with priorities (``rules``), adds the response deadline of
   each (``sla``), and says whether the host is eligible for proactive cases (``eligibility``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from ansible_collections.imagicle.proactive.plugins.plugin_utils import rules, sla
from ansible_collections.imagicle.proactive.plugins.plugin_utils.eligibility import check_eligibility


EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
LANGUAGES = ("en", "it")


class SettingsError(ValueError):
    """A host's inventory settings are wrong; the message names the variable and the key."""


@dataclass(frozen=True)
class HostSettings:
    """What the evaluation needs to know about one host besides its facts."""

    host: str
    customer: str
    sla: sla.SlaConfig
    consent: object
    cloud_connected: object
    catalogue: rules.Catalogue
    contacts: tuple = ()
    language: str = "en"


_CATALOGUES: dict = {}


def _catalogue(path) -> rules.Catalogue:
    """The catalogue at ``path`` (None: the default), parsed once per file version."""
    key = (path, os.path.getmtime(path) if path and os.path.exists(path) else None)
    if key not in _CATALOGUES:
        _CATALOGUES[key] = rules.load_catalogue(path)
    return _CATALOGUES[key]


def host_settings(host: str, variables: dict) -> HostSettings:
    """Build the settings of ``host`` from its variables (``imagicle_*``).

    Raises SettingsError naming the variable and key for anything malformed.
    """
    customer = variables.get("imagicle_customer")
    if customer is None:
        customer = "default"
    if not isinstance(customer, str) or not customer.strip():
        raise SettingsError("host %s: imagicle_customer must be a non-empty string (the customer's name), got %r"
                            % (host, customer))
    for name in ("imagicle_consent", "imagicle_cloud_connected"):
        value = variables.get(name)
        if value is not None and not isinstance(value, bool):
            raise SettingsError("host %s: %s must be true or false, got %r" % (host, name, value))
    try:
        sla_config = sla.build_sla(variables.get("imagicle_sla"), "inventory variable imagicle_sla of host %s" % host)
    except sla.SlaConfigError as exc:
        raise SettingsError(str(exc)) from None
    catalogue_path = variables.get("imagicle_rules_catalogue")
    try:
        catalogue = _catalogue(catalogue_path)
        for name in ("imagicle_rule_overrides", "imagicle_rule_overrides_host"):
            overrides = variables.get(name)
            if overrides:
                catalogue = rules.apply_overrides(catalogue, overrides, "%s (host %s)" % (name, host))
    except rules.RulesError as exc:
        raise SettingsError(str(exc)) from None
    contacts = variables.get("imagicle_contacts") or []
    if isinstance(contacts, str):
        contacts = [contacts]
    if not isinstance(contacts, list) or not all(isinstance(c, str) and EMAIL.match(c.strip()) for c in contacts):
        raise SettingsError("host %s: imagicle_contacts must be a list of e-mail addresses of the customer's contacts, "
                            "got %r" % (host, contacts))
    language = variables.get("imagicle_language") or "en"
    if language not in LANGUAGES:
        raise SettingsError("host %s: imagicle_language must be one of %s, got %r" % (host, ", ".join(LANGUAGES), language))
    return HostSettings(
        host=host,
        contacts=tuple(c.strip() for c in contacts),
        language=language,
        customer=customer.strip(),
        sla=sla_config,
        consent=variables.get("imagicle_consent", False),
        cloud_connected=variables.get("imagicle_cloud_connected", True),
        catalogue=catalogue,
    )


def reporting_problem(facts_result, health) -> str | None:
    """Why the host gave no usable facts this run, or None when it did."""
    if isinstance(facts_result, dict):
        if facts_result.get("unreachable"):
            return "unreachable: %s" % rules.clean_text(facts_result.get("msg") or "no connection")
        if facts_result.get("skipped"):
            return "the health check was skipped for this host"
        if facts_result.get("failed") or "ansible_facts" not in facts_result:
            return "the health check failed: %s" % rules.clean_text(facts_result.get("msg") or "no facts returned")
    return rules.not_reporting_reason(health)


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def evaluate_host(settings: HostSettings, facts_result=None, health=None, detected_at: datetime | None = None) -> dict:
    """Alarms, deadlines and eligibility of one host.

    ``facts_result`` is the registered result of the ``appsuite_facts`` task when there is one
    (it tells an unreachable or failed host apart); ``health`` is its ``imagicle_health``.
    """
    detected_at = detected_at or datetime.now(timezone.utc)
    if isinstance(facts_result, dict) and health is None:
        health = (facts_result.get("ansible_facts") or {}).get("imagicle_health")
    problem = reporting_problem(facts_result, health)
    if problem:
        alarm = rules.not_reporting_alarm(settings.catalogue, host=settings.host, customer=settings.customer,
                                          reason=problem, detected_at=detected_at)
        alarms = [alarm] if alarm is not None else []
    else:
        alarms = rules.evaluate(health, host=settings.host, customer=settings.customer,
                                catalogue=settings.catalogue, detected_at=detected_at)
    plan = settings.sla.plan
    eligibility = check_eligibility(plan_name=plan.name, plan_proactive=plan.proactive, consent=settings.consent,
                                    cloud_connected=settings.cloud_connected, health=None if problem else health)
    out = []
    for alarm in alarms:
        record = alarm.to_dict()
        due = sla.response_due(detected_at, record["priority"], settings.sla)
        record.update({
            "plan": plan.name,
            "response_target_minutes": due["target_minutes"],
            "response_calendar": due["calendar"],
            "due": _utc_iso(due["due"]),
            "page": bool(plan.page_on_p1 and record["priority"] == "P1"),
            "eligible": eligibility.eligible,
        })
        out.append(record)
    order = {p: i for i, p in enumerate(sla.PRIORITIES)}
    out.sort(key=lambda a: (order.get(a["priority"], 9), a["rule"], a["subject"]))
    return {
        "host": settings.host,
        "customer": settings.customer,
        "plan": plan.name,
        "reporting": problem is None,
        "not_reporting_reason": problem,
        "eligibility": eligibility.to_dict(),
        "notify": {"emails": list(settings.contacts), "language": settings.language},
        "alarms": out,
        "detected_at": _utc_iso(detected_at),
    }


def summary_lines(result: dict) -> list:
    """The evaluation as short lines for the task output."""
    lines = []
    eligibility = result["eligibility"]
    if not eligibility["eligible"]:
        lines.append("no proactive cases for this host: " + "; ".join(eligibility["reasons"]))
    if not result["alarms"]:
        lines.append("no alarm")
    for alarm in result["alarms"]:
        lines.append("%s %s [%s] %s (respond by %s, %s)" % (
            alarm["priority"], alarm["rule"], alarm["subject"] or "-", alarm["summary"], alarm["due"],
            alarm["response_calendar"]))
    return lines
