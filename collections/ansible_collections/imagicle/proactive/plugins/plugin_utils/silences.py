# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Maintenance windows (silences): how one is asked for, checked and described.

A silence matches alarms by customer, host and rule (each optional, at least one given) for a
window of time. While it is in force, the case manager opens, reopens, updates, pages and mails
nothing for the alarms it matches; a case already open stays open, and a condition that clears
is resolved as usual. The window is bounded (``MAX_DURATION``) so that a forgotten silence ends
by itself.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import Silence

MAX_DURATION = timedelta(days=31)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+)\s*([smhdw])")


class SilenceError(ValueError):
    """A silence asked for with a bad value; the message names the option and what to give."""


def parse_duration(text, option: str = "duration") -> timedelta:
    """``90m``, ``2h``, ``1h30m``, ``3d``, ``1w`` (or a number of minutes) as a timedelta."""
    if isinstance(text, bool):
        raise SilenceError("%s must be a duration such as 90m, 2h, 1h30m or 3d, not %r" % (option, text))
    if isinstance(text, (int, float)):
        seconds = float(text) * 60
    else:
        value = str(text or "").strip().lower().replace(" ", "")
        if value.isdigit():
            seconds = int(value) * 60
        elif value and _DURATION.sub("", value) == "":
            seconds = sum(int(number) * _UNITS[unit] for number, unit in _DURATION.findall(value))
        else:
            raise SilenceError("%s must be a duration such as 90m, 2h, 1h30m or 3d (a bare number is minutes), "
                               "not %r" % (option, text))
    if seconds <= 0:
        raise SilenceError("%s must be longer than zero, got %r" % (option, text))
    return timedelta(seconds=seconds)


def parse_time(text, option: str) -> datetime:
    """An ISO 8601 time with a timezone (``2026-11-28T22:00:00+01:00`` or ``...Z``)."""
    try:
        moment = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise SilenceError("%s must be an ISO 8601 time with a timezone, e.g. 2026-11-28T22:00:00+01:00 or "
                           "2026-11-28T21:00:00Z; got %r" % (option, text))
    return moment.astimezone(timezone.utc)


def build_silence(*, customer=None, host=None, rule=None, duration=None, starts=None, ends=None, reason=None,
                  created_by=None, now: datetime, known_rules=None) -> Silence:
    """A new silence from the options of the ``silence`` module; SilenceError names what is wrong.

    ``duration`` or ``ends`` gives the end (one of them); ``starts`` defaults to ``now``.
    ``known_rules``, when given, is the set of rule names an alarm can carry: a misspelt rule
    would silence nothing, so it is refused.
    """
    customer, host, rule = (str(v).strip() if v not in (None, "") else None for v in (customer, host, rule))
    if not (customer or host or rule):
        raise SilenceError("give what to silence: host, rule or customer (or several of them); "
                           "a silence of everything is refused")
    if rule and known_rules is not None and rule not in known_rules:
        raise SilenceError("rule %r is not a rule of the catalogue; give one of: %s" % (rule, ", ".join(sorted(known_rules))))
    if not str(reason or "").strip():
        raise SilenceError("reason is required: say which change or maintenance the silence is for")
    start = parse_time(starts, "starts") if starts not in (None, "") else now
    if (duration in (None, "")) == (ends in (None, "")):
        raise SilenceError("give exactly one of duration (e.g. 2h) and ends (an ISO 8601 time)")
    end = start + parse_duration(duration) if ends in (None, "") else parse_time(ends, "ends")
    if end <= start:
        raise SilenceError("the silence would end (%s) before it starts (%s)" % (_show(end), _show(start)))
    if end <= now:
        raise SilenceError("the silence would already be over (it ends %s, now is %s)" % (_show(end), _show(now)))
    if end - start > MAX_DURATION:
        raise SilenceError("a silence lasts at most %d days (asked: %s to %s); make a new one when it ends"
                           % (MAX_DURATION.days, _show(start), _show(end)))
    return Silence(id=None, customer=customer, host=host, rule=rule, starts_at=start, ends_at=end,
                   reason=" ".join(str(reason).split())[:500], created_by=created_by)


def matching(silences, alarm: dict, now: datetime) -> Silence | None:
    """The first silence in force at ``now`` that matches ``alarm``, or None."""
    for silence in silences:
        if silence.matches(alarm, now):
            return silence
    return None


def describe(silence: Silence) -> str:
    """One line: what it matches, when, and why."""
    what = ", ".join("%s %s" % (name, value) for name, value in (
        ("customer", silence.customer), ("host", silence.host), ("rule", silence.rule)) if value)
    state = " (lifted %s)" % _show(silence.lifted_at) if silence.lifted_at else ""
    number = "#%s " % silence.id if silence.id is not None else ""
    window = "from %s to %s" % (_show(silence.starts_at), _show(silence.ends_at))
    return "%s%s %s%s: %s" % (number, what, window, state, silence.reason)


def _show(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _same_target(silence: Silence, wanted: Silence) -> bool:
    return (silence.customer, silence.host, silence.rule) == (wanted.customer, wanted.host, wanted.rule)


def apply_present(store, wanted: Silence, now: datetime, check_mode: bool = False) -> dict:
    """Add ``wanted``, or, when a silence of the same customer, host and rule with the same reason
    is in force or to come, move its end to ``wanted``'s (running the same request again does
    not stack silences). Returns changed, the silence, and a message."""
    for silence in store.silences(ended_since=now):
        if _same_target(silence, wanted) and silence.reason == wanted.reason:
            if silence.ends_at == wanted.ends_at:
                return {"changed": False, "silence": silence, "msg": "already silenced: %s" % describe(silence)}
            if check_mode:
                silence.ends_at = wanted.ends_at
                return {"changed": True, "silence": silence, "msg": "would move the end: %s" % describe(silence)}
            moved = store.set_silence_end(silence.id, wanted.ends_at)
            return {"changed": True, "silence": moved, "msg": "end moved: %s" % describe(moved)}
    if check_mode:
        return {"changed": True, "silence": wanted, "msg": "would add: %s" % describe(wanted)}
    added = store.add_silence(wanted, now=now)
    return {"changed": True, "silence": added, "msg": "added: %s" % describe(added)}


def apply_absent(store, now: datetime, silence_id=None, customer=None, host=None, rule=None,
                 check_mode: bool = False) -> dict:
    """Lift silence ``silence_id``, or every silence in force or to come with exactly this
    customer, host and rule. Returns changed, the lifted silences, and a message."""
    if silence_id in (None, "") and not (customer or host or rule):
        raise SilenceError("to lift a silence give its id (see the silences listed by the playbook imagicle.proactive.silence), "
                           "or the host, rule and/or customer it was made for")
    pending = store.silences(ended_since=now)
    if silence_id not in (None, ""):
        try:
            number = int(silence_id)
        except (TypeError, ValueError):
            raise SilenceError("id must be the number of a silence, not %r" % (silence_id,)) from None
        targets = [s for s in pending if s.id == number]
        if not targets and not any(s.id == number for s in store.silences()):
            raise SilenceError("there is no silence #%d in %s" % (number, store.display))
    else:
        probe = Silence(id=None, customer=customer or None, host=host or None, rule=rule or None, starts_at=now,
                        ends_at=now + timedelta(seconds=1), reason="-")
        targets = [s for s in pending if _same_target(s, probe)]
    if not targets:
        return {"changed": False, "lifted": [], "msg": "nothing to lift: no such silence is in force or to come"}
    lifted = []
    for silence in targets:
        if check_mode:
            silence.lifted_at = now
            lifted.append(silence)
        else:
            lifted.append(store.lift_silence(silence.id, now=now))
    return {"changed": True, "lifted": lifted,
            "msg": "%s %s" % ("would lift" if check_mode else "lifted", "; ".join(describe(s) for s in lifted))}
