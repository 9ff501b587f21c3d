# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the state store lives and how it is reached: its URL (SQLite path or PostgreSQL), the
masking of its password, and the connections of both engines; used by :mod:`store`."""

from __future__ import annotations

import dataclasses
import os
import re
import sqlite3
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

try:
    import psycopg2
except ImportError:
    psycopg2 = None

DEFAULT_SQLITE_PATH = "~/.local/state/imagicle-proactive/state.sqlite"
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
POSTGRESQL_CONNECT_TIMEOUT_SECONDS = 10


class StoreError(Exception):
    """The state store cannot be opened or used; the message says where and what to do."""


class StoreLocked(StoreError):
    """Another run holds the run lock; ``holder``, ``host``, ``pid``, ``since``, ``until`` say whose (when known)."""

    def __init__(self, message: str, *, holder: str | None = None, host: str | None = None, pid: Any = None,
                 since: datetime | None = None, until: datetime | None = None) -> None:
        super().__init__(message)
        self.holder = holder
        self.host = host
        self.pid = pid
        self.since = since
        self.until = until


# --- URLs ----------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class StoreLocation:
    """Where a store lives, parsed from its URL; ``display`` is safe to print (no password)."""

    engine: str  # "sqlite" or "postgresql"
    display: str
    path: str | None = None
    connect_args: Mapping[str, Any] = dataclasses.field(default_factory=dict, repr=False)
    secrets: tuple[str, ...] = dataclasses.field(default=(), repr=False)


def _mask_url(url: str) -> str:
    """The URL with any password (user:PASSWORD@ or ?password=) replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, dummy, hostport = netloc.rpartition("@")
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = userinfo + "@" + hostport
    query = parts.query
    if query:
        query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", query)
    text = "%s://%s%s" % (parts.scheme, netloc, parts.path)
    return text + ("?" + query if query else "")


def _url_secrets(url: str) -> tuple[str, ...]:
    found = set()
    match = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)", url)
    if match and "@" in match.group(1):
        userinfo = match.group(1).rpartition("@")[0]
        if ":" in userinfo:
            raw = userinfo.split(":", 1)[1]
            found.update({raw, unquote(raw), quote(unquote(raw), safe="")})
    for pair in re.findall(r"(?i)(?:^|[?&])password=([^&#]*)", url):
        found.update({pair, unquote(pair)})
    return tuple(sorted((s for s in found if s), key=len, reverse=True))


def scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def parse_store_url(url: str | None, source: str = "state store") -> StoreLocation:
    """Parse a store URL (``None``, a path, ``sqlite:///PATH`` or ``postgresql://...``)."""
    if url is None or (isinstance(url, str) and not url.strip()):
        path = os.path.expanduser(DEFAULT_SQLITE_PATH)
        return StoreLocation("sqlite", "sqlite://" + path, path=path)
    if not isinstance(url, str):
        raise StoreError("%s: the store URL must be a string, not %s" % (source, type(url).__name__))
    secrets = _url_secrets(url)
    display = _mask_url(url)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if not scheme:
        path = os.path.abspath(os.path.expanduser(url))
        return StoreLocation("sqlite", "sqlite://" + path, path=path)
    if scheme == "sqlite":
        rest = url[len("sqlite://"):]
        path = os.path.expanduser(rest[1:]) if rest.startswith("/~") else rest
        if not path.startswith("/"):
            raise StoreError("%s %s: a SQLite URL needs an absolute path after sqlite:// "
                             "(three slashes: sqlite:///var/lib/proactive/state.sqlite); or give a plain path"
                             % (source, display))
        path = os.path.normpath(path.split("?", 1)[0])
        return StoreLocation("sqlite", "sqlite://" + path, path=path)
    if scheme in ("postgresql", "postgres"):
        return _parse_postgresql(url, source, display, secrets)
    raise StoreError("%s %s: unsupported store URL scheme %r; use a path, sqlite:///ABSOLUTE/PATH or "
                     "postgresql://USER:PASSWORD@HOST:PORT/DATABASE" % (source, display, scheme))


def _parse_postgresql(url: str, source: str, display: str, secrets: tuple[str, ...]) -> StoreLocation:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise StoreError("%s %s: not a valid PostgreSQL URL (%s); expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
                         % (source, display, scrub(str(exc), secrets))) from None
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise StoreError("%s %s: the PostgreSQL URL names no database; expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
                         % (source, display))
    args: dict[str, Any] = {"dbname": dbname}
    if parts.hostname:
        args["host"] = unquote(parts.hostname)
    if port is not None:
        args["port"] = port
    if parts.username:
        args["user"] = unquote(parts.username)
    if parts.password is not None:
        args["password"] = unquote(parts.password)
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        args[name] = value
    args.setdefault("connect_timeout", POSTGRESQL_CONNECT_TIMEOUT_SECONDS)
    args.setdefault("application_name", "imagicle.proactive")
    if args.get("password"):
        secrets = tuple(sorted(set(secrets) | {str(args["password"])}, key=len, reverse=True))
    return StoreLocation("postgresql", display, connect_args=args, secrets=secrets)


# --- opening -------------------------------------------------------------------------------------

def _sqlite_wal(conn: sqlite3.Connection) -> str:
    """Switch to the WAL journal; a new file opened by several processes at once answers "database
    is locked" without waiting for the busy timeout, so retry until that timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() == "wal":
                return mode
            return conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def connect_sqlite(location: StoreLocation, source: str) -> Any:
    path = location.path
    directory = os.path.dirname(path)
    what = "%s %s" % (source, location.display)
    if os.path.isdir(path):
        raise StoreError("%s: %s is a directory; give the path of a file (e.g. %s/state.sqlite)" % (what, path, path))
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700, exist_ok=True)
        if not os.path.exists(path):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError as exc:
        raise StoreError("%s: cannot create the SQLite file %s: %s; choose a writable path (inventory/role variable "
                         "or the store URL) or fix the permissions of %s" % (what, path, exc.strerror or exc, directory)) from None
    try:
        conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError("%s: cannot open the SQLite file %s: %s; check that it is a writable file" % (what, path, exc)) from None
    try:
        conn.execute("PRAGMA busy_timeout = %d" % int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000))
        mode = _sqlite_wal(conn)
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError("the file system does not support the WAL journal (journal_mode is %s)" % mode)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError("%s: cannot use %s as a SQLite state store: %s; check that it is a SQLite file on a local, "
                         "writable file system" % (what, path, exc)) from None
    return conn


def connect_postgresql(location: StoreLocation, source: str) -> Any:
    what = "%s %s" % (source, location.display)
    if psycopg2 is None:
        raise StoreError("%s: a PostgreSQL state store needs the Python package psycopg2 on the controller (in AWX: in "
                         "the execution environment); install psycopg2-binary with pip or python3-psycopg2 with apt" % what)
    try:
        conn = psycopg2.connect(**location.connect_args)
    except psycopg2.Error as exc:
        detail = scrub(str(exc).strip(), location.secrets)
        raise StoreError("%s: cannot connect to PostgreSQL: %s; check the host, port, database, user and password "
                         "of the store URL and that the server accepts connections from this controller"
                         % (what, detail)) from None
    try:
        conn.autocommit = False
        with conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
        conn.commit()
    except psycopg2.Error as exc:
        conn.close()
        raise StoreError("%s: cannot prepare the PostgreSQL session: %s" % (what, scrub(str(exc).strip(), location.secrets))) from None
    return conn
