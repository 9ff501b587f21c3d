# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Properties of the SLA clock over random calendars, timezones, detection times and durations.

The reference for "is this minute working time" is a brute-force check written here: take
the instant's local wall time in the calendar's timezone and look it up in the weekday's
ranges and the holiday list, one minute at a time.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.imagicle.proactive.plugins.plugin_utils.sla import END_OF_DAY, Calendar, add_business_time

TIMEZONES = ("Europe/Rome", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC")
HOLIDAY_COUNTRIES = (None, "IT", "US", "JP", "AU")
BASE = datetime(2024, 1, 1, tzinfo=timezone.utc)
SPAN_MINUTES = 7 * 366 * 24 * 60  # detection times over 2024-2030
# Days on which the clocks change; detection times are drawn near those of the calendar's zone too.
DST_DAYS = {
    "Europe/Rome": (date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28)),
    "America/New_York": (date(2026, 3, 8), date(2026, 11, 1), date(2027, 3, 14)),
    "Australia/Sydney": (date(2026, 4, 5), date(2026, 10, 4), date(2027, 4, 4)),
}
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def weekday_ranges(draw) -> tuple[tuple[time, time], ...]:
    """0-3 disjoint ranges on a 30-minute grid, so edges fall inside DST hours too."""
    count = draw(st.integers(0, 3))
    points = sorted(draw(st.sets(st.integers(0, 48), min_size=2 * count, max_size=2 * count)))
    ranges = []
    for start, end in zip(points[0::2], points[1::2]):
        end_time = END_OF_DAY if end == 48 else time(end // 2, 30 * (end % 2))
        ranges.append((time(start // 2, 30 * (start % 2)), end_time))
    return tuple(ranges)


@st.composite
def calendars(draw) -> Calendar:
    hours = {weekday: draw(weekday_ranges()) for weekday in range(7)}
    if not any(hours.values()):
        hours[draw(st.integers(0, 6))] = ((time(9), time(17)),)
    country = draw(st.sampled_from(HOLIDAY_COUNTRIES))
    extra = draw(st.frozensets(st.dates(date(2024, 1, 1), date(2031, 12, 31)), max_size=5))
    return Calendar(
        "random",
        draw(st.sampled_from(TIMEZONES)),
        hours=hours,
        holiday_country=country,
        extra_holidays=extra,
        holidays_apply=draw(st.booleans()),
    )


def any_time(zone: str) -> st.SearchStrategy[datetime]:
    """Whole-minute UTC instants over several years, or within a day and a half of a DST change in ``zone``."""
    uniform = st.integers(0, SPAN_MINUTES).map(lambda minute: BASE + timedelta(minutes=minute))
    if zone not in DST_DAYS:
        return uniform
    near_dst = st.tuples(st.sampled_from(DST_DAYS[zone]), st.integers(-36 * 60, 36 * 60)).map(
        lambda pair: datetime.combine(pair[0], time(), tzinfo=timezone.utc) + timedelta(minutes=pair[1])
    )
    return st.one_of(uniform, near_dst)


@st.composite
def calendar_and_time(draw) -> tuple[Calendar, datetime]:
    calendar = draw(calendars())
    return calendar, draw(any_time(calendar.timezone))


def weekly_working_minutes(calendar: Calendar) -> int:
    total = 0
    for ranges in calendar.hours.values():
        for start, end in ranges:
            end_minutes = 24 * 60 if end == END_OF_DAY else end.hour * 60 + end.minute
            total += end_minutes - (start.hour * 60 + start.minute)
    return total


def brute_is_working_minute(instant: datetime, calendar: Calendar, holiday_cache: dict) -> bool:
    """Independent reference: local wall time of ``instant`` inside a range of its local weekday, not a holiday."""
    local = instant.astimezone(ZoneInfo(calendar.timezone))
    day = local.date()
    if calendar.holidays_apply:
        if day in calendar.extra_holidays:
            return False
        if calendar.holiday_country is not None:
            key = (calendar.holiday_country, day.year)
            if key not in holiday_cache:
                holiday_cache[key] = holidays.country_holidays(calendar.holiday_country, years=day.year)
            if day in holiday_cache[key]:
                return False
    wall = local.time().replace(tzinfo=None, fold=0)
    return any(start <= wall and (end == END_OF_DAY or wall < end) for start, end in calendar.hours.get(day.weekday(), ()))


@PROPERTY_SETTINGS
@given(calendar_start=calendar_and_time(), minutes=st.integers(0, 3000))
def test_deadline_is_inside_or_at_the_end_of_working_time(calendar_start: tuple[Calendar, datetime], minutes: int) -> None:
    calendar, start = calendar_start
    due = add_business_time(start, minutes, calendar)
    assert due.tzinfo == timezone.utc
    assert due >= start
    holiday_cache: dict = {}
    if minutes:
        assert brute_is_working_minute(due - timedelta(minutes=1), calendar, holiday_cache)
    else:
        assert brute_is_working_minute(due, calendar, holiday_cache)


@PROPERTY_SETTINGS
@given(calendar_start=calendar_and_time(), later_by=st.integers(0, 5000), minutes=st.integers(0, 3000))
def test_monotonic_in_detection_time(calendar_start: tuple[Calendar, datetime], later_by: int, minutes: int) -> None:
    calendar, first = calendar_start
    second = first + timedelta(minutes=later_by)
    assert add_business_time(first, minutes, calendar) <= add_business_time(second, minutes, calendar)


@PROPERTY_SETTINGS
@given(calendar_start=calendar_and_time(), minutes=st.integers(0, 3000), more=st.integers(0, 3000))
def test_monotonic_in_minutes(calendar_start: tuple[Calendar, datetime], minutes: int, more: int) -> None:
    calendar, start = calendar_start
    assert add_business_time(start, minutes, calendar) <= add_business_time(start, minutes + more, calendar)


@PROPERTY_SETTINGS
@given(calendar_start=calendar_and_time(), first_part=st.integers(1, 3000), second_part=st.integers(1, 3000))
def test_additive(calendar_start: tuple[Calendar, datetime], first_part: int, second_part: int) -> None:
    # Both parts positive: a deadline may fall at the very end of a working interval, and zero
    # minutes from there mean the next opening (a zero-minute target counts from working time),
    # so add(add(t, a), 0) is not add(t, a) at such an end.
    calendar, start = calendar_start
    halfway = add_business_time(start, first_part, calendar)
    assert add_business_time(halfway, second_part, calendar) == add_business_time(start, first_part + second_part, calendar)


@PROPERTY_SETTINGS
@given(zone=st.sampled_from(TIMEZONES), start=any_time("Europe/Rome"), seconds=st.integers(0, 10**8), local_view=st.sampled_from(TIMEZONES))
def test_always_is_plain_clock_addition(zone: str, start: datetime, seconds: int, local_view: str) -> None:
    always = Calendar("always", zone, always=True, holiday_country="IT")
    detected_at = start.astimezone(ZoneInfo(local_view))
    assert add_business_time(detected_at, seconds / 60, always) == start + timedelta(seconds=seconds)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendar_start=calendar_and_time(), data=st.data())
def test_business_minutes_between_start_and_due_match_brute_force(calendar_start: tuple[Calendar, datetime], data: st.DataObject) -> None:
    """Counting working minutes one by one from start to due gives exactly the minutes asked for."""
    calendar, start = calendar_start
    minutes = data.draw(st.integers(0, min(600, weekly_working_minutes(calendar))), label="minutes")
    due = add_business_time(start, minutes, calendar)
    holiday_cache: dict = {}
    counted = 0
    instant = start
    while instant < due:
        counted += brute_is_working_minute(instant, calendar, holiday_cache)
        instant += timedelta(minutes=1)
    assert instant == due  # every edge lies on a whole minute
    assert counted == minutes
