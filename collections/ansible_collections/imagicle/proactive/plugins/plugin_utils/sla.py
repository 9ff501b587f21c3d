# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plans, business calendars and the SLA clock.

The product promise: a response within 60 minutes for a P1 alarm and within 2, 4 or 8
business hours for P2, P3 and P4.  Which hours count depends on the customer's plan:

* ``basic``: business hours for every priority, no proactive support, no paging;
* ``gold``: proactive; P1 counted on the ``extended`` calendar, P2-P4 on ``business``;
* ``platinum``: proactive; P1 counted 24/7 (``always``), P2-P4 on ``business``; a P1 pages
  the on-call engineer.

The vendor does not publish its exact support hours, so ``DEFAULT_CALENDARS`` are this
project's defaults (Europe/Rome, Italian public holidays), all overridable per customer
through the inventory variable ``imagicle_sla`` (see ``build_sla``).

Working time is defined on the local wall clock: an instant is working time when its local
date is a working day (not a weekend day without hours, not a public or customer holiday)
and its local time of day falls in one of that weekday's ranges.  The ranges of each day are
converted to UTC with zoneinfo, so a day with a DST change has 23 or 25 hours, a range edge
that falls in the skipped hour starts when the clock jumps, and the repeated hour counts
both times it is on the clock.  ``add_business_time`` counts only that time.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ansible_collections.imagicle.proactive.plugins.module_utils._schema import PRIORITIES

try:
    import holidays as holidays_lib
except ImportError as holidays_import_error:
    holidays_lib = None
    HOLIDAYS_IMPORT_ERROR: ImportError | None = holidays_import_error
else:
    HOLIDAYS_IMPORT_ERROR = None

RESPONSE_TARGET_MINUTES = MappingProxyType({"P1": 60, "P2": 120, "P3": 240, "P4": 480})

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# ``datetime.time`` cannot hold 24:00; a range written "...-24:00" ends at ``END_OF_DAY``,
# which stands for the midnight that starts the next day.
END_OF_DAY = time.max
DEFAULT_TIMEZONE = "Europe/Rome"
DEFAULT_HOLIDAY_COUNTRY = "IT"
DEFAULT_PLAN_NAME = "basic"
# A calendar that yields no working time for this many consecutive days is broken
# (e.g. every weekday empty, or only holidays): stop instead of searching forever.
MAX_IDLE_DAYS = 732

UTC = timezone.utc
_ONE_DAY = timedelta(days=1)
_RANGE_PATTERN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_ISO_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")

WorkingRanges = tuple[tuple[time, time], ...]
UtcIntervals = tuple[tuple[datetime, datetime], ...]


class SlaError(ValueError):
    """Base class of the SLA module's errors."""


class SlaConfigError(SlaError):
    """Invalid plan, calendar or SLA settings; the message says where and what is allowed."""


class SlaInputError(SlaError):
    """Invalid argument to the SLA clock (naive datetime, negative minutes)."""


# --------------------------------------------------------------------------- calendars


def holidays_library() -> Any:
    """The ``holidays`` module, or SlaConfigError saying how to install it on the controller."""
    if holidays_lib is None:
        raise SlaConfigError(
            f"public holidays need the Python library 'holidays' on the controller ({HOLIDAYS_IMPORT_ERROR}); install it with "
            "'pip install holidays', or set imagicle_sla.holidays.country to null"
        )
    return holidays_lib


def supported_countries() -> dict:
    """The holidays library's countries and their subdivisions (slow to list: read once per process)."""
    return _supported_countries(holidays_library())


@functools.lru_cache(maxsize=4)
def _supported_countries(library) -> dict:
    return library.list_supported_countries()


@functools.lru_cache(maxsize=512)
def public_holiday_dates(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """Public holidays of ``country`` (and ``subdivision``) in ``year``, from the holidays library.

    Building the library's object is slow, so the result is cached per (country, subdivision, year).
    Raises NotImplementedError (from the library) for an unknown country or subdivision.
    """
    return frozenset(holidays_library().country_holidays(country, subdiv=subdivision, years=year).keys())


def _validate_ranges(calendar_name: str, weekday: Any, ranges: Any) -> WorkingRanges:
    """Check one weekday's ranges (start < end, no overlap) and return them sorted."""
    where = f"calendar {calendar_name!r}, weekday {weekday!r}"
    if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
        raise SlaConfigError(f"{where}: weekday must be an integer 0 (Monday) to 6 (Sunday)")
    try:
        pairs = tuple((start, end) for start, end in ranges)
    except (TypeError, ValueError) as exc:
        raise SlaConfigError(f"{where}: expected a sequence of (start, end) datetime.time pairs, found {ranges!r}") from exc
    for start, end in pairs:
        if not isinstance(start, time) or not isinstance(end, time) or start.tzinfo or end.tzinfo:
            raise SlaConfigError(f"{where}: expected naive datetime.time pairs, found {(start, end)!r}")
        if start >= end or start == END_OF_DAY:
            raise SlaConfigError(f"{where}: a range must start before it ends, found {start}-{end}")
    ordered = tuple(sorted(pairs))
    for (dummy_start, previous_end), (next_start, dummy_end) in zip(ordered, ordered[1:]):
        if next_start < previous_end:
            raise SlaConfigError(f"{where}: ranges overlap ({previous_end} is after {next_start})")
    return ordered


@dataclasses.dataclass(frozen=True)
class Calendar:
    """A business calendar in one timezone.

    ``hours`` maps weekday (0 = Monday .. 6 = Sunday) to sorted, non-overlapping
    (start, end) ``datetime.time`` pairs; ``END_OF_DAY`` as end means 24:00.
    Public holidays come from the holidays library for ``holiday_country`` (None = none)
    and ``holiday_subdivision``; ``extra_holidays`` are the customer's own closed dates.
    ``always`` is 24/7: hours and holidays are ignored.  ``holidays_apply`` False keeps the
    weekly hours on holidays too.
    """

    name: str
    timezone: str = DEFAULT_TIMEZONE
    always: bool = False
    hours: Mapping[int, WorkingRanges] = dataclasses.field(default_factory=dict, hash=False)
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    extra_holidays: frozenset[date] = frozenset()
    holidays_apply: bool = True

    def __post_init__(self) -> None:
        where = f"calendar {self.name!r}"
        zone_or_error(self.timezone, where)
        if not isinstance(self.hours, Mapping):
            raise SlaConfigError(f"{where}: hours must be a mapping weekday -> ranges, found {self.hours!r}")
        hours = {weekday: _validate_ranges(self.name, weekday, ranges) for weekday, ranges in self.hours.items()}
        object.__setattr__(self, "hours", MappingProxyType(hours))
        object.__setattr__(self, "extra_holidays", frozenset(self.extra_holidays))
        if self.holiday_subdivision is not None and self.holiday_country is None:
            raise SlaConfigError(f"{where}: a holiday subdivision needs a holiday country")
        if self.holiday_country is not None and holidays_lib is not None:
            try:
                public_holiday_dates(self.holiday_country, self.holiday_subdivision, 2026)
            except NotImplementedError as exc:
                raise SlaConfigError(f"{where}: holidays: {exc}") from exc

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's timezone object."""
        return ZoneInfo(self.timezone)

    def has_working_hours(self) -> bool:
        """True when the calendar is 24/7 or some weekday has a range."""
        return self.always or any(self.hours.values())

    def holiday_dates(self, year: int) -> frozenset[date]:
        """Public holidays of the calendar's country in ``year`` plus the customer's extra dates."""
        public = frozenset() if self.holiday_country is None else public_holiday_dates(self.holiday_country, self.holiday_subdivision, year)
        return public | {day for day in self.extra_holidays if day.year == year}

    def is_holiday(self, day: date) -> bool:
        """True when ``day`` is a public holiday or one of the customer's extra dates."""
        if day in self.extra_holidays:
            return True
        return self.holiday_country is not None and day in public_holiday_dates(self.holiday_country, self.holiday_subdivision, day.year)

    def is_working_day(self, day: date) -> bool:
        """True when ``day`` (a local date) has working time: 24/7, or hours on its weekday and not a holiday."""
        if self.always:
            return True
        if not self.hours.get(day.weekday()):
            return False
        return not (self.holidays_apply and self.is_holiday(day))


def zone_or_error(name: Any, where: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name, or SlaConfigError saying ``where`` it was found."""
    if not isinstance(name, str) or not name:
        raise SlaConfigError(f"{where}: timezone must be an IANA name such as 'Europe/Rome', found {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SlaConfigError(f"{where}: unknown timezone {name!r}; use an IANA name such as 'Europe/Rome' or 'America/New_York'") from exc


def _utc_offset_at(instant_utc_naive: datetime, zone: ZoneInfo) -> timedelta:
    offset = instant_utc_naive.replace(tzinfo=UTC).astimezone(zone).utcoffset()
    return timedelta() if offset is None else offset  # ZoneInfo always gives an offset


@functools.lru_cache(maxsize=8192)
def _offset_segments(timezone_name: str, day: date) -> tuple[tuple[datetime, datetime, timedelta], ...]:
    """Stretches of constant UTC offset covering every instant whose local date can be ``day``.

    Returns (utc_from, utc_to, offset) with naive UTC datetimes.  The window is local
    midnight minus 15 h to the next midnight plus 13 h (UTC offsets span -12 h..+14 h);
    offset changes are found by hourly sampling, then bisected to the second.
    """
    zone = ZoneInfo(timezone_name)
    window_start = datetime.combine(day, time()) - timedelta(hours=15)
    samples = [window_start + timedelta(hours=step) for step in range(53)]
    offsets = [_utc_offset_at(sample, zone) for sample in samples]
    segments = []
    segment_start = samples[0]
    for index in range(1, len(samples)):
        if offsets[index] == offsets[index - 1]:
            continue
        low, high = samples[index - 1], samples[index]  # offset(low) != offset(high)
        while high - low > timedelta(seconds=1):
            middle = low + (high - low) / 2
            middle = middle.replace(microsecond=0)
            if middle <= low:
                break
            if _utc_offset_at(middle, zone) == offsets[index - 1]:
                low = middle
            else:
                high = middle
        segments.append((segment_start, high, offsets[index - 1]))
        segment_start = high
    segments.append((segment_start, samples[-1], offsets[-1]))
    return tuple(segments)


def _range_bounds_local(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """Naive local wall-clock bounds of one range on ``day``; END_OF_DAY is the next midnight."""
    wall_end = datetime.combine(day + _ONE_DAY, time()) if end == END_OF_DAY else datetime.combine(day, end)
    return datetime.combine(day, start), wall_end


@functools.lru_cache(maxsize=16384)
def working_intervals_utc(calendar: Calendar, day: date) -> UtcIntervals:
    """The working time of local date ``day`` as sorted, disjoint, aware UTC intervals.

    An instant belongs when its local wall time falls in one of the day's ranges.  On a
    DST day each range is cut along the offset stretches of ``_offset_segments``.
    """
    if not calendar.is_working_day(day):
        return ()
    ranges = ((time(), END_OF_DAY),) if calendar.always else calendar.hours[day.weekday()]
    pieces = []
    segments = _offset_segments(calendar.timezone, day)
    for start, end in ranges:
        wall_start, wall_end = _range_bounds_local(day, start, end)
        for utc_from, utc_to, offset in segments:
            low = max(wall_start, utc_from + offset)
            high = min(wall_end, utc_to + offset)
            if low < high:
                pieces.append((low - offset, high - offset))
    pieces.sort()
    merged: list[list[datetime]] = []
    for low, high in pieces:
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return tuple((low.replace(tzinfo=UTC), high.replace(tzinfo=UTC)) for low, high in merged)


def is_working_time(instant: datetime, calendar: Calendar) -> bool:
    """True when the aware ``instant`` lies inside the calendar's working time."""
    instant_utc = _require_aware(instant).astimezone(UTC)
    if calendar.always:
        return True
    local_day = instant_utc.astimezone(calendar.zone).date()
    return any(low <= instant_utc < high for low, high in working_intervals_utc(calendar, local_day))


def _require_aware(value: Any) -> datetime:
    if not isinstance(value, datetime):
        raise SlaInputError(f"expected a timezone-aware datetime, found {type(value).__name__} {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise SlaInputError(f"datetime {value.isoformat()} has no timezone; give it one (e.g. UTC) so the SLA clock knows when it happened")
    return value


def add_business_time(start: datetime, minutes: float, calendar: Calendar) -> datetime:
    """The aware UTC instant ``minutes`` of the calendar's working time after ``start``.

    Counting starts at ``start`` when it is inside working time, else at the next working
    range.  The result ends inside or exactly at the end of a working range.  24/7
    calendars add plain clock time.  Raises SlaInputError for a naive ``start`` or negative
    ``minutes`` and SlaConfigError for a calendar without working time.
    """
    start_utc = _require_aware(start).astimezone(UTC)
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not math.isfinite(minutes) or minutes < 0:
        raise SlaInputError(f"minutes must be a finite number >= 0, found {minutes!r}")
    remaining = timedelta(minutes=minutes)
    if calendar.always:
        return start_utc + remaining
    if not calendar.has_working_hours():
        raise SlaConfigError(f"calendar {calendar.name!r} has no working hours on any weekday; give at least one weekday a range such as '09:00-18:00'")
    cursor = start_utc
    day = start_utc.astimezone(calendar.zone).date()
    idle_days = 0
    while True:
        intervals = working_intervals_utc(calendar, day)
        idle_days = 0 if intervals else idle_days + 1
        if idle_days > MAX_IDLE_DAYS:
            raise SlaConfigError(
                f"calendar {calendar.name!r} has no working time in the {MAX_IDLE_DAYS} days after {day - timedelta(days=MAX_IDLE_DAYS)}"
                " (every day is a holiday or has no hours); check its hours and holidays"
            )
        for low, high in intervals:
            if high <= cursor:
                continue
            low = max(low, cursor)
            available = high - low
            if remaining <= available:
                return low + remaining
            remaining -= available
            cursor = high
        day += _ONE_DAY


# --------------------------------------------------------------------------- plans


@dataclasses.dataclass(frozen=True)
class Plan:
    """A support plan: which calendar counts P1 and P2-P4, and whether a P1 pages the on-call engineer."""

    name: str
    proactive: bool
    p1_calendar: str
    business_calendar: str
    page_on_p1: bool


@dataclasses.dataclass(frozen=True)
class SlaConfig:
    """A customer's plan and calendars (name -> Calendar, all in the customer's timezone)."""

    plan: Plan
    calendars: Mapping[str, Calendar] = dataclasses.field(hash=False)

    def calendar_for(self, priority: str) -> Calendar:
        """The calendar that counts the response time of ``priority``."""
        check_priority(priority)
        name = self.plan.p1_calendar if priority == "P1" else self.plan.business_calendar
        return self.calendars[name]


def _hours(*ranges_by_weekday: tuple[tuple[int, ...], str]) -> dict[int, WorkingRanges]:
    result: dict[int, WorkingRanges] = {}
    for weekdays, text in ranges_by_weekday:
        for weekday in weekdays:
            result[weekday] = result.get(weekday, ()) + (parse_range(text),)
    return result


def parse_range(text: str) -> tuple[time, time]:
    """'HH:MM-HH:MM' -> (start, end); '24:00' is allowed as the end (END_OF_DAY). Raises ValueError."""
    match = _RANGE_PATTERN.match(text)
    if not match:
        raise ValueError("write a range as 'HH:MM-HH:MM', e.g. '09:00-18:00'")
    start_hour, start_minute, end_hour, end_minute = (int(group) for group in match.groups())
    if start_hour > 23 or start_minute > 59:
        raise ValueError("the start must be a time from 00:00 to 23:59")
    if end_minute > 59 or end_hour > 24 or (end_hour == 24 and end_minute):
        raise ValueError("the end must be a time from 00:01 to 24:00")
    start = time(start_hour, start_minute)
    end = END_OF_DAY if end_hour == 24 else time(end_hour, end_minute)
    if start >= end:
        raise ValueError("the start must be before the end (a range cannot cross midnight: split it at 24:00)")
    return start, end


_WEEKDAYS_MON_FRI = (0, 1, 2, 3, 4)

DEFAULT_CALENDARS: Mapping[str, Calendar] = MappingProxyType({
    "business": Calendar("business", DEFAULT_TIMEZONE, hours=_hours((_WEEKDAYS_MON_FRI, "09:00-18:00")), holiday_country=DEFAULT_HOLIDAY_COUNTRY),
    "extended": Calendar(
        "extended", DEFAULT_TIMEZONE, hours=_hours((_WEEKDAYS_MON_FRI, "08:00-20:00"), ((5,), "09:00-13:00")), holiday_country=DEFAULT_HOLIDAY_COUNTRY
    ),
    "always": Calendar("always", DEFAULT_TIMEZONE, always=True, holidays_apply=False),
})

DEFAULT_PLANS: Mapping[str, Plan] = MappingProxyType({
    "basic": Plan("basic", proactive=False, p1_calendar="business", business_calendar="business", page_on_p1=False),
    "gold": Plan("gold", proactive=True, p1_calendar="extended", business_calendar="business", page_on_p1=False),
    "platinum": Plan("platinum", proactive=True, p1_calendar="always", business_calendar="business", page_on_p1=True),
})


# --------------------------------------------------------------------------- settings


def _found(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _config_error(source: str, key_path: str, found: Any, allowed: str) -> SlaConfigError:
    return SlaConfigError(f"{source}, key {key_path}: found {_found(found)}; allowed: {allowed}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _require_mapping(value: Any, source: str, key_path: str, allowed_keys: tuple[str, ...]) -> Mapping:
    if not isinstance(value, Mapping):
        raise _config_error(source, key_path or "(top level)", value, f"a mapping with the keys {', '.join(allowed_keys)}")
    for key in value:
        if key not in allowed_keys:
            raise _config_error(source, _join(key_path, str(key)), key, f"only the keys {', '.join(allowed_keys)}")
    return value


def _require_str(value: Any, source: str, key_path: str, allowed: str) -> str:
    if not isinstance(value, str) or not value:
        raise _config_error(source, key_path, value, allowed)
    return value


def _require_bool(value: Any, source: str, key_path: str) -> bool:
    if not isinstance(value, bool):
        raise _config_error(source, key_path, value, "true or false")
    return value


def _parse_date(value: Any, source: str, key_path: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE_PATTERN.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _config_error(source, key_path, value, "a date written YYYY-MM-DD, e.g. '2026-12-24'")


def _parse_holidays(value: Any, source: str, base: Calendar) -> dict[str, Any]:
    """holidays: {country, subdivision, dates} -> Calendar field overrides."""
    path = "holidays"
    _require_mapping(value, source, path, ("country", "subdivision", "dates"))
    country = value.get("country", base.holiday_country)
    allowed_countries = "a country code supported by the holidays library (e.g. IT, DE, US), or null for none"
    if country is not None:
        country = _require_str(country, source, f"{path}.country", allowed_countries).upper()
        if country not in supported_countries():
            raise _config_error(source, f"{path}.country", country, allowed_countries)
    subdivision = value.get("subdivision")
    if subdivision is not None:
        allowed_subdivisions = supported_countries().get(country or "", [])
        if country is None:
            raise _config_error(source, f"{path}.subdivision", subdivision, "a subdivision only together with holidays.country")
        if not isinstance(subdivision, str) or subdivision not in allowed_subdivisions:
            raise _config_error(source, f"{path}.subdivision", subdivision, f"null or one of {', '.join(allowed_subdivisions) or '(none for this country)'}")
    dates = value.get("dates", [])
    if not isinstance(dates, (list, tuple)):
        raise _config_error(source, f"{path}.dates", dates, "a list of dates written YYYY-MM-DD")
    extra = frozenset(_parse_date(item, source, f"{path}.dates[{index}]") for index, item in enumerate(dates))
    return {"holiday_country": country, "holiday_subdivision": subdivision, "extra_holidays": extra}


def _parse_weekday_ranges(value: Any, source: str, key_path: str) -> WorkingRanges:
    if not isinstance(value, (list, tuple)):
        raise _config_error(source, key_path, value, "a list of ranges 'HH:MM-HH:MM' (empty list = closed), e.g. ['09:00-13:00', '14:00-18:00']")
    ranges = []
    for index, item in enumerate(value):
        item_path = f"{key_path}[{index}]"
        if not isinstance(item, str):
            raise _config_error(source, item_path, item, "a range written 'HH:MM-HH:MM' in quotes, e.g. '09:00-18:00'")
        try:
            ranges.append(parse_range(item))
        except ValueError as exc:
            raise _config_error(source, item_path, item, f"a range 'HH:MM-HH:MM' from 00:00 to 24:00 ({exc})") from exc
    ordered = sorted(ranges)
    for (dummy_start, previous_end), (next_start, dummy_end) in zip(ordered, ordered[1:]):
        if next_start < previous_end:
            end_text = "24:00" if previous_end == END_OF_DAY else previous_end.strftime("%H:%M")
            start_text = next_start.strftime("%H:%M")
            raise _config_error(source, key_path, list(value), f"ranges that do not overlap (one ends at {end_text}, the next starts at {start_text})")
    return tuple(ordered)


def _parse_calendar(value: Any, source: str, name: str, base: Calendar) -> Calendar:
    path = f"calendars.{name}"
    _require_mapping(value, source, path, ("hours", "holidays_apply"))
    changes: dict[str, Any] = {}
    if "hours" in value:
        hours_value = _require_mapping(value["hours"], source, f"{path}.hours", WEEKDAY_KEYS)
        hours = dict(base.hours)
        for key, ranges in hours_value.items():
            hours[WEEKDAY_KEYS.index(key)] = _parse_weekday_ranges(ranges, source, f"{path}.hours.{key}")
        changes["hours"] = hours
    if "holidays_apply" in value:
        changes["holidays_apply"] = _require_bool(value["holidays_apply"], source, f"{path}.holidays_apply")
    return dataclasses.replace(base, **changes)


def _parse_plan_overrides(value: Any, source: str, plan: Plan, calendar_names: tuple[str, ...]) -> Plan:
    path = f"plans.{plan.name}"
    fields = ("proactive", "p1_calendar", "business_calendar", "page_on_p1")
    _require_mapping(value, source, path, fields)
    changes: dict[str, Any] = {}
    for key in ("proactive", "page_on_p1"):
        if key in value:
            changes[key] = _require_bool(value[key], source, f"{path}.{key}")
    for key in ("p1_calendar", "business_calendar"):
        if key in value:
            if value[key] not in calendar_names:
                raise _config_error(source, f"{path}.{key}", value[key], f"one of the calendars {', '.join(calendar_names)}")
            changes[key] = value[key]
    return dataclasses.replace(plan, **changes)


SETTINGS_KEYS = ("plan", "timezone", "holidays", "calendars", "plans")
CONFIGURABLE_CALENDARS = ("business", "extended")


def build_sla(settings: Mapping[str, Any] | None, source: str) -> SlaConfig:
    """Build a customer's SlaConfig from the inventory variable ``imagicle_sla``.

    ``settings`` keys, all optional::

        plan: basic | gold | platinum                       (default basic)
        timezone: Europe/Rome                               (IANA name)
        holidays: {country: IT, subdivision: null, dates: ["2026-12-24"]}   (country null = none)
        calendars: {business: {hours: {mon: ["09:00-13:00", "14:00-18:00"], sat: []},
                               holidays_apply: true},
                    extended: {...}}                        (only the weekdays given are replaced)
        plans: {gold: {p1_calendar: business}}              (override a plan's fields)

    ``source`` says where the settings come from (e.g. "inventory variable imagicle_sla of
    host ias-a"); every SlaConfigError names it, the key path, what was found and what is allowed.
    """
    settings = {} if settings is None else settings
    _require_mapping(settings, source, "", SETTINGS_KEYS)

    plan_name = settings.get("plan", DEFAULT_PLAN_NAME)
    if plan_name not in DEFAULT_PLANS:
        raise _config_error(source, "plan", plan_name, f"one of {', '.join(DEFAULT_PLANS)}")

    common: dict[str, Any] = {}
    if "timezone" in settings:
        zone_or_error(settings["timezone"], f"{source}, key timezone")
        common["timezone"] = settings["timezone"]
    if "holidays" in settings:
        common.update(_parse_holidays(settings["holidays"], source, DEFAULT_CALENDARS["business"]))

    calendars = {}
    for name, default in DEFAULT_CALENDARS.items():
        calendar_changes = {key: val for key, val in common.items() if not default.always or key == "timezone"}
        calendars[name] = dataclasses.replace(default, **calendar_changes)

    calendar_settings = settings.get("calendars", {})
    _require_mapping(calendar_settings, source, "calendars", CONFIGURABLE_CALENDARS)
    for name, value in calendar_settings.items():
        calendars[name] = _parse_calendar(value, source, name, calendars[name])

    plans = dict(DEFAULT_PLANS)
    plan_settings = settings.get("plans", {})
    _require_mapping(plan_settings, source, "plans", tuple(DEFAULT_PLANS))
    for name, value in plan_settings.items():
        plans[name] = _parse_plan_overrides(value, source, plans[name], tuple(calendars))

    plan = plans[plan_name]
    for calendar_name in (plan.p1_calendar, plan.business_calendar):
        if not calendars[calendar_name].has_working_hours():
            raise _config_error(
                source,
                f"calendars.{calendar_name}.hours",
                "no range on any weekday",
                f"at least one weekday with a range, since plan {plan.name} uses this calendar",
            )
    return SlaConfig(plan=plan, calendars=MappingProxyType(calendars))


# --------------------------------------------------------------------------- the SLA clock


def check_priority(priority: Any) -> str:
    """Return ``priority`` when it is one of PRIORITIES, else raise SlaConfigError listing them."""
    if priority not in PRIORITIES:
        raise SlaConfigError(f"unknown priority {_found(priority)}; allowed: {', '.join(PRIORITIES)}")
    return priority


def response_target_minutes(priority: str) -> int:
    """The response target of ``priority`` in (business) minutes."""
    return RESPONSE_TARGET_MINUTES[check_priority(priority)]


def iso_utc(instant: datetime) -> str:
    """ISO 8601 text of an aware datetime in UTC with a 'Z' suffix."""
    text = _require_aware(instant).astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def response_due(detected_at: datetime, priority: str, sla: SlaConfig) -> dict[str, Any]:
    """The response deadline of an alarm of ``priority`` detected at ``detected_at``.

    Returns {"priority", "target_minutes", "calendar" (name), "due" (aware UTC datetime),
    "due_iso" (ISO text ending in Z)}.  P1 counts on the plan's p1_calendar, P2-P4 on its
    business_calendar.
    """
    target = response_target_minutes(priority)
    calendar = sla.calendar_for(priority)
    due = add_business_time(detected_at, target, calendar)
    return {"priority": priority, "target_minutes": target, "calendar": calendar.name, "due": due, "due_iso": iso_utc(due)}
