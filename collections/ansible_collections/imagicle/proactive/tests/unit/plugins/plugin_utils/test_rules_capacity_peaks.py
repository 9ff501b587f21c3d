# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Capacity pools predicted to run out from their daily peaks (``capacity_peak_predicted``): the
history of a pool is written into a real SQLite state store hour by hour (a working-day profile
with quiet nights and weekends), the run records its facts and is evaluated with the history
read back (``history.remember``), as the evaluate action does.

Edges: a first day without a whole day of history, too few days, peaks that do not grow, a licence
change that restarts the trend, weekends, a prediction between clear and warn, and the hourly and
daily compaction of the store, which must keep the peaks.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils.history import capacity_metric, remember
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import (
    apply_overrides,
    busy_days,
    daily_peaks,
    evaluate_facts,
    history_windows,
    load_catalogue,
)
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store

from .health_fixture import healthy_health

CATALOGUE = load_catalogue()
PEAK_RULES = ("recording_channels_running_out", "qme_licences_running_out", "ivr_licences_running_out")
# The rules of the default catalogue the tests below make fire (see test_rules_evaluate).
EXERCISED = set(PEAK_RULES)
# A Wednesday, 10:00 UTC.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def in_use_at(when: datetime, peak: float) -> float:
    """The channels in use at ``when`` on a day whose peak is ``peak``: the peak at 11:00 UTC, busy
    office hours, quiet nights, and a weekend of a tenth of it."""
    if when.weekday() >= 5:
        return round(0.1 * peak)
    if when.hour == 11:
        return peak
    return round(0.6 * peak) if 8 <= when.hour < 17 else round(0.1 * peak)


class Pool:
    """The IVR pool of host ias-a, its history written hour by hour before ``NOW``."""

    def __init__(self, tmp_path, catalogue=CATALOGUE):
        self.path = str(tmp_path / "state.sqlite")
        self.catalogue = catalogue

    def store(self):
        return open_store(self.path, "state store")

    def write(self, days: float, peak, licensed, step=timedelta(hours=1), compact=True):
        """``days`` of history before NOW: ``peak(noon of the day)`` and ``licensed(time)`` each ``step``."""
        with self.store() as store:
            with store.transaction("write the pool's history"):
                when = NOW - timedelta(days=days)
                while when < NOW:
                    noon = when.replace(hour=12, minute=0, second=0, microsecond=0)
                    store.record_metrics("ias-a", when, {capacity_metric("ivr", "in_use"): in_use_at(when, peak(noon)),
                                                         capacity_metric("ivr", "licensed"): licensed(when)})
                    when += step
            if compact:
                store.compact_metrics(NOW, host="ias-a")

    def run(self, in_use, licensed, at=NOW):
        """This run's alarms of the prediction rules as (rule, subject, priority), the alarms, and its quiet holds."""
        health = healthy_health()
        health["capacity"]["apps"]["ivr"].update(in_use=in_use, licensed=licensed, available=licensed - in_use,
                                                 used_percent=100.0 * in_use / licensed if licensed else 0.0)
        remembered = remember(self.store, "ias-a", health, at, windows=history_windows(self.catalogue))
        assert remembered.warnings == ()
        alarms, no_data = evaluate_facts(health, host="ias-a", customer="acme", catalogue=self.catalogue, detected_at=at,
                                         history=remembered.history)
        found = [alarm for alarm in alarms if alarm.rule in PEAK_RULES]
        holds = [gap for gap in no_data if gap.rule in PEAK_RULES]
        return [(alarm.rule, alarm.subject, alarm.priority) for alarm in found], found, holds


def rising(at_now: float, per_day: float):
    """Daily peaks on a line: ``at_now`` at NOW, ``per_day`` more each day."""
    return lambda noon: round(at_now + per_day * (noon - NOW) / DAY, 3)


def test_peaks_rising_towards_the_licensed_count_are_p4_with_the_date_then_p3(tmp_path):
    pool = Pool(tmp_path)
    pool.write(21, rising(30, 1.0), lambda when: 40)
    found, alarms, holds = pool.run(in_use=12, licensed=40)
    assert found == [("ivr_licences_running_out", "ivr", "P4")] and holds == []
    [alarm] = alarms
    evidence = alarm.evidence
    # The line of the working days' peaks reaches 40 ten days after NOW.
    assert abs(evidence["days_left"] - 10.0) <= 0.1 and evidence["predicted_full_on"] == "2026-12-05"
    assert evidence["peak"] == 29.083 and evidence["licensed"] == 40 and evidence["in_use"] == 12
    assert evidence["prediction"]["slope_per_day"] == 1.0 and evidence["prediction"]["points"] == 15  # 15 working days
    assert alarm.title == "IVR licences running out" and alarm.level == "warn"
    assert alarm.summary == "IVR: daily peaks up to 29.083 of 40 in use; predicted full on 2026-12-05 (in 10 days)"

    # The same peaks in a pool of 32: full in two days, P3, the same alarm (one case changes priority).
    (tmp_path / "small").mkdir()
    small = Pool(tmp_path / "small")
    small.write(21, rising(30, 1.0), lambda when: 32)
    crit, crit_alarms, dummy = small.run(in_use=12, licensed=32)
    assert crit == [("ivr_licences_running_out", "ivr", "P3")] and abs(crit_alarms[0].evidence["days_left"] - 2.0) <= 0.1
    assert crit_alarms[0].title == "IVR licences close to saturation" and crit_alarms[0].fingerprint == alarm.fingerprint


def test_peaks_that_do_not_grow_or_grow_slowly_give_no_alarm(tmp_path):
    rng = random.Random(7)
    pool = Pool(tmp_path)
    pool.write(21, lambda noon: 30 + rng.choice((-2, -1, 0, 1, 2)), lambda when: 40)
    assert pool.run(in_use=25, licensed=40)[0::2] == ([], [])
    slow = Pool(tmp_path / "slow")
    (tmp_path / "slow").mkdir()
    slow.write(21, rising(30, 0.25), lambda when: 40)  # 40 days away: beyond clear (21 days), measured good
    assert slow.run(in_use=25, licensed=40)[0::2] == ([], [])


def test_between_clear_and_warn_an_open_case_is_held(tmp_path):
    pool = Pool(tmp_path)
    pool.write(21, rising(30, 0.6), lambda when: 40)  # about 17 days away: above warn (14), below clear (21)
    found, dummy, holds = pool.run(in_use=25, licensed=40)
    assert found == [] and [(gap.rule, gap.subject, gap.quiet) for gap in holds] == [("ivr_licences_running_out", "ivr", True)]


def test_a_first_day_judges_nothing_and_too_few_days_hold_an_open_case(tmp_path):
    pool = Pool(tmp_path)
    pool.write(0.4, rising(30, 1.0), lambda when: 40)  # only today: no whole day
    assert pool.run(in_use=25, licensed=40)[0::2] == ([], [])
    few = Pool(tmp_path / "few")
    (tmp_path / "few").mkdir()
    few.write(4, rising(30, 1.0), lambda when: 40)      # 2 working days (Monday, Tuesday) and a weekend
    found, dummy, holds = few.run(in_use=25, licensed=40)
    assert found == [] and len(holds) == 1 and "too little history of daily peaks" in holds[0].reason


def test_more_licences_restart_the_trend(tmp_path):
    pool = Pool(tmp_path)
    # 40 licences until three days ago, 80 since: the old peaks say nothing of the new pool.
    pool.write(21, rising(30, 1.0), lambda when: 40 if when < NOW - 3 * DAY else 80)
    found, dummy, holds = pool.run(in_use=12, licensed=80)
    assert found == [] and len(holds) == 1 and "since the reset" in holds[0].reason


def test_weekends_and_a_holiday_are_quiet_days_left_out_of_the_trend():
    noon = datetime(2026, 11, 2, 12, tzinfo=timezone.utc)  # a Monday
    peaks = [(noon + index * DAY, 20.0 + index) for index in range(14)]
    peaks[3] = (peaks[3][0], 4.0)                          # a holiday on Thursday
    peaks[5], peaks[6] = (peaks[5][0], 2.0), (peaks[6][0], 2.0)  # the weekend
    assert [when.day for when, dummy in busy_days(peaks)] == [2, 3, 4, 6, 9, 10, 11, 12, 13, 14, 15]
    assert busy_days([]) == []


def test_daily_peaks_are_the_highest_value_of_each_whole_day_before_today():
    at = datetime(2026, 11, 25, 9, tzinfo=timezone.utc)
    points = [(at - timedelta(hours=hours), float(hours % 7)) for hours in range(60)] + [(at, 99.0), (at - DAY, float("nan"))]
    assert daily_peaks(points, at) == [(datetime(2026, 11, 22, 12, tzinfo=timezone.utc), 3.0),  # 22:00 and 23:00 only
                                       (datetime(2026, 11, 23, 12, tzinfo=timezone.utc), 6.0),
                                       (datetime(2026, 11, 24, 12, tzinfo=timezone.utc), 6.0)]


def test_compaction_keeps_the_peaks_of_the_use_and_the_mean_of_the_rest(tmp_path):
    # Runs every 5 minutes for 21 days, compacted to hourly values after 7 days and daily after 56: the same
    # prediction as from the raw values, because an hour keeps the highest use, not the mean.
    raw, compacted = Pool(tmp_path / "raw"), Pool(tmp_path / "compacted")
    for pool in (raw, compacted):
        (tmp_path / pool.path.split("/")[-2]).mkdir()
    peaks = rising(30, 1.0)
    raw.write(21, peaks, lambda when: 40, step=timedelta(minutes=5), compact=False)
    compacted.write(21, peaks, lambda when: 40, step=timedelta(minutes=5))
    with compacted.store() as store:
        use = store.metrics("ias-a", capacity_metric("ivr", "in_use"), NOW - 15 * DAY)
        licensed = store.metrics("ias-a", capacity_metric("ivr", "licensed"), NOW - 15 * DAY)
    monday_hourly = [value for when, value in use if when.date() == datetime(2026, 11, 16).date()]
    assert len(monday_hourly) == 24 and max(monday_hourly) == peaks(datetime(2026, 11, 16, 12, tzinfo=timezone.utc))
    assert len(licensed) < 15 * 24 + 8 * 288  # compacted too (to its mean: 40)
    assert {value for dummy, value in licensed} == {40.0}
    assert raw.run(in_use=12, licensed=40)[1][0].evidence == compacted.run(in_use=12, licensed=40)[1][0].evidence


def test_a_pool_without_licences_or_with_an_error_is_not_judged(tmp_path):
    pool = Pool(tmp_path)
    pool.write(21, rising(30, 1.0), lambda when: 40)
    assert pool.run(in_use=0, licensed=0)[0::2] == ([], [])  # nothing licensed: the pool is not in use here
    health = healthy_health()
    health["capacity"]["apps"]["ivr"] = {"error": "the statistics service did not answer"}
    remembered = remember(pool.store, "ias-a", health, NOW + DAY, windows=history_windows(CATALOGUE))
    alarms, no_data = evaluate_facts(health, host="ias-a", customer="acme", catalogue=CATALOGUE,
                                     detected_at=NOW + DAY, history=remembered.history)
    assert not [alarm for alarm in alarms if alarm.rule in PEAK_RULES]


@pytest.mark.parametrize("override, message", [
    ({"warn": 0}, "ivr_licences_running_out.warn: 0 is not a number of days; allowed: above 0 to 366"),
    ({"warn": 2, "crit": 3}, "warn (2) is below crit (3)"),
    ({"min_days": 2}, "ivr_licences_running_out.min_days: 2 is below the minimum 3"),
    ({"window_days": 60}, "above the maximum 28"),
])
def test_wrong_settings_are_named(override, message):
    with pytest.raises(Exception) as error:
        apply_overrides(CATALOGUE, {"ivr_licences_running_out": override}, "imagicle_rule_overrides")
    assert message in str(error.value)
