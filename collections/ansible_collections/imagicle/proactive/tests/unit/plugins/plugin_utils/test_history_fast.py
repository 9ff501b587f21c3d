# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fast way a host's history is read and judged gives what the plain way gives.

* ``trends.clean_points`` lets series that are clean already pass after a look (no sorting,
  grouping or converting): the same points as cleaning them one by one;
* ``theil_sen`` computes the slopes of all pairs in C: the same slope as the formula;
* ``Store.metrics`` with a mapping reads all the windows of a host at once, and of the metrics
  read only for their changes (``rules.read_for_changes``) only the first value, the changes and
  the last: the same points as reading each metric by itself, less the repeated values;
* and so ``remember`` then ``evaluate_facts`` give the same alarms, evidence and unmeasured
  rules as a history read metric by metric and given as lists, in another timezone (which
  takes the plain, cleaning path everywhere), on generated histories, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils import behaviour, trends
from ansible_collections.imagicle.proactive.plugins.plugin_utils.history import (
    History,
    capacity_metric,
    disk_metric,
    history_names,
    host_metrics,
    process_metric,
    remember,
)
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import (
    evaluate_facts,
    history_windows,
    load_catalogue,
    metric_kind,
    read_for_changes,
)
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import OpenOnce, open_store
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils._pgcluster import pg_server, store_url  # noqa: F401 pylint: disable=unused-import

from .health_fixture import healthy_health

NOW = datetime(2026, 11, 26, 5, 40, tzinfo=timezone.utc)
ELSEWHERE = timezone(timedelta(hours=2))
CATALOGUE = load_catalogue()


# --- clean_points and theil_sen ------------------------------------------------------------------

def _series(rng: random.Random) -> list:
    """A clean series as the store returns it, sometimes with a run's value added again at its last instant."""
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    times = sorted(rng.sample(range(0, 5000), rng.randint(0, 40)))
    points = [(start + timedelta(minutes=minute), rng.choice([float(rng.randint(0, 5)), rng.uniform(-1e3, 1e3)]))
              for minute in times]
    if points and rng.random() < 0.5:
        points.append((points[-1][0], rng.choice([points[-1][1], float(rng.randint(0, 9)), rng.randint(0, 9)])))
    return points


@pytest.mark.parametrize("seed", range(40))
def test_clean_series_pass_as_cleaning_them_one_by_one_gives(seed):
    rng = random.Random(seed)
    for dummy in range(25):
        points = _series(rng)
        fast = trends.clean_points(points)
        assert trends._sorted_series(points) is not None  # pylint: disable=protected-access  # the fast path was taken
        # Lists in another timezone, shuffled: no fast path, every point converted, grouped and sorted.
        plain = [[when.astimezone(ELSEWHERE), value] for when, value in points]
        rng.shuffle(plain)
        assert not plain or trends._sorted_series(plain) is None  # pylint: disable=protected-access
        assert fast == trends.clean_points(plain)
        assert all(type(value) is float and when.tzinfo is timezone.utc for when, value in fast)  # pylint: disable=unidiomatic-typecheck


@pytest.mark.parametrize("points", [
    [(NOW, float("nan"))], [(NOW, None)], [(NOW, True)], [(NOW.replace(tzinfo=None), 1.0)], [[NOW, 1.0]],
    [(NOW, 1.0), (NOW - timedelta(minutes=1), 2.0)], [(NOW, 2 ** 60)], [(NOW.astimezone(ELSEWHERE), 1.0)],
])
def test_anything_not_clean_already_takes_the_plain_path(points):
    assert trends._sorted_series(points) is None  # pylint: disable=protected-access


@pytest.mark.parametrize("seed", range(10))
def test_theil_sen_gives_the_median_of_the_slopes_of_all_pairs(seed):
    rng = random.Random(seed)
    points = [(NOW + timedelta(minutes=rng.randint(0, 100000)), rng.uniform(0, 100)) for dummy in range(rng.randint(4, 300))]
    series = trends.thin(points)
    xs = [(when - series[0][0]).total_seconds() for when, dummy in series]
    ys = [value for dummy, value in series]
    slopes = sorted((ys[j] - ys[i]) / (xs[j] - xs[i]) for i in range(len(xs)) for j in range(i + 1, len(xs)))
    middle = len(slopes) // 2
    expected = slopes[middle] if len(slopes) % 2 else (slopes[middle - 1] + slopes[middle]) / 2
    assert trends.theil_sen(points).slope_per_day == expected * trends.DAY_SECONDS


# --- generated histories -------------------------------------------------------------------------

def _history(rng: random.Random, now: datetime) -> tuple[list, dict]:
    """(runs as (time, metrics), this run's values) of a host: 24 days a run every 2 hours, the last day every 10 minutes.

    Space that grows with noise and repeated values, a cleanup, a bigger disk; a database that
    fills; a process that restarts (in a loop near the end, for some seeds), one whose memory
    grows, one whose CPU is usually low; a pool's use with daily peaks, its licence raised.
    """
    times = [now - timedelta(days=24) + timedelta(hours=hour) for hour in range(0, 23 * 24, 2)]
    times += [times[-1] + timedelta(minutes=10 * step) for step in range(1, 6 * 26)]  # up to 10 minutes before now
    cleanup = rng.uniform(3, 20)
    bigger = rng.choice([None, rng.uniform(1, 6)])
    licence = rng.choice([None, rng.uniform(5, 20)])
    loop = rng.choice([0, 2, 5])
    start = 1795000000.12
    runs = []
    for index, when in enumerate(times + [now]):
        left = (now - when) / timedelta(days=1)
        day = 24 - left
        used = 40 + rng.uniform(1.5, 4) * day + rng.choice([0.0, 0.0, rng.uniform(-0.5, 0.5)]) - (25 if left < cleanup else 0)
        if left < loop / 24.0:
            start += 300
        hour = when.hour + when.minute / 60.0
        metrics = {
            disk_metric("/", "used_percent"): round(min(used, 99.0), 1),
            disk_metric("/", "total_bytes"): 41943040000.0 * (2 if bigger is not None and left < bigger else 1),
            disk_metric("/srv/appsuite", "used_percent"): round(10 + rng.choice([0.0, 0.1]) * day, 1),
            disk_metric("/srv/appsuite", "total_bytes"): 60000000.0,
            "database:used_percent": round(60 + 1.6 * day + rng.uniform(-0.2, 0.2), 2),
            process_metric("voip_stack", "start_time_epoch"): start,
            process_metric("voip_stack", "rss_bytes"): 31000000.0 + rng.choice([0.0, 1000.0]),
            process_metric("voip_stack", "cpu_percent"): round(2 + rng.uniform(-0.5, 0.5), 2),
            process_metric("call_recording", "start_time_epoch"): 1795000000.12,
            process_metric("call_recording", "rss_bytes"): 5e7 * 1.1 ** day + rng.uniform(0, 1e5),
            process_metric("call_recording", "cpu_percent"): round(1 + 3 * max(0.0, math.sin(hour / 24 * 2 * math.pi)), 1),
            capacity_metric("call_recording", "in_use"): float(round(max(0.0, (2 + 0.25 * day) * math.sin(hour / 24 * math.pi)))),
            capacity_metric("call_recording", "licensed"): 16.0 if licence is not None and left < licence else 8.0,
        }
        runs.append((when, metrics))
    return runs[:-1], runs[-1][1]


def _health(current: dict) -> dict:
    health = healthy_health()
    disks = {item["mount"]: item for item in health["disks"]["items"]}
    for mount in ("/", "/srv/appsuite"):
        disks[mount]["used_percent"] = current[disk_metric(mount, "used_percent")]
        disks[mount]["total_bytes"] = current[disk_metric(mount, "total_bytes")]
    health["database"]["used_percent"] = current["database:used_percent"]
    for item in health["processes"]["items"]:
        for field in ("start_time_epoch", "rss_bytes", "cpu_percent"):
            name = process_metric(item["id"], field)
            if name in current:
                item[field] = current[name]
    item = next(item for item in health["processes"]["items"] if item["id"] == "voip_stack")
    item["cpu_percent"] = 85.0  # far above its usual level
    pool = health["capacity"]["apps"]["call_recording"]
    pool.update(in_use=current[capacity_metric("call_recording", "in_use")], licensed=current[capacity_metric("call_recording", "licensed")])
    pool["available"] = pool["licensed"] - pool["in_use"]
    return health


def _plain_history(store, host: str, health, now: datetime) -> History:
    """The history read metric by metric, given as lists in another timezone (the plain path everywhere)."""
    windows = history_windows()
    return History({name: [[when.astimezone(ELSEWHERE), value] for when, value in store.metrics(host, name, now - windows[metric_kind(name)])]
                    for name in history_names(health) if windows.get(metric_kind(name))})


def _build(url: str, host: str, rng: random.Random) -> dict:
    runs, current = _history(rng, NOW)
    with open_store(url) as store:
        with store.transaction("generated history"):
            for when, metrics in runs:
                store.record_metrics(host, when, metrics)
        store.compact_metrics(NOW - timedelta(hours=1), host=host)
    return _health(current)


@pytest.mark.parametrize("seed", [0, 5])
def test_reading_all_windows_at_once_gives_each_metric_as_read_alone(store_url, seed):
    host = "ias-%d" % seed
    health = _build(store_url, host, random.Random(seed))
    windows = history_windows()
    names = [name for name in history_names(health) if windows.get(metric_kind(name))]
    since = {name: NOW - windows[metric_kind(name)] for name in names}
    changes = [name for name in names if read_for_changes(name)]
    assert changes and len(changes) < len(names)
    with open_store(store_url) as store:
        together = store.metrics(host, since, changes=changes)
        alone = {name: store.metrics(host, name, since[name]) for name in names}
    assert set(together) == set(names)
    for name in names:
        points = alone[name]
        if name in changes:
            points = [point for index, point in enumerate(points)
                      if index in (0, len(points) - 1) or point[1] != points[index - 1][1]]
        assert together[name] == tuple(points), name
    # What the readers of the changes find in them is what they find in every value.
    for name in changes:
        if name.endswith(":start_time_epoch"):
            assert (behaviour.restarts_within(together[name], NOW, timedelta(days=1))
                    == behaviour.restarts_within(alone[name], NOW, timedelta(days=1)))
        else:
            assert trends.time_to_limit([(NOW, 1.0)], 2.0, NOW, capacity_changes=together[name]) == trends.time_to_limit(
                [(NOW, 1.0)], 2.0, NOW, capacity_changes=alone[name])


@pytest.mark.parametrize("seed", [0, 3, 4, 5])
def test_remember_then_evaluate_gives_the_alarms_of_the_plain_path(store_url, seed):
    host = "ias-%d" % seed
    health = _build(store_url, host, random.Random(seed))
    with open_store(store_url) as store:
        store.record_metrics(host, NOW, host_metrics(health))
    shared = OpenOnce(lambda: open_store(store_url))
    remembered = remember(shared, host, health, NOW, record=False)
    with shared() as store:
        plain = _plain_history(store, host, health, NOW)
    shared.close()
    assert remembered.warnings == ()
    fast_alarms, fast_gaps = evaluate_facts(health, host=host, customer="acme", catalogue=CATALOGUE, detected_at=NOW,
                                            history=remembered.history)
    plain_alarms, plain_gaps = evaluate_facts(health, host=host, customer="acme", catalogue=CATALOGUE, detected_at=NOW,
                                              history=plain)
    assert [alarm.to_dict() for alarm in fast_alarms] == [alarm.to_dict() for alarm in plain_alarms]
    assert [gap.to_dict() for gap in fast_gaps] == [gap.to_dict() for gap in plain_gaps]
    # The history was judged: the rules that read it fired on it (a restart loop, a pool's peaks, a disk on some seeds).
    fired = {alarm.rule for alarm in fast_alarms}
    assert {"database_space", "process_memory_growing", "process_unusual_behaviour"} <= fired
    assert "prediction" in next(alarm.evidence for alarm in fast_alarms if alarm.rule == "database_space")


def test_open_once_opens_the_store_once_and_again_after_a_failure(tmp_path):
    opened = []

    def opener():
        if not opened:
            opened.append(None)
            raise OSError("not yet")
        store = open_store(str(tmp_path / "s.sqlite"))
        opened.append(store)
        return store

    shared = OpenOnce(opener)
    with pytest.raises(OSError):
        with shared():
            pass
    with shared() as first:
        pass
    with shared() as second:
        assert second is first and second.schema_version() > 0
    shared.close()
    shared.close()
    assert len(opened) == 2 and first._conn is None  # pylint: disable=protected-access
