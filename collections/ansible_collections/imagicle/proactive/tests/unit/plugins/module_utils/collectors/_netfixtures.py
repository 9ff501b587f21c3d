# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real network and database fixtures for the collector tests (loopback only).

Import them explicitly in a test module::

    from ansible_collections.imagicle.proactive.tests.unit.plugins.module_utils.collectors._netfixtures import *

- ``tls_files``: a CA, a server certificate for 127.0.0.1 valid ``SERVER_CERT_DAYS`` days and an
  unrelated CA, made with the ``openssl`` command line.
- ``web`` / ``web_tls``: a ThreadingHTTPServer on 127.0.0.1 (plain / HTTPS) serving ``routes``.
- ``closed_port``: a loopback port where nothing listens.
- ``connect_proxy``: a tiny HTTP CONNECT proxy that only tunnels to 127.0.0.1.
- ``pg_cluster``: a throwaway PostgreSQL cluster (initdb/pg_ctl) with password authentication.
"""

from __future__ import annotations

import base64
import glob
import http.server
import json
import os
import pwd
import select
import shutil
import socket
import socketserver
import ssl
import subprocess
import tempfile
import threading
import sys
import time

import pytest

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import CollectContext, HostState

__all__ = [
    "SERVER_CERT_DAYS", "Route", "WebServer", "make_ctx", "tls_files", "web", "web_tls", "closed_port",
    "connect_proxy", "pg_cluster", "free_port",
]

SERVER_CERT_DAYS = 42
SERVER_CN = "ias-test"


def make_ctx(tmp_path, timeout=5.0) -> CollectContext:
    """A real CollectContext with its state under ``tmp_path``."""
    return CollectContext(HostState(str(tmp_path / "state")), timeout=timeout)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Cleanup that survives the test process: ``ansible-test units`` runs each test in a forked child
# that leaves with os._exit(), so session fixtures set up there are never torn down. A small
# watchdog holds the read end of a pipe; when the owning process is gone (however it ended) the
# pipe closes and the watchdog runs the stop commands and removes the directories.
_WATCHDOG = """
import json, shutil, subprocess, sys
spec = json.loads(sys.argv[1])
sys.stdin.buffer.read()
for command in spec["commands"]:
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for path in spec["paths"]:
    shutil.rmtree(path, ignore_errors=True)
"""


class Watchdog:
    """Runs ``commands`` then removes ``paths`` when :meth:`release` is called or this process dies."""

    def __init__(self, commands, paths):
        read_end, self._write_end = os.pipe()
        spec = json.dumps({"commands": commands, "paths": paths})
        self._proc = subprocess.Popen([sys.executable, "-c", _WATCHDOG, spec], stdin=read_end,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True)
        os.close(read_end)

    def release(self, wait=30):
        """Clean up now and wait for it."""
        if self._write_end is not None:
            os.close(self._write_end)
            self._write_end = None
        self._proc.wait(wait)


# --- TLS material ------------------------------------------------------------------------------

def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def _make_ca(directory: str, name: str, cn: str):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", name + ".key", "-out", name + ".pem", "-days", "3650", "-subj", "/CN=" + cn,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-addext", "subjectKeyIdentifier=hash", cwd=directory)


class TlsFiles:
    def __init__(self, directory: str):
        self.dir = directory
        self.ca = os.path.join(directory, "ca.pem")
        self.other_ca = os.path.join(directory, "other-ca.pem")
        self.cert = os.path.join(directory, "server.pem")
        self.key = os.path.join(directory, "server.key")
        self.days = SERVER_CERT_DAYS
        self.cn = SERVER_CN

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def tls_files():
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    directory = tempfile.mkdtemp(prefix="proactive-tls-")
    watchdog = Watchdog([], [directory])
    _make_ca(directory, "ca", "Proactive Test CA")
    _make_ca(directory, "other-ca", "Unrelated CA")
    with open(os.path.join(directory, "server.ext"), "w") as handle:
        handle.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                     "basicConstraints=critical,CA:FALSE\n"
                     "keyUsage=critical,digitalSignature,keyEncipherment\n"
                     "extendedKeyUsage=serverAuth\n"
                     "authorityKeyIdentifier=keyid,issuer\n")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=" + SERVER_CN, cwd=directory)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", str(SERVER_CERT_DAYS), "-extfile", "server.ext", cwd=directory)
    yield TlsFiles(directory)
    watchdog.release()


# --- HTTP server -------------------------------------------------------------------------------

class Route:
    """What the test server answers on one path."""

    def __init__(self, body=b"", status=200, content_type="application/json", headers=None, delay=0.0, auth=None):
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.status = status
        self.content_type = content_type
        self.headers = headers or {}
        self.delay = delay
        self.auth = auth  # (user, password) required via HTTP Basic


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # keep the test output clean
        pass

    def date_time_string(self, timestamp=None):
        return super().date_time_string(time.time() + self.server.clock_offset)

    def do_GET(self):
        server = self.server
        server.requests.append({"path": self.path, "headers": dict(self.headers)})
        route = server.routes.get(self.path.split("?", 1)[0])
        if route is None:
            route = Route(b"<html><body>Not Found</body></html>", status=404, content_type="text/html")
        if route.delay:
            server.stopping.wait(route.delay)
        if route.auth is not None:
            token = "Basic " + base64.b64encode(("%s:%s" % route.auth).encode()).decode()
            if self.headers.get("Authorization") != token:
                route = Route(b"Unauthorized", status=401, content_type="text/plain",
                              headers={"WWW-Authenticate": 'Basic realm="fw"'})
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(route.body)))
        for key, value in route.headers.items():
            self.send_header(key, value)
        self.end_headers()
        try:
            self.wfile.write(route.body)
        except OSError:
            pass


class WebServer(http.server.ThreadingHTTPServer):
    """A real HTTP(S) server on 127.0.0.1 and an ephemeral port; ``routes`` maps paths to Route."""

    daemon_threads = True

    def __init__(self, tls_context=None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes = {}
        self.requests = []
        self.clock_offset = 0.0
        self.stopping = threading.Event()
        self.scheme = "http"
        if tls_context is not None:
            self.socket = tls_context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.scheme == "https":
            sock.settimeout(5)
            try:
                sock.do_handshake()
            except (OSError, ssl.SSLError):
                sock.close()
                raise OSError("TLS handshake failed")
            sock.settimeout(None)
        return sock, addr

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path="/") -> str:
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

    def stop(self):
        self.stopping.set()
        self.shutdown()
        self.server_close()


@pytest.fixture
def web():
    server = WebServer()
    yield server
    server.stop()


@pytest.fixture
def web_tls(tls_files):
    server = WebServer(tls_files.server_context())
    yield server
    server.stop()


@pytest.fixture
def closed_port():
    return free_port()


# --- CONNECT proxy -----------------------------------------------------------------------------

class _ProxyHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return
            data += chunk
        line = data.split(b"\r\n", 1)[0].decode("latin-1")
        method, target = (line.split() + ["", ""])[:2]
        host, _sep, port = target.rpartition(":")
        self.server.tunnels.append(target)
        if method != "CONNECT" or host != "127.0.0.1":
            sock.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        try:
            upstream = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            sock.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        with upstream:
            peers = {sock: upstream, upstream: sock}
            while True:
                readable, _w, _x = select.select(list(peers), [], [], 5)
                if not readable:
                    return
                for src in readable:
                    chunk = src.recv(65536)
                    if not chunk:
                        return
                    peers[src].sendall(chunk)


class ConnectProxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.tunnels = []
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.server_address[1]

    def stop(self):
        self.shutdown()
        self.server_close()


@pytest.fixture
def connect_proxy():
    proxy = ConnectProxy()
    yield proxy
    proxy.stop()


# --- PostgreSQL --------------------------------------------------------------------------------

PG_PASSWORD = "Pg-t3st-secret"


def _pg_bindir():
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(candidate, "initdb")):
            return candidate
    found = shutil.which("initdb")
    return os.path.dirname(found) if found else None


@pytest.fixture(scope="session")
def pg_cluster():
    """A PostgreSQL cluster on 127.0.0.1 with scram-sha-256 auth; stopped with pg_ctl stop at the end."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    prefix = []
    owner = None
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as user postgres")
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("no postgres user to run PostgreSQL as")
        prefix = ["runuser", "-u", "postgres", "--"]
    base = tempfile.mkdtemp(prefix="proactive-pg-")
    os.chmod(base, 0o755)
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data = os.path.join(base, "data")
    pwfile = os.path.join(base, "pw")
    with open(pwfile, "w") as handle:
        handle.write(PG_PASSWORD + "\n")
    if owner is not None:
        os.chown(pwfile, owner.pw_uid, -1)

    def run(*args):
        return subprocess.run(prefix + list(args), cwd=base, check=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)

    port = free_port()
    pg_ctl = os.path.join(bindir, "pg_ctl")
    watchdog = Watchdog([prefix + [pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"]], [base])
    run(os.path.join(bindir, "initdb"), "-D", data, "-U", "postgres", "-A", "scram-sha-256",
        "--pwfile", pwfile, "--no-sync")
    run(pg_ctl, "-D", data, "-l", os.path.join(base, "log"), "-w", "-o",
        "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off" % (port, base), "start")
    try:
        yield {"host": "127.0.0.1", "port": port, "user": "postgres", "password": PG_PASSWORD,
               "bindir": bindir, "socket_dir": base}
    finally:
        try:
            run(pg_ctl, "-D", data, "-m", "fast", "-w", "stop")
        finally:
            watchdog.release()
