# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One case per root cause: the alarms a cause explains are folded into the case of the cause.

Five causes, decided by :func:`group` (a plain function of the run's alarms, gaps, hosts and
the open cases; :func:`fold` reads what it needs from the state store and calls it):

1. **A host that did not report** (its ``host_not_reporting`` alarm fires in this run): its other
   open cases are held quietly (a quiet :class:`cases.Gap`: no "no measurement" note) and the
   case of ``host_not_reporting`` names them. When the host reports again they are evaluated as
   usual: resolved if clear, kept if still firing.
2. **A customer whose hosts all lost the cloud**: when at least ``MIN_CUSTOMER_HOSTS`` reporting
   hosts of one customer have a ``cloud_unreachable`` alarm (not silenced) of the same rule, and
   every reporting host of that customer that measured the cloud in this run has it, one
   customer-level alarm stands for them (host ``<customer> (all hosts)``, the same rule, subject
   empty; priority the highest of theirs, deadline the earliest, paging if any of them pages).
   The per-host alarms open no case; their cases already open are held quietly. When not every
   host has it any more, the customer-level case is resolved and the hosts that still fail get
   their own cases.
3. **An HA peer that is down**: a ``replication_unhealthy`` alarm whose peer (its evidence
   ``peer``, matched against the run's host names case-insensitively, then by the short name
   before the first dot) has ``host_not_reporting`` in this run opens no case on the survivor;
   the peer's case names it.
4. **A process in a restart loop**: while a ``process_restart_loop`` alarm fires on a host (or
   its open case is held quietly because the process still restarted within the window), the
   crash alarms of the same process on that host (``process_down_or_restarted``, matched by the
   subject: the process id) open no case; their cases already open are held quietly, whether
   they fire in this run or not. When the loop case is resolved, they are evaluated as usual.
   A loop with no case of its own takes over the open case of the same process (the crash case
   its first restarts opened, a loop needing several): the loop's alarm is filed on that case,
   whose rule becomes the loop's (the case manager notes the change once), so the process has
   one case, not a crash case and a loop case.
5. **A capacity pool exhausted** (``capacity_available``, e.g. ``ivr_licences_exhausted``): the
   same as 4 for the prediction of its exhaustion (``capacity_peak_predicted``, e.g.
   ``ivr_licences_running_out``, matched by the subject: the application). The exhausted alarm
   takes over the open "running out" case of the pool; while the exhausted case is open the
   prediction opens no case of its own.

Each folded alarm is named ("covers: ...") in the body of the case that covers it, and counted
in the run's ``suppressed``. When the set a cause covers changes, :func:`tell` adds one comment
to its case (the set last told is kept in the outbox payloads of the case: its open, then its
comments).

Only a cause whose alarm fires in this run folds anything: with ``host_not_reporting`` disabled,
or a host not eligible, the alarms are filed as before.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime

from ansible_collections.imagicle.proactive.plugins.plugin_utils import silences
from ansible_collections.imagicle.proactive.plugins.plugin_utils.cases import (
    FLOOD_RULE, PRIORITY_ORDER, Gap, _enqueue, _stamp, _text, case_key)
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import clean_text, fingerprint, load_catalogue

NOT_REPORTING_CHECK = "host_not_reporting"
CLOUD_CHECK = "cloud_unreachable"
REPLICATION_CHECK = "replication_unhealthy"
LOOP_CHECK = "process_restart_loop"
CRASH_CHECK = "process_down_or_restarted"
EXHAUSTED_CHECK = "capacity_available"
PEAK_CHECK = "capacity_peak_predicted"
# Causes 4 and 5 of group(): (the check of the cause, the check of the alarms it covers on the same host and
# subject, what a covered case is held by).
SUCCESSORS = ((LOOP_CHECK, CRASH_CHECK, "the restart loop of %s"), (EXHAUSTED_CHECK, PEAK_CHECK, "the exhaustion of %s"))
# The checks of the causes that join hosts (2 and 3 above): a host with such an alarm, or that did not
# report, is planned with the whole run in view (cases.RunInput.stands_alone).
JOINING_CHECKS = frozenset((NOT_REPORTING_CHECK, CLOUD_CHECK, REPLICATION_CHECK))
MIN_CUSTOMER_HOSTS = 2
CUSTOMER_HOST_SUFFIX = " (all hosts)"
HOSTS_IN_SUMMARY = 10
NO_CASE = "no case"
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def check_of(alarm: dict) -> str | None:
    """The check that fired the alarm (``check`` of the evaluation, else the default catalogue's)."""
    return alarm.get("check") or default_checks().get(alarm.get("rule"))


@functools.lru_cache(maxsize=1)
def default_checks() -> dict:
    """The check of each rule of the default catalogue, for alarms (and open cases) that do not say theirs."""
    return {rule.id: rule.check for rule in load_catalogue().rules}


def customer_host(customer: str) -> str:
    """The host name of a customer-level case: ``acme (all hosts)``."""
    return "%s%s" % (customer, CUSTOMER_HOST_SUFFIX)


class HostNames:
    """The run's host names, to find the one a peer designates (see :func:`match_host`)."""

    def __init__(self, hosts):
        self.exact: dict = {}
        self.short: dict = {}
        for host in sorted(set(hosts)):
            name = host.lower().rstrip(".")
            self.exact.setdefault(name, []).append(host)
            if not _IPV4.match(name):
                self.short.setdefault(name.split(".", maxsplit=1)[0], []).append(host)

    def find(self, name) -> str | None:
        wanted = str(name or "").strip().lower().rstrip(".")
        if not wanted:
            return None
        exact = self.exact.get(wanted, [])
        if len(exact) == 1:
            return exact[0]
        if exact or _IPV4.match(wanted):
            return None
        found = self.short.get(wanted.split(".", maxsplit=1)[0], [])
        return found[0] if len(found) == 1 else None


def match_host(name, hosts) -> str | None:
    """The host of ``hosts`` that ``name`` (a peer as the host reports it) designates, or None.

    Case-insensitive; a full name first, then the short name before the first dot when exactly
    one host has it (``IAS-B.acme.local`` is ``ias-b``). An IPv4 address matches only in full.
    """
    return HostNames(hosts).find(name)


@dataclass
class Folded:
    """The run as the case manager files it once the causes folded what they explain."""

    alarms: list
    gaps: list
    checked_hosts: set
    evaluated_hosts: set
    contacts: dict
    suppressed: int = 0
    # fingerprint of a cause's alarm -> the entries it covers ({fingerprint, text}), for tell()
    covers: dict = field(default_factory=dict)


def _entry(fp: str, host: str, rule, subject, record, cause_host: str) -> dict:
    """One covered alarm as the case of its cause names it: ``[host ]rule[ subject] (case REF)``."""
    if record is not None and record.status == "open":
        case = "case %s" % clean_text(record.case_ref, 80) if record.case_ref else "case not filed yet"
    else:
        case = NO_CASE
    parts = [] if host == cause_host else [_text(host, 80)]
    parts.append(clean_text(rule, 80))
    if subject:
        parts.append(_text(subject, 120))
    return {"fingerprint": fp, "host": host, "text": "%s (%s)" % (" ".join(parts), case)}


def _order(alarm: dict) -> tuple:
    return (PRIORITY_ORDER.get(alarm.get("priority"), 9), str(alarm.get("host")), str(alarm.get("rule")),
            str(alarm.get("subject")))


def _unmeasured(gaps_by_host: dict, host: str, rule: str) -> bool:
    """Whether ``rule`` (subject "") could not be measured on ``host`` in this run (``gaps_by_host``: host -> its gaps)."""
    return any((g.rule is None or g.rule == rule) and (g.subject is None or g.subject == "")
               for g in gaps_by_host.get(host, ()) if not g.quiet)


_CUSTOMER_SUMMARY = {
    "en": {"summary": "None of the %d hosts of %s that checked the cloud can reach it (%s): %s", "more": " and %d more",
           "no_reason": "no reason given"},
    "it": {"summary": "Nessuno dei %d server di %s che hanno verificato il cloud riesce a raggiungerlo (%s): %s",
           "more": " e altri %d", "no_reason": "motivo non indicato"},
}


def _customer_alarm(customer: str, rule: str, covered: list, entries: list) -> dict:
    """The customer-level alarm standing for the ``cloud_unreachable`` alarms of every host of a customer."""
    host = customer_host(customer)
    first = min(covered, key=lambda a: (str(a.get("due") or "~"), _order(a)))
    hosts = sorted(a["host"] for a in covered)
    evidence = dict(first.get("evidence") or {}) if isinstance(first.get("evidence"), dict) else {}
    more = len(hosts) - HOSTS_IN_SUMMARY

    def summary(language: str) -> str:
        words = _CUSTOMER_SUMMARY.get(language, _CUSTOMER_SUMMARY["en"])
        listed = ", ".join(hosts[:HOSTS_IN_SUMMARY]) + (words["more"] % more if more > 0 else "")
        return words["summary"] % (len(hosts), customer, listed, evidence.get("problem") or words["no_reason"])

    alarm = {key: first.get(key) for key in ("title", "family", "level", "check", "plan", "response_target_minutes",
                                             "response_calendar", "response_timezone", "due")}
    texts = first.get("texts") if isinstance(first.get("texts"), dict) else {}
    alarm.update({
        "rule": rule, "customer": customer, "host": host, "subject": "",
        "priority": min((a["priority"] for a in covered), key=lambda p: PRIORITY_ORDER.get(p, 9)),
        "fingerprint": fingerprint(customer, host, rule, ""),
        "summary": summary("en"),
        # The first host's translated title, with this summary in that language.
        "texts": {language: {"title": own.get("title"), "summary": summary(language)}
                  for language, own in texts.items() if isinstance(own, dict) and own.get("title")},
        "evidence": {"hosts": len(hosts), "url": evidence.get("url"), "problem": evidence.get("problem"),
                     "status_code": evidence.get("status_code")},
        "detected_at": min(str(a.get("detected_at") or "") for a in covered) or None,
        "page": any(bool(a.get("page")) for a in covered),
        "eligible": True,
        "covers": entries,
    })
    return alarm


def _merged_contacts(contacts: dict, hosts: list) -> dict | None:
    """The contacts of the hosts a customer-level case stands for: every address once, the first host's language."""
    emails, language = [], None
    for host in hosts:
        contact = contacts.get(host) if isinstance(contacts.get(host), dict) else {}
        emails += [address for address in contact.get("emails") or [] if address not in emails]
        language = language or contact.get("language")
    return {"emails": emails, "language": language or "en"} if emails else None


def _rules_of(check: str, alarms: list) -> set:
    """The rules of ``check``: those of the default catalogue and those the run's alarms name."""
    return {rule for rule, known in default_checks().items() if known == check} | {
        a.get("rule") for a in alarms if check_of(a) == check and a.get("rule")}


def _fold_successor(successor: tuple, folded: Folded, eligible: list, gaps: list, open_cases: list, checked: set,
                    dropped: set, quiet: list, replaced: dict, silenced, told: dict) -> list:
    """Causes 4 and 5 of :func:`group` (``successor``: one of ``SUCCESSORS``), told as 4: the crash alarms and cases
    of a process whose restart loop fires (or whose open loop case is held quietly in this run) are folded into the
    loop's case; the run's gaps, less the no-data gaps the quiet holds replace.

    A crash alarm without a case that the loop's case named stays named while the case is open, also at a run
    that saw no restart: the case is not told of it coming and going with each restart."""
    cause_check, covered_check, held_by = successor
    loop_rules, crash_rules = _rules_of(cause_check, eligible), _rules_of(covered_check, eligible)
    causes: dict = {}  # (host, process) -> (fingerprint of the loop, its alarm or None when its case is held)
    for alarm in sorted(eligible, key=_order):
        if check_of(alarm) == cause_check and alarm["host"] in checked and id(alarm) not in dropped:
            causes.setdefault((alarm["host"], alarm.get("subject") or ""), (alarm["fingerprint"], alarm))
    for record in open_cases:
        key = (record.host, record.subject or "")
        if record.rule in loop_rules and record.host in checked and key not in causes \
                and any(g.quiet and g.covers(record) for g in gaps):
            causes[key] = (record.fingerprint, None)
    if not causes:
        return gaps
    open_by_fp = {record.fingerprint: record for record in open_cases}
    # A loop without a case of its own takes over the open case of the same process: one filed by an
    # earlier loop, else the crash case of its first restarts (one P1 case for the process, not two).
    for key, (fp, alarm) in list(causes.items()):
        if alarm is None or fp in open_by_fp:
            continue
        mine = [r for r in open_cases if (r.host, r.subject or "") == key and r.fingerprint != fp
                and (r.rule in loop_rules or r.rule in crash_rules)]
        if mine:
            taken = min(mine, key=lambda r: (r.rule not in loop_rules, PRIORITY_ORDER.get(r.priority, 9), str(r.rule),
                                             str(r.fingerprint)))
            causes[key] = (taken.fingerprint, alarm)
    entries_of: dict = {key: [] for key in causes}
    held: set = {fp for fp, dummy in causes.values()}  # a case taken over covers no alarm of its own fingerprint
    for alarm in sorted(eligible, key=_order):
        key = (alarm["host"], alarm.get("subject") or "")
        if check_of(alarm) != covered_check or key not in causes or id(alarm) in dropped:
            continue
        dropped.add(id(alarm))
        if alarm["fingerprint"] in held:
            continue
        held.add(alarm["fingerprint"])
        entries_of[key].append(_entry(alarm["fingerprint"], alarm["host"], alarm["rule"], key[1],
                                      open_by_fp.get(alarm["fingerprint"]), alarm["host"]))
    for record in sorted(open_cases, key=lambda r: (str(r.rule), str(r.fingerprint))):
        key = (record.host, record.subject or "")
        if record.rule in crash_rules and key in causes and record.fingerprint not in held:
            held.add(record.fingerprint)
            entries_of[key].append(_entry(record.fingerprint, record.host, record.rule, key[1], record, record.host))
    for key, (fp, dummy) in causes.items():
        named = {entry["fingerprint"] for entry in entries_of[key]}
        said = told.get(fp) if isinstance(told.get(fp), dict) else {}
        entries_of[key] += [{"fingerprint": cfp, "host": key[0], "text": text} for cfp, text in sorted(said.items())
                            if cfp not in named and cfp not in open_by_fp and cfp != fp and not _has_case(text)]
    covered = set()
    for key, (fp, alarm) in causes.items():
        host, process = key
        for entry in entries_of[key]:
            record = open_by_fp.get(entry["fingerprint"])
            rules = [record.rule] if record is not None else [a["rule"] for a in eligible
                                                              if a["fingerprint"] == entry["fingerprint"]][:1]
            for rule in rules:  # none: named by the case earlier, neither firing nor open now
                quiet.append(Gap(host, rule, process, "covered by %s" % (held_by % process), quiet=True))
                covered.add((host, rule, process))
                folded.suppressed += 1
        if alarm is not None:
            # Filed on the case it took over (fingerprint ``fp``), if any; the case manager notes the change of rule.
            replaced[id(alarm)] = dict(alarm, fingerprint=fp, covers=entries_of[key])
            folded.covers[fp] = None if silenced(alarm) else entries_of[key]
        elif entries_of[key]:
            folded.covers[fp] = entries_of[key]
    # A covered crash case is held quietly, not for lack of data.
    return [g for g in gaps if (g.host, g.rule, g.subject) not in covered]


def group(alarms: list, gaps: list, checked_hosts, evaluated_hosts, open_cases: list, *, customers: dict | None = None,
          contacts: dict | None = None, silenced=None, told: dict | None = None) -> Folded:
    """Fold this run's alarms into their causes (see the module's description).

    ``open_cases`` are the open :class:`CaseRecord` of the store; ``customers`` maps each
    evaluated host to its customer (without it, no customer-level case opens or resolves);
    ``silenced(alarm)`` says whether a silence in force holds an alarm back; ``told`` maps the
    fingerprint of an open customer-level case to the fingerprints it covered when last told
    (a run that evaluated none of them leaves the case alone: another slice of the inventory), and
    that of an open restart loop case to what it covered when last told ({fingerprint: text}).
    """
    silenced = silenced or (lambda alarm: False)
    contacts = dict(contacts or {})
    told = told or {}
    checked, evaluated = set(checked_hosts), set(evaluated_hosts)
    gaps = list(gaps)
    open_by_fp = {record.fingerprint: record for record in open_cases}
    open_by_host: dict = {}
    for record in open_cases:
        open_by_host.setdefault(record.host, []).append(record)
    eligible = [a for a in alarms if isinstance(a, dict) and a.get("eligible") and a.get("fingerprint") and a.get("host")]
    dropped: set = set()    # id() of the alarms folded into a cause
    quiet: list = []        # the quiet gaps that hold their open cases
    replaced: dict = {}     # id() of a cause's alarm -> its new dictionary
    folded = Folded(alarms=[], gaps=[], checked_hosts=checked, evaluated_hosts=evaluated, contacts=contacts)
    known = dict(customers or {})
    for alarm in eligible:
        known.setdefault(alarm["host"], alarm.get("customer"))

    # 1. Hosts that did not report: their open cases are held quietly under host_not_reporting.
    dead = {}
    for alarm in eligible:
        if check_of(alarm) == NOT_REPORTING_CHECK and alarm["host"] not in checked:
            dead.setdefault(alarm["host"], alarm)
    entries_of: dict = {host: [] for host in dead}
    for host, alarm in dead.items():
        mine = sorted((r for r in open_by_host.get(host, ()) if r.fingerprint != alarm["fingerprint"]
                       and r.rule not in (FLOOD_RULE, alarm["rule"])),
                      key=lambda r: (PRIORITY_ORDER.get(r.priority, 9), str(r.rule), str(r.subject)))
        entries_of[host] += [_entry(r.fingerprint, host, r.rule, r.subject, r, host) for r in mine]
        folded.suppressed += len(mine)
        reason = clean_text((alarm.get("evidence") or {}).get("reason") if isinstance(alarm.get("evidence"), dict) else "",
                            300) or "the host did not report"
        quiet.append(Gap(host, None, None, "covered by host_not_reporting: %s" % reason, quiet=True))

    gaps = [g for g in gaps if g.host not in dead]  # the quiet holds replace the no-data gaps of those hosts

    # 3. An HA survivor's replication alarm whose peer is down: named in the peer's case instead.
    names: dict = {}  # customer -> HostNames of its hosts in the run (and of hosts of no known customer)
    by_customer: dict = {}
    if dead:
        for host in evaluated | set(dead):
            by_customer.setdefault(known.get(host), []).append(host)
    for alarm in sorted(eligible, key=_order):
        if check_of(alarm) != REPLICATION_CHECK or alarm["host"] not in checked or not dead:
            continue
        evidence = alarm.get("evidence") if isinstance(alarm.get("evidence"), dict) else {}
        customer = alarm.get("customer")
        if customer not in names:
            names[customer] = HostNames(by_customer.get(customer, []) + by_customer.get(None, []))
        peer = names[customer].find(evidence.get("peer"))
        if peer is None or peer not in dead or peer == alarm["host"]:
            continue
        dropped.add(id(alarm))
        folded.suppressed += 1
        subject = alarm.get("subject") or ""
        quiet.append(Gap(alarm["host"], alarm["rule"], subject, "covered by host_not_reporting of %s" % peer, quiet=True))
        entries_of[peer].append(_entry(alarm["fingerprint"], alarm["host"], alarm["rule"], subject,
                                       open_by_fp.get(alarm["fingerprint"]), peer))
    for host, alarm in dead.items():
        replaced[id(alarm)] = dict(alarm, covers=entries_of[host])
        folded.covers[alarm["fingerprint"]] = None if silenced(alarm) else entries_of[host]

    # 4. A process in a restart loop: its crash alarms and cases are covered by the loop's case.
    # 5. A capacity pool exhausted: the prediction of its exhaustion is covered by the exhausted case.
    for successor in SUCCESSORS:
        gaps = _fold_successor(successor, folded, eligible, gaps, open_cases, checked, dropped, quiet, replaced,
                               silenced, told)

    # 2. A customer whose reporting hosts all lost the cloud: one customer-level alarm.
    added = []
    if customers is not None:
        gaps_by_host: dict = {}
        for gap in gaps:
            gaps_by_host.setdefault(gap.host, []).append(gap)
        hosts_of: dict = {}
        for host in evaluated:
            hosts_of.setdefault(customers.get(host), []).append(host)
        groups: dict = {}
        for alarm in eligible:
            if check_of(alarm) == CLOUD_CHECK and alarm["host"] in checked and id(alarm) not in dropped \
                    and not alarm.get("subject"):
                groups.setdefault((alarm.get("customer"), alarm["rule"]), []).append(alarm)
        for (customer, rule), firing in sorted(groups.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
            host = customer_host(customer)
            reporting = {h for h in hosts_of.get(customer, ()) if h in checked}
            measured = {h for h in reporting if not _unmeasured(gaps_by_host, h, rule)}
            hosts = {a["host"] for a in firing}
            covered = sorted((a for a in firing if not silenced(a)), key=_order)
            if len(hosts) < MIN_CUSTOMER_HOSTS or measured - hosts or len(covered) < MIN_CUSTOMER_HOSTS \
                    or host in evaluated or not customer:
                continue
            entries = [_entry(a["fingerprint"], a["host"], a["rule"], "", open_by_fp.get(a["fingerprint"]), host)
                       for a in covered]
            for alarm in covered:
                dropped.add(id(alarm))
                quiet.append(Gap(alarm["host"], rule, "", "covered by the customer-level case %s" % host, quiet=True))
            folded.suppressed += len(covered)
            customer_alarm = _customer_alarm(customer, rule, covered, entries)
            added.append(customer_alarm)
            evaluated.add(host)
            checked.add(host)
            merged = _merged_contacts(contacts, [a["host"] for a in covered])
            if merged is not None:
                contacts[host] = merged
            folded.covers[customer_alarm["fingerprint"]] = None if silenced(customer_alarm) else entries

        # An open customer-level case that does not fire in this run: resolved when a host of the
        # customer measured the cloud, kept (no data) when none could, left alone when the run did
        # not look at the hosts it covers.
        firing_now = {a["fingerprint"] for a in added}
        for record in open_cases:
            if record.fingerprint in firing_now or not record.customer or record.host != customer_host(record.customer):
                continue
            mine = sorted(hosts_of.get(record.customer, ()))
            covered_fps = set(told.get(record.fingerprint) or ())
            if covered_fps and not any(fingerprint(record.customer, h, record.rule, "") in covered_fps for h in mine):
                continue
            if not mine:
                continue
            evaluated.add(record.host)
            if any(h in checked and not _unmeasured(gaps_by_host, h, record.rule) for h in mine):
                checked.add(record.host)
            else:
                gaps.append(Gap(record.host, None, None, "no host of customer %s measured the cloud in this run"
                                % _text(record.customer, 80)))

    folded.alarms = [replaced.get(id(a), a) for a in alarms if id(a) not in dropped] + added
    folded.gaps = quiet + gaps
    return folded


def _has_case(text) -> bool:
    return not str(text).endswith("(%s)" % NO_CASE)


def _material(covers: dict) -> set:
    """What counts as a change of the covered set: an alarm added or gone, or a covered alarm that got (or lost) a
    case; not a reference that appeared once its case was filed."""
    return {(fp, _has_case(text)) for fp, text in covers.items()}


def _told(store, record) -> dict | None:
    """What the case last told of the alarms it covers ({fingerprint: text}): its open, then its comments."""
    key = case_key(record)
    told = None
    for item in store.outbox_of(record.fingerprint):
        payload = item.payload or {}
        if payload.get("case_key") == key and item.kind in ("open", "comment") and isinstance(payload.get("covers"), dict):
            told = payload["covers"]
    return told


def fold(store, alarms: list, gaps: list, checked_hosts, evaluated_hosts, now: datetime, *, customers: dict | None = None,
         contacts: dict | None = None, host: str | None = None) -> Folded:
    """:func:`group` with what it needs from the store: the open cases (of ``host`` only, when the run plans that host
    alone), the silences in force, what the customer-level cases told."""
    open_cases = store.cases(status="open", host=host)
    in_force = store.silences(active_at=now)
    told = {}
    cause_rules = set()
    for cause_check, dummy, dummy in SUCCESSORS:
        cause_rules |= _rules_of(cause_check, [a for a in alarms if isinstance(a, dict)])
    for record in open_cases:
        if record.customer and record.host == customer_host(record.customer):
            told[record.fingerprint] = set(_told(store, record) or ())
        elif record.rule in cause_rules:
            told[record.fingerprint] = dict(_told(store, record) or {})
    return group(alarms, gaps, checked_hosts, evaluated_hosts, open_cases, customers=customers, contacts=contacts,
                 silenced=lambda alarm: silences.matching(in_force, alarm, now) is not None, told=told)


def tell(store, folded: Folded, now: datetime) -> int:
    """One comment on each open case of a cause whose covered set changed since the case last said it; how many."""
    noted = 0
    for fp, entries in sorted(folded.covers.items()):
        if entries is None:
            continue  # silenced: the case is not changed
        record = store.get_case(fp)
        if record is None or record.status != "open":
            continue
        told = _told(store, record) or {}
        now_covers = {entry["fingerprint"]: entry["text"] for entry in entries}
        if _material(told) == _material(now_covers):
            continue
        lines = ["The alarms this case covers changed."]
        lines += ["  now also covers: %s" % clean_text(now_covers[f], 300) for f in sorted(now_covers) if f not in told]
        lines += ["  no longer covers: %s" % clean_text(told[f], 300) for f in sorted(told) if f not in now_covers]
        lines += ["  now with a case of its own (held while this case covers it): %s" % clean_text(now_covers[f], 300)
                  for f in sorted(now_covers) if f in told and _has_case(now_covers[f]) and not _has_case(told[f])]
        if now_covers:
            lines += ["Covers now:"] + ["  covers: %s" % clean_text(entry["text"], 300) for entry in entries]
        else:
            lines.append("It covers no other alarm now.")
        with store.transaction("plan case %s" % fp):
            noted += bool(_enqueue(store, record, "comment", {"note": "\n".join(lines), "covers": now_covers}, now,
                                   ":covers:%s" % _stamp(now)))
    return noted
