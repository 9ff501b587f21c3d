# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A process against its own history: restart loops, memory that keeps growing, unusual levels.

Pure functions of metric history (lists of ``(datetime, value)`` as ``History.process`` gives
them) and of ``now``; they read no store and no clock. Points later than ``now`` (recorded by a
controller whose clock was ahead) are ignored, like missing values (see ``trends.clean_points``).

* :func:`restarts_within` lists the restarts of a process item seen within a window: the runs
  whose start time is later than the one before.
* :func:`memory_growth` fits a line to the resident memory since the process last started and
  says how steadily and how fast it grows.
* :func:`usual_level` is the process's usual value (median and MAD) for the hour of the week,
  or over the whole window while the history is too short for that.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from ansible_collections.imagicle.proactive.plugins.plugin_utils import trends

# Start times closer than this are the same start (as the processes collector counts them).
RESTART_TOLERANCE_SECONDS = 1.0
# The memory fit uses at most this many points (evenly thinned in time): the pairwise work of
# Theil-Sen and of the rising share stays under 1,800 pairs whatever the history.
GROWTH_MAX_POINTS = 60
# A fall of the memory by more than this share of its range, where it stays down, starts the fit
# again (workers replaced while the oldest process kept its start time). Larger than for disk
# space: memory that a garbage collector frees now and then is noise, not a new start; the
# rising share of the fit tells noise from steady growth.
GROWTH_DROP_FRACTION = 0.3
# Falls are looked for in at most this many points (evenly thinned in time): a fall that lasts
# stays visible, and the work stays small for a week of 5-minute values.
GROWTH_REBASE_POINTS = 200
# The usual level: history read back for it, and what makes a baseline "by hour of the week":
# a history spanning at least HOUR_OF_WEEK_SPAN with at least HOUR_OF_WEEK_VALUES hourly means
# (one per week) in this hour of the week.
BASELINE_WINDOW = timedelta(days=28)
HOUR_OF_WEEK_SPAN = timedelta(days=21)
HOUR_OF_WEEK_VALUES = 3
BASIS_HOUR_OF_WEEK = "hour of week"
BASIS_WHOLE_WINDOW = "whole window"


def _time(point) -> datetime:
    return point[0]


def _until(points: Iterable[Sequence[Any]], now: datetime, *, include_now: bool = True) -> list:
    """The cleaned ``points`` at or before ``now`` (before it with ``include_now`` false).

    History as the state store returns it is clean already and passes ``trends.clean_points``
    after a look in C; anything else is cleaned point by point.
    """
    series = trends.clean_points(points)
    end = len(series)
    while end and (series[end - 1][0] > now or (not include_now and series[end - 1][0] == now)):
        end -= 1
    return series[:end]


def _with_current(points: Iterable[Sequence[Any]], now: datetime, current) -> list:
    """``points`` with this run's value ``current`` at ``now`` (replacing a value recorded at ``now``: the same run's)."""
    points = list(points)
    if current is None:
        return points
    if points and points[-1][0] == now:
        points.pop()
    points.append((now, float(current)))
    return points


def _since(series: list, start: datetime) -> list:
    """The points of the clean ``series`` at or after ``start``."""
    return series[bisect_left(series, start, key=_time):]


def _thin(series: list, max_points: int) -> list:
    """At most ``max_points`` of the clean ``series``, evenly in time, as ``trends.thin`` (without cleaning again)."""
    if len(series) <= max_points:
        return series
    start = series[0][0]
    offsets = [point[0] - start for point in series]
    total = offsets[-1]
    kept, index = [], -1
    for target in range(max_points):
        index = bisect_left(offsets, total * target / (max_points - 1), index + 1)
        if index >= len(series):
            break
        kept.append(series[index])
    return kept


def epoch_time(epoch) -> datetime | None:
    """A UTC datetime from seconds since the epoch; None when it is not a usable number."""
    if isinstance(epoch, bool) or not isinstance(epoch, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(epoch, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def restarts_within(start_points: Iterable[Sequence[Any]], now: datetime, window: timedelta,
                    current: float | None = None) -> list:
    """The restarts seen in the ``window`` before ``now``: ``(seen at, new start epoch)``, oldest first.

    ``start_points`` is the history of the process item's start time (seconds since the epoch,
    recorded while it ran); ``current`` is this run's, added at ``now``. A restart is a value
    more than a second later than the one before it, the one before the window included, so a
    restart seen by the first run of the window counts. A start time that goes back (a clock
    set back on the host) is no restart.
    """
    series = _until(_with_current(start_points, now, current), now)
    start = now - window
    before = [point for point in series if point[0] < start][-1:]
    seen = before + [point for point in series if point[0] >= start]
    return [(later[0], later[1]) for earlier, later in zip(seen, seen[1:])
            if later[1] - earlier[1] > RESTART_TOLERANCE_SECONDS]


@dataclasses.dataclass(frozen=True)
class Growth:
    """How the memory of a process grew since it last started, from a Theil-Sen line.

    ``slope_per_day`` is in the unit of the values per day, ``percent_per_day`` that slope as a
    share of the median value, ``rising_share`` the share of pairs of (thinned) points where the
    later value is higher: near 1 for steady growth, near 0.5 for noise around a flat line.
    """

    slope_per_day: float
    percent_per_day: float
    rising_share: float
    since: datetime
    points: int
    span: timedelta
    last: float
    fit: trends.Fit

    def value_at(self, when: datetime) -> float:
        return self.fit.value_at(when)


def _rising_share(values: Sequence[float]) -> float:
    """The share of pairs of ``values`` (oldest first) where the later one is higher; a tie counts half."""
    count = len(values)
    pairs = count * (count - 1) // 2
    rising = sum(1.0 if values[j] > values[i] else 0.5 if values[j] == values[i] else 0.0
                 for i in range(count) for j in range(i + 1, count))
    return rising / pairs if pairs else 0.0


def memory_growth(points: Iterable[Sequence[Any]], now: datetime, *, window: timedelta, min_points: int,
                  min_span: timedelta, started_at: datetime | None = None,
                  restarts: Iterable[Sequence[Any]] = (), current: float | None = None) -> Growth | None:
    """The growth of ``points`` (resident memory) over the ``window`` before ``now``, since the
    process last started; None with fewer than ``min_points`` values or less than ``min_span``.
    ``current`` is this run's value, at ``now``.

    The fit starts again at the latest of: ``started_at`` (this run's start time of the
    process), the last of ``restarts`` (``(seen at, ...)`` from :func:`restarts_within`), and a
    lasting fall of the values (``trends.rebase``: workers replaced while the oldest process
    kept running; a fall by ``GROWTH_DROP_FRACTION`` of the range). The values are thinned evenly
    in time to ``GROWTH_MAX_POINTS``.
    """
    since = now - window
    for moment in [started_at] + [restart[0] for restart in restarts]:
        if moment is not None and moment > since:
            since = moment
    series = _since(_until(_with_current(points, now, current), now), since)
    if len(series) < min_points:
        return None
    rebased = trends.rebase(_thin(series, GROWTH_REBASE_POINTS), drop_fraction=GROWTH_DROP_FRACTION)
    series = _since(series, rebased[0][0])
    if len(series) < min_points or series[-1][0] - series[0][0] < min_span:
        return None
    thinned = _thin(series, GROWTH_MAX_POINTS)
    fit = trends.theil_sen(thinned, min_points=2, max_points=GROWTH_MAX_POINTS)
    level = statistics.median(value for dummy, value in series)
    if fit is None or level <= 0:
        return None
    return Growth(
        slope_per_day=fit.slope_per_day,
        percent_per_day=100.0 * fit.slope_per_day / level,
        rising_share=_rising_share([value for dummy, value in thinned]),
        since=series[0][0],
        points=len(series),
        span=series[-1][0] - series[0][0],
        last=series[-1][1],
        fit=fit,
    )


def hour_of_week(moment: datetime) -> int:
    """0 (Monday 00:00-01:00 UTC) to 167 (Sunday 23:00-24:00 UTC)."""
    moment = moment.astimezone(timezone.utc)
    return moment.weekday() * 24 + moment.hour


@dataclasses.dataclass(frozen=True)
class Usual:
    """The usual level of a value (``baseline``), on which ``basis``, from how many ``history`` values."""

    baseline: trends.Baseline
    basis: str
    history: int


def usual_level(points: Iterable[Sequence[Any]], now: datetime, *, floor: float, min_points: int,
                min_span: timedelta, window: timedelta = BASELINE_WINDOW) -> Usual | None:
    """The usual level of ``points`` as of ``now``, from the ``window`` before it (``now`` excluded).

    None while the history is shorter than ``min_points`` values or ``min_span``: a first run,
    or a process that was never seen long enough, is not judged. When the history spans
    ``HOUR_OF_WEEK_SPAN`` (3 weeks) and holds ``HOUR_OF_WEEK_VALUES`` hourly means in the hour of
    the week of ``now`` (UTC), the baseline is theirs (a process busy every Monday morning is
    usual on Monday mornings); otherwise it is that of every value in the window. ``floor`` is
    the smallest spread (``trends.robust_baseline``).
    """
    series = _since(_until(points, now, include_now=False), now - window)
    if len(series) < min_points or series[-1][0] - series[0][0] < min_span:
        return None
    if series[-1][0] - series[0][0] >= HOUR_OF_WEEK_SPAN:
        slot = hour_of_week(now)
        hours: dict[datetime, list] = {}
        for when, value in series:
            if when.weekday() * 24 + when.hour == slot:
                hours.setdefault(when.replace(minute=0, second=0, microsecond=0), []).append(value)
        # The mean of each hour (trends.downsample's hourly buckets), one per week.
        same = [math.fsum(values) / len(values) for values in hours.values()]
        if len(same) >= HOUR_OF_WEEK_VALUES:
            baseline = trends.robust_baseline(same, floor=floor, min_history=HOUR_OF_WEEK_VALUES)
            return Usual(baseline, BASIS_HOUR_OF_WEEK, len(series))
    baseline = trends.robust_baseline([value for dummy, value in series], floor=floor, min_history=min_points)
    return None if baseline is None else Usual(baseline, BASIS_WHOLE_WINDOW, len(series))
