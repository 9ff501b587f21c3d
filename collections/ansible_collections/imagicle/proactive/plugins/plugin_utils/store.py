# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state store: what the controller remembers between runs.

One interface, two engines:

* SQLite (the default): a file on the controller, ``DEFAULT_SQLITE_PATH`` unless a path or a
  ``sqlite:///ABSOLUTE/PATH`` URL is given.  WAL journal, a busy timeout, and every write in a
  short ``BEGIN IMMEDIATE`` transaction, so several runs on one controller can share it.
* PostgreSQL (AWX, several controllers): ``postgresql://USER:PASSWORD@HOST:PORT/DB`` through
  psycopg2, every operation in its own transaction.

It keeps the fingerprint -> case map (``cases``), the outbox of outbound actions with their
idempotency keys (``outbox``), the embedded case register of the ``local`` CRM backend
(``local_cases``, ``local_comments``), metric history (``metric_series``, ``metric_points``), maintenance windows
(``silences``), what it remembers of each alarm condition (``conditions``: streaks of sustained
rules, flapping) and the run lock (``run_lock``).  The schema is versioned (``schema_version``) and migrated on open; see
the collection guide "The state store" (docsite ``state_store``) for the tables and how to inspect them.

The store is in four files: this one (the :class:`Store` and how it is opened), ``store_records``
(the records and their checks), ``store_migrations`` (the schema, step by step, per engine) and
``store_engine`` (the URL, the password kept out of messages, the connections); the names of all
four are imported from here.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import operator
import os
import re
import socket
import sqlite3
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from ansible_collections.imagicle.proactive.plugins.plugin_utils import store_engine
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store_engine import (
    DEFAULT_SQLITE_PATH,
    POSTGRESQL_CONNECT_TIMEOUT_SECONDS,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    StoreError,
    StoreLocation,
    StoreLocked,
    parse_store_url,
)
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store_migrations import (
    _SCHEMA_VERSION_DDL,
    MIGRATIONS,
    SCHEMA_VERSION,
)
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store_records import (
    CASE_STATUSES,
    OUTBOX_KINDS,
    OUTBOX_STATUSES,
    CaseRecord,
    ConditionRecord,
    OutboxItem,
    Silence,
    _check_choice,
    _iso,
    _utc,
)
from ansible_collections.imagicle.proactive.plugins.plugin_utils.trends import EPOCH, clean_points, downsample

# The names of the store's parts that callers import from here.
__all__ = [
    "CASE_STATUSES", "DEFAULT_LOCK_NAME", "DEFAULT_SQLITE_PATH", "HISTORY_DAILY_DAYS", "HISTORY_HOURLY_DAYS",
    "HISTORY_RAW_DAYS", "MIGRATIONS", "OUTBOX_KINDS", "OUTBOX_STATUSES", "POSTGRESQL_CONNECT_TIMEOUT_SECONDS",
    "SCHEMA_VERSION", "SQLITE_BUSY_TIMEOUT_SECONDS", "CaseRecord", "ConditionRecord", "OpenOnce", "OutboxItem", "RunLock", "Silence", "Store",
    "StoreError", "StoreLocation", "StoreLocked", "open_store", "parse_store_url",
]

DEFAULT_LOCK_NAME = "run"
# Retention of metric history (compact_metrics): raw values for this many days, then hourly
# means up to HISTORY_HOURLY_DAYS, then daily means up to HISTORY_DAILY_DAYS; older is deleted.
HISTORY_RAW_DAYS = 7
HISTORY_HOURLY_DAYS = 56
HISTORY_DAILY_DAYS = 400
# Metrics whose hourly and daily values keep the bucket's highest value, not its mean: the use of
# a capacity pool (history.capacity_metric(app, "in_use")), whose daily peaks are predicted.
PEAK_SUFFIXES = (":in_use",)
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_MICROSECOND = timedelta(microseconds=1)

# Key of the PostgreSQL transaction-level advisory lock that serialises migrations.
_PG_MIGRATION_LOCK_KEY = 7_415_230_118
_LOCAL_ID_PREFIX = "LOCAL-"
_FIRST, _SECOND, _REST = operator.itemgetter(0), operator.itemgetter(1), operator.itemgetter(slice(1, None))
_SQLITE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# Exactly what _dt writes with _SQLITE_TIME_FORMAT (ASCII digits, six of the fraction).
_SQLITE_TIME_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z\Z")


def _sqlite_time(value: str) -> datetime:
    """A time as the SQLite store holds it (``_SQLITE_TIME_FORMAT``, UTC) as an aware datetime.

    The store's own times go through ``datetime.fromisoformat`` (which reads the final Z as UTC
    from Python 3.11 on, some 20 times faster than ``strptime``, which made reading a week of
    metric history slow); anything else, or a value it refuses, through ``strptime`` as before,
    which gives the same datetime or the same error.
    """
    if isinstance(value, str) and _SQLITE_TIME_SHAPE.match(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    return datetime.strptime(value, _SQLITE_TIME_FORMAT).replace(tzinfo=timezone.utc)


# --- the store -----------------------------------------------------------------------------------

_CASE_COLUMNS = ("fingerprint", "customer", "host", "rule", "subject", "priority", "status", "backend", "case_ref",
                 "title", "opened_at", "updated_at", "resolved_at", "reopen_count", "paged", "page_ref", "case_key",
                 "generation", "no_data_since", "no_data_noted")
_CASE_TIMES = ("opened_at", "updated_at", "resolved_at", "no_data_since")
_CONDITION_COLUMNS = ("fingerprint", "host", "rule", "subject", "firing", "streak", "streak_since", "changes",
                      "flapping_since", "updated_at")
_CONDITION_TIMES = ("streak_since", "flapping_since", "updated_at")
_OUTBOX_COLUMNS = ("key", "kind", "backend", "fingerprint", "payload", "status", "attempts", "next_attempt_at",
                   "last_error", "created_at", "sent_at", "result", "refused", "dropped_at", "drop_reason")
_OUTBOX_TIMES = ("next_attempt_at", "created_at", "sent_at", "dropped_at")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _pid_running(pid: Any) -> bool:
    """True when process ``pid`` of this machine exists (a zombie counts as gone)."""
    try:
        number = int(pid)
    except (TypeError, ValueError):
        return True  # unknown: assume it runs
    if number <= 0:
        return True
    try:
        with open("/proc/%d/stat" % number, encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except (OSError, IndexError):
        pass
    try:
        os.kill(number, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class RunLock:
    """The held run lock (yielded by :meth:`Store.run_lock`).

    ``took_over`` says whose lock was taken over when its holder was gone (None otherwise).
    """

    def __init__(self, store: Store, name: str, owner: str, token: str, acquired_at: datetime, expires_at: datetime,
                 ttl_seconds: int = 900, took_over: str | None = None):
        self._store = store
        self.name = name
        self.owner = owner
        self.token = token
        self.acquired_at = acquired_at
        self.expires_at = expires_at
        self.ttl_seconds = int(ttl_seconds)
        self.took_over = took_over

    def refresh(self, ttl_seconds: int | None = None, now: datetime | None = None) -> None:
        """Push the expiry ``ttl_seconds`` (default: the lock's own) from now; StoreLocked when the lock was lost meanwhile."""
        now = _utc(now, "now") or _now()
        expires = now + timedelta(seconds=self.ttl_seconds if ttl_seconds is None else ttl_seconds)
        with self._store._tx("refresh the run lock") as cur:
            self._store._execute(cur, "UPDATE run_lock SET expires_at = ? WHERE name = ? AND token = ?",
                                 (self._store._dt(expires), self.name, self.token))
            if cur.rowcount != 1:
                raise StoreLocked("%s: the run lock %r of %r expired and was taken over by another run; "
                                  "this run stops sending and leaves the rest to it (raise lock_ttl_seconds for long runs)"
                                  % (self._store.display, self.name, self.owner))
        self.expires_at = expires

    def __repr__(self) -> str:
        return "RunLock(%r, owner=%r, expires_at=%s)" % (self.name, self.owner, _iso(self.expires_at))


class Store:
    """An open state store; use :func:`open_store` to get one."""

    def __init__(self, location: StoreLocation, connection: Any, source: str):
        self._location = location
        self._conn = connection
        self._source = source
        self._depth = 0
        self.engine = location.engine
        self.display = location.display

    def __repr__(self) -> str:
        return "Store(%s %s)" % (self.engine, self.display)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    # -- plumbing --

    def _fail(self, what: str, exc: BaseException) -> StoreError:
        detail = store_engine.scrub(str(exc).strip() or type(exc).__name__, self._location.secrets)
        hint = ""
        if self.engine == "sqlite" and "locked" in detail:
            hint = ("; another process kept the SQLite file locked for more than %d s: try again, or move "
                    "the store to PostgreSQL when many runs share it" % SQLITE_BUSY_TIMEOUT_SECONDS)
        elif self.engine == "postgresql" and self._conn is not None and getattr(self._conn, "closed", 0):
            hint = "; the connection to PostgreSQL was lost: check the server and run again"
        return StoreError("%s %s: cannot %s: %s%s" % (self._source, self.display, what, detail, hint))

    def _db_errors(self) -> tuple[type[BaseException], ...]:
        if self.engine == "sqlite":
            return (sqlite3.Error,)
        return (store_engine.psycopg2.Error,)

    @contextlib.contextmanager
    def _tx(self, what: str, write: bool = True) -> Iterator[Any]:
        """One short transaction; database errors become StoreError naming ``what``.

        Inside :meth:`transaction` it joins the transaction in progress instead of starting one.
        """
        if self._conn is None:
            raise StoreError("%s %s: the store is closed; cannot %s" % (self._source, self.display, what))
        if self._depth:
            try:
                yield self._conn.cursor()
            except self._db_errors() as exc:
                raise self._fail(what, exc) from None
            return
        conn = self._conn
        errors = self._db_errors()
        self._depth += 1
        try:
            if self.engine == "sqlite":
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            cur = conn.cursor()
            yield cur
            conn.commit()
        except errors as exc:
            self._rollback()
            raise self._fail(what, exc) from None
        except BaseException:
            self._rollback()
            raise
        finally:
            self._depth -= 1

    @contextlib.contextmanager
    def transaction(self, what: str = "write") -> Iterator[Store]:
        """Several changes as one: everything done through the store in the block is committed
        together at its end, or not at all (an error, a crash, a kill)."""
        with self._tx(what):
            yield self

    def _rollback(self) -> None:
        with contextlib.suppress(Exception):
            if self.engine == "sqlite":
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
            else:
                self._conn.rollback()

    def _execute(self, cur: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        if self.engine == "postgresql":
            sql = sql.replace("?", "%s")
        cur.execute(sql, tuple(params))
        return cur

    def _executemany(self, cur: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self.engine == "postgresql":
            sql = sql.replace("?", "%s")
        cur.executemany(sql, [tuple(row) for row in rows])

    def _dt(self, value: datetime | None) -> Any:
        if value is None:
            return None
        value = value.astimezone(timezone.utc)
        return value.strftime(_SQLITE_TIME_FORMAT) if self.engine == "sqlite" else value

    def _from_dt(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(timezone.utc)
        return _sqlite_time(value)

    @staticmethod
    def _json(value: Any) -> str | None:
        return None if value is None else json.dumps(value, sort_keys=True, default=str)

    @staticmethod
    def _from_json(value: Any) -> Any:
        return json.loads(value) if isinstance(value, (str, bytes)) else value

    # -- schema --

    def schema_version(self) -> int:
        """The version of the schema in the store (the number of migrations applied)."""
        with self._tx("read the schema version", write=False) as cur:
            row = self._execute(cur, "SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def _at_version(self, version: int) -> bool:
        """Whether the store's schema is at ``version`` already: one read without a lock (the usual open)."""
        try:
            with self._tx("read the schema version", write=False) as cur:
                row = self._execute(cur, "SELECT MAX(version) FROM schema_version").fetchone()
        except StoreError:  # no schema_version table yet: a new store
            return False
        return row is not None and row[0] is not None and int(row[0]) == version

    def _migrate(self, migrations: Sequence[Sequence[str]]) -> None:
        known = len(migrations)
        if self._at_version(known):
            return
        with self._tx("apply schema migrations") as cur:
            if self.engine == "postgresql":
                self._execute(cur, "SELECT pg_advisory_xact_lock(?)", (_PG_MIGRATION_LOCK_KEY,))
            self._execute(cur, _SCHEMA_VERSION_DDL[self.engine])
            row = self._execute(cur, "SELECT MAX(version) FROM schema_version").fetchone()
            current = int(row[0] or 0)
            if current > known:
                raise StoreError(
                    "%s %s: the store has schema version %d but this imagicle.proactive collection knows only up to "
                    "version %d: a newer collection has written to it. Upgrade the imagicle.proactive collection "
                    "on this controller (never downgrade or edit the store)" % (self._source, self.display, current, known))
            for version in range(current + 1, known + 1):
                for statement in migrations[version - 1]:
                    self._execute(cur, statement)
                self._execute(cur, "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                              (version, self._dt(_now())))

    # -- run lock --

    @contextlib.contextmanager
    def run_lock(self, owner: str, ttl_seconds: int = 900, *, name: str = DEFAULT_LOCK_NAME,
                 now: datetime | None = None) -> Iterator[RunLock]:
        """Hold the run lock ``name`` for the duration of the ``with`` block.

        Another holder whose lock has not expired -> StoreLocked (with the holder's owner, host,
        pid and times as attributes).  A lock is taken over when it expired (its holder died or
        overran ``ttl_seconds`` without refreshing it) or, at once, when its holder was a process
        of this machine that no longer exists (``RunLock.took_over`` says whose).  ``now`` is for tests.
        """
        now = _utc(now, "now") or _now()
        token = uuid.uuid4().hex
        expires = now + timedelta(seconds=ttl_seconds)
        me = socket.gethostname()
        took_over = None
        values = (owner, token, me, os.getpid(), self._dt(now), self._dt(expires))
        with self._tx("take the run lock") as cur:
            self._execute(cur, "INSERT INTO run_lock (name, owner, token, host, pid, acquired_at, expires_at) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING", (name,) + values)
            row = None
            if cur.rowcount != 1:
                row = self._execute(cur, "SELECT owner, host, pid, acquired_at, expires_at, token FROM run_lock WHERE name = ?"
                                    + (" FOR UPDATE" if self.engine == "postgresql" else ""), (name,)).fetchone()
                if row is None:
                    raise StoreLocked("%s %s: the run lock %r was released while this run asked for it; try again"
                                      % (self._source, self.display, name))
            if row is not None:
                holder, host, pid, since, until, held_token = row
                expired = self._from_dt(until) <= now
                dead = host == me and not _pid_running(pid)
                if not (expired or dead):
                    raise StoreLocked(
                        "%s %s: the run lock %r is held by %r (pid %s on %s) since %s until %s. Another run is in progress: "
                        "let it finish and run again. A lock whose run died on this machine is taken over at once; one "
                        "held from another machine is taken over when it expires (lock_ttl_seconds)"
                        % (self._source, self.display, name, holder, pid, host, _iso(self._from_dt(since)),
                           _iso(self._from_dt(until))),
                        holder=holder, host=host, pid=pid, since=self._from_dt(since), until=self._from_dt(until))
                took_over = ("%r (pid %s on %s, since %s), %s" % (
                    holder, pid, host, _iso(self._from_dt(since)),
                    "whose process no longer exists" if dead else "which expired at %s without being refreshed"
                    % _iso(self._from_dt(until))))
                self._execute(cur, "UPDATE run_lock SET owner = ?, token = ?, host = ?, pid = ?, acquired_at = ?, expires_at = ? "
                                   "WHERE name = ? AND token = ?", values + (name, held_token))
        lock = RunLock(self, name, owner, token, now, expires, ttl_seconds=ttl_seconds, took_over=took_over)
        try:
            yield lock
        except BaseException:
            # Keep the original error; a lock that cannot be released now expires by itself.
            with contextlib.suppress(StoreError):
                self._release(name, token)
            raise
        self._release(name, token)

    def _release(self, name: str, token: str) -> None:
        if self._conn is not None:
            with self._tx("release the run lock") as cur:
                self._execute(cur, "DELETE FROM run_lock WHERE name = ? AND token = ?", (name, token))

    # -- cases --

    def _case_from_row(self, row: Sequence[Any]) -> CaseRecord:
        values = dict(zip(_CASE_COLUMNS, row))
        for column in _CASE_TIMES:
            values[column] = self._from_dt(values[column])
        return CaseRecord(**values)

    def get_case(self, fingerprint: str) -> CaseRecord | None:
        """The case record of ``fingerprint``, or None."""
        with self._tx("read case %s" % fingerprint, write=False) as cur:
            row = self._execute(cur, "SELECT %s FROM cases WHERE fingerprint = ?" % ", ".join(_CASE_COLUMNS),
                                (fingerprint,)).fetchone()
        return None if row is None else self._case_from_row(row)

    def save_case(self, record: CaseRecord) -> None:
        """Insert or replace the case record of ``record.fingerprint``."""
        values = [getattr(record, column) for column in _CASE_COLUMNS]
        values = [self._dt(v) if column in _CASE_TIMES else v for column, v in zip(_CASE_COLUMNS, values)]
        updates = ", ".join("%s = excluded.%s" % (column, column) for column in _CASE_COLUMNS[1:])
        with self._tx("save case %s" % record.fingerprint) as cur:
            self._execute(cur, "INSERT INTO cases (%s) VALUES (%s) ON CONFLICT (fingerprint) DO UPDATE SET %s"
                          % (", ".join(_CASE_COLUMNS), ", ".join("?" * len(_CASE_COLUMNS)), updates), values)

    def cases(self, status: str | None = None, customer: str | None = None, host: str | None = None) -> list[CaseRecord]:
        """Case records, optionally filtered, oldest first."""
        if status is not None:
            _check_choice(status, CASE_STATUSES, "case status")
        where, params = [], []
        for column, value in (("status", status), ("customer", customer), ("host", host)):
            if value is not None:
                where.append("%s = ?" % column)
                params.append(value)
        sql = "SELECT %s FROM cases" % ", ".join(_CASE_COLUMNS)
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._tx("list cases", write=False) as cur:
            rows = self._execute(cur, sql + " ORDER BY opened_at, fingerprint", params).fetchall()
        return [self._case_from_row(row) for row in rows]

    # -- conditions (sustained, flapping) --

    def _condition_from_row(self, row: Sequence[Any]) -> ConditionRecord:
        values = dict(zip(_CONDITION_COLUMNS, row))
        for column in _CONDITION_TIMES:
            values[column] = self._from_dt(values[column])
        values["changes"] = [datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
                             for moment in self._from_json(values["changes"]) or []]
        return ConditionRecord(**values)

    def get_condition(self, fingerprint: str) -> ConditionRecord | None:
        """The condition record of ``fingerprint``, or None."""
        with self._tx("read condition %s" % fingerprint, write=False) as cur:
            row = self._execute(cur, "SELECT %s FROM conditions WHERE fingerprint = ?" % ", ".join(_CONDITION_COLUMNS),
                                (fingerprint,)).fetchone()
        return None if row is None else self._condition_from_row(row)

    def conditions(self, host: str | None = None) -> list[ConditionRecord]:
        """Every condition record (of ``host``), by fingerprint."""
        sql = "SELECT %s FROM conditions" % ", ".join(_CONDITION_COLUMNS)
        params: list[Any] = []
        if host is not None:
            sql += " WHERE host = ?"
            params.append(host)
        with self._tx("list conditions", write=False) as cur:
            rows = self._execute(cur, sql + " ORDER BY fingerprint", params).fetchall()
        return [self._condition_from_row(row) for row in rows]

    def save_condition(self, record: ConditionRecord, now: datetime | None = None) -> None:
        """Insert or replace the condition record of ``record.fingerprint`` (``updated_at``: ``now``, else its own)."""
        if now is not None:
            record.updated_at = _utc(now, "now")
        record.updated_at = record.updated_at or _now()
        values = []
        for column in _CONDITION_COLUMNS:
            value = getattr(record, column)
            if column in _CONDITION_TIMES:
                value = self._dt(value)
            elif column == "changes":
                value = self._json([_iso(moment) for moment in value])
            values.append(value)
        updates = ", ".join("%s = excluded.%s" % (column, column) for column in _CONDITION_COLUMNS[1:])
        with self._tx("save condition %s" % record.fingerprint) as cur:
            self._execute(cur, "INSERT INTO conditions (%s) VALUES (%s) ON CONFLICT (fingerprint) DO UPDATE SET %s"
                          % (", ".join(_CONDITION_COLUMNS), ", ".join("?" * len(_CONDITION_COLUMNS)), updates), values)

    def prune_conditions(self, before: datetime) -> int:
        """Forget the conditions that are not firing, not flapping and unchanged since ``before`` (a pending
        streak too: one not advanced since then starts again); returns how many."""
        with self._tx("prune conditions") as cur:
            self._execute(cur, "DELETE FROM conditions WHERE firing = ? AND flapping_since IS NULL AND updated_at < ?",
                          (False, self._dt(_utc(before, "before"))))
            return max(cur.rowcount, 0)

    # -- outbox --

    def _item_from_row(self, row: Sequence[Any]) -> OutboxItem:
        values = dict(zip(_OUTBOX_COLUMNS, row))
        for column in _OUTBOX_TIMES:
            values[column] = self._from_dt(values[column])
        values["payload"] = self._from_json(values["payload"])
        values["result"] = self._from_json(values["result"])
        return OutboxItem(**values)

    def enqueue(self, item: OutboxItem) -> bool:
        """Queue ``item``; False (and nothing changes) when its key is already in the outbox."""
        created = item.created_at or _now()
        row = {column: getattr(item, column) for column in _OUTBOX_COLUMNS}
        row.update(created_at=created, next_attempt_at=item.next_attempt_at or created)
        for column in _OUTBOX_TIMES:
            row[column] = self._dt(row[column])
        row["payload"] = self._json(item.payload if item.payload is not None else {})
        row["result"] = self._json(item.result)
        with self._tx("queue outbox item %s" % item.key) as cur:
            self._execute(cur, "INSERT INTO outbox (%s) VALUES (%s) ON CONFLICT (key) DO NOTHING"
                          % (", ".join(_OUTBOX_COLUMNS), ", ".join("?" * len(_OUTBOX_COLUMNS))),
                          [row[column] for column in _OUTBOX_COLUMNS])
            return cur.rowcount == 1

    def pending(self, now: datetime, limit: int = 100) -> list[OutboxItem]:
        """Queued items due at ``now``, oldest first."""
        now = _utc(now, "now")
        with self._tx("read the outbox", write=False) as cur:
            rows = self._execute(cur, "SELECT %s FROM outbox WHERE status = 'queued' AND next_attempt_at <= ? "
                                      "ORDER BY created_at, seq LIMIT ?" % ", ".join(_OUTBOX_COLUMNS),
                                 (self._dt(now), int(limit))).fetchall()
        return [self._item_from_row(row) for row in rows]

    def outbox(self, status: str | None = None) -> list[OutboxItem]:
        """All outbox items (or those with ``status``), oldest first."""
        sql = "SELECT %s FROM outbox" % ", ".join(_OUTBOX_COLUMNS)
        params: list[Any] = []
        if status is not None:
            _check_choice(status, OUTBOX_STATUSES, "outbox status")
            sql += " WHERE status = ?"
            params.append(status)
        with self._tx("read the outbox", write=False) as cur:
            rows = self._execute(cur, sql + " ORDER BY created_at, seq", params).fetchall()
        return [self._item_from_row(row) for row in rows]

    def outbox_of(self, fingerprint: str) -> list[OutboxItem]:
        """The outbox items of one alarm fingerprint (of every case it had), oldest first."""
        with self._tx("read the outbox of %s" % fingerprint, write=False) as cur:
            rows = self._execute(cur, "SELECT %s FROM outbox WHERE fingerprint = ? ORDER BY created_at, seq"
                                 % ", ".join(_OUTBOX_COLUMNS), (fingerprint,)).fetchall()
        return [self._item_from_row(row) for row in rows]

    def outbox_item(self, key: str) -> OutboxItem | None:
        """The outbox item with idempotency key ``key``, or None."""
        with self._tx("read outbox item %s" % key, write=False) as cur:
            row = self._execute(cur, "SELECT %s FROM outbox WHERE key = ?" % ", ".join(_OUTBOX_COLUMNS), (key,)).fetchone()
        return None if row is None else self._item_from_row(row)

    def _update_item(self, key: str, what: str, sql: str, params: Sequence[Any]) -> None:
        with self._tx("%s outbox item %s" % (what, key)) as cur:
            self._execute(cur, sql, list(params) + [key])
            if cur.rowcount != 1:
                row = self._execute(cur, "SELECT status FROM outbox WHERE key = ?", (key,)).fetchone()
                state = "there is no item with that key" if row is None else "it is %s" % row[0]
                raise StoreError("%s %s: cannot %s outbox item %s: %s" % (self._source, self.display, what, key, state))

    def mark_sent(self, key: str, result: dict[str, Any] | None, now: datetime) -> None:
        """The backend accepted the action; ``result`` is what it answered (e.g. the case id)."""
        self._update_item(key, "mark as sent", "UPDATE outbox SET status = 'sent', sent_at = ?, result = ?, refused = ? "
                                               "WHERE key = ?", (self._dt(_utc(now, "now")), self._json(result), False))

    def mark_retry(self, key: str, error: str, next_attempt_at: datetime, *, refused: bool = False,
                   count_attempt: bool = True) -> None:
        """Not delivered this time: keep it queued until ``next_attempt_at`` with ``error`` as the reason.

        ``refused``: the backend refused it (a person must act); ``count_attempt`` False for an
        action that only waits for another (its case is not filed yet) and was not tried.
        """
        self._update_item(key, "schedule a retry of",
                          "UPDATE outbox SET status = 'queued', attempts = attempts + ?, last_error = ?, refused = ?, "
                          "next_attempt_at = ? WHERE key = ? AND status = 'queued'",
                          (1 if count_attempt else 0, str(error), bool(refused),
                           self._dt(_utc(next_attempt_at, "next_attempt_at"))))

    def mark_dropped(self, key: str, reason: str, now: datetime) -> None:
        """A person decided that the queued item ``key`` is not to be delivered (``reason`` says why)."""
        if not str(reason or "").strip():
            raise StoreError("%s %s: dropping outbox item %s needs a reason" % (self._source, self.display, key))
        self._update_item(key, "drop", "UPDATE outbox SET status = 'dropped', dropped_at = ?, drop_reason = ? "
                                       "WHERE key = ? AND status = 'queued'",
                          (self._dt(_utc(now, "now")), str(reason)))

    def requeue(self, key: str, now: datetime) -> None:
        """Try the queued (or dropped) item ``key`` again at the next run, whatever its backoff."""
        self._update_item(key, "requeue", "UPDATE outbox SET status = 'queued', next_attempt_at = ?, dropped_at = NULL, "
                                          "drop_reason = NULL WHERE key = ? AND status IN ('queued', 'dropped')",
                          (self._dt(_utc(now, "now")),))

    def set_payload(self, key: str, payload: dict[str, Any]) -> None:
        """Replace the payload of the queued item ``key`` (its case got another idempotency key)."""
        self._update_item(key, "change the payload of", "UPDATE outbox SET payload = ? WHERE key = ? AND status = 'queued'",
                          (self._json(payload),))

    def delete_case(self, fingerprint: str) -> None:
        """Forget the case record of ``fingerprint`` (its outbox history stays)."""
        with self._tx("forget case %s" % fingerprint) as cur:
            self._execute(cur, "DELETE FROM cases WHERE fingerprint = ?", (fingerprint,))

    # -- silences --

    _SILENCE_COLUMNS = ("id", "customer", "host", "rule", "starts_at", "ends_at", "reason", "created_by", "created_at",
                        "lifted_at")
    _SILENCE_TIMES = ("starts_at", "ends_at", "created_at", "lifted_at")

    def _silence_from_row(self, row: Sequence[Any]) -> Silence:
        values = dict(zip(self._SILENCE_COLUMNS, row))
        for column in self._SILENCE_TIMES:
            values[column] = self._from_dt(values[column])
        values["id"] = int(values["id"])
        return Silence(**values)

    def add_silence(self, silence: Silence, now: datetime | None = None) -> Silence:
        """Store a new silence; returns it with its id and creation time."""
        created = _utc(now, "now") or _now()
        columns = self._SILENCE_COLUMNS[1:]
        values = [getattr(silence, column) for column in columns]
        values = [self._dt(created if column == "created_at" else value) if column in self._SILENCE_TIMES else value
                  for column, value in zip(columns, values)]
        with self._tx("add a silence") as cur:
            sql = "INSERT INTO silences (%s) VALUES (%s)" % (", ".join(columns), ", ".join("?" * len(columns)))
            if self.engine == "postgresql":
                new_id = self._execute(cur, sql + " RETURNING id", values).fetchone()[0]
            else:
                new_id = self._execute(cur, sql, values).lastrowid
            row = self._execute(cur, "SELECT %s FROM silences WHERE id = ?" % ", ".join(self._SILENCE_COLUMNS),
                                (new_id,)).fetchone()
        return self._silence_from_row(row)

    def silences(self, active_at: datetime | None = None, ended_since: datetime | None = None) -> list[Silence]:
        """Silences, oldest first: all of them, or those in force at ``active_at``, or (with
        ``ended_since``) those not lifted that end after that time (in force or to come)."""
        sql = "SELECT %s FROM silences" % ", ".join(self._SILENCE_COLUMNS)
        params: list[Any] = []
        if active_at is not None:
            moment = self._dt(_utc(active_at, "active_at"))
            sql += " WHERE lifted_at IS NULL AND starts_at <= ? AND ends_at > ?"
            params += [moment, moment]
        elif ended_since is not None:
            sql += " WHERE lifted_at IS NULL AND ends_at > ?"
            params.append(self._dt(_utc(ended_since, "ended_since")))
        with self._tx("read the silences", write=False) as cur:
            rows = self._execute(cur, sql + " ORDER BY starts_at, id", params).fetchall()
        return [self._silence_from_row(row) for row in rows]

    def set_silence_end(self, silence_id: int, ends_at: datetime) -> Silence | None:
        """Move the end of silence ``silence_id`` (not lifted) to ``ends_at``; returns it, or None."""
        with self._tx("change the end of silence %s" % silence_id) as cur:
            self._execute(cur, "UPDATE silences SET ends_at = ? WHERE id = ? AND lifted_at IS NULL",
                          (self._dt(_utc(ends_at, "ends_at")), int(silence_id)))
            row = self._execute(cur, "SELECT %s FROM silences WHERE id = ?" % ", ".join(self._SILENCE_COLUMNS),
                                (int(silence_id),)).fetchone()
        return None if row is None else self._silence_from_row(row)

    def lift_silence(self, silence_id: int, now: datetime | None = None) -> Silence | None:
        """End silence ``silence_id`` now; returns it, or None when there is no such silence.
        Lifting one already lifted or ended changes nothing."""
        moment = _utc(now, "now") or _now()
        with self._tx("lift silence %s" % silence_id) as cur:
            self._execute(cur, "UPDATE silences SET lifted_at = ? WHERE id = ? AND lifted_at IS NULL AND ends_at > ?",
                          (self._dt(moment), int(silence_id), self._dt(moment)))
            row = self._execute(cur, "SELECT %s FROM silences WHERE id = ?" % ", ".join(self._SILENCE_COLUMNS),
                                (int(silence_id),)).fetchone()
        return None if row is None else self._silence_from_row(row)

    # -- local case register --

    def _local_id(self, case_id: str) -> int:
        match = re.fullmatch(re.escape(_LOCAL_ID_PREFIX) + r"(\d+)", str(case_id))
        if not match:
            raise StoreError("%s %s: %r is not a local case id (expected %sNUMBER)"
                             % (self._source, self.display, case_id, _LOCAL_ID_PREFIX))
        return int(match.group(1))

    def local_create(self, key: str, fields: dict[str, Any], now: datetime) -> str:
        """Create a local case for idempotency ``key``; the existing case id when ``key`` is known."""
        stamp = self._dt(_utc(now, "now"))
        priority = fields.get("priority")
        with self._tx("create local case %s" % key) as cur:
            self._execute(cur, "INSERT INTO local_cases (key, fields, status, priority, created_at, updated_at) "
                               "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                          (key, self._json(dict(fields)), "open", None if priority is None else str(priority), stamp, stamp))
            row = self._execute(cur, "SELECT id FROM local_cases WHERE key = ?", (key,)).fetchone()
        return "%s%d" % (_LOCAL_ID_PREFIX, row[0])

    def local_find(self, key: str) -> str | None:
        """The id of the local case created for ``key``, or None."""
        with self._tx("find local case %s" % key, write=False) as cur:
            row = self._execute(cur, "SELECT id FROM local_cases WHERE key = ?", (key,)).fetchone()
        return None if row is None else "%s%d" % (_LOCAL_ID_PREFIX, row[0])

    def _local_cases(self, cur: Any, where: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        rows = self._execute(cur, "SELECT id, key, fields, status, priority, created_at, updated_at FROM local_cases"
                                  + where + " ORDER BY id", params).fetchall()
        comments = self._execute(cur, "SELECT c.case_id, c.at, c.body FROM local_comments c JOIN local_cases l "
                                      "ON l.id = c.case_id" + where.replace(" WHERE ", " WHERE l.") + " ORDER BY c.id",
                                 params).fetchall()
        by_case: dict[int, list[dict[str, Any]]] = {}
        for case_id, at, body in comments:
            by_case.setdefault(case_id, []).append({"at": self._from_dt(at), "text": body})
        return [{"id": "%s%d" % (_LOCAL_ID_PREFIX, case_id), "key": key, "fields": self._from_json(fields),
                 "status": status, "priority": priority, "comments": by_case.get(case_id, []),
                 "created_at": self._from_dt(created), "updated_at": self._from_dt(updated)}
                for case_id, key, fields, status, priority, created, updated in rows]

    def local_get(self, case_id: str) -> dict[str, Any]:
        """A local case: id, key, fields, status, priority, comments [{at, text}], created_at, updated_at."""
        number = self._local_id(case_id)
        with self._tx("read local case %s" % case_id, write=False) as cur:
            found = self._local_cases(cur, " WHERE id = ?", (number,))
        if not found:
            raise StoreError("%s %s: there is no local case %s" % (self._source, self.display, case_id))
        return found[0]

    def local_update(self, case_id: str, *, status: str | None = None, priority: str | None = None,
                     comment: str | None = None, now: datetime, marker: str | None = None) -> None:
        """Change the status and/or priority of a local case and/or add a comment.

        With ``marker`` (the id of the action that writes the comment) a comment already added
        under that marker is not added again.
        """
        number = self._local_id(case_id)
        stamp = self._dt(_utc(now, "now"))
        with self._tx("update local case %s" % case_id) as cur:
            self._execute(cur, "UPDATE local_cases SET status = COALESCE(?, status), priority = COALESCE(?, priority), "
                               "updated_at = ? WHERE id = ?", (status, priority, stamp, number))
            if cur.rowcount != 1:
                raise StoreError("%s %s: there is no local case %s" % (self._source, self.display, case_id))
            if comment is not None and marker is not None:
                seen = self._execute(cur, "SELECT 1 FROM local_comments WHERE case_id = ? AND marker = ?",
                                     (number, marker)).fetchone()
                if seen is not None:
                    return
            if comment is not None:
                self._execute(cur, "INSERT INTO local_comments (case_id, at, body, marker) VALUES (?, ?, ?, ?)",
                              (number, stamp, str(comment), marker))

    def local_list(self, status: str | None = None) -> list[dict[str, Any]]:
        """Local cases (shaped like :meth:`local_get`), optionally with ``status``, oldest first."""
        with self._tx("list local cases", write=False) as cur:
            if status is None:
                return self._local_cases(cur, "", ())
            return self._local_cases(cur, " WHERE status = ?", (status,))

    # -- metric history --

    def _at(self, value: datetime) -> Any:
        """A time as ``metric_points.at`` holds it: SQLite whole microseconds since the UTC epoch, PostgreSQL TIMESTAMPTZ."""
        if self.engine == "sqlite":
            return (value - EPOCH) // _MICROSECOND
        return value.astimezone(timezone.utc)

    def _from_at(self, value: Any) -> datetime:
        if isinstance(value, datetime):
            return value.astimezone(timezone.utc)
        return EPOCH + _MICROSECOND * int(value)

    def _series_ids(self, cur: Any, host: str, names: Sequence[str]) -> dict[str, int]:
        """The series id of each of ``names`` of ``host``, adding the series not yet known."""
        ids = dict((str(name), int(series)) for series, name in self._execute(
            cur, "SELECT id, name FROM metric_series WHERE host = ?", (host,)).fetchall())
        missing = sorted(set(names) - set(ids))
        if missing:
            # Only the missing ones: on PostgreSQL a conflicting insert would still use up an id.
            self._executemany(cur, "INSERT INTO metric_series (host, name) VALUES (?, ?) ON CONFLICT (host, name) DO NOTHING",
                              [(host, name) for name in missing])
            ids.update((str(name), int(series)) for series, name in self._execute(
                cur, "SELECT id, name FROM metric_series WHERE host = ?", (host,)).fetchall())
        return ids

    def record_metrics(self, host: str, at: datetime, metrics: Mapping[str, float | None]) -> int:
        """Store ``metrics`` of ``host`` at ``at`` (replacing values at the same instant).

        Values that are None or not finite are skipped; returns how many were stored.
        """
        stamp = self._at(_utc(at, "at"))
        values = {}
        for name, value in metrics.items():
            if value is None or isinstance(value, str):
                continue
            number = float(value)
            if math.isfinite(number):
                values[str(name)] = number
        if values:
            with self._tx("record metrics of %s" % host) as cur:
                ids = self._series_ids(cur, host, list(values))
                self._executemany(cur, "INSERT INTO metric_points (series, at, value) VALUES (?, ?, ?) "
                                       "ON CONFLICT (series, at) DO UPDATE SET value = excluded.value",
                                  [(ids[name], stamp, number) for name, number in values.items()])
        return len(values)

    def metrics(self, host: str, name: str | Mapping[str, datetime], since: datetime | None = None, *,
                changes: Collection[str] = ()) -> list[tuple[datetime, float]] | dict[str, tuple[tuple[datetime, float], ...]]:
        """The history of metric ``name`` of ``host`` from ``since`` on, oldest first.

        ``name`` may instead map several metric names to their ``since``: then the history of
        each, by name, as a tuple (``()``: none), all read in one transaction; of the metrics
        named in ``changes`` only the first value, each value that differs from the one before
        it and the last value are read (what a reader of their changes needs, see
        ``rules.read_for_changes``).
        """
        if isinstance(name, Mapping):
            return self._metric_windows(host, name, frozenset(changes))
        with self._tx("read metrics of %s" % host, write=False) as cur:
            rows = self._execute(cur, "SELECT at, value FROM metric_points WHERE series = "
                                      "(SELECT id FROM metric_series WHERE host = ? AND name = ?) AND at >= ? ORDER BY at",
                                 (host, name, self._at(_utc(since, "since")))).fetchall()
        return [(self._from_at(at), float(value)) for at, value in rows]

    def _metric_windows(self, host: str, since: Mapping[str, datetime],
                        changes: frozenset[str]) -> dict[str, tuple[tuple[datetime, float], ...]]:
        """The history of each metric ``name`` of ``host`` from ``since[name]`` on, by name (see :meth:`metrics`).

        SQLite reads each series through its primary key (a query per series, without the series
        column, is faster there than one query for all); PostgreSQL reads the series that start
        at the same time in one query (each query is a round trip), its times as whole microseconds
        since the epoch (as SQLite keeps them: integers are read faster than times). PostgreSQL finds the changes
        of a series itself (LAG and LEAD over its points) and returns only those rows; SQLite,
        where such a query costs more than reading every row, returns them all and they are
        picked here (:func:`_changes`). A time is converted to a datetime once for all the series
        that hold it.
        """
        starts = {str(name): self._at(_utc(moment, "since")) for name, moment in since.items()}
        found: dict[str, list[tuple[Any, Any]]] = {}
        with self._tx("read metrics of %s" % host, write=False) as cur:
            ids = {name: series for series, name in self._host_series(cur, host).items() if name in starts}
            groups: dict[tuple[Any, bool], list[int]] = {}
            for name, series in ids.items():
                groups.setdefault((starts[name], name in changes), []).append(series)
            names = {series: name for name, series in ids.items()}
            for (start, changed), series in sorted(groups.items()):
                if self.engine == "sqlite":
                    for one in series:
                        found[names[one]] = self._sqlite_points(cur, one, start, changed)
                    continue
                where = "series IN (%s)" % ", ".join("?" * len(series))
                sql = (_changes_sql(where, "series, %s, value" % _PG_MICROSECONDS) if changed else
                       "SELECT series, %s, value FROM metric_points WHERE %s AND at >= ? ORDER BY series, at" % (_PG_MICROSECONDS, where))
                for series_id, points in itertools.groupby(self._execute(cur, sql, sorted(series) + [start]).fetchall(),
                                                           key=_FIRST):
                    found[names[series_id]] = list(map(_REST, points))
        # Whole microseconds since the epoch (as SQLite keeps them, as PostgreSQL is asked for them): _from_at in C.
        distinct = list(set(itertools.chain.from_iterable(map(_FIRST, rows) for rows in found.values())))
        times = dict(zip(distinct, map(EPOCH.__add__, map(_MICROSECOND.__mul__, map(int, distinct)))))
        return {name: tuple(zip(map(times.__getitem__, map(_FIRST, found[name])), map(float, map(_SECOND, found[name]))))
                if name in found else () for name in starts}

    @staticmethod
    def _sqlite_points(cur: Any, series: int, start: int, changed: bool) -> list[tuple[Any, Any]]:
        """(time, value) of a series from ``start`` on, oldest first; with ``changed`` only its changes
        (:func:`_changes`). A series that did not change (its lowest value is its highest: a disk's
        size, most of the time) is then two rows of its own index, not all of them read and dropped."""
        if changed:
            first, last, low, high = cur.execute("SELECT MIN(at), MAX(at), MIN(value), MAX(value) FROM metric_points "
                                                 "WHERE series = ? AND at >= ?", (series, start)).fetchone()
            if first is None:
                return []
            if low == high:
                return [(first, low)] if first == last else [(first, low), (last, low)]
        rows = cur.execute("SELECT at, value FROM metric_points WHERE series = ? AND at >= ? ORDER BY at", (series, start)).fetchall()
        return _changes(rows) if changed else rows

    def _host_series(self, cur: Any, host: str) -> dict[int, str]:
        """The series of ``host``: {id: metric name}."""
        return {int(series): str(name) for series, name in self._execute(
            cur, "SELECT id, name FROM metric_series WHERE host = ?", (host,)).fetchall()}

    def _points_of(self, cur: Any, series: Sequence[int], where: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """(series, at, value) of ``series`` (ids) matching ``where``, by series and time.

        The ids are in the query itself, not a subquery or a join on ``metric_series``: given a
        join, PostgreSQL read every host's recent points through the time index and kept those of
        the host (10 times slower with 100 hosts, and more with more); given the ids, it reads
        each series through the primary key, as SQLite does in both cases.
        """
        if not series:
            return []
        return self._execute(cur, "SELECT series, at, value FROM metric_points WHERE series IN (%s) AND %s "
                                  "ORDER BY series, at" % (", ".join("?" * len(series)), where),
                             list(series) + list(params)).fetchall()

    def metric_series(self, host: str, since: datetime) -> dict[str, list[tuple[datetime, float]]]:
        """Every metric of ``host`` from ``since`` on, by name, each oldest first (one query)."""
        with self._tx("read metrics of %s" % host, write=False) as cur:
            names = self._host_series(cur, host)
            rows = self._points_of(cur, sorted(names), "at >= ?", (self._at(_utc(since, "since")),))
        by_id: dict[int, list[tuple[datetime, float]]] = {}
        for series_id, at, value in rows:
            by_id.setdefault(int(series_id), []).append((self._from_at(at), float(value)))
        return {names[series_id]: by_id[series_id] for series_id in sorted(by_id, key=names.__getitem__)}

    def compact_metrics(self, now: datetime, host: str | None = None, *, history_raw_days: float = HISTORY_RAW_DAYS,
                        history_hourly_days: float = HISTORY_HOURLY_DAYS,
                        history_daily_days: float = HISTORY_DAILY_DAYS) -> int:
        """Keep metric history small, as of ``now``: raw values for ``history_raw_days``, hourly
        means of older values up to ``history_hourly_days``, daily means up to
        ``history_daily_days``; older values of every host are deleted.

        Hourly and daily buckets are aligned on UTC (trends.downsample) and only whole buckets
        older than the raw (hourly) period are averaged, each into one value at the start of its
        bucket, so compacting again changes nothing; a metric named ``...:in_use`` (``PEAK_SUFFIXES``:
        a capacity pool's use) keeps the highest value of each bucket instead of the mean, so its
        daily peaks outlive the raw values. ``host`` limits the averaging to one host's
        metrics (None: every host). One transaction; returns how many values fewer the store holds.
        """
        now = _utc(now, "now")
        days = (history_raw_days, history_hourly_days, history_daily_days)
        if any(isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0
               for value in days) or not days[0] <= days[1] <= days[2]:
            raise ValueError("history_raw_days <= history_hourly_days <= history_daily_days must be numbers of days "
                             "above 0, not %r" % (days,))
        raw_from = _bucket_start(now - timedelta(days=history_raw_days), _HOUR)
        hourly_from = min(_bucket_start(now - timedelta(days=history_hourly_days), _DAY), raw_from)
        kept_from = min(_bucket_start(now - timedelta(days=history_daily_days), _DAY), hourly_from)
        where, params = "at >= ? AND at < ?", [self._at(kept_from), self._at(raw_from)]
        removed = 0
        with self._tx("compact the metric history" + ("" if host is None else " of %s" % host)) as cur:
            self._execute(cur, "DELETE FROM metric_points WHERE at < ?", (self._at(kept_from),))
            removed += max(cur.rowcount, 0)
            if host is None:
                rows = self._execute(cur, "SELECT series, at, value FROM metric_points WHERE %s ORDER BY series, at" % where,
                                     params).fetchall()
                names = {int(sid): str(name) for sid, name in self._execute(
                    cur, "SELECT id, name FROM metric_series").fetchall()} if rows else {}
            else:
                names = self._host_series(cur, host)
                rows = self._points_of(cur, sorted(names), where, params)
            series: dict[int, list[tuple[datetime, float]]] = {}
            for series_id, at, value in rows:
                series.setdefault(series_id, []).append((self._from_at(at), float(value)))
            deletes, inserts = [], []
            for series_id, points in series.items():
                peak = str(names.get(series_id, "")).endswith(PEAK_SUFFIXES)
                for start, end, mean, count in (_compacted([p for p in points if p[0] < hourly_from], _DAY, peak)
                                                + _compacted([p for p in points if p[0] >= hourly_from], _HOUR, peak)):
                    deletes.append((series_id, self._at(start), self._at(end)))
                    inserts.append((series_id, self._at(start), mean))
                    removed += count - 1
            if deletes:
                self._executemany(cur, "DELETE FROM metric_points WHERE series = ? AND at >= ? AND at < ?", deletes)
                self._executemany(cur, "INSERT INTO metric_points (series, at, value) VALUES (?, ?, ?) "
                                       "ON CONFLICT (series, at) DO UPDATE SET value = excluded.value", inserts)
        return removed

    def prune_metrics(self, before: datetime) -> int:
        """Delete metric history older than ``before``; returns the number of values deleted."""
        with self._tx("prune metrics") as cur:
            self._execute(cur, "DELETE FROM metric_points WHERE at < ?", (self._at(_utc(before, "before")),))
            return cur.rowcount


# A PostgreSQL time as whole microseconds since the UTC epoch (exact: numeric from PostgreSQL 14 on, rounded before).
_PG_MICROSECONDS = "(EXTRACT(EPOCH FROM at) * 1000000)::bigint"


def _changes(rows: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Of the (time, value) ``rows`` of a series, oldest first, the first, each whose value differs from
    the one before it and the last (as :func:`_changes_sql` finds them)."""
    values = list(map(_SECOND, rows))
    keep = [0] + list(itertools.compress(itertools.count(1), map(operator.ne, values, itertools.islice(values, 1, None))))
    if keep[-1] != len(rows) - 1:
        keep.append(len(rows) - 1)
    return list(map(rows.__getitem__, keep)) if rows else rows


def _changes_sql(where: str, columns: str) -> str:
    """The points of the series matching ``where`` from ``at >= ?`` on that a reader of their changes needs:
    the first, each whose value differs from the one before it and the last; ``columns`` of each."""
    return ("SELECT %s FROM (SELECT series, at, value, LAG(value) OVER (PARTITION BY series ORDER BY at) AS previous_value, "
            "LEAD(at) OVER (PARTITION BY series ORDER BY at) AS next_at FROM metric_points WHERE %s AND at >= ?) AS p "
            "WHERE previous_value IS NULL OR value <> previous_value OR next_at IS NULL ORDER BY series, at" % (columns, where))


def _bucket_start(moment: datetime, bucket: timedelta) -> datetime:
    """The start of the ``bucket`` (aligned on the UTC epoch) that holds ``moment``."""
    return EPOCH + bucket * ((moment - EPOCH) // bucket)


def _compacted(points: Sequence[tuple[datetime, float]], bucket: timedelta,
               peak: bool = False) -> list[tuple[datetime, datetime, float, int]]:
    """(start, end, mean, values) of each ``bucket`` of ``points`` (oldest first) that is not one value at its start already.

    Only the points of those buckets are averaged: the history compacted at earlier runs (most of
    it) is not cleaned and averaged again at every run just to be left as it is. ``peak``: the
    bucket keeps its highest value instead of the mean (a pool's use, whose peaks are predicted).
    """
    members: dict[datetime, list[tuple[datetime, float]]] = {}
    for point in points:
        members.setdefault(_bucket_start(point[0], bucket), []).append(point)
    todo = [point for start, group in members.items() if len(group) > 1 or group[0][0] != start for point in group]
    if peak:
        highest: dict[datetime, float] = {}
        for when, value in clean_points(todo):
            start = _bucket_start(when, bucket)
            highest[start] = max(highest.get(start, value), value)
        return [(start, start + bucket, value, len(members[start])) for start, value in sorted(highest.items())]
    return [(start, start + bucket, mean, len(members[start])) for start, mean in downsample(todo, bucket)]


def _open(url: str | None, source: str, migrations: Sequence[Sequence[str]] | None = None) -> Store:
    location = parse_store_url(url, source)
    if location.engine == "sqlite":
        connection = store_engine.connect_sqlite(location, source)
    else:
        connection = store_engine.connect_postgresql(location, source)
    store = Store(location, connection, source)
    try:
        store._migrate(MIGRATIONS[location.engine] if migrations is None else migrations)
    except BaseException:
        store.close()
        raise
    return store


class OpenOnce:
    """The state store opened on first use and kept open for the next ones, until :meth:`close`.

    The steps of one host's evaluation (recording its metrics and reading its history, then the
    progress of its sustained alarms) share one connection instead of opening the store for each.
    Calling it gives a context manager of the open store, as ``open_store`` does, whose end does
    not close it; ``opener()`` opens the store (e.g. ``lambda: open_store(url)``). A store that
    could not be opened is tried again at the next use.
    """

    def __init__(self, opener: Callable[[], Store]):
        self._opener = opener
        self._store: Store | None = None

    @contextlib.contextmanager
    def __call__(self) -> Iterator[Store]:
        if self._store is None:
            self._store = self._opener()
        yield self._store

    def close(self) -> None:
        """Close the store when it was opened (idempotent)."""
        if self._store is not None:
            self._store.close()
            self._store = None


def open_store(url: str | None, source: str = "state store") -> Store:
    """Open (creating and migrating as needed) the state store at ``url``.

    ``url``: None (``DEFAULT_SQLITE_PATH``), a file path, ``sqlite:///ABSOLUTE/PATH`` or
    ``postgresql://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=...]``.  ``source`` names where the URL
    came from, for error messages.  Raises StoreError (never showing the password).
    """
    return _open(url, source)
