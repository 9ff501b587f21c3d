# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""disk_space and database_space with metric history: predicted full within predict_warn_days
gives the warn level, within predict_crit_days the crit level, on the same alarm and fingerprint
as the thresholds; without enough history nothing changes."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils import rules
from ansible_collections.imagicle.proactive.plugins.plugin_utils.history import DATABASE_USED_PERCENT, History, disk_metric
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import apply_overrides, evaluate, load_catalogue

from .health_fixture import healthy_health

T0 = datetime(2026, 11, 1, 0, 0, tzinfo=timezone.utc)
CATALOGUE = load_catalogue()
MOUNT = "/srv/appsuite"
TOTAL = 60000000
USED = disk_metric(MOUNT, "used_percent")
TOTAL_BYTES = disk_metric(MOUNT, "total_bytes")


def health_with(disk_used=None, database_used=None, total=TOTAL):
    health = healthy_health()
    disk = health["disks"]["items"][1]
    if disk_used is not None:
        disk.update(used_percent=disk_used, total_bytes=total)
    if database_used is not None:
        health["database"]["used_percent"] = database_used
    return health


def times(start, end, every=timedelta(hours=6)):
    """start, start + every, ... before end."""
    found, at = [], start
    while at < end:
        found.append(at)
        at += every
    return found


def disk_history(used_points, total_points=None):
    if total_points is None:
        total_points = [(at, TOTAL) for at, dummy in used_points]
    return History({USED: tuple(used_points), TOTAL_BYTES: tuple(total_points)})


def run(health, now, history=None, catalogue=CATALOGUE):
    return evaluate(health, host="ias-a", customer="acme", catalogue=catalogue, detected_at=now, history=history)


def space_alarm(alarms, rule="disk_space"):
    found = [alarm for alarm in alarms if alarm.rule == rule]
    assert len(found) <= 1
    return found[0] if found else None


def steady(rate_per_day, start=40.0):
    return lambda at: start + rate_per_day * (at - T0).total_seconds() / 86400


# --- a disk that fills steadily -----------------------------------------------------------------

def test_a_steadily_growing_disk_gets_p4_then_p3_before_crossing_the_thresholds():
    used = steady(2.0)  # 40 % on day 0, full on day 30
    seen, history = [], []
    for now in times(T0, T0 + timedelta(days=30)):
        alarm = space_alarm(run(health_with(used(now)), now, disk_history(history)))
        history.append((now, used(now)))
        if alarm is not None:
            seen.append((now, used(now), alarm))
    first_p4 = next(entry for entry in seen if entry[2].priority == "P4")
    first_p3 = next(entry for entry in seen if entry[2].priority == "P3")
    # Full in 14 days at 72 %, in 3 days at 94 %: long before the thresholds of 85 % and 95 %.
    assert first_p4[1] == pytest.approx(72.0) and first_p4[0] == T0 + timedelta(days=16)
    assert first_p3[1] == pytest.approx(94.0) and first_p3[0] == T0 + timedelta(days=27)
    assert first_p4[2].level == "warn" and first_p4[2].title == "Disk space running low"
    assert first_p3[2].level == "crit" and first_p3[2].title == "Disk space close to saturation"
    # One alarm per disk all along: the same fingerprint as the thresholds give, never lower again.
    assert {entry[2].fingerprint for entry in seen} == {rules.fingerprint("acme", "ias-a", "disk_space", MOUNT)}
    priorities = [entry[2].priority for entry in seen]
    assert priorities == sorted(priorities, reverse=True) and priorities[0] == "P4" and priorities[-1] == "P3"


def test_the_prediction_is_the_evidence_and_the_summary_says_when():
    used = steady(2.0)
    now = T0 + timedelta(days=20)  # 80 %: below the warn threshold, full in 10 days
    history = [(at, used(at)) for at in times(now - timedelta(days=7), now)]
    alarm = space_alarm(run(health_with(used(now)), now, disk_history(history)))
    assert (alarm.priority, alarm.level, alarm.subject) == ("P4", "warn", MOUNT)
    assert alarm.evidence["threshold"] is None  # no threshold reached: the prediction fired
    prediction = alarm.evidence["prediction"]
    assert prediction["eta"] == "2026-12-01T00:00:00Z"
    assert prediction["hours_left"] == pytest.approx(240.0)
    assert prediction["slope_per_day"] == pytest.approx(2.0)
    assert prediction["quality"] == 1.0
    assert prediction["points"] == 29  # 7 days every 6 h, and this run's value
    assert prediction["limit"] == 100.0 and prediction["last_value"] == pytest.approx(80.0)
    assert set(prediction) == {"eta", "hours_left", "slope_per_day", "quality", "points", "span_hours", "limit",
                               "last_value", "as_of", "reason"}
    assert alarm.summary == "/srv/appsuite is 80.0 % full (56.3 MB free); predicted full on 2026-12-01 (in 10 days)"


def test_a_threshold_above_the_prediction_wins_and_keeps_the_prediction_as_evidence():
    used = steady(1.0, start=70.0)  # 96 % on day 26, full 4 days later: predicted warn, threshold crit
    now = T0 + timedelta(days=26)
    history = [(at, used(at)) for at in times(now - timedelta(days=7), now)]
    alarm = space_alarm(run(health_with(used(now)), now, disk_history(history)))
    assert (alarm.priority, alarm.level, alarm.evidence["threshold"]) == ("P3", "crit", 95)
    assert alarm.evidence["prediction"]["eta"] == "2026-12-01T00:00:00Z"
    assert alarm.summary.endswith("; predicted full on 2026-12-01 (in 4 days)")


def test_the_prediction_above_the_threshold_wins():
    used = steady(3.0, start=10.0)  # 88 % on day 26: threshold warn, full in 4 days
    now = T0 + timedelta(days=26, hours=12)  # 89.5 %, full in 3.5 days
    history = [(at, used(at)) for at in times(now - timedelta(days=7), now)]
    assert space_alarm(run(health_with(used(now)), now, disk_history(history))).priority == "P4"
    now = T0 + timedelta(days=27)  # 91 %, full in 3 days
    history = [(at, used(at)) for at in times(now - timedelta(days=7), now)]
    alarm = space_alarm(run(health_with(used(now)), now, disk_history(history)))
    assert (alarm.priority, alarm.level, alarm.evidence["threshold"]) == ("P3", "crit", 85)
    assert alarm.summary.endswith("(in 3 days)")


def test_hours_are_said_when_less_than_two_days_are_left_and_now_when_the_trend_is_there():
    used = steady(24.0, start=0.0)  # 1 % per hour
    now = T0 + timedelta(days=4)  # 96 %, 4 h left
    history = [(at, used(at)) for at in times(now - timedelta(days=2), now, timedelta(hours=1))]
    alarm = space_alarm(run(health_with(used(now)), now, disk_history(history)))
    assert alarm.summary.endswith("; predicted full on 2026-11-05 (in 4 h)")
    # The measured value lags the trend (the trend is at 100 % already): full now.
    history = [(at, 100.5 - (now - at).total_seconds() / 3600) for at in times(now - timedelta(days=2), now, timedelta(hours=1))]
    alarm = space_alarm(run(health_with(99.6), now, disk_history(history)))
    assert alarm.summary.endswith("; predicted full now") and alarm.evidence["prediction"]["hours_left"] == 0


# --- resets --------------------------------------------------------------------------------------

def test_a_cleanup_restarts_the_trend():
    # 10 % a day from 20 % to 80 %, then a cleanup to 30 %, flat since: nothing to predict.
    before = [(at, 20.0 + 10.0 * (at - T0).total_seconds() / 86400) for at in times(T0, T0 + timedelta(days=6))]
    cleanup = T0 + timedelta(days=6)
    after = [(at, 30.0) for at in times(cleanup, cleanup + timedelta(days=1))]
    now = cleanup + timedelta(days=1)
    assert space_alarm(run(health_with(30.0), now, disk_history(before + after))) is None
    # Growing again after the cleanup: the prediction reads only what came after it.
    regrowing = [(at, 30.0 + 5.0 * (at - cleanup).total_seconds() / 86400) for at in times(cleanup, now)]
    alarm = space_alarm(run(health_with(35.0), now, disk_history(before + regrowing)))
    assert alarm.priority == "P4" and alarm.evidence["prediction"]["slope_per_day"] == pytest.approx(5.0)
    assert alarm.evidence["prediction"]["points"] == len(regrowing) + 1
    assert "since the reset at 2026-11-07T00:00:00Z" in alarm.evidence["prediction"]["reason"]


def test_a_bigger_disk_restarts_the_trend():
    used = steady(5.0)  # full in 4 days at 80 %
    now = T0 + timedelta(days=8)
    samples = [(at, used(at)) for at in times(now - timedelta(days=7), now)]
    assert space_alarm(run(health_with(used(now)), now, disk_history(samples))).priority == "P4"
    # The same percentages, but the disk was made bigger 12 hours ago: too little history since.
    resized = now - timedelta(hours=12)
    totals = [(at, TOTAL if at < resized else 2 * TOTAL) for at, dummy in samples]
    alarm = space_alarm(run(health_with(used(now), total=2 * TOTAL), now, disk_history(samples, totals)))
    assert alarm is None
    # A size that wanders by a few bytes is no resize.
    totals = [(at, TOTAL + index % 3) for index, (at, dummy) in enumerate(samples)]
    assert space_alarm(run(health_with(used(now)), now, disk_history(samples, totals))).priority == "P4"


# --- what never fires --------------------------------------------------------------------------

@pytest.mark.parametrize("level", [
    lambda index: 50.0,
    lambda index: 50.0 + (0.5 if index % 2 else -0.5),
    lambda index: 70.0 - 0.1 * index,
])
def test_a_flat_or_shrinking_disk_never_fires(level):
    history = []
    for index, now in enumerate(times(T0, T0 + timedelta(days=30))):
        assert space_alarm(run(health_with(level(index)), now, disk_history(history))) is None
        history.append((now, level(index)))


def test_slow_growth_beyond_predict_warn_days_does_not_fire():
    used = steady(1.0)  # 70 % on day 30: full in 30 days
    now = T0 + timedelta(days=30)
    history = [(at, used(at)) for at in times(now - timedelta(days=7), now)]
    assert space_alarm(run(health_with(used(now)), now, disk_history(history))) is None


# --- no history, too little, bad values --------------------------------------------------------

NOW = T0 + timedelta(days=20)


def alarm_dicts(alarms):
    return [alarm.to_dict() for alarm in alarms]


@pytest.mark.parametrize("disk_used", [50.0, 87.0, 97.0])
@pytest.mark.parametrize("history", [
    History(),
    History({USED: ((NOW - timedelta(hours=6), 10.0), (NOW - timedelta(hours=3), 20.0),
                    (NOW - timedelta(hours=1), 30.0))}),  # steep, but 3 points over 5 hours
    History({USED: tuple((NOW - timedelta(minutes=15 * index), 90.0 - index) for index in range(1, 40))}),  # < 1 day
])
def test_without_enough_history_the_alarms_are_todays(disk_used, history):
    health = health_with(disk_used, database_used=85.0)
    assert alarm_dicts(run(health, NOW, history)) == alarm_dicts(run(health, NOW))


def test_no_history_gives_the_same_alarms_as_before_for_any_facts():
    for used in (0.0, 84.9, 85.0, 94.99, 95.0, 100.0):
        health = health_with(used, database_used=used)
        without = alarm_dicts(run(health, NOW))
        assert alarm_dicts(run(health, NOW, None)) == without
        for alarm in without:
            assert "prediction" not in alarm["evidence"] and "predicted_full" not in alarm["evidence"]
            assert "predicted" not in alarm["summary"]


def test_nan_and_none_in_history_are_ignored():
    used = steady(2.0)
    history = [(at, used(at)) for at in times(NOW - timedelta(days=7), NOW)]
    clean = space_alarm(run(health_with(used(NOW)), NOW, disk_history(history)))
    holes = []
    for index, point in enumerate(history):
        holes.append(point)
        holes.append((point[0] + timedelta(hours=1), (math.nan, None, math.inf)[index % 3]))
    dirty = space_alarm(run(health_with(used(NOW)), NOW, disk_history(holes)))
    assert dirty.to_dict() == clean.to_dict()


def test_a_history_that_is_no_history_is_no_prediction_and_no_collector_failure():
    history = History({USED: ((NOW - timedelta(days=2), "a lot"), (NOW - timedelta(days=1), 60.0)),
                       TOTAL_BYTES: (("yesterday", TOTAL),)})
    alarms = run(health_with(87.0), NOW, history)
    assert [(alarm.rule, alarm.priority) for alarm in alarms] == [("disk_space", "P4")]
    assert "prediction" not in alarms[0].evidence


def test_the_clock_going_back_ignores_what_was_recorded_after_now():
    used = steady(2.0)
    history = [(at, used(at)) for at in times(NOW - timedelta(days=7), NOW)]
    expected = space_alarm(run(health_with(used(NOW)), NOW, disk_history(history)))
    # Values of a later run (the controller's clock was ahead, then set back), and out of order.
    later = [(NOW + timedelta(hours=hours), 99.0) for hours in (1, 5, 30)]
    shuffled = list(reversed(history)) + later
    alarm = space_alarm(run(health_with(used(NOW)), NOW, disk_history(shuffled)))
    assert alarm.to_dict() == expected.to_dict()


# --- the database ------------------------------------------------------------------------------

def test_a_growing_database_is_predicted_full():
    used = steady(1.5, start=30.0)  # 60 % on day 20, full in 26.7 days; 72 % on day 28: full in 18.7 days
    now = T0 + timedelta(days=36)  # 84 %: warn threshold 80, full in 10.7 days
    history = History({DATABASE_USED_PERCENT: tuple((at, used(at)) for at in times(now - timedelta(days=7), now))})
    alarm = space_alarm(run(health_with(database_used=used(now)), now, history), "database_space")
    assert (alarm.priority, alarm.evidence["threshold"]) == ("P4", 80)
    assert alarm.evidence["prediction"]["slope_per_day"] == pytest.approx(1.5)
    assert alarm.summary.endswith("limit (configured); predicted full on 2026-12-17 (in 11 days)")
    now = T0 + timedelta(days=44)  # 96 %: full in 2.7 days
    history = History({DATABASE_USED_PERCENT: tuple((at, used(at)) for at in times(now - timedelta(days=7), now))})
    assert space_alarm(run(health_with(database_used=used(now)), now, history), "database_space").priority == "P3"
    now = T0 + timedelta(days=28)  # 72 %: no threshold, full in 18.7 days: nothing
    history = History({DATABASE_USED_PERCENT: tuple((at, used(at)) for at in times(now - timedelta(days=7), now))})
    assert space_alarm(run(health_with(database_used=used(now)), now, history), "database_space") is None


def test_a_database_without_a_known_limit_is_not_predicted():
    health = health_with()
    health["database"].update(limit_bytes=None, used_percent=None)
    history = History({DATABASE_USED_PERCENT: tuple((at, 99.0) for at in times(NOW - timedelta(days=3), NOW))})
    assert space_alarm(run(health, NOW, history), "database_space") is None


# --- the settings --------------------------------------------------------------------------------

def test_predict_days_and_predict_false_are_honoured():
    used = steady(1.0)  # 60 % on day 20: full in 40 days
    history = disk_history([(at, used(at)) for at in times(NOW - timedelta(days=7), NOW)])
    assert space_alarm(run(health_with(used(NOW)), NOW, history)) is None
    wider = apply_overrides(CATALOGUE, {"disk_space": {"predict_warn_days": 45, "predict_crit_days": 39}},
                            "imagicle_rule_overrides")
    assert space_alarm(run(health_with(used(NOW)), NOW, history, wider)).priority == "P4"
    widest = apply_overrides(wider, {"disk_space": {"predict_crit_days": 40.5}}, "imagicle_rule_overrides_host")
    assert space_alarm(run(health_with(used(NOW)), NOW, history, widest)).priority == "P3"
    off = apply_overrides(widest, {"disk_space": {"predict": False}}, "imagicle_rule_overrides_host")
    assert space_alarm(run(health_with(used(NOW)), NOW, history, off)) is None
    # Off, a threshold alarm carries no prediction either.
    alarm = space_alarm(run(health_with(90.0), NOW, history, off))
    assert alarm.priority == "P4" and "prediction" not in alarm.evidence
