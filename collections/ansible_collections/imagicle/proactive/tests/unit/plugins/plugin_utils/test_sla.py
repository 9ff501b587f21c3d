# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deadlines worked out by hand, plans, calendars and the imagicle_sla settings.

Offsets used below: Europe/Rome is UTC+1 (CET) in winter and UTC+2 (CEST) from
2026-03-29 01:00Z to 2026-10-25 01:00Z (and from 2027-03-28 01:00Z); America/New_York is
UTC-5 (EST) and UTC-4 (EDT) from 2026-03-08 07:00Z to 2026-11-01 06:00Z.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils import sla as sla_module
from ansible_collections.imagicle.proactive.plugins.plugin_utils.sla import (
    DEFAULT_CALENDARS,
    DEFAULT_PLANS,
    END_OF_DAY,
    Calendar,
    SlaConfigError,
    SlaInputError,
    add_business_time,
    build_sla,
    is_working_time,
    response_due,
    working_intervals_utc,
)

SOURCE = "inventory variable imagicle_sla of host ias-a"
ROME = ZoneInfo("Europe/Rome")
NEW_YORK = ZoneInfo("America/New_York")


def utc(text: str) -> datetime:
    """'2026-11-27T16:50' -> aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def calendar_named(name: str, **settings) -> Calendar:
    return build_sla(settings, SOURCE).calendars[name]


def custom_calendar(timezone_name: str, hours: dict[int, tuple[tuple[time, time], ...]]) -> Calendar:
    return Calendar("custom", timezone_name, hours=hours, holiday_country=None)


SUNDAY_ALL_DAY_MONDAY_9_18 = {6: ((time(0), END_OF_DAY),), 0: ((time(9), time(18)),)}
NEW_YORK_SETTINGS = {"timezone": "America/New_York", "holidays": {"country": "US"}}
BUSINESS, EXTENDED, ALWAYS = (calendar_named(name) for name in ("business", "extended", "always"))
NY_BUSINESS, NY_EXTENDED, NY_ALWAYS = (calendar_named(name, **NEW_YORK_SETTINGS) for name in ("business", "extended", "always"))
ROME_SUNDAY_ALL_DAY = custom_calendar("Europe/Rome", SUNDAY_ALL_DAY_MONDAY_9_18)
NY_SUNDAY_ALL_DAY = custom_calendar("America/New_York", SUNDAY_ALL_DAY_MONDAY_9_18)
ROME_SUNDAY_0230_0400 = custom_calendar("Europe/Rome", {6: ((time(2, 30), time(4)),)})
ROME_SUNDAY_0200_0230 = custom_calendar("Europe/Rome", {6: ((time(2), time(2, 30)),)})

# (case, calendar, detected at, minutes, expected due) - expected values reasoned by hand.
DEADLINES = [
    # Rome business hours Mon-Fri 09:00-18:00 (CET, UTC+1)
    ("same day", BUSINESS, utc("2026-11-25T09:00"), 240, utc("2026-11-25T13:00")),
    ("before opening counts from 09:00", BUSINESS, utc("2026-11-23T06:00"), 120, utc("2026-11-23T10:00")),
    ("ends exactly at closing", BUSINESS, utc("2026-11-25T09:00"), 480, utc("2026-11-25T17:00")),
    ("after closing counts from next morning", BUSINESS, utc("2026-11-25T18:30"), 60, utc("2026-11-26T09:00")),
    # Friday 17:50 CET + 4 business hours: 10 min on Friday, 230 min from Monday 09:00 -> 12:50 CET
    ("Friday 17:50 + 4h -> Monday 12:50", BUSINESS, utc("2026-11-27T16:50"), 240, utc("2026-11-30T11:50")),
    (
        "Friday 17:50 + 4h, Monday an extra holiday -> Tuesday 12:50",
        calendar_named("business", holidays={"dates": ["2026-11-30"]}),
        utc("2026-11-27T16:50"),
        240,
        utc("2026-12-01T11:50"),
    ),
    ("Saturday alarm waits for Monday", BUSINESS, utc("2026-11-28T09:00"), 480, utc("2026-11-30T16:00")),
    # 2026-12-08 (Tuesday) Immaculate Conception: Monday 16:00-18:00 then Wednesday 09:00-11:00 CET
    ("Italian holiday 2026-12-08", BUSINESS, utc("2026-12-07T15:00"), 240, utc("2026-12-09T10:00")),
    ("no public holidays when country is null", calendar_named("business", holidays={"country": None}), utc("2026-12-07T15:00"), 240, utc("2026-12-08T10:00")),
    # 2025-12-25 (Thu) and 26 (Fri): Wednesday 17:00-18:00, then Monday 29th 09:00 + 7 h
    ("Christmas and St Stephen 2025", BUSINESS, utc("2025-12-24T16:00"), 480, utc("2025-12-29T15:00")),
    # Easter Monday 2027-03-29; the clocks also change on Sunday 2027-03-28 (Tuesday is CEST)
    ("Easter Monday 2027", BUSINESS, utc("2027-03-26T16:00"), 240, utc("2027-03-30T10:00")),
    # Rome's patron saints (subdivision RM): Monday 2026-06-29 is closed
    ("subdivision holiday", calendar_named("business", holidays={"country": "IT", "subdivision": "RM"}), utc("2026-06-29T08:00"), 60, utc("2026-06-30T08:00")),
    (
        "holidays_apply false works on holidays",
        calendar_named("business", calendars={"business": {"holidays_apply": False}}),
        utc("2026-12-08T08:00"),
        60,
        utc("2026-12-08T09:00"),
    ),
    (
        "split hours with a lunch break",
        calendar_named("business", calendars={"business": {"hours": {"wed": ["09:00-13:00", "14:00-18:00"]}}}),
        utc("2026-11-25T11:00"),  # 12:00 CET: 60 min to 13:00, 60 min from 14:00
        120,
        utc("2026-11-25T14:00"),
    ),
    # Rome DST spring, Sunday 2026-03-29: Friday 17:00-18:00 CET, Monday 09:00 CEST (07:00Z) + 3 h
    ("business across the spring change, Rome", BUSINESS, utc("2026-03-27T16:00"), 240, utc("2026-03-30T10:00")),
    # "02:30" does not exist on 2026-03-29; 01:30Z is 03:30 CEST. Extended has no Sunday hours: Monday 08:00 CEST + 1 h
    ("extended, 02:30 on the spring-change Sunday, Rome", EXTENDED, utc("2026-03-29T01:30"), 60, utc("2026-03-30T07:00")),
    ("always, 02:30 on the spring-change Sunday, Rome", ALWAYS, utc("2026-03-29T01:30"), 60, utc("2026-03-29T02:30")),
    # Python maps the nonexistent 02:30 (fold=0) with the pre-change offset: 01:30Z
    ("always, nonexistent local 02:30, Rome", ALWAYS, datetime(2026, 3, 29, 2, 30, tzinfo=ROME), 60, utc("2026-03-29T02:30")),
    # Sunday 00:00-24:00 has 23 hours (2026-03-28T23:00Z .. 2026-03-29T22:00Z): 00:30 CET + 4 h = 05:30 CEST
    ("custom all-day Sunday, spring, Rome", ROME_SUNDAY_ALL_DAY, utc("2026-03-28T23:30"), 240, utc("2026-03-29T03:30")),
    # 23:00 CEST Sunday: 60 min to midnight, 60 min from Monday 09:00 CEST
    ("custom all-day Sunday into Monday, Rome", ROME_SUNDAY_ALL_DAY, utc("2026-03-29T21:00"), 120, utc("2026-03-30T08:00")),
    # A range starting inside the skipped hour starts when the clock jumps: 02:30-04:00 -> 03:00-04:00 CEST = 01:00Z-02:00Z
    ("range edge in the spring gap", ROME_SUNDAY_0230_0400, utc("2026-03-29T00:00"), 30, utc("2026-03-29T01:30")),
    # 60 min that Sunday, then the next Sunday 2026-04-05 02:30 CEST (00:30Z) + 30 min
    ("range edge in the spring gap, next week", ROME_SUNDAY_0230_0400, utc("2026-03-29T00:00"), 90, utc("2026-04-05T01:00")),
    # Rome DST autumn, Sunday 2026-10-25 (03:00 CEST -> 02:00 CET at 01:00Z)
    ("business across the autumn change, Rome", BUSINESS, utc("2026-10-23T15:00"), 240, utc("2026-10-26T11:00")),
    ("extended, first 02:30 on the autumn-change Sunday, Rome", EXTENDED, utc("2026-10-25T00:30"), 60, utc("2026-10-26T08:00")),
    ("always, first 02:30 (CEST), Rome", ALWAYS, datetime(2026, 10, 25, 2, 30, tzinfo=ROME), 60, utc("2026-10-25T01:30")),
    ("always, second 02:30 (CET), Rome", ALWAYS, datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=ROME), 60, utc("2026-10-25T02:30")),
    # Sunday 00:00-24:00 has 25 hours (2026-10-24T22:00Z .. 2026-10-25T23:00Z)
    ("custom all-day Sunday has 25 hours, Rome", ROME_SUNDAY_ALL_DAY, utc("2026-10-24T22:00"), 1500, utc("2026-10-25T23:00")),
    ("custom all-day Sunday then Monday 09:00 CET", ROME_SUNDAY_ALL_DAY, utc("2026-10-24T22:00"), 1560, utc("2026-10-26T09:00")),
    # 02:00-02:30 happens twice: 00:00Z-00:30Z (CEST) and 01:00Z-01:30Z (CET); 30 + 15 min
    ("range inside the repeated hour counts twice", ROME_SUNDAY_0200_0230, utc("2026-10-25T00:00"), 45, utc("2026-10-25T01:15")),
    # New York DST spring, Sunday 2026-03-08 (02:00 EST -> 03:00 EDT at 07:00Z)
    ("business across the spring change, New York", NY_BUSINESS, utc("2026-03-06T22:00"), 240, utc("2026-03-09T16:00")),
    ("extended, 02:30 on the spring-change Sunday, New York", NY_EXTENDED, utc("2026-03-08T07:30"), 60, utc("2026-03-09T13:00")),
    ("extended, Saturday morning then Monday, New York", NY_EXTENDED, utc("2026-03-07T17:30"), 60, utc("2026-03-09T12:30")),
    ("always, 02:30 on the spring-change Sunday, New York", NY_ALWAYS, utc("2026-03-08T07:30"), 60, utc("2026-03-08T08:30")),
    ("always, nonexistent local 02:30, New York", NY_ALWAYS, datetime(2026, 3, 8, 2, 30, tzinfo=NEW_YORK), 60, utc("2026-03-08T08:30")),
    # Sunday 00:00 EST = 05:00Z; 01:30 EST + 60 min = 03:30 EDT
    ("custom all-day Sunday, spring, New York", NY_SUNDAY_ALL_DAY, utc("2026-03-08T06:30"), 60, utc("2026-03-08T07:30")),
    # Sunday 2026-03-08 has 23 hours: 05:00Z .. 2026-03-09T04:00Z
    ("custom all-day Sunday has 23 hours, New York", NY_SUNDAY_ALL_DAY, utc("2026-03-08T05:00"), 1380, utc("2026-03-09T04:00")),
    # New York DST autumn, Sunday 2026-11-01 (02:00 EDT -> 01:00 EST at 06:00Z); 02:30 local is EST, 07:30Z
    ("business across the autumn change, New York", NY_BUSINESS, utc("2026-10-30T21:00"), 240, utc("2026-11-02T17:00")),
    ("extended, 02:30 on the autumn-change Sunday, New York", NY_EXTENDED, utc("2026-11-01T07:30"), 60, utc("2026-11-02T14:00")),
    ("always, 02:30 on the autumn-change Sunday, New York", NY_ALWAYS, datetime(2026, 11, 1, 2, 30, tzinfo=NEW_YORK), 60, utc("2026-11-01T08:30")),
    ("always, first 01:30 (EDT), New York", NY_ALWAYS, datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK), 60, utc("2026-11-01T06:30")),
    # Sunday 00:00 EDT = 04:00Z .. 24:00 EST = 2026-11-02T05:00Z: 25 hours
    ("custom all-day Sunday has 25 hours, New York", NY_SUNDAY_ALL_DAY, utc("2026-11-01T04:00"), 1500, utc("2026-11-02T05:00")),
    ("custom all-day Sunday, autumn, New York", NY_SUNDAY_ALL_DAY, utc("2026-11-01T05:30"), 120, utc("2026-11-01T07:30")),
    # US holiday: Thanksgiving Thursday 2026-11-26; Wednesday 17:00 EST (22:00Z) + 2h -> Friday 10:00 EST
    ("US Thanksgiving", NY_BUSINESS, utc("2026-11-25T22:00"), 120, utc("2026-11-27T15:00")),
    # 24/7: plain clock addition, whatever the day
    ("24/7 plain addition across a weekend", ALWAYS, utc("2026-11-27T16:50"), 4 * 24 * 60 + 7, utc("2026-12-01T16:57")),
    ("24/7 ignores holidays", ALWAYS, utc("2026-12-25T10:00"), 480, utc("2026-12-25T18:00")),
    ("fractional minutes", BUSINESS, utc("2026-11-25T15:59"), 1.5, utc("2026-11-25T16:00:30")),
    ("fractional minutes across closing", BUSINESS, utc("2026-11-25T16:59"), 1.5, utc("2026-11-26T08:00:30")),
    ("zero minutes inside working time", BUSINESS, utc("2026-11-25T10:00"), 0, utc("2026-11-25T10:00")),
    ("zero minutes outside working time", BUSINESS, utc("2026-11-28T10:00"), 0, utc("2026-11-30T08:00")),
    ("detected with a non-UTC offset", BUSINESS, datetime.fromisoformat("2026-11-27T17:50:00+01:00"), 240, utc("2026-11-30T11:50")),
]


@pytest.mark.parametrize(("calendar", "detected_at", "minutes", "expected"), [case[1:] for case in DEADLINES], ids=[case[0] for case in DEADLINES])
def test_deadline(calendar: Calendar, detected_at: datetime, minutes: float, expected: datetime) -> None:
    due = add_business_time(detected_at, minutes, calendar)
    assert due == expected
    assert due.tzinfo == timezone.utc


# (case, settings, priority, detected at, expected calendar, expected due)
RESPONSES = [
    # Sunday 2026-11-29 03:00 CET (02:00Z)
    ("P1 platinum counts 24/7", {"plan": "platinum"}, "P1", utc("2026-11-29T02:00"), "always", utc("2026-11-29T03:00")),
    ("P1 gold waits for extended hours, Monday 08:00 CET", {"plan": "gold"}, "P1", utc("2026-11-29T02:00"), "extended", utc("2026-11-30T08:00")),
    ("P1 basic waits for business hours, Monday 09:00 CET", {"plan": "basic"}, "P1", utc("2026-11-29T02:00"), "business", utc("2026-11-30T09:00")),
    # Saturday 12:30 CET: 30 min until 13:00, then Monday 08:00 + 30
    ("P1 gold on Saturday morning", {"plan": "gold"}, "P1", utc("2026-11-28T11:30"), "extended", utc("2026-11-30T07:30")),
    ("P2 platinum still on business hours", {"plan": "platinum"}, "P2", utc("2026-11-27T16:50"), "business", utc("2026-11-30T09:50")),
    ("P4 gold", {"plan": "gold"}, "P4", utc("2026-11-27T16:50"), "business", utc("2026-11-30T15:50")),
    (
        "plan override: gold P1 on business",
        {"plan": "gold", "plans": {"gold": {"p1_calendar": "business"}}},
        "P1",
        utc("2026-11-28T11:30"),
        "business",
        utc("2026-11-30T09:00"),
    ),
    ("default plan is basic", None, "P3", utc("2026-11-27T16:50"), "business", utc("2026-11-30T11:50")),
]


@pytest.mark.parametrize(
    ("settings", "priority", "detected_at", "calendar_name", "expected"), [case[1:] for case in RESPONSES], ids=[case[0] for case in RESPONSES]
)
def test_response_due(settings, priority: str, detected_at: datetime, calendar_name: str, expected: datetime) -> None:
    result = response_due(detected_at, priority, build_sla(settings, SOURCE))
    assert result["calendar"] == calendar_name
    assert result["due"] == expected
    assert result["due_iso"] == expected.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert result["priority"] == priority
    assert result["target_minutes"] == {"P1": 60, "P2": 120, "P3": 240, "P4": 480}[priority]


def test_response_due_rejects_unknown_priority() -> None:
    with pytest.raises(SlaConfigError, match=r"'P5'.*P1, P2, P3, P4"):
        response_due(utc("2026-11-27T16:50"), "P5", build_sla(None, SOURCE))


def test_default_plans() -> None:
    assert (DEFAULT_PLANS["basic"].proactive, DEFAULT_PLANS["basic"].p1_calendar, DEFAULT_PLANS["basic"].page_on_p1) == (False, "business", False)
    assert (DEFAULT_PLANS["gold"].proactive, DEFAULT_PLANS["gold"].p1_calendar, DEFAULT_PLANS["gold"].page_on_p1) == (True, "extended", False)
    assert (DEFAULT_PLANS["platinum"].proactive, DEFAULT_PLANS["platinum"].p1_calendar, DEFAULT_PLANS["platinum"].page_on_p1) == (True, "always", True)
    assert {plan.business_calendar for plan in DEFAULT_PLANS.values()} == {"business"}


def test_naive_start_is_rejected() -> None:
    with pytest.raises(SlaInputError, match="no timezone"):
        add_business_time(datetime(2026, 11, 27, 17, 50), 60, DEFAULT_CALENDARS["business"])
    with pytest.raises(ValueError):
        add_business_time(datetime(2026, 11, 27, 17, 50), 60, DEFAULT_CALENDARS["always"])


@pytest.mark.parametrize("minutes", [-1, float("nan"), float("inf"), "60", True])
def test_bad_minutes_are_rejected(minutes) -> None:
    with pytest.raises(SlaInputError, match="minutes"):
        add_business_time(utc("2026-11-25T10:00"), minutes, DEFAULT_CALENDARS["business"])


def test_calendar_without_hours_raises_instead_of_looping() -> None:
    empty = Calendar("empty", "Europe/Rome", hours={})
    with pytest.raises(SlaConfigError, match="'empty' has no working hours"):
        add_business_time(utc("2026-11-25T10:00"), 60, empty)


def test_calendar_with_only_holidays_stops_with_a_clear_error() -> None:
    mondays = frozenset(date(2026, 11, 30) + timedelta(weeks=week) for week in range(200))
    only_mondays = Calendar("mondays", "Europe/Rome", hours={0: ((time(9), time(18)),)}, extra_holidays=mondays)
    with pytest.raises(SlaConfigError, match="'mondays' has no working time in the 732 days"):
        add_business_time(utc("2026-11-25T10:00"), 60, only_mondays)


def test_is_working_day() -> None:
    business = DEFAULT_CALENDARS["business"]
    assert business.is_working_day(date(2026, 11, 27))  # Friday
    assert not business.is_working_day(date(2026, 11, 28))  # Saturday
    assert not business.is_working_day(date(2026, 12, 8))  # Immaculate Conception
    assert DEFAULT_CALENDARS["extended"].is_working_day(date(2026, 11, 28))  # Saturday morning
    assert not DEFAULT_CALENDARS["extended"].is_working_day(date(2026, 12, 26))  # St Stephen, a Saturday
    assert DEFAULT_CALENDARS["always"].is_working_day(date(2026, 12, 25))


def test_working_intervals_on_dst_days() -> None:
    all_day = custom_calendar("Europe/Rome", {6: ((time(0), END_OF_DAY),)})
    assert working_intervals_utc(all_day, date(2026, 3, 29)) == ((utc("2026-03-28T23:00"), utc("2026-03-29T22:00")),)
    assert working_intervals_utc(all_day, date(2026, 10, 25)) == ((utc("2026-10-24T22:00"), utc("2026-10-25T23:00")),)
    repeated = custom_calendar("Europe/Rome", {6: ((time(2), time(2, 30)),)})
    assert working_intervals_utc(repeated, date(2026, 10, 25)) == (
        (utc("2026-10-25T00:00"), utc("2026-10-25T00:30")),
        (utc("2026-10-25T01:00"), utc("2026-10-25T01:30")),
    )
    skipped = custom_calendar("Europe/Rome", {6: ((time(2), time(3)),)})
    assert working_intervals_utc(skipped, date(2026, 3, 29)) == ()


def test_is_working_time() -> None:
    business = DEFAULT_CALENDARS["business"]
    assert is_working_time(utc("2026-11-27T08:00"), business)  # 09:00 CET
    assert not is_working_time(utc("2026-11-27T17:00"), business)  # 18:00 CET, end is exclusive
    assert is_working_time(datetime(2026, 11, 27, 17, 59, tzinfo=ROME), business)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus'"),
        ({"hours": {0: ((time(18), time(9)),)}}, "must start before it ends"),
        ({"hours": {0: ((time(9), time(13)), (time(12), time(18)))}}, "overlap"),
        ({"hours": {7: ((time(9), time(18)),)}}, "0 \\(Monday\\) to 6 \\(Sunday\\)"),
        ({"hours": {0: (("09:00", "18:00"),)}}, "datetime.time pairs"),
        ({"holiday_country": "XX"}, "Country XX not available"),
        ({"holiday_subdivision": "RM"}, "needs a holiday country"),
    ],
)
def test_calendar_validation(kwargs, message: str) -> None:
    with pytest.raises(SlaConfigError, match=message):
        Calendar("custom", **kwargs)


def test_build_sla_applies_timezone_and_holidays_to_every_calendar() -> None:
    sla = build_sla({"plan": "gold", "timezone": "Asia/Tokyo", "holidays": {"country": "JP", "dates": [date(2026, 12, 24), "2026-12-23"]}}, SOURCE)
    assert sla.plan.name == "gold"
    assert {calendar.timezone for calendar in sla.calendars.values()} == {"Asia/Tokyo"}
    assert sla.calendars["business"].holiday_country == "JP"
    assert sla.calendars["extended"].extra_holidays == frozenset({date(2026, 12, 23), date(2026, 12, 24)})
    assert sla.calendars["always"].always and sla.calendars["always"].holiday_country is None


def test_build_sla_partial_calendar_replaces_only_given_weekdays() -> None:
    sla = build_sla({"calendars": {"business": {"hours": {"mon": ["08:00-12:00", "13:00-17:00"], "fri": [], "sat": ["10:00-24:00"]}}}}, SOURCE)
    hours = sla.calendars["business"].hours
    assert hours[0] == ((time(8), time(12)), (time(13), time(17)))
    assert hours[1] == ((time(9), time(18)),)
    assert hours[4] == ()
    assert hours[5] == ((time(10), END_OF_DAY),)
    assert sla.calendars["extended"].hours[0] == ((time(8), time(20)),)


MALFORMED = [
    ("not a mapping", ["gold"], "(top level)"),
    ("unknown top-level key", {"plann": "gold"}, "key plann:"),
    ("unknown plan", {"plan": "diamond"}, "key plan: found 'diamond'; allowed: one of basic, gold, platinum"),
    ("unknown timezone", {"timezone": "Mars/Olympus"}, "key timezone"),
    ("timezone not a string", {"timezone": 5}, "key timezone"),
    ("holidays not a mapping", {"holidays": "IT"}, "key holidays:"),
    ("unknown holidays key", {"holidays": {"region": "Lazio"}}, "key holidays.region"),
    ("unknown country", {"holidays": {"country": "XX"}}, "key holidays.country: found 'XX'"),
    ("unknown subdivision", {"holidays": {"country": "IT", "subdivision": "ZZ"}}, "key holidays.subdivision: found 'ZZ'"),
    ("subdivision without country", {"holidays": {"country": None, "subdivision": "RM"}}, "key holidays.subdivision"),
    ("bad extra date", {"holidays": {"dates": ["2026-12-24", "2026-13-01"]}}, "key holidays.dates[1]: found '2026-13-01'"),
    ("dates not a list", {"holidays": {"dates": "2026-12-24"}}, "key holidays.dates:"),
    ("unknown calendar", {"calendars": {"nightly": {}}}, "key calendars.nightly"),
    ("always takes no settings", {"calendars": {"always": {"hours": {}}}}, "key calendars.always"),
    ("unknown calendar key", {"calendars": {"business": {"timezone": "UTC"}}}, "key calendars.business.timezone"),
    ("unknown weekday", {"calendars": {"business": {"hours": {"monday": []}}}}, "key calendars.business.hours.monday"),
    ("hour 25", {"calendars": {"business": {"hours": {"mon": ["25:00-26:00"]}}}}, "key calendars.business.hours.mon[0]: found '25:00-26:00'"),
    ("end before start", {"calendars": {"business": {"hours": {"tue": ["18:00-09:00"]}}}}, "key calendars.business.hours.tue[0]: found '18:00-09:00'"),
    ("end after 24:00", {"calendars": {"business": {"hours": {"tue": ["09:00-24:30"]}}}}, "key calendars.business.hours.tue[0]"),
    ("not HH:MM", {"calendars": {"extended": {"hours": {"sat": ["9-13"]}}}}, "key calendars.extended.hours.sat[0]: found '9-13'"),
    ("overlapping ranges", {"calendars": {"business": {"hours": {"wed": ["09:00-13:00", "12:00-18:00"]}}}}, "key calendars.business.hours.wed: found"),
    ("ranges not a list", {"calendars": {"business": {"hours": {"thu": "09:00-18:00"}}}}, "key calendars.business.hours.thu:"),
    ("range not a string", {"calendars": {"business": {"hours": {"thu": [900]}}}}, "key calendars.business.hours.thu[0]: found 900"),
    (
        "holidays_apply not a bool",
        {"calendars": {"business": {"holidays_apply": "yes"}}},
        "key calendars.business.holidays_apply: found 'yes'; allowed: true or false",
    ),
    (
        "plan's calendar has no hours",
        {"calendars": {"business": {"hours": {day: [] for day in ("mon", "tue", "wed", "thu", "fri")}}}},
        "key calendars.business.hours",
    ),
    ("unknown plan in plans", {"plans": {"diamond": {}}}, "key plans.diamond"),
    (
        "unknown calendar in a plan",
        {"plans": {"gold": {"p1_calendar": "night"}}},
        "key plans.gold.p1_calendar: found 'night'; allowed: one of the calendars business, extended, always",
    ),
    ("plan flag not a bool", {"plans": {"gold": {"page_on_p1": "yes"}}}, "key plans.gold.page_on_p1"),
    ("plan name not overridable", {"plans": {"gold": {"name": "x"}}}, "key plans.gold.name"),
]


@pytest.mark.parametrize(("settings", "expected"), [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED])
def test_malformed_settings(settings, expected: str) -> None:
    with pytest.raises(SlaConfigError) as raised:
        build_sla(settings, SOURCE)
    message = str(raised.value)
    assert message.startswith(SOURCE)
    assert expected in message
    assert isinstance(raised.value, ValueError)


def test_missing_holidays_library_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sla_module, "holidays_lib", None)
    sla_module.public_holiday_dates.cache_clear()
    try:
        with pytest.raises(SlaConfigError, match="pip install holidays"):
            build_sla({"holidays": {"country": "IT"}}, SOURCE)
        with pytest.raises(SlaConfigError, match="pip install holidays"):
            Calendar("business", hours={1: ((time(9), time(18)),)}, holiday_country="IT").is_working_day(date(2026, 12, 8))
        no_public_holidays = build_sla({"holidays": {"country": None}}, SOURCE)
        assert response_due(utc("2026-12-07T15:00"), "P3", no_public_holidays)["due"] == utc("2026-12-08T10:00")
    finally:
        sla_module.public_holiday_dates.cache_clear()
