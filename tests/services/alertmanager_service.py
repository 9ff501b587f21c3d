# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real Prometheus Alertmanager and a webhook receiver on 127.0.0.1, for the tests.

The receiver is a small HTTP server that records every POST (path, headers, decoded JSON). The
Alertmanager (Debian's ``prometheus-alertmanager``, installed by tests/services/install-alertmanager.sh)
runs from a configuration written here: one route to a webhook receiver pointing at the recorder,
grouped by ``dedup_key`` (one group per page), ``group_wait`` 1s, ``group_interval`` 1s and a long
``repeat_interval``; its own storage directory; the web API on a free loopback port and the cluster
listener disabled (``--cluster.listen-address=``). Started in the background, ready when
``GET /api/v2/status`` answers, stopped by its PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BINARY = "prometheus-alertmanager"
GROUP_INTERVAL_S = 1.0
READY_TIMEOUT_S = 30.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, *, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    """Poll ``condition()`` until it returns something truthy (returned) or ``timeout`` seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout:g} s")
        time.sleep(interval)


class Receiver(ThreadingHTTPServer):
    """A webhook receiver on a loopback port: records every POST, answers 200."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.posts: list[dict] = []
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(10)

    def notifications(self, dedup_key: str) -> list[dict]:
        """The webhook bodies that carry an alert with this dedup_key label, in arrival order."""
        with self.lock:
            posts = list(self.posts)
        return [post["json"] for post in posts
                if isinstance(post["json"], dict)
                and any(alert.get("labels", {}).get("dedup_key") == dedup_key for alert in post["json"].get("alerts", []))]


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def log_message(self, *args) -> None:  # keep test output clean
        return

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        with self.server.lock:
            self.server.posts.append({"path": self.path, "headers": dict(self.headers), "raw": raw, "json": body})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


class Alertmanager:
    """One Alertmanager process with its own configuration and storage directory."""

    def __init__(self, state_dir: str, receiver_url: str, port: int) -> None:
        self.state_dir = state_dir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.config_file = os.path.join(state_dir, "alertmanager.yml")
        self.storage = os.path.join(state_dir, "data")
        self.log_file = os.path.join(state_dir, "alertmanager.log")
        self.process: subprocess.Popen | None = None
        os.makedirs(self.storage, exist_ok=True)
        config = {
            "route": {
                "receiver": "hook",
                "group_by": ["dedup_key"],
                "group_wait": "1s",
                "group_interval": f"{GROUP_INTERVAL_S:g}s",
                "repeat_interval": "72h",
            },
            "receivers": [{"name": "hook", "webhook_configs": [{"url": receiver_url, "send_resolved": True}]}],
        }
        with open(self.config_file, "w", encoding="utf-8") as handle:
            json.dump(config, handle, indent=2)  # JSON is YAML

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        command = [shutil.which(BINARY) or BINARY, f"--config.file={self.config_file}", f"--storage.path={self.storage}",
                   f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=", "--log.level=info"]
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_until(self._ready, timeout=READY_TIMEOUT_S, what=f"Alertmanager on {self.url}/api/v2/status")
        except AssertionError:
            self.stop()
            raise AssertionError(f"Alertmanager did not start; last log lines:\n{self.log_tail()}") from None

    def _ready(self) -> bool:
        if not self.running():
            raise AssertionError(f"Alertmanager exited with {self.process.returncode}; log:\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/status", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        """SIGTERM by PID (Alertmanager then snapshots its notification log), SIGKILL if it does not exit."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_file, encoding="utf-8", errors="replace") as handle:
                return "".join(handle.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def alerts(self, dedup_key: str) -> list[dict]:
        """Active alerts with this dedup_key label, as GET /api/v2/alerts lists them."""
        query = urllib.parse.urlencode({"filter": f'dedup_key="{dedup_key}"'})
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts?{query}", timeout=5) as response:
            return json.loads(response.read())


def alertmanager_installed() -> bool:
    return shutil.which(BINARY) is not None


@contextlib.contextmanager
def running_alertmanager(directory: str):
    """A started Alertmanager and the webhook receiver it notifies, ``(service, receiver)``; both stopped after."""
    receiver = Receiver()
    receiver.start()
    try:
        service = Alertmanager(directory, receiver.url, free_port())
        service.start()
        try:
            yield service, receiver
        finally:
            service.stop()
    finally:
        receiver.stop()
