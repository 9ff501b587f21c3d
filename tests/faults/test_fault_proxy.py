# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault-injection proxy (tests/services/fault_proxy.py) against upstreams started here:
a small HTTP server that records what it gets, and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import os
import smtplib
import socket
import subprocess
import sys
import textwrap
import threading
import time
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from fault_proxy import FaultProxy, FaultProxyError
from mail_service import running_mail_server

# --------------------------------------------------------------------------------------------
# Upstreams
# --------------------------------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    """Echoes every request as JSON and records it; ``/body/N`` answers N bytes of text."""

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        seen = {"method": self.command, "path": self.path, "headers": dict(self.headers),
                "body": body.decode("utf-8", "replace")}
        self.server.seen.append(seen)
        if self.path.startswith("/body/"):
            data, content_type = b"0123456789" * (int(self.path.rsplit("/", 1)[1]) // 10), "text/plain"
        else:
            data, content_type = json.dumps(seen).encode("utf-8"), "application/json"
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle  # noqa: N815

    def log_message(self, format, *args):  # noqa: A002 (base class signature)
        return


class _Upstream(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


@pytest.fixture(scope="module")
def upstream():
    server = _Upstream(("127.0.0.1", 0), _Recorder)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def smtp_upstream():
    pytest.importorskip("aiosmtpd.controller")
    with running_mail_server() as server:
        yield server


@pytest.fixture(scope="module")
def module_proxy(upstream):
    with FaultProxy("127.0.0.1", upstream.server_address[1]) as proxy:
        yield proxy


@pytest.fixture()
def proxy(module_proxy, upstream):
    """The module's http proxy with no rules, an empty log, and an upstream that saw nothing yet."""
    module_proxy.clear()
    module_proxy.clear_log()
    upstream.seen.clear()
    return module_proxy


@pytest.fixture(scope="module")
def module_tcp_proxy(smtp_upstream):
    with FaultProxy("127.0.0.1", smtp_upstream[0], mode="tcp") as proxy:
        yield proxy


@pytest.fixture()
def tcp_proxy(module_tcp_proxy, smtp_upstream):
    module_tcp_proxy.clear()
    module_tcp_proxy.clear_log()
    smtp_upstream[1].messages.clear()
    return module_tcp_proxy


def _send_mail(port: int, timeout: float = 5.0) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "proactive@example.test", "ops@example.test", "case 1"
    message.set_content("disk almost full")
    with smtplib.SMTP("127.0.0.1", port, timeout=timeout) as client:
        client.send_message(message)


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# --------------------------------------------------------------------------------------------
# HTTP mode
# --------------------------------------------------------------------------------------------


def test_plain_forwarding_keeps_method_path_headers_and_body(proxy, upstream):
    response = requests.put(f"{proxy.url}/REST/2.0/ticket/7?fields=Status", data=b'{"Status": "resolved"}',
                            headers={"Authorization": "token s3cret", "Content-Type": "application/json",
                                     "X-Trace": "abc"}, timeout=5)
    assert response.status_code == 200
    seen = upstream.seen[-1]
    assert seen["method"] == "PUT"
    assert seen["path"] == "/REST/2.0/ticket/7?fields=Status"
    assert seen["body"] == '{"Status": "resolved"}'
    assert seen["headers"]["Authorization"] == "token s3cret"
    assert seen["headers"]["X-Trace"] == "abc"
    assert seen["headers"]["Host"] == f"127.0.0.1:{upstream.server_address[1]}"
    assert response.json() == seen

    created = requests.post(f"{proxy.url}/REST/2.0/ticket", json={"Subject": "x"}, timeout=5)
    assert created.status_code == 201 and upstream.seen[-1]["body"] == '{"Subject": "x"}'


def test_absolute_form_target_is_forwarded_as_a_path(proxy, upstream):
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(b"GET http://example.test/REST/2.0/rt?a=1 HTTP/1.1\r\nHost: example.test\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 200 ")
    assert upstream.seen[-1]["path"] == "/REST/2.0/rt?a=1"


def test_chunked_request_body_is_forwarded_whole(proxy, upstream):
    response = requests.post(f"{proxy.url}/api/v2/alerts", data=iter([b'[{"labels":', b' {"a": "b"}}]']), timeout=5)
    assert response.status_code == 201
    assert upstream.seen[-1]["body"] == '[{"labels": {"a": "b"}}]'


def test_html200_answers_a_login_page_without_forwarding(proxy, upstream):
    proxy.add_rule(method="POST", path=r"^/REST/2.0/ticket$", fault="html200", count=1)
    response = requests.post(f"{proxy.url}/REST/2.0/ticket", json={}, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<form" in response.text and "password" in response.text
    assert upstream.seen == []


def test_redirect302_points_to_login(proxy, upstream):
    proxy.add_rule(fault="redirect302")
    response = requests.get(f"{proxy.url}/REST/2.0/ticket/1", allow_redirects=False, timeout=5)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert upstream.seen == []


@pytest.mark.parametrize("status", [401, 403, 500, 502, 503])
def test_status_answers_the_given_status_body_and_type(proxy, upstream, status):
    proxy.add_rule(fault="status", status=status, body='{"message": "nope"}', content_type="application/json",
                   headers={"WWW-Authenticate": "Basic"})
    response = requests.get(f"{proxy.url}/REST/2.0/rt", timeout=5)
    assert response.status_code == status
    assert response.json() == {"message": "nope"}
    assert response.headers["WWW-Authenticate"] == "Basic"
    assert upstream.seen == []


def test_garbage_is_json_typed_but_not_json(proxy):
    proxy.add_rule(fault="garbage")
    response = requests.get(f"{proxy.url}/REST/2.0/tickets", timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        response.json()


def test_hang_never_answers_until_the_client_gives_up(proxy, upstream):
    proxy.add_rule(fault="hang")
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{proxy.url}/REST/2.0/rt", timeout=(2, 0.4))
    entry = proxy.wait_for_log(1)[0]
    assert entry["outcome"] == "client_gone" and entry["status"] is None and not entry["forwarded"]
    assert upstream.seen == []


def test_hang_for_seconds_then_closes_without_answer(proxy):
    proxy.add_rule(fault="hang", seconds=0.3)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{proxy.url}/x", timeout=5)
    assert 0.3 <= time.monotonic() - started < 3
    assert proxy.wait_for_log(1)[0]["outcome"] == "dropped"


def test_drip_body_defeats_a_per_read_timeout(proxy, upstream):
    """30 body bytes, 3 per 0.2 s: 10 chunks, 2 s in all, yet no single read waits 0.5 s."""
    proxy.add_rule(fault="drip", bytes=3, interval=0.2, body_only=True)
    started = time.monotonic()
    response = requests.get(f"{proxy.url}/body/30", timeout=(2, 0.5))
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and response.text == "0123456789" * 3
    assert 1.9 <= elapsed < 4
    assert proxy.log()[0]["forwarded"] is True


def test_drip_whole_answer_with_a_raw_reader(proxy):
    """The whole answer, head included, 16 bytes every 0.05 s, read with a 0.3 s per-read timeout."""
    proxy.add_rule(fault="drip", bytes=16, interval=0.05)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=0.3) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /body/40 HTTP/1.1\r\nHost: x\r\n\r\n")
        received, reads = b"", 0
        while chunk := sock.recv(4096):
            received, reads = received + chunk, reads + 1
        elapsed = time.monotonic() - started
    chunks = -(-len(received) // 16)
    assert received.startswith(b"HTTP/1.1 200 ") and received.endswith(b"0123456789" * 4)
    assert reads >= chunks - 1
    assert elapsed >= 0.9 * chunks * 0.05


def test_client_leaving_mid_drip_does_not_hurt_the_proxy(proxy):
    proxy.add_rule(fault="drip", bytes=1, interval=0.05, count=1)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=2) as sock:
        sock.sendall(b"GET /body/30 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(1) == b"H"
    entry = proxy.wait_for_log(1)[0]
    assert entry["outcome"] == "client_gone" and "client" in entry["error"]
    assert requests.get(f"{proxy.url}/after", timeout=5).status_code == 200


def test_delay_forwards_after_sleeping(proxy, upstream):
    proxy.add_rule(fault="delay", seconds=0.4)
    started = time.monotonic()
    response = requests.get(f"{proxy.url}/slow", timeout=5)
    assert response.status_code == 200 and time.monotonic() - started >= 0.4
    assert upstream.seen[-1]["path"] == "/slow"


def test_forward_then_fail_loses_the_answer_after_the_upstream_acted(proxy, upstream):
    proxy.set_rules([{"method": "POST", "path": "^/REST/2.0/ticket$", "fault": "forward_then_fail", "count": 1},
                     {"method": "POST", "path": "^/REST/2.0/ticket$", "fault": "forward_then_fail",
                      "then": "drop", "count": 1}])
    response = requests.post(f"{proxy.url}/REST/2.0/ticket", json={"Subject": "one"}, timeout=5)
    assert response.status_code == 502
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(f"{proxy.url}/REST/2.0/ticket", json={"Subject": "two"}, timeout=5)
    assert [seen["body"] for seen in upstream.seen] == ['{"Subject": "one"}', '{"Subject": "two"}']
    log = proxy.wait_for_log(2)
    assert [(e["forwarded"], e["upstream_status"], e["status"], e["outcome"]) for e in log] == [
        (True, 201, 502, "answered"), (True, 201, None, "dropped")]


@pytest.mark.parametrize("reset", [False, True])
def test_drop_closes_without_answer(proxy, upstream, reset):
    proxy.add_rule(fault="drop", reset=reset)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{proxy.url}/REST/2.0/rt", timeout=5)
    assert upstream.seen == []


def test_count_applies_to_the_next_n_matching_requests(proxy):
    proxy.add_rule(fault="status", status=503, count=2)
    statuses = [requests.get(f"{proxy.url}/x", timeout=5).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert proxy.rules()[0]["applied"] == 2


def test_count_is_exact_under_concurrent_requests(proxy):
    proxy.add_rule(fault="status", status=503, count=5)
    statuses: list[int] = []

    def call() -> None:
        statuses.append(requests.get(f"{proxy.url}/x", timeout=5).status_code)

    callers = [threading.Thread(target=call) for _ in range(20)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(timeout=10)
    assert sorted(statuses) == [200] * 15 + [503] * 5


def test_every_nth_request(proxy):
    proxy.add_rule(fault="status", status=500, every=3)
    statuses = [requests.get(f"{proxy.url}/x", timeout=5).status_code for _ in range(6)]
    assert statuses == [200, 200, 500, 200, 200, 500]


def test_without_count_a_rule_applies_until_cleared(proxy):
    proxy.add_rule(fault="status", status=401)
    assert [requests.get(f"{proxy.url}/x", timeout=5).status_code for _ in range(3)] == [401] * 3
    proxy.clear()
    assert requests.get(f"{proxy.url}/x", timeout=5).status_code == 200


def test_first_matching_rule_wins(proxy):
    proxy.set_rules([
        {"method": "PUT", "path": r"^/REST/2.0/ticket/\d+$", "fault": "status", "status": 409, "count": 1},
        {"path": r"^/REST/2.0/ticket/", "fault": "status", "status": 503},
    ])
    assert requests.put(f"{proxy.url}/REST/2.0/ticket/3", json={}, timeout=5).status_code == 409
    assert requests.put(f"{proxy.url}/REST/2.0/ticket/3", json={}, timeout=5).status_code == 503
    assert requests.get(f"{proxy.url}/REST/2.0/ticket/3", timeout=5).status_code == 503
    assert requests.get(f"{proxy.url}/REST/2.0/tickets", timeout=5).status_code == 200
    assert [entry["rule"] for entry in proxy.log()] == [0, 1, 1, None]


def test_invalid_rules_are_refused_and_change_nothing(proxy):
    proxy.add_rule(fault="drop", count=1)
    for bad in ({"fault": "explode"}, {"fault": "status", "count": 0}, {"fault": "drop", "path": "("},
                {"fault": "drop", "colour": "red"}, {"fault": "refuse"}):
        with pytest.raises(FaultProxyError):
            proxy.set_rules([{"fault": "html200"}, bad])
    assert [rule["fault"] for rule in proxy.rules()] == ["drop"]


def test_log_records_every_request(proxy):
    proxy.add_rule(name="login wall", method="GET", path="^/REST", fault="html200", count=1)
    requests.get(f"{proxy.url}/REST/2.0/rt?x=1", timeout=5)
    requests.post(f"{proxy.url}/REST/2.0/ticket", json={}, timeout=5)
    first, second = proxy.log()
    assert first["method"] == "GET" and first["path"] == "/REST/2.0/rt?x=1"
    assert (first["rule"], first["rule_name"], first["fault"]) == (0, "login wall", "html200")
    assert (first["status"], first["forwarded"], first["outcome"]) == (200, False, "answered")
    assert second["method"] == "POST" and second["rule"] is None and second["fault"] is None
    assert (second["status"], second["upstream_status"], second["forwarded"]) == (201, 201, True)
    assert second["time"] >= first["time"] and second["duration"] >= 0
    proxy.clear_log()
    assert proxy.log() == []


def test_unreachable_upstream_gives_502():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    with FaultProxy("127.0.0.1", dead_port) as proxy:
        assert requests.get(f"{proxy.url}/x", timeout=5).status_code == 502
        assert "upstream" in proxy.log()[0]["error"]


# --------------------------------------------------------------------------------------------
# The process: kill, restart, stop, clean-up
# --------------------------------------------------------------------------------------------


def test_kill_closes_the_port_and_restart_reopens_it(upstream):
    with FaultProxy("127.0.0.1", upstream.server_address[1]) as proxy:
        port, control_port, pid = proxy.port, proxy.control_port, proxy.pid
        proxy.add_rule(fault="hang")
        in_flight: list[BaseException] = []

        def call() -> None:
            try:
                requests.get(f"{proxy.url}/x", timeout=5)
            except requests.RequestException as exc:
                in_flight.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        proxy.wait_for_log(1, done=False)
        proxy.kill()
        caller.join(timeout=5)
        assert in_flight and isinstance(in_flight[0], requests.exceptions.ConnectionError)
        assert proxy.returncode == -9 and _pid_gone(pid)
        assert not _port_open(port) and not _port_open(control_port)

        proxy.restart()
        assert (proxy.port, proxy.control_port) == (port, control_port) and proxy.pid != pid
        assert proxy.rules() == [] and proxy.log() == []
        assert requests.get(f"{proxy.url}/again", timeout=5).status_code == 200


def test_sigterm_exits_cleanly_with_a_request_in_flight(upstream):
    proxy = FaultProxy("127.0.0.1", upstream.server_address[1]).start()
    try:
        proxy.add_rule(fault="hang")
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
            sock.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
            proxy.wait_for_log(1, done=False)
            started = time.monotonic()
            proxy.stop()
            assert time.monotonic() - started < 2
            assert sock.recv(100) == b""
        assert proxy.returncode == 0 and not proxy.running
    finally:
        proxy.kill()


def test_context_manager_and_atexit_leave_no_process(upstream):
    with FaultProxy("127.0.0.1", upstream.server_address[1]) as proxy:
        pid = proxy.pid
    assert _pid_gone(pid)

    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {os.path.dirname(sys.modules[FaultProxy.__module__].__file__)!r})
        from fault_proxy import FaultProxy
        print(FaultProxy("127.0.0.1", {upstream.server_address[1]}).start().pid, flush=True)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=20, check=True)
    orphan = int(done.stdout.strip())
    try:
        assert _pid_gone(orphan)
    finally:
        if not _pid_gone(orphan):
            os.kill(orphan, 9)


# --------------------------------------------------------------------------------------------
# TCP mode (SMTP)
# --------------------------------------------------------------------------------------------


def _banner(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        data = b""
        while not data.endswith(b"\r\n"):
            data += sock.recv(1024)
        sock.sendall(b"QUIT\r\n")
        return data


def test_tcp_plain_forwarding_delivers_mail(tcp_proxy, smtp_upstream):
    _send_mail(tcp_proxy.port)
    assert smtp_upstream[1].messages[0]["to"] == ["ops@example.test"]
    entry = tcp_proxy.wait_for_log(1)[0]
    assert entry["forwarded"] and entry["outcome"] == "closed" and entry["rule"] is None
    assert entry["bytes_up"] > 100 and entry["bytes_down"] > 50


@pytest.mark.parametrize("reset", [False, True])
def test_tcp_refuse_then_count_runs_out(tcp_proxy, smtp_upstream, reset):
    tcp_proxy.add_rule(fault="refuse", count=1, reset=reset)
    with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError)):
        _send_mail(tcp_proxy.port)
    _send_mail(tcp_proxy.port)
    assert len(smtp_upstream[1].messages) == 1
    assert [entry["outcome"] for entry in tcp_proxy.wait_for_log(2)] == ["refused", "closed"]


def test_tcp_hang_accepts_and_never_forwards(tcp_proxy, smtp_upstream):
    tcp_proxy.add_rule(fault="hang")
    with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"):
        smtplib.SMTP("127.0.0.1", tcp_proxy.port, timeout=0.4)
    entry = tcp_proxy.wait_for_log(1)[0]
    assert not entry["forwarded"] and entry["outcome"] == "client_gone"
    assert smtp_upstream[1].messages == []


def test_tcp_drip_slows_the_whole_session_past_per_read_timeouts(tcp_proxy, smtp_upstream):
    tcp_proxy.add_rule(fault="drip", bytes=16, interval=0.04)
    started = time.monotonic()
    _send_mail(tcp_proxy.port, timeout=0.3)
    elapsed = time.monotonic() - started
    entry = tcp_proxy.wait_for_log(1)[0]
    assert len(smtp_upstream[1].messages) == 1
    assert elapsed >= 0.9 * (entry["bytes_down"] / 16) * 0.04 > 0.3


def test_tcp_delay_before_connecting_upstream(tcp_proxy, smtp_upstream):
    tcp_proxy.add_rule(fault="delay", seconds=0.4)
    started = time.monotonic()
    _send_mail(tcp_proxy.port)
    assert time.monotonic() - started >= 0.4 and len(smtp_upstream[1].messages) == 1


def test_tcp_drop_after_k_bytes_from_the_server(tcp_proxy, smtp_upstream):
    banner = _banner(smtp_upstream[0])
    tcp_proxy.set_rules([{"fault": "drop_after", "after_bytes": len(banner), "count": 1},
                         {"fault": "drop_after", "after_bytes": 0, "count": 1}])
    client = smtplib.SMTP("127.0.0.1", tcp_proxy.port, timeout=5)  # the banner arrives whole
    with pytest.raises(smtplib.SMTPServerDisconnected):
        client.ehlo()
    client.close()
    with pytest.raises(smtplib.SMTPServerDisconnected):  # upstream connected, nothing delivered
        smtplib.SMTP("127.0.0.1", tcp_proxy.port, timeout=5)
    log = tcp_proxy.wait_for_log(2)
    assert [(entry["forwarded"], entry["outcome"], entry["bytes_down"]) for entry in log] == [
        (True, "dropped", len(banner)), (True, "dropped", 0)]
    assert smtp_upstream[1].messages == []
