# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fault-injection proxy for the tests: a hostile network in front of Request Tracker,
Alertmanager or an SMTP server, switchable per request and killable with SIGKILL.

The proxy runs as its own process, listens on one loopback port, forwards to one upstream and is
driven through a small JSON control API on a second loopback port::

    python3 tests/services/fault_proxy.py --listen 127.0.0.1:PORT --upstream 127.0.0.1:UPORT \\
        --control 127.0.0.1:CPORT --mode http|tcp [--upstream-timeout 60] [--verbose]

Port 0 lets the kernel choose; either way the proxy prints the ports it listens on as one JSON
line on stdout once both are open, ``{"listen": p, "control": c}``, and nothing else on stdout.
SIGTERM or SIGINT make it exit with status 0, whatever connections are in flight.

Modes
-----
``http``: a reverse proxy. Method, target (path and query), headers (Authorization included; Host
is set to the upstream, hop-by-hop headers are dropped) and body (Content-Length or chunked) go
to the upstream; its answer comes back with its status, headers and body. Each connection carries
one request (the proxy answers ``Connection: close``). An absolute ``Location`` pointing at the
upstream is rewritten to the proxy. An unreachable upstream gives a 502 (logged with ``error``).

``tcp``: bytes are forwarded both ways, one upstream connection per client connection (SMTP).

Rules
-----
A rule is a JSON object. Rules are evaluated in order for every request (http) or connection
(tcp); the first rule that applies wins; with no rule applying the request is plainly forwarded.

Matching and counting (both modes unless noted):

* ``fault`` (required): the fault's name, see below.
* ``method`` (http): the request method, case-insensitive; absent or ``"*"``: any method.
* ``path`` (http): a regular expression searched in the path (the target without its query),
  e.g. ``"^/REST/2.0/ticket/\\d+$"``; absent: any path.
* ``query`` (http): a regular expression searched in the query string (without ``?``).
* ``count``: the rule applies to the next ``count`` matching requests, then is spent (and skipped);
  absent or null: it applies until the rules are replaced or cleared.
* ``every``: the rule applies only to every Nth matching request (the Nth, 2Nth, ...); on the
  others it does not apply and the following rules are tried. ``count`` then counts applications.
* ``name``: a free label, copied into the log.

HTTP faults and their fields:

* ``html200``: 200, ``text/html``, a login page (``body`` overrides it). Not forwarded.
* ``redirect302``: 302 with ``Location: /login`` (``location`` overrides it). Not forwarded.
* ``status``: answers ``status`` (default 503) with ``body`` (default: the reason phrase),
  ``content_type`` (default ``text/plain; charset=utf-8``) and extra ``headers`` (an object).
  Not forwarded.
* ``garbage``: 200, ``application/json``, a body that is not JSON (``body``, default
  ``{"items": [``). Not forwarded.
* ``hang``: reads the request and never answers, until the client goes away or, with ``seconds``,
  for that long, after which the connection is closed without an answer. Not forwarded.
* ``drip``: forwarded; the answer goes to the client ``bytes`` bytes (default 1) at a time, one
  chunk every ``interval`` seconds (default 0.5; the wait comes before each chunk, so delivering
  N chunks takes N x interval). The whole answer is dripped, status line and headers included;
  with ``body_only: true`` the head is sent at once and only the body is dripped.
* ``delay``: waits ``seconds`` (default 1), then forwards.
* ``forward_then_fail``: forwarded (the upstream acts), then the answer is lost: ``then`` is a
  status to answer instead (default 502, with ``body``/``content_type``) or ``"drop"`` to close
  the connection without an answer.
* ``drop``: reads the request, closes the connection without answering. Not forwarded.

TCP faults and their fields:

* ``refuse``: closes the accepted connection at once, nothing forwarded.
* ``hang``: accepts and never connects upstream, until the client goes away or, with ``seconds``,
  for that long (then closes).
* ``drip``: forwarded; server-to-client bytes go ``bytes`` (default 1) per ``interval`` (default 0.5).
* ``delay``: waits ``seconds`` (default 1) before connecting upstream, then forwards.
* ``drop_after``: forwarded; the connection is closed once ``after_bytes`` bytes (default 0) from
  the server have reached the client.

``reset: true`` on ``drop``, ``hang``, ``forward_then_fail`` (with ``then: "drop"``), ``refuse``
and ``drop_after`` closes with a TCP reset instead of an orderly close.

Example: ``{"method": "POST", "path": "^/REST/2.0/ticket$", "fault": "html200", "count": 1}``.

Control API (JSON over HTTP on the control port)
-----------------------------------------------
``GET /health``; ``GET /rules`` (with the ``matched``/``applied`` counters);
``POST /rules`` (a list of rules, or ``{"rules": [...]}``: replaces the list and its counters);
``POST /rules/append`` (a rule or a list); ``DELETE /rules``; ``GET /log``; ``DELETE /log``.
An invalid rule gives 400 with ``{"error": ...}`` and changes nothing.

The log (in memory) has one entry per request (http) or connection (tcp), added when it arrives
and completed when it ends: ``seq``, ``time`` (epoch seconds), ``client``, ``method``, ``path``
(the request target; null in tcp mode), ``rule`` (index in the list, or null), ``rule_name``,
``fault``, ``forwarded``, ``upstream_status`` (http), ``status`` (the status the client got, or
null), ``outcome`` (``pending``, ``answered``, ``dropped``, ``client_gone``; tcp: ``closed``,
``refused``, ``dropped``, ``client_gone``, ``upstream_error``), ``error``, ``duration``, and
``bytes_up``/``bytes_down`` in tcp mode.

Python helper
-------------
``FaultProxy(upstream_host, upstream_port, mode="http")`` starts and drives the proxy process
from a test; see its docstring. Rules and log live in the process: a restart starts empty.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import copy
import http.client
import io
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HTTP_FAULTS = frozenset(
    {"html200", "redirect302", "status", "garbage", "hang", "drip", "delay", "forward_then_fail", "drop"}
)
TCP_FAULTS = frozenset({"refuse", "hang", "drip", "delay", "drop_after"})
_COMMON_FIELDS = frozenset({"fault", "count", "every", "name", "reset"})
_HTTP_FIELDS = _COMMON_FIELDS | {
    "method", "path", "query", "status", "body", "content_type", "headers", "location",
    "seconds", "bytes", "interval", "then", "body_only",
}
_TCP_FIELDS = _COMMON_FIELDS | {"seconds", "bytes", "interval", "after_bytes"}
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
     "te", "trailer", "trailers", "transfer-encoding", "upgrade", "expect"}
)
_NO_BODY_STATUSES = frozenset({204, 304})
_POLL = 0.1

LOGIN_PAGE = """<!DOCTYPE html>
<html><head><title>Sign in</title></head>
<body><h1>Single sign-on</h1>
<form method="post" action="/login">
<label>User <input name="user"></label>
<label>Password <input name="pass" type="password"></label>
<button type="submit">Sign in</button>
</form></body></html>
"""


class RuleError(ValueError):
    """A rule that the proxy cannot use."""


# --------------------------------------------------------------------------------------------
# Rules and log: the shared state of one proxy process
# --------------------------------------------------------------------------------------------


def _positive_int(rule: dict, key: str, minimum: int = 1) -> None:
    value = rule.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RuleError(f"{key} must be an integer >= {minimum}, got {value!r}")


def _non_negative_number(rule: dict, key: str) -> None:
    value = rule.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise RuleError(f"{key} must be a number >= 0, got {value!r}")


def _compile(rule: dict, key: str) -> re.Pattern | None:
    value = rule.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RuleError(f"{key} must be a regular expression string")
    try:
        return re.compile(value)
    except re.error as exc:
        raise RuleError(f"{key} {value!r} is not a valid regular expression: {exc}") from exc


def _check_http_fields(rule: dict) -> None:
    if rule["fault"] == "status":
        _positive_int(rule, "status", 100)
    then = rule.get("then")
    if then is not None and then != "drop":
        if isinstance(then, bool) or not isinstance(then, int) or not 100 <= then <= 999:
            raise RuleError(f'then must be a status code or "drop", got {then!r}')
    if "headers" in rule and not isinstance(rule["headers"], dict):
        raise RuleError("headers must be an object")
    for key in ("body", "content_type", "location", "method"):
        if key in rule and not isinstance(rule[key], str):
            raise RuleError(f"{key} must be a string")


def validate_rule(rule: Any, mode: str) -> dict:
    """Check one rule for ``mode`` and return a copy of it; raise RuleError when it is unusable."""
    if not isinstance(rule, dict):
        raise RuleError(f"a rule must be an object, got {rule!r}")
    faults, fields = (HTTP_FAULTS, _HTTP_FIELDS) if mode == "http" else (TCP_FAULTS, _TCP_FIELDS)
    if rule.get("fault") not in faults:
        raise RuleError(f"fault must be one of {sorted(faults)} in {mode} mode, got {rule.get('fault')!r}")
    unknown = sorted(set(rule) - fields)
    if unknown:
        raise RuleError(f"unknown field(s) for {mode} mode: {', '.join(unknown)}")
    _positive_int(rule, "count")
    _positive_int(rule, "every")
    _positive_int(rule, "bytes")
    _positive_int(rule, "after_bytes", 0)
    for key in ("seconds", "interval"):
        _non_negative_number(rule, key)
    if mode == "http":
        _check_http_fields(rule)
        _compile(rule, "path")
        _compile(rule, "query")
    return dict(rule)


class _Rule:
    """A validated rule with its compiled patterns and counters."""

    def __init__(self, spec: dict):
        self.spec = spec
        method = spec.get("method")
        self.method = None if method in (None, "*") else method.upper()
        self.path = _compile(spec, "path")
        self.query = _compile(spec, "query")
        self.matched = 0
        self.applied = 0

    def matches(self, method: str | None, path: str | None, query: str | None) -> bool:
        if self.method is not None and (method or "").upper() != self.method:
            return False
        if self.path is not None and not self.path.search(path or ""):
            return False
        return self.query is None or bool(self.query.search(query or ""))

    def spent(self) -> bool:
        count = self.spec.get("count")
        return count is not None and self.applied >= count

    def take(self, method: str | None, path: str | None, query: str | None) -> bool:
        """Whether the rule applies to this request; updates the counters (caller holds the lock)."""
        if self.spent() or not self.matches(method, path, query):
            return False
        self.matched += 1
        every = self.spec.get("every")
        if every is not None and self.matched % every:
            return False
        self.applied += 1
        return True

    def describe(self) -> dict:
        return {**self.spec, "matched": self.matched, "applied": self.applied}


class ProxyState:
    """The rule list and the request log of one proxy, shared by its threads."""

    def __init__(self, mode: str):
        self.mode = mode
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._log: list[dict] = []
        self._seq = 0

    def set_rules(self, specs: list, append: bool = False) -> int:
        """Replace (or extend) the rule list; all rules are validated before anything changes."""
        rules = [_Rule(validate_rule(spec, self.mode)) for spec in specs]
        with self._lock:
            self._rules = (self._rules + rules) if append else rules
            return len(self._rules)

    def rules(self) -> list[dict]:
        with self._lock:
            return [rule.describe() for rule in self._rules]

    def choose(self, method: str | None = None, path: str | None = None,
               query: str | None = None) -> tuple[int | None, dict | None]:
        """The first rule that applies to this request, as (index, rule), or (None, None)."""
        with self._lock:
            for index, rule in enumerate(self._rules):
                if rule.take(method, path, query):
                    return index, dict(rule.spec)
        return None, None

    def log_start(self, **fields: Any) -> dict:
        with self._lock:
            self._seq += 1
            entry = {"seq": self._seq, "time": time.time(), "forwarded": False, "status": None,
                     "outcome": "pending", "error": None, "duration": None, **fields}
            self._log.append(entry)
            return entry

    def update(self, entry: dict, **fields: Any) -> None:
        with self._lock:
            entry.update(fields)

    def log_finish(self, entry: dict, **fields: Any) -> None:
        with self._lock:
            entry.update(fields)
            if entry["outcome"] == "pending":
                entry["outcome"] = "dropped"
            entry["duration"] = round(time.time() - entry["time"], 4)

    def log(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._log)

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()


# --------------------------------------------------------------------------------------------
# Socket helpers
# --------------------------------------------------------------------------------------------


def _close_socket(sock: socket.socket, reset: bool = False) -> None:
    """Close now: an orderly shutdown (FIN), or a TCP reset (SO_LINGER 0) when ``reset``.

    A reset shuts down only the reading side first: that wakes a thread blocked in recv() on the
    socket without sending anything to the peer, so the close that follows sends the reset.
    """
    with contextlib.suppress(OSError):
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RD)
        else:
            sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


def _wait_until_gone(sock: socket.socket, seconds: float | None, stop: threading.Event,
                     consume: bool) -> bool:
    """Hold the connection open until the peer closes it (True) or ``seconds`` pass (False).

    Bytes the peer sends meanwhile are read and discarded when ``consume``, else only peeked at.
    """
    deadline = None if seconds is None else time.monotonic() + seconds
    while not stop.is_set():
        timeout = _POLL if deadline is None else min(_POLL, deadline - time.monotonic())
        if timeout <= 0:
            return False
        try:
            readable, _, _ = select.select([sock], [], [], timeout)
            if not readable:
                continue
            data = sock.recv(4096) if consume else sock.recv(1, socket.MSG_PEEK)
        except OSError:
            return True
        if not data:
            return True
        if not consume:
            time.sleep(timeout)
    return False


def _drip(sock: socket.socket, data: bytes, size: int, interval: float) -> int:
    """Send ``data`` ``size`` bytes at a time, waiting ``interval`` before each chunk."""
    sent = 0
    for start in range(0, len(data), size):
        time.sleep(interval)
        chunk = data[start:start + size]
        sock.sendall(chunk)
        sent += len(chunk)
    return sent


def _parse_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


_CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


# --------------------------------------------------------------------------------------------
# HTTP mode
# --------------------------------------------------------------------------------------------


class _Answer:
    """An HTTP answer to write to the client: status, headers and body."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes,
                 reason: str | None = None, head_only: bool = False):
        self.status = status
        self.reason = reason or _reason(status)
        self.headers = headers
        self.body = b"" if head_only else body
        if not any(key.lower() == "content-length" for key, _ in headers) and (
                status not in _NO_BODY_STATUSES or body):
            self.headers = [*headers, ("Content-Length", str(len(body)))]
        self.headers.append(("Connection", "close"))

    def head(self) -> bytes:
        lines = [f"HTTP/1.1 {self.status} {self.reason}"]
        lines += [f"{key}: {value}" for key, value in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _made_answer(status: int, body: str, content_type: str, extra: dict | None = None,
                 head_only: bool = False) -> _Answer:
    headers = [("Content-Type", content_type), *((str(k), str(v)) for k, v in (extra or {}).items())]
    return _Answer(status, headers, body.encode("utf-8"), head_only=head_only)


def _fault_answer(rule: dict, head_only: bool) -> _Answer:
    """The answer of a fault that does not forward (html200, redirect302, status, garbage)."""
    fault = rule["fault"]
    if fault == "html200":
        return _made_answer(200, rule.get("body", LOGIN_PAGE), rule.get("content_type", "text/html; charset=utf-8"),
                            rule.get("headers"), head_only)
    if fault == "redirect302":
        location = rule.get("location", "/login")
        body = rule.get("body", f'<html><body><a href="{location}">Sign in</a></body></html>\n')
        extra = {"Location": location, **rule.get("headers", {})}
        return _made_answer(302, body, rule.get("content_type", "text/html; charset=utf-8"), extra, head_only)
    if fault == "garbage":
        return _made_answer(200, rule.get("body", '{"items": ['), rule.get("content_type", "application/json"),
                            rule.get("headers"), head_only)
    status = int(rule.get("status", 503))
    return _made_answer(status, rule.get("body", _reason(status) + "\n"),
                        rule.get("content_type", "text/plain; charset=utf-8"), rule.get("headers"), head_only)


class _HttpProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # no connection drops of our own under bursts

    def __init__(self, address: tuple[str, int], upstream: tuple[str, int], state: ProxyState,
                 upstream_timeout: float, stop: threading.Event, verbose: bool):
        self.upstream = upstream
        self.state = state
        self.upstream_timeout = upstream_timeout
        self.stop_event = stop
        self.verbose = verbose
        super().__init__(address, _ProxyHandler)

    def handle_error(self, request, client_address) -> None:
        if self.verbose:
            super().handle_error(request, client_address)


class _ProxyHandler(BaseHTTPRequestHandler):
    """One request: read it, choose a rule, then forward and/or misbehave."""

    protocol_version = "HTTP/1.1"
    server: _HttpProxyServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (base class signature)
        if self.server.verbose:
            super().log_message(format, *args)

    def _handle(self) -> None:
        self.close_connection = True
        target = self.path
        if "://" in target.partition("?")[0]:  # absolute-form target: keep the origin-form part
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        path, _, query = target.partition("?")
        self.target = target
        index, rule = self.server.state.choose(self.command, path, query)
        entry = self.server.state.log_start(
            client=f"{self.client_address[0]}:{self.client_address[1]}", method=self.command, path=target,
            rule=index, rule_name=(rule or {}).get("name"), fault=(rule or {}).get("fault"), upstream_status=None)
        fields: dict[str, Any] = {}
        try:
            body = self._read_body()
            fields = self._apply(rule, body, entry)
        except _CLIENT_GONE as exc:
            fields = {"outcome": "client_gone", "error": f"client: {exc.__class__.__name__}: {exc}"}
        except (OSError, ValueError) as exc:
            fields = {"outcome": "client_gone", "error": f"{exc.__class__.__name__}: {exc}"}
        finally:
            self.server.state.log_finish(entry, **fields)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle  # noqa: N815

    # -- request -------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size_line = self.rfile.readline(65537)
            if not size_line:
                raise ValueError("client closed inside a chunked body")
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(65537)

    # -- faults --------------------------------------------------------------------------------

    def _apply(self, rule: dict | None, body: bytes, entry: dict) -> dict:
        fault = rule["fault"] if rule else None
        head_only = self.command == "HEAD"
        if fault in ("html200", "redirect302", "status", "garbage"):
            answer = _fault_answer(rule, head_only)
            self._send(answer)
            return {"status": answer.status, "outcome": "answered"}
        if fault == "hang":
            gone = _wait_until_gone(self.connection, rule.get("seconds"), self.server.stop_event, consume=False)
            if gone:
                return {"outcome": "client_gone"}
            self._abort(rule.get("reset", False))
            return {"outcome": "dropped"}
        if fault == "drop":
            self._abort(rule.get("reset", False))
            return {"outcome": "dropped"}
        if fault == "delay":
            time.sleep(float(rule.get("seconds", 1)))
        answer = self._forward(body, entry)
        if fault == "forward_then_fail":
            return self._lose_answer(rule, head_only)
        if fault == "drip":
            self._send(answer, rule)
        else:
            self._send(answer)
        return {"status": answer.status, "outcome": "answered"}

    def _lose_answer(self, rule: dict, head_only: bool) -> dict:
        then = rule.get("then", 502)
        if then == "drop":
            self._abort(rule.get("reset", False))
            return {"outcome": "dropped"}
        answer = _made_answer(int(then), rule.get("body", _reason(int(then)) + "\n"),
                              rule.get("content_type", "text/plain; charset=utf-8"), rule.get("headers"), head_only)
        self._send(answer)
        return {"status": answer.status, "outcome": "answered"}

    def _abort(self, reset: bool) -> None:
        """Close the client connection without an answer."""
        if reset:
            # The socket's file objects hold the descriptor: close them too so the reset goes now,
            # and leave harmless stand-ins for the base class's final flush and close.
            for stream in (self.rfile, self.wfile):
                with contextlib.suppress(OSError, ValueError):
                    stream.close()
            self.rfile, self.wfile = io.BytesIO(), io.BytesIO()
        _close_socket(self.connection, reset)

    def _send(self, answer: _Answer, drip: dict | None = None) -> None:
        head = answer.head()
        if drip is None:
            self.connection.sendall(head + answer.body)
            return
        size, interval = int(drip.get("bytes", 1)), float(drip.get("interval", 0.5))
        if drip.get("body_only"):
            self.connection.sendall(head)
            _drip(self.connection, answer.body, size, interval)
        else:
            _drip(self.connection, head + answer.body, size, interval)

    # -- upstream ------------------------------------------------------------------------------

    def _upstream_headers(self, body: bytes) -> list[tuple[str, str]]:
        host, port = self.server.upstream
        headers = [(key, value) for key, value in self.headers.items()
                   if key.lower() not in _HOP_BY_HOP and key.lower() not in ("host", "content-length")]
        headers.insert(0, ("Host", f"{host}:{port}"))
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers.append(("Content-Length", str(len(body))))
        headers.append(("Connection", "close"))
        return headers

    def _forward(self, body: bytes, entry: dict) -> _Answer:
        """Send the request upstream and return its answer (a 502 when the upstream fails)."""
        host, port = self.server.upstream
        connection = http.client.HTTPConnection(host, port, timeout=self.server.upstream_timeout)
        try:
            connection.putrequest(self.command, self.target, skip_host=True, skip_accept_encoding=True)
            for key, value in self._upstream_headers(body):
                connection.putheader(key, value)
            connection.endheaders(body or None)
            self.server.state.update(entry, forwarded=True)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.server.state.update(entry, error=f"upstream: {exc.__class__.__name__}: {exc}")
            return _made_answer(502, json.dumps({"error": f"fault proxy: upstream failed: {exc}"}),
                                "application/json", head_only=self.command == "HEAD")
        finally:
            connection.close()
        self.server.state.update(entry, upstream_status=response.status)
        return self._relay(response, data)

    def _relay(self, response: http.client.HTTPResponse, data: bytes) -> _Answer:
        host, port = self.server.upstream
        mine = f"http://{self.server.server_address[0]}:{self.server.server_address[1]}"
        no_body = self.command == "HEAD" or response.status in _NO_BODY_STATUSES or response.status < 200
        headers = []
        for key, value in response.getheaders():
            lower = key.lower()
            if lower in _HOP_BY_HOP or (lower == "content-length" and not no_body):
                continue
            if lower == "location":
                for prefix in (f"http://{host}:{port}", f"http://localhost:{port}"):
                    if value.startswith(prefix):
                        value = mine + value[len(prefix):]
            headers.append((key, value))
        return _Answer(response.status, headers, data, reason=response.reason, head_only=no_body)


# --------------------------------------------------------------------------------------------
# TCP mode
# --------------------------------------------------------------------------------------------


class _TcpProxyServer:
    """Accepts connections and pipes each one to its own upstream connection, with faults."""

    def __init__(self, address: tuple[str, int], upstream: tuple[str, int], state: ProxyState,
                 upstream_timeout: float, stop: threading.Event):
        self.upstream = upstream
        self.state = state
        self.upstream_timeout = upstream_timeout
        self.stop_event = stop
        self.socket = socket.create_server(address, backlog=64)
        self.server_address = self.socket.getsockname()[:2]

    def serve_forever(self, poll_interval: float = _POLL) -> None:
        self.socket.settimeout(poll_interval)
        while not self.stop_event.is_set():
            try:
                client, address = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                if self.stop_event.is_set():
                    return
                continue
            client.settimeout(None)
            threading.Thread(target=self._serve, args=(client, address), daemon=True).start()

    def shutdown(self) -> None:
        self.stop_event.set()

    def server_close(self) -> None:
        with contextlib.suppress(OSError):
            self.socket.close()

    def _serve(self, client: socket.socket, address: tuple) -> None:
        index, rule = self.state.choose()
        entry = self.state.log_start(client=f"{address[0]}:{address[1]}", method=None, path=None, rule=index,
                                     rule_name=(rule or {}).get("name"), fault=(rule or {}).get("fault"),
                                     bytes_up=0, bytes_down=0)
        fields: dict[str, Any] = {}
        try:
            fields = self._run(client, rule or {}, entry)
        except _CLIENT_GONE as exc:
            fields = {"outcome": "client_gone", "error": f"client: {exc.__class__.__name__}: {exc}"}
        except OSError as exc:
            fields = {"outcome": "client_gone", "error": f"{exc.__class__.__name__}: {exc}"}
        finally:
            _close_socket(client, fields.get("outcome") in ("refused", "dropped") and bool((rule or {}).get("reset")))
            self.state.log_finish(entry, **fields)

    def _run(self, client: socket.socket, rule: dict, entry: dict) -> dict:
        fault = rule.get("fault")
        if fault == "refuse":
            return {"outcome": "refused"}
        if fault == "hang":
            gone = _wait_until_gone(client, rule.get("seconds"), self.stop_event, consume=True)
            return {"outcome": "client_gone" if gone else "dropped"}
        if fault == "delay":
            time.sleep(float(rule.get("seconds", 1)))
        try:
            upstream = socket.create_connection(self.upstream, timeout=self.upstream_timeout)
        except OSError as exc:
            return {"outcome": "upstream_error", "error": f"upstream: {exc.__class__.__name__}: {exc}"}
        upstream.settimeout(None)
        self.state.update(entry, forwarded=True)
        try:
            return self._pipe(client, upstream, rule)
        finally:
            _close_socket(upstream)

    def _pipe(self, client: socket.socket, upstream: socket.socket, rule: dict) -> dict:
        counts = {"bytes_up": 0}
        up = threading.Thread(target=self._pump_up, args=(client, upstream, counts), daemon=True)
        up.start()
        outcome, down = "closed", 0
        fault = rule.get("fault")
        limit = int(rule.get("after_bytes", 0)) if fault == "drop_after" else None
        error = None
        try:
            if limit == 0:
                outcome = "dropped"
            while outcome != "dropped":
                data = upstream.recv(65536)
                if not data:
                    break
                if limit is not None and down + len(data) >= limit:
                    data, outcome = data[:limit - down], "dropped"
                if fault == "drip":
                    down += _drip(client, data, int(rule.get("bytes", 1)), float(rule.get("interval", 0.5)))
                else:
                    client.sendall(data)
                    down += len(data)
        except _CLIENT_GONE as exc:
            outcome, error = "client_gone", f"client: {exc.__class__.__name__}: {exc}"
        except OSError as exc:
            error = f"{exc.__class__.__name__}: {exc}"
        reset = outcome == "dropped" and bool(rule.get("reset"))
        with contextlib.suppress(OSError):
            if reset:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.shutdown(socket.SHUT_RD if reset else socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            upstream.shutdown(socket.SHUT_RDWR)
        up.join(timeout=2)
        return {"outcome": outcome, "error": error, "bytes_down": down, "bytes_up": counts["bytes_up"]}

    @staticmethod
    def _pump_up(client: socket.socket, upstream: socket.socket, counts: dict) -> None:
        """Client to upstream until the client closes (then half-close upstream) or a side fails."""
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    upstream.shutdown(socket.SHUT_WR)
                    return
                upstream.sendall(data)
                counts["bytes_up"] += len(data)
        except OSError:
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_RDWR)


# --------------------------------------------------------------------------------------------
# Control API
# --------------------------------------------------------------------------------------------


class _ControlServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], state: ProxyState, info: dict):
        self.state = state
        self.info = info
        super().__init__(address, _ControlHandler)


class _ControlHandler(BaseHTTPRequestHandler):
    server: _ControlServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (base class signature)
        return

    def _reply(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _payload(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"null")

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        state = self.server.state
        if self.path == "/health":
            self._reply(200, {"status": "ok", **self.server.info})
        elif self.path == "/rules":
            self._reply(200, state.rules())
        elif self.path == "/log":
            self._reply(200, state.log())
        else:
            self._reply(404, {"error": f"no such resource: {self.path}"})

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        if self.path not in ("/rules", "/rules/append"):
            self._reply(404, {"error": f"no such resource: {self.path}"})
            return
        try:
            payload = self._payload()
            if isinstance(payload, dict) and "rules" in payload and "fault" not in payload:
                payload = payload["rules"]
            rules = payload if isinstance(payload, list) else [payload]
            total = self.server.state.set_rules(rules, append=self.path == "/rules/append")
        except (ValueError, RuleError) as exc:
            self._reply(400, {"error": str(exc)})
            return
        self._reply(200, {"rules": total})

    def do_DELETE(self) -> None:  # noqa: N802 (http.server naming)
        if self.path == "/rules":
            self.server.state.set_rules([])
        elif self.path == "/log":
            self.server.state.clear_log()
        else:
            self._reply(404, {"error": f"no such resource: {self.path}"})
            return
        self._reply(200, {"ok": True})


# --------------------------------------------------------------------------------------------
# The process
# --------------------------------------------------------------------------------------------


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Fault-injection proxy for the tests (loopback only).")
    parser.add_argument("--listen", type=_parse_address, required=True, help="HOST:PORT to accept clients on")
    parser.add_argument("--upstream", type=_parse_address, required=True, help="HOST:PORT to forward to")
    parser.add_argument("--control", type=_parse_address, required=True, help="HOST:PORT of the control API")
    parser.add_argument("--mode", choices=("http", "tcp"), default="http")
    parser.add_argument("--upstream-timeout", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument("--verbose", action="store_true", help="log requests and errors on stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the proxy until SIGTERM or SIGINT."""
    args = _arguments(argv)
    stop = threading.Event()
    state = ProxyState(args.mode)
    if args.mode == "http":
        proxy: Any = _HttpProxyServer(args.listen, args.upstream, state, args.upstream_timeout, stop, args.verbose)
    else:
        proxy = _TcpProxyServer(args.listen, args.upstream, state, args.upstream_timeout, stop)
    info = {"mode": args.mode, "listen": proxy.server_address[1], "pid": os.getpid(),
            "upstream": f"{args.upstream[0]}:{args.upstream[1]}"}
    control = _ControlServer(args.control, state, info)
    # Block the stop signals in every thread; the main thread takes them with sigwait().
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": _POLL}, daemon=True).start()
    threading.Thread(target=control.serve_forever, kwargs={"poll_interval": _POLL}, daemon=True).start()
    print(json.dumps({"listen": proxy.server_address[1], "control": control.server_address[1]}), flush=True)
    signal.sigwait(stop_signals)
    stop.set()
    for server in (control, proxy):
        server.shutdown()
        server.server_close()
    return 0


# --------------------------------------------------------------------------------------------
# The helper for tests
# --------------------------------------------------------------------------------------------

_LIVE: set[FaultProxy] = set()


class FaultProxyError(RuntimeError):
    """The proxy did not start, or its control API refused a request."""


class FaultProxy:
    """The fault proxy as a child process of a test.

    ``FaultProxy(upstream_host, upstream_port, mode="http")`` then ``start()`` (or ``with``):
    the process listens on free loopback ports (``port``, ``control_port``; ``url`` in http
    mode). ``stop()`` ends it (SIGTERM, then SIGKILL), ``kill()`` SIGKILLs it (a crash),
    ``restart()`` starts it again on the same ports, with no rules and an empty log. Every
    proxy still running when the interpreter exits is stopped (atexit).
    """

    def __init__(self, upstream_host: str, upstream_port: int, mode: str = "http", *,
                 listen_port: int = 0, control_port: int = 0, host: str = "127.0.0.1",
                 upstream_timeout: float = 60.0, startup_timeout: float = 10.0, verbose: bool = False):
        if mode not in ("http", "tcp"):
            raise ValueError(f"mode must be http or tcp, got {mode!r}")
        self.upstream_host = upstream_host
        self.upstream_port = int(upstream_port)
        self.mode = mode
        self.host = host
        self.listen_port = int(listen_port)
        self.control_port = int(control_port)
        self.upstream_timeout = upstream_timeout
        self.startup_timeout = startup_timeout
        self.verbose = verbose
        self.pid: int | None = None
        self.returncode: int | None = None
        self._process: subprocess.Popen | None = None
        self._stderr: Any = None

    # -- process -------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port clients connect to."""
        return self.listen_port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (http mode)."""
        if self.mode != "http":
            raise AttributeError("url is for http mode; use host and port")
        return f"http://{self.host}:{self.listen_port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _command(self) -> list[str]:
        command = [sys.executable, os.path.abspath(__file__), "--mode", self.mode,
                   "--listen", f"{self.host}:{self.listen_port}",
                   "--upstream", f"{self.upstream_host}:{self.upstream_port}",
                   "--control", f"{self.host}:{self.control_port}",
                   "--upstream-timeout", str(self.upstream_timeout)]
        return command + (["--verbose"] if self.verbose else [])

    def start(self) -> FaultProxy:
        """Start the process and wait until its control API answers."""
        if self.running:
            return self
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (kept open for the process's life)
        self._process = subprocess.Popen(  # noqa: S603 (our own script)
            self._command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr,
            start_new_session=True, close_fds=True)
        self.pid, self.returncode = self._process.pid, None
        _LIVE.add(self)
        try:
            ports = self._read_ports()
            self.listen_port, self.control_port = int(ports["listen"]), int(ports["control"])
            self._wait_healthy()
        except FaultProxyError:
            self.kill()
            raise
        return self

    def _read_ports(self) -> dict:
        """The JSON line the process prints once it listens."""
        stream = self._process.stdout
        deadline = time.monotonic() + self.startup_timeout
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([stream], [], [], remaining)[0]:
                raise FaultProxyError(f"fault proxy did not start in time{self._stderr_tail()}")
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                raise FaultProxyError(f"fault proxy exited at start{self._stderr_tail()}")
            line += chunk
        stream.close()
        return json.loads(line)

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, FaultProxyError):
                if self._call("GET", "/health").get("status") == "ok":
                    return
            time.sleep(0.02)
        raise FaultProxyError(f"fault proxy control API did not answer{self._stderr_tail()}")

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            self._stderr.seek(0)
            text = self._stderr.read().decode("utf-8", "replace").strip()
            return f": {text[-2000:]}" if text else ""
        return ""

    def _end(self, first: int, grace: float) -> None:
        """Signal the process by its pid, escalate to SIGKILL after ``grace`` seconds, reap it."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, first)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)
                process.wait()
        self.returncode = process.returncode
        if process.stdout is not None and not process.stdout.closed:
            process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        self._process = None
        _LIVE.discard(self)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if it is still there after ``grace`` seconds; reaps the process."""
        self._end(signal.SIGTERM, grace)

    def kill(self) -> None:
        """SIGKILL at once (a crash); reaps the process."""
        self._end(signal.SIGKILL, 5.0)

    def restart(self) -> FaultProxy:
        """Stop if running, then start again on the same ports (no rules, empty log)."""
        self.stop()
        return self.start()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # -- control API ---------------------------------------------------------------------------

    def _call(self, method: str, path: str, payload: Any = None, timeout: float = 5.0) -> Any:
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(f"http://{self.host}:{self.control_port}{path}", data=data,
                                         method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback)
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise FaultProxyError(f"{method} {path}: {exc.code} {detail}") from exc

    def set_rules(self, rules: list[dict]) -> None:
        """Replace the rule list (see the module docstring for the fields)."""
        self._call("POST", "/rules", list(rules))

    def add_rule(self, rule: dict | None = None, **fields: Any) -> None:
        """Append one rule, given as a dict and/or keyword fields: ``add_rule(fault="drop", count=1)``."""
        self._call("POST", "/rules/append", {**(rule or {}), **fields})

    def rules(self) -> list[dict]:
        """The rules with their ``matched``/``applied`` counters."""
        return self._call("GET", "/rules")

    def clear(self) -> None:
        """Remove every rule: plain forwarding."""
        self._call("DELETE", "/rules")

    def log(self) -> list[dict]:
        """Every request (http) or connection (tcp) seen since the start or the last clear_log()."""
        return self._call("GET", "/log")

    def clear_log(self) -> None:
        self._call("DELETE", "/log")

    def wait_for_log(self, count: int = 1, timeout: float = 5.0, done: bool = True) -> list[dict]:
        """The log once it has ``count`` entries (finished ones when ``done``); FaultProxyError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            entries = self.log()
            ready = [e for e in entries if e["outcome"] != "pending"] if done else entries
            if len(ready) >= count:
                return entries
            if time.monotonic() > deadline:
                raise FaultProxyError(f"expected {count} log entries, have {entries}")
            time.sleep(0.02)


@atexit.register
def _stop_all() -> None:
    for proxy in list(_LIVE):
        with contextlib.suppress(Exception):
            proxy.stop(grace=2.0)


if __name__ == "__main__":
    sys.exit(main())
