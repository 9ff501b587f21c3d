# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The standard-library HTTP client of the collectors, against real loopback servers."""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import threading
import time

import pytest

from ansible_collections.imagicle.proactive.plugins.module_utils import _http
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import CollectorError
from ansible_collections.imagicle.proactive.tests.unit.plugins.module_utils.collectors._netfixtures import (  # noqa: F401 pylint: disable=unused-import
    Route, closed_port, connect_proxy, tls_files, web, web_tls,
)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_plain_get_returns_status_headers_body_and_latency(web):
    web.routes["/x"] = Route('{"a": 1}', headers={"X-Thing": "yes"})
    result = _http.http_get(web.url("/x"), 5)
    assert result.status == 200
    assert result.reason == "OK"
    assert result.body == b'{"a": 1}'
    assert result.headers["x-thing"] == "yes"
    assert result.headers["content-type"] == "application/json"
    assert result.tls is None
    assert 0 < result.latency_ms < 5000
    assert result.started <= result.headers_at


def test_error_status_is_a_result_not_an_exception(web):
    web.routes["/boom"] = Route("oops", status=500, content_type="text/plain")
    result = _http.http_get(web.url("/boom"), 5)
    assert result.status == 500
    assert result.body == b"oops"


def test_basic_auth_is_sent(web):
    web.routes["/auth"] = Route("[]", auth=("proactive", "pa:ss"))
    assert _http.http_get(web.url("/auth"), 5, username="proactive", password="pa:ss").status == 200
    assert _http.http_get(web.url("/auth"), 5, username="proactive", password="wrong").status == 401


def test_https_with_ca_reports_certificate_expiry(web_tls, tls_files):
    web_tls.routes["/"] = Route("hi", content_type="text/plain")
    result = _http.http_get(web_tls.url("/"), 5, ca_path=tls_files.ca)
    assert result.status == 200
    assert result.tls["subject"] == tls_files.cn
    assert ISO.match(result.tls["not_after"])
    assert tls_files.days - 1 < result.tls["days_left"] <= tls_files.days


def test_https_without_validation_still_reads_expiry(web_tls, tls_files):
    web_tls.routes["/"] = Route("hi", content_type="text/plain")
    result = _http.http_get(web_tls.url("/"), 5, validate_certs=False)
    assert result.status == 200
    assert result.tls["subject"] == tls_files.cn
    assert tls_files.days - 1 < result.tls["days_left"] <= tls_files.days


@pytest.mark.parametrize("validate", [True, False])
def test_https_certificate_read_when_server_closes_after_answer(web_tls, tls_files, validate):
    web_tls.routes["/"] = Route("bye", content_type="text/plain", headers={"Connection": "close"})
    result = _http.http_get(web_tls.url("/"), 5, ca_path=tls_files.ca, validate_certs=validate)
    assert result.body == b"bye"
    assert result.tls["subject"] == tls_files.cn


def test_https_signed_by_another_ca_says_set_ca_path(web_tls, tls_files):
    with pytest.raises(CollectorError) as err:
        _http.http_get(web_tls.url("/"), 5, ca_path=tls_files.other_ca)
    message = str(err.value)
    assert web_tls.url("/") in message
    assert "set ca_path to the CA that signed the server certificate" in message


def test_missing_ca_file_is_named(web_tls, tmp_path):
    with pytest.raises(CollectorError, match="does not exist"):
        _http.http_get(web_tls.url("/"), 5, ca_path=str(tmp_path / "nope.pem"))


def test_one_tls_context_per_ca_file_until_the_file_changes(web_tls, tls_files, tmp_path):
    ca = tmp_path / "ca.pem"
    shutil.copyfile(tls_files.ca, str(ca))
    first = _http._tls_context(True, str(ca))
    assert _http._tls_context(True, str(ca)) is first
    web_tls.routes["/"] = Route("hi", content_type="text/plain")
    assert _http.http_get(web_tls.url("/"), 5, ca_path=str(ca)).status == 200
    # Another CA in the same file: a new context, which no longer trusts the server.
    shutil.copyfile(tls_files.other_ca, str(ca))
    assert _http._tls_context(True, str(ca)) is not first
    with pytest.raises(_http.TlsVerifyError):
        _http.http_get(web_tls.url("/"), 5, ca_path=str(ca))


def test_the_unverified_context_loads_no_ca():
    context = _http._tls_context(False, None)
    assert context is _http._tls_context(False, "/ignored/when/not/validating.pem")
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0


@pytest.mark.parametrize("text", [
    "Nov 26 05:40:00 2026 GMT", "Jan  5 00:00:00 2030 GMT", "Jan 05 23:59:59 1999 GMT", "Feb 29 23:59:60 2024 GMT",
    "Jun 1 1:2:3 2026 GMT", "nov 26 05:40:00 2026 GMT", "Feb 29 12:00:00 2023 GMT",
])
def test_certificate_dates_read_as_ssl_reads_them(text):
    assert _http.cert_time_to_seconds(text) == ssl.cert_time_to_seconds(text)


@pytest.mark.parametrize("text", ["Nov 26 05:40:00 2026 UTC", "Nov 26 25:00:00 2026 GMT", "", "soon"])
def test_certificate_dates_ssl_cannot_read_are_refused(text):
    with pytest.raises(ValueError):
        ssl.cert_time_to_seconds(text)
    with pytest.raises(ValueError):
        _http.cert_time_to_seconds(text)


def test_tls_to_a_plain_http_port(web):
    url = "https://127.0.0.1:%d/" % web.port
    with pytest.raises(CollectorError, match="TLS handshake failed") as err:
        _http.http_get(url, 5)
    assert url in str(err.value)


def test_refused_connection_names_url_but_not_password(closed_port):
    url = "http://proactive:TopSecret9@127.0.0.1:%d/api" % closed_port
    with pytest.raises(CollectorError) as err:
        _http.http_get(url, 5)
    message = str(err.value)
    assert "connection refused" in message
    assert "http://127.0.0.1:%d/api" % closed_port in message
    assert "TopSecret9" not in message


def test_slow_server_times_out(web):
    web.routes["/slow"] = Route("late", delay=3)
    started = time.monotonic()
    with pytest.raises(CollectorError, match=r"no answer within 0\.4 s"):
        _http.http_get(web.url("/slow"), 0.4)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "127.0.0.1/x", "", "http:///nohost", "http://127.0.0.1:99999/"])
def test_bad_urls(url):
    with pytest.raises(CollectorError):
        _http.http_get(url, 1)


def test_body_cap(web):
    web.routes["/big"] = Route(b"x" * 5000, content_type="text/plain")
    assert len(_http.http_get(web.url("/big"), 5, max_bytes=5000).body) == 5000
    with pytest.raises(CollectorError, match="larger than 4999 bytes"):
        _http.http_get(web.url("/big"), 5, max_bytes=4999)


def test_not_an_http_server():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve():
        conn, _addr = listener.accept()
        conn.recv(1024)
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(CollectorError, match="invalid HTTP answer"):
            _http.http_get("http://127.0.0.1:%d/" % listener.getsockname()[1], 5)
    finally:
        thread.join(5)
        listener.close()


def test_get_json_ok(web):
    web.routes["/j"] = Route('{"message": "successfully connected!"}')
    data, result = _http.get_json(web.url("/j"), 5)
    assert data == {"message": "successfully connected!"}
    assert result.status == 200


@pytest.mark.parametrize("status", [401, 403])
def test_get_json_auth_errors_mention_permission_level(web, status):
    web.routes["/j"] = Route("denied", status=status, content_type="text/plain")
    with pytest.raises(CollectorError, match="Complete Management") as err:
        _http.get_json(web.url("/j"), 5, username="u", password="SecretPw1")
    assert "SecretPw1" not in str(err.value)


def test_get_json_non_2xx(web):
    web.routes["/j"] = Route("{}", status=503)
    with pytest.raises(CollectorError, match="HTTP 503"):
        _http.get_json(web.url("/j"), 5)


def test_get_json_html_page(web):
    web.routes["/j"] = Route("<!DOCTYPE html>\n<html><head><title>Login</title></head></html>", content_type="text/html")
    with pytest.raises(CollectorError, match="HTML page") as err:
        _http.get_json(web.url("/j"), 5)
    assert "\\n" in str(err.value)  # escaped, on one line
    assert "\n" not in str(err.value)


def test_get_json_garbage_and_empty(web):
    web.routes["/g"] = Route("not json at all", content_type="text/plain")
    web.routes["/e"] = Route("", content_type="text/plain")
    with pytest.raises(CollectorError, match='text starting "not json at all"'):
        _http.get_json(web.url("/g"), 5)
    with pytest.raises(CollectorError, match="empty body"):
        _http.get_json(web.url("/e"), 5)


def test_https_through_connect_proxy(web_tls, tls_files, connect_proxy):
    web_tls.routes["/test"] = Route('{"ok": true}')
    data, result = _http.get_json(web_tls.url("/test"), 5, ca_path=tls_files.ca, proxy=connect_proxy.url)
    assert data == {"ok": True}
    assert result.tls["subject"] == tls_files.cn
    assert connect_proxy.tunnels == ["127.0.0.1:%d" % web_tls.port]


def test_proxy_that_cannot_reach_the_target(connect_proxy, closed_port):
    with pytest.raises(CollectorError, match="proxy refused the tunnel") as err:
        _http.http_get("https://127.0.0.1:%d/" % closed_port, 5, proxy=connect_proxy.url)
    assert connect_proxy.url in str(err.value)


def test_proxy_refused(web_tls, closed_port):
    with pytest.raises(CollectorError, match="connection refused"):
        _http.http_get(web_tls.url("/"), 5, proxy="http://127.0.0.1:%d" % closed_port)


def test_credential_forms_cover_what_a_basic_header_or_an_echo_carries():
    import base64
    forms = _http.url_credential_forms("http://us%40er:p%C3%A0ss-w0rd@proxy.example:3128")
    for form in ("p%C3%A0ss-w0rd", "pàss-w0rd", "us@er:pàss-w0rd", "us%40er:p%C3%A0ss-w0rd",
                 base64.b64encode("us@er:pàss-w0rd".encode("utf-8")).decode(),
                 base64.b64encode("us@er:pàss-w0rd".encode("latin-1")).decode()):
        assert form in forms
    assert _http.url_credential_forms("http://proxy.example:3128") == set()
    assert _http.url_credential_forms(None) == set()
    # A password too short to mask on its own is still masked with its user name, in both forms.
    assert "abc" not in _http.credential_forms("u", "abc") and "u:abc" in _http.credential_forms("u", "abc")


def test_credential_forms_in_walks_nested_options():
    options = {"webapi": {"username": "api", "password": "W3b-secret"}, "cloud": {"proxy": "http://p:Pr0xy-pw@h:1"},
               "list": [{"url": "https://a:L1st-pw@h/"}], "timeout": 3, "none": None}
    forms = _http.credential_forms_in(options)
    assert {"W3b-secret", "api:W3b-secret", "Pr0xy-pw", "p:Pr0xy-pw", "L1st-pw"} <= forms
