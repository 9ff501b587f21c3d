# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``database`` section: size of the Suite database and how close it is to its limit.

Engines: ``sqlite`` (the simulator), ``postgresql`` and ``mssql`` (the real Suite uses Microsoft
SQL Server; SQL Server Express caps each database at 10 GB, detected through
``SERVERPROPERTY('EngineEdition') = 4``). Database drivers are imported only when their engine is
configured. The password is never part of the output or of an error message.
"""

from __future__ import annotations

import os
import platform
import socket
import sys
from urllib.parse import quote

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import (
    CollectorError,
    NotConfigured,
    round2,
)

ENGINES = ("none", "sqlite", "postgresql", "mssql")
EXPRESS_ENGINE_EDITION = 4
EXPRESS_LIMIT_MB = 10240.0
MB = 1024 * 1024
PREREQ_ROLE = "imagicle.proactive.prerequisites"

MSSQL_PROPERTIES_SQL = (
    "SELECT CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition, "
    "CAST(SERVERPROPERTY('EngineEdition') AS int) AS engine_edition, "
    "DB_NAME() AS database_name"
)
# sys.database_files.size is in 8 KB pages; type 0 = ROWS (data) files, which the Express cap counts.
MSSQL_SIZE_SQL = "SELECT SUM(CAST(size AS bigint)) AS pages FROM sys.database_files WHERE type = 0"
MSSQL_PAGE_BYTES = 8192


def missing_library(library: str, pip_name: str, apt_name: str) -> str:
    """The Ansible missing-library message, plus how this collection installs the driver."""
    return (
        "Failed to import the required Python library (%s) on %s's Python %s. Please read the module "
        "documentation and install it in the appropriate location (pip install %s, or the OS package %s; "
        "the role %s installs it). If the required library is installed, but Ansible is using the wrong "
        "Python interpreter, please consult the documentation on ansible_python_interpreter"
        % (library, platform.node() or socket.gethostname(), sys.executable, pip_name, apt_name, PREREQ_ROLE)
    )


def _scrub(text, password) -> str:
    """Remove the password from a driver message, just in case a driver echoes it."""
    text = str(text).strip()
    if password:
        text = text.replace(str(password), "********")
    return text


def _limit(size_bytes: int, max_size_mb, detected_mb=None, detected_source: str = "none") -> dict:
    """limit_bytes / limit_source / used_percent: the configured limit wins over a detected one."""
    if max_size_mb is not None:
        limit_mb, source = float(max_size_mb), "configured"
    elif detected_mb is not None:
        limit_mb, source = float(detected_mb), detected_source
    else:
        return {"limit_bytes": None, "limit_source": "none", "used_percent": None}
    if limit_mb <= 0:
        raise CollectorError("max_size_mb must be greater than 0 (got %s)" % max_size_mb)
    limit_bytes = int(limit_mb * MB)
    return {"limit_bytes": limit_bytes, "limit_source": source,
            "used_percent": round2(size_bytes * 100.0 / limit_bytes)}


def _section(engine: str, name: str, size_bytes: int, max_size_mb, edition=None, detected_mb=None,
             detected_source: str = "none") -> dict:
    section = {"configured": True, "engine": engine, "name": name, "size_bytes": int(size_bytes)}
    section.update(_limit(int(size_bytes), max_size_mb, detected_mb, detected_source))
    section["edition"] = edition
    return section


# --- SQLite ------------------------------------------------------------------------------------

def sqlite_size(path: str) -> dict:
    """File size (database + ``-wal``) and allocated pages of a SQLite file, opened read-only."""
    if not path:
        raise CollectorError("database engine sqlite needs path (the SQLite database file)")
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise CollectorError("SQLite database %s does not exist: check the database path option" % path)
    except OSError as exc:
        raise CollectorError("cannot stat SQLite database %s (%s)" % (path, exc.strerror or exc))
    try:
        size += os.stat(path + "-wal").st_size
    except OSError:
        pass
    try:
        import sqlite3
    except ImportError:
        raise CollectorError(missing_library("sqlite3", "(part of Python)", "python3 (with its sqlite3 module)"))
    uri = "file:%s?mode=ro" % quote(os.path.abspath(path))
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=5)
        try:
            page_count = conn.execute("PRAGMA page_count").fetchone()[0]
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise CollectorError("cannot read SQLite database %s (%s); is it a SQLite file?" % (path, exc))
    return {"size_bytes": size, "page_bytes": int(page_count) * int(page_size)}


def collect_sqlite(options: dict) -> dict:
    path = options.get("path") or ""
    if not path:
        raise NotConfigured("database engine sqlite has no database file", "database.path")
    sizes = sqlite_size(path)
    section = _section("sqlite", path, sizes["size_bytes"], options.get("max_size_mb"))
    section["page_bytes"] = sizes["page_bytes"]
    return section


# --- PostgreSQL --------------------------------------------------------------------------------

def _pg_driver():
    try:
        import psycopg2
        return psycopg2
    except ImportError:
        pass
    try:
        import psycopg
        return psycopg
    except ImportError:
        raise CollectorError(missing_library("psycopg2", "psycopg2-binary", "python3-psycopg2"))


def _where(options: dict) -> str:
    return "%s@%s:%s/%s" % (options.get("user") or "", options.get("host") or "localhost",
                            options.get("port") or "default port", options.get("name") or "")


def pg_database_size(conn) -> tuple:
    """``(database name, size in bytes)`` of the current database of a DB-API connection."""
    cursor = conn.cursor()
    try:
        cursor.execute("SELECT current_database(), pg_database_size(current_database())")
        row = cursor.fetchone()
    finally:
        cursor.close()
    return row[0], int(row[1])


def collect_postgresql(options: dict) -> dict:
    driver = _pg_driver()
    password = options.get("password")
    params = {"host": options.get("host") or "localhost", "dbname": options.get("name") or "postgres",
              "connect_timeout": int(options.get("connect_timeout") or 10)}
    if options.get("port"):
        params["port"] = int(options["port"])
    if options.get("user"):
        params["user"] = options["user"]
    if password:
        params["password"] = password
    try:
        conn = driver.connect(**params)
    except driver.Error as exc:
        raise CollectorError("cannot connect to PostgreSQL %s: %s" % (_where(options), _scrub(exc, password)))
    try:
        name, size = pg_database_size(conn)
    except driver.Error as exc:
        raise CollectorError("cannot read the size of PostgreSQL database %s: %s"
                             % (_where(options), _scrub(exc, password)))
    finally:
        conn.close()
    return _section("postgresql", name, size, options.get("max_size_mb"))


# --- Microsoft SQL Server -------------------------------------------------------------------------

def mssql_facts(conn, max_size_mb=None) -> dict:
    """The database section from an open DB-API connection to SQL Server.

    Size = data files (``sys.database_files`` type 0, in 8 KB pages) of the current database;
    Express edition (EngineEdition 4) implies the 10 GB cap unless ``max_size_mb`` is set.
    """
    cursor = conn.cursor()
    try:
        cursor.execute(MSSQL_PROPERTIES_SQL)
        props = cursor.fetchone()
        cursor.execute(MSSQL_SIZE_SQL)
        size_row = cursor.fetchone()
    finally:
        cursor.close()
    if not props or not size_row:
        raise CollectorError("SQL Server returned no rows for the edition or database size queries")
    edition, engine_edition, name = props[0], props[1], props[2]
    pages = size_row[0] or 0
    detected = EXPRESS_LIMIT_MB if engine_edition is not None and int(engine_edition) == EXPRESS_ENGINE_EDITION else None
    return _section("mssql", name, int(pages) * MSSQL_PAGE_BYTES, max_size_mb, edition=edition,
                    detected_mb=detected, detected_source="express_edition")


def _mssql_connect(options: dict):
    """Open a connection with pymssql, or pyodbc with an installed SQL Server ODBC driver."""
    host = options.get("host") or "localhost"
    port = int(options.get("port") or 1433)
    timeout = int(options.get("connect_timeout") or 10)
    try:
        import pymssql
        return pymssql, pymssql.connect(server=host, port=str(port), user=options.get("user"),
                                        password=options.get("password"), database=options.get("name") or "",
                                        login_timeout=timeout, timeout=timeout)
    except ImportError:
        pass
    try:
        import pyodbc
    except ImportError:
        raise CollectorError(missing_library("pymssql", "pymssql", "python3-pymssql (or pyodbc with an ODBC driver)"))
    drivers = [d for d in pyodbc.drivers() if "SQL Server" in d]
    if not drivers:
        raise CollectorError("pyodbc is installed but no SQL Server ODBC driver is: install "
                             "msodbcsql18 or pymssql (the role %s)" % PREREQ_ROLE)
    conn_str = ("DRIVER={%s};SERVER=%s,%d;DATABASE=%s;UID=%s;PWD={%s};TrustServerCertificate=yes"
                % (drivers[-1], host, port, options.get("name") or "", options.get("user") or "",
                   (options.get("password") or "").replace("}", "}}")))
    return pyodbc, pyodbc.connect(conn_str, timeout=timeout)


def collect_mssql(options: dict) -> dict:
    password = options.get("password")
    try:
        driver, conn = _mssql_connect(options)
    except CollectorError:
        raise
    except Exception as exc:  # driver-specific error classes; the driver is not importable here
        raise CollectorError("cannot connect to SQL Server %s: %s" % (_where(options), _scrub(exc, password)))
    try:
        return mssql_facts(conn, options.get("max_size_mb"))
    except CollectorError:
        raise
    except driver.Error as exc:
        raise CollectorError("cannot read the size of SQL Server database %s: %s"
                             % (_where(options), _scrub(exc, password)))
    finally:
        conn.close()


def collect(options: dict, ctx) -> dict:
    """The ``database`` section; ``{"configured": False}`` when engine is ``none``.

    No engine at all is not configured (raises :class:`NotConfigured`): which database the Suite
    uses, and where, is not guessed."""
    if not options.get("engine"):
        raise NotConfigured("the Suite's database is not described", "database.engine",
                            "{engine: mssql, host: ..., name: ...}, {engine: sqlite, path: ...}, or engine none to skip it")
    engine = str(options["engine"]).lower()
    if engine == "none":
        return {"configured": False}
    if engine == "sqlite":
        return collect_sqlite(options)
    if engine == "postgresql":
        return collect_postgresql(options)
    if engine == "mssql":
        return collect_mssql(options)
    raise CollectorError("unknown database engine %r: use one of %s" % (engine, ", ".join(ENGINES)))
