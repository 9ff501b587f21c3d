# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP layer shared by the case backends and the pagers: secrets stay hidden, failures are classified,
every request ends by its deadline, answers count only when they are what they should be.

Transport failures are raised by a stand-in session (and, for a refused connection, a silent peer
and peers that drip their answer a byte at a time, by real sockets on 127.0.0.1, over HTTP and
TLS); answers are stand-in responses.
"""

from __future__ import annotations

import base64
import socket
import ssl
import subprocess
import threading
import time

import pytest
import requests

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends import _http
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import BackendError

from ._slow_peers import SlowPeer

SECRET = "s3cr3t-T0KEN-value"
URL = "https://peer.example/api"
WHAT = f"Peer POST {URL}"


class FakeSession:
    """Raises ``raises`` from request, else returns ``response``; remembers the keyword arguments."""

    def __init__(self, raises: Exception | None = None, response: object = None) -> None:
        self.raises = raises
        self.response = response
        self.verify = "/etc/ca.pem"
        self.calls: list[dict] = []

    def request(self, method: str, url: str, **kwargs):
        self.calls.append(dict(kwargs, method=method, url=url))
        if self.raises is not None:
            raise self.raises
        return self.response


class FakeResponse:
    def __init__(self, status: int, headers: dict | None = None, content: bytes = b"", reason: str = "Reason") -> None:
        self.status_code = status
        self.headers = headers or {}
        self.reason = reason
        self.content = content


def send(session, **kwargs):
    options = {"what": WHAT, "secrets": _http.Secrets([SECRET]), "timeout": 2.5, "reach": "check the peer"}
    options.update(kwargs)
    return _http.send(session, "POST", URL, **options)


def fail(exc: Exception, **kwargs) -> BackendError:
    with pytest.raises(BackendError) as info:
        send(FakeSession(raises=exc), **kwargs)
    assert info.value.status is None
    assert SECRET not in info.value.message + repr(info.value)
    assert info.value.message.startswith(WHAT + ": ")
    return info.value


# secrets ------------------------------------------------------------------------------------------------
def test_secrets_hide_themselves_and_skip_empty_values():
    secrets = _http.Secrets(["short-one", None, "", "a-much-longer-secret", "short-one"])
    assert tuple(secrets) == ("a-much-longer-secret", "short-one")
    assert repr(secrets) == str(secrets) == "<hidden>"
    assert "short-one" not in repr({"secrets": secrets}) + f"{secrets}"


def test_scrub_replaces_the_longest_secret_first():
    secrets = _http.Secrets(["token", "token-and-more"])
    assert _http.scrub("got token-and-more and token", secrets) == "got *** and ***"
    error = _http.error(f"refused {SECRET}", _http.Secrets([SECRET]), retryable=False, status=401)
    assert (error.message, error.retryable, error.status) == ("refused ***", False, 401)


@pytest.mark.parametrize("auth, header", [
    (_http.HeaderAuth("token", SECRET), f"token {SECRET}"),
    (_http.HeaderAuth("Bearer", SECRET), f"Bearer {SECRET}"),
    (_http.BasicAuth("user", SECRET), None),
])
def test_auth_sets_the_header_and_hides_the_secret(auth, header):
    prepared = requests.Request("GET", URL, auth=auth).prepare()
    assert prepared.headers["Authorization"].startswith(("token ", "Bearer ", "Basic "))
    if header is not None:
        assert prepared.headers["Authorization"] == header
    assert SECRET not in repr(auth) and "<hidden>" in repr(auth)


def test_new_session_keeps_no_cookies_and_verifies_as_configured():
    session = _http.new_session("agent/1.0", auth=_http.HeaderAuth("token", SECRET), ca_path="/etc/ca.pem",
                                headers={"X-Extra": "1"})
    assert (session.headers["User-Agent"], session.headers["Accept"], session.headers["X-Extra"]) == \
        ("agent/1.0", "application/json", "1")
    assert session.verify == "/etc/ca.pem" and SECRET not in repr(session.auth)
    assert session.cookies.get_policy().allowed_domains() == ()  # no domain may set a cookie
    assert _http.new_session("a", ca_path="/etc/ca.pem", validate_certs=False).verify is False
    assert _http.new_session("a").verify is True


# send ---------------------------------------------------------------------------------------------------
def test_send_follows_no_redirect_and_passes_the_session_verify():
    response = FakeResponse(200)
    session = FakeSession(response=response)
    assert send(session, json={"a": 1}) is response
    call = session.calls[0]
    assert (call["allow_redirects"], call["verify"], call["timeout"], call["json"]) == (False, "/etc/ca.pem", 2.5, {"a": 1})


def test_timeout_is_retryable_and_backend_wide():
    error = fail(requests.ReadTimeout(f"read timed out {SECRET}"))
    assert (error.retryable, error.backend_wide) == (True, True)
    assert error.message == f"{WHAT}: no complete answer within 2.5 s; will retry"
    error = fail(requests.ConnectionError(f"HTTPConnectionPool: Read timed out. {SECRET}"))  # how requests words a timeout in a body
    assert error.message == f"{WHAT}: no complete answer within 2.5 s; will retry"


@pytest.mark.parametrize("exc, reason", [
    (requests.ConnectionError("[Errno 111] Connection refused"), "connection refused"),
    (requests.ConnectionError("Name or service not known"), "cannot connect (ConnectionError)"),
    (requests.exceptions.ProxyError("proxy down"), "cannot connect (ProxyError)"),
])
def test_connection_failures_are_retryable_and_backend_wide(exc, reason):
    error = fail(exc)
    assert (error.retryable, error.backend_wide) == (True, True)
    assert error.message == f"{WHAT}: {reason}; check the peer; will retry"


def test_untrusted_certificate_is_final_where_the_client_names_the_certificate():
    error = fail(requests.exceptions.SSLError("certificate verify failed"), certificate="the peer's")
    assert not error.retryable
    assert error.message == f"{WHAT}: TLS certificate not trusted; give ca_path (or fix the peer's certificate)"


def test_tls_failure_is_a_failed_connection_otherwise():
    error = fail(requests.exceptions.SSLError("EOF occurred in violation of protocol"))
    assert error.retryable and error.message == f"{WHAT}: cannot connect (SSLError); check the peer; will retry"


def test_other_request_failures_are_retryable_with_or_without_their_text():
    error = fail(requests.exceptions.ChunkedEncodingError(f"broken at {URL}?key={SECRET}"))
    assert error.retryable and error.message == f"{WHAT}: ChunkedEncodingError: broken at {URL}?key=***; will retry"
    error = fail(requests.exceptions.ChunkedEncodingError(f"broken at {URL}?k=abc"), detail=False)
    assert error.retryable and error.message == f"{WHAT}: ChunkedEncodingError; will retry"


def test_a_refused_connection_and_a_silent_peer_for_real():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    session = _http.new_session("agent/1.0")
    options = {"what": "Peer GET", "secrets": _http.Secrets([SECRET]), "reach": "check the peer"}
    with pytest.raises(BackendError) as info:
        _http.send(session, "GET", f"http://127.0.0.1:{port}/", timeout=2, **options)
    assert (info.value.retryable, "connection refused" in info.value.message) == (True, True)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        with pytest.raises(BackendError) as info:
            _http.send(session, "GET", f"http://127.0.0.1:{silent.getsockname()[1]}/", timeout=0.3, **options)
    assert (info.value.retryable, info.value.message) == (True, "Peer GET: no complete answer within 0.3 s; will retry")


# status_error -------------------------------------------------------------------------------------------
def status_error(status: int, headers: dict | None = None, said: str = "nope") -> BackendError:
    return _http.status_error(FakeResponse(status, headers), said, what=WHAT, secrets=_http.Secrets([SECRET]),
                              redirect="give the base URL", refusal="the peer will not accept this as it is",
                              hints={401: (f"bad credentials (not {SECRET})", False, True), 429: ("slow down; will retry", True, False)})


@pytest.mark.parametrize("status, backend_wide", [(408, False), (425, False), (500, False), (502, True), (503, True), (504, True)])
def test_server_errors_and_throttling_are_retryable(status, backend_wide):
    error = status_error(status)
    assert (error.retryable, error.status, error.message) == (True, status, f"{WHAT}: HTTP {status} nope; will retry")
    assert error.backend_wide is backend_wide


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
def test_other_client_errors_are_final_and_not_backend_wide(status):
    error = status_error(status)
    assert (error.retryable, error.message) == (False, f"{WHAT}: HTTP {status} nope; the peer will not accept this as it is")
    assert error.backend_wide is False


def test_hinted_statuses_keep_their_text_and_classification():
    assert (status_error(401).retryable, status_error(401).message) == (False, f"{WHAT}: HTTP 401 nope: bad credentials (not ***)")
    assert (status_error(429).retryable, status_error(429).message) == (True, f"{WHAT}: HTTP 429 nope: slow down; will retry")
    assert (status_error(401).backend_wide, status_error(429).backend_wide) == (True, False)


def test_unhinted_401_and_429_are_backend_wide():
    error = _http.status_error(FakeResponse(401), "Unauthorized", what=WHAT, secrets=_http.Secrets(), redirect="r", refusal="no")
    assert (error.retryable, error.backend_wide) == (False, True)
    error = _http.status_error(FakeResponse(429), "Slow down", what=WHAT, secrets=_http.Secrets(), redirect="r", refusal="no")
    assert (error.retryable, error.backend_wide) == (True, True)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_final_backend_wide_and_name_the_target(status):
    error = status_error(status, {"Location": f"https://login.example/?t={SECRET}"})
    assert (error.retryable, error.status, error.backend_wide) == (False, status, True)
    assert error.message == f"{WHAT}: HTTP {status} redirect to 'https://login.example/?t=***': give the base URL"


def test_reason_of_is_trimmed():
    assert _http.reason_of(FakeResponse(500, reason="  Internal Server Error ")) == "Internal Server Error"
    assert _http.reason_of(FakeResponse(500, reason=None)) == ""


# text ---------------------------------------------------------------------------------------------------
def test_single_line_and_visible_controls():
    assert _http.single_line(" a\r\nb\tc\x00d\x85  e ") == "a b c d e"
    assert _http.single_line(None) == ""
    assert _http.single_line("abcdefghij", 8) == "abcde..."
    assert _http.visible_controls("a\x00b\x1bc\td\ne\r") == "a\\x00b\\x1bc\td\ne\r"
    assert _http.has_controls("a\tb") and not _http.has_controls("a b")


@pytest.mark.parametrize("value", ["", "  ", "a\nb", "a\tb", "a\x00b", 5, None])
def test_check_key_refuses_what_is_not_one_line(value):
    with pytest.raises(BackendError) as info:
        _http.check_key(value, "idempotency key", 10)
    assert not info.value.retryable and "must be a non-empty single-line string" in info.value.message


def test_check_key_limits_the_length():
    assert _http.check_key("host:disk", "idempotency key", 10) == "host:disk"
    with pytest.raises(BackendError) as info:
        _http.check_key("x" * 11, "page dedup key", 10)
    assert info.value.message == "page dedup key 'xxxxxxxxxxx'... is longer than 10 characters"


# credentials --------------------------------------------------------------------------------------------
def test_token_or_password_gives_the_auth_and_the_secrets():
    auth, secrets = _http.token_or_password("Peer backend", "Bearer", SECRET, None, None)
    assert requests.Request("GET", URL, auth=auth).prepare().headers["Authorization"] == f"Bearer {SECRET}"
    assert tuple(secrets) == (SECRET,) and SECRET not in repr(auth) + repr(secrets)
    auth, secrets = _http.token_or_password("Peer backend", "Bearer", None, "user", SECRET)
    header = requests.Request("GET", URL, auth=auth).prepare().headers["Authorization"]
    assert header == "Basic " + base64.b64encode(f"user:{SECRET}".encode()).decode()
    assert set(secrets) == {SECRET, f"user:{SECRET}", header[len("Basic "):]}


@pytest.mark.parametrize("token, username, password, text", [
    (SECRET, "user", SECRET, "give either a token or a username and password, not both or neither"),
    (None, None, None, "give either a token or a username and password, not both or neither"),
    (None, "user", None, "username and password must both be given"),
    (None, None, SECRET, "username and password must both be given"),
])
def test_token_or_password_refuses_both_neither_or_half_a_pair(token, username, password, text):
    with pytest.raises(BackendError) as info:
        _http.token_or_password("Peer backend", "token", token, username, password)
    assert (info.value.retryable, info.value.message) == (False, f"Peer backend: {text}")


# secrets in all their forms ----------------------------------------------------------------------------
def test_credential_secrets_hold_every_form_basic_authentication_sends():
    secrets = _http.credential_secrets("tok-123456", username="api", password="pässwörd-1")
    utf8 = base64.b64encode("api:pässwörd-1".encode("utf-8")).decode()
    latin1 = base64.b64encode("api:pässwörd-1".encode("latin-1")).decode()
    assert set(secrets) == {"tok-123456", "pässwörd-1", "api:pässwörd-1", utf8, latin1}
    assert set(_http.credential_secrets(password="only-a-password")) == {"only-a-password"}
    assert tuple(_http.credential_secrets(None, username="u", password=None)) == ()


def test_an_error_echoing_the_authorization_header_is_scrubbed():
    _auth, secrets = _http.token_or_password("Peer backend", "token", None, "api", SECRET)
    header = requests.Request("GET", URL, auth=_http.BasicAuth("api", SECRET)).prepare().headers["Authorization"]
    echoed = _http.status_error(FakeResponse(400), f"bad request; you sent Authorization: {header} ({'api:' + SECRET})", what=WHAT,
                                secrets=secrets, redirect="r", refusal="no")
    assert echoed.message == f"{WHAT}: HTTP 400 bad request; you sent Authorization: Basic *** (***); no"
    assert SECRET not in echoed.message and header[6:] not in echoed.message


# http:// and credentials ---------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["https://peer.example/api", "http://127.0.0.1:8080/x", "http://127.9.9.9/", "http://localhost/",
                                 "http://LOCALHOST.:81/", "http://[::1]:9093/"])
def test_https_and_loopback_may_carry_a_credential(url):
    _http.refuse_clear_text(url, client="the peer client", credential="the token", allow_http=False)


@pytest.mark.parametrize("url, host", [("http://peer.example/api", "peer.example"), ("HTTP://10.0.0.5:8080", "10.0.0.5"),
                                       ("http://[2001:db8::1]/", "2001:db8::1"), ("http://localhost.example.net/", "localhost.example.net")])
def test_http_to_another_machine_is_refused_unless_allowed(url, host):
    with pytest.raises(BackendError) as info:
        _http.refuse_clear_text(url, client="the peer client", credential="the token", allow_http=False)
    assert info.value.retryable is False
    assert info.value.message == (f"the peer client would send the token in clear text over http:// to {host}: use https://, or allow "
                                  "it for a trusted network with allow_http (IMAGICLE_ALLOW_HTTP=true)")
    _http.refuse_clear_text(url, client="the peer client", credential="the token", allow_http=True)


# answers ------------------------------------------------------------------------------------------------
def test_json_answer_decodes_json_and_gives_none_for_no_body():
    assert _http.json_answer(FakeResponse(200, {"Content-Type": "application/json"}, b'{"a": 1}'), what=WHAT,
                             secrets=_http.Secrets()) == {"a": 1}
    assert _http.json_answer(FakeResponse(200, {}, b"[]"), what=WHAT, secrets=_http.Secrets()) == []
    assert _http.json_answer(FakeResponse(200, {}, b""), what=WHAT, secrets=_http.Secrets()) is None
    assert _http.json_answer(FakeResponse(201, {}, b"  \r\n"), what=WHAT, secrets=_http.Secrets()) is None


@pytest.mark.parametrize("headers, content", [
    ({"Content-Type": "text/html; charset=utf-8"}, b'{"looks": "like json"}'),
    ({"Content-Type": "application/json"}, b"\n  <!DOCTYPE html><html><body>Login</body></html>"),
    ({}, b"<html><head><title>Proxy</title></head></html>"),
])
def test_an_html_page_is_a_refused_backend_wide_failure(headers, content):
    """A login page or a proxy's page needs a person, like a 401: the run fails loudly, the action stays queued."""
    with pytest.raises(BackendError) as info:
        _http.json_answer(FakeResponse(200, headers, content), what=WHAT, secrets=_http.Secrets())
    assert (info.value.retryable, info.value.backend_wide, info.value.status) == (False, True, 200)
    assert info.value.message == (f"{WHAT}: HTML page (HTTP 200) instead of JSON: a login page or a proxy? check the url and what "
                                  "stands in front of the peer; the action stays queued and later runs retry it")


def test_a_body_that_is_not_json_is_a_retryable_backend_wide_failure_that_shows_it():
    with pytest.raises(BackendError) as info:
        _http.json_answer(FakeResponse(200, {}, f"OK {SECRET}\n".encode()), what=WHAT, secrets=_http.Secrets([SECRET]))
    assert (info.value.retryable, info.value.backend_wide, info.value.status) == (True, True, 200)
    assert info.value.message == f"{WHAT}: HTTP 200 with a body that is not JSON ('OK ***'); check the url; will retry"


def test_shape_error_names_what_was_expected_and_what_came():
    error = _http.shape_error(WHAT, 200, "an object with 'items'", {"token": SECRET, "rows": []}, _http.Secrets([SECRET]))
    assert (error.retryable, error.backend_wide, error.status) == (True, True, 200)
    assert error.message == (f"""{WHAT}: HTTP 200: the answer is not an object with 'items' (got '{{"token": "***", "rows": []}}'); """
                             "check that the url is the peer's API; will retry")
    assert "(got no body)" in _http.shape_error(WHAT, 202, "x", None, _http.Secrets()).message


# deadlines ----------------------------------------------------------------------------------------------
DRIP = 0.05  # seconds between two bytes of a slow answer
OPTIONS = {"what": "Peer GET", "secrets": _http.Secrets([SECRET]), "reach": "check the peer"}


@pytest.fixture
def peers():
    """Start SlowPeers; all are closed at the end of the test."""
    started = []

    def start(answers, **kwargs):
        peer = SlowPeer(answers, **kwargs)
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.close()


def timed_send(url: str, timeout: float, session=None, **kwargs) -> tuple[BackendError, float]:
    """The error of one GET of ``url`` and the seconds it took."""
    started = time.monotonic()
    with pytest.raises(BackendError) as info:
        _http.send(session or _http.new_session("agent/1.0"), "GET", url, timeout=timeout, **OPTIONS, **kwargs)
    return info.value, time.monotonic() - started


def no_watchdog_left() -> bool:
    return not any(isinstance(thread, threading.Timer) and thread.is_alive() for thread in threading.enumerate())


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: " + b"x" * 400 + b"\r\n\r\n{}",  # headers dripping
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n" + b" " * 398 + b"{}",  # body dripping
])
def test_a_peer_dripping_its_answer_is_cut_off_at_the_total_deadline(peers, answer):
    """Each byte comes well within any per-read timeout; only a total deadline ends the call."""
    peer = peers([(answer, DRIP)])
    error, took = timed_send(f"http://127.0.0.1:{peer.port}/", 0.6)
    assert (error.retryable, error.backend_wide, error.status) == (True, True, None)
    assert error.message == "Peer GET: no complete answer within 0.6 s; will retry"
    assert 0.5 < took < 1.5
    assert no_watchdog_left()


def test_an_answer_cut_short_by_the_deadline_does_not_count(peers):
    """Without Content-Length the body ends when the connection does: the shutdown must not pass for the end."""
    peer = peers([(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\n\r\n" + b" " * 400 + b"{}", DRIP)])
    error, took = timed_send(f"http://127.0.0.1:{peer.port}/", 0.6)
    assert error.message == "Peer GET: no complete answer within 0.6 s; will retry"
    assert took < 1.5


def test_a_peer_that_never_answers_is_cut_off(peers):
    peer = peers([(None, 0)])
    error, took = timed_send(f"http://127.0.0.1:{peer.port}/", 0.4)
    assert error.message == "Peer GET: no complete answer within 0.4 s; will retry"
    assert took < 1.2 and peer.connections == 1


def test_a_pooled_connection_is_watched_too(peers):
    fast = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    slow = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n" + b" " * 398 + b"{}"
    peer = peers([(fast, 0), (slow, DRIP)])
    session = _http.new_session("agent/1.0")
    url = f"http://127.0.0.1:{peer.port}/"
    assert _http.send(session, "GET", url, timeout=5, **OPTIONS).json() == {}
    error, took = timed_send(url, 0.6, session=session)
    assert error.message == "Peer GET: no complete answer within 0.6 s; will retry"
    assert took < 1.5 and peer.connections == 1  # the second request went over the first connection


def test_a_fast_answer_is_untouched_and_leaves_no_thread(peers):
    peer = peers([(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{\"a\": 1}", 0)])
    response = _http.send(_http.new_session("agent/1.0"), "GET", f"http://127.0.0.1:{peer.port}/", timeout=5, **OPTIONS)
    assert response.json() == {"a": 1}
    assert no_watchdog_left()


def test_the_action_deadline_wins_when_it_comes_first(peers):
    peer = peers([(None, 0)])
    error, took = timed_send(f"http://127.0.0.1:{peer.port}/", 30, deadline=time.monotonic() + 0.4)
    assert (error.retryable, error.backend_wide) == (True, False)  # the run is out of time, not the peer out of order
    assert error.message.startswith("Peer GET: no complete answer within 0.") and took < 1.2


def test_a_deadline_already_past_sends_nothing(peers):
    peer = peers([(None, 0)])
    error, _took = timed_send(f"http://127.0.0.1:{peer.port}/", 5, deadline=time.monotonic() - 0.01)
    assert (error.retryable, error.backend_wide) == (True, False)
    assert error.message == "Peer GET: not sent: the deadline of this action had already passed; will retry"
    time.sleep(0.1)
    assert peer.connections == 0


def test_budget():
    assert _http.budget(10.0, None, WHAT, _http.Secrets()) == (10.0, False)
    seconds, clipped = _http.budget(10.0, time.monotonic() + 2, WHAT, _http.Secrets())
    assert 1.5 < seconds <= 2 and clipped
    assert _http.budget(1.0, time.monotonic() + 60, WHAT, _http.Secrets()) == (1.0, False)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made with the openssl CLI."""
    directory = tmp_path_factory.mktemp("http-tls")
    cert, key = directory / "peer.pem", directory / "peer.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    return str(cert), str(key)


def test_a_tls_peer_dripping_its_answer_is_cut_off_too(peers, tls_files):
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n" + b" " * 398 + b"{}"
    peer = peers([(answer, DRIP)], tls=context)
    session = _http.new_session("agent/1.0", ca_path=cert)
    error, took = timed_send(f"https://127.0.0.1:{peer.port}/", 0.8, session=session)
    assert error.message == "Peer GET: no complete answer within 0.8 s; will retry"
    assert took < 2
    fast = peers([(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 0)], tls=context)
    assert _http.send(session, "GET", f"https://127.0.0.1:{fast.port}/", timeout=5, **OPTIONS).json() == {}
    assert no_watchdog_left()
