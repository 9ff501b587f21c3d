# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP layer shared by the case backends and the pagers: secrets stay hidden, failures are classified.

Transport failures are raised by a stand-in session (and, for a refused connection and a silent
peer, by real sockets on 127.0.0.1); answers are stand-in responses.
"""

from __future__ import annotations

import socket

import pytest
import requests

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends import _http
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import BackendError

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
    def __init__(self, status: int, headers: dict | None = None, reason: str = "Reason") -> None:
        self.status_code = status
        self.headers = headers or {}
        self.reason = reason


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


def test_timeout_is_retryable():
    error = fail(requests.ReadTimeout(f"read timed out {SECRET}"))
    assert error.retryable and error.message == f"{WHAT}: no answer within 2.5 s; will retry"


@pytest.mark.parametrize("exc, reason", [
    (requests.ConnectionError("[Errno 111] Connection refused"), "connection refused"),
    (requests.ConnectionError("Name or service not known"), "cannot connect (ConnectionError)"),
    (requests.exceptions.ProxyError("proxy down"), "cannot connect (ProxyError)"),
])
def test_connection_failures_are_retryable(exc, reason):
    error = fail(exc)
    assert error.retryable and error.message == f"{WHAT}: {reason}; check the peer; will retry"


def test_untrusted_certificate_is_final_where_the_client_names_the_certificate():
    error = fail(requests.exceptions.SSLError("certificate verify failed"), certificate="the peer's")
    assert not error.retryable
    assert error.message == f"{WHAT}: TLS certificate not trusted; give ca_path (or fix the peer's certificate)"


def test_tls_failure_is_a_failed_connection_otherwise():
    error = fail(requests.exceptions.SSLError("EOF occurred in violation of protocol"))
    assert error.retryable and error.message == f"{WHAT}: cannot connect (SSLError); check the peer; will retry"


def test_other_request_failures_are_retryable_with_or_without_their_text():
    error = fail(requests.exceptions.ChunkedEncodingError(f"broken at {URL}?key={SECRET}"))
    assert error.retryable and error.message == f"{WHAT}: ChunkedEncodingError: broken at {URL}?key=***"
    error = fail(requests.exceptions.ChunkedEncodingError(f"broken at {URL}?k=abc"), detail=False)
    assert error.retryable and error.message == f"{WHAT}: ChunkedEncodingError"


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
    assert (info.value.retryable, info.value.message) == (True, "Peer GET: no answer within 0.3 s; will retry")


# status_error -------------------------------------------------------------------------------------------
def status_error(status: int, headers: dict | None = None, said: str = "nope") -> BackendError:
    return _http.status_error(FakeResponse(status, headers), said, what=WHAT, secrets=_http.Secrets([SECRET]),
                              redirect="give the base URL", refusal="the peer will not accept this as it is",
                              hints={401: (f"bad credentials (not {SECRET})", False), 429: ("slow down; will retry", True)})


@pytest.mark.parametrize("status", [408, 425, 500, 502, 503, 504])
def test_server_errors_and_throttling_are_retryable(status):
    error = status_error(status)
    assert (error.retryable, error.status, error.message) == (True, status, f"{WHAT}: HTTP {status} nope; will retry")


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
def test_other_client_errors_are_final(status):
    error = status_error(status)
    assert (error.retryable, error.message) == (False, f"{WHAT}: HTTP {status} nope; the peer will not accept this as it is")


def test_hinted_statuses_keep_their_text_and_classification():
    assert (status_error(401).retryable, status_error(401).message) == (False, f"{WHAT}: HTTP 401 nope: bad credentials (not ***)")
    assert (status_error(429).retryable, status_error(429).message) == (True, f"{WHAT}: HTTP 429 nope: slow down; will retry")


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_final_and_name_the_target(status):
    error = status_error(status, {"Location": f"https://login.example/?t={SECRET}"})
    assert (error.retryable, error.status) == (False, status)
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
    assert requests.Request("GET", URL, auth=auth).prepare().headers["Authorization"].startswith("Basic ")
    assert tuple(secrets) == (SECRET,)


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
