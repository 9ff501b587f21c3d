# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""From one host's facts and inventory settings to its alarms, deadlines and eligibility.

This is the logic of the ``imagicle.proactive.evaluate`` action plugin, as plain functions:

1. ``host_settings`` reads and checks the host's inventory settings (customer, SLA plan and
   calendars, consent, cloud, rules catalogue and overrides);
2. ``evaluate_host`` turns the result of the ``appsuite_facts`` task (or its absence: an
   unreachable host) into alarms with priorities (``rules``), with the host's metric history
   when there is one (``history``), adds the response deadline of each (``sla``), and says
   whether the host is eligible for proactive cases (``eligibility``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from ansible_collections.imagicle.proactive.plugins.module_utils._schema import LANGUAGES
from ansible_collections.imagicle.proactive.plugins.module_utils._redact import one_line, type_name
from ansible_collections.imagicle.proactive.plugins.plugin_utils import rules, sla
from ansible_collections.imagicle.proactive.plugins.plugin_utils.eligibility import check_eligibility


# One e-mail address, ASCII only: a local part of RFC 5322 "atext" characters and single dots,
# one @, and a domain of two or more labels ending in a top-level domain (letters, or xn--).
EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$"
)
EMAIL_MAX_LENGTH = 254


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
    # Problems that did not stop the evaluation (a contact left out), for the task's warnings.
    warnings: tuple = ()


_CATALOGUES: dict = {}


def _catalogue(path) -> rules.Catalogue:
    """The catalogue at ``path`` (None: the default), parsed once per file version."""
    key = (path, os.path.getmtime(path) if path and os.path.exists(path) else None)
    if key not in _CATALOGUES:
        _CATALOGUES[key] = rules.load_catalogue(path)
    return _CATALOGUES[key]


def preload() -> None:
    """Read now, in this process, what every host's evaluation reads: the default rules catalogue and the holidays
    library's list of countries. The cases callback does it in the run's main process, so that the workers Ansible
    forks for each host inherit them instead of reading them again. What cannot be read is left for the
    evaluation, which reports it host by host."""
    try:
        _catalogue(None)
    except (OSError, rules.RulesError):
        pass
    try:
        sla.supported_countries()
    except sla.SlaConfigError:
        pass


def contact_problem(entry) -> str | None:
    """Why ``entry`` of imagicle_contacts is not one e-mail address, and what to write instead; None when it is one."""
    if not isinstance(entry, str):
        return "it is %s, not a string: write the address as text" % ("null" if entry is None else "a " + type_name(entry))
    address = entry.strip()
    if not address:
        return "it is empty: remove it"
    if any(ord(character) < 32 or 127 <= ord(character) < 160 for character in address):
        return "it contains a control character (a line break, a tab): write the address alone, on one line"
    if not address.isascii():
        return "it contains characters outside ASCII: write the address in ASCII (a domain in its xn-- form)"
    if "," in address or ";" in address:
        return "it holds a comma or a semicolon: write one address per list entry"
    if "<" in address or ">" in address:
        return "it has angle brackets: write the bare address (name@example.com), without a display name"
    if any(character.isspace() for character in address):
        return "it contains a space: write the bare address (name@example.com), without a display name"
    if address.count("@") != 1:
        return "it has %s: an address has exactly one @" % ("no @" if "@" not in address else "%d @" % address.count("@"))
    if "." not in address.split("@")[1]:
        return "its domain has no dot: write the full domain (name@example.com)"
    if len(address) > EMAIL_MAX_LENGTH or not EMAIL.match(address):
        return "it is not an e-mail address (name@example.com): check the characters around the @ and the domain"
    return None


def _shown_entry(entry) -> str:
    """An imagicle_contacts entry as a warning may show it: quoted, escaped (one line), short."""
    if not isinstance(entry, str):
        return "(%s)" % ("null" if entry is None else "a " + type_name(entry))
    text = repr(entry)
    return text if len(text) <= 80 else text[:76] + "...'"


def host_contacts(host: str, value) -> tuple:
    """(the good addresses of imagicle_contacts, a warning for each entry left out).

    Raises SettingsError only when the value is not a list or a string at all.
    """
    if value is None or value == "":
        return (), ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise SettingsError("host %s: imagicle_contacts must be a list of e-mail addresses of the customer's contacts "
                            "(one per entry), got a %s; write e.g. imagicle_contacts: [it-ops@example.com]"
                            % (host, type_name(value)))
    good, warnings = [], []
    for index, entry in enumerate(value):
        problem = contact_problem(entry)
        if problem is None:
            good.append(entry.strip())
        else:
            warnings.append("host %s: imagicle_contacts entry %d %s was left out, %s; the other contacts are still "
                            "mailed - correct or remove it in the inventory" % (host, index + 1, _shown_entry(entry), problem))
    return tuple(good), tuple(warnings)


def host_settings(host: str, variables: dict) -> HostSettings:
    """Build the settings of ``host`` from its variables (``imagicle_*``).

    Raises SettingsError naming the variable and key for anything malformed, except an entry of
    imagicle_contacts that is not one e-mail address: that entry is left out, with a warning in
    ``HostSettings.warnings``, so that one bad address never keeps the others from being mailed.
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
    contacts, warnings = host_contacts(host, variables.get("imagicle_contacts"))
    language = variables.get("imagicle_language") or "en"
    if language not in LANGUAGES:
        raise SettingsError("host %s: imagicle_language must be one of %s, got %r" % (host, ", ".join(LANGUAGES), language))
    return HostSettings(
        host=host,
        contacts=contacts,
        warnings=warnings,
        language=language,
        customer=customer.strip(),
        sla=sla_config,
        consent=variables.get("imagicle_consent", False),
        cloud_connected=variables.get("imagicle_cloud_connected", True),
        catalogue=catalogue,
    )


# The options of appsuite_facts that a host's inventory gives as imagicle_<option>: values, then mappings
# (merged key by key over the profile's).
FACTS_VALUES = ("gather_subset", "gather_timeout", "cpu_interval", "state_dir", "processes")
FACTS_MAPPINGS = ("disks", "database", "webserver", "webapi", "capacity", "events", "replication", "cloud", "release")
FACTS_VARIABLES = tuple("imagicle_" + name for name in FACTS_VALUES + FACTS_MAPPINGS)


def _merged(base: dict, over: dict) -> dict:
    """``over`` merged into ``base`` key by key, mappings recursively (Ansible's ``combine(recursive=true)``)."""
    merged = dict(base)
    for key, value in over.items():
        merged[key] = _merged(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def collect_options(host: str, base, variables: dict) -> dict:
    """The options of appsuite_facts for ``host``: each its ``imagicle_<option>`` variable, over the option of
    ``base`` (the profile: what every server installed the same way shares), a mapping merged key by key; an
    option set by neither is left out (a mapping option is an empty mapping), so the module's default applies.

    Raises SettingsError naming the variable when a mapping option is not a mapping.
    """
    if base is None:
        base = {}
    if not isinstance(base, dict):
        raise SettingsError("host %s: imagicle_profile must be a mapping of appsuite_facts options, got %s"
                            % (host, type_name(base)))
    options = {}
    for name in FACTS_VALUES:
        value = variables.get("imagicle_" + name)
        value = base.get(name) if value is None else value
        if value is not None:
            options[name] = value
    for name in FACTS_MAPPINGS:
        merged = {}
        for where, value in (("imagicle_profile.%s" % name, base.get(name)), ("imagicle_" + name, variables.get("imagicle_" + name))):
            if value is None or value == {}:
                continue
            if not isinstance(value, dict):
                raise SettingsError("host %s: %s must be a mapping of the appsuite_facts option %s, got %s"
                                    % (host, where, name, type_name(value)))
            merged = _merged(merged, value)
        options[name] = merged
    return options


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


def usable_health(facts_result=None, health=None):
    """The host's ``imagicle_health`` when it gave usable facts this run, else None."""
    if isinstance(facts_result, dict) and health is None:
        health = (facts_result.get("ansible_facts") or {}).get("imagicle_health")
    return None if reporting_problem(facts_result, health) else health


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def evaluate_host(settings: HostSettings, facts_result=None, health=None, detected_at: datetime | None = None,
                  history=None) -> dict:
    """Alarms, deadlines and eligibility of one host.

    ``facts_result`` is the registered result of the ``appsuite_facts`` task when there is one
    (it tells an unreachable or failed host apart); ``health`` is its ``imagicle_health``;
    ``history`` its metric history (``history.History``, read as of ``detected_at``), or None.
    """
    detected_at = detected_at or datetime.now(timezone.utc)
    if isinstance(facts_result, dict) and health is None:
        health = (facts_result.get("ansible_facts") or {}).get("imagicle_health")
    problem = reporting_problem(facts_result, health)
    if problem:
        alarm = rules.not_reporting_alarm(settings.catalogue, host=settings.host, customer=settings.customer,
                                          reason=problem, detected_at=detected_at)
        alarms = [alarm] if alarm is not None else []
        no_data = [rules.NoData(None, None, problem)]
    else:
        alarms, no_data = rules.evaluate_facts(health, host=settings.host, customer=settings.customer,
                                               catalogue=settings.catalogue, detected_at=detected_at, history=history)
    plan = settings.sla.plan
    eligibility = check_eligibility(plan_name=plan.name, plan_proactive=plan.proactive, consent=settings.consent,
                                    cloud_connected=settings.cloud_connected, health=None if problem else health)
    out = []
    for alarm in alarms:
        record = alarm.to_dict()
        due = sla.response_due(detected_at, record["priority"], settings.sla)
        rule = settings.catalogue.rule(record["rule"])
        # The texts in the language of the host's contacts only (none for English: the alarm's own).
        texts = (record.pop("texts", None) or {}).get(settings.language)
        if texts:
            record["texts"] = {settings.language: texts}
        record.update({
            # The check that fired (a customer's own rule may reuse one): the case manager groups
            # alarms by their cause through it (plugin_utils/root_cause.py).
            "check": rule.check if rule is not None else None,
            "plan": plan.name,
            "response_target_minutes": due["target_minutes"],
            "response_calendar": due["calendar"],
            # The timezone of that calendar, the customer's: mails show the deadline in it.
            "response_timezone": settings.sla.calendar_for(record["priority"]).timezone,
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
        # What this run could not measure (rule None: nothing, the host did not report): the
        # cases of these rules keep their state instead of being resolved.
        "no_data": [gap.to_dict() for gap in no_data],
        "detected_at": _utc_iso(detected_at),
    }


def _pending_text(pending) -> str:
    """What a line says of an alarm whose sustained rule has not held long enough for a case yet."""
    if not isinstance(pending, dict):
        return ""
    parts = ["%s of %s runs" % (rules.clean_text(pending.get("runs")), rules.clean_text(pending.get("for_runs")))]
    if pending.get("for_minutes"):
        parts.append("%s of %s min" % (rules.clean_text(pending.get("minutes")), rules.clean_text(pending.get("for_minutes"))))
    return " - pending, no case yet: %s" % ", ".join(parts)


def summary_lines(result: dict) -> list:
    """The evaluation as short lines for the task output, one per alarm.

    Text that comes from the host (an alarm's subject and summary, the reasons) is made one line,
    with phone numbers and e-mail addresses masked, and cut to a length, so that it can neither
    forge a line of the output nor leak a number. Never raises: an alarm that is not a mapping,
    or lacks a key, gives a line with ``?`` in its place.
    """
    result = result if isinstance(result, dict) else {}
    lines = []
    eligibility = result.get("eligibility")
    if isinstance(eligibility, dict) and eligibility.get("eligible") is False:
        reasons = eligibility.get("reasons")
        reasons = reasons if isinstance(reasons, (list, tuple)) else []
        lines.append("no proactive cases for this host: " + (
            "; ".join(one_line(reason, rules.LONG_TEXT_LIMIT) for reason in reasons[:10]) or "no reason given"))
    alarms = result.get("alarms")
    if not isinstance(alarms, (list, tuple)):
        return lines + ["alarms unreadable (a list expected, got %s)" % type_name(alarms)]
    if not alarms:
        lines.append("no alarm")
    for alarm in alarms:
        if not isinstance(alarm, dict):
            lines.append("unreadable alarm (a mapping expected, got %s)" % type_name(alarm))
            continue
        lines.append("%s %s [%s] %s (respond by %s, %s)%s" % (
            rules.clean_text(alarm.get("priority")) or "?", rules.clean_text(alarm.get("rule")) or "?",
            one_line(alarm.get("subject")) or "-", one_line(alarm.get("summary"), rules.LONG_TEXT_LIMIT) or "?",
            rules.clean_text(alarm.get("due")) or "?", rules.clean_text(alarm.get("response_calendar")) or "?",
            _pending_text(alarm.get("pending"))))
    return lines
