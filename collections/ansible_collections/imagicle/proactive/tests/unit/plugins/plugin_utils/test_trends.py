# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Trends over metric history: series built by hand with known answers, and properties.

The hand-built series are disks filling at a known rate; random noise and wild values come
from seeded generators, so every run sees the same numbers.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import statistics
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.imagicle.proactive.plugins.plugin_utils.trends import (
    EPOCH,
    MAD_SCALE,
    Fit,
    clean_points,
    count_toggles,
    downsample,
    is_flapping,
    rebase,
    robust_baseline,
    theil_sen,
    thin,
    time_to_limit,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
ROME = ZoneInfo("Europe/Rome")
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def hourly(hours: int, value_at, end: datetime = NOW) -> list[tuple[datetime, float]]:
    """One point an hour for ``hours`` hours up to ``end``; ``value_at(days before end)`` gives the value."""
    return [(end - timedelta(hours=hour), value_at(hour / 24)) for hour in range(hours, -1, -1)]


def times(points) -> list[datetime]:
    """The times of ``points``."""
    return [point[0] for point in points]


def filling_disk(days: int = 10, noise: float = 0.0, seed: int = 1) -> list[tuple[datetime, float]]:
    """Percent used: 50 % at NOW, growing 1 % a day, hourly, with uniform noise of +/- ``noise``."""
    rng = random.Random(seed)
    return hourly(days * 24, lambda before: 50.0 - before + rng.uniform(-noise, noise))


def least_squares_slope(points) -> float:
    """The ordinary least-squares slope per day, to show what wild values do to a plain fit."""
    xs = [(point[0] - points[0][0]).total_seconds() / 86400 for point in points]
    ys = [point[1] for point in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sum((x - mean_x) ** 2 for x in xs)


# --- cleaning --------------------------------------------------------------------------------


def test_naive_time_is_an_error_naming_the_point():
    points = [(NOW, 1.0), (datetime(2026, 3, 1, 13, 0), 2.0)]
    with pytest.raises(ValueError, match=r"point 1 of the history is a naive datetime \(2026-03-01T13:00:00\).*timezone-aware"):
        clean_points(points)
    with pytest.raises(ValueError, match="naive"):
        theil_sen(points)
    with pytest.raises(ValueError, match="naive"):
        time_to_limit(points, 100, NOW)


@pytest.mark.parametrize("point, message", [
    (("2026-03-01", 1.0), "point 0 of the history must be a datetime, not str"),
    ((NOW, "12"), "point 0 of the history must be a number, not str '12'"),
    ((NOW, True), "point 0 of the history must be a number, not bool"),
    ((NOW, [1]), "point 0 of the history must be a number, not list"),
    ((NOW, 1.0, 2.0), r"point 0 of the history must be a pair \(datetime, number\)"),
    (None, r"must be a pair \(datetime, number\), not None"),
])
def test_malformed_points_are_errors(point, message):
    with pytest.raises(ValueError, match=message):
        clean_points([point])


def test_missing_values_are_dropped():
    points = [(NOW, None), (NOW + timedelta(hours=1), math.nan), (NOW + timedelta(hours=2), math.inf),
              (NOW + timedelta(hours=3), -math.inf), (NOW + timedelta(hours=4), 7)]
    assert clean_points(points) == [(NOW + timedelta(hours=4), 7.0)]


def test_unsorted_input_is_sorted_and_put_in_utc():
    rome = datetime(2026, 3, 1, 14, 0, tzinfo=ROME)  # 13:00 UTC
    cleaned = clean_points([(rome, 3), (NOW, 1), (NOW - timedelta(hours=1), 0)])
    assert cleaned == [(NOW - timedelta(hours=1), 0.0), (NOW, 1.0), (NOW + timedelta(hours=1), 3.0)]
    assert all(point[0].tzinfo is timezone.utc for point in cleaned)


def test_values_at_one_instant_become_their_mean_in_any_timezone():
    same_instant = NOW.astimezone(ROME)
    cleaned = clean_points([(NOW, 10.0), (NOW + timedelta(hours=1), 5.0), (same_instant, 20.0), (NOW, None)])
    assert cleaned == [(NOW, 15.0), (NOW + timedelta(hours=1), 5.0)]


def test_mean_of_duplicates_beyond_the_float_range_of_their_sum():
    assert clean_points([(NOW, 1e308), (NOW, 1e308)]) == [(NOW, 1e308)]


# --- the fit ---------------------------------------------------------------------------------


def test_exact_line_is_recovered():
    start = NOW - timedelta(days=3)
    points = [(start + timedelta(hours=6 * k), 20.0 + 2.5 * (k / 4)) for k in range(13)]
    fit = theil_sen(points)
    assert fit == Fit(slope_per_day=2.5, intercept=20.0, anchor=start, n=13, span=timedelta(days=3), quality=1.0)
    assert fit.value_at(NOW) == 27.5
    assert fit.value_at(NOW + timedelta(days=2)) == 32.5
    assert fit.value_at(start - timedelta(days=1)) == 17.5
    assert fit.value_at(NOW.astimezone(ROME)) == 27.5


def test_value_at_needs_an_aware_time():
    fit = theil_sen(filling_disk(days=1))
    with pytest.raises(ValueError, match="when is a naive datetime"):
        fit.value_at(datetime(2026, 3, 1))


def test_too_few_points_give_no_fit():
    points = filling_disk(days=1)
    assert theil_sen(points[:3]) is None
    assert theil_sen(points[:4]) is not None
    assert theil_sen(points[:4], min_points=5) is None
    assert theil_sen([]) is None


def test_points_all_at_one_instant_give_no_fit():
    assert theil_sen([(NOW, float(value)) for value in range(10)]) is None
    assert theil_sen([(NOW, 1.0), (NOW, 2.0), (NOW + timedelta(hours=1), 3.0)], min_points=2) == Fit(
        slope_per_day=36.0, intercept=1.5, anchor=NOW, n=2, span=timedelta(hours=1), quality=1.0)


@pytest.mark.parametrize("keywords, message", [
    ({"min_points": 1}, "min_points must be a whole number of at least 2, not 1"),
    ({"min_points": 2.0}, "min_points must be a whole number"),
    ({"max_points": 3}, "max_points must be a whole number of at least 4, not 3"),
    ({"max_points": True}, "max_points must be a whole number"),
])
def test_fit_parameters_are_checked(keywords, message):
    with pytest.raises(ValueError, match=message):
        theil_sen(filling_disk(days=1), **keywords)


def test_unsorted_input_and_a_clock_that_went_back_give_the_same_fit():
    points = filling_disk(days=5, noise=0.3)
    shuffled = list(points)
    random.Random(7).shuffle(shuffled)
    assert theil_sen(shuffled) == theil_sen(points)
    # A host clock stepped back an hour: the points recorded after it sort among the earlier ones.
    stepped = points[:50] + [(when - timedelta(minutes=30), value) for when, value in points[50:]]
    assert theil_sen(stepped) == theil_sen(sorted(stepped))


def test_wild_values_leave_the_theil_sen_prediction_within_5_percent():
    rng = random.Random(2026)
    points = filling_disk(days=7, noise=0.2, seed=3)
    wild = rng.sample(range(len(points)), len(points) // 5)
    for index in wild:
        points[index] = (points[index][0], rng.choice((0.0, 100.0, rng.uniform(0.0, 100.0))))
    fit = theil_sen(points)
    days_to_full = (100.0 - fit.value_at(NOW)) / fit.slope_per_day
    assert days_to_full == pytest.approx(50.0, rel=0.05)
    assert 0.75 <= fit.quality <= 0.85
    # The wild values are wild enough to matter: a least-squares slope is off by more than 5 %.
    assert least_squares_slope(points) != pytest.approx(1.0, rel=0.05)


def test_quality_is_the_share_of_points_within_a_tenth_of_the_rise():
    # 1 a day over 10 days: a rise of 10, so a point is on the line within 1 of it.
    start = NOW - timedelta(days=10)
    points = [(start + timedelta(hours=k), k / 24) for k in range(0, 241, 2)]
    for index, deviation in ((10, 0.9), (30, -0.99), (50, 1.2), (70, -1.5), (90, 6.0)):
        points[index] = (points[index][0], points[index][1] + deviation)
    fit = theil_sen(points)
    assert fit.slope_per_day == pytest.approx(1.0, rel=1e-12)
    assert fit.intercept == pytest.approx(0.0, abs=1e-12)
    assert fit.quality == pytest.approx((len(points) - 3) / len(points))


def test_noise_around_a_flat_line_has_a_low_quality():
    rng = random.Random(5)
    fit = theil_sen(hourly(7 * 24, lambda before: 40.0 + rng.gauss(0.0, 1.0)))
    assert abs(fit.slope_per_day) < 0.1
    assert fit.quality < 0.3


def test_quality_of_a_flat_constant_series_is_one():
    fit = theil_sen(hourly(24, lambda before: 12.5))
    assert (fit.slope_per_day, fit.intercept, fit.quality) == (0.0, 12.5, 1.0)


def test_ten_thousand_points_are_thinned_before_fitting():
    start = NOW - timedelta(days=7)
    points = [(start + timedelta(seconds=60 * k), 1000.0 + 0.5 * k / 1440) for k in range(10_000)]
    fit = theil_sen(points)
    assert fit.n == 200
    assert fit.anchor == start
    assert fit.span == points[-1][0] - start
    assert fit.slope_per_day == pytest.approx(0.5, rel=1e-9)
    assert theil_sen(points, max_points=50).n == 50


def test_thinning_keeps_max_points_of_a_regular_series_evenly():
    points = filling_disk(days=40)
    kept = thin(points, 200)
    assert len(kept) == 200
    assert kept[0] == points[0] and kept[-1] == points[-1]
    gaps = {later[0] - earlier[0] for earlier, later in zip(kept, kept[1:])}
    assert gaps <= {timedelta(hours=4), timedelta(hours=5)}


def test_thinning_weighs_a_burst_like_the_same_time_of_ordinary_samples():
    start = NOW - timedelta(days=1)
    ordinary = [(start + timedelta(hours=hour), float(hour)) for hour in range(24)]
    burst = [(start + timedelta(hours=5, seconds=second), 5.0) for second in range(1, 500)]
    kept = thin(ordinary + burst + [(NOW, 24.0)], 25)
    assert times(kept) == [start + timedelta(hours=hour) for hour in range(25)]


def test_thinning_leaves_a_short_series_alone():
    points = filling_disk(days=1)
    assert thin(points, 200) == clean_points(points)
    with pytest.raises(ValueError, match="max_points must be a whole number of at least 2, not 1"):
        thin(points, 1)


# --- resets ----------------------------------------------------------------------------------


def cleanup_series() -> list[tuple[datetime, float]]:
    """Growing 3 % a day to 80 %, a cleanup 2 days ago to 40 %, then growing 1 % a day."""
    return hourly(6 * 24, lambda before: 80.0 - 3.0 * (before - 2.0) if before > 2.0 else 40.0 + (2.0 - before))


def test_a_cleanup_rebases_the_history():
    points = cleanup_series()
    rebased = rebase(points)
    assert rebased[0] == (NOW - timedelta(hours=48), 40.0)
    assert rebased == points[-49:]


def test_a_cleanup_at_the_last_point_rebases_to_that_point():
    points = filling_disk(days=2) + [(NOW + timedelta(hours=1), 10.0)]
    assert rebase(points) == [(NOW + timedelta(hours=1), 10.0)]


@pytest.mark.parametrize("wild", [0.0, 100.0])
def test_a_single_wild_value_is_not_a_cleanup(wild):
    points = filling_disk(days=3)
    points[40] = (points[40][0], wild)
    assert rebase(points) == points


def test_two_points_on_one_side_of_a_fall_are_enough_to_tell_a_glitch():
    # The level on a side with two points is the one nearer the other side: the lower of the
    # two before the fall, the higher of the two after it.
    points = filling_disk(days=3)
    spike_second = [points[0], (points[1][0], 100.0)] + points[2:]
    assert rebase(spike_second) == spike_second
    dip_before_last = points[:-2] + [(points[-2][0], 0.0), points[-1]]
    assert rebase(dip_before_last) == dip_before_last


def test_a_cleanup_needs_a_fall_larger_than_the_share_of_the_range():
    # Range 10, so drop_fraction 0.1 means a fall of more than 1.
    start = NOW - timedelta(hours=11)
    rising = [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 10.0, 10.0, 10.0]
    small = [(start + timedelta(hours=hour), value) for hour, value in enumerate(rising + [9.1, 9.1, 9.1])]
    assert rebase(small) == small
    large = [(start + timedelta(hours=hour), value) for hour, value in enumerate(rising + [8.9, 8.9, 8.9])]
    assert rebase(large) == large[-3:]
    assert rebase(large, drop_fraction=0.2) == large


def test_a_flat_series_has_no_reset():
    points = hourly(24, lambda before: 5.0)
    assert rebase(points) == points
    assert rebase([]) == []


def test_a_bigger_disk_rebases_the_history():
    points = filling_disk(days=5)
    grown = NOW - timedelta(days=2, hours=3)
    capacity = [(when, 500e9 if when < grown else 1000e9) for when in times(points)]
    rebased = rebase(points, capacity_changes=capacity)
    assert rebased[0][0] == grown
    assert rebased == [point for point in points if point[0] >= grown]


def test_a_capacity_that_wanders_a_little_is_no_reset():
    points = filling_disk(days=5)
    capacity = [(when, 500e9 + (1e6 if index % 2 else 0.0)) for index, when in enumerate(times(points))]
    assert rebase(points, capacity_changes=capacity) == points


def test_the_later_reset_wins():
    points = cleanup_series()
    early = [(NOW - timedelta(days=4), 1.0), (NOW - timedelta(days=3), 2.0)]
    assert rebase(points, capacity_changes=early) == points[-49:]
    late = [(NOW - timedelta(days=4), 1.0), (NOW - timedelta(hours=10), 2.0), (NOW, 2.0)]
    assert rebase(points, capacity_changes=late) == points[-11:]


@pytest.mark.parametrize("fraction", [0, -0.1, 1.5, True, "0.1", math.nan])
def test_drop_fraction_is_checked(fraction):
    with pytest.raises(ValueError, match="drop_fraction must be a number above 0 and at most 1"):
        rebase(filling_disk(days=1), drop_fraction=fraction)


# --- time to a limit -------------------------------------------------------------------------


def test_disk_growing_one_percent_a_day_from_half_full_is_full_in_50_days():
    prediction = time_to_limit(filling_disk(days=10, noise=0.2), 100.0, NOW)
    assert prediction.eta - NOW == pytest.approx(timedelta(days=50), rel=0.01)
    assert prediction.hours_left == pytest.approx(1200.0, rel=0.01)
    assert prediction.slope_per_day == pytest.approx(1.0, rel=0.01)
    assert prediction.quality == 1.0
    assert prediction.n == 7 * 24 + 1
    assert prediction.span == timedelta(days=7)
    assert prediction.last_value == pytest.approx(50.0, abs=0.2)
    assert "the limit 100 is reached in 50" in prediction.reason


def test_exact_series_gives_an_exact_time():
    prediction = time_to_limit(filling_disk(days=10), 100.0, NOW)
    assert prediction.eta == NOW + timedelta(days=50)
    assert prediction.hours_left == 1200.0


def test_the_window_bounds_the_history():
    # 2 % a day until 3 days ago, then 1 % a day: a 2-day window sees only the slower trend.
    points = hourly(20 * 24, lambda before: 50.0 - before if before < 3 else 47.0 - 2.0 * (before - 3))
    assert time_to_limit(points, 100.0, NOW, window=timedelta(days=2)).slope_per_day == pytest.approx(1.0)
    assert time_to_limit(points, 100.0, NOW, window=timedelta(days=20)).slope_per_day > 1.5


def test_the_prediction_after_a_cleanup_follows_the_new_trend():
    prediction = time_to_limit(cleanup_series(), 100.0, NOW)
    assert prediction.slope_per_day == pytest.approx(1.0)
    assert prediction.eta == NOW + timedelta(days=58)
    assert prediction.n == 49
    assert "since the reset at 2026-02-27T12:00:00Z" in prediction.reason


def test_the_prediction_after_a_bigger_disk_follows_the_new_trend():
    # Bytes used grow 10 GB a day; the disk goes from 500 GB to 1 TB 3 days ago, so the percent
    # used halves and then grows half as fast. drop_fraction=1 turns the cleanup rule off: only
    # the capacity series can rebase here.
    grown = NOW - timedelta(days=3)

    def total(when):
        return 500e9 if when < grown else 1000e9

    used = [(when, 300e9 - 10e9 * (NOW - when).total_seconds() / 86400) for when in times(filling_disk(days=7))]
    percent = [(when, 100.0 * value / total(when)) for when, value in used]
    capacity = [(when, total(when)) for when in times(used)]
    prediction = time_to_limit(percent, 100.0, NOW, drop_fraction=1, capacity_changes=capacity)
    assert prediction.slope_per_day == pytest.approx(1.0)
    assert prediction.eta == NOW + timedelta(days=70)
    assert prediction.n == 3 * 24 + 1
    # Without the capacity series, the older, steeper percentages pull the time 3 weeks early.
    without = time_to_limit(percent, 100.0, NOW, drop_fraction=1)
    assert prediction.eta - without.eta > timedelta(days=20)


def test_unsorted_input_duplicates_and_missing_values_give_the_same_prediction():
    points = filling_disk(days=10, noise=0.2)
    messy = list(points) + [(when, None) for when in times(points[::7])] + [(points[5][0], math.nan), points[9], points[9]]
    random.Random(11).shuffle(messy)
    assert time_to_limit(messy, 100.0, NOW) == time_to_limit(points, 100.0, NOW)


def test_too_few_points_say_how_many_are_needed():
    prediction = time_to_limit(filling_disk(days=10)[-2:], 100.0, NOW)
    assert prediction.eta is None and prediction.hours_left is None
    assert prediction.reason == "4 points needed, 2 in the last 7 days"
    assert (prediction.n, prediction.slope_per_day, prediction.quality) == (2, None, None)
    assert time_to_limit(filling_disk(days=10), 100.0, NOW, min_points=200).reason == "200 points needed, 169 in the last 7 days"


def test_points_outside_the_window_do_not_count():
    points = filling_disk(days=10)
    old = [point for point in points if point[0] < NOW - timedelta(days=8)]
    assert time_to_limit(old, 100.0, NOW).reason == "no values in the last 7 days"
    assert time_to_limit(old + points[-3:], 100.0, NOW).reason == "4 points needed, 3 in the last 7 days"


def test_too_short_a_history_says_how_long_is_needed():
    points = [(NOW - timedelta(minutes=10 * k), 50.0 - k / 144) for k in range(6)]
    prediction = time_to_limit(points, 100.0, NOW)
    assert prediction.eta is None
    assert prediction.reason == "2 h of history needed, 50 min in the last 7 days"
    assert time_to_limit(points, 100.0, NOW, min_span=timedelta(0)).eta is not None


def test_a_burst_thinned_to_too_few_points_says_so():
    # 300 samples in the first minute and one 3 hours later: evenly in time that is 3 points.
    start = NOW - timedelta(hours=3)
    points = [(start + timedelta(milliseconds=200 * k), 50.0) for k in range(300)] + [(NOW, 51.0)]
    prediction = time_to_limit(points, 100.0, NOW)
    assert prediction.eta is None and prediction.n == 301
    assert prediction.reason == "no line fits the 301 points in the last 7 days: they are too close together in time or too large"


def test_a_falling_series_has_no_eta():
    prediction = time_to_limit(hourly(5 * 24, lambda before: 60.0 + before), 100.0, NOW)
    assert prediction.eta is None and prediction.hours_left is None
    assert prediction.reason == "not growing: the trend is -1 per day in the last 7 days"
    assert prediction.slope_per_day == pytest.approx(-1.0)


def test_a_flat_series_has_no_eta():
    prediction = time_to_limit(hourly(5 * 24, lambda before: 60.0), 100.0, NOW)
    assert prediction.eta is None
    assert prediction.reason.startswith("not growing")


def test_a_value_already_over_the_limit_is_due_now():
    points = filling_disk(days=10)
    prediction = time_to_limit(points, 45.0, NOW)
    assert (prediction.eta, prediction.hours_left) == (NOW, 0.0)
    assert prediction.reason == "the limit 45 is reached: the last value is 50"
    falling_but_over = time_to_limit(hourly(24, lambda before: 99.0 + before), 95.0, NOW)
    assert falling_but_over.eta == NOW
    # One value is enough to know the limit is reached.
    assert time_to_limit(points[-1:], 50.0, NOW).eta == NOW


def test_a_trend_at_the_limit_with_the_last_value_below_is_due_now():
    points = filling_disk(days=3)
    points[-1] = (points[-1][0], 49.8)
    prediction = time_to_limit(points, 49.9, NOW)
    assert prediction.eta == NOW
    assert prediction.reason == "the trend is at the limit 49.9 already (last value 49.8, rising 1 per day)"


def test_a_limit_centuries_away_has_no_eta():
    prediction = time_to_limit(hourly(48, lambda before: 50.0 - before * 1e-4), 100.0, NOW)
    assert prediction.eta is None
    assert prediction.reason == "growing too slowly: at 0.0001 per day the limit 100 is more than 100 years away"
    assert prediction.slope_per_day == pytest.approx(1e-4)


def test_points_after_now_are_ignored():
    points = filling_disk(days=10)
    later = [(NOW + timedelta(hours=hour), 0.0) for hour in range(1, 5)]
    assert time_to_limit(points + later, 100.0, NOW) == time_to_limit(points, 100.0, NOW)
    assert time_to_limit(points, 100.0, NOW - timedelta(days=1)).eta == NOW + timedelta(days=50)


def test_evidence_is_json_safe_and_rounded():
    prediction = time_to_limit(filling_disk(days=10, noise=0.2), 100.0, NOW)
    evidence = prediction.evidence()
    assert json.loads(json.dumps(evidence, allow_nan=False)) == evidence
    assert set(evidence) == {"eta", "hours_left", "slope_per_day", "quality", "points", "span_hours", "limit", "last_value",
                             "as_of", "reason"}
    assert evidence["eta"] == prediction.eta.isoformat().replace("+00:00", "Z")
    assert evidence["as_of"] == "2026-03-01T12:00:00Z"
    assert evidence["hours_left"] == round(prediction.hours_left, 1)
    assert evidence["slope_per_day"] == float("%.6g" % prediction.slope_per_day)
    assert (evidence["points"], evidence["span_hours"], evidence["limit"], evidence["quality"]) == (169, 168.0, 100.0, 1.0)
    empty = time_to_limit([], 100.0, NOW).evidence()
    assert empty == {"eta": None, "hours_left": None, "slope_per_day": None, "quality": None, "points": 0, "span_hours": 0.0,
                     "limit": 100.0, "last_value": None, "as_of": "2026-03-01T12:00:00Z", "reason": "no values in the last 7 days"}


@pytest.mark.parametrize("arguments, keywords, message", [
    ((100.0, datetime(2026, 3, 1)), {}, "now is a naive datetime"),
    ((math.nan, NOW), {}, "limit must be a finite number"),
    ((None, NOW), {}, "limit must be a finite number"),
    ((100.0, NOW), {"window": timedelta(0)}, "window must be a timedelta longer than zero"),
    ((100.0, NOW), {"window": 7}, "window must be a timedelta"),
    ((100.0, NOW), {"min_span": -timedelta(hours=1)}, r"min_span must be a timedelta longer than zero \(or zero\)"),
    ((100.0, NOW), {"min_points": 1}, "min_points must be a whole number of at least 2"),
    ((100.0, NOW), {"drop_fraction": 0}, "drop_fraction must be a number above 0"),
])
def test_time_to_limit_arguments_are_checked(arguments, keywords, message):
    with pytest.raises(ValueError, match=message):
        time_to_limit(filling_disk(days=1), *arguments, **keywords)


# --- baselines -------------------------------------------------------------------------------


def test_baseline_median_and_scaled_mad():
    baseline = robust_baseline([1, 2, 3, 4, 5, 6, 7, 8, 9, None, math.nan], floor=0.5, min_history=9)
    assert (baseline.median, baseline.n) == (5, 9)
    assert baseline.mad == pytest.approx(2 * MAD_SCALE)
    assert baseline.scale == baseline.mad
    assert baseline.score(11) == pytest.approx(6 / (2 * 1.4826))
    assert baseline.score(5) == 0.0
    assert baseline.score(2) < 0


def test_baseline_is_not_moved_by_a_wild_value():
    usual = [100.0 + (k % 5) for k in range(20)]
    assert robust_baseline(usual + [1e9], floor=1.0).median == robust_baseline(usual + [102.0], floor=1.0).median
    assert robust_baseline(usual + [1e9], floor=1.0).mad == pytest.approx(robust_baseline(usual, floor=1.0).mad, rel=0.5)


def test_baseline_of_a_constant_uses_the_floor():
    baseline = robust_baseline([42.0] * 12, floor=2.0)
    assert (baseline.mad, baseline.scale) == (0.0, 2.0)
    assert baseline.score(46.0) == 2.0


def test_baseline_spread_is_never_below_the_floor():
    baseline = robust_baseline([10.0, 10.1, 9.9, 10.0, 10.2, 9.8, 10.0, 10.1, 9.9, 10.0], floor=1.0)
    assert baseline.mad == pytest.approx(0.1 * MAD_SCALE)
    assert baseline.scale == 1.0
    assert baseline.score(13.0) == pytest.approx(3.0)
    assert robust_baseline([10.0, 20.0, 30.0] * 4, floor=1.0).scale == pytest.approx(10.0 * MAD_SCALE)


def test_baseline_needs_history():
    assert robust_baseline([1.0] * 9 + [None, math.inf], floor=1.0) is None
    assert robust_baseline([1.0] * 10, floor=1.0) is not None
    assert robust_baseline([1.0] * 3, floor=1.0, min_history=3) is not None


@pytest.mark.parametrize("keywords, message", [
    ({"floor": 0}, "floor must be a number above zero"),
    ({"floor": math.inf}, "floor must be a number above zero"),
    ({"floor": 1.0, "min_history": 0}, "min_history must be a whole number of at least 1"),
])
def test_baseline_arguments_are_checked(keywords, message):
    with pytest.raises(ValueError, match=message):
        robust_baseline([1.0] * 20, **keywords)


def test_baseline_scores_only_numbers():
    baseline = robust_baseline(range(20), floor=1.0)
    with pytest.raises(ValueError, match="value must be a finite number to be scored"):
        baseline.score(math.nan)
    with pytest.raises(ValueError, match="value 2 of the history must be a number, not str"):
        robust_baseline([1, 2, "3"], floor=1.0)


# --- flapping --------------------------------------------------------------------------------


@pytest.mark.parametrize("states, toggles", [
    ([], 0),
    ([True], 0),
    ([True, True, True], 0),
    ([True, False], 1),
    ([True, False, True, False], 3),
    ([False, False, True, True, False], 2),
])
def test_count_toggles(states, toggles):
    assert count_toggles(states) == toggles
    assert count_toggles(iter(states)) == toggles


def test_flapping_is_more_toggles_than_allowed():
    states = [True, False, True, False]
    assert is_flapping(states, 2)
    assert not is_flapping(states, 3)
    assert not is_flapping([True] * 10, 0)
    assert is_flapping([True, False], 0)


def test_toggles_need_booleans():
    with pytest.raises(ValueError, match="state 1 must be true or false, not 1"):
        count_toggles([True, 1])
    with pytest.raises(ValueError, match="state 0 must be true or false, not None"):
        is_flapping([None], 1)
    with pytest.raises(ValueError, match="max_toggles must be a whole number of at least 0"):
        is_flapping([True], -1)


# --- downsampling ----------------------------------------------------------------------------


def test_downsample_to_hours_aligned_on_utc():
    start = datetime(2026, 3, 1, 10, 40, tzinfo=ROME)  # 09:40 UTC
    points = [(start + timedelta(minutes=15 * k), float(k)) for k in range(8)]  # 09:40 .. 11:25 UTC
    hour = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    assert downsample(points, timedelta(hours=1)) == [
        (hour, 0.5),                             # 09:40, 09:55
        (hour + timedelta(hours=1), 3.5),        # 10:10 .. 10:55
        (hour + timedelta(hours=2), 6.5),        # 11:10, 11:25
    ]


def test_downsample_to_days_starts_at_midnight_utc():
    points = [(datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc), 1.0), (datetime(2026, 3, 2, 0, 30, tzinfo=timezone.utc), 3.0),
              (datetime(2026, 3, 2, 23, 59, tzinfo=timezone.utc), 5.0)]
    assert downsample(points, timedelta(days=1)) == [
        (datetime(2026, 3, 1, tzinfo=timezone.utc), 1.0),
        (datetime(2026, 3, 2, tzinfo=timezone.utc), 4.0),
    ]


def test_downsample_before_the_epoch_and_of_nothing():
    points = [(EPOCH - timedelta(minutes=30), 2.0), (EPOCH - timedelta(minutes=10), 4.0), (EPOCH, 9.0)]
    assert downsample(points, timedelta(hours=1)) == [(EPOCH - timedelta(hours=1), 3.0), (EPOCH, 9.0)]
    assert downsample([], timedelta(hours=1)) == []
    assert downsample([(NOW, None)], timedelta(hours=1)) == []


def test_downsample_counts_a_repeated_sample_once():
    points = [(NOW, 10.0), (NOW, 10.0), (NOW + timedelta(minutes=1), 40.0)]
    assert downsample(points, timedelta(hours=1)) == [(NOW, 25.0)]


@pytest.mark.parametrize("bucket", [timedelta(0), -timedelta(hours=1), 3600])
def test_downsample_bucket_is_checked(bucket):
    with pytest.raises(ValueError, match="bucket must be a timedelta longer than zero"):
        downsample(filling_disk(days=1), bucket)


# --- properties ------------------------------------------------------------------------------

START = datetime(2020, 1, 1, tzinfo=timezone.utc)
offsets = st.integers(min_value=0, max_value=400 * 86400 * 10**6)  # microseconds over 400 days
values = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@st.composite
def line_series(draw):
    """Points exactly on a line (up to the rounding of each value), at distinct whole seconds over 400 days."""
    instants = sorted(draw(st.sets(st.integers(min_value=0, max_value=400 * 86400), min_size=4, max_size=60)))
    intercept = draw(st.floats(min_value=-1e6, max_value=1e6))
    magnitude = draw(st.one_of(st.just(0.0), st.floats(min_value=1e-3, max_value=1e4)))
    slope = draw(st.sampled_from((1.0, -1.0))) * magnitude
    anchor = START + timedelta(seconds=instants[0])
    points = []
    for instant in instants:
        when = START + timedelta(seconds=instant)
        points.append((when, intercept + slope * ((when - anchor).total_seconds() / 86400)))
    return points, intercept, slope


@PROPERTY_SETTINGS
@given(line_series(), st.randoms(use_true_random=False))
def test_fit_of_an_exact_line_recovers_it(series, rng):
    """Within 1e-6 relative, or within what rounding the values to floats can move the line.

    The absolute part of each tolerance is 1e-9 of the largest value (for the slope: per span):
    a line whose rise over the span is below that is not exactly representable in the values.
    For the lines drawn here it is mostly far below 1e-6 of the slope.
    """
    points, intercept, slope = series
    shuffled = list(points)
    rng.shuffle(shuffled)
    fit = theil_sen(shuffled)
    largest = max(abs(point[1]) for point in points)
    span_days = (points[-1][0] - points[0][0]).total_seconds() / 86400
    assert fit.anchor == points[0][0] and fit.n == len(points)
    assert math.isclose(fit.slope_per_day, slope, rel_tol=1e-6, abs_tol=1e-9 * largest / span_days)
    assert math.isclose(fit.intercept, intercept, rel_tol=1e-6, abs_tol=1e-9 * largest)
    assert fit.quality == 1.0


@PROPERTY_SETTINGS
@given(st.lists(st.tuples(offsets, values), min_size=0, max_size=400), st.integers(min_value=2, max_value=150))
def test_thinning_keeps_at_most_max_points_with_first_and_last(raw, max_points):
    points = [(START + timedelta(microseconds=offset), value) for offset, value in raw]
    cleaned = clean_points(points)
    kept = thin(points, max_points)
    assert len(kept) <= max_points
    assert len(kept) == len(cleaned) if len(cleaned) <= max_points else len(kept) >= 2
    if cleaned:
        assert kept[0] == cleaned[0] and kept[-1] == cleaned[-1]
    assert all(point in cleaned for point in kept)
    assert all(earlier[0] < later[0] for earlier, later in zip(kept, kept[1:]))


@PROPERTY_SETTINGS
@given(st.sets(offsets, max_size=200), st.data(), st.integers(min_value=1, max_value=10 * 86400 * 10**6))
def test_downsample_keeps_each_bucket_mean(instants, data, bucket_microseconds):
    points = [(START + timedelta(microseconds=instant), data.draw(values)) for instant in instants]
    bucket = timedelta(microseconds=bucket_microseconds)
    result = downsample(points, bucket)
    starts = times(result)
    assert starts == sorted(set(starts))
    assert all((when - EPOCH) % bucket == timedelta(0) for when in starts)
    members = {start: [value for when, value in points if start <= when < start + bucket] for start in starts}
    assert sum(len(group) for group in members.values()) == len(points)
    for start, mean in result:
        assert math.isclose(mean, math.fsum(members[start]) / len(members[start]), rel_tol=1e-9, abs_tol=1e-6)


@PROPERTY_SETTINGS
@given(st.lists(st.booleans(), max_size=100))
def test_count_toggles_counts_adjacent_differing_pairs(states):
    runs = len(list(itertools.groupby(states)))
    assert count_toggles(states) == max(runs - 1, 0)
    assert count_toggles(states) == sum(1 for k in range(1, len(states)) if states[k] != states[k - 1])


@PROPERTY_SETTINGS
@given(st.lists(st.tuples(offsets, st.one_of(st.none(), st.floats(min_value=-1e12, max_value=1e12))), max_size=80),
       offsets, st.floats(min_value=-1e12, max_value=1e12))
def test_a_prediction_is_never_in_the_past_and_its_evidence_is_json(raw, now_offset, limit):
    points = [(START + timedelta(microseconds=offset), value) for offset, value in raw]
    now = START + timedelta(microseconds=now_offset)
    prediction = time_to_limit(points, limit, now, window=timedelta(days=30))
    if prediction.eta is None:
        assert prediction.hours_left is None and prediction.reason
    else:
        assert prediction.eta >= now and prediction.hours_left >= 0
        assert (prediction.hours_left == 0) == (prediction.eta == now)
    json.dumps(prediction.evidence(), allow_nan=False)
