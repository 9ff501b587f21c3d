# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AlertmanagerPager with answers a real Alertmanager does not give (a proxy's, a login page's).

The behaviour against a real Alertmanager 0.25 is tested in tests/paging/test_alertmanager.py;
here a scripted server on 127.0.0.1 answers what a reverse proxy with Basic authentication, or
something that is not Alertmanager, could answer.
"""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import ActionContext, BackendError, Pager
from ansible_collections.imagicle.proactive.plugins.plugin_utils.paging.alertmanager import AlertmanagerPager

from ._scripted_http import ScriptedHttp

PASSWORD = "am-proxy-pw-SECRET-5f1c"
CTX = ActionContext(case_key="fp-1-20261127T100000Z", action_id="fp-1-20261127T100000Z:page")
PAGE = {"summary": "P1: disk C: 97 % full on ias-01 (acme)", "customer": "acme", "host": "ias-01", "rule": "disk_space"}


@pytest.fixture
def am():
    server = ScriptedHttp()
    yield server
    server.close()


@pytest.fixture
def pager(am):
    return AlertmanagerPager(am.url, username="proactive", password=PASSWORD)


def fails(call) -> BackendError:
    with pytest.raises(BackendError) as info:
        call()
    assert PASSWORD not in info.value.message + repr(info.value)
    return info.value


def test_the_pager_has_the_pager_interface():
    assert issubclass(AlertmanagerPager, Pager)


@pytest.mark.parametrize("body, content_type", [(b"", "text/plain"), (b"", "application/json"), (b'"ok"', "application/json"),
                                                (b"{}", "application/json")])
def test_an_empty_body_or_json_counts(am, pager, body, content_type):
    am.answer(200, body, content_type)
    am.answer(200, body, content_type)
    assert pager.trigger(CTX, "case-fp-1", PAGE) == "case-fp-1"
    pager.clear(CTX, "case-fp-1", PAGE)
    trigger, clear = (json.loads(request["raw"])[0] for request in am.requests)
    assert trigger["labels"] == clear["labels"] and "startsAt" in trigger and "startsAt" not in clear
    assert am.requests[0]["headers"]["authorization"] == "Basic " + base64.b64encode(f"proactive:{PASSWORD}".encode()).decode()


@pytest.mark.parametrize("content_type, body, text", [
    ("text/html", b"<!DOCTYPE html><html><title>Sign in</title></html>", "HTML page (HTTP 200) instead of JSON: a login page or a proxy?"),
    ("text/plain", b"<html><body>proxy</body></html>", "HTML page (HTTP 200)"),
    ("text/plain", b"accepted", "HTTP 200 with a body that is not JSON ('accepted')"),
])
def test_any_other_2xx_body_is_a_backend_wide_failure(am, pager, content_type, body, text):
    """An HTML page needs a person (refused: the run fails loudly, the page stays queued); another body is retried."""
    am.answer(200, body, content_type)
    error = fails(lambda: pager.trigger(CTX, "case-fp-2", PAGE))
    assert (error.retryable, error.backend_wide, error.status) == ("HTML page" not in text, True, 200)
    assert error.message.startswith(f"Alertmanager POST {am.url}/api/v2/alerts: ") and text in error.message


@pytest.mark.parametrize("status, extra", [(401, {}), (403, {}), (302, {"Location": "https://sso.example.net/login"}),
                                           (307, {"Location": "/login"})])
def test_refused_credentials_and_redirects_need_a_person(am, pager, status, extra):
    am.answer(status, b"", "text/plain", **extra)
    error = fails(lambda: pager.clear(CTX, "case-fp-3", PAGE))
    assert (error.retryable, error.backend_wide, error.status) == (False, True, status)
    if status in (401, 403):
        assert "check username/password" in error.message


def test_an_error_echoing_the_authorization_header_is_scrubbed(am, pager):
    header = "Basic " + base64.b64encode(f"proactive:{PASSWORD}".encode()).decode()
    am.answer(400, json.dumps(f"bad alert from proactive:{PASSWORD} with Authorization: {header}"))
    error = fails(lambda: pager.trigger(CTX, "case-fp-4", PAGE))
    assert error.message.endswith("HTTP 400 bad alert from *** with Authorization: Basic ***; Alertmanager will not accept this alert as it is")
    assert header[6:] not in error.message


def test_http_with_a_password_to_another_machine_is_refused_unless_allowed():
    with pytest.raises(BackendError) as info:
        AlertmanagerPager("http://alertmanager.example.net:9093", username="proactive", password=PASSWORD)
    assert info.value.retryable is False
    assert info.value.message == ("the Alertmanager pager would send the password in clear text over http:// to alertmanager.example.net: "
                                  "use https://, or allow it for a trusted network with allow_http (IMAGICLE_ALLOW_HTTP=true)")
    assert AlertmanagerPager("http://alertmanager.example.net:9093", username="proactive", password=PASSWORD, allow_http=True).url
    assert AlertmanagerPager("http://alertmanager.example.net:9093").url  # nothing secret is sent without credentials
