# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: one evaluation round of N hosts with and without their metric history.

Builds a state store holding what ``days`` of scheduled runs every 5 minutes leave in it for
``hosts`` hosts (the five space metrics of a host: two disks' used_percent and total_bytes, the
database's used_percent), then measures one evaluation round of the hosts, interleaved:

* (a) without history: ``evaluation.evaluate_host(..., history=None)`` per host;
* (b) with history, as the ``evaluate`` action does it: ``history.remember(open_store...)`` per
  host (open the store, record this run's metrics, read back the window each metric's rules
  need, compact the host's old history, close), then ``evaluate_host(..., history=...)``.

One warm-up round of each, then ``--repetitions`` of each, (a) and (b) alternating; each round
of (b) is the next scheduled run, 5 minutes after the previous one. A last round of (b) is taken
apart step by step (open, record, read, compact, evaluate) to show where its time goes.

The store is built fast but with the store's own code: ``profiles`` hosts get their raw values
of each simulated day in one transaction (batch inserts of the rows ``Store.record_metrics``
writes), then ``Store.compact_metrics`` as of the day's last run, day after day; the other hosts
get a copy of one profile's rows (``INSERT ... SELECT``). Compacting the whole history once per
day leaves the same rows as compacting it at every run (tests/bench/test_bench_history.py
checks this against a run-by-run replay). The facts of the measured runs are those of
bench_evaluate.py (90 % healthy, 10 % with faults, a few hosts without facts).

It reports medians, spread, the ratio (b)/(a), the time per host (and the CPU time of this process per host), the size of the store on disk
and its rows per table, for SQLite and, when a private PostgreSQL cluster can be started (the
test bed's PostgreSQL 15, as the state store tests start it), for PostgreSQL; results and a
description of the machine go to a JSON file.

Usage: ``python tests/bench/bench_history.py [--hosts 1000] [--days 30] [--repetitions 3]
[--engines sqlite,postgresql] [--out tests/output/bench_history.json]`` (``make bench-history``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "collections"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# pylint: disable=wrong-import-position
from ansible_collections.imagicle.proactive.plugins.plugin_utils.evaluation import (  # noqa: E402
    evaluate_host,
    host_settings,
    usable_health,
)
from ansible_collections.imagicle.proactive.plugins.plugin_utils.history import (  # noqa: E402
    History,
    history_names,
    remember,
    space_metrics,
)
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import history_windows, metric_kind, read_for_changes  # noqa: E402
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store  # noqa: E402
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils.health_fixture import healthy_health  # noqa: E402

import bench_evaluate  # noqa: E402

STEP = timedelta(minutes=5)
# The first measured run; the built history ends one step before it.
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
DEFAULT_OUT = os.path.join(ROOT, "tests", "output", "bench_history.json")
WINDOWS = history_windows()
HOST_VARIABLES = {"imagicle_customer": "acme", "imagicle_consent": True,
                  "imagicle_sla": {"plan": "gold", "timezone": "Europe/Rome", "holidays": {"country": "IT"}}}


# --- the history ---------------------------------------------------------------------------------

def host_name(index: int) -> str:
    return "ias-%05d" % index


HEALTHY_METRICS = space_metrics(healthy_health())


def profile_values(profile: int, step: int, names) -> dict[str, float]:
    """The metrics a host of ``profile`` reported at run number ``step`` (deterministic).

    Used space grows slowly with a daily wave and some jitter, as real disks do; sizes stay put.
    """
    healthy = HEALTHY_METRICS
    day = step * STEP / timedelta(days=1)
    jitter = ((step * 2654435761 + profile * 40503) % 1000) / 1000.0 - 0.5
    values = {}
    for name in names:
        base = healthy[name]
        if name.endswith(":total_bytes"):
            values[name] = base
        else:
            growth = 0.05 * (1 + profile % 5)  # percentage points per day
            values[name] = round(max(0.0, base - 1.5 + growth * day + 0.3 * math.sin(day * 2 * math.pi) + 0.1 * jitter), 2)
    return values


def _insert_raw(store, rows) -> None:
    """Batch insert of the rows record_metrics writes, in the store's transaction: (host, name, time, value)."""
    with store._tx("insert raw metric history") as cur:  # pylint: disable=protected-access
        ids = {}
        for host in sorted({row[0] for row in rows}):
            names = sorted({row[1] for row in rows if row[0] == host})
            ids.update(((host, name), series) for name, series in store._series_ids(cur, host, names).items())  # pylint: disable=protected-access
        points = [(ids[host, name], store._at(at), value) for host, name, at, value in rows]  # pylint: disable=protected-access
        if store.engine == "postgresql":
            from psycopg2.extras import execute_values  # pylint: disable=import-outside-toplevel
            execute_values(cur, "INSERT INTO metric_points (series, at, value) VALUES %s", points, page_size=10000)
        else:
            cur.executemany("INSERT INTO metric_points (series, at, value) VALUES (?, ?, ?)", points)


def build_history(store, hosts: int, days: float, first_run: datetime, profiles: int = 10, log=print) -> dict:
    """Fill ``store`` with ``days`` of history of ``hosts`` hosts, the last run one step before ``first_run``.

    Returns what was built (runs per host, rows, seconds).
    """
    started = time.perf_counter()
    names = sorted(HEALTHY_METRICS)
    profiles = max(1, min(profiles, hosts))
    runs = int(round(timedelta(days=days) / STEP))
    start = first_run - runs * STEP
    day_steps = int(timedelta(days=1) / STEP)
    for day_first in range(0, runs, day_steps):
        steps = range(day_first, min(day_first + day_steps, runs))
        rows = []
        for profile in range(profiles):
            for step in steps:
                for name, value in profile_values(profile, step, names).items():
                    rows.append((host_name(profile), name, start + step * STEP, value))
        _insert_raw(store, rows)
        store.compact_metrics(start + steps[-1] * STEP)
    copy = ("INSERT INTO metric_points (series, at, value) SELECT t.id, p.at, p.value FROM metric_points p "
            "JOIN metric_series f ON f.id = p.series JOIN metric_series t ON t.host = ? AND t.name = f.name WHERE f.host = ?")
    with store._tx("copy the history of the profiles") as cur:  # pylint: disable=protected-access
        for index in range(profiles, hosts):
            store._series_ids(cur, host_name(index), names)  # pylint: disable=protected-access
            store._execute(cur, copy, (host_name(index), host_name(index % profiles)))  # pylint: disable=protected-access
    seconds = time.perf_counter() - started
    log("built %d hosts x %d runs (%g days, %d profiles) in %.1f s" % (hosts, runs, days, profiles, seconds))
    return {"runs_per_host": runs, "profiles": profiles, "first_run": start.isoformat(), "seconds": round(seconds, 2)}


# --- sizes ---------------------------------------------------------------------------------------

def _tables(store) -> list[str]:
    with store._tx("list tables", write=False) as cur:  # pylint: disable=protected-access
        if store.engine == "sqlite":
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        else:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        return [row[0] for row in cur.fetchall()]


def store_size(store, path: str | None, hosts: int, days: float) -> dict:
    """Rows per table and bytes on disk (SQLite: the file, its WAL and shared-memory files)."""
    rows = {}
    for table in _tables(store):
        with store._tx("count rows", write=False) as cur:  # pylint: disable=protected-access
            cur.execute("SELECT COUNT(*) FROM %s" % table)
            rows[table] = cur.fetchone()[0]
    size: dict = {"rows": rows}
    if store.engine == "sqlite":
        files = {suffix or "db": os.path.getsize(path + suffix) if os.path.exists(path + suffix) else 0
                 for suffix in ("", "-wal", "-shm")}
        size.update(files={key.lstrip("-"): value for key, value in files.items()}, bytes=sum(files.values()))
        try:  # bytes per table and index, when SQLite has the dbstat table
            with store._tx("measure", write=False) as cur:  # pylint: disable=protected-access
                cur.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name HAVING SUM(pgsize) > 4096 ORDER BY name")
                size["objects_bytes"] = dict(cur.fetchall())
        except Exception:  # pylint: disable=broad-exception-caught  # a SQLite built without it
            pass
    else:
        with store._tx("measure", write=False) as cur:  # pylint: disable=protected-access
            cur.execute("SELECT pg_database_size(current_database()), "
                        "pg_total_relation_size('metric_points') + pg_total_relation_size('metric_series')")
            database, metrics = cur.fetchone()
            cur.execute("SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relname LIKE 'metric%' "
                        "AND relkind IN ('r', 'i') ORDER BY relname")
            objects = dict(cur.fetchall())
        size.update(bytes=database, metrics_table_bytes=metrics, objects_bytes=objects)
    size["bytes_per_host_per_month"] = round(size["bytes"] / hosts / (days / 30.0))
    return size


# --- the rounds ----------------------------------------------------------------------------------

def round_without(estate, settings, at) -> dict:
    started, cpu = time.perf_counter(), time.process_time()
    alarms = 0
    for host, health in estate:
        alarms += len(evaluate_host(settings[host], health=health, detected_at=at, history=None)["alarms"])
    return {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu, "alarms": alarms}


def round_with(estate, settings, at, url) -> dict:
    """What the evaluate action does per host: remember() on a store opened for the host, then evaluate_host."""
    started, cpu = time.perf_counter(), time.process_time()
    alarms = points = warnings = with_history = 0
    for host, health in estate:
        remembered = remember(lambda: open_store(url, "state store"), host, usable_health(None, health), at)
        alarms += len(evaluate_host(settings[host], health=health, detected_at=at,
                                    history=remembered.history)["alarms"])
        warnings += len(remembered.warnings)
        if remembered.history is not None:
            with_history += 1
            points += sum(len(series) for series in remembered.history.series.values())
    return {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu, "alarms": alarms, "points_read": points,
            "hosts_with_history": with_history, "warnings": warnings}


def round_apart(estate, settings, at, url) -> dict:
    """One round of (b) taken apart: seconds spent opening (and closing) the store, recording,
    reading the window, compacting and evaluating, summed over the hosts."""
    steps = dict.fromkeys(("open", "record", "read", "compact", "evaluate"), 0.0)
    for host, health in estate:
        metrics = space_metrics(usable_health(None, health))
        history = None
        if metrics:
            mark = time.perf_counter()
            store = open_store(url, "state store")
            now = time.perf_counter()
            steps["open"] += now - mark
            store.record_metrics(host, at, metrics)
            mark, now = now, time.perf_counter()
            steps["record"] += now - mark
            reads = {name: at - WINDOWS[metric_kind(name)] for name in history_names(usable_health(None, health))
                     if WINDOWS.get(metric_kind(name))}
            history = History(store.metrics(host, reads, changes=[name for name in reads if read_for_changes(name)]))
            mark, now = now, time.perf_counter()
            steps["read"] += now - mark
            store.compact_metrics(at, host=host)
            mark, now = now, time.perf_counter()
            steps["compact"] += now - mark
            store.close()
            steps["open"] += time.perf_counter() - now
        mark = time.perf_counter()
        evaluate_host(settings[host], health=health, detected_at=at, history=history)
        steps["evaluate"] += time.perf_counter() - mark
    return steps


def _summary(values: list[float], hosts: int) -> dict:
    median = statistics.median(values)
    return {"seconds": [round(value, 4) for value in values], "median_s": round(median, 4),
            "min_s": round(min(values), 4), "max_s": round(max(values), 4),
            "spread_percent": round((max(values) - min(values)) / median * 100, 1) if median else None,
            "per_host_ms": round(median / hosts * 1000, 4)}


def _cpu_ms(values: list[float], hosts: int) -> float:
    """The median CPU time of this process per host, ms (a PostgreSQL server's own CPU is not in it)."""
    return round(statistics.median(values) / hosts * 1000, 4)


def measure(url: str, engine: str, estate, settings, hosts: int, days: float, repetitions: int, profiles: int,
            path: str | None = None, log=print) -> dict:
    """Build the store at ``url``, then the interleaved rounds; the result of one engine."""
    result: dict = {"engine": engine}
    with open_store(url, "benchmark store") as store:
        result["build"] = build_history(store, hosts, days, NOW, profiles, log=log)
        if engine == "sqlite":
            store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # pylint: disable=protected-access
        else:
            store._conn.commit()  # pylint: disable=protected-access
            store._conn.autocommit = True  # pylint: disable=protected-access
            with store._conn.cursor() as cur:  # pylint: disable=protected-access
                cur.execute("VACUUM ANALYZE")  # what autovacuum does to a settled database
            store._conn.autocommit = False  # pylint: disable=protected-access
        result["size_built"] = store_size(store, path, hosts, days)
    log("%s store: %d metric rows, %.1f MB, %d bytes per host per month" % (
        engine, result["size_built"]["rows"]["metric_points"], result["size_built"]["bytes"] / 1e6,
        result["size_built"]["bytes_per_host_per_month"]))

    at = NOW
    runs = {"without": [], "with": []}
    cpu = {"without": [], "with": []}
    last_with = last_without = None
    for repetition in range(repetitions + 1):  # the first is the warm-up
        last_without = round_without(estate, settings, at)
        last_with = round_with(estate, settings, at, url)
        if repetition:
            runs["without"].append(last_without["seconds"])
            runs["with"].append(last_with["seconds"])
            cpu["without"].append(last_without["cpu_seconds"])
            cpu["with"].append(last_with["cpu_seconds"])
        log("%s %s: without history %.3f s, with history %.3f s" % (
            engine, "warm-up" if not repetition else "repetition %d" % repetition, last_without["seconds"],
            last_with["seconds"]))
        at += STEP
    apart = round_apart(estate, settings, at, url)
    log("%s one round taken apart: %s" % (engine, ", ".join("%s %.3f s" % item for item in apart.items())))
    with open_store(url, "benchmark store") as store:
        result["size_after"] = store_size(store, path, hosts, days)
    without, with_history = _summary(runs["without"], hosts), _summary(runs["with"], hosts)
    result.update(
        without_history=dict(without, alarms=last_without["alarms"], cpu_per_host_ms=_cpu_ms(cpu["without"], hosts)),
        with_history=dict(with_history, cpu_per_host_ms=_cpu_ms(cpu["with"], hosts),
                          **{key: value for key, value in last_with.items() if key not in ("seconds", "cpu_seconds")}),
        ratio=round(with_history["median_s"] / without["median_s"], 2) if without["median_s"] else None,
        apart={"seconds": {key: round(value, 4) for key, value in apart.items()},
               "per_host_ms": {key: round(value / hosts * 1000, 4) for key, value in apart.items()}},
    )
    return result


# --- PostgreSQL ----------------------------------------------------------------------------------

def start_postgresql():
    """A private PostgreSQL cluster (as the state store tests start it) or the reason there is none."""
    try:
        from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils import _pgcluster  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        return None, "cannot load the PostgreSQL test helper: %s" % exc
    if _pgcluster.psycopg2 is None:
        return None, "psycopg2 is not installed (pip install psycopg2-binary)"
    bindir = _pgcluster.pg_bindir()
    if bindir is None:
        return None, "PostgreSQL server binaries (initdb, pg_ctl) are not installed (apt-get install postgresql)"
    try:
        return _pgcluster.PgCluster(bindir), None
    except Exception as exc:  # pylint: disable=broad-exception-caught  # the benchmark says why and goes on
        return None, "could not start a PostgreSQL cluster: %s" % exc


# --- the machine ---------------------------------------------------------------------------------

def machine() -> dict:
    model = memory = None
    try:
        with open("/proc/cpuinfo") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), None)
        with open("/proc/meminfo") as handle:
            memory = next((int(line.split()[1]) * 1024 for line in handle if line.startswith("MemTotal")), None)
    except OSError:
        pass
    described = {"cpus": os.cpu_count(), "cpu_model": model, "memory_bytes": memory, "platform": platform.platform(),
                 "python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version}
    try:
        import psycopg2  # pylint: disable=import-outside-toplevel
        described["psycopg2"] = psycopg2.__version__.split()[0]
    except ImportError:
        pass
    return described


# --- main ----------------------------------------------------------------------------------------

def run(hosts: int = 1000, days: float = 30, repetitions: int = 3, engines=("sqlite", "postgresql"), profiles: int = 10,
        out: str | None = DEFAULT_OUT, workdir: str | None = None, log=print) -> dict:
    """The whole benchmark; returns (and writes to ``out``) its results."""
    estate = bench_evaluate.build_estate(hosts)
    settings = {host: host_settings(host, HOST_VARIABLES) for host, dummy in estate}
    result: dict = {"hosts": hosts, "days": days, "repetitions": repetitions, "step_minutes": STEP / timedelta(minutes=1),
                    "first_run": NOW.isoformat(), "machine": machine(), "engines": {}, "skipped": {},
                    "date": datetime.now(timezone.utc).strftime("%Y-%m-%d")}
    log("hosts: %d x %g days of history, %d repetitions, Python %s, SQLite %s" % (
        hosts, days, repetitions, result["machine"]["python"], result["machine"]["sqlite"]))
    base = tempfile.mkdtemp(prefix="bench-history-", dir=workdir)
    try:
        if "sqlite" in engines:
            path = os.path.join(base, "state.sqlite")
            result["engines"]["sqlite"] = measure(path, "sqlite", estate, settings, hosts, days, repetitions, profiles,
                                                  path=path, log=log)
        if "postgresql" in engines:
            cluster, reason = start_postgresql()
            if cluster is None:
                result["skipped"]["postgresql"] = reason
                log("postgresql: skipped: %s" % reason)
            else:
                try:
                    url = cluster.url(cluster.create_database())
                    result["engines"]["postgresql"] = measure(url, "postgresql", estate, settings, hosts, days,
                                                              repetitions, profiles, log=log)
                    with cluster.connect() as conn, conn.cursor() as cur:
                        cur.execute("SHOW server_version")
                        result["machine"]["postgresql"] = cur.fetchone()[0]
                finally:
                    cluster.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    for engine, figures in result["engines"].items():
        log("%s: without history %.3f s (%.3f ms/host), with history %.3f s (%.3f ms/host, CPU %.3f ms/host), ratio %.1f; "
            "store %.1f MB, %d bytes per host per month" % (
                engine, figures["without_history"]["median_s"], figures["without_history"]["per_host_ms"],
                figures["with_history"]["median_s"], figures["with_history"]["per_host_ms"],
                figures["with_history"]["cpu_per_host_ms"], figures["ratio"],
                figures["size_built"]["bytes"] / 1e6, figures["size_built"]["bytes_per_host_per_month"]))
    if out:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out, "w") as handle:
            json.dump(result, handle, indent=2, sort_keys=True)
        log("results: %s" % out)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--profiles", type=int, default=10, help="hosts whose history is built, the others copy one")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--workdir", default=None, help="where the SQLite store is built (default: the temp dir)")
    args = parser.parse_args()
    run(args.hosts, args.days, args.repetitions, tuple(args.engines.split(",")), args.profiles, args.out, args.workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
