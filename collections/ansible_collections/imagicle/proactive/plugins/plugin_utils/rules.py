# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules catalogue and the evaluation of one host's ``imagicle_health`` into alarms.

A rule names a *check*: a Python function of this file, chosen from the fixed registry
:data:`CHECKS`. There is no expression language: nothing the host sends is ever evaluated or
used as a template; host-supplied strings only ever become values in an alarm's ``evidence``.

* :func:`load_catalogue` reads and validates a catalogue file (``default_rules.yml`` beside this
  file when no path is given).
* :func:`apply_overrides` applies inventory overrides (``imagicle_rule_overrides`` for a group,
  then ``imagicle_rule_overrides_host`` for a host) and returns a new catalogue.
* :func:`evaluate` turns one host's facts into :class:`Alarm` objects, without response
  deadlines (the SLA module adds those); :func:`evaluate_facts` also takes the host's metric
  history, from which the disk and database space rules predict when a space will be full and
  the process rules find unusual behaviour (restart loops, memory growing steadily, CPU or
  memory far from the process's own baseline; see ``behaviour.py``).

Every mistake in a catalogue or an override raises :class:`RulesError` naming the file or the
inventory variable, the key path and what is allowed. The catalogue is documented, rule by rule,
in the collection guide "Alarms" (docsite ``alarms``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import statistics
import string
import types
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import yaml

from ansible_collections.imagicle.proactive.plugins.module_utils._schema import FACTS_SCHEMA_VERSION as SCHEMA_VERSION
from ansible_collections.imagicle.proactive.plugins.module_utils._schema import LANGUAGES, PRIORITIES, SECTIONS
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors.release import parse_release, release_key
from ansible_collections.imagicle.proactive.plugins.plugin_utils import behaviour, trends

DEFAULT_CATALOGUE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "default_rules.yml")

FAMILIES = (
    "service_degradation",
    "disk_saturation",
    "capacity_saturation",
    "cloud_connection",
    "web",
    "security",
    "monitoring",
)
# Capacity applications the capacity collector knows.
CAPACITY_APPS = ("call_recording", "advanced_queuing", "ivr")
PROCESS_ROLES = ("voip_stack", "application", "service")
# What the history keeps of each running process item (see history.host_metrics).
PROCESS_FIELDS = ("cpu_percent", "rss_bytes", "start_time_epoch")
ALL_SECTIONS_MARK = "*"
NOT_REPORTING_RULE = "host_not_reporting"
COLLECTOR_FAILING_RULE = "collector_failing"

RULE_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
RULE_KEYS = (
    "id", "family", "section", "check", "title", "summary", "enabled", "priority",
    "warn", "crit", "warn_priority", "crit_priority", "warn_title", "crit_title", "params", "i18n",
    "clear", "for_runs", "for_minutes",
)
LEVEL_KEYS = ("warn", "crit", "warn_priority", "crit_priority")
# How long a condition must hold before its case opens: runs in a row, and minutes since its first run.
SUSTAIN_KEYS = ("for_runs", "for_minutes")
# The level of a finding whose value lies between a rule's clear and warn thresholds: no alarm,
# and an open case of it is kept as it is (a quiet hold, see NoData.quiet).
HOLD = "hold"
# Longest host-supplied text kept in evidence; error texts and problems get a little more.
TEXT_LIMIT = 120
# A rule's texts in the customer's other languages (``i18n: {it: {title: ..., summary: ...}}``): English is the rule's
# own title and summary; a translation needs a title and a summary, its warn_title and crit_title are optional.
TRANSLATED_LANGUAGES = tuple(language for language in LANGUAGES if language != "en")
TRANSLATION_KEYS = ("title", "warn_title", "crit_title", "summary")
LONG_TEXT_LIMIT = 300
_UNSAFE_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]+")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Predicted time to full (disk_space, database_space): the trend of used_percent over the last
# PREDICTION_WINDOW, since the last cleanup or change of size, from at least
# PREDICTION_MIN_POINTS measurements spanning at least PREDICTION_MIN_SPAN.
FULL_PERCENT = 100.0
PREDICTION_WINDOW = timedelta(days=7)
PREDICTION_MIN_POINTS = 4
PREDICTION_MIN_SPAN = timedelta(days=1)
DEFAULT_PREDICT_WARN_DAYS = 14
DEFAULT_PREDICT_CRIT_DAYS = 3
# Unusual behaviour of processes (see behaviour.py): no rule reads more history than this.
HISTORY_WINDOW_LIMIT = behaviour.BASELINE_WINDOW
MB = 1048576.0
# The memory fit must rise between most pairs of its points (a sawtooth of garbage collection
# around a flat level rises between about half of them).
GROWTH_MIN_RISING_SHARE = 0.75
# A process that started this recently is not compared with its baseline (start-up work).
SETTLE_TIME = timedelta(minutes=15)
# The restart loop reads start times this long before its window, to find the run before it.
RESTART_LOOK_BEFORE = timedelta(days=1)
# How many restart times an alarm lists (the latest).
RESTART_TIMES_SHOWN = 6
_DAY = timedelta(days=1)
# A day whose peak is below this share of the median daily peak is a quiet day (a weekend, a holiday):
# left out of the trend of a capacity pool's peaks.
QUIET_DAY_SHARE = 0.5
# Levels in days (capacity_peak_predicted: days left) are at most a year.
MAX_LEVEL_DAYS = 366


class RulesError(Exception):
    """A rules catalogue or an override is wrong; the message says where and what is allowed."""


# --- host-supplied values -------------------------------------------------------------------


def clean_text(value, limit: int = TEXT_LIMIT) -> str:
    """Host-supplied text made safe to show: no control or bidi characters, at most ``limit`` long.

    Numbers are written out; None is ""; anything else (a list, a mapping) is only named by its
    type, so that a malformed fact never copies a whole structure into an alarm.
    """
    if isinstance(value, str):
        text = value
    elif value is None:
        return ""
    elif isinstance(value, (bool, int, float)):
        text = str(value)
    else:
        return "<%s>" % type(value).__name__
    if len(text) > limit * 4:
        text = text[:limit * 4]
    text = _UNSAFE_CHARACTERS.sub(" ", text).strip()
    if len(text) > limit:
        text = text[:limit - 3].rstrip() + "..."
    return text


def number(value):
    """``value`` when it is a finite int or float (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _mb(value):
    value = number(value)
    return None if value is None else round(value / 1048576.0, 1)


def _items(value) -> list:
    """The mappings of a list fact; anything else is no data."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


# --- the catalogue --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """One parameter of a check: its kind, default and bounds."""

    kind: str  # number | integer | positive (a number above 0) | bool | choice | release
    default: Any
    doc: str
    minimum: float | None = None
    choices: tuple[str, ...] = ()
    maximum: float | None = None


@dataclasses.dataclass(frozen=True)
class CheckSpec:
    """A check of the registry: the function, the section it reads and what it returns."""

    name: str
    section: str
    function: Callable[[dict, Rule], list]
    # Evidence keys with a sample value each (used to validate summaries at load time).
    evidence: Mapping[str, Any]
    params: Mapping[str, ParamSpec]
    # None: one priority; "above": warn/crit levels as the value rises; "below": as it falls.
    levels: str | None = None
    # percent: warn/crit must lie within 0..100.
    level_unit: str = ""
    # Whether the function also takes the host's metric history (keywords history and now).
    history: bool = False
    # Evidence keys that only some alarms have, with a sample value each: a summary may use them,
    # they render as "" when absent.
    optional_evidence: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    # Pairs of parameters (smaller, larger): the first may not exceed the second.
    param_order: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class Rule:
    """One validated rule of a catalogue."""

    id: str
    family: str
    section: str
    check: str
    title: str
    summary: str
    enabled: bool = True
    priority: str | None = None
    warn: float | None = None
    crit: float | None = None
    warn_priority: str | None = None
    crit_priority: str | None = None
    warn_title: str | None = None
    crit_title: str | None = None
    params: Mapping[str, Any] = dataclasses.field(default_factory=lambda: types.MappingProxyType({}))
    # Two-level rules: an open case is resolved only once the value is back past ``clear``
    # (None: past warn); between clear and warn it is kept as it is.
    clear: float | None = None
    # A case opens once the condition held on ``for_runs`` runs in a row and for ``for_minutes``.
    for_runs: int = 1
    for_minutes: float = 0
    # The texts in other languages: language -> {title, summary[, warn_title, crit_title]}.
    i18n: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=lambda: types.MappingProxyType({}))

    def sustain(self) -> dict | None:
        """What the case manager waits for before opening a case (None: nothing, it opens at once)."""
        if self.for_runs <= 1 and self.for_minutes <= 0:
            return None
        return {"runs": self.for_runs, "minutes": self.for_minutes}


@dataclasses.dataclass(frozen=True)
class Catalogue:
    """A validated, immutable set of rules and where it came from (file, then overrides)."""

    rules: tuple[Rule, ...]
    sources: tuple[str, ...]

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with this id, or None."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None

    def ids(self) -> list[str]:
        return [rule.id for rule in self.rules]


# --- alarms ---------------------------------------------------------------------------------


def fingerprint(customer: str, host: str, rule_id: str, subject: str) -> str:
    """A stable id of one condition: sha256 of the JSON list of its parts, first 20 hex digits."""
    parts = json.dumps([customer, host, rule_id, subject], ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(parts.encode("ascii")).hexdigest()[:20]


@dataclasses.dataclass(frozen=True)
class Alarm:
    """One condition of one host; no response deadline (the SLA module adds it)."""

    rule: str
    title: str
    family: str
    priority: str
    level: str | None
    customer: str
    host: str
    subject: str
    fingerprint: str
    summary: str
    evidence: Mapping[str, Any]
    detected_at: str
    # {"runs": N, "minutes": M} of a sustained rule: the case opens once the condition held that long.
    sustain: Mapping[str, Any] | None = None
    # The title and summary in each language the rule is translated into: {"it": {"title": ..., "summary": ...}}.
    texts: Mapping[str, Mapping[str, str]] | None = None

    def to_dict(self) -> dict:
        found = {
            "rule": self.rule,
            "title": self.title,
            "family": self.family,
            "priority": self.priority,
            "level": self.level,
            "customer": self.customer,
            "host": self.host,
            "subject": self.subject,
            "fingerprint": self.fingerprint,
            "summary": self.summary,
            "evidence": dict(self.evidence),
            "detected_at": self.detected_at,
        }
        if self.sustain is not None:
            found["sustain"] = dict(self.sustain)
        if self.texts:
            found["texts"] = {language: dict(texts) for language, texts in self.texts.items()}
        return found


def render_summary(rule: Rule, title: str, evidence: Mapping[str, Any], template: str | None = None) -> str:
    """The rule's summary (or ``template``, a translation of it) filled with the evidence; a plain listing if a value
    does not fit its format."""
    values = {key: ("unknown" if value is None else value) for key, value in evidence.items()}
    spec = CHECKS.get(rule.check)
    for key in spec.optional_evidence if spec is not None else ():
        values.setdefault(key, "")
    try:
        return (rule.summary if template is None else template).format_map(values)
    except (ValueError, TypeError, KeyError, IndexError):
        shown = ", ".join("%s=%s" % (key, values[key]) for key in sorted(values))
        return "%s (%s)" % (title, shown)


def level_title(texts: Mapping[str, Any], level: str | None) -> str:
    """The title of ``level`` (None, warn or crit) among ``texts`` (a rule's own fields or one of its translations)."""
    if level in ("warn", "crit"):
        return texts.get("%s_title" % level) or texts["title"]
    return texts["title"]


# Italian words of the evidence fields a check writes in English (the host's own text stays as it is).
_IT_METRICS = {"CPU": "CPU", "memory": "memoria"}
_IT_BASES = {behaviour.BASIS_HOUR_OF_WEEK: "per ora della settimana", behaviour.BASIS_WHOLE_WINDOW: "sull'intero periodo"}


def _parse_utc(text) -> datetime | None:
    try:
        moment = datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc)


def local_evidence(rule: Rule, evidence: Mapping[str, Any], language: str, stamp: str) -> dict:
    """``evidence`` with the fields a check writes in words (a process's state, when a space is predicted full, when
    memory reaches its limit, the metric and the baseline's basis) in ``language``; ``stamp`` is the alarm's
    detected_at. Values that come from the host stay as they are."""
    values = dict(evidence)
    if language == "en":
        return values
    if rule.check == "process_down_or_restarted":
        values["state"] = "non è in esecuzione" if evidence.get("running") is False else "è stato riavviato dall'ultimo controllo"
    prediction = evidence.get("prediction")
    if "predicted_full" in evidence and isinstance(prediction, Mapping):
        eta, hours_left = _parse_utc(prediction.get("eta")), number(prediction.get("hours_left"))
        if eta is not None and hours_left is not None:
            values["predicted_full"] = _when_full_words(eta, hours_left, language)
    if evidence.get("reaches_limit") and number(evidence.get("limit_mb")) is not None:
        eta, now = _parse_utc(evidence.get("limit_eta")), _parse_utc(stamp)
        if eta is not None and now is not None:
            values["reaches_limit"] = _limit_words(evidence["limit_mb"], eta, now, language)
    if rule.check == "process_unusual":
        values["metric"] = _IT_METRICS.get(evidence.get("metric"), evidence.get("metric"))
        values["basis"] = _IT_BASES.get(evidence.get("basis"), evidence.get("basis"))
    return values


def alarm_texts(rule: Rule, level: str | None, evidence: Mapping[str, Any], stamp: str) -> dict:
    """The title and summary of an alarm in each language ``rule`` is translated into."""
    found = {}
    for language, texts in rule.i18n.items():
        title = level_title(texts, level)
        found[language] = {"title": title,
                           "summary": render_summary(rule, title, local_evidence(rule, evidence, language, stamp), texts["summary"])}
    return found


def _utc_text(moment: datetime) -> str:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise RulesError("detected_at must be a timezone-aware datetime, got %r" % (moment,))
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _make_alarm(rule: Rule, level: str | None, subject: str, evidence: dict, host: str, customer: str, stamp: str) -> Alarm:
    if level is None:
        priority = rule.priority
    elif level == "crit":
        priority = rule.crit_priority
    else:
        priority = rule.warn_priority
    title = level_title({"title": rule.title, "warn_title": rule.warn_title, "crit_title": rule.crit_title}, level)
    return Alarm(
        rule=rule.id,
        title=title,
        family=rule.family,
        priority=priority,
        level=level,
        customer=customer,
        host=host,
        subject=subject,
        fingerprint=fingerprint(customer, host, rule.id, subject),
        summary=render_summary(rule, title, evidence),
        evidence=types.MappingProxyType(evidence),
        detected_at=stamp,
        sustain=rule.sustain(),
        texts=types.MappingProxyType(alarm_texts(rule, level, evidence, stamp)) if rule.i18n else None,
    )


# --- checks ---------------------------------------------------------------------------------
# Each check takes (section, rule) and returns a list of findings (subject, level, evidence).
# A check never fires on missing or malformed data: a value that is absent, null or of the wrong
# type is "no data" (the collector_failing rule reports the collector's own errors).


def _level_above(rule: Rule, value: float) -> tuple[str | None, float | None]:
    """crit when value >= crit, warn when value >= warn, else nothing."""
    if value >= rule.crit:
        return "crit", rule.crit
    if value >= rule.warn:
        return "warn", rule.warn
    return None, None


def _level_below(rule: Rule, value: float) -> tuple[str | None, float | None]:
    """crit when value < crit, warn when value < warn, else nothing."""
    if value < rule.crit:
        return "crit", rule.crit
    if value < rule.warn:
        return "warn", rule.warn
    return None, None


def _hold(rule: Rule, subject: str, value: float) -> list:
    """A HOLD finding when ``value`` (which does not fire) lies between the rule's clear and warn thresholds."""
    if rule.clear is None:
        return []
    between = rule.clear <= value < rule.warn if rule.clear <= rule.warn else rule.warn <= value < rule.clear
    return [(subject, HOLD, {"value": value})] if between else []


def check_process_down_or_restarted(section: dict, rule: Rule) -> list:
    """A configured process of the rule's role that is not running, or restarted since the last run."""
    role = rule.params["role"]
    found = []
    for item in _items(section.get("items")):
        if item.get("role") != role:
            continue
        running = item.get("running")
        if running is False:
            state = "is not running"
        elif running is True and item.get("restarted") is True:
            state = "restarted since the last run"
        else:
            continue
        process = clean_text(item.get("id"))
        evidence = {
            "process": process,
            "application": clean_text(item.get("application")) or process,
            "role": role,
            "state": state,
            "running": running is True,
            "restarted": item.get("restarted") is True,
            "count": number(item.get("count")),
        }
        found.append((process, None, evidence))
    return found


def check_replication_unhealthy(section: dict, rule: Rule) -> list:
    """HA replication configured and not healthy, or the peer clock off by more than the limit."""
    if section.get("configured") is not True:
        return []
    skew = number(section.get("clock_skew_seconds"))
    limit = rule.params["max_clock_skew_seconds"]
    skew_too_large = skew is not None and abs(skew) > limit
    if section.get("healthy") is not False and not skew_too_large:
        return []
    details = [clean_text(section.get(key), LONG_TEXT_LIMIT) for key in ("reason", "problem") if section.get(key)]
    if skew_too_large and not any("clock" in detail for detail in details):
        details.append("peer clock differs by %.1f s (more than %s s inhibits replication)" % (skew, limit))
    evidence = {
        "state": clean_text(section.get("state")) or "unknown",
        "reason": clean_text(section.get("reason"), LONG_TEXT_LIMIT),
        "peer": clean_text(section.get("peer")),
        "clock_skew_seconds": skew,
        "detail": clean_text("; ".join(details), LONG_TEXT_LIMIT) or "no reason given",
    }
    return [("", None, evidence)]


# --- predicted time to full -------------------------------------------------------------------

_LEVEL_ORDER = {None: 0, "warn": 1, "crit": 2}


def predict_full(used_points, now: datetime, used_now: float, capacity=None) -> trends.Prediction | None:
    """When a space whose ``used_percent`` history is ``used_points`` reaches 100 %, as of ``now``.

    ``used_now`` (this run's measurement) is added at ``now``; ``capacity`` is the history of the
    space's size (a disk's total bytes), whose change restarts the trend like a cleanup does.
    None when the history cannot be read as one (a value that is not a number).
    """
    try:
        return trends.time_to_limit(
            list(used_points) + [(now, used_now)], FULL_PERCENT, now,
            window=PREDICTION_WINDOW, min_points=PREDICTION_MIN_POINTS, min_span=PREDICTION_MIN_SPAN,
            capacity_changes=None if capacity is None else list(capacity))
    except (TypeError, ValueError):
        return None


def predicted_level(rule: Rule, prediction: trends.Prediction | None) -> str | None:
    """crit when ``prediction`` says full within ``predict_crit_days``, warn within ``predict_warn_days``."""
    if prediction is None or prediction.eta is None or not rule.params.get("predict", True):
        return None
    days = prediction.hours_left / 24.0
    if days <= rule.params.get("predict_crit_days", DEFAULT_PREDICT_CRIT_DAYS):
        return "crit"
    if days <= rule.params.get("predict_warn_days", DEFAULT_PREDICT_WARN_DAYS):
        return "warn"
    return None


def _higher(first: str | None, second: str | None) -> str | None:
    return first if _LEVEL_ORDER[first] >= _LEVEL_ORDER[second] else second


def _when_full(prediction: trends.Prediction) -> str:
    """The part of a summary that says when the space is predicted full."""
    return _when_full_words(prediction.eta, prediction.hours_left, "en")


def _time_left(hours: float, language: str) -> str:
    days = hours / 24.0
    if language == "it":
        return "%d ore" % max(1, round(hours)) if days < 2 else "%d giorni" % round(days)
    return "%d h" % max(1, round(hours)) if days < 2 else "%d days" % round(days)


def _when_full_words(eta: datetime, hours_left: float, language: str) -> str:
    """``; predicted full on <date> (in <time left>)`` in ``language``."""
    if language == "it":
        if hours_left <= 0:
            return "; saturazione prevista già ora"
        return "; saturazione prevista il %s (tra %s)" % (eta.strftime("%d/%m/%Y"), _time_left(hours_left, language))
    if hours_left <= 0:
        return "; predicted full now"
    return "; predicted full on %s (in %s)" % (eta.strftime("%Y-%m-%d"), _time_left(hours_left, language))


def _prediction_evidence(rule: Rule, prediction: trends.Prediction | None) -> dict:
    """The evidence of a prediction that gives a time (nothing otherwise, as without history)."""
    if prediction is None or prediction.eta is None or not rule.params.get("predict", True):
        return {}
    return {"prediction": prediction.evidence(), "predicted_full": _when_full(prediction)}


def _space_level(rule: Rule, used: float, prediction: trends.Prediction | None) -> tuple[str | None, float | None]:
    """The higher of the threshold's level and the prediction's, and the threshold reached (None: none)."""
    level, threshold = _level_above(rule, used)
    return _higher(level, predicted_level(rule, prediction)), threshold


def check_disk_used_percent(section: dict, rule: Rule, history=None, now: datetime | None = None) -> list:
    """Each measured filesystem whose used_percent reaches warn or crit, or that its history
    predicts full within predict_warn_days or predict_crit_days (the higher level wins)."""
    found = []
    for item in _items(section.get("items")):
        if item.get("error"):
            continue
        used = number(item.get("used_percent"))
        if used is None:
            continue
        mount = clean_text(item.get("mount"))
        prediction = None
        if history is not None and now is not None and rule.params.get("predict", True):
            used_points, total_points = history.disk(mount)
            total = number(item.get("total_bytes"))
            prediction = predict_full(used_points, now, used,
                                      list(total_points) + ([(now, total)] if total is not None else []))
        level, threshold = _space_level(rule, used, prediction)
        if level is None:
            found.extend(_hold(rule, mount, used))
            continue
        evidence = {
            "mount": mount,
            "used_percent": used,
            "free_mb": _mb(item.get("free_bytes")),
            "total_mb": _mb(item.get("total_bytes")),
            "threshold": threshold,
        }
        evidence.update(_prediction_evidence(rule, prediction))
        found.append((mount, level, evidence))
    return found


def check_database_used_percent(section: dict, rule: Rule, history=None, now: datetime | None = None) -> list:
    """The database's size against its limit (only when a limit is known), at or above warn or
    crit, or predicted by its history to reach the limit within predict_warn_days or predict_crit_days."""
    if section.get("configured") is not True:
        return []
    used = number(section.get("used_percent"))
    if used is None:
        return []
    prediction = None
    if history is not None and now is not None and rule.params.get("predict", True):
        prediction = predict_full(history.database(), now, used)
    level, threshold = _space_level(rule, used, prediction)
    if level is None:
        return _hold(rule, "", used)
    evidence = {
        "engine": clean_text(section.get("engine")),
        "database": clean_text(section.get("name")),
        "used_percent": used,
        "size_mb": _mb(section.get("size_bytes")),
        "limit_mb": _mb(section.get("limit_bytes")),
        "limit_source": clean_text(section.get("limit_source")),
        "threshold": threshold,
    }
    evidence.update(_prediction_evidence(rule, prediction))
    return [("", level, evidence)]


# --- unusual behaviour of processes -------------------------------------------------------------


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _history_items(section: dict):
    """(process id as alarms name it, item) of each process item without an error; the first of two ids counts."""
    seen = set()
    for item in _items(section.get("items")):
        process = clean_text(item.get("id"))
        if item.get("error") or process in seen:
            continue
        seen.add(process)
        yield process, item


def _process_evidence(process: str, item: dict) -> dict:
    return {"process": process, "application": clean_text(item.get("application")) or process,
            "role": clean_text(item.get("role"))}


def _current_start(item: dict) -> float | None:
    """This run's start time of a running process item (seconds since the epoch), else None."""
    return number(item.get("start_time_epoch")) if item.get("running") is True else None


def check_process_restart_loop(section: dict, rule: Rule, history=None, now: datetime | None = None) -> list:
    """A process item whose start time changed ``restarts`` times or more within ``window_minutes``
    (this run and the history), even when every run found it running."""
    if history is None or now is None:
        return []
    window = timedelta(minutes=rule.params["window_minutes"])
    found = []
    for process, item in _history_items(section):
        restarts = behaviour.restarts_within(history.process(process, "start_time_epoch"), now, window,
                                             _current_start(item))
        if not restarts:
            continue
        if len(restarts) < rule.params["restarts"]:
            # Fewer restarts than the loop takes, but not none: an open loop case stays open (no
            # resolve and reopen while a slower loop goes on); it clears after a window without one.
            found.append((process, HOLD, {"hold": "%s restarted %d time(s) within %s min: an open case stays open until "
                                                  "a window passes without a restart"
                                                  % (process, len(restarts), rule.params["window_minutes"])}))
            continue
        started = [behaviour.epoch_time(epoch) for dummy, epoch in restarts]
        shown = [_iso_utc(moment) for moment in started[-RESTART_TIMES_SHOWN:] if moment is not None]
        if len(restarts) > len(shown):
            shown.insert(0, "%d earlier" % (len(restarts) - len(shown)))
        evidence = _process_evidence(process, item)
        evidence.update({
            "restarts": len(restarts),
            "window_minutes": rule.params["window_minutes"],
            "restart_times": ", ".join(shown),
            "last_seen_restart": _iso_utc(restarts[-1][0]),
            "running": item.get("running") is True,
        })
        found.append((process, None, evidence))
    return found


def _limit_text(growth: behaviour.Growth, limit_bytes: float, now: datetime) -> tuple[str | None, str]:
    """(when the memory line reaches ``limit_bytes``, the summary's words for it)."""
    value_now = max(growth.value_at(now), growth.last)
    if value_now >= limit_bytes:
        return _iso_utc(now), _limit_words(limit_bytes / MB, now, now, "en")
    days = (limit_bytes - value_now) / growth.slope_per_day
    if days > trends.HORIZON / timedelta(days=1):
        return None, ""
    eta = now + timedelta(days=days)
    return _iso_utc(eta), _limit_words(limit_bytes / MB, eta, now, "en")


def _limit_words(limit_mb: float, eta: datetime, now: datetime, language: str) -> str:
    """``; reaches its <limit> MB limit on <date> (in <time left>)`` in ``language`` (``eta`` not after ``now``: now)."""
    hours = (eta - now).total_seconds() / 3600.0
    if language == "it":
        if hours <= 0:
            return "; ha già raggiunto il suo limite di %g MB" % limit_mb
        return "; raggiungerà il suo limite di %g MB il %s (tra %s)" % (limit_mb, eta.strftime("%d/%m/%Y"), _time_left(hours, language))
    if hours <= 0:
        return "; at its %g MB limit now" % limit_mb
    return "; reaches its %g MB limit on %s (in %s)" % (limit_mb, eta.strftime("%Y-%m-%d"), _time_left(hours, language))


def check_process_memory_growing(section: dict, rule: Rule, history=None, now: datetime | None = None) -> list:
    """A running process whose resident memory grew steadily since it last started: a Theil-Sen
    line over ``window_days`` (at least ``min_points`` values over ``min_hours``) rising by at
    least ``min_growth_percent_per_day`` and ``min_growth_mb_per_day``, between most pairs of values."""
    if history is None or now is None:
        return []
    params = rule.params
    window = timedelta(days=params["window_days"])
    found = []
    for process, item in _history_items(section):
        rss = number(item.get("rss_bytes"))
        if item.get("running") is not True or rss is None:
            continue
        current = _current_start(item)
        restarts = behaviour.restarts_within(history.process(process, "start_time_epoch"), now, window, current)
        growth = behaviour.memory_growth(
            history.process(process, "rss_bytes"), now, window=window, current=rss,
            min_points=params["min_points"], min_span=timedelta(hours=params["min_hours"]),
            started_at=behaviour.epoch_time(current), restarts=restarts)
        if growth is None or growth.rising_share < GROWTH_MIN_RISING_SHARE:
            continue
        if growth.percent_per_day < params["min_growth_percent_per_day"] or growth.slope_per_day / MB < params["min_growth_mb_per_day"]:
            continue
        evidence = _process_evidence(process, item)
        evidence.update({
            "rss_mb": round(rss / MB, 1),
            "slope_mb_per_day": round(growth.slope_per_day / MB, 2),
            "growth_percent_per_day": round(growth.percent_per_day, 2),
            "rising_share": round(growth.rising_share, 2),
            "since": _iso_utc(growth.since),
            "points": growth.points,
            "span_hours": round(growth.span.total_seconds() / 3600, 1),
            "limit_mb": params["limit_mb"] or None,
            "limit_eta": None,
        })
        if params["limit_mb"]:
            evidence["limit_eta"], evidence["reaches_limit"] = _limit_text(growth, params["limit_mb"] * MB, now)
        found.append((process, None, evidence))
    return found


# (field, subject suffix and words, unit, divisor to the unit, smallest spread in the unit)
_USUAL_FIELDS = (
    ("cpu_percent", "cpu", "CPU", "%", 1.0, 1.0),
    ("rss_bytes", "memory", "memory", "MB", MB, 1.0),
)


def check_process_unusual(section: dict, rule: Rule, history=None, now: datetime | None = None) -> list:
    """A running process whose CPU or memory is far above its own usual level: above the
    median plus ``mad_factor`` scaled MADs of its history (by hour of the week once three weeks
    are known) and above an absolute floor (``cpu_points_above`` the median; ``rss_factor``
    times the median)."""
    if history is None or now is None:
        return []
    params = rule.params
    found = []
    for process, item in _history_items(section):
        if item.get("running") is not True:
            continue
        started = behaviour.epoch_time(_current_start(item))
        if started is not None and now - started < SETTLE_TIME:
            continue
        for field, name, words, unit, divisor, floor in _USUAL_FIELDS:
            value = number(item.get(field))
            if value is None:
                continue
            value = value / divisor
            usual = behaviour.usual_level(
                [(when, point / divisor) for when, point in history.process(process, field)], now, floor=floor,
                min_points=params["min_points"], min_span=timedelta(hours=params["min_history_hours"]))
            if usual is None:
                continue
            baseline = usual.baseline
            limit = baseline.median + params["mad_factor"] * baseline.scale
            if name == "cpu":
                far_enough = value >= baseline.median + params["cpu_points_above"]
            else:
                far_enough = value >= params["rss_factor"] * baseline.median
            if value <= limit or not far_enough:
                continue
            evidence = _process_evidence(process, item)
            evidence.update({
                "metric": words,
                "value": round(value, 2),
                "unit": unit,
                "median": round(baseline.median, 2),
                "mad": round(baseline.mad, 2),
                "limit": round(limit, 2),
                "basis": usual.basis,
                "points": usual.history,
            })
            found.append(("%s/%s" % (process, name), None, evidence))
    return found


def check_capacity_available(section: dict, rule: Rule) -> list:
    """An application's free channels or licences at or below ``available_at_most``."""
    app = rule.params["app"]
    apps = section.get("apps")
    usage = apps.get(app) if isinstance(apps, dict) else None
    if not isinstance(usage, dict) or usage.get("error"):
        return []
    available = number(usage.get("available"))
    licensed = number(usage.get("licensed"))
    in_use = number(usage.get("in_use"))
    if available is None or available > rule.params["available_at_most"]:
        return []
    if licensed == 0 and not in_use:
        # Nothing licensed and nothing in use: the application is not in use here.
        return []
    evidence = {
        "app": app,
        "in_use": in_use,
        "licensed": licensed,
        "available": available,
        "used_percent": number(usage.get("used_percent")),
    }
    return [(app, None, evidence)]


def daily_peaks(points, now: datetime) -> list:
    """The highest value of each whole UTC day before ``now``'s day, at the day's noon, oldest first.

    The day of ``now`` is left out: its peak so far is not the day's (a morning run would pull
    the trend down). Values that are not numbers are dropped (trends.clean_points).
    """
    today = trends.EPOCH + _DAY * ((now - trends.EPOCH) // _DAY)
    peaks: dict[datetime, float] = {}
    for when, value in trends.clean_points(points):
        if when >= today:
            continue
        day = trends.EPOCH + _DAY * ((when - trends.EPOCH) // _DAY)
        peaks[day] = max(peaks.get(day, value), value)
    return [(day + _DAY / 2, value) for day, value in sorted(peaks.items())]


def busy_days(peaks: list) -> list:
    """The daily ``peaks`` of the busy days: those whose peak is at least ``QUIET_DAY_SHARE`` of the
    median peak. Weekends and holidays of an office pool are left out: the trend of the working
    days is the one that reaches the licensed count, and a third of quiet days would drag a
    Theil-Sen line (it survives a minority of outliers, not that many)."""
    if not peaks:
        return []
    usual = statistics.median(value for dummy, value in peaks)
    return [(when, value) for when, value in peaks if value >= QUIET_DAY_SHARE * usual]


def predict_peak_full(in_use_points, licensed_points, now: datetime, licensed: float,
                      params: Mapping[str, Any]) -> trends.Prediction | None:
    """When the daily peaks of a capacity pool (``in_use_points``) reach ``licensed``, as of ``now``.

    The trend of the daily peaks of the busy days (:func:`busy_days`) over ``window_days``
    (Theil-Sen), from at least ``min_days`` of them; a change of the
    licensed count (``licensed_points`` and ``licensed`` now) restarts it; a fall of the peaks
    does not (a quiet day is no cleanup). None when the history cannot be read as one.
    """
    try:
        return trends.time_to_limit(
            busy_days(daily_peaks(in_use_points, now)), licensed, now, window=timedelta(days=params["window_days"]),
            min_points=params["min_days"], min_span=_DAY * (params["min_days"] - 1), drop_fraction=1.0,
            capacity_changes=list(licensed_points) + [(now, licensed)])
    except (TypeError, ValueError):
        return None


def check_capacity_peak_predicted(section: dict, rule: Rule, history=None, now: datetime | None = None) -> list:
    """An application's pool (channels, licences) whose daily peaks are predicted to reach the
    licensed count: the level by the days left (a "below" rule: crit under ``crit`` days, warn
    under ``warn``). A pool with too little history to judge keeps an open case as it is."""
    if history is None or now is None:
        return []
    app = rule.params["app"]
    apps = section.get("apps")
    usage = apps.get(app) if isinstance(apps, dict) else None
    if not isinstance(usage, dict) or usage.get("error"):
        return []
    licensed, in_use = number(usage.get("licensed")), number(usage.get("in_use"))
    if licensed is None or licensed <= 0 or in_use is None:
        return []
    in_use_points, licensed_points = history.capacity(app)
    prediction = predict_peak_full(in_use_points, licensed_points, now, licensed, rule.params)
    if prediction is None or (prediction.eta is None and prediction.slope_per_day is None):
        # Some whole days known, but too few to judge (a store that lost its history, a licence change): an open
        # case stays as it is. Before the first whole day there is nothing to hold.
        if prediction is None or prediction.n:
            return [(app, HOLD, {"hold": "%s: too little history of daily peaks to predict (%s): an open case stays open"
                                 % (app, prediction.reason if prediction is not None else "unreadable history")})]
        return []
    if prediction.eta is None:
        return []
    days_left = max(prediction.hours_left, 0.0) / 24.0
    level, dummy = _level_below(rule, days_left)
    if level is None:
        return _hold(rule, app, days_left)
    evidence = {
        "app": app,
        "in_use": in_use,
        "licensed": licensed,
        "peak": prediction.last_value,
        "days_left": round(days_left, 1),
        "predicted_full_on": prediction.eta.strftime("%Y-%m-%d"),
        "predicted_full": _when_full(prediction),
        "prediction": prediction.evidence(),
    }
    return [(app, level, evidence)]


def _not_answering(section: dict, flag: str) -> list:
    """One alarm when ``section[flag]`` is false: the URL, the status and the collector's reason."""
    if section.get(flag) is not False:
        return []
    evidence = {
        "url": clean_text(section.get("url")),
        "status_code": number(section.get("status_code")),
        "problem": clean_text(section.get("problem"), LONG_TEXT_LIMIT) or "no reason given",
    }
    return [("", None, evidence)]


def check_cloud_unreachable(section: dict, rule: Rule) -> list:
    """The vendor cloud endpoint did not answer as expected (``reachable`` false)."""
    return _not_answering(section, "reachable")


def check_webserver_down(section: dict, rule: Rule) -> list:
    """The web portal did not answer 2xx/3xx within the timeout (``up`` false)."""
    return _not_answering(section, "up")


def check_webserver_latency_above(section: dict, rule: Rule) -> list:
    """The web portal is up but answered slower than ``above_ms``."""
    if section.get("up") is not True:
        return []
    latency = number(section.get("latency_ms"))
    if latency is None or latency <= rule.params["above_ms"]:
        return []
    evidence = {
        "url": clean_text(section.get("url")),
        "latency_ms": latency,
        "above_ms": rule.params["above_ms"],
    }
    return [("", None, evidence)]


def check_tls_days_left(section: dict, rule: Rule) -> list:
    """Days before the web portal's certificate expires, below warn or crit."""
    tls = section.get("tls")
    if not isinstance(tls, dict):
        return []
    days_left = number(tls.get("days_left"))
    if days_left is None:
        return []
    level, threshold = _level_below(rule, days_left)
    if level is None:
        return _hold(rule, "", days_left)
    evidence = {
        "days_left": days_left,
        "not_after": clean_text(tls.get("not_after")),
        "certificate": clean_text(tls.get("subject")),
        "threshold": threshold,
    }
    return [("", level, evidence)]


def _failure(section_name: str, item: str, error) -> tuple:
    where = "%s %s" % (section_name, item) if item else section_name
    evidence = {
        "section": section_name,
        "item": item,
        "where": where,
        "error": clean_text(error, LONG_TEXT_LIMIT) or "no reason given",
    }
    return ("%s/%s" % (section_name, item) if item else section_name, None, evidence)


def _value_problem(value, expected: str) -> tuple[str, bool] | None:
    """Why ``value`` is no measurement: (what it is, whether that is a collector failure), or None when it is one.

    ``expected``: ``number`` (finite int/float) or ``bool``. A null or missing value is unknown
    (the collector could not tell, which it may legitimately say); a value of the wrong type, NaN
    or infinity is a collector failure.
    """
    if value is None:
        return "null", False
    if expected == "bool":
        return None if isinstance(value, bool) else ("%s, not true or false" % _type_name(value), True)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "%s, not a number" % _type_name(value), True
    if not math.isfinite(value):
        return "%s, not a finite number" % value, True
    return None


def _item_gaps(section_name: str, section: dict) -> list:
    """(item, reason, failing) for the items and keys of one section the rules cannot measure."""
    found = []

    def check(item, key, value, expected):
        problem = _value_problem(value, expected)
        if problem is not None:
            found.append((item, "%s is %s" % (key, problem[0]), problem[1]))

    listed = {"disks": "items", "processes": "items", "events": "sources"}.get(section_name)
    if listed is not None and "error" not in section and not isinstance(section.get(listed), list):
        return [(None, "%s is %s, not a list" % (listed, _type_name(section.get(listed))), True)]
    if section_name == "disks":
        for item in _items(section.get("items")):
            mount = clean_text(item.get("mount"))
            if item.get("error"):
                found.append((mount, clean_text(item["error"], LONG_TEXT_LIMIT) or "no reason given", True))
            else:
                check(mount, "used_percent", item.get("used_percent"), "number")
    elif section_name == "processes":
        for item in _items(section.get("items")):
            check(clean_text(item.get("id")), "running", item.get("running"), "bool")
    elif section_name == "events":
        found.extend((clean_text(item.get("path")), clean_text(item["error"], LONG_TEXT_LIMIT), True)
                     for item in _items(section.get("sources")) if item.get("error"))
    elif section_name == "capacity":
        apps = section.get("apps")
        if "error" not in section and not isinstance(apps, dict):
            return [(None, "apps is %s, not a mapping" % _type_name(apps), True)]
        for app, usage in (apps or {}).items():
            if not isinstance(usage, dict):
                found.append((clean_text(app), "its usage is %s, not a mapping" % _type_name(usage), True))
            elif usage.get("error"):
                found.append((clean_text(app), clean_text(usage["error"], LONG_TEXT_LIMIT), True))
            else:
                check(clean_text(app), "available", usage.get("available"), "number")
    elif section_name == "database":
        check(None, "configured", section.get("configured"), "bool")
        if section.get("configured") is True and number(section.get("limit_bytes")) is not None:
            check(None, "used_percent", section.get("used_percent"), "number")
    elif section_name in ("webserver", "cloud"):
        check(None, "up" if section_name == "webserver" else "reachable",
              section.get("up" if section_name == "webserver" else "reachable"), "bool")
    elif section_name == "replication":
        check(None, "configured", section.get("configured"), "bool")
        if section.get("configured") is True:
            check(None, "healthy", section.get("healthy"), "bool")
    elif section_name == "release":
        check(None, "year", section.get("year"), "number")
    return found


def section_gaps(health: dict) -> dict:
    """What the rules cannot measure in one host's facts: ``{section: [(item or None, reason, failing)]}``.

    A section that is absent (left out by ``gather_subset``, or missing although collected), not
    a mapping, whose collector failed or that is not configured (``not_configured``: an option that
    describes the installation is unset) is a gap as a whole (item None); an item (a disk, a
    process, an application's capacity, an event source) with its own error or with a key the
    rules read that is null, of the wrong type or NaN is a gap of that item. ``failing`` says
    whether it is the collector's failure (reported by ``collector_failing``) rather than a value
    the collector could not know.
    """
    collected = health.get("gather_subset")
    collected = {name for name in collected if isinstance(name, str)} if isinstance(collected, list) else None
    gaps: dict = {}
    for name in SECTIONS:
        if name not in health:
            if collected is None or name in collected:
                gaps[name] = [(None, "the %s section is missing from the facts" % name, True)]
            else:
                gaps[name] = [(None, "the %s section was not collected (gather_subset)" % name, False)]
            continue
        section = health[name]
        if not isinstance(section, dict):
            gaps[name] = [(None, "the section is %s, not a mapping" % _type_name(section), True)]
            continue
        if section.get("not_configured") and not section.get("error"):
            # Nothing was looked at: an option that describes the installation is unset. No rule
            # of the section can fire (no process is "not running"); host_not_configured says what
            # to set, once for every such section of the host (not a collector failure).
            gaps[name] = [(None, clean_text(section["not_configured"], LONG_TEXT_LIMIT), False)]
            continue
        found = [(None, clean_text(section["error"], LONG_TEXT_LIMIT) or "no reason given", True)] if section.get("error") else []
        found += _item_gaps(name, section)
        if found:
            gaps[name] = found
    return gaps


def check_collector_error(health: dict, rule: Rule) -> list:
    """Every section whose collector failed or that is missing, and every item (disk, event source,
    application, process) with an error or a value that is not a measurement (wrong type, NaN)."""
    return [_failure(name, item or "", reason)
            for name, found in section_gaps(health).items() for item, reason, failing in found if failing]


_SETTING = re.compile(r"inventory variable (imagicle_[A-Za-z0-9_.]+)")


def check_not_configured(health: dict, rule: Rule) -> list:
    """One finding for every section of the host that is not configured (``not_configured``: an
    option describing the installation is unset, so nothing was looked at): which sections, and
    the inventory variables to set, as the module names them."""
    sections, settings, messages = [], [], []
    for name in SECTIONS:
        section = health.get(name)
        if not isinstance(section, dict) or not section.get("not_configured") or section.get("error"):
            continue
        message = clean_text(section["not_configured"], LONG_TEXT_LIMIT)
        sections.append(name)
        messages.append(message if message.startswith(name + ":") else "%s: %s" % (name, message))
        settings += [found for found in _SETTING.findall(message) if found not in settings]
    if not sections:
        return []
    evidence = {
        "sections": ", ".join(sections),
        "settings": ", ".join(settings) or "the options the messages name",
        "detail": clean_text(" | ".join(messages), 4 * LONG_TEXT_LIMIT),
    }
    return [("", None, evidence)]


def minimum_release_key(text: str) -> tuple:
    """The ordering key of ``2020.Winter`` (any release of that season) or ``2020.Winter.1``."""
    parts = str(text).strip().split(".")
    if len(parts) == 2:
        return release_key(parse_release("%s.%s.0" % (parts[0], parts[1])))
    return release_key(parse_release(text))


def check_release_older_than(section: dict, rule: Rule) -> list:
    """The installed release is older than ``minimum`` (the proactive-support requirement)."""
    if section.get("error") or number(section.get("year")) is None or number(section.get("number")) is None:
        return []
    try:
        installed = release_key(section)
    except (ValueError, TypeError, KeyError):
        return []
    minimum = rule.params["minimum"]
    if installed >= minimum_release_key(minimum):
        return []
    raw = clean_text(section.get("raw")) or "%s.%s.%s" % (section.get("year"), clean_text(section.get("season")), section.get("number"))
    evidence = {"release": raw, "minimum": minimum}
    return [("", None, evidence)]


def check_host_not_reporting(health, rule: Rule) -> list:
    """Never called on facts: :func:`evaluate` uses this rule when there are no usable facts."""
    return []


_NO_PARAMS: Mapping[str, ParamSpec] = types.MappingProxyType({})
# The parameters of the space checks that predict from history.
_PREDICTION_PARAMS: Mapping[str, ParamSpec] = types.MappingProxyType({
    "predict": ParamSpec("bool", True, "whether the metric history may raise the level before a threshold is reached"),
    "predict_warn_days": ParamSpec("positive", DEFAULT_PREDICT_WARN_DAYS,
                                   "warn when the trend predicts full within this many days"),
    "predict_crit_days": ParamSpec("positive", DEFAULT_PREDICT_CRIT_DAYS,
                                   "crit when the trend predicts full within this many days"),
})
_PREDICTION_ORDER = (("predict_crit_days", "predict_warn_days"),)
# Evidence of an alarm whose space is predicted full (see _prediction_evidence); the mapping
# "prediction" is not for summaries.
_PREDICTION_EVIDENCE = types.MappingProxyType({"predicted_full": "; predicted full on 2026-12-10 (in 9 days)"})
_PROCESS_EVIDENCE = {"process": "voip_stack", "application": "VoIP stack", "role": "voip_stack"}
_RESTART_LOOP_PARAMS = types.MappingProxyType({
    "restarts": ParamSpec("integer", 3, "fire at this many restarts within window_minutes", minimum=2),
    "window_minutes": ParamSpec("positive", 60, "the window the restarts are counted in, minutes (at most a day)",
                                maximum=1440),
})
_MEMORY_GROWING_PARAMS = types.MappingProxyType({
    "window_days": ParamSpec("positive", 7, "the history fitted, days (at most 28)", maximum=28),
    "min_hours": ParamSpec("positive", 24, "the shortest history since the last restart that is judged, hours"),
    "min_points": ParamSpec("integer", 12, "the fewest values since the last restart that are judged", minimum=3),
    "min_growth_percent_per_day": ParamSpec("positive", 5, "fire from this growth per day, percent of the usual memory"),
    "min_growth_mb_per_day": ParamSpec("number", 10, "... and from this growth per day, MB", minimum=0),
    "limit_mb": ParamSpec("number", 0, "a memory limit of the process, MB, to predict when it is reached (0: none)",
                          minimum=0),
})
_PEAK_PARAMS = types.MappingProxyType({
    "app": ParamSpec("choice", None, "the licensed application", choices=CAPACITY_APPS),
    "window_days": ParamSpec("positive", 28, "the daily peaks fitted, days (at most 28)", maximum=28),
    "min_days": ParamSpec("integer", 7, "the fewest days of peaks that are judged", minimum=3),
})
_UNUSUAL_PARAMS = types.MappingProxyType({
    "mad_factor": ParamSpec("positive", 6, "fire above the median plus this many scaled MADs of the history"),
    "cpu_points_above": ParamSpec("number", 20, "... and when CPU is at least this many percentage points above the median",
                                  minimum=0),
    "rss_factor": ParamSpec("number", 1.5, "... and when memory is at least this many times the median", minimum=1),
    "min_history_hours": ParamSpec("positive", 48, "the shortest history that is judged, hours"),
    "min_points": ParamSpec("integer", 30, "the fewest values of history that are judged", minimum=3),
})

CHECKS: Mapping[str, CheckSpec] = types.MappingProxyType({
    spec.name: spec for spec in (
        CheckSpec(
            name="process_down_or_restarted", section="processes", function=check_process_down_or_restarted,
            evidence={"process": "voip_stack", "application": "VoIP stack", "role": "voip_stack",
                      "state": "is not running", "running": False, "restarted": False, "count": 0},
            params={"role": ParamSpec("choice", None, "the process role to watch", choices=PROCESS_ROLES)},
        ),
        CheckSpec(
            name="process_restart_loop", section="processes", function=check_process_restart_loop,
            evidence=dict(_PROCESS_EVIDENCE, restarts=3, window_minutes=60, running=True,
                          restart_times="2026-11-26T05:20:03Z, 2026-11-26T05:35:01Z, 2026-11-26T05:40:02Z",
                          last_seen_restart="2026-11-26T05:40:00Z"),
            params=_RESTART_LOOP_PARAMS, history=True,
        ),
        CheckSpec(
            name="process_memory_growing", section="processes", function=check_process_memory_growing,
            evidence=dict(_PROCESS_EVIDENCE, rss_mb=812.5, slope_mb_per_day=60.25, growth_percent_per_day=8.4,
                          rising_share=0.97, since="2026-11-20T00:00:00Z", points=1650, span_hours=149.5,
                          limit_mb=None, limit_eta=None),
            params=_MEMORY_GROWING_PARAMS, history=True,
            optional_evidence={"reaches_limit": "; reaches its 2048 MB limit on 2026-12-16 (in 20 days)"},
        ),
        CheckSpec(
            name="process_unusual", section="processes", function=check_process_unusual,
            evidence=dict(_PROCESS_EVIDENCE, metric="CPU", value=85.5, unit="%", median=3.2, mad=1.1, limit=9.8,
                          basis="hour of week", points=2520),
            params=_UNUSUAL_PARAMS, history=True,
        ),
        CheckSpec(
            name="replication_unhealthy", section="replication", function=check_replication_unhealthy,
            evidence={"state": "failure", "reason": "peer unreachable", "peer": "ias-b", "clock_skew_seconds": 0.5,
                      "detail": "peer unreachable"},
            params={"max_clock_skew_seconds": ParamSpec("number", 15.0, "largest tolerated clock difference to the peer, s",
                                                        minimum=0)},
        ),
        CheckSpec(
            name="disk_used_percent", section="disks", function=check_disk_used_percent,
            evidence={"mount": "/srv", "used_percent": 90.5, "free_mb": 100.0, "total_mb": 1000.0, "threshold": 85.0},
            params=_PREDICTION_PARAMS, levels="above", level_unit="percent",
            history=True, optional_evidence=_PREDICTION_EVIDENCE, param_order=_PREDICTION_ORDER,
        ),
        CheckSpec(
            name="database_used_percent", section="database", function=check_database_used_percent,
            evidence={"engine": "mssql", "database": "ImagicleDB", "used_percent": 90.5, "size_mb": 9000.0,
                      "limit_mb": 10240.0, "limit_source": "express_edition", "threshold": 80.0},
            params=_PREDICTION_PARAMS, levels="above", level_unit="percent",
            history=True, optional_evidence=_PREDICTION_EVIDENCE, param_order=_PREDICTION_ORDER,
        ),
        CheckSpec(
            name="capacity_available", section="capacity", function=check_capacity_available,
            evidence={"app": "ivr", "in_use": 4, "licensed": 4, "available": 0, "used_percent": 100.0},
            params={"app": ParamSpec("choice", None, "the licensed application", choices=CAPACITY_APPS),
                    "available_at_most": ParamSpec("integer", 0, "fire when this many or fewer are free", minimum=0)},
        ),
        CheckSpec(
            name="capacity_peak_predicted", section="capacity", function=check_capacity_peak_predicted,
            evidence={"app": "ivr", "in_use": 21, "licensed": 30, "peak": 27, "days_left": 9.5,
                      "predicted_full_on": "2026-12-10", "predicted_full": "; predicted full on 2026-12-10 (in 9 days)"},
            params=_PEAK_PARAMS, levels="below", level_unit="days", history=True,
        ),
        CheckSpec(
            name="cloud_unreachable", section="cloud", function=check_cloud_unreachable,
            evidence={"url": "https://api.imagicle.com/test", "status_code": 502, "problem": "timed out"},
            params=_NO_PARAMS,
        ),
        CheckSpec(
            name="webserver_down", section="webserver", function=check_webserver_down,
            evidence={"url": "https://ias-a/", "status_code": 503, "problem": "HTTP 503"},
            params=_NO_PARAMS,
        ),
        CheckSpec(
            name="webserver_latency_above", section="webserver", function=check_webserver_latency_above,
            evidence={"url": "https://ias-a/", "latency_ms": 2500.0, "above_ms": 2000},
            params={"above_ms": ParamSpec("number", 2000, "fire when the answer took longer than this, ms", minimum=0)},
        ),
        CheckSpec(
            name="tls_days_left", section="webserver", function=check_tls_days_left,
            evidence={"days_left": 5.5, "not_after": "2026-12-01T00:00:00Z", "certificate": "ias-a", "threshold": 7.0},
            params=_NO_PARAMS, levels="below",
        ),
        CheckSpec(
            name="collector_error", section=ALL_SECTIONS_MARK, function=check_collector_error,
            evidence={"section": "disks", "item": "/srv", "where": "disks /srv", "error": "cannot measure /srv"},
            params=_NO_PARAMS,
        ),
        CheckSpec(
            name="not_configured", section=ALL_SECTIONS_MARK, function=check_not_configured,
            evidence={"sections": "processes, database", "settings": "imagicle_processes, imagicle_database.engine",
                      "detail": "processes: not configured: ... | database: not configured: ..."},
            params=_NO_PARAMS,
        ),
        CheckSpec(
            name="release_older_than", section="release", function=check_release_older_than,
            evidence={"release": "2019.Summer.1", "minimum": "2020.Winter"},
            params={"minimum": ParamSpec("release", "2020.Winter", "oldest supported release, YYYY.Season or YYYY.Season.N")},
        ),
        CheckSpec(
            name="host_not_reporting", section=ALL_SECTIONS_MARK, function=check_host_not_reporting,
            evidence={"reason": "unreachable"},
            params=_NO_PARAMS,
        ),
    )
})


# --- how much history the rules read ---------------------------------------------------------


def metric_kind(name: str) -> str:
    """The kind of a metric name (history.host_metrics) whose rules say how far back to read it:
    ``disk``, ``database``, ``process:<field>`` (e.g. ``process:rss_bytes``), ``capacity``,
    ``webserver``, ``cloud`` or ``replication``."""
    family = name.split(":", 1)[0]
    if family == "process":
        return "process:" + name.rsplit(":", 1)[-1]
    return family


def read_for_changes(name: str) -> bool:
    """Whether the rules read the history of metric ``name`` only for when its value changed: a
    disk's size (``capacity_changes`` of the space prediction), a pool's licensed count (of the
    peak prediction) and a process's start time (its restarts, ``behaviour.restarts_within``).

    Of such a metric the history holds the first value of the window, each value that differs
    from the one before it and the last value: a value equal to the one before it changes
    nothing for these readers, so they find the same changes as in every value.
    """
    return name.endswith(_CHANGE_FIELDS)


_CHANGE_FIELDS = (":total_bytes", ":licensed", ":start_time_epoch")


def history_windows(catalogue: Catalogue | None = None) -> dict[str, timedelta]:
    """How far back the enabled rules of ``catalogue`` read each kind of metric (see :func:`metric_kind`).

    None: every check that reads history, with its default parameters. A kind no rule reads is
    left out (recorded, not read back). No window is longer than ``HISTORY_WINDOW_LIMIT``.
    """
    if catalogue is None:
        checks = [(spec.name, {key: param.default for key, param in spec.params.items()})
                  for spec in CHECKS.values() if spec.history]
    else:
        checks = [(rule.check, rule.params) for rule in catalogue.rules if rule.enabled and CHECKS[rule.check].history]
    windows: dict[str, timedelta] = {}

    def need(kind: str, window: timedelta) -> None:
        windows[kind] = min(max(windows.get(kind, timedelta(0)), window), HISTORY_WINDOW_LIMIT)

    for check, params in checks:
        if check == "disk_used_percent":
            need("disk", PREDICTION_WINDOW)
        elif check == "database_used_percent":
            need("database", PREDICTION_WINDOW)
        elif check == "process_restart_loop":
            # A day more than the window: the run before the window tells whether its first run saw a restart.
            need("process:start_time_epoch", timedelta(minutes=params["window_minutes"]) + RESTART_LOOK_BEFORE)
        elif check == "capacity_peak_predicted":
            need("capacity", timedelta(days=params["window_days"]) + _DAY)  # and the day of now
        elif check == "process_memory_growing":
            # The fit starts at this run's start time of the process; restarts seen in the history
            # are only a fallback, so the start times are not read back over the whole window.
            need("process:rss_bytes", timedelta(days=params["window_days"]))
        elif check == "process_unusual":
            need("process:cpu_percent", behaviour.BASELINE_WINDOW)
            need("process:rss_bytes", behaviour.BASELINE_WINDOW)
    return windows


# --- validation -----------------------------------------------------------------------------


def _type_name(value) -> str:
    return "null" if value is None else type(value).__name__


def _check_priority(value, where: str) -> str:
    if value not in PRIORITIES:
        raise RulesError("%s: unknown priority %s; allowed: %s" % (where, json.dumps(value, default=str), ", ".join(PRIORITIES)))
    return value


def _check_text(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RulesError("%s: expected a non-empty string, got %s" % (where, _type_name(value)))
    return value


def _check_bool(value, where: str) -> bool:
    if not isinstance(value, bool):
        raise RulesError("%s: expected true or false, got %s %s" % (where, _type_name(value), json.dumps(value, default=str)))
    return value


def _check_number(value, where: str, spec: CheckSpec | None = None) -> float:
    if number(value) is None:
        raise RulesError("%s: expected a number, got %s %s" % (where, _type_name(value), json.dumps(value, default=str)))
    if spec is not None and spec.level_unit == "percent" and not 0 <= value <= 100:
        raise RulesError("%s: %s is not a percentage; allowed: 0 to 100" % (where, value))
    if spec is not None and spec.level_unit == "days" and not 0 < value <= MAX_LEVEL_DAYS:
        raise RulesError("%s: %s is not a number of days; allowed: above 0 to %d" % (where, value, MAX_LEVEL_DAYS))
    return value


def _check_param(value, param: ParamSpec, where: str):
    if param.kind == "choice":
        if value not in param.choices:
            raise RulesError("%s: unknown value %s; allowed: %s" % (where, json.dumps(value, default=str), ", ".join(param.choices)))
        return value
    if param.kind == "release":
        try:
            if not isinstance(value, str):
                raise TypeError(value)
            minimum_release_key(value)
        except (ValueError, TypeError):
            raise RulesError("%s: expected a release like 2020.Winter or 2020.Winter.1 (Winter, Spring or Summer, as text), got %s %s"
                             % (where, _type_name(value), json.dumps(value, default=str)))
        return value.strip()
    if param.kind == "bool":
        return _check_bool(value, where)
    if param.kind == "positive":
        if number(value) is None or value <= 0:
            raise RulesError("%s: must be a positive number (%s), got %s %s"
                             % (where, param.doc, _type_name(value), json.dumps(value, default=str)))
        _check_maximum(value, param, where)
        return value
    if param.kind == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        raise RulesError("%s: expected a whole number, got %s %s" % (where, _type_name(value), json.dumps(value, default=str)))
    if number(value) is None:
        raise RulesError("%s: expected a number, got %s %s" % (where, _type_name(value), json.dumps(value, default=str)))
    if param.minimum is not None and value < param.minimum:
        raise RulesError("%s: %s is below the minimum %s" % (where, value, param.minimum))
    _check_maximum(value, param, where)
    return value


def _check_maximum(value, param: ParamSpec, where: str) -> None:
    if param.maximum is not None and value > param.maximum:
        raise RulesError("%s: %s is above the maximum %s (%s)" % (where, value, param.maximum, param.doc))


def _check_level_order(fields: dict, spec: CheckSpec, where: str, separator: str) -> None:
    warn, crit = fields["warn"], fields["crit"]
    if spec.levels == "above" and warn > crit:
        raise RulesError(
            "%s%swarn: warn (%s) is above crit (%s); for this rule the value rises, so warn must be at most crit"
            % (where, separator, warn, crit))
    if spec.levels == "below" and warn < crit:
        raise RulesError(
            "%s%swarn: warn (%s) is below crit (%s); for this rule the value falls (a 'below' rule), so warn must be at least crit"
            % (where, separator, warn, crit))


def _check_clear_order(fields: dict, spec: CheckSpec, where: str) -> None:
    clear, warn = fields.get("clear"), fields["warn"]
    if clear is None:
        return
    if spec.levels == "above" and clear > warn:
        raise RulesError(
            "%s.clear: clear (%s) is above warn (%s); for this rule the value rises, so its case is resolved once the value "
            "falls below clear, which must be at most warn" % (where, clear, warn))
    if spec.levels == "below" and clear < warn:
        raise RulesError(
            "%s.clear: clear (%s) is below warn (%s); for this rule the value falls (a 'below' rule), so its case is resolved "
            "once the value is back at or above clear, which must be at least warn" % (where, clear, warn))


def _check_sustain(key: str, value, where: str):
    if key == "for_runs":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise RulesError("%s: expected a whole number of runs, at least 1 (a case opens once the condition held on this "
                             "many runs in a row), got %s %s" % (where, _type_name(value), json.dumps(value, default=str)))
        return value
    if number(value) is None or value < 0:
        raise RulesError("%s: expected a number of minutes, 0 or more (a case opens once the condition held this long), "
                         "got %s %s" % (where, _type_name(value), json.dumps(value, default=str)))
    return value


def _check_summary(summary, spec: CheckSpec, where: str) -> str:
    _check_text(summary, where)
    sample = dict(spec.evidence, **spec.optional_evidence)
    allowed = sorted(sample)
    try:
        parsed = list(string.Formatter().parse(summary))
    except ValueError as exc:
        raise RulesError("%s: not a valid format string (%s); write fields as {name} and literal braces as {{ }}" % (where, exc))
    for dummy, field, format_spec, conversion in parsed:
        if field is None:
            continue
        if field not in sample:
            raise RulesError("%s: field {%s} is not evidence of check %s; allowed fields: %s"
                             % (where, field, spec.name, ", ".join(allowed)))
        if conversion not in (None, "s", "r") or (format_spec and "{" in format_spec):
            raise RulesError("%s: field {%s} uses a conversion or a nested field; allowed: {name} or {name:format}" % (where, field))
    try:
        summary.format_map(sample)
    except (ValueError, TypeError) as exc:
        raise RulesError("%s: %s (sample evidence: %s)" % (where, exc, json.dumps(sample)))
    return summary


def _check_i18n(value, spec: CheckSpec, where: str, base: Mapping[str, Mapping[str, str]]) -> Mapping[str, Mapping[str, str]]:
    """Validate ``value`` as a rule's translations (``{language: {title, summary, warn_title, crit_title}}``) over
    ``base`` (the rule's translations so far: an override adds languages and replaces the texts it gives)."""
    if not isinstance(value, dict):
        raise RulesError("%s: expected a mapping of language to texts, e.g. {it: {title: ..., summary: ...}}, got %s"
                         % (where, _type_name(value)))
    merged = {language: dict(texts) for language, texts in base.items()}
    keys = TRANSLATION_KEYS if spec.levels is not None else ("title", "summary")
    for language, texts in value.items():
        path = "%s.%s" % (where, language)
        if language not in TRANSLATED_LANGUAGES:
            raise RulesError("%s: unknown language; allowed: %s (English is the rule's own title and summary)"
                             % (path, ", ".join(TRANSLATED_LANGUAGES)))
        if not isinstance(texts, dict):
            raise RulesError("%s: expected a mapping of texts (%s), got %s" % (path, ", ".join(keys), _type_name(texts)))
        found = merged.setdefault(language, {})
        for key, text in texts.items():
            if key not in keys:
                raise RulesError("%s.%s: unknown key%s; allowed: %s" % (
                    path, key, " (check %s has a single priority)" % spec.name if key in TRANSLATION_KEYS else "", ", ".join(keys)))
            found[key] = _check_summary(text, spec, "%s.%s" % (path, key)) if key == "summary" else _check_text(text, "%s.%s" % (path, key))
        for key in ("title", "summary"):
            if key not in found:
                raise RulesError("%s.%s: missing; a translation needs a title and a summary" % (path, key))
    return types.MappingProxyType({language: types.MappingProxyType(texts) for language, texts in sorted(merged.items())})


def _check_params(values, spec: CheckSpec, where: str, base: Mapping[str, Any]) -> dict:
    """Validate ``values`` as the check's parameters over ``base``; every parameter must end up set."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise RulesError("%s: expected a mapping of parameters, got %s" % (where, _type_name(values)))
    merged = dict(base)
    for key, value in values.items():
        if key not in spec.params:
            raise RulesError("%s.%s: unknown parameter of check %s; allowed: %s"
                             % (where, key, spec.name, ", ".join(sorted(spec.params)) or "none"))
        merged[key] = _check_param(value, spec.params[key], "%s.%s" % (where, key))
    for key, param in spec.params.items():
        if key not in merged:
            if param.default is None:
                raise RulesError("%s.%s: missing; check %s needs it (%s; allowed: %s)"
                                 % (where, key, spec.name, param.doc, ", ".join(param.choices) or param.kind))
            merged[key] = param.default
    for smaller, larger in spec.param_order:
        if merged[smaller] > merged[larger]:
            raise RulesError("%s.%s: %s (%s) is above %s (%s); %s must be at most %s"
                             % (where, smaller, smaller, merged[smaller], larger, merged[larger], smaller, larger))
    return merged


def _rule_from_mapping(entry, where: str, seen: set) -> Rule:
    if not isinstance(entry, dict):
        raise RulesError("%s: expected a mapping (a rule), got %s" % (where, _type_name(entry)))
    rule_id = entry.get("id")
    if not isinstance(rule_id, str) or not RULE_ID.fullmatch(rule_id):
        raise RulesError("%s.id: expected a rule id of lowercase letters, digits and _ (e.g. disk_space), got %s"
                         % (where, json.dumps(rule_id, default=str)))
    where = "%s (%s)" % (where, rule_id)
    if rule_id in seen:
        raise RulesError("%s.id: duplicate rule id %s; every rule id must be unique" % (where, rule_id))
    for key in entry:
        if key not in RULE_KEYS:
            raise RulesError("%s.%s: unknown key; allowed: %s" % (where, key, ", ".join(RULE_KEYS)))
    for key in ("family", "section", "check", "title", "summary"):
        if key not in entry:
            raise RulesError("%s.%s: missing; every rule needs id, family, section, check, title and summary" % (where, key))
    if entry["family"] not in FAMILIES:
        raise RulesError("%s.family: unknown family %s; allowed: %s"
                         % (where, json.dumps(entry["family"], default=str), ", ".join(FAMILIES)))
    spec = CHECKS.get(entry["check"]) if isinstance(entry["check"], str) else None
    if spec is None:
        raise RulesError("%s.check: unknown check %s; allowed: %s"
                         % (where, json.dumps(entry["check"], default=str), ", ".join(sorted(CHECKS))))
    if entry["section"] != spec.section:
        raise RulesError("%s.section: check %s reads section %s, not %s"
                         % (where, spec.name, json.dumps(spec.section), json.dumps(entry["section"], default=str)))
    fields: dict[str, Any] = {
        "id": rule_id,
        "family": entry["family"],
        "section": entry["section"],
        "check": spec.name,
        "title": _check_text(entry["title"], where + ".title"),
        "summary": _check_summary(entry["summary"], spec, where + ".summary"),
        "enabled": _check_bool(entry.get("enabled", True), where + ".enabled"),
    }
    if spec.levels is None:
        for key in LEVEL_KEYS + ("warn_title", "crit_title", "clear"):
            if key in entry:
                raise RulesError("%s.%s: check %s has a single priority; use priority (allowed: %s)"
                                 % (where, key, spec.name, ", ".join(PRIORITIES)))
        if "priority" not in entry:
            raise RulesError("%s.priority: missing; allowed: %s" % (where, ", ".join(PRIORITIES)))
        fields["priority"] = _check_priority(entry["priority"], where + ".priority")
    else:
        if "priority" in entry:
            raise RulesError("%s.priority: check %s has two levels; use warn_priority and crit_priority" % (where, spec.name))
        for key in LEVEL_KEYS:
            if key not in entry:
                raise RulesError("%s.%s: missing; a two-level rule needs %s" % (where, key, ", ".join(LEVEL_KEYS)))
        fields["warn"] = _check_number(entry["warn"], where + ".warn", spec)
        fields["crit"] = _check_number(entry["crit"], where + ".crit", spec)
        fields["warn_priority"] = _check_priority(entry["warn_priority"], where + ".warn_priority")
        fields["crit_priority"] = _check_priority(entry["crit_priority"], where + ".crit_priority")
        for key in ("warn_title", "crit_title"):
            if key in entry:
                fields[key] = _check_text(entry[key], "%s.%s" % (where, key))
        _check_level_order(fields, spec, where, ".")
        if "clear" in entry:
            fields["clear"] = _check_number(entry["clear"], where + ".clear", spec)
            _check_clear_order(fields, spec, where)
    for key in SUSTAIN_KEYS:
        if key in entry:
            fields[key] = _check_sustain(key, entry[key], "%s.%s" % (where, key))
    fields["params"] = types.MappingProxyType(_check_params(entry.get("params"), spec, where + ".params", {}))
    if "i18n" in entry:
        fields["i18n"] = _check_i18n(entry["i18n"], spec, where + ".i18n", {})
    seen.add(rule_id)
    return Rule(**fields)


def catalogue_from_data(data, source: str) -> Catalogue:
    """Validate already-parsed catalogue data (``{"version": 1, "rules": [...]}``)."""
    if not isinstance(data, dict):
        raise RulesError("%s: expected a mapping with a 'rules' list at the top, got %s" % (source, _type_name(data)))
    for key in data:
        if key not in ("version", "rules"):
            raise RulesError("%s: %s: unknown top-level key; allowed: version, rules" % (source, key))
    if data.get("version", 1) != 1:
        raise RulesError("%s: version: unsupported catalogue version %s; allowed: 1" % (source, json.dumps(data.get("version"), default=str)))
    entries = data.get("rules")
    if not isinstance(entries, list) or not entries:
        raise RulesError("%s: rules: expected a non-empty list of rules, got %s" % (source, _type_name(entries)))
    seen: set[str] = set()
    rules = tuple(_rule_from_mapping(entry, "%s: rules[%d]" % (source, index), seen) for index, entry in enumerate(entries))
    return Catalogue(rules=rules, sources=(source,))


def load_catalogue(path: str | None = None) -> Catalogue:
    """Read and validate a catalogue file; ``None`` reads ``default_rules.yml`` beside this module."""
    path = DEFAULT_CATALOGUE_PATH if path is None else path
    try:
        with open(path, "r", encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError("%s: cannot read the rules catalogue (%s); give the path of a readable YAML file" % (path, exc))
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)  # nosec B506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = " at line %d, column %d" % (mark.line + 1, mark.column + 1) if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RulesError("%s: malformed YAML%s: %s" % (path, place, problem))
    return catalogue_from_data(data, path)


def _override_rule(rule: Rule, values, where: str) -> Rule:
    spec = CHECKS[rule.check]
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise RulesError("%s: expected a mapping of settings, got %s" % (where, _type_name(values)))
    own_keys = ("enabled",) + (("priority",) if spec.levels is None else LEVEL_KEYS + ("clear",)) + SUSTAIN_KEYS + ("i18n",)
    allowed = own_keys + tuple(sorted(spec.params))
    changes: dict[str, Any] = {}
    params: dict[str, Any] = {}
    for key, value in values.items():
        path = "%s.%s" % (where, key)
        if key not in allowed:
            raise RulesError("%s: unknown key for rule %s; allowed: %s" % (path, rule.id, ", ".join(allowed)))
        if key == "enabled":
            changes[key] = _check_bool(value, path)
        elif key.endswith("priority"):
            changes[key] = _check_priority(value, path)
        elif key in ("warn", "crit", "clear"):
            changes[key] = _check_number(value, path, spec)
        elif key in SUSTAIN_KEYS:
            changes[key] = _check_sustain(key, value, path)
        elif key == "i18n":
            changes[key] = _check_i18n(value, spec, path, rule.i18n)
        else:
            params[key] = value
    if params:
        changes["params"] = types.MappingProxyType(_check_params(params, spec, where, rule.params))
    if spec.levels is not None and ("warn" in changes or "crit" in changes):
        _check_level_order({"warn": changes.get("warn", rule.warn), "crit": changes.get("crit", rule.crit)}, spec, where, ".")
    if "warn" in changes and "clear" not in changes and rule.clear is not None:
        # A new warn without a clear of its own: the band between them keeps its width.
        moved = changes["warn"] - (rule.warn - rule.clear)
        changes["clear"] = min(100, max(0, moved)) if spec.level_unit == "percent" else moved
    if "clear" in changes:
        _check_clear_order({"warn": changes.get("warn", rule.warn), "clear": changes["clear"]}, spec, where)
    return dataclasses.replace(rule, **changes) if changes else rule


def apply_overrides(catalogue: Catalogue, overrides, source: str) -> Catalogue:
    """A new catalogue with ``overrides`` (``{rule_id: {key: value}}``) applied; ``source`` names the variable.

    Allowed keys per rule: ``enabled``; ``priority`` (single-level rules) or ``warn``, ``crit``,
    ``warn_priority``, ``crit_priority``, ``clear`` (two-level rules); ``for_runs``, ``for_minutes``;
    ``i18n`` (translations: adds languages, replaces the texts it gives); and the parameters of the rule's check.
    """
    if overrides is None or overrides == {}:
        return catalogue
    if not isinstance(overrides, dict):
        raise RulesError("%s: expected a mapping of rule id to settings, e.g. {disk_space: {warn: 80}}, got %s"
                         % (source, _type_name(overrides)))
    replaced = {}
    known = catalogue.ids()
    for rule_id, values in overrides.items():
        rule = catalogue.rule(rule_id) if isinstance(rule_id, str) else None
        if rule is None:
            raise RulesError("%s.%s: unknown rule id; allowed: %s" % (source, rule_id, ", ".join(known)))
        replaced[rule_id] = _override_rule(rule, values, "%s.%s" % (source, rule_id))
    rules = tuple(replaced.get(rule.id, rule) for rule in catalogue.rules)
    return Catalogue(rules=rules, sources=catalogue.sources + (source,))


# --- evaluation -----------------------------------------------------------------------------


def not_reporting_reason(health) -> str | None:
    """Why ``health`` cannot be evaluated (None when it can)."""
    if health is None:
        return "no health facts were returned (host unreachable or the module failed)"
    if not isinstance(health, dict):
        return "the health facts are %s, not a mapping" % type(health).__name__
    version = health.get("schema_version")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        return "the health facts have schema_version %s; this evaluator reads %d" % (clean_text(json.dumps(version, default=str)), SCHEMA_VERSION)
    return None


def not_reporting_alarm(catalogue: Catalogue, *, host: str, customer: str, reason: str, detected_at: datetime) -> Alarm | None:
    """The single ``host_not_reporting`` alarm of a host with no usable facts (None if that rule is disabled)."""
    rule = catalogue.rule(NOT_REPORTING_RULE)
    stamp = _utc_text(detected_at)
    if rule is None or not rule.enabled:
        return None
    evidence = {"reason": clean_text(reason, LONG_TEXT_LIMIT) or "no reason given"}
    return _make_alarm(rule, None, "", evidence, host, customer, stamp)


def _shape_failure(catalogue: Catalogue, rule: Rule, exc: Exception) -> tuple[Rule, tuple] | None:
    """A collector_failing finding for facts whose shape a check could not read."""
    failing = catalogue.rule(COLLECTOR_FAILING_RULE)
    if failing is None or not failing.enabled:
        return None
    error = "facts of this section have an unexpected shape (rule %s: %s)" % (rule.id, type(exc).__name__)
    return failing, _failure(rule.section, "", error)


@dataclasses.dataclass(frozen=True)
class NoData:
    """A rule that could not be measured on the host: ``subject`` None means every subject of the
    rule, ``rule`` None every rule (the host gave no usable facts)."""

    rule: str | None
    subject: str | None
    reason: str
    # A quiet hold: the value was measured, between the rule's clear and warn thresholds; an open
    # case stays open without a "no measurement" note, and no case opens.
    quiet: bool = False

    def to_dict(self) -> dict:
        found = {"rule": self.rule, "subject": self.subject, "reason": self.reason}
        return (found | {"quiet": True}) if self.quiet else found


def _rule_gaps(rule: Rule, gaps: dict) -> list[NoData]:
    """The subjects of ``rule`` that this run's facts do not measure."""
    found = []
    for item, reason, dummy in gaps.get(rule.section, ()):
        if item is None:
            return [NoData(rule.id, None, "%s: %s" % (rule.section, reason))]
        if rule.check == "capacity_available" and item != rule.params.get("app"):
            continue
        found.append(NoData(rule.id, item, "%s %s: %s" % (rule.section, item, reason)))
    return found


def evaluate(health, *, host: str, customer: str, catalogue: Catalogue, detected_at: datetime,
             history=None) -> list[Alarm]:
    """The alarms of one host's facts: one per firing condition, in catalogue order.

    Facts that are None, not a mapping or of another schema_version give only the
    ``host_not_reporting`` alarm.
    """
    return evaluate_facts(health, host=host, customer=customer, catalogue=catalogue, detected_at=detected_at,
                          history=history)[0]


def evaluate_facts(health, *, host: str, customer: str, catalogue: Catalogue,
                   detected_at: datetime, history=None) -> tuple[list[Alarm], list[NoData]]:
    """The alarms of one host's facts and what its rules could not measure (:class:`NoData`).

    No data is not good news: a rule listed in the second list neither fires nor says that its
    condition cleared, so the case manager keeps its case as it is.

    ``history`` is the host's metric history (a ``plugin_utils.history.History``), read as of
    ``detected_at``; the checks that predict from it (disk and database space) use it. Without
    it, or with too little of it, every rule reads this run's facts only.
    """
    stamp = _utc_text(detected_at)
    reason = not_reporting_reason(health)
    if reason is not None:
        alarm = not_reporting_alarm(catalogue, host=host, customer=customer, reason=reason, detected_at=detected_at)
        unmeasured = [NoData(rule.id, None, reason) for rule in catalogue.rules if rule.enabled and rule.id != NOT_REPORTING_RULE]
        return ([alarm] if alarm is not None else []), unmeasured
    alarms: list[Alarm] = []
    no_data: list[NoData] = []
    seen: set[str] = set()
    gaps = section_gaps(health)
    for rule in catalogue.rules:
        if not rule.enabled or rule.id == NOT_REPORTING_RULE:
            continue
        spec = CHECKS[rule.check]
        if spec.section == ALL_SECTIONS_MARK:
            section = health
        else:
            no_data.extend(_rule_gaps(rule, gaps))
            section = health.get(rule.section)
            if not isinstance(section, dict):
                continue
        try:
            if spec.history:
                found = spec.function(section, rule, history=history, now=detected_at)
            else:
                found = spec.function(section, rule)
            findings = [(rule, finding) for finding in found]
        except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
            fallback = _shape_failure(catalogue, rule, exc)
            findings = [fallback] if fallback is not None else []
            no_data.append(NoData(rule.id, None, "%s: facts of an unexpected shape (%s)" % (rule.section, type(exc).__name__)))
        for fired, (subject, level, evidence) in findings:
            if level == HOLD:
                reason = evidence.get("hold") or ("%s is %s, between clear (%s) and warn (%s): an open case stays open"
                                                  % (fired.section, evidence.get("value"), fired.clear, fired.warn))
                no_data.append(NoData(fired.id, subject, reason, quiet=True))
                continue
            alarm = _make_alarm(fired, level, subject, evidence, host, customer, stamp)
            if alarm.fingerprint not in seen:
                seen.add(alarm.fingerprint)
                alarms.append(alarm)
    return alarms, no_data
