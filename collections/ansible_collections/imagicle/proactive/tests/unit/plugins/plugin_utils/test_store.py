# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state store against both engines: a SQLite file in tmp_path and a database in a real,
throwaway PostgreSQL cluster (127.0.0.1).  Cross-process behaviour uses forked processes."""

from __future__ import annotations

import multiprocessing
import os
import queue
import sqlite3
import traceback
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.imagicle.proactive.plugins.plugin_utils import store as store_module
from ansible_collections.imagicle.proactive.plugins.plugin_utils import store_engine
from ansible_collections.imagicle.proactive.plugins.plugin_utils.trends import downsample
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import (
    DEFAULT_SQLITE_PATH,
    MIGRATIONS,
    SCHEMA_VERSION,
    CaseRecord,
    OutboxItem,
    StoreError,
    StoreLocked,
    open_store,
    parse_store_url,
)
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils._pgcluster import pg_server  # noqa: F401 pylint: disable=unused-import

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
WAIT = 120  # upper bound for a helper process; never an assertion on elapsed time
FORK = multiprocessing.get_context("fork")


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "state" / "state.sqlite")
    cluster = request.getfixturevalue("pg_server")
    return cluster.url(cluster.create_database())


@pytest.fixture
def store(store_url):
    opened = open_store(store_url, "test store")
    yield opened
    opened.close()


def raw(opened, sql, params=()):
    """Run SQL through the store's own connection (for inspection and tampering)."""
    with opened._tx("test query") as cur:
        opened._execute(cur, sql, params)
        return cur.fetchall() if cur.description else None


def case(fingerprint="fp-1", **changes):
    values = dict(fingerprint=fingerprint, customer="acme", host="ias1", rule="disk_low", subject="C:",
                  priority="P4", status="open", backend="local", case_ref=None, title="Disk C: low on ias1",
                  opened_at=T0, updated_at=T0)
    values.update(changes)
    return CaseRecord(**values)


def item(key, kind="open", at=T0, **changes):
    values = dict(key=key, kind=kind, backend="rt", fingerprint="fp-1", payload={"subject": "x", "n": 1},
                  created_at=at)
    values.update(changes)
    return OutboxItem(**values)


def full_text(exc):
    """What could be shown of an exception: its messages, reprs and chained causes (not source lines)."""
    parts, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        parts.extend(traceback.format_exception_only(type(exc), exc) + [repr(exc), repr(exc.args)])
        exc = exc.__cause__ or exc.__context__
    return "".join(parts)


def join_all(procs):
    for proc in procs:
        proc.join(WAIT)
    for proc in procs:
        if proc.is_alive():
            proc.kill()
            proc.join(WAIT)
            pytest.fail("a helper process did not finish")


# --- helper processes (forked) -------------------------------------------------------------------

def _report(results, func, *args):
    try:
        results.put(("ok", func(*args)))
    except BaseException as exc:  # pylint: disable=broad-except
        results.put(("error", "%s: %s" % (type(exc).__name__, exc)))


def _hold_lock(url, held, release, results):
    def work():
        with open_store(url) as opened:
            with opened.run_lock("holder-process", ttl_seconds=600):
                held.set()
                release.wait(WAIT)
        return "released"
    _report(results, work)


def _die_holding_lock(url):
    opened = open_store(url)
    with opened.run_lock("doomed-process", ttl_seconds=60):
        os._exit(0)  # dies holding the lock: no release, no close


def _enqueue_keys(url, keys, start, results):
    def work():
        start.wait(WAIT)
        with open_store(url) as opened:
            return sum(1 for key in keys if opened.enqueue(item(key, fingerprint=key)))
    _report(results, work)


def _open_fresh(url, start, results):
    def work():
        start.wait(WAIT)
        with open_store(url) as opened:
            return opened.schema_version()
    _report(results, work)


def collect(results, count):
    out = []
    for dummy in range(count):
        try:
            out.append(results.get(timeout=WAIT))
        except queue.Empty:
            pytest.fail("a helper process reported nothing")
    errors = [value for status, value in out if status != "ok"]
    assert not errors
    return [value for dummy, value in out]


# --- schema and migrations -----------------------------------------------------------------------

def test_both_engines_have_the_same_migration_steps():
    assert len(MIGRATIONS["sqlite"]) == len(MIGRATIONS["postgresql"]) == SCHEMA_VERSION >= 1


def test_open_applies_migrations_from_empty(store):
    assert store.schema_version() == SCHEMA_VERSION
    versions = [row[0] for row in raw(store, "SELECT version FROM schema_version ORDER BY version")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    assert store.cases() == [] and store.outbox() == [] and store.local_list() == []


def test_sqlite_store_uses_wal_and_a_private_file(tmp_path):
    path = tmp_path / "deep" / "er" / "state.sqlite"
    with open_store("sqlite://" + str(path)) as opened:
        assert raw(opened, "PRAGMA journal_mode")[0][0] == "wal"
        assert opened.engine == "sqlite" and opened.display == "sqlite://" + str(path)
    assert path.is_file()
    assert os.stat(path).st_mode & 0o077 == 0
    assert os.stat(path.parent).st_mode & 0o077 == 0


def test_reopen_is_idempotent_and_keeps_data(store_url):
    with open_store(store_url) as first:
        first.save_case(case())
    with open_store(store_url) as second:
        assert second.schema_version() == SCHEMA_VERSION
        assert len(raw(second, "SELECT version FROM schema_version")) == SCHEMA_VERSION
        assert second.get_case("fp-1") == case()


def test_older_store_is_migrated_forward(store_url):
    engine = "sqlite" if "://" not in store_url else "postgresql"
    with store_module._open(store_url, "old collection", MIGRATIONS[engine][:1]) as old:
        assert old.schema_version() == 1
        # what a version-1 collection wrote: its own columns only, and an action it parked for good
        raw(old, "INSERT INTO cases (fingerprint, customer, host, rule, subject, priority, status, backend, case_ref, title, "
                 "opened_at, updated_at, reopen_count, paged) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ("fp-1", "acme", "ias1", "disk_low", "C:", "P4", "open", "local", None, "Disk C: low on ias1", old._dt(T0),
             old._dt(T0), 0, False))
        for key, status in (("k1", "queued"), ("k2", "parked")):
            raw(old, "INSERT INTO outbox (key, kind, backend, fingerprint, payload, status, attempts, next_attempt_at, last_error, "
                     "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, "open", "rt", "fp-1", '{"n": 1}', status, 1, old._dt(T0), "HTTP 401" if status == "parked" else None,
                 old._dt(T0)))
    with open_store(store_url) as current:
        assert current.schema_version() == SCHEMA_VERSION
        assert current.get_case("fp-1") == case()
        assert (current.get_case("fp-1").case_key, current.get_case("fp-1").generation) == (None, 1)
        # nothing an older collection parked is forgotten: it is queued again, marked as refused
        assert [(i.key, i.status, i.refused) for i in current.outbox()] == [("k1", "queued", False), ("k2", "queued", True)]
        assert current.local_find("x") is None


# Values a store of schema 5 may hold, as (host, name, time, value): microseconds, times before
# 1970 and on a second's edge, numbers large and small, and two hosts sharing metric names.
SCHEMA_5_METRICS = [
    ("ias1", "disk:/:used_percent", T0, 70.0),
    ("ias1", "disk:/:used_percent", T0 + timedelta(minutes=5, microseconds=123456), 0.1),
    ("ias1", "disk:/:used_percent", T0 + timedelta(minutes=10, microseconds=999999), -1e-300),
    ("ias1", "process:java:rss_bytes", T0 + timedelta(microseconds=1), 1.7976931348623157e308),
    ("ias1", "process:java:rss_bytes", datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=timezone.utc), 3.0),
    ("ias2", "disk:/:used_percent", T0, 12.5),
    ("ias2", "database:used_percent", datetime(2025, 1, 1, tzinfo=timezone.utc), 33.333333333333336),
]


def test_a_schema_5_store_keeps_every_metric_value_in_the_compact_layout(store_url):
    engine = "sqlite" if "://" not in store_url else "postgresql"
    with store_module._open(store_url, "old collection", MIGRATIONS[engine][:5]) as old:
        assert old.schema_version() == 5
        for host, name, at, value in SCHEMA_5_METRICS:  # as a schema-5 collection's record_metrics wrote them
            raw(old, "INSERT INTO metrics (host, name, at, value) VALUES (?, ?, ?, ?)", (host, name, old._dt(at), value))
    since = datetime(1900, 1, 1, tzinfo=timezone.utc)
    with open_store(store_url) as current:
        assert current.schema_version() == SCHEMA_VERSION
        for host in ("ias1", "ias2"):
            expected = {}
            for row_host, name, at, value in sorted(SCHEMA_5_METRICS, key=lambda row: row[2]):
                if row_host == host:
                    expected.setdefault(name, []).append((at, value))
            assert current.metric_series(host, since) == expected
            for name, points in expected.items():
                read = current.metrics(host, name, since)
                assert read == points
                assert all(at.tzinfo is not None and at.utcoffset() == timedelta(0) for at, dummy in read)
        tables = {row[0] for row in raw(current, "SELECT name FROM sqlite_master WHERE type = 'table'" if engine == "sqlite"
                                        else "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
        assert "metrics" not in tables and {"metric_series", "metric_points"} <= tables
        assert raw(current, "SELECT COUNT(*) FROM metric_series") == [(4,)]
        # The migrated series take new values, and new series get ids of their own.
        assert current.record_metrics("ias1", T0 + timedelta(hours=1), {"disk:/:used_percent": 71.0, "cloud:latency_ms": 40}) == 2
        assert current.metrics("ias1", "disk:/:used_percent", T0 + timedelta(minutes=30)) == [(T0 + timedelta(hours=1), 71.0)]
        assert current.metrics("ias1", "cloud:latency_ms", since) == [(T0 + timedelta(hours=1), 40.0)]
        assert current.metrics("ias2", "cloud:latency_ms", since) == []


def test_store_newer_than_the_code_is_refused(store_url):
    with open_store(store_url) as opened:
        raw(opened, "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
            (SCHEMA_VERSION + 1, opened._dt(T0)))
    with pytest.raises(StoreError) as info:
        open_store(store_url, "inventory variable imagicle_state_store")
    message = str(info.value)
    assert "schema version %d" % (SCHEMA_VERSION + 1) in message
    assert "Upgrade the imagicle.proactive collection" in message
    assert "inventory variable imagicle_state_store" in message


def test_two_processes_open_a_fresh_store_at_once(store_url):
    start, results = FORK.Event(), FORK.Queue()
    procs = [FORK.Process(target=_open_fresh, args=(store_url, start, results)) for dummy in range(3)]
    for proc in procs:
        proc.start()
    start.set()
    versions = collect(results, len(procs))
    join_all(procs)
    assert versions == [SCHEMA_VERSION] * len(procs)
    with open_store(store_url) as opened:
        assert len(raw(opened, "SELECT version FROM schema_version")) == SCHEMA_VERSION


# --- cases ---------------------------------------------------------------------------------------

def test_case_upsert_read_and_filter(store):
    assert store.get_case("fp-1") is None
    store.save_case(case())
    store.save_case(case("fp-2", customer="globex", host="ias2", opened_at=T0 + timedelta(minutes=1)))
    store.save_case(case("fp-3", host="ias2", opened_at=T0 + timedelta(minutes=2)))
    assert store.get_case("fp-1") == case()

    resolved = case(status="resolved", case_ref="RT-42", priority="P3", resolved_at=T0 + timedelta(hours=2),
                    updated_at=T0 + timedelta(hours=2), reopen_count=1, paged=True, page_ref="am-1")
    store.save_case(resolved)
    got = store.get_case("fp-1")
    assert got == resolved
    assert got.resolved_at.tzinfo is not None and got.resolved_at.utcoffset() == timedelta(0)
    assert got.paged is True and got.reopen_count == 1

    assert [c.fingerprint for c in store.cases()] == ["fp-1", "fp-2", "fp-3"]
    assert [c.fingerprint for c in store.cases(status="open")] == ["fp-2", "fp-3"]
    assert [c.fingerprint for c in store.cases(status="resolved")] == ["fp-1"]
    assert [c.fingerprint for c in store.cases(customer="acme")] == ["fp-1", "fp-3"]
    assert [c.fingerprint for c in store.cases(host="ias2", customer="acme")] == ["fp-3"]
    assert store.cases(customer="nobody") == []


def test_case_times_keep_microseconds_and_convert_to_utc(store):
    rome = timezone(timedelta(hours=1))
    opened_at = datetime(2026, 1, 5, 10, 30, 15, 123456, tzinfo=rome)
    store.save_case(case(opened_at=opened_at, updated_at=opened_at))
    got = store.get_case("fp-1")
    assert got.opened_at == opened_at
    assert got.opened_at.tzinfo == timezone.utc and got.opened_at.hour == 9


def _strptime_utc(value):
    """How SQLite times were read before the fast path: strptime, then UTC."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def _read_or_error(read, value):
    try:
        return read(value)
    except (ValueError, TypeError) as exc:
        return type(exc), str(exc)


# (strftime writes years before 1000 with fewer than four digits, which neither reading takes back.)
@given(moment=st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(timezone.utc)))
@settings(max_examples=300, deadline=None)
def test_sqlite_times_read_back_as_written(moment):
    sqlite_store = store_module.Store(parse_store_url("/nonexistent/state.sqlite"), None, "test store")
    written = sqlite_store._dt(moment)
    read = sqlite_store._from_dt(written)
    assert read == moment == _strptime_utc(written)
    assert read.tzinfo is timezone.utc


@pytest.mark.parametrize("value", [
    "2026-11-27T12:00:00.123456Z", "2026-11-27T12:00:00.000000Z", "0001-01-01T00:00:00.000000Z",
    "2026-W48-5T12:00:00.000000Z", "2026-02-30T12:00:00.000000Z", "2026-11-27T12:00:60.000000Z",
    "2026-11-27T24:00:00.000000Z", "2026-11-27T12:00:00.000000Z\n", "2026-11-27T12:00:00Z", "2026-11-27T12:00:00.1Z",
    "2026-11-27 12:00:00.000000Z", "2026-11-27T12:00:00.0+0100", "2026-11-27T12:00:00.000000+00:00",
    "\uff12026-11-27T12:00:00.000000Z", "2026-1-27T12:00:00.000000Z", "", 20261127,
])
def test_sqlite_times_are_read_as_strptime_reads_them(value):
    """The fast path gives what strptime gave, value or error, for any text, not only the store's own."""
    assert _read_or_error(store_module._sqlite_time, value) == _read_or_error(_strptime_utc, value)


def test_case_record_validation():
    with pytest.raises(ValueError, match="timezone-aware"):
        case(opened_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="case status"):
        case(status="closed")
    assert case().to_dict()["opened_at"] == "2026-03-02T09:00:00Z"


# --- outbox --------------------------------------------------------------------------------------

def test_enqueue_same_key_twice_keeps_one_row(store):
    assert store.enqueue(item("open:fp-1")) is True
    assert store.enqueue(item("open:fp-1", payload={"other": True}, backend="servicenow")) is False
    items = store.outbox()
    assert len(items) == 1
    assert items[0].payload == {"subject": "x", "n": 1} and items[0].backend == "rt"
    assert items[0].status == "queued" and items[0].attempts == 0
    assert items[0].next_attempt_at == T0 and items[0].created_at == T0


def test_pending_is_queued_and_due_oldest_first(store):
    store.enqueue(item("c", at=T0 + timedelta(minutes=2)))
    store.enqueue(item("a", at=T0))
    store.enqueue(item("b1", at=T0 + timedelta(minutes=1)))
    store.enqueue(item("b2", kind="update", at=T0 + timedelta(minutes=1)))  # same instant: insertion order
    store.enqueue(item("later", at=T0, next_attempt_at=T0 + timedelta(hours=1)))
    assert [i.key for i in store.pending(T0 - timedelta(seconds=1))] == []
    assert [i.key for i in store.pending(T0)] == ["a"]
    assert [i.key for i in store.pending(T0 + timedelta(minutes=5))] == ["a", "b1", "b2", "c"]
    assert [i.key for i in store.pending(T0 + timedelta(hours=1))] == ["a", "later", "b1", "b2", "c"]
    assert [i.key for i in store.pending(T0 + timedelta(hours=1), limit=2)] == ["a", "later"]


def test_outbox_transitions(store):
    for key in ("r", "p", "s", "d"):
        store.enqueue(item(key))
    store.mark_retry("r", "HTTP 503 from RT", T0 + timedelta(minutes=5))
    store.mark_retry("r", "connection refused", T0 + timedelta(minutes=15))
    store.mark_retry("p", "HTTP 401: token rotated", T0 + timedelta(minutes=1), refused=True)
    store.mark_retry("p", "the case is not filed yet", T0 + timedelta(minutes=2), count_attempt=False)
    store.mark_sent("s", {"case_ref": "123"}, T0 + timedelta(seconds=3))
    store.mark_dropped("d", "filed by hand as RT#9", T0 + timedelta(seconds=4))

    by_key = {i.key: i for i in store.outbox()}
    assert (by_key["r"].status, by_key["r"].attempts, by_key["r"].last_error) == ("queued", 2, "connection refused")
    assert by_key["r"].next_attempt_at == T0 + timedelta(minutes=15)
    assert (by_key["p"].status, by_key["p"].attempts, by_key["p"].refused) == ("queued", 1, False)
    assert (by_key["s"].status, by_key["s"].result, by_key["s"].sent_at) == ("sent", {"case_ref": "123"}, T0 + timedelta(seconds=3))
    assert (by_key["d"].status, by_key["d"].drop_reason, by_key["d"].dropped_at) == ("dropped", "filed by hand as RT#9",
                                                                                     T0 + timedelta(seconds=4))

    assert [i.key for i in store.pending(T0 + timedelta(minutes=10))] == ["p"]
    assert [i.key for i in store.pending(T0 + timedelta(minutes=15))] == ["r", "p"]
    assert [i.key for i in store.outbox("sent")] == ["s"]
    assert store.enqueue(item("s")) is False  # a sent action is never queued again

    store.requeue("r", T0 + timedelta(minutes=6))
    store.requeue("d", T0 + timedelta(minutes=6))
    assert [i.key for i in store.pending(T0 + timedelta(minutes=6))] == ["r", "p", "d"]
    assert store.outbox_item("d").drop_reason is None

    with pytest.raises(StoreError, match="no item with that key"):
        store.mark_sent("missing", None, T0)
    with pytest.raises(StoreError, match="it is sent"):
        store.mark_dropped("s", "too late", T0)
    with pytest.raises(StoreError, match="needs a reason"):
        store.mark_dropped("r", " ", T0)
    with pytest.raises(ValueError, match="outbox kind"):
        item("x", kind="delete")


def test_a_transaction_keeps_everything_or_nothing(store):
    with pytest.raises(RuntimeError, match="killed"):
        with store.transaction():
            store.save_case(case())
            store.enqueue(item("k1"))
            raise RuntimeError("killed between the two")
    assert store.get_case("fp-1") is None and store.outbox() == []
    with store.transaction():
        store.save_case(case())
        store.enqueue(item("k1"))
    assert store.get_case("fp-1") == case() and [i.key for i in store.outbox()] == ["k1"]


def test_local_comment_markers_keep_a_retried_note_single(store):
    ref = store.local_create("idem-1", {"title": "x"}, T0)
    for dummy in range(3):
        store.local_update(ref, status="resolved", comment="recovered", marker="idem-1:resolve:1", now=T0)
    store.local_update(ref, comment="another action", marker="idem-1:comment:2", now=T0)
    assert [c["text"] for c in store.local_get(ref)["comments"]] == ["recovered", "another action"]


def test_two_processes_enqueue_the_same_keys_once(store_url):
    keys = ["open:%03d" % n for n in range(150)]
    with open_store(store_url):
        pass  # migrate first, so that the race is on the keys
    start, results = FORK.Event(), FORK.Queue()
    procs = [FORK.Process(target=_enqueue_keys, args=(store_url, order, start, results))
             for order in (keys, list(reversed(keys)))]
    for proc in procs:
        proc.start()
    start.set()
    counts = collect(results, len(procs))
    join_all(procs)
    assert sum(counts) == len(keys)
    with open_store(store_url) as opened:
        assert sorted(i.key for i in opened.outbox()) == keys


# --- local case register -------------------------------------------------------------------------

def test_local_register(store):
    fields = {"subject": "[P1] VoIP stack down on ias1", "priority": "P1", "customer": "acme"}
    first = store.local_create("idem-1", fields, T0)
    assert store.local_create("idem-1", {"subject": "another"}, T0 + timedelta(minutes=1)) == first
    assert store.local_find("idem-1") == first
    assert store.local_find("idem-2") is None
    second = store.local_create("idem-2", {"subject": "disk"}, T0 + timedelta(minutes=1))
    assert second != first

    got = store.local_get(first)
    assert got["fields"] == fields and got["status"] == "open" and got["priority"] == "P1"
    assert got["comments"] == [] and got["created_at"] == T0 == got["updated_at"] and got["key"] == "idem-1"

    store.local_update(first, comment="still down", now=T0 + timedelta(minutes=5))
    store.local_update(first, priority="P2", now=T0 + timedelta(minutes=6))
    store.local_update(first, status="resolved", comment="recovered", now=T0 + timedelta(minutes=7))
    got = store.local_get(first)
    assert (got["status"], got["priority"], got["updated_at"]) == ("resolved", "P2", T0 + timedelta(minutes=7))
    assert got["comments"] == [{"at": T0 + timedelta(minutes=5), "text": "still down"},
                               {"at": T0 + timedelta(minutes=7), "text": "recovered"}]

    assert [c["id"] for c in store.local_list()] == [first, second]
    assert [c["id"] for c in store.local_list("open")] == [second]
    assert store.local_list("resolved")[0]["comments"][1]["text"] == "recovered"
    assert store.local_get(second)["comments"] == []

    with pytest.raises(StoreError, match="no local case"):
        store.local_get("LOCAL-999")
    with pytest.raises(StoreError, match="not a local case id"):
        store.local_update("RT-1", status="resolved", now=T0)


# --- run lock ------------------------------------------------------------------------------------

def test_run_lock_is_exclusive_and_released(store_url):
    with open_store(store_url) as first, open_store(store_url) as second:
        with first.run_lock("run A on ctrl1") as lock:
            assert lock.owner == "run A on ctrl1"
            with pytest.raises(StoreLocked) as info:
                with second.run_lock("run B"):
                    pytest.fail("two holders")
            message = str(info.value)
            assert "'run A on ctrl1'" in message and "pid %d" % os.getpid() in message
            assert "since " in message and "let it finish" in message
            with second.run_lock("slice 2", name="slice-2"):
                pass  # another lock name is independent
        with second.run_lock("run B"):
            assert raw(second, "SELECT owner FROM run_lock") == [("run B",)]
        assert raw(second, "SELECT owner FROM run_lock") == []
        with pytest.raises(RuntimeError, match="boom"):
            with first.run_lock("crashing run"):
                raise RuntimeError("boom")
        assert raw(first, "SELECT owner FROM run_lock") == []


def test_run_lock_across_processes(store_url):
    with open_store(store_url):
        pass
    held, release, results = FORK.Event(), FORK.Event(), FORK.Queue()
    proc = FORK.Process(target=_hold_lock, args=(store_url, held, release, results))
    proc.start()
    try:
        assert held.wait(WAIT)
        with open_store(store_url) as opened:
            with pytest.raises(StoreLocked, match="holder-process"):
                with opened.run_lock("parent"):
                    pytest.fail("the lock is held by the child")
            release.set()
            assert collect(results, 1) == ["released"]
            join_all([proc])
            with opened.run_lock("parent"):
                pass
    finally:
        release.set()
        join_all([proc])


def test_the_lock_of_a_dead_process_is_taken_over_at_once(store_url):
    with open_store(store_url):
        pass
    proc = FORK.Process(target=_die_holding_lock, args=(store_url,))
    proc.start()
    join_all([proc])
    with open_store(store_url) as opened:
        with opened.run_lock("survivor") as lock:
            assert raw(opened, "SELECT owner FROM run_lock") == [("survivor",)]
            assert "'doomed-process'" in lock.took_over and "no longer exists" in lock.took_over
        assert raw(opened, "SELECT owner FROM run_lock") == []


def test_the_lock_of_another_machine_waits_for_its_expiry(store_url):
    with open_store(store_url) as opened:
        with opened.run_lock("elsewhere", ttl_seconds=60, now=T0):
            raw(opened, "UPDATE run_lock SET host = ?, pid = ?", ("another-controller", 4242))
            with pytest.raises(StoreLocked, match="another-controller") as info:
                with opened.run_lock("survivor", now=T0 + timedelta(seconds=59)):
                    pass
            assert (info.value.holder, info.value.host, info.value.pid) == ("elsewhere", "another-controller", 4242)
            with opened.run_lock("survivor", now=T0 + timedelta(seconds=61)) as lock:
                assert "expired" in lock.took_over
                assert lock.expires_at == T0 + timedelta(seconds=961)


def test_lock_refresh_and_lost_lock(store):
    with store.run_lock("long run", ttl_seconds=60, now=T0) as lock:
        lock.refresh(ttl_seconds=120, now=T0 + timedelta(seconds=30))
        assert lock.expires_at == T0 + timedelta(seconds=150)
        with pytest.raises(StoreLocked):
            with store.run_lock("other", now=T0 + timedelta(seconds=100)):
                pass
        with store.run_lock("other", now=T0 + timedelta(seconds=150)):
            with pytest.raises(StoreLocked, match="taken over"):
                lock.refresh(now=T0 + timedelta(seconds=151))
            assert raw(store, "SELECT owner FROM run_lock") == [("other",)]
        # leaving the first block must not delete a lock it no longer owns
    assert raw(store, "SELECT owner FROM run_lock") == []


# --- metrics -------------------------------------------------------------------------------------

def test_metric_history(store):
    for minutes, used in ((0, 70.0), (5, 71.5), (10, 73.0)):
        stored = store.record_metrics("ias1", T0 + timedelta(minutes=minutes),
                                      {"disk.C:.used_pct": used, "cpu.pct": 12.5, "nan": float("nan"), "none": None})
        assert stored == 2
    store.record_metrics("ias2", T0, {"disk.C:.used_pct": 10})
    store.record_metrics("ias1", T0 + timedelta(minutes=10), {"disk.C:.used_pct": 74.0})  # same instant: replaced

    assert store.metrics("ias1", "disk.C:.used_pct", T0 + timedelta(minutes=5)) == [
        (T0 + timedelta(minutes=5), 71.5), (T0 + timedelta(minutes=10), 74.0)]
    assert store.metrics("ias2", "disk.C:.used_pct", T0) == [(T0, 10.0)]
    assert store.metrics("ias1", "nan", T0) == []
    assert store.prune_metrics(T0 + timedelta(minutes=5)) == 3  # ias1 x2 at T0, ias2 at T0
    cpu_times = [at for at, dummy in store.metrics("ias1", "cpu.pct", T0)]
    assert cpu_times == [T0 + timedelta(minutes=5), T0 + timedelta(minutes=10)]


def test_metric_times_and_values_read_back_as_recorded(store):
    """The compact layout keeps times to the microsecond (aware, UTC, whatever zone they were
    given in) and values as the float they were, per host and name."""
    rome = timezone(timedelta(hours=1))
    moments = [T0 + timedelta(microseconds=micro) for micro in (0, 1, 999999, 1000000, 59_999_999)]
    values = [0.1, -2.5, 1e-310, 123456789.123456789, 100]
    for at, value in zip(moments, values):
        assert store.record_metrics("ias1", at.astimezone(rome), {"a": value, "b": -value}) == 2
    assert store.record_metrics("ias2", moments[1], {"a": 7}) == 1
    read = store.metrics("ias1", "a", T0.astimezone(rome))
    assert read == [(at, float(value)) for at, value in zip(moments, values)]
    assert all(at.utcoffset() == timedelta(0) and isinstance(value, float) for at, value in read)
    assert [repr(value) for dummy, value in read] == [repr(float(value)) for value in values]
    assert store.metrics("ias1", "a", moments[1] + timedelta(microseconds=1)) == read[2:]
    assert store.metric_series("ias1", moments[3]) == {"a": read[3:], "b": [(at, -value) for at, value in read[3:]]}
    assert store.metric_series("ias2", T0) == {"a": [(moments[1], 7.0)]}
    assert store.metric_series("ias3", T0) == {} and store.metrics("ias3", "a", T0) == []
    # The same instant again replaces the value; a microsecond later is another value.
    store.record_metrics("ias1", moments[0], {"a": 5.5})
    store.record_metrics("ias1", moments[-1] + timedelta(microseconds=1), {"a": 6.5})
    assert [value for dummy, value in store.metrics("ias1", "a", T0)] == [5.5] + [float(v) for v in values[1:]] + [6.5]


def every_15_minutes(opened, host, name, start, end, value=float):
    """Record ``value(index)`` of ``name`` every 15 minutes from ``start`` to before ``end``; the number recorded.

    One transaction for them all (each ``record_metrics`` joins it), as a year of runs would
    leave them, without a commit per value."""
    count, at = 0, start
    with opened.transaction("record a history"):
        while at < end:
            opened.record_metrics(host, at, {name: value(count)})
            count, at = count + 1, at + timedelta(minutes=15)
    return count


def test_compact_metrics_keeps_raw_then_hourly_then_daily_means(store):
    now = datetime(2026, 6, 1, 12, 30, tzinfo=timezone.utc)
    stored = every_15_minutes(store, "ias1", "disk:/:used_percent", now - timedelta(days=420), now + timedelta(minutes=1))
    every_15_minutes(store, "ias2", "disk:/:used_percent", now - timedelta(days=420), now - timedelta(days=419))
    removed = store.compact_metrics(now, host="ias1")
    history = store.metrics("ias1", "disk:/:used_percent", now - timedelta(days=1000))
    assert len(history) == stored - (removed - 96)  # removed counts ias2's 96 values too: older than 400 days
    times = [at for at, dummy in history]
    raw_from = datetime(2026, 5, 25, 12, 0, tzinfo=timezone.utc)  # 7 days before now, on the hour
    hourly_from = datetime(2026, 4, 6, 0, 0, tzinfo=timezone.utc)  # 56 days before now, at midnight
    kept_from = datetime(2025, 4, 27, 0, 0, tzinfo=timezone.utc)  # 400 days before now, at midnight
    assert times[0] == kept_from
    daily = [at for at in times if at < hourly_from]
    hourly = [at for at in times if hourly_from <= at < raw_from]
    raw = [at for at in times if at >= raw_from]
    assert daily == [kept_from + timedelta(days=day) for day in range((hourly_from - kept_from).days)]
    assert hourly == [hourly_from + timedelta(hours=hour) for hour in range(int((raw_from - hourly_from) / timedelta(hours=1)))]
    assert len(raw) == 7 * 96 + 3 and raw[-1] == now
    values = dict(history)
    # A value per quarter hour counting up: an hour's mean is its second and third quarter's mean, a day's its middle.
    first_of_hour = stored - len(raw) - 4 * len(hourly)
    assert values[hourly_from] == pytest.approx(first_of_hour + 1.5)
    assert values[kept_from + timedelta(days=1)] - values[kept_from] == pytest.approx(96)
    assert store.metrics("ias2", "disk:/:used_percent", now - timedelta(days=1000)) == []
    # Compacting again, or a little later, averages nothing twice.
    assert store.compact_metrics(now, host="ias1") == 0
    assert store.metrics("ias1", "disk:/:used_percent", now - timedelta(days=1000)) == history
    assert store.compact_metrics(now + timedelta(minutes=20), host="ias1") == 0


def test_compact_metrics_of_one_host_leaves_the_recent_history_of_others(store):
    now = datetime(2026, 6, 1, 12, 30, tzinfo=timezone.utc)
    for host in ("ias1", "ias2"):
        every_15_minutes(store, host, "database:used_percent", now - timedelta(days=10, minutes=30),
                         now - timedelta(days=9, minutes=30))
    assert store.compact_metrics(now, host="ias1") == 96 - 24
    assert len(store.metrics("ias2", "database:used_percent", now - timedelta(days=30))) == 96
    assert store.compact_metrics(now) == 96 - 24
    assert len(store.metrics("ias2", "database:used_percent", now - timedelta(days=30))) == 24


def test_compact_metrics_with_other_periods(store):
    now = datetime(2026, 6, 1, 0, 0, tzinfo=timezone.utc)
    every_15_minutes(store, "ias1", "database:used_percent", now - timedelta(days=3), now)
    store.compact_metrics(now, history_raw_days=1, history_hourly_days=2, history_daily_days=2.5)
    times = [at for at, dummy in store.metrics("ias1", "database:used_percent", now - timedelta(days=30))]
    assert times[0] == now - timedelta(days=3)  # the day bucket that holds 2.5 days ago is kept whole
    assert times[:2] == [now - timedelta(days=3), now - timedelta(days=2)]
    assert times[2:4] == [now - timedelta(days=2) + timedelta(hours=1), now - timedelta(days=2) + timedelta(hours=2)]
    assert len(times) == 2 + 23 + 96


def _compacted_averaging_every_bucket(points, bucket):
    """_compacted as it was: every bucket averaged, those that were one value at their start left out after."""
    members = {}
    for at, dummy in points:
        members.setdefault(store_module._bucket_start(at, bucket), []).append(at)
    return [(start, start + bucket, mean, len(members[start])) for start, mean in downsample(points, bucket)
            if members[start] != [start]]


@given(offsets=st.lists(st.tuples(st.integers(0, 3 * 24 * 12), st.sampled_from([0, 1]),
                                  st.one_of(st.floats(0, 100), st.just(float("nan")))), max_size=60),
       bucket=st.sampled_from([timedelta(hours=1), timedelta(days=1)]))
@settings(max_examples=300, deadline=None)
def test_compacting_only_the_buckets_to_compact_gives_what_averaging_all_gave(offsets, bucket):
    """Points every 5 minutes, some on a bucket's start (already compacted ones), NaNs and repeats included."""
    start = datetime(2026, 6, 1, tzinfo=timezone.utc)
    points = sorted((start + (bucket * step if on_start else timedelta(minutes=5) * step), value)
                    for step, on_start, value in offsets)
    assert store_module._compacted(points, bucket) == _compacted_averaging_every_bucket(points, bucket)


def test_compact_metrics_again_changes_nothing_and_reads_the_same(store):
    now = datetime(2026, 6, 1, 12, 30, tzinfo=timezone.utc)
    every_15_minutes(store, "ias1", "disk:/:used_percent", now - timedelta(days=60), now, value=lambda i: i % 7 + 0.25)
    removed = store.compact_metrics(now, host="ias1")
    history = store.metrics("ias1", "disk:/:used_percent", now - timedelta(days=100))
    assert removed > 0 and len(history) == 4 * 24 * 60 - removed
    for later in (timedelta(0), timedelta(minutes=5), timedelta(hours=1)):
        # 7 days before 12:35 is in the same hour as before 12:30; an hour later, one more hour's 4 values become 1.
        assert store.compact_metrics(now + later, host="ias1") == (4 - 1 if later == timedelta(hours=1) else 0)
    compacted_then = [point for point in history if point[0] < now - timedelta(days=7, hours=1)]
    assert store.metrics("ias1", "disk:/:used_percent", now - timedelta(days=100))[:len(compacted_then)] == compacted_then


def test_compacting_several_hosts_twice_leaves_the_same_history(store):
    """Values with microseconds, of two hosts and two metrics: after a compaction, compacting
    again (one host, then all) removes nothing and every value reads back the same."""
    now = datetime(2026, 6, 1, 12, 30, 0, 250000, tzinfo=timezone.utc)
    start = now - timedelta(days=70, microseconds=123457)
    for host in ("ias1", "ias2"):
        for name in ("disk:/:used_percent", "database:used_percent"):
            every_15_minutes(store, host, name, start, now, value=lambda i: (i * 37) % 101 / 3.0)
    since = now - timedelta(days=1000)
    before = {host: store.metric_series(host, since) for host in ("ias1", "ias2")}
    removed = store.compact_metrics(now)
    after = {host: store.metric_series(host, since) for host in ("ias1", "ias2")}
    assert removed == sum(len(points) for series in before.values() for points in series.values()) - sum(
        len(points) for series in after.values() for points in series.values())
    assert store.compact_metrics(now, host="ias1") == 0 and store.compact_metrics(now) == 0
    assert {host: store.metric_series(host, since) for host in ("ias1", "ias2")} == after
    for series in after.values():
        for points in series.values():
            # Compacted values sit at the start of their hour (or day); the last 7 days are raw, microseconds kept.
            assert all(at.minute == at.second == at.microsecond == 0 for at, dummy in points if at < now - timedelta(days=7, hours=1))
            assert points[-1][0].microsecond == (start + timedelta(minutes=15) * (len(before["ias1"]["disk:/:used_percent"]) - 1)).microsecond


@pytest.mark.parametrize("periods", [
    {"history_raw_days": 0}, {"history_raw_days": 60}, {"history_daily_days": float("nan")}, {"history_hourly_days": True},
    {"history_daily_days": "400"},
])
def test_compact_metrics_refuses_periods_out_of_order(store, periods):
    with pytest.raises(ValueError, match="history_raw_days <= history_hourly_days <= history_daily_days"):
        store.compact_metrics(T0, **periods)


# --- URLs and errors -----------------------------------------------------------------------------

def test_url_forms(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    default = os.path.expanduser(DEFAULT_SQLITE_PATH)
    assert default.startswith(str(tmp_path))
    with open_store(None) as opened:
        assert opened.display == "sqlite://" + default
    assert os.path.isfile(default)
    monkeypatch.chdir(tmp_path)
    assert parse_store_url("rel/state.sqlite").path == str(tmp_path / "rel" / "state.sqlite")
    assert parse_store_url("~/x.sqlite").path == str(tmp_path / "x.sqlite")
    assert parse_store_url("sqlite:///srv/state.sqlite").path == "/srv/state.sqlite"
    pg = parse_store_url("postgresql://proactive:p%40ss-Word9@db.example:6432/proactive?sslmode=require")
    assert pg.engine == "postgresql"
    assert dict(pg.connect_args, connect_timeout=None) == {
        "dbname": "proactive", "host": "db.example", "port": 6432, "user": "proactive", "password": "p@ss-Word9",
        "sslmode": "require", "connect_timeout": None, "application_name": "imagicle.proactive"}
    assert pg.display == "postgresql://proactive:***@db.example:6432/proactive?sslmode=require"
    assert "Word9" not in repr(pg)


@pytest.mark.parametrize("url", [
    "mysql://admin:Sup3rSecretPw@127.0.0.1/db",
    "postgresql://admin:Sup3rSecretPw@127.0.0.1:notaport/db",
    "postgresql://admin:Sup3rSecretPw@127.0.0.1:5432/",
    "postgresql://admin@127.0.0.1:5432/db?password=Sup3rSecretPw&port=notaport",
    "sqlite://relative/state.sqlite",
])
def test_bad_url_is_a_store_error_without_the_password(url):
    with pytest.raises(StoreError) as info:
        open_store(url, "inventory variable imagicle_state_store")
    text = full_text(info.value)
    assert "Sup3rSecretPw" not in text
    assert "inventory variable imagicle_state_store" in str(info.value)


def test_wrong_postgresql_password(pg_server):  # noqa: F811 pylint: disable=redefined-outer-name
    url = pg_server.url("postgres", password="Wr0ng-Secret-42")
    with pytest.raises(StoreError) as info:
        open_store(url)
    text = full_text(info.value)
    assert "Wr0ng-Secret-42" not in text and pg_server.password not in text
    assert "password authentication failed" in str(info.value)
    assert "postgresql://postgres:***@127.0.0.1:%d/postgres" % pg_server.port in str(info.value)


def test_postgresql_unreachable_and_missing_database(pg_server, monkeypatch):  # noqa: F811 pylint: disable=redefined-outer-name
    from ansible_collections.imagicle.proactive.tests.unit.plugins.module_utils.collectors._netfixtures import free_port
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL") as info:
        open_store("postgresql://postgres:Cl0sed-Port-Pw@127.0.0.1:%d/db" % free_port())
    assert "Cl0sed-Port-Pw" not in full_text(info.value)
    with pytest.raises(StoreError, match="does not exist") as info:
        open_store(pg_server.url("no_such_db"))
    assert pg_server.password not in full_text(info.value)
    monkeypatch.setattr(store_engine, "psycopg2", None)
    with pytest.raises(StoreError, match="psycopg2"):
        open_store(pg_server.url("postgres"))


def test_store_repr_hides_the_password(pg_server):  # noqa: F811 pylint: disable=redefined-outer-name
    with open_store(pg_server.url(pg_server.create_database())) as opened:
        assert pg_server.password not in repr(opened)
        assert "***" in repr(opened)


def test_unwritable_sqlite_paths(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the SQLite file") as info:
        open_store(str(blocker / "state.sqlite"))
    assert "choose a writable path" in str(info.value)
    with pytest.raises(StoreError, match="is a directory"):
        open_store(str(tmp_path))
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a SQLite database, just some text that is long enough" * 20)
    with pytest.raises(StoreError, match="junk.sqlite"):
        open_store(str(junk))


def test_closed_store_says_so(store):
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.cases()


def test_sqlite_busy_error_is_a_store_error(tmp_path, monkeypatch):
    path = str(tmp_path / "busy.sqlite")
    monkeypatch.setattr(store_engine, "SQLITE_BUSY_TIMEOUT_SECONDS", 0.05)
    with open_store(path) as opened:
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreError, match="locked") as info:
                opened.enqueue(item("k"))
            assert "try again" in str(info.value)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert opened.enqueue(item("k")) is True


# --- silences ------------------------------------------------------------------------------------

def test_silences_are_kept_listed_by_time_extended_and_lifted(store):
    window = store_module.Silence(id=None, customer=None, host="ias1", rule=None, starts_at=T0,
                                  ends_at=T0 + timedelta(hours=2), reason="CHG-1 upgrade", created_by="ops")
    later = store_module.Silence(id=None, customer="acme", host=None, rule="disk_space", starts_at=T0 + timedelta(hours=5),
                                 ends_at=T0 + timedelta(hours=6), reason="archive")
    first = store.add_silence(window, now=T0 - timedelta(minutes=1))
    second = store.add_silence(later, now=T0)
    assert first.id != second.id and first.created_at == T0 - timedelta(minutes=1)
    assert (first.host, first.customer, first.rule, first.reason) == ("ias1", None, None, "CHG-1 upgrade")
    assert [s.id for s in store.silences(active_at=T0 + timedelta(hours=1))] == [first.id]
    assert store.silences(active_at=T0 + timedelta(hours=2)) == []  # the end is not part of the window
    assert [s.id for s in store.silences(active_at=T0 + timedelta(hours=5, minutes=30))] == [second.id]
    assert [s.id for s in store.silences(ended_since=T0 + timedelta(hours=1))] == [first.id, second.id]
    assert store.set_silence_end(first.id, T0 + timedelta(hours=3)).ends_at == T0 + timedelta(hours=3)
    lifted = store.lift_silence(first.id, now=T0 + timedelta(hours=1))
    assert lifted.lifted_at == T0 + timedelta(hours=1)
    assert store.silences(active_at=T0 + timedelta(hours=1, minutes=1)) == []
    assert store.lift_silence(first.id, now=T0 + timedelta(hours=2)).lifted_at == T0 + timedelta(hours=1)  # unchanged
    assert store.lift_silence(999, now=T0) is None
    assert len(store.silences()) == 2


def test_a_silence_must_say_what_when_and_why():
    def window(**changes):
        values = dict(id=None, customer=None, host="ias1", rule=None, starts_at=T0, ends_at=T0 + timedelta(hours=1),
                      reason="x")
        values.update(changes)
        return store_module.Silence(**values)

    assert window().active(T0)
    with pytest.raises(ValueError, match="customer, a host or a rule"):
        window(host=None)
    with pytest.raises(ValueError, match="end after it starts"):
        window(ends_at=T0)
    with pytest.raises(ValueError, match="needs a reason"):
        window(reason="  ")
