#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A simulated Imagicle ApplicationSuite for the test bed (standard library only).

A stand-in: every process name, path and port here is a default of this project, not a fact
about the real product (whose internals are not public). See README.md next to this file.

Modules that only the command line or a fault needs (argparse, sqlite3, subprocess, random,
uuid, ...) are imported where they are used: the long-running processes stay small.
"""
from __future__ import annotations

import datetime
import hmac
import json
import os
import select
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse
    import subprocess

APPS = {"voip": "ias-voip", "recorder": "ias-recorder", "qme": "ias-qme", "ivr": "ias-ivr",
        "analytics": "ias-analytics", "web": "ias-web"}
WEB = "ias-web"
SUPERVISOR = "ias-sim"  # the supervisor of the full mode; the one process of the light mode
# Faults that act on a separate application process: refused in light mode.
PROCESS_FAULTS = ("crash-voip", "crash-app", "restart-app")
CRASHABLE = ("recorder", "qme", "ivr", "analytics")
CAPACITY_APPS = ("call_recording", "advanced_queuing", "ivr")
SEVERITIES = ("INFO", "WARNING", "ERROR", "CRITICAL")
FAULTS = ("crash-voip", "crash-app", "restart-app", "fill-disk", "grow-db", "occupy",
          "break-replication", "clock-skew", "portal-fail", "portal-slow", "cut-cloud",
          "emit-event", "rotate-log")
API = {"/fw/Apps/Recorder/WebAPI/LiveRecordings": "call_recording",
       "/fw/Apps/QME/WebAPI/RealTimeStatistics": "advanced_queuing",
       "/fw/Apps/IVR/WebAPI/ActiveCalls": "ivr"}
FILLER = ".fill-disk.bin"
FILL_LIMIT = 2 * 1024 ** 3  # fill-disk refuses to write more without --force (protects real disks)
FIRST = ("Giulia", "Marco", "Anna", "Luca", "Sara", "Paolo", "Elena", "Davide", "Chiara", "Matteo")
LAST = ("Rossi", "Bianchi", "Colombo", "Ferrari", "Esposito", "Romano", "Ricci", "Marino", "Greco")


class SimError(Exception):
    """An expected failure; the message says what is wrong and what to do."""


# ---------------------------------------------------------------- small helpers
def p(root: str, *parts: str) -> str:
    """A path under the simulator root."""
    return os.path.join(root, *parts)


def now_iso(offset: float = 0.0) -> str:
    """The current UTC time (plus offset seconds) as 2026-11-26T05:40:00Z."""
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def read_json(path: str, default=None):
    """Load a JSON file; default when it does not exist."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise SimError(f"cannot read {path}: {exc}; fix or delete the file") from exc


def write_json(path: str, data, mode: int = 0o644) -> None:
    """Write JSON atomically (temporary file + rename)."""
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise SimError(f"cannot write {path}: {exc}") from exc


def log_event(root: str, severity: str, source: str, text: str) -> None:
    """Append one `<ISO UTC> <SEVERITY> <source>: <text>` line to logs/events.log."""
    line = f"{now_iso()} {severity} {source}: {text}\n".encode("utf-8")
    fd = os.open(p(root, "logs", "events.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def set_proc_name(name: str) -> None:
    """Set the Linux process name (comm) of this process."""
    try:
        with open("/proc/self/comm", "w", encoding="ascii") as fh:
            fh.write(name[:15])
    except OSError:
        pass


def alive(pid, name: str) -> bool:
    """True when pid is a live (non-zombie) process whose comm is name."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return False
    comm, state = stat[stat.find("(") + 1:stat.rfind(")")], stat[stat.rfind(")") + 2:][:1]
    return comm == name[:15] and state not in ("Z", "X")


def read_pid(root: str, name: str):
    """The pid recorded in run/<name>.pid if that process is alive, else None."""
    comm = SUPERVISOR if name == "supervisor" else name
    try:
        with open(p(root, "run", f"{name}.pid"), encoding="ascii") as fh:
            pid = int(fh.read().strip() or 0)
    except (OSError, ValueError):
        return None
    return pid if alive(pid, comm) else None


def write_pid(root: str, name: str, pid) -> None:
    """Record (or with pid None, forget) the pid of a simulator process."""
    path = p(root, "run", f"{name}.pid")
    if pid is None:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        return
    with open(path, "w", encoding="ascii") as fh:
        fh.write(f"{pid}\n")


def load_cfg(root: str) -> dict:
    """sim.json, or a clear error when the root was never started."""
    cfg = read_json(p(root, "sim.json"))
    if not cfg:
        raise SimError(f"no simulated Suite under {root} (no sim.json): run `start --root {root}` first")
    return cfg


def load_faults(root: str, safe: bool = False) -> dict:
    """faults.json; with safe=True a broken file counts as no faults."""
    try:
        return read_json(p(root, "faults.json"), {}) or {}
    except SimError:
        if safe:
            return {}
        raise


def held_down(faults: dict) -> set:
    """Process names that crash faults keep down."""
    held = {APPS[app] for app in faults.get("crash-app", {})}
    if "crash-voip" in faults:
        held.add(APPS["voip"])
    return held


def wait_for(check, timeout: float, what: str) -> None:
    """Poll check() until true; SimError naming what did not happen."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SimError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def port_open(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def run_cmd(cmd: list) -> None:
    """Run a helper program; SimError with its stderr on failure."""
    import subprocess  # pylint: disable=import-outside-toplevel
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise SimError(f"{cmd[0]} not found: install it (Debian package {cmd[0]})") from exc
    if done.returncode:
        raise SimError(f"`{' '.join(cmd[:3])} ...` failed: {done.stderr.strip()}")


# ---------------------------------------------------------------- layout
def parse_licensed(text: str) -> dict:
    """call_recording=8,advanced_queuing=10,ivr=4 -> dict (unnamed apps keep their defaults)."""
    import argparse  # pylint: disable=import-outside-toplevel
    licensed = {"call_recording": 8, "advanced_queuing": 10, "ivr": 4}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        if name not in CAPACITY_APPS or not value.isdigit():
            raise argparse.ArgumentTypeError(
                f"bad licence item {item!r}: use APP=N with APP one of {', '.join(CAPACITY_APPS)}")
        licensed[name] = int(value)
    return licensed


def make_certs(root: str, host: str, days: int, san_ips: tuple = ()) -> None:
    """A CA (tls/ca.pem) and a server certificate signed by it (tls/server.pem + server.key)."""
    import secrets  # pylint: disable=import-outside-toplevel
    tls = p(root, "tls")
    ext = p(tls, "server.ext")
    with open(ext, "w", encoding="ascii") as fh:
        extra = "".join(f",IP:{ip}" for ip in san_ips)
        fh.write(f"subjectAltName=IP:127.0.0.1{extra},DNS:{host},DNS:localhost\nbasicConstraints=CA:FALSE\n"
                 "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
                 "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n")
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    # A CA put in place beforehand (tls/ca.pem + tls/ca.key, e.g. one CA for every host of a
    # test bed, so that hosts verify each other) is used as it is.
    if not (os.path.exists(p(tls, "ca.pem")) and os.path.exists(p(tls, "ca.key"))):
        run_cmd(["openssl", "req", "-x509", *key, "-keyout", p(tls, "ca.key"), "-out", p(tls, "ca.pem"),
                 "-days", str(max(days, 3650)), "-subj", "/CN=AppSuite Simulator CA",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    run_cmd(["openssl", "req", *key, "-keyout", p(tls, "server.key"), "-out", p(tls, "server.csr"),
             "-subj", f"/CN={host}"])
    run_cmd(["openssl", "x509", "-req", "-in", p(tls, "server.csr"), "-CA", p(tls, "ca.pem"),
             "-CAkey", p(tls, "ca.key"), "-set_serial", str(secrets.randbits(62)),
             "-out", p(tls, "server.pem"), "-days", str(days), "-extfile", ext])
    for name in ("ca.key", "server.key"):
        os.chmod(p(tls, name), 0o600)


def make_db(root: str) -> None:
    """db/appsuite.sqlite with a recordings table of about 100 KB and an empty filler table."""
    import random  # pylint: disable=import-outside-toplevel
    import sqlite3  # pylint: disable=import-outside-toplevel
    import uuid  # pylint: disable=import-outside-toplevel
    con = sqlite3.connect(p(root, "db", "appsuite.sqlite"))
    try:
        with con:
            con.execute("CREATE TABLE IF NOT EXISTS recordings (id INTEGER PRIMARY KEY, started_at TEXT,"
                        " local_user TEXT, remote_number TEXT, duration_s INTEGER, path TEXT)")
            con.execute("CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, data BLOB)")
            if not con.execute("SELECT COUNT(*) FROM recordings").fetchone()[0]:
                rng = random.Random(7)
                rows = [(now_iso(-3600 * i), f"user{rng.randint(1, 40):02d}",
                         f"+39 02 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}", rng.randint(5, 900),
                         f"Recordings/2026/{i % 12 + 1:02d}/{uuid.UUID(int=rng.getrandbits(128))}.wav")
                        for i in range(900)]
                con.executemany("INSERT INTO recordings (started_at, local_user, remote_number, duration_s,"
                                " path) VALUES (?, ?, ?, ?, ?)", rows)
    finally:
        con.close()


def write_replication(root: str, cfg: dict, faults: dict) -> None:
    """ha/replication.json from the peer and the break-replication fault (no peer: no file)."""
    path = p(root, "ha", "replication.json")
    if not cfg.get("peer"):
        if os.path.exists(path):
            os.remove(path)
        return
    broken = faults.get("break-replication")
    write_json(path, {"state": "failure" if broken else "sync_ready",
                      "reason": broken["reason"] if broken else None,
                      "peer": cfg["peer"], "updated_at": now_iso()})


def prepare(root: str, args) -> dict:
    """Create or refresh the layout under root; returns the configuration (sim.json)."""
    import secrets  # pylint: disable=import-outside-toplevel
    for sub in ("db", "logs", "tls", "ha", "run"):
        os.makedirs(p(root, sub), exist_ok=True)
    old = read_json(p(root, "sim.json"), {}) or {}
    cfg = {"hostname": socket.gethostname(), "https_port": args.https_port, "cloud_port": args.cloud_port,
           "release": args.release, "db_limit_mb": args.db_limit_mb,
           "db_limit_bytes": int(args.db_limit_mb * 1024 * 1024), "peer": args.peer,
           "cert_days": args.cert_days, "webapi_user": args.webapi_user, "licensed": args.licensed,
           "heartbeat_seconds": args.heartbeat, "san_ips": list(args.san_ip or []),
           "mode": "light" if args.light else "full"}
    tls_files = [p(root, "tls", name) for name in ("ca.pem", "server.pem", "server.key")]
    if (not all(map(os.path.exists, tls_files)) or old.get("hostname") != cfg["hostname"]
            or old.get("cert_days") != cfg["cert_days"] or old.get("san_ips") != cfg["san_ips"]):
        make_certs(root, cfg["hostname"], cfg["cert_days"], tuple(cfg["san_ips"]))
    write_json(p(root, "sim.json"), cfg)
    creds = read_json(p(root, "webapi.json"), {}) or {}
    password = creds.get("password") or secrets.token_urlsafe(18)
    if args.webapi_password_file:
        with open(args.webapi_password_file, encoding="utf-8") as fh:
            password = fh.read().strip() or password
    write_json(p(root, "webapi.json"), {"username": args.webapi_user, "password": password}, 0o600)
    with open(p(root, "release.txt"), "w", encoding="utf-8") as fh:
        fh.write(args.release + "\n")
    make_db(root)
    write_replication(root, cfg, load_faults(root))
    log_event(root, "INFO", SUPERVISOR, f"ApplicationSuite {args.release} starting on {cfg['hostname']}")
    return cfg


# ---------------------------------------------------------------- application processes
def app_main(root: str, name: str) -> int:
    """One simulated application: a mostly sleeping loop with a heartbeat in the event log."""
    set_proc_name(name)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    cfg, ppid = load_cfg(root), os.getppid()
    log_event(root, "INFO", name, f"service started (pid {os.getpid()})")
    if name == WEB:
        return web_main(root, cfg, ppid)
    interval = float(cfg.get("heartbeat_seconds") or 20)
    next_beat = time.monotonic() + interval
    while os.getppid() == ppid:  # the supervisor is gone: leave with it
        time.sleep(min(1.0, max(0.05, next_beat - time.monotonic())))
        if time.monotonic() >= next_beat:
            next_beat += interval
            try:
                log_event(root, "INFO", name, "service running normally")
            except OSError as exc:
                print(f"{name}: cannot write the event log: {exc}", file=sys.stderr, flush=True)
    return 0


def iso_duration(seconds: int) -> str:
    """65 -> PT1M5S."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"


def fake_person(i: int) -> dict:
    """A made-up caller with a realistic-looking Italian phone number (stable per index)."""
    import random  # pylint: disable=import-outside-toplevel
    rng = random.Random(1000 + i)
    return {"firstName": FIRST[i % len(FIRST)], "lastName": LAST[(3 * i + 1) % len(LAST)],
            "phoneNumber": f"+39 0{rng.choice((2, 6, 11, 51))} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"}


def api_payload(kind: str, busy: int, since: float, licensed: int):
    """The JSON body of one Web API endpoint with `busy` channels in use."""
    import random  # pylint: disable=import-outside-toplevel
    import uuid  # pylint: disable=import-outside-toplevel
    now = time.time()
    started = [since - 30 * i for i in range(busy)]
    stamp = [datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
             for t in started]
    if kind == "call_recording":
        return [{"id": str(uuid.UUID(int=random.Random(i).getrandbits(128), version=4)),
                 "duration": iso_duration(max(1, now - started[i])), "startedAt": stamp[i],
                 "localParty": {"username": f"user{i + 1:02d}"}, "remoteParty": fake_person(i),
                 "isPaused": i % 4 == 3} for i in range(busy)]
    if kind == "ivr":
        return [{"id": str(uuid.UUID(int=random.Random(500 + i).getrandbits(128), version=4)),
                 "callerNumber": fake_person(i + 50)["phoneNumber"], "calledNumber": "+39 02 8000 1000",
                 "applicationName": "Main menu", "startedAt": stamp[i]} for i in range(busy)]
    agents = [{"username": f"agent{i + 1:02d}", "status": "busy" if i < busy else "available"}
              for i in range(max(3, busy))]
    return {"isOpen": True, "callsBeingServed": busy, "availableChannels": max(0, licensed - busy),
            "agents": agents, "waitingCalls": []}


class JsonHandler(BaseHTTPRequestHandler):
    """Shared reply helpers; no access log."""

    def log_message(self, *args) -> None:
        pass

    def reply(self, status: int, body: bytes, ctype: str, headers=None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def reply_json(self, status: int, data, headers=None) -> None:
        self.reply(status, json.dumps(data).encode(), "application/json; charset=utf-8", headers)


class WebHandler(JsonHandler):
    """The portal page and the three Web API endpoints (ias-web)."""

    root = "/srv/appsuite"
    cfg: dict = {}
    skew = 0.0
    timeout = 30

    def version_string(self) -> str:
        return "ias-web"

    def date_time_string(self, timestamp=None) -> str:
        import email.utils  # pylint: disable=import-outside-toplevel
        return email.utils.formatdate((timestamp or time.time()) + self.skew, usegmt=True)

    def authorized(self) -> bool:
        import base64  # pylint: disable=import-outside-toplevel
        creds = read_json(p(self.root, "webapi.json"), {}) or {}
        expected = f"{creds.get('username', '')}:{creds.get('password', '')}".encode()
        given = self.headers.get("Authorization", "")
        if not given.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(given[6:].strip(), validate=True)
        except ValueError:
            return False
        return bool(creds.get("password")) and hmac.compare_digest(decoded, expected)

    def do_GET(self) -> None:
        faults = load_faults(self.root, safe=True)
        self.skew = float(faults.get("clock-skew", {}).get("seconds", 0))
        route = self.path.split("?", 1)[0]
        if route == "/":
            if "portal-slow" in faults:
                time.sleep(float(faults["portal-slow"]["seconds"]))
            if "portal-fail" in faults:
                self.reply(500, b"<html><body><h1>500 Internal Server Error</h1></body></html>",
                           "text/html; charset=utf-8")
                return
            page = (f"<!DOCTYPE html><html><head><title>Imagicle ApplicationSuite</title></head><body>"
                    f"<h1>Imagicle ApplicationSuite (simulated)</h1><p>{self.cfg.get('hostname')} &middot; "
                    f"release {self.cfg.get('release')}</p></body></html>")
            self.reply(200, page.encode(), "text/html; charset=utf-8")
        elif route in API:
            if not self.authorized():
                self.reply_json(401, {"message": "Authorization has been denied for this request."},
                                {"WWW-Authenticate": 'Basic realm="Imagicle ApplicationSuite"'})
                return
            app = API[route]
            occupied = faults.get("occupy", {}).get(app, {})
            self.reply_json(200, api_payload(app, int(occupied.get("channels", 0)),
                                             float(occupied.get("since", time.time())),
                                             int(self.cfg.get("licensed", {}).get(app, 0))))
        else:
            self.reply_json(404, {"message": f"No resource matches {route}"})

    do_HEAD = do_GET


class TLSServer(ThreadingHTTPServer):
    """A threading HTTP server doing the TLS handshake in the request thread.

    One short-lived daemon thread per connection, not kept once it is done.
    """

    daemon_threads = True
    context = None

    def finish_request(self, request, client_address) -> None:
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except OSError:  # ssl.SSLError is an OSError
            request.close()
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


def web_server(root: str, cfg: dict) -> TLSServer:
    """The HTTPS server of ias-web on 0.0.0.0:https_port, with the certificate from tls/."""
    import ssl  # pylint: disable=import-outside-toplevel
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(p(root, "tls", "server.pem"), p(root, "tls", "server.key"))
    WebHandler.root, WebHandler.cfg = root, cfg
    TLSServer.context = context
    return TLSServer(("0.0.0.0", int(cfg["https_port"])), WebHandler)


def web_main(root: str, cfg: dict, ppid: int) -> int:
    """ias-web: the HTTPS server, leaving when the supervisor is gone."""
    server = web_server(root, cfg)

    def orphan_watch() -> None:
        while os.getppid() == ppid:
            time.sleep(1)
        os._exit(0)
    threading.Thread(target=orphan_watch, daemon=True).start()
    server.serve_forever()
    return 0


class CloudHandler(JsonHandler):
    """The cloud connection test stand-in: GET /test."""

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/test":
            self.reply_json(200, {"message": "successfully connected!"})
        else:
            self.reply_json(404, {"message": "Not Found"})


# ---------------------------------------------------------------- supervisor
def sync_cloud(cloud, port: int, cut: bool, state: dict):
    """Start or stop the cloud stand-in so that it matches the cut-cloud fault."""
    if cut and cloud is not None:
        cloud.shutdown()
        cloud.server_close()
        return None
    if not cut and cloud is None:
        try:
            cloud = ThreadingHTTPServer(("127.0.0.1", port), CloudHandler)
        except OSError as exc:
            if state.get("cloud_error") != str(exc):
                state["cloud_error"] = str(exc)
                print(f"cloud stand-in: cannot listen on 127.0.0.1:{port}: {exc}", flush=True)
            return None
        cloud.daemon_threads = True
        threading.Thread(target=cloud.serve_forever, daemon=True).start()
    return cloud


def named_env() -> dict:
    """The environment for running this Python under a made-up argv[0].

    With a made-up argv[0] Python cannot locate its standard library: PYTHONHOME tells it.
    """
    home = sys.base_prefix if sys.base_prefix == sys.base_exec_prefix \
        else f"{sys.base_prefix}:{sys.base_exec_prefix}"
    return dict(os.environ, PYTHONHOME=home)


def spawn(root: str, name: str) -> subprocess.Popen:
    """Start one application process; argv[0] (and so the cmdline) is its name."""
    import subprocess  # pylint: disable=import-outside-toplevel
    return subprocess.Popen([name, os.path.abspath(__file__), "app", name, "--root", root],
                            executable=sys.executable, stdin=subprocess.DEVNULL, env=named_env())


def stop_child(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Signal a child and wait for it (SIGKILL after 3 s)."""
    import subprocess  # pylint: disable=import-outside-toplevel
    try:
        proc.send_signal(sig)
        proc.wait(3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def supervise(root: str) -> None:
    """Keep one process per app running, honour the faults, stop everything on SIGTERM.

    In light mode (sim.json "mode": "light") nothing is spawned: this one process serves the
    HTTPS portal and Web API itself (the same server as ias-web) and writes the heartbeats of
    every app, besides the cloud stand-in it serves in both modes.
    """
    set_proc_name(SUPERVISOR)
    cfg = load_cfg(root)
    light = cfg.get("mode") == "light"
    write_pid(root, "supervisor", os.getpid())
    flags = {"stop": False, "reload": True}
    signal.signal(signal.SIGTERM, lambda *_: flags.update(stop=True))
    signal.signal(signal.SIGINT, lambda *_: flags.update(stop=True))
    signal.signal(signal.SIGHUP, lambda *_: flags.update(reload=True))
    # A signal also writes a byte to this pipe: the loop's wait ends at once, not at the next tick.
    wake_r, wake_w = os.pipe()
    for fd in (wake_r, wake_w):
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wake_w)
    children, last_spawn, expected, restart, state = {}, {}, set(), set(), {}
    cloud, faults, next_reload, web, next_beat = None, {}, 0.0, None, 0.0
    tick = 1.0 if light else 0.2
    if light:
        web = web_server(root, cfg)
        threading.Thread(target=web.serve_forever, daemon=True).start()
        for name in APPS.values():
            log_event(root, "INFO", name, f"service started (pid {os.getpid()}, light mode)")
        interval = float(cfg.get("heartbeat_seconds") or 20)
        next_beat = time.monotonic() + interval
    print(f"{now_iso()} supervisor {os.getpid()} started for {root}{' (light mode)' if light else ''}", flush=True)
    while not flags["stop"]:
        if flags["reload"] or time.monotonic() >= next_reload:
            flags["reload"], next_reload = False, time.monotonic() + 1.0
            faults = load_faults(root, safe=True)
            for name in () if light else APPS.values():
                request = p(root, "run", f"{name}.restart")
                if os.path.exists(request):
                    os.remove(request)
                    restart.add(name)
        held = held_down(faults)
        cloud = sync_cloud(cloud, int(cfg["cloud_port"]), "cut-cloud" in faults, state)
        if light and time.monotonic() >= next_beat:
            next_beat += interval
            try:
                for name in APPS.values():
                    if name != WEB:
                        log_event(root, "INFO", name, "service running normally")
            except OSError as exc:
                print(f"cannot write the event log: {exc}", file=sys.stderr, flush=True)
        for name in () if light else APPS.values():
            proc = children.get(name)
            if proc is not None and proc.poll() is not None:
                children.pop(name)
                write_pid(root, name, None)
                if name not in expected:
                    code = proc.returncode
                    how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
                    log_event(root, "CRITICAL", name, f"process exited unexpectedly ({how}); restarting")
                expected.discard(name)
                proc = None
            if proc is not None and (name in held or name in restart):
                if name in held:
                    log_event(root, "CRITICAL", name, "process crashed; the service is down")
                stop_child(proc, signal.SIGKILL if name in held else signal.SIGTERM)
                children.pop(name)
                write_pid(root, name, None)
                last_spawn.pop(name, None)
                proc = None
            restart.discard(name)
            if proc is None and name not in held and time.monotonic() - last_spawn.get(name, -10.0) >= 1.0:
                children[name] = spawn(root, name)
                last_spawn[name] = time.monotonic()
                write_pid(root, name, children[name].pid)
        wait = min(tick, max(0.0, next_reload - time.monotonic()) + 0.01)
        if light:
            wait = min(wait, max(0.0, next_beat - time.monotonic()) + 0.01)
        if not flags["stop"] and not flags["reload"]:
            try:
                select.select([wake_r], [], [], wait)
            except InterruptedError:
                pass
        try:
            while os.read(wake_r, 64):
                pass
        except BlockingIOError:
            pass
    for proc in children.values():
        proc.terminate()
    for name, proc in children.items():
        stop_child(proc)
        write_pid(root, name, None)
    if web is not None:
        web.shutdown()
        web.server_close()
    if cloud is not None:
        sync_cloud(cloud, 0, True, state)
    write_pid(root, "supervisor", None)
    print(f"{now_iso()} supervisor {os.getpid()} stopped", flush=True)


def serve_main(root: str) -> int:
    """The process of the light mode (`serve`, started by `start --light`): the supervisor alone."""
    supervise(root)
    return 0


def daemonize(root: str, light: bool = False) -> None:
    """Double fork + setsid; the grandchild runs the supervisor with stdio on run/sim.log.

    In light mode the grandchild execs a fresh `ias-sim ... serve` (argv[0] ias-sim), which
    keeps none of the start command's memory.
    """
    pid = os.fork()
    if pid:
        os.waitpid(pid, 0)
        return
    os.setsid()
    if os.fork():
        os._exit(0)
    try:
        os.chdir("/")
        log = os.open(p(root, "run", "sim.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        if light:  # one malloc arena: the request threads do not each keep one of their own
            os.execve(sys.executable, [SUPERVISOR, os.path.abspath(__file__), "serve", "--root", root],
                      dict(named_env(), MALLOC_ARENA_MAX="1"))
        supervise(root)
    except BaseException:  # pylint: disable=broad-except
        import traceback  # pylint: disable=import-outside-toplevel
        traceback.print_exc()
        sys.stderr.flush()
    finally:
        os._exit(0)


def web_answers(port: int) -> bool:
    """True when our ias-web answers HTTPS on 127.0.0.1:port."""
    import http.client  # pylint: disable=import-outside-toplevel
    import ssl  # pylint: disable=import-outside-toplevel
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # without the system CAs: cheaper per poll
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=2, context=context)
    try:
        conn.request("GET", "/__sim__/ping")
        return conn.getresponse().getheader("Server", "").startswith("ias-web")
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def readiness_problems(root: str, cfg: dict) -> list:
    """What is not up yet (empty when the whole Suite answers)."""
    faults = load_faults(root, safe=True)
    problems = [] if read_pid(root, "supervisor") else ["the supervisor is not running"]
    if cfg.get("mode") != "light":
        problems += [f"{name} is not running" for name in APPS.values()
                     if name not in held_down(faults) and not read_pid(root, name)]
    if not web_answers(int(cfg["https_port"])):
        problems.append(f"no answer from ias-web on https://127.0.0.1:{cfg['https_port']}/")
    if "cut-cloud" not in faults and not port_open(int(cfg["cloud_port"])):
        problems.append(f"the cloud stand-in is not listening on 127.0.0.1:{cfg['cloud_port']}")
    return problems


# ---------------------------------------------------------------- commands
def cmd_start(args) -> int:
    root = args.root
    pid = read_pid(root, "supervisor")
    if pid:
        mode = (read_json(p(root, "sim.json"), {}) or {}).get("mode", "full")
        print(f"already running under {root} in {mode} mode (supervisor pid {pid}); nothing to do, "
              "options ignored")
        return 0
    if args.https_port == args.cloud_port:
        raise SimError("--https-port and --cloud-port must differ")
    os.makedirs(root, exist_ok=True)
    cfg = prepare(root, args)
    daemonize(root, light=args.light)
    deadline, problems = time.monotonic() + args.timeout, ["not checked"]
    while time.monotonic() < deadline:
        problems = readiness_problems(root, cfg)
        if not problems:
            print(f"started under {root}{' in light mode' if args.light else ''}: "
                  f"supervisor pid {read_pid(root, 'supervisor')}, "
                  f"https://127.0.0.1:{cfg['https_port']}/, cloud http://127.0.0.1:{cfg['cloud_port']}/test")
            return 0
        time.sleep(0.2)
    stop_all(root, quiet=True)
    raise SimError(f"the simulator did not come up within {args.timeout:.0f} s: {'; '.join(problems)}; "
                   f"see {p(root, 'run', 'sim.log')} (is a port already in use?)")


def stop_all(root: str, quiet: bool = False) -> None:
    """Stop the supervisor (SIGTERM, SIGKILL after 15 s) and any application left behind."""
    pid = read_pid(root, "supervisor")
    if pid:
        os.kill(pid, signal.SIGTERM)
        try:
            wait_for(lambda: not alive(pid, SUPERVISOR), 15, "the supervisor to stop")
        except SimError:
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        write_pid(root, "supervisor", None)
    for name in APPS.values():
        child = read_pid(root, name)
        if child:
            os.kill(child, signal.SIGKILL)
        write_pid(root, name, None)
    if not quiet:
        print(f"stopped (supervisor pid {pid})" if pid else f"not running under {root}; nothing to stop")


def cmd_status(args) -> int:
    root = args.root
    cfg = read_json(p(root, "sim.json"), {}) or {}
    sup = read_pid(root, "supervisor")
    light = cfg.get("mode") == "light"
    print(json.dumps({"root": root, "running": bool(sup), "supervisor_pid": sup,
                      "mode": cfg.get("mode", "full") if cfg else None,
                      # light mode: no application processes, the supervisor serves every role
                      "apps": {} if light else {name: read_pid(root, name) for name in APPS.values()},
                      "faults": load_faults(root, safe=True),
                      "ports": {"https": cfg.get("https_port"), "cloud": cfg.get("cloud_port")},
                      "release": cfg.get("release"), "hostname": cfg.get("hostname")}, indent=2, sort_keys=True))
    return 0


def used_percent(root: str) -> float:
    """Used share of the whole filesystem holding root (used / total blocks, per statvfs)."""
    st = os.statvfs(root)
    return 100.0 * (st.f_blocks - st.f_bfree) / st.f_blocks


def allocate(path: str, size: int) -> None:
    """Grow path to size bytes of allocated blocks (fallocate, or writing zeros)."""
    with open(path, "ab") as fh:
        start = fh.tell()
        try:
            os.posix_fallocate(fh.fileno(), start, size - start)
        except OSError as exc:
            if exc.errno == 28:
                raise SimError(f"no space left to grow {path}") from exc
            chunk = b"\0" * (1 << 20)
            try:
                while fh.tell() < size:
                    fh.write(chunk[:size - fh.tell()])
                fh.flush()
            except OSError as err:
                raise SimError(f"cannot grow {path}: {err}") from err
        os.fsync(fh.fileno())


def fill_disk(root: str, pct: float, force: bool = False) -> dict:
    """Write ROOT/.fill-disk.bin so that the filesystem holding root is pct % used."""
    filler = p(root, FILLER)
    if os.path.exists(filler):
        os.remove(filler)
    st = os.statvfs(root)
    need = int(st.f_blocks * st.f_frsize * pct / 100) - (st.f_blocks - st.f_bfree) * st.f_frsize
    free = (st.f_bfree if os.geteuid() == 0 else st.f_bavail) * st.f_frsize
    if need > free:
        raise SimError(f"cannot fill the filesystem of {root} to {pct}%: that needs {need} more bytes, "
                       f"{free} are free")
    if need > FILL_LIMIT and not force:
        raise SimError(f"refusing to write {need / 2**30:.1f} GiB to fill the filesystem of {root}: it looks "
                       "like a real disk; put ROOT on a small private (loop-mounted) disk, or pass --force")
    size = max(0, need)
    try:
        allocate(filler, size)
        for _ in range(5):  # top up what filesystem metadata made us miss
            if used_percent(root) >= pct:
                break
            st = os.statvfs(root)
            size += int(st.f_blocks * st.f_frsize * (pct - used_percent(root)) / 100) + st.f_frsize
            allocate(filler, size)
    except BaseException:
        os.remove(filler)
        raise
    return {"pct": pct, "file": filler, "bytes": os.path.getsize(filler),
            "used_percent": round(used_percent(root), 2)}


def grow_db(root: str, cfg: dict, pct: float) -> dict:
    """Insert blob rows until db/appsuite.sqlite is pct % of the configured limit."""
    import sqlite3  # pylint: disable=import-outside-toplevel
    db = p(root, "db", "appsuite.sqlite")
    target, chunk = int(cfg["db_limit_bytes"] * pct / 100), 16 * 1024
    con = sqlite3.connect(db, timeout=10)
    try:
        while os.path.getsize(db) < target:
            rows = (target - os.path.getsize(db)) // (2 * chunk) + 1  # a row takes more than chunk
            with con:
                con.executemany("INSERT INTO filler (data) VALUES (randomblob(?))", [(chunk,)] * rows)
    finally:
        con.close()
    return {"pct": pct, "size_bytes": os.path.getsize(db), "limit_bytes": cfg["db_limit_bytes"]}


def shrink_db(root: str) -> None:
    """Delete the grow-db rows and VACUUM the database back."""
    import sqlite3  # pylint: disable=import-outside-toplevel
    con = sqlite3.connect(p(root, "db", "appsuite.sqlite"), timeout=10)
    try:
        with con:
            con.execute("DELETE FROM filler")
        con.execute("VACUUM")
    finally:
        con.close()


def notify(root: str):
    """SIGHUP the supervisor so it applies faults.json now; returns its pid (None: not running)."""
    pid = read_pid(root, "supervisor")
    if pid:
        os.kill(pid, signal.SIGHUP)
    return pid


def cmd_fault(args) -> int:
    root, name = args.root, args.name
    cfg, faults = load_cfg(root), load_faults(root)
    if name in PROCESS_FAULTS and cfg.get("mode") == "light":
        raise SimError(f"{name} needs separate application processes, but the simulator under {root} runs "
                       f"in light mode (one {SUPERVISOR} process serves every role): start it without "
                       "--light for this fault")
    if name == "emit-event":
        log_event(root, args.severity.upper(), args.source, " ".join(args.text))
        print(f"event written to {p(root, 'logs', 'events.log')}")
        return 0
    if name == "rotate-log":
        log = p(root, "logs", "events.log")
        if os.path.exists(log):
            os.replace(log, log + ".1")
        open(log, "a", encoding="utf-8").close()
        print(f"rotated {log} to {log}.1")
        return 0
    if name == "restart-app":
        proc = APPS[args.app]
        old = read_pid(root, proc)
        if not read_pid(root, "supervisor") or not old:
            raise SimError(f"{proc} is not running under {root} (crash fault active or simulator stopped)")
        open(p(root, "run", f"{proc}.restart"), "w", encoding="ascii").close()
        notify(root)
        wait_for(lambda: read_pid(root, proc) not in (None, old), 10, f"{proc} to come back")
        print(f"{proc} restarted: pid {old} -> {read_pid(root, proc)}")
        return 0
    if name == "occupy":
        licensed = int(cfg["licensed"].get(args.app, 0))
        if not 0 <= args.channels <= licensed:
            raise SimError(f"occupy {args.app}: {args.channels} channels requested, 0..{licensed} licensed "
                           f"(start with --licensed {args.app}=N for more)")
        faults.setdefault("occupy", {})[args.app] = {"channels": args.channels, "since": time.time()}
    elif name == "crash-app":
        faults.setdefault("crash-app", {})[args.app] = {"since": now_iso()}
    elif name == "break-replication":
        if not cfg.get("peer"):
            raise SimError("replication is not configured: start the simulator with --peer NAME")
        faults[name] = {"reason": " ".join(args.reason) or "connection to the peer node lost"}
    elif name in ("clock-skew", "portal-slow"):
        faults[name] = {"seconds": args.seconds}
    elif name == "fill-disk":
        faults[name] = fill_disk(root, args.pct, args.force)
    elif name == "grow-db":
        faults[name] = grow_db(root, cfg, args.pct)
    else:  # crash-voip, portal-fail, cut-cloud
        faults[name] = {"since": now_iso()}
    write_json(p(root, "faults.json"), faults)
    write_replication(root, cfg, faults)
    running = notify(root)
    if running and name in ("crash-voip", "crash-app"):
        proc = APPS["voip" if name == "crash-voip" else args.app]
        wait_for(lambda: not read_pid(root, proc), 10, f"{proc} to go down")
    if running and name == "cut-cloud":
        wait_for(lambda: not port_open(int(cfg["cloud_port"])), 10, "the cloud stand-in to stop listening")
    print(f"fault {name} active: {json.dumps(faults[name], sort_keys=True)}"
          + ("" if running else " (the simulator is not running: processes follow at the next start)"))
    return 0


def cmd_clear(args) -> int:
    root, name, app = args.root, args.name, args.app
    cfg, faults = load_cfg(root), load_faults(root)
    allowed = {"crash-app": CRASHABLE, "occupy": CAPACITY_APPS}.get(name, ())
    if app is not None and app not in allowed:
        raise SimError(f"clear {name}: unexpected argument {app!r}"
                       + (f" (choose from {', '.join(allowed)})" if allowed else ""))
    before = held_down(faults)
    names = list(faults) if name == "all" else [name]
    if name in ("all", "fill-disk") and os.path.exists(p(root, FILLER)):
        os.remove(p(root, FILLER))
    if name == "all" or name == "grow-db":
        shrink_db(root)
    for item in names:
        if item in ("crash-app", "occupy") and app is not None:
            faults.get(item, {}).pop(app, None)
            if not faults.get(item):
                faults.pop(item, None)
        elif faults.pop(item, None) is None:
            print(f"{item}: not active" if item not in ("restart-app", "emit-event", "rotate-log")
                  else f"{item}: nothing to clear")
    write_json(p(root, "faults.json"), faults)
    write_replication(root, cfg, faults)
    running = notify(root)
    if running:
        for proc in before - held_down(faults):
            wait_for(lambda proc=proc: read_pid(root, proc), 10, f"{proc} to be running again")
        if "cut-cloud" not in faults:
            wait_for(lambda: port_open(int(cfg["cloud_port"])), 10, "the cloud stand-in to listen again")
    print(f"cleared {name}{' ' + app if app else ''}; active faults: {', '.join(sorted(faults)) or 'none'}")
    return 0


# ---------------------------------------------------------------- command line
def number(low: float, high: float, kind=float):
    """An argparse type: a number in [low, high]."""
    import argparse  # pylint: disable=import-outside-toplevel
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is out of range: use {low:g}..{high:g}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    import argparse  # pylint: disable=import-outside-toplevel
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", default="/srv/appsuite", help="simulator root (default /srv/appsuite)")
    parser = argparse.ArgumentParser(description="Simulated Imagicle ApplicationSuite (test bed stand-in).")
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", parents=[common], help="lay out the Suite and start it (idempotent)")
    start.add_argument("--https-port", type=number(1, 65535, int), default=443)
    start.add_argument("--cloud-port", type=number(1, 65535, int), default=8780)
    start.add_argument("--release", default="2024.Winter.1", help="written to release.txt as given")
    start.add_argument("--db-limit-mb", type=number(0.01, 1e6), default=8.0)
    start.add_argument("--peer", default=None, help="HA peer name (no --peer: no ha/replication.json)")
    start.add_argument("--cert-days", type=number(1, 36500, int), default=365)
    start.add_argument("--san-ip", action="append", default=[],
                       help="an address of this host to put in the server certificate (repeatable)")
    start.add_argument("--webapi-user", default="proactive")
    start.add_argument("--webapi-password-file", default=None,
                       help="file holding the Web API password (default: keep or generate one)")
    start.add_argument("--licensed", type=parse_licensed, default=parse_licensed(""),
                       help="licensed channels, e.g. call_recording=8,advanced_queuing=10,ivr=4")
    start.add_argument("--heartbeat", type=number(0.2, 3600), default=20.0,
                       help="seconds between the INFO heartbeat lines of each app (default 20)")
    start.add_argument("--timeout", type=number(1, 600), default=30.0, help="seconds to wait for readiness")
    start.add_argument("--light", action="store_true",
                       help="one process (ias-sim) serves every role; no process faults (crash-*, restart-app)")
    sub.add_parser("stop", parents=[common], help="stop the supervisor and every app")
    sub.add_parser("status", parents=[common], help="JSON: pids, faults, ports")
    fault = sub.add_parser("fault", help="inject a fault (persisted in faults.json)")
    faults = fault.add_subparsers(dest="name", required=True, metavar="NAME")
    add = lambda name, text: faults.add_parser(name, parents=[common], help=text)  # noqa: E731
    add("crash-voip", "kill ias-voip and hold it down")
    add("crash-app", "kill an app and hold it down").add_argument("app", choices=CRASHABLE)
    add("restart-app", "kill an app and respawn it at once").add_argument("app", choices=list(APPS))
    fill = add("fill-disk", "fill the filesystem holding ROOT to PCT%% used")
    fill.add_argument("pct", type=number(1, 99))
    fill.add_argument("--force", action="store_true", help="allow writing more than 2 GiB")
    add("grow-db", "grow the SQLite file to PCT%% of the db limit").add_argument("pct", type=number(1, 100))
    occupy = add("occupy", "keep N licensed channels of APP busy")
    occupy.add_argument("app", choices=CAPACITY_APPS)
    occupy.add_argument("channels", type=number(0, 100000, int))
    add("break-replication", "replication state failure").add_argument("reason", nargs="*")
    add("clock-skew", "shift the Date header").add_argument("seconds", type=number(-31536000, 31536000))
    add("portal-fail", "/ answers 500")
    add("portal-slow", "/ sleeps before answering").add_argument("seconds", type=number(0.01, 600))
    add("cut-cloud", "the cloud stand-in stops listening")
    event = add("emit-event", "append one line to logs/events.log")
    event.add_argument("--severity", default="ERROR", type=str.upper, choices=SEVERITIES)
    event.add_argument("--source", default=SUPERVISOR)
    event.add_argument("text", nargs="+")
    add("rotate-log", "rename events.log to events.log.1 and start a new one")
    clear = sub.add_parser("clear", parents=[common], help="clear a fault (or all)")
    clear.add_argument("name", choices=[*FAULTS, "all"])
    clear.add_argument("app", nargs="?", help="crash-app / occupy: clear only this app")
    app = sub.add_parser("app", parents=[common], help="(internal) run one simulated process")
    app.add_argument("name", choices=list(APPS.values()))
    sub.add_parser("serve", parents=[common], help="(internal) run the one process of the light mode")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    args.root = os.path.abspath(args.root)
    commands = {"start": cmd_start, "stop": lambda a: stop_all(a.root) or 0, "status": cmd_status,
                "fault": cmd_fault, "clear": cmd_clear, "app": lambda a: app_main(a.root, a.name),
                "serve": lambda a: serve_main(a.root)}
    try:
        return commands[args.command](args)
    except SimError as exc:
        print(f"appsuite_sim: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
