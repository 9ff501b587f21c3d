# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A throwaway PostgreSQL cluster for the state store tests (127.0.0.1 only).

``initdb`` and ``pg_ctl`` from /usr/lib/postgresql/*/bin, run as user postgres when the tests run
as root, in a temporary directory, on a free loopback port, with scram-sha-256 password
authentication and ``fsync=off``.  It is stopped with ``pg_ctl stop`` when the fixture ends and,
because ``ansible-test units`` runs each test in a forked child that leaves with ``os._exit()``
(no fixture teardown), also by a watchdog process as soon as the process that started it ends
(the ``Watchdog`` of the collector fixtures).

Import the fixture explicitly in a test module::

    from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils._pgcluster import pg_server

``store_url`` (import it with ``pg_server``) runs a test on both engines: a SQLite file, then a new
database of the cluster.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid

import pytest

from ansible_collections.imagicle.proactive.tests.unit.plugins.module_utils.collectors._netfixtures import (
    Watchdog,
    free_port,
)

try:
    import psycopg2
except ImportError:
    psycopg2 = None

__all__ = ["PgCluster", "pg_server", "PG_SUPERUSER_PASSWORD"]

PG_SUPERUSER_PASSWORD = "St0re-pg-Secret!"


def pg_bindir() -> str | None:
    """The newest PostgreSQL server bin directory (with initdb), or None."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(candidate, "initdb")):
            return candidate
    found = shutil.which("initdb")
    return os.path.dirname(found) if found else None


class PgCluster:
    """One running cluster; ``url(db)`` gives a store URL, ``create_database()`` a fresh database."""

    def __init__(self, bindir: str):
        self.bindir = bindir
        self.host = "127.0.0.1"
        self.port = free_port()
        self.user = "postgres"
        self.password = PG_SUPERUSER_PASSWORD
        self._prefix: list[str] = []
        owner = None
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            self._prefix = ["runuser", "-u", "postgres", "--"]
        self.base = tempfile.mkdtemp(prefix="proactive-store-pg-")
        os.chmod(self.base, 0o755)
        if owner is not None:
            os.chown(self.base, owner.pw_uid, owner.pw_gid)
        self.data = os.path.join(self.base, "data")
        self._pg_ctl = os.path.join(bindir, "pg_ctl")
        self._watchdog = Watchdog([self._prefix + [self._pg_ctl, "-D", self.data, "-m", "immediate", "-w", "stop"]],
                                  [self.base])
        pwfile = os.path.join(self.base, "pw")
        with open(pwfile, "w") as handle:
            handle.write(self.password + "\n")
        if owner is not None:
            os.chown(pwfile, owner.pw_uid, -1)
        self._run(os.path.join(bindir, "initdb"), "-D", self.data, "-U", self.user, "-A", "scram-sha-256",
                  "--pwfile", pwfile, "--no-sync")
        os.unlink(pwfile)
        self._run(self._pg_ctl, "-D", self.data, "-l", os.path.join(self.base, "log"), "-w", "-o",
                  "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50" % (self.port, self.base),
                  "start")

    def _run(self, *args: str) -> None:
        proc = subprocess.run(self._prefix + list(args), cwd=self.base, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              check=False)
        if proc.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (os.path.basename(args[0]), proc.returncode,
                                                       proc.stdout.decode("utf-8", "replace")))

    def url(self, dbname: str = "postgres", password: str | None = None) -> str:
        secret = self.password if password is None else password
        return "postgresql://%s:%s@%s:%d/%s" % (self.user, secret, self.host, self.port, dbname)

    def connect(self, dbname: str = "postgres"):
        conn = psycopg2.connect(host=self.host, port=self.port, user=self.user, password=self.password, dbname=dbname)
        conn.autocommit = True
        return conn

    def create_database(self) -> str:
        name = "store_" + uuid.uuid4().hex[:12]
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE DATABASE %s" % name)
        finally:
            conn.close()
        return name

    def stop(self) -> None:
        try:
            self._run(self._pg_ctl, "-D", self.data, "-m", "fast", "-w", "stop")
        finally:
            self._watchdog.release()


@pytest.fixture(scope="session")
def pg_server():
    """A running PgCluster for the session (skips when PostgreSQL or psycopg2 is missing)."""
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed (apt-get install postgresql)")
    if psycopg2 is None:
        pytest.skip("psycopg2 is not installed (pip install psycopg2-binary)")
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as user postgres")
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("no postgres user to run PostgreSQL as")
    cluster = PgCluster(bindir)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """The URL of a new state store: a SQLite file, then a new PostgreSQL database of ``pg_server``."""
    if request.param == "sqlite":
        return str(tmp_path / "state.sqlite")
    cluster = request.getfixturevalue("pg_server")
    return cluster.url(cluster.create_database())
