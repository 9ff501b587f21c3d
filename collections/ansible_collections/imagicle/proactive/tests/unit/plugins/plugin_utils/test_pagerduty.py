# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PagerDutyPager against a local HTTP server that behaves as the documented Events API v2.

PagerDuty cannot run here, so this is a contract test: the server on 127.0.0.1 validates events
as the Events API v2 documentation describes them (routing_key of 32 characters; event_action
trigger|acknowledge|resolve; dedup_key ≤ 255 and required for acknowledge/resolve; a trigger's
payload with summary ≤ 1024, source, severity critical|error|warning|info; custom_details an
object) and answers 202 ``{"status":"success","message":"Event processed","dedup_key":...}``,
400 ``{"status":"invalid event","message":"Event object is invalid","errors":[...]}``, or a
status the test forces (429, 5xx).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import ActionContext, BackendError
from ansible_collections.imagicle.proactive.plugins.plugin_utils.paging.pagerduty import PagerDutyPager

ROUTING_KEY = "R0UT1NGK3Y0123456789abcdefSECRET"  # 32 characters, searched for in every message
PAGE = {
    "summary": "P1: disk C: 97 % full on ias-01 (acme)",
    "customer": "acme",
    "host": "ias-01.acme.example",
    "rule": "disk_space",
    "priority": "P1",
    "due": "2026-11-27T11:00:00Z",
    "case_ref": "4711",
    "case_url": "https://rt.example.net/Ticket/Display.html?id=4711",
}
SEVERITIES = ("critical", "error", "warning", "info")
CTX = ActionContext(case_key="fp-1-20261127T100000Z", action_id="fp-1-20261127T100000Z:page")


def validate(event) -> list[str]:
    """What the Events API v2 documentation says makes an alert event invalid (empty list: valid)."""
    if not isinstance(event, dict):
        return ["Event must be a JSON object"]
    errors = []
    key = event.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        errors.append("'routing_key' is invalid")
    action = event.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        errors.append("'event_action' is invalid (must be one of trigger, acknowledge, resolve)")
    dedup = event.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
        errors.append("'dedup_key' must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not dedup:
        errors.append("'dedup_key' is required for acknowledge and resolve")
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            return errors + ["'payload' is missing or not an object"]
        summary = payload.get("summary")
        if not isinstance(summary, str) or not summary:
            errors.append("'payload.summary' is missing")
        elif len(summary) > 1024:
            errors.append("'payload.summary' is longer than 1024 characters")
        if not isinstance(payload.get("source"), str) or not payload.get("source"):
            errors.append("'payload.source' is missing")
        if payload.get("severity") not in SEVERITIES:
            errors.append("'payload.severity' is invalid")
        if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
            errors.append("'payload.custom_details' must be an object")
        for link in event.get("links") or []:
            if not isinstance(link, dict) or not link.get("href"):
                errors.append("'links[].href' is required")
    return errors


class EventsApi(ThreadingHTTPServer):
    """The documented endpoint on a loopback port; records requests; ``forced`` statuses answer the next requests."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[dict] = []
        self.forced: list[int] = []
        self.answers: list[tuple[int, str, bytes]] = []  # (status, content type, body) for the next requests
        self.hold = threading.Event()
        self.hold.set()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v2/enqueue"


class Handler(BaseHTTPRequestHandler):
    server: EventsApi

    def log_message(self, *args) -> None:  # keep test output clean
        return

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.hold.wait(30)
        with self.server.lock:
            self.server.requests.append({"path": self.path, "headers": dict(self.headers), "raw": raw})
            forced = self.server.forced.pop(0) if self.server.forced else None
            answer = self.server.answers.pop(0) if self.server.answers else None
        if answer is not None:
            status, content_type, body = answer
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path != "/v2/enqueue":
            self._answer(404, {"status": "Not Found", "message": "Not Found"})
            return
        if forced == 429:
            message = "Requests for this service are arriving too quickly. Please retry later."
            self._answer(429, {"status": "throttle event", "message": message})
            return
        if forced:
            self._answer(forced, {"status": "error", "message": "Internal Server Error"})
            return
        try:
            event = json.loads(raw)
        except ValueError:
            self._answer(400, {"status": "Unrecognized object", "message": "Event object format is unrecognized",
                               "errors": ["JSON parse error"]})
            return
        errors = validate(event)
        if errors:
            self._answer(400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors})
            return
        self._answer(202, {"status": "success", "message": "Event processed",
                           "dedup_key": event.get("dedup_key") or "generated-0123"})


@pytest.fixture
def api():
    server = EventsApi()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.hold.set()
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def pager(api):
    return PagerDutyPager(ROUTING_KEY, url=api.url, timeout=5.0)


def sent(api, index: int = -1) -> dict:
    return json.loads(api.requests[index]["raw"])


def assert_no_secret(*texts: str) -> None:
    """Fails without printing the texts (pytest would show the secret in its diff)."""
    leaked = [index for index, text in enumerate(texts) if ROUTING_KEY in text or ROUTING_KEY[:16] in text]
    assert not leaked, f"the routing key appears in text number(s) {leaked}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# the contract server itself --------------------------------------------------------------------------
def test_contract_server_rejects_what_the_docs_call_invalid():
    assert validate({"routing_key": ROUTING_KEY, "event_action": "trigger", "dedup_key": "k",
                     "payload": {"summary": "s", "source": "h", "severity": "critical"}}) == []
    assert validate({"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "k"}) == []
    assert validate({"routing_key": ROUTING_KEY, "event_action": "resolve"})
    assert validate({"routing_key": "short", "event_action": "trigger", "payload": {"summary": "s", "source": "h", "severity": "critical"}})
    too_long = {"summary": "x" * 1025, "source": "h", "severity": "critical"}
    assert validate({"routing_key": ROUTING_KEY, "event_action": "trigger", "payload": too_long})
    bad_severity = {"summary": "s", "source": "h", "severity": "fatal"}
    assert validate({"routing_key": ROUTING_KEY, "event_action": "trigger", "payload": bad_severity})
    assert validate({"routing_key": ROUTING_KEY, "event_action": "close", "dedup_key": "k"})


# trigger ---------------------------------------------------------------------------------------------
def test_trigger_sends_the_documented_event_and_returns_the_dedup_key(api, pager):
    assert pager.trigger(CTX, "case-fp-1", PAGE) == "case-fp-1"
    assert len(api.requests) == 1
    request = api.requests[0]
    assert request["path"] == "/v2/enqueue"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["User-Agent"].startswith("imagicle.proactive-pager/")
    assert "Authorization" not in request["headers"]
    event = sent(api)
    assert event["routing_key"] == ROUTING_KEY
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == "case-fp-1"
    payload = event["payload"]
    assert payload["summary"] == PAGE["summary"]
    assert payload["source"] == "ias-01.acme.example"
    assert payload["severity"] == "critical"
    assert payload["custom_details"] == {
        "customer": "acme", "host": "ias-01.acme.example", "rule": "disk_space", "priority": "P1",
        "due": "2026-11-27T11:00:00Z", "case_ref": "4711", "case_url": PAGE["case_url"],
    }
    assert set(payload) == {"summary", "source", "severity", "custom_details"}
    assert event["links"] == [{"href": PAGE["case_url"], "text": "Case 4711"}]
    assert event["client"] == "imagicle.proactive"
    assert set(event) == {"routing_key", "event_action", "dedup_key", "payload", "client", "links"}


def test_trigger_without_a_case_yet(api, pager):
    pager.trigger(CTX, "case-fp-2", {**PAGE, "case_ref": None, "case_url": None})
    event = sent(api)
    assert "links" not in event
    assert event["payload"]["custom_details"]["case_ref"] is None
    assert event["payload"]["custom_details"]["case_url"] is None


def test_long_summary_is_truncated_to_1024_characters_and_accepted(api, pager):
    pager.trigger(CTX, "case-fp-3", {**PAGE, "summary": "é" * 3000})
    summary = sent(api)["payload"]["summary"]
    assert len(summary) <= 1024
    assert summary.startswith("é" * 1000) and summary.endswith("...")


def test_host_text_is_one_line_of_plain_data(api, pager):
    page = {**PAGE, "summary": "disk {{ lookup('env','HOME') }}\nFULL\r\x1b[31m <b>x</b>", "host": "ias-01\nevil"}
    pager.trigger(CTX, "case-fp-4", page)
    payload = sent(api)["payload"]
    assert payload["summary"] == "disk {{ lookup('env','HOME') }} FULL [31m <b>x</b>"
    assert payload["source"] == "ias-01 evil"


def test_source_falls_back_when_the_host_is_unknown(api, pager):
    pager.trigger(CTX, "case-fp-5", {**PAGE, "host": ""})
    assert sent(api)["payload"]["source"] == "acme"


def test_retriggering_sends_the_same_dedup_key(api, pager):
    pager.trigger(CTX, "case-fp-6", PAGE)
    pager.trigger(CTX, "case-fp-6", PAGE)
    assert [sent(api, index)["dedup_key"] for index in range(2)] == ["case-fp-6", "case-fp-6"]


# clear (a resolve event) ---------------------------------------------------------------------------------------------
def test_clear_carries_only_routing_key_action_and_dedup_key(api, pager):
    assert pager.clear(CTX, "case-fp-7", PAGE) is None
    assert sent(api) == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "case-fp-7"}


# errors ----------------------------------------------------------------------------------------------
def test_invalid_event_400_is_not_retryable(api):
    pager = PagerDutyPager("R0UT1NGK3Y-too-short-SECRET", url=api.url)
    with pytest.raises(BackendError) as caught:
        pager.trigger(CTX, "case-fp-8", PAGE)
    error = caught.value
    assert error.retryable is False
    assert error.status == 400
    assert "Event object is invalid" in error.message and "routing_key" in error.message
    assert api.url in error.message
    assert "R0UT1NGK3Y-too-short-SECRET" not in error.message + repr(error) + repr(pager)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_rate_limit_and_server_errors_are_retryable(api, pager, status):
    api.forced.append(status)
    with pytest.raises(BackendError) as caught:
        pager.trigger(CTX, "case-fp-9", PAGE)
    assert caught.value.retryable is True
    assert caught.value.status == status
    assert_no_secret(caught.value.message, repr(caught.value))
    if status == 429:
        assert "rate limited" in caught.value.message
    pager.trigger(CTX, "case-fp-9", PAGE)  # the next attempt goes through
    assert len(api.requests) == 2


def test_clear_errors_are_classified_alike(api, pager):
    api.forced.append(503)
    with pytest.raises(BackendError) as caught:
        pager.clear(CTX, "case-fp-10", PAGE)
    assert caught.value.retryable is True
    with pytest.raises(BackendError) as caught:
        PagerDutyPager("short-SECRET", url=api.url).clear(CTX, "case-fp-10", PAGE)
    assert caught.value.retryable is False and caught.value.status == 400


def test_connection_refused_is_retryable():
    url = f"http://127.0.0.1:{free_port()}/v2/enqueue"
    with pytest.raises(BackendError) as caught:
        PagerDutyPager(ROUTING_KEY, url=url, timeout=5.0).trigger(CTX, "case-fp-11", PAGE)
    assert caught.value.retryable is True
    assert caught.value.status is None
    assert url in caught.value.message
    assert_no_secret(caught.value.message, repr(caught.value))


def test_no_answer_in_time_is_retryable(api):
    api.hold.clear()  # the server reads the event, then waits for the test
    pager = PagerDutyPager(ROUTING_KEY, url=api.url, timeout=0.5)
    try:
        with pytest.raises(BackendError) as caught:
            pager.trigger(CTX, "case-fp-12", PAGE)
    finally:
        api.hold.set()
    assert caught.value.retryable is True
    assert "no complete answer within 0.5 s" in caught.value.message
    assert_no_secret(caught.value.message)


@pytest.mark.parametrize("status, content_type, body, text", [
    (200, "application/json", b'{"status": "success", "message": "Event processed", "dedup_key": "k"}', "got '{\"status\": \"success\""),
    (202, "application/json", b'{"status": "queued"}', 'the answer is not HTTP 202 with {"status": "success"}'),
    (202, "application/json", b"", "(got no body)"),
    (202, "text/html", b"<html><body>Proxy login</body></html>", "HTML page (HTTP 202) instead of JSON: a login page or a proxy?"),
    (200, "text/plain", b"accepted", "HTTP 200 with a body that is not JSON ('accepted')"),
])
def test_only_202_with_status_success_counts(api, pager, status, content_type, body, text):
    api.answers.append((status, content_type, body))
    with pytest.raises(BackendError) as caught:
        pager.trigger(CTX, "case-fp-15", PAGE)
    assert (caught.value.retryable, caught.value.backend_wide, caught.value.status) == ("HTML page" not in text, True, status)
    assert text in caught.value.message
    assert_no_secret(caught.value.message, repr(caught.value))


def test_a_deadline_already_past_sends_nothing(api, pager):
    late = ActionContext(case_key="k", action_id="k:page", deadline=time.monotonic() - 1)
    with pytest.raises(BackendError) as caught:
        pager.trigger(late, "case-fp-16", PAGE)
    assert caught.value.retryable is True and "deadline" in caught.value.message
    assert api.requests == []


def test_the_action_deadline_bounds_the_call_when_it_comes_before_the_timeout(api):
    api.hold.clear()
    pager = PagerDutyPager(ROUTING_KEY, url=api.url, timeout=30.0)
    started = time.monotonic()
    try:
        with pytest.raises(BackendError) as caught:
            pager.trigger(ActionContext(case_key="k", action_id="k:page", deadline=started + 0.4), "case-fp-17", PAGE)
    finally:
        api.hold.set()
    assert time.monotonic() - started < 3
    assert (caught.value.retryable, caught.value.backend_wide) == (True, False)
    assert re.search(r"no complete answer within 0\.(4|3[0-9]*) s; will retry$", caught.value.message)


def test_http_to_another_machine_is_refused_unless_allowed():
    with pytest.raises(BackendError) as caught:
        PagerDutyPager(ROUTING_KEY, url="http://events.example.net/v2/enqueue")
    assert caught.value.retryable is False
    assert caught.value.message == ("the PagerDuty pager would send the routing key in clear text over http:// to events.example.net: "
                                    "use https://, or allow it for a trusted network with allow_http (IMAGICLE_ALLOW_HTTP=true)")
    assert PagerDutyPager(ROUTING_KEY, url="http://events.example.net/v2/enqueue", allow_http=True).url.startswith("http://")


def test_wrong_path_is_not_retryable(api):
    with pytest.raises(BackendError) as caught:
        PagerDutyPager(ROUTING_KEY, url=api.url.replace("/v2/enqueue", "/v1/nowhere")).trigger(CTX, "case-fp-13", PAGE)
    assert caught.value.retryable is False and caught.value.status == 404


@pytest.mark.parametrize("key", ["", "   ", "a\nb", "x" * 256, None])
def test_bad_dedup_key_fails_before_sending(api, pager, key):
    with pytest.raises(BackendError) as caught:
        pager.trigger(CTX, key, PAGE)
    assert caught.value.retryable is False
    assert api.requests == []


def test_page_without_summary_fails_before_sending(api, pager):
    with pytest.raises(BackendError) as caught:
        pager.trigger(CTX, "case-fp-14", {**PAGE, "summary": "  "})
    assert caught.value.retryable is False
    assert api.requests == []


@pytest.mark.parametrize("kwargs", [{"routing_key": ""}, {"routing_key": "has blank SECRET"},
                                    {"url": "ftp://events.example"}, {"url": "https://user:pw@events.example/v2/enqueue"}])
def test_bad_configuration_is_not_retryable_and_hides_the_key(kwargs):
    arguments = {"routing_key": ROUTING_KEY, **kwargs}
    with pytest.raises(BackendError) as caught:
        PagerDutyPager(arguments.pop("routing_key"), **arguments)
    assert caught.value.retryable is False
    assert "SECRET" not in caught.value.message


def test_repr_hides_the_routing_key(pager):
    assert_no_secret(repr(pager), str(vars(pager).get("url")))
    assert "hidden" in repr(pager)
    assert pager.name == "pagerduty"
