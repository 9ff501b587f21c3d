# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reduced form of the evaluation-with-history benchmark (the full one is `make bench-history`,
1,000 hosts x 30 days): 20 hosts x 2 days, one repetition, on SQLite and PostgreSQL. No timing
is asserted, only that the benchmark still measures what it says: both rounds timed, the history
really read, the store's size known. And that the fast way it builds a store leaves the rows that
the runs themselves, one after the other, would leave."""

from __future__ import annotations

import json
import math
import os
import sys
from datetime import timedelta

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# pylint: disable=wrong-import-position
import bench_history  # noqa: E402
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store  # noqa: E402
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils import _pgcluster  # noqa: E402

HOSTS, DAYS = 20, 2


def test_the_reduced_benchmark_measures_both_rounds_and_the_store(tmp_path):
    if _pgcluster.pg_bindir() is None or _pgcluster.psycopg2 is None:
        pytest.skip("PostgreSQL server binaries or psycopg2 are missing (make setup-test installs them)")
    out = tmp_path / "bench_history.json"
    result = bench_history.run(HOSTS, DAYS, repetitions=1, out=str(out), workdir=str(tmp_path), log=lambda line: None)
    assert json.loads(out.read_text()) == result
    assert result["skipped"] == {}
    assert set(result["engines"]) == {"sqlite", "postgresql"}
    assert result["machine"]["cpus"] >= 1 and result["machine"]["sqlite"]
    for engine, figures in result["engines"].items():
        assert math.isfinite(figures["ratio"]) and figures["ratio"] > 0, engine
        for arm in ("without_history", "with_history"):
            assert len(figures[arm]["seconds"]) == 1 and figures[arm]["median_s"] > 0, (engine, arm)
            assert figures[arm]["per_host_ms"] > 0, (engine, arm)
        with_history = figures["with_history"]
        # Hosts without facts, or whose disks and database all failed, have no history; the others do.
        assert HOSTS - 3 <= with_history["hosts_with_history"] <= HOSTS, engine
        assert with_history["warnings"] == 0, engine
        # Every host with history read back the two days of at least one metric, a run every 5 minutes.
        assert with_history["points_read"] >= with_history["hosts_with_history"] * DAYS * 288, engine
        for size in ("size_built", "size_after"):
            assert figures[size]["bytes"] > 0 and figures[size]["bytes_per_host_per_month"] > 0, (engine, size)
            assert figures[size]["rows"]["metric_points"] >= HOSTS * 5 * DAYS * 288, (engine, size)
        assert figures["size_after"]["rows"]["metric_points"] > figures["size_built"]["rows"]["metric_points"], engine
        if engine == "postgresql" or "objects_bytes" in figures["size_built"]:  # SQLite: when it has dbstat
            assert figures["size_built"]["objects_bytes"]["metric_points"] > 0, engine
        assert set(figures["apart"]["seconds"]) == {"open", "record", "read", "compact", "evaluate"}, engine
        assert all(value > 0 for value in figures["apart"]["seconds"].values()), engine


def _rows(store):
    """Every metric value as (host, name, time as the SQLite store writes times, value)."""
    with store._tx("read every metric", write=False) as cur:  # pylint: disable=protected-access
        cur.execute("SELECT s.host, s.name, p.at, p.value FROM metric_points p JOIN metric_series s ON s.id = p.series "
                    "ORDER BY s.host, s.name, p.at")
        return [(host, name, store._dt(store._from_at(at)), value)  # pylint: disable=protected-access
                for host, name, at, value in cur.fetchall()]


def test_the_built_history_is_what_the_runs_would_leave(tmp_path):
    """Eight days, so that the older history is compacted to hourly means: built in day-long
    batches (and copied from a profile for the second host) as against recorded and compacted
    run by run, as the evaluate action does."""
    hosts, days, profiles = 2, 8, 1
    first_run = bench_history.NOW
    with open_store(str(tmp_path / "built.sqlite")) as built:
        bench_history.build_history(built, hosts, days, first_run, profiles, log=lambda line: None)
        built_rows = _rows(built)
    names = sorted(bench_history.HEALTHY_METRICS)
    runs = int(timedelta(days=days) / bench_history.STEP)
    start = first_run - runs * bench_history.STEP
    with open_store(str(tmp_path / "replayed.sqlite")) as replayed:
        for step in range(runs):
            at = start + step * bench_history.STEP
            for index in range(hosts):
                host = bench_history.host_name(index)
                replayed.record_metrics(host, at, bench_history.profile_values(index % profiles, step, names))
                replayed.compact_metrics(at, host=host)
        replayed_rows = _rows(replayed)
    # The last run is 7 days and 5 minutes after the first day's 23rd hour: hours before that are hourly means.
    hourly = [row for row in built_rows if row[2] < replayed._dt(start + timedelta(hours=23))]  # pylint: disable=protected-access
    assert len(hourly) == hosts * len(names) * 23 and all(row[2].endswith(":00:00.000000Z") for row in hourly)
    assert built_rows == replayed_rows
