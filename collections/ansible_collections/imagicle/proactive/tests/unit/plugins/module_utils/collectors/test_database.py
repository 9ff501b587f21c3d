# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database collector: real SQLite files, a real PostgreSQL cluster, SQL Server by contract."""

from __future__ import annotations

import os
import sqlite3
import sys

import pytest

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors import database
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import CollectorError, NotConfigured
from ansible_collections.imagicle.proactive.tests.unit.plugins.module_utils.collectors._netfixtures import (  # noqa: F401 pylint: disable=unused-import
    closed_port, make_ctx, pg_cluster,
)

KEYS = {"configured", "engine", "name", "size_bytes", "limit_bytes", "limit_source", "used_percent", "edition"}


def sqlite_options(path, **extra):
    opts = {"engine": "sqlite", "path": str(path), "max_size_mb": None}
    opts.update(extra)
    return opts


def grow_sqlite(path, rows, wal=False):
    conn = sqlite3.connect(str(path))
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE IF NOT EXISTS calls (id INTEGER PRIMARY KEY, blob BLOB)")
    conn.executemany("INSERT INTO calls (blob) VALUES (?)", [(os.urandom(1000),) for _row in range(rows)])
    conn.commit()
    return conn


# --- none / bad options ------------------------------------------------------------------------

def test_engine_none(tmp_path):
    assert database.collect({"engine": "none"}, make_ctx(tmp_path)) == {"configured": False}


def test_unknown_engine(tmp_path):
    with pytest.raises(CollectorError, match="unknown database engine 'oracle'"):
        database.collect({"engine": "oracle"}, make_ctx(tmp_path))


# --- SQLite ------------------------------------------------------------------------------------

def test_sqlite_size_grows(tmp_path):
    path = tmp_path / "appsuite.sqlite"
    grow_sqlite(path, 10).close()
    first = database.collect(sqlite_options(path), make_ctx(tmp_path))
    assert set(first) == KEYS | {"page_bytes"}
    assert first["engine"] == "sqlite" and first["name"] == str(path)
    assert first["size_bytes"] == os.path.getsize(path)
    assert first["page_bytes"] == first["size_bytes"]
    assert (first["limit_bytes"], first["limit_source"], first["used_percent"]) == (None, "none", None)
    grow_sqlite(path, 500).close()
    second = database.collect(sqlite_options(path), make_ctx(tmp_path))
    assert second["size_bytes"] >= first["size_bytes"] + 500 * 1000
    assert second["page_bytes"] > first["page_bytes"]


def test_sqlite_configured_limit(tmp_path):
    path = tmp_path / "appsuite.sqlite"
    grow_sqlite(path, 100).close()
    section = database.collect(sqlite_options(path, max_size_mb=1), make_ctx(tmp_path))
    size = os.path.getsize(path)
    assert section["limit_bytes"] == 1048576
    assert section["limit_source"] == "configured"
    assert section["used_percent"] == round(size * 100.0 / 1048576, 2)


def test_sqlite_wal_file_counts(tmp_path):
    path = tmp_path / "wal.sqlite"
    conn = grow_sqlite(path, 200, wal=True)  # kept open: the WAL is not checkpointed
    try:
        wal = os.path.getsize(str(path) + "-wal")
        assert wal > 0
        section = database.collect(sqlite_options(path), make_ctx(tmp_path))
        assert section["size_bytes"] == os.path.getsize(path) + wal
        assert section["page_bytes"] >= 200 * 1000  # pages committed in the WAL are visible
    finally:
        conn.close()


def test_sqlite_missing_file_is_not_created(tmp_path):
    path = tmp_path / "missing.sqlite"
    with pytest.raises(CollectorError, match="missing.sqlite does not exist"):
        database.collect(sqlite_options(path), make_ctx(tmp_path))
    assert not path.exists()


def test_sqlite_not_a_database(tmp_path):
    path = tmp_path / "garbage.sqlite"
    path.write_bytes(b"this is not a database file" * 200)
    with pytest.raises(CollectorError, match="garbage.sqlite"):
        database.collect(sqlite_options(path), make_ctx(tmp_path))


def test_sqlite_opened_read_only(tmp_path):
    path = tmp_path / "ro.sqlite"
    grow_sqlite(path, 5).close()
    os.chmod(str(path), 0o444)
    before = os.stat(str(path)).st_mtime_ns
    section = database.collect(sqlite_options(path), make_ctx(tmp_path))
    assert section["size_bytes"] == os.path.getsize(path)
    assert os.stat(str(path)).st_mtime_ns == before
    assert not os.path.exists(str(path) + "-journal")


def test_sqlite_needs_a_path(tmp_path):
    with pytest.raises(NotConfigured, match=r"sqlite has no database file; set the option database\.path "
                                            r"\(inventory variable imagicle_database\.path\)"):
        database.collect({"engine": "sqlite", "path": ""}, make_ctx(tmp_path))


@pytest.mark.parametrize("options", [{}, {"engine": None, "path": None}, {"engine": "", "max_size_mb": 8}])
def test_no_engine_is_not_configured(tmp_path, options):
    # No default engine (the real Suite's is SQL Server, the simulator's SQLite): say what to set.
    with pytest.raises(NotConfigured) as info:
        database.collect(options, make_ctx(tmp_path))
    assert "set the option database.engine (inventory variable imagicle_database.engine)" in str(info.value)


def test_engine_none_is_left_out_on_purpose(tmp_path):
    assert database.collect({"engine": "none"}, make_ctx(tmp_path)) == {"configured": False}


# --- PostgreSQL --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pg_db(pg_cluster):
    psycopg2 = pytest.importorskip("psycopg2")
    admin = psycopg2.connect(host=pg_cluster["host"], port=pg_cluster["port"], user="postgres",
                             password=pg_cluster["password"], dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS appsuite")
        cur.execute("CREATE DATABASE appsuite")
    admin.close()
    conn = psycopg2.connect(host=pg_cluster["host"], port=pg_cluster["port"], user="postgres",
                            password=pg_cluster["password"], dbname="appsuite")
    yield conn
    conn.close()


def pg_options(pg_cluster, **extra):
    opts = {"engine": "postgresql", "host": pg_cluster["host"], "port": pg_cluster["port"], "name": "appsuite",
            "user": pg_cluster["user"], "password": pg_cluster["password"], "max_size_mb": None, "connect_timeout": 5}
    opts.update(extra)
    return opts


def test_postgresql_size_grows(pg_cluster, pg_db, tmp_path):
    first = database.collect(pg_options(pg_cluster), make_ctx(tmp_path))
    assert set(first) == KEYS
    assert first["engine"] == "postgresql" and first["name"] == "appsuite"
    assert first["size_bytes"] > 1000000  # an empty PostgreSQL database is a few MB
    with pg_db.cursor() as cur:
        cur.execute("CREATE TABLE calls (id serial PRIMARY KEY, payload text)")
        cur.execute("INSERT INTO calls (payload) SELECT md5(g::text) || repeat('x', 900) FROM generate_series(1, 5000) g")
    pg_db.commit()
    second = database.collect(pg_options(pg_cluster, max_size_mb=100), make_ctx(tmp_path))
    assert second["size_bytes"] >= first["size_bytes"] + 4000000
    assert second["limit_bytes"] == 100 * 1048576
    assert second["limit_source"] == "configured"
    assert second["used_percent"] == round(second["size_bytes"] * 100.0 / (100 * 1048576), 2)


def test_postgresql_wrong_password(pg_cluster, tmp_path):
    with pytest.raises(CollectorError) as err:
        database.collect(pg_options(pg_cluster, password="Wr0ng-Secret-Pw"), make_ctx(tmp_path))
    message = str(err.value)
    assert "password authentication failed" in message
    assert "postgres@127.0.0.1:%d/appsuite" % pg_cluster["port"] in message
    assert "Wr0ng-Secret-Pw" not in message and pg_cluster["password"] not in message


def test_postgresql_wrong_port(pg_cluster, closed_port, tmp_path):
    with pytest.raises(CollectorError) as err:
        database.collect(pg_options(pg_cluster, port=closed_port), make_ctx(tmp_path))
    message = str(err.value)
    assert "cannot connect to PostgreSQL" in message and str(closed_port) in message
    assert pg_cluster["password"] not in message


def test_postgresql_missing_database(pg_cluster, tmp_path):
    with pytest.raises(CollectorError, match='database "nosuchdb" does not exist'):
        database.collect(pg_options(pg_cluster, name="nosuchdb"), make_ctx(tmp_path))


def test_postgresql_missing_driver(monkeypatch, tmp_path):
    # An entry of None in sys.modules makes the import machinery raise ImportError.
    monkeypatch.setitem(sys.modules, "psycopg2", None)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(CollectorError) as err:
        database.collect({"engine": "postgresql", "host": "127.0.0.1", "name": "x"}, make_ctx(tmp_path))
    message = str(err.value)
    assert message.startswith("Failed to import the required Python library (psycopg2)")
    assert "python3-psycopg2" in message and "imagicle.proactive.prerequisites" in message


# --- SQL Server by contract --------------------------------------------------------------------

class FakeCursor:
    """Answers the two documented queries with rows shaped as SQL Server returns them."""

    def __init__(self, conn):
        self.conn = conn
        self.row = None
        self.closed = False

    def execute(self, sql, params=None):
        self.conn.queries.append(sql)
        if "SERVERPROPERTY('Edition')" in sql:
            assert "SERVERPROPERTY('EngineEdition')" in sql and "DB_NAME()" in sql
            assert sql.index("'Edition'") < sql.index("'EngineEdition'") < sql.index("DB_NAME()")
            self.row = (self.conn.edition, self.conn.engine_edition, self.conn.db_name)
        elif "sys.database_files" in sql:
            # size is in 8 KB pages; only data files (type 0 = ROWS), not the log (type 1).
            assert "type = 0" in sql and "SUM(" in sql.upper()
            data = [size for kind, size in self.conn.files if kind == 0]
            self.row = (sum(data) if data else None,)
        else:
            raise AssertionError("unexpected query: %s" % sql)

    def fetchone(self):
        return self.row

    def close(self):
        self.closed = True


class FakeConnection:
    def __init__(self, edition, engine_edition, files, db_name="ImagicleDB"):
        self.edition = edition
        self.engine_edition = engine_edition
        self.files = files  # (type, size in 8 KB pages) as in sys.database_files
        self.db_name = db_name
        self.queries = []
        self.cursors = []

    def cursor(self):
        cursor = FakeCursor(self)
        self.cursors.append(cursor)
        return cursor


def test_mssql_express_has_10_gb_limit():
    conn = FakeConnection("Express Edition (64-bit)", 4, [(0, 131072), (1, 65536)])  # 1 GiB data, 512 MiB log
    section = database.mssql_facts(conn)
    assert section == {"configured": True, "engine": "mssql", "name": "ImagicleDB", "size_bytes": 1073741824,
                       "limit_bytes": 10737418240, "limit_source": "express_edition", "used_percent": 10.0,
                       "edition": "Express Edition (64-bit)"}
    assert len(conn.queries) == 2
    assert all(cursor.closed for cursor in conn.cursors)


def test_mssql_express_configured_limit_wins():
    conn = FakeConnection("Express Edition with Advanced Services (64-bit)", 4, [(0, 65536)])
    section = database.mssql_facts(conn, max_size_mb=2048)
    assert (section["limit_bytes"], section["limit_source"], section["used_percent"]) == (2147483648, "configured", 25.0)


def test_mssql_standard_has_no_known_limit():
    conn = FakeConnection("Standard Edition (64-bit)", 2, [(0, 1280), (0, 1280), (1, 99999)])
    section = database.mssql_facts(conn)
    assert section["size_bytes"] == 2560 * 8192
    assert (section["limit_bytes"], section["limit_source"], section["used_percent"]) == (None, "none", None)
    assert section["edition"] == "Standard Edition (64-bit)"


def test_mssql_no_data_files():
    section = database.mssql_facts(FakeConnection("Express Edition (64-bit)", 4, []))
    assert section["size_bytes"] == 0 and section["used_percent"] == 0.0


def test_mssql_missing_driver(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pymssql", None)
    monkeypatch.setitem(sys.modules, "pyodbc", None)
    with pytest.raises(CollectorError) as err:
        database.collect({"engine": "mssql", "host": "127.0.0.1", "name": "ImagicleDB", "user": "sa",
                          "password": "Mssql-Secret1"}, make_ctx(tmp_path))
    message = str(err.value)
    assert "(pymssql)" in message and "imagicle.proactive.prerequisites" in message
    assert "Mssql-Secret1" not in message


def test_secret_scrubbed_from_driver_messages():
    assert database._scrub("login failed for sa with pw S3cr3t!", "S3cr3t!") == "login failed for sa with pw ********"
