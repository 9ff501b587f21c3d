# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Arithmetic over metric history: trends, predicted time to a limit, baselines, flapping.

Pure functions of lists of ``(datetime, value)`` points, the shape ``StateStore.metrics``
returns; they read no store and no clock, so the same history and the same ``now`` always give
the same answer (a prediction can be replayed as of any past instant).

* :func:`clean_points` is what every function here does first with its input: times must be
  timezone-aware (a naive time is a ``ValueError``) and become UTC; values that are None, NaN or
  infinite are dropped (a collector that could not measure sends no number); points are sorted
  by time, so input out of order (a clock that went back, rows merged from two sources) is no
  error; values recorded at the same instant become one point, their mean.
* :func:`theil_sen` fits a line that a minority of wild values cannot drag (the Theil-Sen
  estimator: the median of the slopes between all pairs of points), after :func:`thin` has
  reduced a long history to at most ``max_points`` points spread evenly in time, so that the
  pairwise work stays bounded.
* :func:`rebase` keeps the history since the last reset: a cleanup (a large fall of the value)
  or a change of capacity (a bigger disk), after which the old trend no longer applies.
* :func:`time_to_limit` puts these together: when will a rising value (disk or database space
  used) reach its limit, or why no time can be given; its :class:`Prediction` gives the alarm's
  evidence.
* :func:`robust_baseline` is a process's usual level and spread from its own history (median
  and MAD), to score how unusual a new value is.
* :func:`count_toggles` and :func:`is_flapping` tell a check that keeps changing its mind.
* :func:`downsample` averages points into buckets aligned on UTC, for keeping long history
  small (raw values for days, hourly means for weeks, daily means for a year).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import operator
import reprlib
import statistics
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

Point = tuple[datetime, float]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
DAY_SECONDS = 86400.0
DEFAULT_MIN_POINTS = 4
DEFAULT_MAX_POINTS = 200
DEFAULT_DROP_FRACTION = 0.1
DEFAULT_WINDOW = timedelta(days=7)
DEFAULT_MIN_SPAN = timedelta(hours=2)
# A point lies on the fitted line (for Fit.quality) when its distance from the line is at most
# this share of the line's rise over the fitted span.
QUALITY_TOLERANCE = 0.1
# ... or at most this share of the largest value, so that floating-point rounding of a series
# that is exactly on a line (flat ones included) never counts as a miss.
ROUNDING_TOLERANCE = 1e-9
# Points on each side of a fall that give the level before and after it (see rebase).
LEVEL_POINTS = 3
# A capacity series changes when a value differs from the one before by more than this share:
# a bigger disk differs by far more, a file system whose reported size wanders a little does not.
CAPACITY_TOLERANCE = 0.001
# No time to a limit is given beyond this: history of a few days says nothing about a century.
HORIZON = timedelta(days=36525)
# 1.4826 * MAD estimates the standard deviation of normally distributed values.
MAD_SCALE = 1.4826
# Whole numbers up to this size are floats exactly (clean_points takes them as they are).
_EXACT_INT = 2 ** 53
_FIRST = operator.itemgetter(0)
_SECOND = operator.itemgetter(1)
_TZINFO = operator.attrgetter("tzinfo")


# --- input ----------------------------------------------------------------------------------


def _time(point: Sequence[Any]) -> datetime:
    return point[0]


def _aware(value, what: str) -> datetime:
    """``value`` in UTC; a ValueError when it is not a datetime or has no timezone."""
    if not isinstance(value, datetime):
        raise ValueError("%s must be a datetime, not %s" % (what, type(value).__name__))
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("%s is a naive datetime (%s): give a timezone-aware one, e.g. with tzinfo=timezone.utc"
                         % (what, value.isoformat()))
    return value.astimezone(timezone.utc)


def _value(value, what: str) -> float | None:
    """``value`` as a float; None when it is None, NaN or infinite (no measurement).

    A bool or a string is a ValueError: it is a mistake in the caller, not a missing value.
    """
    if value is None:
        return None
    if isinstance(value, (bool, str, bytes)):
        raise ValueError("%s must be a number, not %s %r" % (what, type(value).__name__, value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("%s must be a number, not %s" % (what, type(value).__name__)) from None
    return number if math.isfinite(number) else None


def _mean(values: Sequence[float]) -> float:
    """The exactly rounded mean of finite ``values`` (the sum may exceed the float range, a share does not)."""
    try:
        return math.fsum(values) / len(values)
    except OverflowError:
        return math.fsum(value / len(values) for value in values)


def _sorted_series(points: Sequence[Any]) -> list[Point] | None:
    """``clean_points(points)`` when ``points`` are clean already, else None (the caller cleans them).

    Clean already: ``(datetime in UTC, finite float)`` tuples in time order, as the state store
    returns them (and as this module returns them), where only neighbours may share an instant
    (a run's own value read back from the store and added again); whole numbers count as the
    floats they are. A few passes over the points in C (map) instead of converting, grouping
    and sorting them one by one in Python: the same points, merged the same way.
    """
    if not points:
        return []
    if set(map(type, points)) != {tuple} or set(map(len, points)) != {2}:
        return None
    times = list(map(_FIRST, points))
    values = list(map(_SECOND, points))
    if (set(map(type, times)) != {datetime}
            or not all(map(operator.is_, map(_TZINFO, times), itertools.repeat(timezone.utc)))):
        return None
    kinds = set(map(type, values))
    if kinds != {float}:
        whole = [value for value in values if type(value) is int]  # pylint: disable=unidiomatic-typecheck  # a bool is no number
        if not kinds <= {float, int} or not all(-_EXACT_INT <= value <= _EXACT_INT for value in whole):
            return None
        values = [float(value) for value in values]
        points = list(zip(times, values))
    if not all(map(math.isfinite, values)):
        return None
    if all(map(operator.lt, times, itertools.islice(times, 1, None))):
        return list(points)
    if not all(map(operator.le, times, itertools.islice(times, 1, None))):
        return None
    # The indexes of the points at the same instant as the one before them, and each run of them merged.
    same = list(itertools.compress(itertools.count(1), map(operator.eq, times, itertools.islice(times, 1, None))))
    merged: list[Point] = []
    done = index = 0
    while index < len(same):
        first, end = same[index] - 1, same[index] + 1
        index += 1
        while index < len(same) and same[index] == end:
            end += 1
            index += 1
        merged.extend(points[done:first])
        merged.append((times[first], _mean(values[first:end])))
        done = end
    merged.extend(points[done:])
    return merged


def clean_points(points: Iterable[Sequence[Any]]) -> list[Point]:
    """``points`` sorted by time in UTC, without missing values, one point per instant.

    Each point is a pair ``(time, value)``. A time must be a timezone-aware datetime: a naive
    one is a ValueError naming the point, because guessing its zone would shift the history by
    hours. Values that are None, NaN or infinite are dropped. Values at the same instant (in any
    timezone) become one point holding their mean, so a sample written twice weighs once.
    Points that are clean already (see :func:`_sorted_series`) pass after one look at each.
    """
    if not isinstance(points, (list, tuple)):
        points = list(points)
    series = _sorted_series(points)
    if series is not None:
        return series
    by_time: dict[datetime, list[float]] = {}
    for index, point in enumerate(points):
        what = "point %d of the history" % index
        try:
            when, value = point
        except (TypeError, ValueError):
            raise ValueError("%s must be a pair (datetime, number), not %s" % (what, reprlib.repr(point))) from None
        when = _aware(when, what)
        number = _value(value, what)
        if number is not None:
            by_time.setdefault(when, []).append(number)
    return [(when, values[0] if len(values) == 1 else _mean(values)) for when, values in sorted(by_time.items())]


def _count(value, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError("%s must be a whole number of at least %d, not %r" % (what, minimum, value))
    return value


def _duration(value, what: str, allow_zero: bool = False) -> timedelta:
    if not isinstance(value, timedelta) or value < timedelta(0) or (value == timedelta(0) and not allow_zero):
        raise ValueError("%s must be a timedelta longer than zero%s, not %r" % (what, " (or zero)" if allow_zero else "", value))
    return value


# --- the line --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Fit:
    """A straight line through a metric's history, from :func:`theil_sen`.

    ``intercept`` is the line's value at ``anchor`` (the time of the first point fitted) and
    ``slope_per_day`` its change per day; ``n`` is the number of points fitted (after thinning)
    and ``span`` the time from the first to the last of them.

    ``quality`` (0 to 1) is the share of the fitted points that lie on the line: within
    ``QUALITY_TOLERANCE`` (a tenth) of the line's rise over the span, ``abs(slope) * span``,
    or within rounding (``ROUNDING_TOLERANCE`` of the largest absolute value). It is measured
    against the rise, not against the scatter of the points, so that it answers "does the
    history follow the line": a steady trend scores 1, a trend with a fifth of wild values
    about 0.8, noise around a flat line near 0 whatever the size of the noise.
    """

    slope_per_day: float
    intercept: float
    anchor: datetime
    n: int
    span: timedelta
    quality: float

    def value_at(self, when: datetime) -> float:
        """The line's value at ``when`` (a timezone-aware datetime, before or after the anchor)."""
        days = (_aware(when, "when") - self.anchor).total_seconds() / DAY_SECONDS
        return self.intercept + self.slope_per_day * days


def thin(points: Iterable[Sequence[Any]], max_points: int = DEFAULT_MAX_POINTS) -> list[Point]:
    """At most ``max_points`` of the cleaned ``points``, spread evenly in time; the first and last always.

    The span from the first to the last point is cut at ``max_points`` evenly spaced target
    times; each target keeps the first point at or after it that is not kept yet. Evenly in
    time, not in number: a burst of samples (a run repeated every minute during an incident)
    weighs like the same time of ordinary samples, so a long burst may leave fewer than
    ``max_points`` points.
    """
    _count(max_points, "max_points", 2)
    return thin_series(clean_points(points), max_points)


def thin_series(series: list[Point], max_points: int) -> list[Point]:
    """:func:`thin` of a ``series`` that is clean already (:func:`clean_points`), without cleaning it again."""
    if len(series) <= max_points:
        return series
    start = series[0][0]
    offsets = [point[0] - start for point in series]
    total = offsets[-1]
    kept: list[Point] = []
    index = -1
    for target in range(max_points):
        index = bisect_left(offsets, total * target / (max_points - 1), index + 1)
        if index >= len(series):
            break
        kept.append(series[index])
    return kept


def theil_sen(points: Iterable[Sequence[Any]], *, min_points: int = DEFAULT_MIN_POINTS,
              max_points: int = DEFAULT_MAX_POINTS) -> Fit | None:
    """The Theil-Sen line through ``points``, or None with fewer than ``min_points`` distinct instants.

    The points are cleaned (:func:`clean_points`) and, when more than ``max_points``, thinned
    evenly in time (:func:`thin`), which bounds the work to ``max_points**2 / 2`` slopes. Time
    is measured in seconds from the first point kept (the fit's ``anchor``). The slope is the
    median of the slopes between every two points, the intercept the median of ``y - slope * x``:
    up to about 29 % of wild values leave the line where the others are, which a least-squares
    fit does not. Points at one instant are merged by the cleaning, so "all at the same time"
    is fewer than two points. None too when the values are so large that a slope overflows.
    """
    _count(min_points, "min_points", 2)
    _count(max_points, "max_points", min_points)
    return _fit(thin_series(clean_points(points), max_points), min_points)


def _fit(series: list[Point], min_points: int) -> Fit | None:
    """:func:`theil_sen` of the clean and thinned ``series``."""
    count = len(series)
    if count < min_points:
        return None
    anchor = series[0][0]
    xs = [(point[0] - anchor).total_seconds() for point in series]
    ys = [point[1] for point in series]
    # The slope between every two points, each pair as (ys[j] - ys[i]) / (xs[j] - xs[i]) with i < j.
    slopes: list[float] = []
    for i in range(count - 1):
        slopes.extend(map(operator.truediv, map(operator.sub, ys[i + 1:], itertools.repeat(ys[i])),
                          map(operator.sub, xs[i + 1:], itertools.repeat(xs[i]))))
    slope = statistics.median(slopes)
    intercept = statistics.median(y - slope * x for x, y in zip(xs, ys))
    if not (math.isfinite(slope) and math.isfinite(intercept)):
        return None
    tolerance = max(QUALITY_TOLERANCE * abs(slope) * xs[-1], ROUNDING_TOLERANCE * max(abs(y) for y in ys))
    on_line = sum(1 for x, y in zip(xs, ys) if abs(y - (intercept + slope * x)) <= tolerance)
    return Fit(
        slope_per_day=slope * DAY_SECONDS,
        intercept=intercept,
        anchor=anchor,
        n=count,
        span=series[-1][0] - anchor,
        quality=on_line / count,
    )


# --- resets ----------------------------------------------------------------------------------


def _last_fall(values: Sequence[float], drop_fraction: float) -> int:
    """The index of the point after the last lasting fall of ``values`` (0: none)."""
    threshold = drop_fraction * (max(values) - min(values)) if values else 0.0
    if threshold <= 0:
        return 0
    for index in range(len(values) - 1, 0, -1):
        if values[index - 1] - values[index] <= threshold:
            continue
        before = statistics.median_low(values[max(0, index - LEVEL_POINTS):index])
        after = statistics.median_high(values[index:index + LEVEL_POINTS])
        if before - after > threshold:
            return index
    return 0


def _last_capacity_change(series: list[Point]) -> datetime | None:
    """The time of the last value of the clean ``series`` of a capacity that differs from the one before it (None: none)."""
    values = [point[1] for point in series]
    # Only where a value is not the one before it can it differ by more than the tolerance.
    differ = list(itertools.compress(itertools.count(1), map(operator.ne, values, itertools.islice(values, 1, None))))
    for index in reversed(differ):
        old, new = values[index - 1], values[index]
        if abs(new - old) > CAPACITY_TOLERANCE * max(abs(old), abs(new)):
            return series[index][0]
    return None


def _check_fraction(drop_fraction) -> None:
    if isinstance(drop_fraction, bool) or not isinstance(drop_fraction, (int, float)) or not 0 < drop_fraction <= 1:
        raise ValueError("drop_fraction must be a number above 0 and at most 1 (a share of the range), not %r" % (drop_fraction,))


def _reset_time(series: list[Point], drop_fraction: float, capacity_changes: list[Point] | None) -> datetime | None:
    """When the history of the cleaned ``series`` was last reset (see :func:`rebase`, with the
    cleaned ``capacity_changes``); None: never."""
    fall = _last_fall([point[1] for point in series], drop_fraction)
    reset = series[fall][0] if fall else None
    changed = None if capacity_changes is None else _last_capacity_change(capacity_changes)
    if changed is not None and (reset is None or changed > reset):
        reset = changed
    return reset


def rebase(points: Iterable[Sequence[Any]], *, drop_fraction: float = DEFAULT_DROP_FRACTION,
           capacity_changes: Iterable[Sequence[Any]] | None = None) -> list[Point]:
    """The cleaned ``points`` since the last reset, when the trend before it stopped applying.

    Two things reset the history:

    * a cleanup: a fall between two consecutive points by more than ``drop_fraction`` (0 to 1)
      of the range of all the values (largest minus smallest), where the level stays down:
      the lower median of the (up to) three points before the fall must also exceed the upper
      median of the point after the fall and the (up to) two after it by that much. A single
      wild value (a spike or a dip) is not a cleanup; a fall at the very last point is, until a
      later point shows otherwise. The history restarts at the point after the fall. With so
      few points that one step is most of the range, the lag of the medians can hide a fall.
    * a change of capacity: ``capacity_changes`` is the companion series of the limit (a
      disk's total bytes, a database's maximum size); where a value of it differs from the one
      before by more than ``CAPACITY_TOLERANCE`` (0.1 %), the history restarts at that value's
      time, because the same bytes are a different share of a bigger disk. A change after the
      last point leaves no history.

    The later reset wins; without one all the cleaned points are returned.
    """
    _check_fraction(drop_fraction)
    series = clean_points(points)
    reset = _reset_time(series, drop_fraction, None if capacity_changes is None else clean_points(capacity_changes))
    return series if reset is None else [point for point in series if point[0] >= reset]


# --- time to a limit -------------------------------------------------------------------------


def _until(series: list[Point], now: datetime) -> list[Point]:
    """The points of the clean ``series`` at or before ``now``."""
    return series[:bisect_right(series, now, key=_time)]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _significant(value: float | None, digits: int = 6) -> float | None:
    """``value`` rounded to ``digits`` significant digits (JSON-safe: callers pass finite values)."""
    return None if value is None else float("%.*g" % (digits, value))


def _describe(span: timedelta) -> str:
    """A duration for people: minutes, hours or days."""
    seconds = span.total_seconds()
    if seconds >= 2 * DAY_SECONDS:
        return "%g days" % round(seconds / DAY_SECONDS, 1)
    if seconds >= 3600:
        return "%g h" % round(seconds / 3600, 1)
    return "%g min" % round(seconds / 60, 1)


@dataclasses.dataclass(frozen=True)
class Prediction:
    """When a rising value reaches its limit, as of ``now``; or why that cannot be said.

    ``eta`` is None when no time can be given and ``reason`` says why (too little history, not
    growing, too far away); otherwise ``reason`` says how the time was found. An ``eta`` equal to
    ``now`` means the limit is reached already. ``n`` and ``span`` describe the history used:
    the points in the window since the last reset (the fit may use an evenly thinned part of
    them). ``slope_per_day`` and ``quality`` come from the fit (see :class:`Fit`), None when no
    line could be fitted.
    """

    eta: datetime | None
    hours_left: float | None
    slope_per_day: float | None
    quality: float | None
    n: int
    span: timedelta
    reason: str
    limit: float
    last_value: float | None
    now: datetime

    def evidence(self) -> dict[str, Any]:
        """The prediction as JSON-safe alarm evidence: ISO 8601 UTC times, rounded numbers."""
        return {
            "eta": _iso(self.eta),
            "hours_left": None if self.hours_left is None else round(self.hours_left, 1),
            "slope_per_day": _significant(self.slope_per_day),
            "quality": None if self.quality is None else round(self.quality, 2),
            "points": self.n,
            "span_hours": round(self.span.total_seconds() / 3600, 1),
            "limit": _significant(self.limit),
            "last_value": _significant(self.last_value),
            "as_of": _iso(self.now),
            "reason": self.reason,
        }


def time_to_limit(points: Iterable[Sequence[Any]], limit: float, now: datetime, *,
                  window: timedelta = DEFAULT_WINDOW, min_points: int = DEFAULT_MIN_POINTS,
                  min_span: timedelta = DEFAULT_MIN_SPAN, drop_fraction: float = DEFAULT_DROP_FRACTION,
                  capacity_changes: Iterable[Sequence[Any]] | None = None,
                  max_points: int = DEFAULT_MAX_POINTS) -> Prediction:
    """When the rising metric ``points`` reaches ``limit``, from its trend over the last ``window``.

    Points after ``now`` are ignored (a prediction as of ``now`` knows nothing later). The rest
    are rebased (:func:`rebase`, with ``drop_fraction`` and ``capacity_changes``), cut to the
    ``window`` before ``now``, and fitted (:func:`theil_sen`). In this order:

    * no point in the window: no time, "no values in the last ...";
    * the last value is at or above ``limit``: ``eta`` is ``now``;
    * fewer than ``min_points`` points, or less than ``min_span`` between the first and the
      last: no time, and ``reason`` says how much history is needed and how much there is;
    * a slope of zero or less: no time, "not growing";
    * the line at ``now`` is at or above ``limit`` (the last value is below it but the trend is
      not): ``eta`` is ``now``;
    * otherwise ``eta`` is where the line crosses ``limit``, unless that is more than
      ``HORIZON`` (100 years) away.

    For a value that falls towards a floor (free space), pass the used amount, or negate the
    values and the limit.
    """
    now = _aware(now, "now")
    limit_value = _value(limit, "limit")
    if limit_value is None:
        raise ValueError("limit must be a finite number, not %r" % (limit,))
    _duration(window, "window")
    _duration(min_span, "min_span", allow_zero=True)
    _count(min_points, "min_points", 2)
    _count(max_points, "max_points", min_points)
    _check_fraction(drop_fraction)
    known = _until(clean_points(points), now)
    capacity = None if capacity_changes is None else _until(clean_points(capacity_changes), now)
    reset = _reset_time(known, drop_fraction, capacity)
    start = now - window if reset is None else max(now - window, reset)
    recent = known[bisect_left(known, start, key=_time):]
    where = "in the last %s" % _describe(window)
    if reset is not None and reset > now - window:
        where += " since the reset at %s" % _iso(reset)

    def result(reason: str, eta: datetime | None = None, fit: Fit | None = None) -> Prediction:
        return Prediction(
            eta=eta,
            hours_left=None if eta is None else (eta - now).total_seconds() / 3600,
            slope_per_day=None if fit is None else fit.slope_per_day,
            quality=None if fit is None else fit.quality,
            n=len(recent),
            span=recent[-1][0] - recent[0][0] if recent else timedelta(0),
            reason=reason,
            limit=limit_value,
            last_value=recent[-1][1] if recent else None,
            now=now,
        )

    if not recent:
        return result("no values %s" % where)
    span = recent[-1][0] - recent[0][0]
    enough = len(recent) >= min_points and span >= min_span
    fit = _fit(thin_series(recent, max_points), min_points) if enough else None
    last = recent[-1][1]
    if last >= limit_value:
        return result("the limit %g is reached: the last value is %g" % (limit_value, last), now, fit)
    if len(recent) < min_points:
        return result("%d points needed, %d %s" % (min_points, len(recent), where))
    if span < min_span:
        return result("%s of history needed, %s %s" % (_describe(min_span), _describe(span), where))
    if fit is None:
        return result("no line fits the %d points %s: they are too close together in time or too large" % (len(recent), where))
    if fit.slope_per_day <= 0:
        return result("not growing: the trend is %+g per day %s" % (fit.slope_per_day, where), fit=fit)
    now_value = fit.value_at(now)
    if now_value >= limit_value:
        return result("the trend is at the limit %g already (last value %g, rising %g per day)"
                      % (limit_value, last, fit.slope_per_day), now, fit)
    days = (limit_value - now_value) / fit.slope_per_day
    try:
        eta = now + timedelta(days=days) if days <= HORIZON / timedelta(days=1) else None
    except OverflowError:  # past the year 9999
        eta = None
    if eta is None:
        return result("growing too slowly: at %g per day the limit %g is more than %d years away"
                      % (fit.slope_per_day, limit_value, round(HORIZON / timedelta(days=365.25))), fit=fit)
    return result("at %g per day (fit of %d points %s, quality %.2f) the limit %g is reached in %s"
                  % (fit.slope_per_day, fit.n, where, fit.quality, limit_value, _describe(timedelta(days=days))),
                  eta, fit)


# --- a process against its own history -------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Baseline:
    """The usual level of a value and its spread, robust to a minority of wild values.

    ``median`` is the median of the history and ``mad`` its median absolute deviation times
    ``MAD_SCALE`` (1.4826, so that it estimates the standard deviation of normal data). A
    history of equal values has a MAD of zero; ``floor`` (in the value's unit) then stands in,
    so that a score stays finite and a tiny change of an ever-constant value does not look huge.
    """

    median: float
    mad: float
    floor: float
    n: int

    @property
    def scale(self) -> float:
        """The spread scores are measured in: the scaled MAD, at least ``floor``."""
        return max(self.mad, self.floor)

    def score(self, value: float) -> float:
        """How many spreads ``value`` lies above (positive) or below (negative) the median."""
        number = _value(value, "value")
        if number is None:
            raise ValueError("value must be a finite number to be scored, not %r" % (value,))
        return (number - self.median) / self.scale


def robust_baseline(values: Iterable[Any], *, floor: float, min_history: int = 10) -> Baseline | None:
    """Median and scaled MAD of ``values``, or None with fewer than ``min_history`` of them.

    None, NaN and infinite values are dropped before counting. ``floor`` (above zero, in the
    unit of the values, e.g. 1.0 for CPU percent) is the smallest spread scores are measured in.
    """
    floor_value = _value(floor, "floor")
    if floor_value is None or floor_value <= 0:
        raise ValueError("floor must be a number above zero in the unit of the values, not %r" % (floor,))
    _count(min_history, "min_history", 1)
    numbers = [number for number in (_value(value, "value %d of the history" % index) for index, value in enumerate(values))
               if number is not None]
    if len(numbers) < min_history:
        return None
    median = statistics.median(numbers)
    mad = statistics.median(abs(number - median) for number in numbers)
    return Baseline(median=median, mad=MAD_SCALE * mad, floor=floor_value, n=len(numbers))


# --- flapping --------------------------------------------------------------------------------


def count_toggles(states: Iterable[bool]) -> int:
    """How many times ``states`` (a check's results, oldest first) changes from one to the next."""
    values = list(states)
    for index, state in enumerate(values):
        if not isinstance(state, bool):
            raise ValueError("state %d must be true or false, not %r" % (index, state))
    return sum(1 for before, after in zip(values, values[1:]) if before != after)


def is_flapping(states: Iterable[bool], max_toggles: int) -> bool:
    """True when ``states`` changes more than ``max_toggles`` times: the condition is flapping."""
    return count_toggles(states) > _count(max_toggles, "max_toggles", 0)


# --- retention -------------------------------------------------------------------------------


def downsample(points: Iterable[Sequence[Any]], bucket: timedelta) -> list[Point]:
    """The mean of the cleaned ``points`` per ``bucket`` of time, oldest first.

    Buckets are aligned on whole multiples of ``bucket`` since the UTC epoch (1970-01-01), so
    hourly buckets start on the hour and daily ones at midnight UTC, whatever the first point;
    each is returned as ``(bucket start, mean)``; empty buckets are left out. Each instant
    counts once (see :func:`clean_points`). Used for retention: raw values for days, hourly
    means for weeks, daily means for a year.
    """
    _duration(bucket, "bucket")
    groups: dict[int, list[float]] = {}
    for when, value in clean_points(points):
        groups.setdefault((when - EPOCH) // bucket, []).append(value)
    return [(EPOCH + bucket * index, _mean(values)) for index, values in sorted(groups.items())]
