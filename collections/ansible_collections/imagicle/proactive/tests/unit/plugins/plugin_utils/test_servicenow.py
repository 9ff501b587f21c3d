# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract tests of ServiceNowBackend against a local server that behaves as the documented Table API.

No ServiceNow instance runs here: ``FakeTableApi`` (a ThreadingHTTPServer on 127.0.0.1) implements
the shape documented in /work/shared/api/servicenow-table-api.md: ``{"result": ...}`` answers with
string values, Basic and Bearer authentication, ``Accept``/``Content-Type`` checks (400/406),
``sysparm_query`` with ``^`` conditions and ``ORDERBY`` (conditions on unknown or unreadable fields are
silently dropped, as documented), ``sysparm_fields``, ``sysparm_limit``, reference links unless
``sysparm_exclude_reference_link=true``, priority computed from impact x urgency by the default
Priority Lookup Rules, journal fields written but read back as "", the resolution data policy (403),
read-only closed incidents, and the documented error bodies (401, 403, 404, 429 with Retry-After).
Every request the client sends is recorded and asserted field by field.
"""

from __future__ import annotations

import base64
import itertools
import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import ActionContext, BackendError, CaseRef
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.servicenow import ServiceNowBackend, priority_label

USER = "proactive.integration"
PASSWORD = "Pw-9f3c1e77b2d04a6e"
TOKEN = "oauth-token-5d1c0b9e2f7a4c3d8e6f"
GROUP = "8a5055c9c61122780043563ef53438e3"
CALLER = "5137153cc611227c000bbd1bd8cd2005"
FIELDS = ("sys_id,number,state,active,impact,urgency,priority,short_description,correlation_id,correlation_display,close_code")
BASE_PARAMS = {"sysparm_fields": FIELDS, "sysparm_display_value": "false", "sysparm_exclude_reference_link": "true"}
CASE = {
    "title": "Disk C: almost full on appsuite-01",
    "priority": "P3",
    "due": "2030-01-02T03:04:05Z",
    "body": "Disk C: is 93 % full.\nResponse due 2030-01-02T03:04:05Z.\nFree some space.",
}
# [PRIO] default Priority Lookup Rules: (impact, urgency) -> priority
DEFAULT_MATRIX = {("1", "1"): "1", ("1", "2"): "2", ("1", "3"): "3", ("2", "1"): "2", ("2", "2"): "3", ("2", "3"): "4",
                  ("3", "1"): "3", ("3", "2"): "4", ("3", "3"): "5"}
REFERENCES = {"caller_id": "sys_user", "assignment_group": "sys_user_group", "assigned_to": "sys_user"}
RECORD_FIELDS = ("sys_id", "number", "state", "incident_state", "active", "impact", "urgency", "priority", "short_description",
                 "description", "caller_id", "assignment_group", "assigned_to", "category", "correlation_id", "correlation_display",
                 "close_code", "close_notes", "comments", "work_notes", "hold_reason", "sys_created_on")
_keys = itertools.count()


def new_key() -> str:
    return f"{uuid.uuid4().hex[:20]}-20261127T1000{next(_keys) % 100:02d}Z"


def ctx(key: str | None = None, action: str = "open", deadline: float | None = None) -> ActionContext:
    """The context of one outbox action (the same object is reused for a retry of that action)."""
    key = new_key() if key is None else key
    return ActionContext(case_key=key, action_id=f"{key}:{action}", deadline=deadline)


def error_body(message: str, detail: str = "") -> dict:
    return {"error": {"message": message, "detail": detail}, "status": "failure"}


def assert_no_secret(text: str, *secrets: str) -> None:
    """Fails without printing the text or the secrets (pytest would show both in its diff or the frame's arguments)."""
    __tracebackhide__ = True  # pylint: disable=unused-variable
    leaked = [index for index, secret in enumerate(secrets) if secret and secret in text]
    if leaked:
        raise AssertionError(f"secret number(s) {leaked} appear in a message")


class FakeTableApi:
    """An in-memory incident table behind the documented Table API; see the module docstring."""

    def __init__(self) -> None:
        self.incidents: dict[str, dict[str, str]] = {}
        self.journal: list[tuple[str, str, str]] = []
        self.requests: list[dict] = []
        self.matrix = dict(DEFAULT_MATRIX)
        self.injected: list[tuple[int, dict, bytes]] = []
        self.stall = threading.Event()
        self.stall_next = False
        self.correlation_writable = True
        self.correlation_readable = True
        self.locked_fields: set[str] = set()
        self.close_codes = ("Duplicate", "Known error", "Resolved by caller", "Resolved by change", "Resolved by problem",
                            "Solution provided", "Workaround provided", "User error")
        self._numbers = itertools.count(10001)
        self._created = itertools.count(1)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, headers, body = fake.handle(self.command, self.path, dict(self.headers.items()), raw)
                if status is None:
                    fake.stall.wait(10)
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # Table API behaviour ---------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict, raw: bytes) -> tuple[int | None, dict, bytes]:
        parts = urlsplit(target)
        query = {name: values[0] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
        lowered = {name.lower(): value for name, value in headers.items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = "<not json>"
        with self._lock:
            self.requests.append({"method": method, "path": parts.path, "query": query, "headers": lowered, "body": body, "raw": raw})
            if self.stall_next:
                self.stall_next = False
                return None, {}, b""
            if self.injected:
                status, extra, payload = self.injected.pop(0)
                return status, extra, payload
            return self._route(method, parts.path, query, lowered, body)

    @staticmethod
    def _json(status: int, document: dict, extra: dict | None = None) -> tuple[int, dict, bytes]:
        return status, {"Content-Type": "application/json;charset=UTF-8", **(extra or {})}, json.dumps(document).encode()

    def _authenticated(self, headers: dict) -> bool:
        value = headers.get("authorization", "")
        if value.startswith("Basic "):
            return base64.b64decode(value[6:]).decode() == f"{USER}:{PASSWORD}"
        return value == f"Bearer {TOKEN}"

    def _route(self, method, path, query, headers, body):
        if not self._authenticated(headers):
            return self._json(401, error_body("User Not Authenticated", "Required to provide Auth information"))
        if "application/json" not in headers.get("accept", ""):
            return self._json(406, error_body("Unsupported Accept header"))
        if method in ("POST", "PATCH", "PUT") and not headers.get("content-type", "").startswith("application/json"):
            return self._json(400, error_body("Invalid Content-Type", "POST/PUT/PATCH need Content-Type: application/json"))
        if method in ("POST", "PATCH", "PUT") and not isinstance(body, dict):
            return self._json(400, error_body("Exception while reading request", "The payload is not valid JSON."))
        segments = path.strip("/").split("/")
        if segments[:4] != ["api", "now", "table", "incident"] or len(segments) > 5:
            return self._json(400, error_body("Requested URI does not represent any resource"))
        if len(segments) == 4:
            if method == "GET":
                return self._list(query)
            if method == "POST":
                return self._create(query, body)
            return self._json(405, error_body("Method not Supported"))
        record = self.incidents.get(segments[4])
        if record is None:
            return self._json(404, error_body("No Record found", "Record doesn't exist or ACL restricts the record retrieval"))
        if method == "GET":
            return self._json(200, {"result": self._render(record, query)})
        if method in ("PATCH", "PUT"):
            return self._update(record, query, body)
        return self._json(405, error_body("Method not Supported"))

    def _readable(self, field: str) -> bool:
        return field in RECORD_FIELDS and (field != "correlation_id" or self.correlation_readable)

    def _render(self, record: dict, query: dict) -> dict:
        wanted = [name for name in query.get("sysparm_fields", "").split(",") if name] or list(RECORD_FIELDS)
        result = {}
        for name in wanted:
            if not self._readable(name):
                continue  # unknown or unreadable names are silently ignored
            value = record[name]
            if name in ("comments", "work_notes"):
                value = ""  # journal fields read back empty through the Table API
            if name in REFERENCES and value and query.get("sysparm_exclude_reference_link") != "true":
                value = {"link": f"{self.url}/api/now/table/{REFERENCES[name]}/{value}", "value": value}
            result[name] = value
        return result

    def _list(self, query):
        rows = list(self.incidents.values())
        order = None
        for condition in query.get("sysparm_query", "").split("^"):
            if condition.startswith("ORDERBYDESC"):
                order = (condition[len("ORDERBYDESC"):], True)
            elif condition.startswith("ORDERBY"):
                order = (condition[len("ORDERBY"):], False)
            elif "=" in condition:
                field, value = condition.split("=", 1)
                if self._readable(field):  # invalid query parts are ignored
                    rows = [row for row in rows if row[field] == value]
        if order and order[0] in RECORD_FIELDS:
            rows.sort(key=lambda row: int(row["sys_created_on"]) if order[0] == "sys_created_on" else row[order[0]], reverse=order[1])
        total = len(rows)
        offset = int(query.get("sysparm_offset", "0"))
        limit = int(query.get("sysparm_limit", "10000"))
        rows = rows[offset:offset + limit]
        return self._json(200, {"result": [self._render(row, query) for row in rows]}, {"X-Total-Count": str(total)})

    def _apply(self, record: dict, body: dict) -> None:
        for name, value in body.items():
            if name in ("work_notes", "comments"):
                if value:
                    self.journal.append((record["sys_id"], name, str(value)))
            elif name in ("sys_id", "number", "priority", "sys_created_on", "active", "incident_state"):
                continue  # read-only
            elif name == "correlation_id" and not self.correlation_writable:
                continue  # write ACL: silently not stored
            elif name in self.locked_fields:
                continue  # a business rule keeps the old value
            elif name in RECORD_FIELDS:
                record[name] = str(value)
        record["priority"] = self.matrix.get((record["impact"], record["urgency"]), "5")
        record["incident_state"] = record["state"]
        record["active"] = "false" if record["state"] in ("7", "8") else "true"

    def _create(self, query, body):
        sys_id = uuid.uuid4().hex
        record = {name: "" for name in RECORD_FIELDS}
        record.update(sys_id=sys_id, number=f"INC{next(self._numbers):07d}", state="1", impact="3", urgency="3",
                      sys_created_on=str(next(self._created)))
        self._apply(record, body)
        self.incidents[sys_id] = record
        return self._json(201, {"result": self._render(record, query)}, {"Location": f"{self.url}/api/now/table/incident/{sys_id}"})

    def _update(self, record, query, body):
        if record["state"] in ("7", "8"):
            return self._json(403, error_body("Operation Failed", "ACL Exception Update Failed due to security constraints"))
        if str(body.get("state", record["state"])) == "6":
            code = str(body.get("close_code", record["close_code"]))
            notes = str(body.get("close_notes", record["close_notes"]))
            if code not in self.close_codes or not notes:
                return self._json(403, error_body("Operation Failed", "Data Policy Exception: \n Resolution code is mandatory\n"))
        self._apply(record, body)
        return self._json(200, {"result": self._render(record, query)})

    # helpers for tests ------------------------------------------------------------------------------
    def by_key(self, key: str) -> list[dict]:
        return [row for row in self.incidents.values() if row["correlation_id"] == key]

    def notes(self, sys_id: str, element: str = "work_notes") -> list[str]:
        return [value for owner, name, value in self.journal if owner == sys_id and name == element]

    def clear(self) -> None:
        self.requests.clear()


@pytest.fixture(scope="module")
def api():
    server = FakeTableApi()
    server.thread.start()
    try:
        yield server
    finally:
        server.stall.set()
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture
def sn(api):
    api.clear()
    api.injected.clear()
    api.matrix = dict(DEFAULT_MATRIX)
    api.correlation_writable = api.correlation_readable = True
    api.locked_fields = set()
    return api


@pytest.fixture
def backend(sn):
    return ServiceNowBackend(sn.url, username=USER, password=PASSWORD)


def basic_header() -> str:
    return "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def assert_common_headers(request: dict, authorization: str | None = None) -> None:
    headers = request["headers"]
    assert headers["accept"] == "application/json"
    assert headers["authorization"] == (authorization or basic_header())
    assert headers["user-agent"].startswith("imagicle.proactive-servicenow-backend/")
    assert "mozilla" not in headers["user-agent"].lower()
    assert "cookie" not in headers
    if request["method"] in ("POST", "PATCH"):
        assert headers["content-type"] == "application/json"


def find_request(key: str) -> dict:
    return {"method": "GET", "path": "/api/now/table/incident", "body": None,
            "query": {**BASE_PARAMS, "sysparm_query": f"correlation_id={key}^ORDERBYsys_created_on", "sysparm_limit": "10",
                      "sysparm_no_count": "true"}}


def shape(request: dict) -> dict:
    return {name: request[name] for name in ("method", "path", "query", "body")}


# create / find ----------------------------------------------------------------------------------------
def test_create_sends_exactly_the_documented_fields(sn, backend):
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    assert isinstance(ref, CaseRef)
    assert [shape(request) for request in sn.requests] == [
        find_request(key),
        {"method": "POST", "path": "/api/now/table/incident", "query": BASE_PARAMS, "body": {
            "short_description": CASE["title"],
            "description": CASE["body"],
            "impact": "2",
            "urgency": "2",
            "correlation_id": key,
            "correlation_display": "imagicle.proactive",
        }},
    ]
    for request in sn.requests:
        assert_common_headers(request)
    record = sn.incidents[ref.ref]
    assert (ref.backend, ref.warning) == ("servicenow", None)
    assert ref.url == f"{sn.url}/incident.do?sys_id={ref.ref}"
    assert (record["priority"], record["state"], record["correlation_id"]) == ("3", "1", key)
    assert sn.by_key(key) == [record]


def test_create_sends_assignment_group_caller_and_category(sn):
    backend = ServiceNowBackend(sn.url + "/", username=USER, password=PASSWORD, assignment_group=GROUP, caller=CALLER,
                                category="software")
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    body = sn.requests[-1]["body"]
    assert {name: body[name] for name in ("assignment_group", "caller_id", "category")} == {
        "assignment_group": GROUP, "caller_id": CALLER, "category": "software"}
    assert len(body) == 9
    record = sn.incidents[ref.ref]
    assert (record["assignment_group"], record["caller_id"], record["category"]) == (GROUP, CALLER, "software")


@pytest.mark.parametrize("priority, impact, urgency, computed", [
    ("P1", "1", "1", "1"), ("P2", "1", "2", "2"), ("P3", "2", "2", "3"), ("P4", "2", "3", "4")])
def test_priority_maps_to_impact_and_urgency_of_the_default_lookup_rules(sn, backend, priority, impact, urgency, computed):
    ref = backend.create(ctx(new_key()), dict(CASE, priority=priority))
    body = sn.requests[-1]["body"]
    assert (body["impact"], body["urgency"]) == (impact, urgency)
    assert sn.incidents[ref.ref]["priority"] == computed
    assert ref.warning is None
    case = backend.get(ref)
    assert (case["priority"], case["priority_value"], case["impact"], case["urgency"]) == (priority, int(computed), impact, urgency)


def test_other_priority_lookup_rules_are_reported_as_a_warning(sn, backend):
    sn.matrix[("2", "3")] = "5"
    ref = backend.create(ctx(new_key()), dict(CASE, priority="P4"))
    assert "Priority Lookup Rules gave priority 5 for impact 2 urgency 3" in ref.warning
    assert backend.get(ref)["priority"] == "P4"


def test_create_twice_gives_one_incident(sn, backend):
    key = new_key()
    first = backend.create(ctx(key), CASE)
    sn.clear()
    second = backend.create(ctx(key), dict(CASE, priority="P1"))
    assert second.ref == first.ref
    assert [shape(request) for request in sn.requests] == [find_request(key)]
    assert len(sn.by_key(key)) == 1


def test_find_matches_only_the_exact_correlation_id(sn, backend):
    key = new_key()
    assert backend.find(ctx(key)) is None
    other = backend.create(ctx(new_key()), CASE)
    ref = backend.create(ctx(key), CASE)
    found = backend.find(ctx(key))
    assert found == CaseRef(backend="servicenow", ref=ref.ref, url=f"{sn.url}/incident.do?sys_id={ref.ref}", status="open")
    assert found.ref != other.ref
    assert sn.requests[-1]["query"]["sysparm_query"] == f"correlation_id={key}^ORDERBYsys_created_on"


def test_find_finds_resolved_incidents_too_and_tells_them_apart(sn, backend):
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    assert (ref.status, backend.find(ctx(key)).status) == ("open", "open")
    backend.resolve(ctx(key, "resolve"), ref.ref, "gone")
    found = backend.find(ctx(key))
    assert (found.ref, found.status) == (ref.ref, "resolved")
    assert backend.create(ctx(key), CASE) == found
    assert len(sn.by_key(key)) == 1
    for state, status in (("1", "open"), ("2", "open"), ("3", "open"), ("6", "resolved"), ("7", "resolved"), ("8", "resolved")):
        sn.incidents[ref.ref]["state"] = state
        assert backend.find(ctx(key)).status == status, state


def test_find_refuses_an_ignored_query_instead_of_duplicating(sn, backend):
    backend.create(ctx(new_key()), CASE)
    sn.correlation_readable = False  # the condition is dropped and unrelated incidents come back
    with pytest.raises(BackendError) as info:
        backend.find(ctx(new_key()))
    assert (info.value.retryable, info.value.backend_wide) == (False, True)
    assert "ignored the condition" in info.value.message


def test_correlation_id_not_stored_is_a_warning(sn, backend):
    sn.correlation_writable = False
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    assert "correlation_id was not stored" in ref.warning
    assert sn.incidents[ref.ref]["correlation_id"] == ""


def test_title_is_one_line_capped_and_body_controls_are_visible(sn, backend):
    ref = backend.create(ctx(new_key()), dict(CASE, title="Disk\nC:\tfull " + "x" * 300, body="line1\nline2\x1b[31mred\x00"))
    body = sn.requests[-1]["body"]
    assert body["short_description"] == ("Disk C: full " + "x" * 300)[:160]
    assert body["description"] == "line1\nline2\\x1b[31mred\\x00\n\nResponse due: 2030-01-02T03:04:05Z"
    assert sn.incidents[ref.ref]["short_description"] == body["short_description"]


def test_bearer_token_authentication(sn):
    backend = ServiceNowBackend(sn.url, token=TOKEN)
    ref = backend.create(ctx(new_key()), CASE)
    assert sn.incidents[ref.ref]
    for request in sn.requests:
        assert_common_headers(request, f"Bearer {TOKEN}")


@pytest.mark.parametrize("key", ["a^b", "a b", "", "x" * 101, "a\nb", "ü"])
def test_keys_unsafe_in_an_encoded_query_are_refused_before_sending(sn, backend, key):
    with pytest.raises(BackendError) as info:
        backend.create(ctx(key), CASE)
    assert not info.value.retryable
    assert sn.requests == []


@pytest.mark.parametrize("case, text", [
    ({"title": "", "priority": "P1"}, "no title"), ({"title": "t", "priority": "P5"}, "priority 'P5'")])
def test_invalid_cases_are_refused(sn, backend, case, text):
    with pytest.raises(BackendError) as info:
        backend.create(ctx(new_key()), case)
    assert (info.value.retryable, text in info.value.message) == (False, True)
    assert sn.requests == []


# update / comment / resolve / reopen ------------------------------------------------------------------
def read_request(sys_id: str) -> dict:
    return {"method": "GET", "path": f"/api/now/table/incident/{sys_id}", "query": BASE_PARAMS, "body": None}


def test_update_priority_reads_then_patches_impact_urgency_and_a_work_note(sn, backend):
    ref = backend.create(ctx(), CASE)
    sn.clear()
    backend.update_priority(ctx(action="update:1"), ref.ref, "P1", "Priority changed from P3 to P1: disk 99 % full")
    assert [shape(request) for request in sn.requests] == [
        read_request(ref.ref),
        {"method": "PATCH", "path": f"/api/now/table/incident/{ref.ref}", "query": BASE_PARAMS,
         "body": {"impact": "1", "urgency": "1", "work_notes": "Priority changed from P3 to P1: disk 99 % full"}}]
    for request in sn.requests:
        assert_common_headers(request)
    assert sn.incidents[ref.ref]["priority"] == "1"
    assert sn.notes(ref.ref) == ["Priority changed from P3 to P1: disk 99 % full"]
    backend.update_priority(ctx(action="update:2"), ref.ref, "P4", None)
    assert sn.requests[-1]["body"] == {"impact": "2", "urgency": "3"}
    assert backend.get(ref)["priority"] == "P4"


def test_update_priority_retried_writes_nothing_again(sn, backend):
    ref = backend.create(ctx(), CASE)
    action = ctx(action="update")
    backend.update_priority(action, ref.ref, "P1", "worse")
    sn.clear()
    backend.update_priority(action, ref.ref, "P1", "worse")  # the answer to the first attempt was lost
    assert [shape(request) for request in sn.requests] == [read_request(ref.ref)]
    assert sn.notes(ref.ref) == ["worse"]


def test_update_priority_overridden_by_a_business_rule_fails(sn, backend):
    ref = backend.create(ctx(), CASE)
    sn.locked_fields = {"impact", "urgency"}
    with pytest.raises(BackendError) as info:
        backend.update_priority(ctx(action="update"), ref.ref, "P1", "worse")
    assert not info.value.retryable
    assert "business rule" in info.value.message


def test_comment_is_a_work_note_with_the_action_marker(sn, backend):
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    sn.clear()
    backend.comment(ctx(key, "note:1"), ref.ref, "checked again\x07")
    assert [shape(request) for request in sn.requests] == [
        {"method": "PATCH", "path": f"/api/now/table/incident/{ref.ref}", "query": BASE_PARAMS,
         "body": {"work_notes": f"checked again\\x07\n\n[action:{key}:note:1]"}}]
    assert sn.notes(ref.ref) == [f"checked again\\x07\n\n[action:{key}:note:1]"]
    assert sn.notes(ref.ref, "comments") == []


def test_resolve_reads_then_sets_state_6_with_close_code_and_notes(sn, backend):
    ref = backend.create(ctx(), CASE)
    sn.clear()
    backend.resolve(ctx(action="resolve"), ref.ref, "The condition no longer holds on appsuite-01.")
    assert [shape(request) for request in sn.requests] == [
        read_request(ref.ref),
        {"method": "PATCH", "path": f"/api/now/table/incident/{ref.ref}", "query": BASE_PARAMS,
         "body": {"state": "6", "close_code": "Solution provided", "close_notes": "The condition no longer holds on appsuite-01."}}]
    record = sn.incidents[ref.ref]
    assert (record["state"], record["close_code"], record["close_notes"], record["active"]) == (
        "6", "Solution provided", "The condition no longer holds on appsuite-01.", "true")
    assert backend.get(ref)["status"] == "resolved"


@pytest.mark.parametrize("state", ["6", "7", "8"])
def test_resolve_of_an_incident_already_resolved_writes_nothing(sn, backend, state):
    ref = backend.create(ctx(), CASE)
    sn.incidents[ref.ref]["state"] = state
    sn.clear()
    backend.resolve(ctx(action="resolve"), ref.ref, "gone")
    assert [shape(request) for request in sn.requests] == [read_request(ref.ref)]


def test_resolve_without_note_sends_default_notes_and_custom_close_code(sn):
    backend = ServiceNowBackend(sn.url, username=USER, password=PASSWORD, close_code="Workaround provided")
    ref = backend.create(ctx(), CASE)
    backend.resolve(ctx(action="resolve"), ref.ref, None)
    assert sn.requests[-1]["body"] == {"state": "6", "close_code": "Workaround provided",
                                       "close_notes": "Resolved by imagicle.proactive: the condition no longer holds."}
    assert sn.incidents[ref.ref]["state"] == "6"


def test_resolve_refused_by_the_data_policy_is_not_retryable(sn):
    backend = ServiceNowBackend(sn.url, username=USER, password=PASSWORD, close_code="Solved (Permanently)")
    ref = backend.create(ctx(), CASE)
    with pytest.raises(BackendError) as info:
        backend.resolve(ctx(action="resolve"), ref.ref, "gone")
    assert (info.value.retryable, info.value.status, info.value.backend_wide) == (False, 403, False)
    assert "Data Policy Exception" in info.value.message
    assert f"{sn.url}/api/now/table/incident/{ref.ref}" in info.value.message
    assert sn.incidents[ref.ref]["state"] == "1"


def test_reopen_sets_in_progress_with_a_work_note(sn, backend):
    ref = backend.create(ctx(), CASE)
    backend.resolve(ctx(action="resolve"), ref.ref, "gone")
    sn.clear()
    action = ctx(action="reopen")
    backend.reopen(action, ref.ref, "The condition is back: disk 95 % full")
    assert [shape(request) for request in sn.requests] == [
        read_request(ref.ref),
        {"method": "PATCH", "path": f"/api/now/table/incident/{ref.ref}", "query": BASE_PARAMS,
         "body": {"state": "2", "work_notes": "The condition is back: disk 95 % full"}}]
    for request in sn.requests:
        assert_common_headers(request)
    assert sn.incidents[ref.ref]["state"] == "2"
    assert sn.notes(ref.ref) == ["The condition is back: disk 95 % full"]
    assert backend.get(ref)["status"] == "in_progress"
    sn.clear()
    backend.reopen(action, ref.ref, "The condition is back: disk 95 % full")  # a retry after a lost answer
    assert [shape(request) for request in sn.requests] == [read_request(ref.ref)]
    assert sn.notes(ref.ref) == ["The condition is back: disk 95 % full"]


@pytest.mark.parametrize("state", ["1", "2", "3"])
def test_reopen_of_an_incident_not_resolved_writes_nothing(sn, backend, state):
    ref = backend.create(ctx(), CASE)
    sn.incidents[ref.ref]["state"] = state
    sn.clear()
    backend.reopen(ctx(action="reopen"), ref.ref, "back")
    assert [shape(request) for request in sn.requests] == [read_request(ref.ref)]
    assert sn.incidents[ref.ref]["state"] == state


def test_reopen_of_a_closed_incident_is_refused_without_a_write(sn, backend):
    ref = backend.create(ctx(), CASE)
    sn.incidents[ref.ref].update(state="7", active="false")
    sn.clear()
    with pytest.raises(BackendError) as info:
        backend.reopen(ctx(action="reopen"), ref.ref, "back")
    assert not info.value.retryable
    assert "closed" in info.value.message
    assert [request["method"] for request in sn.requests] == ["GET"]


def test_get_returns_the_incident(sn, backend):
    key = new_key()
    ref = backend.create(ctx(key), dict(CASE, priority="P2"))
    number = sn.incidents[ref.ref]["number"]
    sn.clear()
    assert backend.get(ref) == {
        "ref": ref.ref, "number": number, "status": "new", "state": "1", "priority": "P2", "priority_value": 2, "impact": "1",
        "urgency": "2", "subject": CASE["title"], "key": key, "active": True, "url": f"{sn.url}/incident.do?sys_id={ref.ref}"}
    assert [shape(request) for request in sn.requests] == [
        {"method": "GET", "path": f"/api/now/table/incident/{ref.ref}", "query": BASE_PARAMS, "body": None}]


def test_unknown_incident_is_404_not_retryable(sn, backend):
    with pytest.raises(BackendError) as info:
        backend.get("0" * 32)
    assert (info.value.retryable, info.value.status) == (False, 404)
    assert "No Record found" in info.value.message


def test_a_reference_that_is_not_a_sys_id_is_refused(sn, backend):
    with pytest.raises(BackendError) as info:
        backend.resolve(ctx(action="resolve"), "INC0010001", "x")
    assert not info.value.retryable
    assert sn.requests == []


# errors --------------------------------------------------------------------------------------------
def test_rate_limit_429_is_retryable_and_quotes_retry_after(sn, backend):
    sn.injected.append((429, {"Content-Type": "application/json", "Retry-After": "120", "X-RateLimit-Limit": "10"},
                        json.dumps(error_body("Rate limit exceeded",
                                              "Rate limit of 10 requests per hour for Table API exceeded")).encode()))
    with pytest.raises(BackendError) as info:
        backend.create(ctx(new_key()), CASE)
    assert (info.value.retryable, info.value.status) == (True, 429)
    assert "retry after 120 s" in info.value.message
    assert "Rate limit of 10 requests per hour" in info.value.message


def test_rate_limit_without_retry_after_uses_the_reset_time(sn, backend):
    sn.injected.append((429, {"Content-Type": "application/json", "X-RateLimit-Reset": "1893456000"},
                        json.dumps(error_body("Rate limit exceeded")).encode()))
    with pytest.raises(BackendError) as info:
        backend.find(ctx(new_key()))
    assert info.value.retryable
    assert "resets at Unix time 1893456000" in info.value.message


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable(sn, backend, status):
    sn.injected.append((status, {"Content-Type": "application/json"}, json.dumps(error_body("Server error")).encode()))
    with pytest.raises(BackendError) as info:
        backend.create(ctx(new_key()), CASE)
    assert (info.value.retryable, info.value.status) == (True, status)


@pytest.mark.parametrize("status, message", [(400, "Invalid request"), (403, "ACL Exception"), (404, "No Record found")])
def test_client_errors_are_not_retryable(sn, backend, status, message):
    sn.injected.append((status, {"Content-Type": "application/json"}, json.dumps(error_body(message, "detail here")).encode()))
    with pytest.raises(BackendError) as info:
        backend.find(ctx(new_key()))
    assert (info.value.retryable, info.value.status) == (False, status)
    assert f"{message}: detail here" in info.value.message


def test_hibernating_instance_html_is_refused_with_a_clear_message(sn, backend):
    """Someone must wake the instance: the run fails loudly, the action stays queued and later runs retry it."""
    page = b"<!DOCTYPE html><html><head><title>Instance Hibernating page</title></head><body>Your instance is hibernating</body></html>"
    sn.injected.append((200, {"Content-Type": "text/html;charset=UTF-8"}, page))
    with pytest.raises(BackendError) as info:
        backend.create(ctx(new_key()), CASE)
    assert (info.value.retryable, info.value.backend_wide, info.value.status) == (False, True, 200)
    assert "HTML page instead of JSON" in info.value.message and "hibernating" in info.value.message


def test_json_without_result_is_a_retryable_backend_wide_failure(sn, backend):
    sn.injected.append((200, {"Content-Type": "application/json"}, b'{"records": []}'))
    with pytest.raises(BackendError) as info:
        backend.find(ctx(new_key()))
    assert (info.value.retryable, info.value.backend_wide, info.value.status) == (True, True, 200)
    assert "the answer is not a JSON object with 'result' (got '{\"records\": []}')" in info.value.message


@pytest.mark.parametrize("body", [b"OK", b"\x00\x01garbage", b"[1, 2"])
def test_a_2xx_body_that_is_not_json_is_a_retryable_backend_wide_failure(sn, backend, body):
    sn.injected.append((200, {"Content-Type": "text/plain"}, body))
    with pytest.raises(BackendError) as info:
        backend.find(ctx(new_key()))
    assert (info.value.retryable, info.value.backend_wide, info.value.status) == (True, True, 200)
    assert "HTTP 200 with a body that is not JSON" in info.value.message


def test_a_login_page_from_a_proxy_is_refused_and_backend_wide(sn, backend):
    sn.injected.append((200, {"Content-Type": "text/plain"}, b"<html><head><title>Sign in</title></head></html>"))
    with pytest.raises(BackendError) as info:
        backend.create(ctx(new_key()), CASE)
    assert (info.value.retryable, info.value.backend_wide) == (False, True)
    assert "HTML page instead of JSON" in info.value.message and "login page or proxy" in info.value.message


def test_redirect_is_not_followed(sn, backend):
    sn.injected.append((302, {"Location": "https://login.example.net/"}, b""))
    with pytest.raises(BackendError) as info:
        backend.find(ctx(new_key()))
    assert (info.value.retryable, info.value.status) == (False, 302)
    assert len(sn.requests) == 1


def test_wrong_credentials_are_401_not_retryable_and_never_shown(sn):
    wrong = "Wrong-password-7c2e9a"
    backend = ServiceNowBackend(sn.url, username=USER, password=wrong)
    with pytest.raises(BackendError) as info:
        backend.create(ctx(new_key()), CASE)
    assert (info.value.retryable, info.value.status, info.value.backend_wide) == (False, 401, True)
    assert "User Not Authenticated" in info.value.message
    assert_no_secret(info.value.message + repr(info.value) + repr(backend) + repr(vars(backend)), wrong, PASSWORD)
    token_backend = ServiceNowBackend(sn.url, token="expired-" + TOKEN)
    with pytest.raises(BackendError) as info:
        token_backend.find(ctx(new_key()))
    assert info.value.status == 401
    assert_no_secret(info.value.message + repr(info.value) + repr(token_backend) + repr(vars(token_backend)), TOKEN)


def test_connection_refused_is_retryable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = ServiceNowBackend(f"http://127.0.0.1:{port}", username=USER, password=PASSWORD)
    with pytest.raises(BackendError) as info:
        backend.find(ctx(new_key()))
    assert info.value.retryable
    assert "connection refused" in info.value.message
    assert_no_secret(info.value.message, PASSWORD)


def test_no_answer_is_retryable(sn):
    backend = ServiceNowBackend(sn.url, username=USER, password=PASSWORD, timeout=0.5)
    sn.stall_next = True
    try:
        with pytest.raises(BackendError) as info:
            backend.find(ctx(new_key()))
    finally:
        sn.stall.set()
        sn.stall.clear()
    assert (info.value.retryable, info.value.backend_wide) == (True, True)
    assert info.value.message == f"ServiceNow GET {sn.url}/api/now/table/incident: no complete answer within 0.5 s; will retry"


def test_a_deadline_already_past_sends_nothing(sn, backend):
    with pytest.raises(BackendError) as info:
        backend.create(ctx(deadline=time.monotonic() - 0.1), CASE)
    assert (info.value.retryable, info.value.backend_wide) == (True, False)
    assert "deadline" in info.value.message
    assert sn.requests == []


def test_an_error_echoing_the_authorization_header_is_scrubbed(sn):
    backend = ServiceNowBackend(sn.url, username=USER, password=PASSWORD)
    echo = json.dumps(error_body("Bad request", f"got Authorization: {basic_header()} for {USER}:{PASSWORD}")).encode()
    sn.injected.append((400, {"Content-Type": "application/json"}, echo))
    with pytest.raises(BackendError) as info:
        backend.find(ctx(new_key()))
    assert "got Authorization: Basic *** for ***" in info.value.message
    assert_no_secret(info.value.message + repr(info.value), PASSWORD, basic_header()[6:], f"{USER}:{PASSWORD}")


def test_secrets_never_appear_in_messages_bodies_or_reprs(sn):
    messages = []
    for kwargs in ({"username": USER, "password": PASSWORD}, {"token": TOKEN}):
        backend = ServiceNowBackend(sn.url, **kwargs)
        messages += [repr(backend), str(vars(backend))]
        for status in (401, 403, 429, 500):
            sn.injected.append((status, {"Content-Type": "application/json"}, json.dumps(error_body("failed")).encode()))
            with pytest.raises(BackendError) as info:
                backend.find(ctx(new_key()))
            messages += [info.value.message, repr(info.value)]
    bodies = b"".join(request["raw"] for request in sn.requests).decode()
    assert_no_secret("\n".join(messages) + bodies, PASSWORD, TOKEN)


@pytest.mark.parametrize("kwargs, text", [
    ({"username": USER, "password": PASSWORD, "token": TOKEN}, "either a token or"),
    ({}, "either a token or"),
    ({"username": USER}, "must both be given"),
    ({"token": TOKEN, "assignment_group": "Service Desk"}, "is not a sys_id"),
    ({"token": TOKEN, "caller": "abc"}, "is not a sys_id"),
    ({"token": TOKEN, "close_code": " "}, "close_code"),
])
def test_invalid_settings_are_refused(kwargs, text):
    with pytest.raises(BackendError) as info:
        ServiceNowBackend("https://example.service-now.com", **kwargs)
    assert not info.value.retryable
    assert text in info.value.message
    assert_no_secret(info.value.message, PASSWORD, TOKEN)


@pytest.mark.parametrize("url", ["example.service-now.com", "ftp://x", f"https://{USER}:{PASSWORD}@example.service-now.com",
                                 "https://example.service-now.com/?x=1"])
def test_invalid_instance_urls_are_refused(url):
    with pytest.raises(BackendError) as info:
        ServiceNowBackend(url, token=TOKEN)
    assert not info.value.retryable
    assert_no_secret(info.value.message, PASSWORD, TOKEN)


@pytest.mark.parametrize("kwargs, credential", [({"token": TOKEN}, "the token"), ({"username": USER, "password": PASSWORD}, "the password")])
def test_http_to_another_machine_is_refused_unless_allowed(kwargs, credential):
    with pytest.raises(BackendError) as info:
        ServiceNowBackend("http://example.service-now.com", **kwargs)
    assert info.value.retryable is False
    assert info.value.message == (f"the ServiceNow backend would send {credential} in clear text over http:// to example.service-now.com: "
                                  "use https://, or allow it for a trusted network with allow_http (IMAGICLE_ALLOW_HTTP=true)")
    assert_no_secret(info.value.message, PASSWORD, TOKEN)
    assert ServiceNowBackend("http://example.service-now.com", allow_http=True, **kwargs).table_url.startswith("http://")
    assert ServiceNowBackend("http://localhost:8080", **kwargs).instance_url == "http://localhost:8080"


def test_instance_url_may_be_given_with_the_api_path():
    backend = ServiceNowBackend("https://example.service-now.com/api/now/table/incident/", token=TOKEN)
    assert backend.table_url == "https://example.service-now.com/api/now/table/incident"


def test_priority_label():
    assert [priority_label(value) for value in ("1", "2", "3", "4", "5", "", None)] == ["P1", "P2", "P3", "P4", "P4", None, None]
