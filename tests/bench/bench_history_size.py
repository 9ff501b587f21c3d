# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: how big one host's metric history grows in the state store, and what a run costs.

Simulates one host evaluated every 5 minutes for 30 days (``--days``). The store is written as
the ``evaluate`` action writes it: every run records the run's metrics (``host_metrics``: 33 for
the realistic healthy host of the unit tests, 6 processes) with ``record_metrics``, and the
first run of each UTC hour compacts the host's history (``compact_metrics``), as
``history.remember`` does. The runs of the last day (``--timed-days``) go through the whole
path and are timed: ``history.remember`` (record, read back the window each metric's rules
need, compact) and ``rules.evaluate_facts`` with that history; the earlier runs skip the reading
and the evaluation, which change nothing in the store, so that a month is simulated in minutes.
The facts wander like a live host's: CPU and memory of each process with noise and a daily
rhythm, latencies, licences in use.

It prints, per engine, the number of metric rows, the bytes they take (SQLite: the pages of the
``metric_series`` and ``metric_points`` tables and their indexes from ``dbstat``, and the whole
file; PostgreSQL: ``pg_total_relation_size`` of both), and the time of a timed run (median and 95th percentile, wall
and CPU of the benchmark's process, which excludes the PostgreSQL server's work), when every
window is full. Rows of a longer history follow from the
retention: raw values for 7 days, hourly means to 8 weeks, daily means to 400 days.

Usage: ``python tests/bench/bench_history_size.py [--days D] [--timed-days T] [--engine sqlite|postgresql|both]``.
PostgreSQL needs the server binaries (apt-get install postgresql) and psycopg2; without them it
is skipped with a note.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.imagicle.proactive.plugins.plugin_utils.history import host_metrics, remember  # noqa: E402
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import (  # noqa: E402
    evaluate_facts,
    history_windows,
    load_catalogue,
)
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store  # noqa: E402
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils.health_fixture import healthy_health  # noqa: E402

START = datetime(2026, 10, 1, 0, 2, tzinfo=timezone.utc)
STEP = timedelta(minutes=5)
HOST = "ias-bench"
# The metric history's tables and indexes (schema 6 on): series, their points, the time index.
SQLITE_OBJECTS = ("metric_series", "sqlite_autoindex_metric_series_1", "metric_points", "metric_points_at")


def facts_at(when: datetime, rng: random.Random) -> dict:
    """The host's facts at ``when``: a daily rhythm plus noise for every number the rules read."""
    health = healthy_health()
    day = math.sin(2 * math.pi * (when.hour + when.minute / 60.0) / 24.0)
    for index, item in enumerate(health["processes"]["items"]):
        item["cpu_percent"] = round(max(0.0, 5.0 + 3.0 * day + rng.gauss(0, 1.0)), 2)
        item["rss_bytes"] = int((200 + 40 * index + 10 * day + rng.gauss(0, 2)) * 1048576)
        item["start_time_epoch"] = START.timestamp() - 3600 - index
    health["webserver"]["latency_ms"] = round(abs(rng.gauss(15, 4)), 1)
    health["cloud"]["latency_ms"] = round(abs(rng.gauss(40, 8)), 1)
    for app in health["capacity"]["apps"].values():
        app["in_use"] = rng.randint(0, app["licensed"])
    health["replication"]["clock_skew_seconds"] = round(rng.gauss(0, 0.3), 2)
    return health


def simulate(url: str, days: float, catalogue, timed_days: float = 1.0, vacuum_daily: bool = False) -> dict:
    rng = random.Random(1)
    windows = history_windows(catalogue)
    runs = int(days * 24 * 12)
    timed_from = runs - int(timed_days * 24 * 12)
    last_day = []
    alarms = 0

    def opener():
        return open_store(url, "state store")
    with opener() as store:
        for index in range(timed_from):
            when = START + STEP * index
            store.record_metrics(HOST, when, host_metrics(facts_at(when, rng)))
            if index == 0 or when.hour != (when - STEP).hour:  # the first run of each hour compacts
                store.compact_metrics(when, host=HOST)
            if vacuum_daily and when.date() != (when + STEP).date():  # what autovacuum does over a real month
                store._conn.commit()  # pylint: disable=protected-access
                store._conn.autocommit = True  # pylint: disable=protected-access
                with store._conn.cursor() as cur:  # pylint: disable=protected-access
                    cur.execute("VACUUM")
                store._conn.autocommit = False  # pylint: disable=protected-access
    for index in range(timed_from, runs):
        when = START + STEP * index
        health = facts_at(when, rng)
        began, began_cpu = time.perf_counter(), time.process_time()
        remembered = remember(opener, HOST, health, when, windows=windows)
        found = evaluate_facts(health, host=HOST, customer="bench", catalogue=catalogue, detected_at=when,
                               history=remembered.history)[0]
        elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
        if remembered.warnings:
            raise SystemExit("run %d: %s" % (index, remembered.warnings))
        alarms += len(found)
        last_day.append((elapsed, cpu))
    return {"runs": runs, "last_day": last_day, "alarms": alarms, "metrics": len(host_metrics(facts_at(START, rng)))}


def sqlite_size(path: str) -> dict:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = conn.execute("SELECT COUNT(*) FROM metric_points").fetchone()[0]
        try:
            parts = dict(conn.execute("SELECT name, SUM(pgsize) FROM dbstat WHERE name IN (%s) GROUP BY name"
                                      % ", ".join("'%s'" % name for name in SQLITE_OBJECTS)).fetchall())
            table = sum(parts.values())
        except sqlite3.OperationalError:  # SQLite built without dbstat
            table, parts = None, {}
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0] * page
    finally:
        conn.close()
    return {"rows": rows, "table_bytes": table, "parts": parts, "file_bytes": os.path.getsize(path), "free_bytes": free}


def run_sqlite(days: float, catalogue, timed_days: float) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-history-") as directory:
        path = os.path.join(directory, "state.sqlite")
        began = time.perf_counter()
        result = simulate(path, days, catalogue, timed_days)
        total = time.perf_counter() - began
        size = sqlite_size(path)
    report("SQLite %s" % sqlite3.sqlite_version, days, result, total, size["rows"], size["table_bytes"],
           "file %s (of which free pages %s); %s" % (_mb(size["file_bytes"]), _mb(size["free_bytes"]), _parts(size["parts"])))


def run_postgresql(days: float, catalogue, timed_days: float, vacuum_daily: bool = False) -> None:
    try:
        from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils._pgcluster import PgCluster, pg_bindir
        import psycopg2  # noqa: F401  pylint: disable=unused-import
    except ImportError as exc:
        print("PostgreSQL: skipped (%s)" % exc)
        return
    bindir = pg_bindir()
    if bindir is None:
        print("PostgreSQL: skipped (no initdb/pg_ctl: apt-get install postgresql)")
        return
    cluster = PgCluster(bindir)
    try:
        database = cluster.create_database()
        began = time.perf_counter()
        result = simulate(cluster.url(database), days, catalogue, timed_days, vacuum_daily)
        total = time.perf_counter() - began
        conn = cluster.connect(database)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT n_live_tup, n_dead_tup, autovacuum_count FROM pg_stat_user_tables "
                            "WHERE relname = 'metric_points'")
                live, dead, autovacuums = cur.fetchone()
                cur.execute("VACUUM ANALYZE metric_series")
                cur.execute("VACUUM ANALYZE metric_points")
                cur.execute("SELECT COUNT(*), pg_total_relation_size('metric_points') + pg_total_relation_size('metric_series'), "
                            "pg_relation_size('metric_points'), current_setting('server_version') FROM metric_points")
                rows, total_bytes, heap_bytes, version = cur.fetchone()
                cur.execute("SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relname LIKE 'metric%' "
                            "AND relkind IN ('r', 'i')")
                parts = dict(cur.fetchall())
        finally:
            conn.close()
        conn = cluster.connect(database)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:  # the floor: every table and index rewritten without free space
                cur.execute("VACUUM FULL")
                cur.execute("SELECT pg_total_relation_size('metric_points') + pg_total_relation_size('metric_series')")
                packed = cur.fetchone()[0]
        finally:
            conn.close()
    finally:
        cluster.stop()
    print("  (after VACUUM FULL, every table and index rewritten: %s, %.0f bytes per row)"
          % (_mb(packed), packed / max(rows, 1)))
    report("PostgreSQL %s (fsync=off)" % version, days, result, total, rows, total_bytes,
           "heap of metric_points %s, the rest its indexes and metric_series; %s; before the VACUUM: %s live, %s dead "
           "tuples after %s autovacuums" % (_mb(heap_bytes), _parts(parts), live, dead, autovacuums))


def _parts(parts: dict) -> str:
    return ", ".join("%s %s" % (name, _mb(size)) for name, size in sorted(parts.items()))


def _mb(value) -> str:
    return "n/a" if value is None else "%.2f MB" % (value / 1048576.0)


def report(engine: str, days: float, result: dict, total: float, rows: int, table_bytes, detail: str) -> None:
    wall = sorted(elapsed for elapsed, dummy in result["last_day"])
    cpu = sorted(used for dummy, used in result["last_day"])
    per_month = None if table_bytes is None else table_bytes * 30.0 / days
    print("%s: %d runs of one host over %g days (%d metrics a run), %d alarms, %.1f s" % (
        engine, result["runs"], days, result["metrics"], result["alarms"], total))
    print("  metric rows kept: %d (%.0f per metric); metric tables + indexes: %s (%s per host per month); %s" % (
        rows, rows / max(result["metrics"], 1), _mb(table_bytes), _mb(per_month), detail))
    if table_bytes is not None and rows:
        print("  bytes per row: %.0f" % (table_bytes / rows))
    print("  a run (remember + evaluate) over the last %d runs: wall median %.1f ms, p95 %.1f ms; CPU of this process "
          "median %.1f ms, p95 %.1f ms" % (len(wall), 1000 * statistics.median(wall), 1000 * _p95(wall),
                                            1000 * statistics.median(cpu), 1000 * _p95(cpu)))


def _p95(values: list) -> float:
    return values[int(0.95 * (len(values) - 1))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--timed-days", type=float, default=1.0)
    parser.add_argument("--vacuum-daily", action="store_true",
                        help="PostgreSQL: VACUUM after each simulated day, as autovacuum would over a real month")
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    catalogue = load_catalogue()
    if args.engine in ("sqlite", "both"):
        run_sqlite(args.days, catalogue, args.timed_days)
    if args.engine in ("postgresql", "both"):
        run_postgresql(args.days, catalogue, args.timed_days, args.vacuum_daily)


if __name__ == "__main__":
    main()
