# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RtBackend with answers a real Request Tracker rarely gives: each must have its documented shape to count.

The behaviour against a real RT 5 (tickets, comments, history markers, statuses, 302 and HTML
pages RT really sends) is tested in tests/backends/test_rt_backend.py; here a scripted server on
127.0.0.1 gives what a proxy, a broken installation or a changed RT could answer.
"""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import ActionContext, BackendError, CaseBackend
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.rt import RtBackend, action_marker, case_status

from ._scripted_http import ScriptedHttp
from ._slow_peers import SlowPeer

TOKEN = "1-27-0123456789abcdef0123456789abcdef"
PASSWORD = "rt-Pass-5c1e9a"
CTX = ActionContext(case_key="fp-1-20261127T100000Z", action_id="fp-1-20261127T100000Z:resolve")
CASE = {"title": "Disk C: almost full", "priority": "P3", "body": "93 % full"}
NO_TICKETS = json.dumps({"count": 0, "page": 1, "per_page": 100, "items": []})
TICKET = json.dumps({"id": 7, "Status": "open", "Priority": 50, "Subject": "[alarm:fp-1-20261127T100000Z] Disk",
                     "CustomFields": [{"name": "AlarmKey", "values": ["fp-1-20261127T100000Z"]}]})


@pytest.fixture
def rt():
    server = ScriptedHttp()
    yield server
    server.close()


@pytest.fixture
def backend(rt):
    return RtBackend(rt.url, token=TOKEN)


def fails(call) -> BackendError:
    with pytest.raises(BackendError) as info:
        call()
    assert TOKEN not in info.value.message + repr(info.value)
    return info.value


def test_the_backend_has_the_case_backend_interface():
    assert issubclass(RtBackend, CaseBackend) and RtBackend.readable is True
    assert [case_status(status) for status in ("new", "open", "stalled", "resolved", "rejected")] == \
        ["open", "open", "open", "resolved", "resolved"]
    assert action_marker("fp-1:resolve") == "[action:fp-1:resolve]"


@pytest.mark.parametrize("status, content_type, body, text", [
    (200, "text/html", "<!DOCTYPE html><html><title>Login</title></html>", "HTML page (HTTP 200) instead of JSON: a login page or a proxy?"),
    (200, "application/json", "Service temporarily in maintenance", "HTTP 200 with a body that is not JSON ('Service temporarily"),
    (200, "application/json", '{"count": 0}', "the answer is not an object with 'items' (got '{\"count\": 0}')"),
    (200, "application/json", '{"items": "none"}', "the answer is not an object with 'items'"),
    (200, "application/json", "", "the answer is not an object with 'items' (got no body)"),
])
def test_a_search_answer_without_its_shape_is_a_backend_wide_failure(rt, backend, status, content_type, body, text):
    """Retried, except an HTML page: that needs a person (refused: the run fails loudly, the action stays queued)."""
    rt.answer(status, body, content_type)
    error = fails(lambda: backend.find(CTX))
    assert (error.retryable, error.backend_wide, error.status) == ("HTML page" not in text, True, 200)
    assert error.message.startswith(f"Request Tracker GET {rt.url}/REST/2.0/tickets")
    assert text in error.message


@pytest.mark.parametrize("status, body", [(200, '{"id": "7"}'), (201, '{"type": "ticket"}'), (201, '["Ticket 7 created"]'),
                                          (201, '{"id": "7; DROP"}')])
def test_a_create_answer_without_201_and_a_ticket_id_does_not_count(rt, backend, status, body):
    rt.answer(200, NO_TICKETS)
    rt.answer(status, body)
    error = fails(lambda: backend.create(CTX, CASE))
    assert (error.retryable, error.backend_wide, error.status) == (True, True, status)
    assert "the answer is not HTTP 201 with an object carrying the new ticket's 'id'" in error.message
    assert [request["method"] for request in rt.requests] == ["GET", "POST"]


def test_a_create_is_done_when_its_answers_have_their_shape(rt, backend):
    rt.answer(200, NO_TICKETS)
    rt.answer(201, '{"type": "ticket", "id": "7", "_url": "x"}', Location="/REST/2.0/ticket/7")
    rt.answer(200, TICKET)
    ref = backend.create(CTX, CASE)
    assert (ref.ref, ref.status, ref.warning) == ("7", "open", None)


def test_an_update_answer_that_is_not_a_message_array_does_not_count(rt, backend):
    rt.answer(200, json.dumps({"id": 7, "Status": "open", "Priority": 50}))
    rt.answer(200, '{"ok": true}')
    error = fails(lambda: backend.update_priority(CTX, "7", "P1", None))
    assert (error.retryable, error.backend_wide) == (True, True)
    assert f"Request Tracker PUT {rt.url}/REST/2.0/ticket/7: HTTP 200: the answer is not a JSON array of messages" in error.message


def test_a_comment_answer_without_201_does_not_count(rt, backend):
    rt.answer(200, json.dumps({"items": []}))  # the history has no comment of this action
    rt.answer(200, '["Comments added"]')
    error = fails(lambda: backend.comment(CTX, "7", "checked"))
    assert (error.retryable, error.backend_wide, error.status) == (True, True, 200)
    assert "the answer is not HTTP 201 with a JSON array of messages" in error.message
    comment = json.loads(rt.requests[-1]["raw"])
    assert comment == {"Subject": f"[action:{CTX.action_id}]", "Content": "checked", "ContentType": "text/plain"}


def test_a_comment_found_in_the_history_is_not_posted_again(rt, backend):
    history = {"items": [{"id": "40", "Type": "Status", "Data": ""},
                         {"id": "39", "Type": "Comment", "Data": f"[action:{CTX.action_id}]\n"}], "count": 2}
    rt.answer(200, json.dumps(history))
    backend.comment(CTX, "7", "checked")
    assert [request["method"] for request in rt.requests] == ["GET"]
    assert rt.requests[0]["path"].startswith("/REST/2.0/ticket/7/history?")
    assert "orderby=id" in rt.requests[0]["path"] and "order=DESC" in rt.requests[0]["path"]


def test_the_history_is_read_page_by_page(rt, backend):
    rt.answer(200, json.dumps({"items": [{"id": "90", "Type": "Comment", "Data": "[action:other]"}], "next_page": "x"}))
    rt.answer(200, json.dumps({"items": [{"id": "12", "Type": "Comment", "Data": f"[action:{CTX.action_id}]"}]}))
    backend.comment(CTX, "7", "checked")
    assert len(rt.requests) == 2 and "page=2" in rt.requests[1]["path"]


@pytest.mark.parametrize("status, retryable, backend_wide", [
    (500, True, False), (502, True, True), (503, True, True), (504, True, True), (408, True, False), (429, True, True),
    (400, False, False), (403, False, False), (404, False, False), (409, False, False),
])
def test_error_statuses_are_classified(rt, backend, status, retryable, backend_wide):
    rt.answer(status, json.dumps({"message": f"status {status}"}))
    error = fails(lambda: backend.find(CTX))
    assert (error.status, error.retryable, error.backend_wide) == (status, retryable, backend_wide)
    assert f"status {status}" in error.message


def test_401_says_to_check_the_token_or_the_password(rt):
    rt.answer(401, '{"message": "Unauthorized"}')
    error = fails(lambda: RtBackend(rt.url, token=TOKEN).find(CTX))
    assert (error.retryable, error.backend_wide) == (False, True)
    assert error.message.endswith("HTTP 401 Unauthorized: RT rejected the token (rotated or wrong): check IMAGICLE_RT_TOKEN")
    rt.answer(401, '{"message": "Unauthorized"}')
    error = fails(lambda: RtBackend(rt.url, username="api", password=PASSWORD).find(CTX))
    assert error.message.endswith("RT rejected the username/password: check them")


def test_an_error_echoing_the_basic_authorization_is_scrubbed(rt):
    backend = RtBackend(rt.url, username="proactive-api", password=PASSWORD)
    rt.answer(400, json.dumps({"message": "bad"}))  # find: nothing to echo yet
    error = fails(lambda: backend.find(CTX))
    header = rt.requests[0]["headers"]["authorization"]
    assert header == "Basic " + base64.b64encode(f"proactive-api:{PASSWORD}".encode()).decode()
    rt.answer(400, json.dumps({"message": f"JSON parse error near Authorization: {header} (proactive-api:{PASSWORD})"}))
    error = fails(lambda: backend.find(CTX))
    assert "Authorization: Basic *** (***)" in error.message
    assert PASSWORD not in error.message and header[6:] not in error.message


def test_a_slow_rt_is_cut_off_at_the_total_deadline():
    peer = SlowPeer([(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 300\r\n\r\n" + b" " * 298 + b"{}", 0.05)])
    try:
        error = fails(lambda: RtBackend(f"http://127.0.0.1:{peer.port}", token=TOKEN, timeout=0.5).find(CTX))
    finally:
        peer.close()
    assert (error.retryable, error.backend_wide) == (True, True)
    assert error.message == f"Request Tracker GET http://127.0.0.1:{peer.port}/REST/2.0/tickets: no complete answer within 0.5 s; will retry"
