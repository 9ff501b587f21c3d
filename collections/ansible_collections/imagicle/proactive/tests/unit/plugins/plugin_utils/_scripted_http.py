# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An HTTP server on 127.0.0.1 that gives the answers a test queues, for answers a real peer rarely gives.

:class:`ScriptedHttp` records every request (method, path with query, lower-case headers, raw
body) and answers each with the next queued ``(status, headers, body)``; with nothing queued it
answers 599 so that a test sees an unexpected request at once.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedHttp(ThreadingHTTPServer):
    """Answers requests from ``answers`` in order; ``requests`` records what came."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: list[tuple[int, dict[str, str], bytes]] = []
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, status: int, body: bytes | str = b"", content_type: str = "application/json", **headers: str) -> None:
        """Queue one answer."""
        raw = body.encode() if isinstance(body, str) else body
        self.answers.append((status, {"Content-Type": content_type, **headers}, raw))

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(5)


class _Handler(BaseHTTPRequestHandler):
    server: ScriptedHttp
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output clean
        return

    def _handle(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.requests.append({"method": self.command, "path": self.path, "raw": raw,
                                         "headers": {name.lower(): value for name, value in self.headers.items()}})
            status, headers, body = self.server.answers.pop(0) if self.server.answers else (599, {}, b"")
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle
