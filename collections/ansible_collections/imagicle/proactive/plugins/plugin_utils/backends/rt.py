# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request Tracker 5 (REST 2) as a case backend.

Idempotency: each ticket carries the alarm's key twice, in the custom field ``AlarmKey`` (when RT
has it, applied to the queue, and the API user may set it) and as the subject tag
``[alarm:<key>]``, so :meth:`RtBackend.find` finds the ticket after a crash or a lost answer even
where RT silently dropped the custom field. ``create`` looks before it creates.

RT's pitfalls handled here: a failed update still answers 200 with the failure in a message array
(the messages are inspected and the ticket re-read); custom fields are silently dropped on create
(re-read, reported in ``CaseRef.warning``); a browser-like client gets a 302 instead of a 401 (a
plain User-Agent, no cookies, redirects not followed); dates are sent as ``YYYY-MM-DD HH:MM:SS``
UTC (anything else silently becomes "not set"). Case text is sent as ``text/plain`` with control
characters made visible, so host-supplied strings stay inert data.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends import _http
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends._http import check_key, single_line, visible_controls
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import BackendError, CaseRef

BACKEND_NAME = "rt"
USER_AGENT = "imagicle.proactive-rt-backend/1.0"
PRIORITY_VALUES = {"P1": 90, "P2": 70, "P3": 50, "P4": 30}
SUBJECT_MAX = 200
UNSET_DATE = "1970-01-01T00:00:00Z"
MAX_SEARCH_PAGES = 10
# messages of a 200 answer to PUT that mean "not done"
_FAILURE_PATTERNS = re.compile(
    r"permission denied|isn't a valid|is not a valid|could not|couldn't|invalid|illegal|not allowed|"
    r"unresolved dependencies|failed|no permission|immutable|must match|unknown",
    re.IGNORECASE,
)
_REF = re.compile(r"^[1-9][0-9]{0,11}$")


def _sql_quote(value: str) -> str:
    """A TicketSQL single-quoted literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def subject_tag(key: str) -> str:
    """The idempotency tag put in front of the subject: ``[alarm:<key>]``."""
    return f"[alarm:{key}]"


def rt_due(due: str) -> str:
    """An ISO 8601 instant (``...Z`` or with an offset) as RT's ``YYYY-MM-DD HH:MM:SS`` UTC."""
    text = due.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise BackendError(f"case due {due!r} is not an ISO 8601 date-time (expected e.g. 2030-01-02T03:04:05Z)",
                           retryable=False) from None
    if instant.tzinfo is None:
        raise BackendError(f"case due {due!r} has no timezone: give it in UTC with a trailing Z", retryable=False)
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def priority_label(value: Any) -> str | None:
    """RT's integer priority as P1..P4 (the nearest of 90/70/50/30), None when not a number."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    if number >= 80:
        return "P1"
    if number >= 60:
        return "P2"
    if number >= 40:
        return "P3"
    return "P4"


def _cf_values(custom_fields: Any, name: str) -> list[str]:
    """Values of the custom field ``name`` in RT's read shape (an array; "" when not visible)."""
    if not isinstance(custom_fields, list):
        return []
    for field in custom_fields:
        if isinstance(field, dict) and field.get("name") == name:
            return [str(value) for value in field.get("values") or []]
    return []


def _failures(messages: Any) -> list[str]:
    """The messages of a 200 answer that report a failure."""
    if not isinstance(messages, list):
        return []
    return [str(message) for message in messages if _FAILURE_PATTERNS.search(str(message))]


class RtBackend:
    """Cases as Request Tracker 5 tickets over REST 2 (token or Basic authentication)."""

    name = BACKEND_NAME

    def __init__(self, url: str, *, token: str | None = None, username: str | None = None, password: str | None = None,
                 queue: str = "General", key_field: str = "AlarmKey", timeout: float = 10.0, ca_path: str | None = None,
                 validate_certs: bool = True) -> None:
        _http.require_requests("Request Tracker backend")
        if not isinstance(url, str) or not re.match(r"^https?://[^/]", url):
            raise BackendError("Request Tracker url must start with http:// or https:// (RT's WebBaseURL + WebPath)", retryable=False)
        if "@" in urlsplit(url).netloc:
            raise BackendError("Request Tracker url must not contain credentials: give them as token or username/password",
                               retryable=False)
        auth, self._secrets = _http.token_or_password("Request Tracker backend", "token", token, username, password)
        base = url.rstrip("/")
        if base.endswith("/REST/2.0"):
            base = base[: -len("/REST/2.0")]
        self.web_url = base
        self.api_url = base + "/REST/2.0"
        self.queue = queue
        self.key_field = key_field
        self.timeout = float(timeout)
        # a Cookie header makes RT answer 302 to the login page instead of 401: the session keeps no cookies
        self._session = _http.new_session(USER_AGENT, auth=auth, ca_path=ca_path, validate_certs=validate_certs)

    def __repr__(self) -> str:
        return f"RtBackend(url={self.web_url!r}, queue={self.queue!r}, key_field={self.key_field!r})"

    # HTTP --------------------------------------------------------------------------------------------
    def _error(self, message: str, *, retryable: bool, status: int | None = None) -> BackendError:
        return _http.error(message, self._secrets, retryable=retryable, status=status)

    def _request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        """One REST 2 call; the decoded JSON answer of a 2xx, else a BackendError."""
        url = self.api_url + path
        where = f"Request Tracker {method} {url}"
        response = _http.send(self._session, method, url, what=where, secrets=self._secrets, timeout=self.timeout,
                              reach="check that RT runs and the url is right", params=params, json=body)
        status = response.status_code
        if 200 <= status < 300:
            if status == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise self._error(f"{where}: HTTP {status} with a body that is not JSON; is the url RT's?", retryable=False,
                                  status=status) from None
        raise _http.status_error(
            response, self._rt_message(response), what=where, secrets=self._secrets,
            redirect="RT did not accept the credentials or the url is not RT's base URL (WebBaseURL + WebPath)",
            refusal="RT will not accept this request as it is",
            hints={401: ("RT rejected the credentials; check the token or username/password", False)})

    @staticmethod
    def _rt_message(response: Any) -> str:
        try:
            data = response.json()
        except ValueError:
            return _http.reason_of(response)
        if isinstance(data, dict) and data.get("message"):
            return str(data["message"])[:300]
        return _http.reason_of(response)

    # helpers ----------------------------------------------------------------------------------------
    def _ref(self, ref: CaseRef | str | int) -> str:
        value = ref.ref if isinstance(ref, CaseRef) else str(ref)
        if not _REF.match(value):
            raise BackendError(f"Request Tracker ticket reference {value!r} is not a ticket number", retryable=False)
        return value

    def _case_ref(self, ticket_id: str, warning: str | None = None) -> CaseRef:
        return CaseRef(backend=BACKEND_NAME, ref=ticket_id, url=f"{self.web_url}/Ticket/Display.html?id={ticket_id}", warning=warning)

    @staticmethod
    def _check_key(key: str) -> str:
        return check_key(key, "idempotency key", 150)

    def _ticket(self, ticket_id: str) -> dict[str, Any]:
        data = self._request("GET", f"/ticket/{ticket_id}")
        if not isinstance(data, dict):
            raise self._error(f"Request Tracker GET {self.api_url}/ticket/{ticket_id}: unexpected answer", retryable=False)
        return data

    def _key_of(self, ticket: dict[str, Any]) -> str | None:
        values = _cf_values(ticket.get("CustomFields"), self.key_field)
        if values:
            return values[0]
        match = re.match(r"^\[alarm:([^\]]+)\]", str(ticket.get("Subject") or ""))
        return match.group(1) if match else None

    def _matches(self, item: dict[str, Any], key: str) -> bool:
        return key in _cf_values(item.get("CustomFields"), self.key_field) or subject_tag(key) in str(item.get("Subject") or "")

    def _put(self, ticket_id: str, changes: dict[str, Any]) -> list[str]:
        messages = self._request("PUT", f"/ticket/{ticket_id}", body=changes)
        failures = _failures(messages)
        if failures:
            raise self._error(f"Request Tracker PUT {self.api_url}/ticket/{ticket_id} {sorted(changes)}: RT refused: "
                              f"{'; '.join(failures)[:500]}", retryable=False, status=200)
        return [str(message) for message in messages or []]

    def _set_status(self, ticket_id: str, status: str) -> None:
        self._put(ticket_id, {"Status": status})
        actual = self._ticket(ticket_id).get("Status")
        if actual != status:
            raise self._error(f"Request Tracker ticket {ticket_id}: status is {actual!r} after setting it to {status!r} "
                              f"({self.api_url}/ticket/{ticket_id}); check the queue's lifecycle and the user's rights",
                              retryable=False)

    # public API -------------------------------------------------------------------------------------
    def find(self, key: str) -> CaseRef | None:
        """The ticket carrying ``key`` (custom field or subject tag), resolved ones included, deleted ones not."""
        key = self._check_key(key)
        query = (f"('CF.{{{self.key_field}}}' = {_sql_quote(key)} OR Subject LIKE {_sql_quote(subject_tag(key))}) "
                 "AND Status != 'deleted'")
        params = {"query": query, "fields": "Subject,Status,CustomFields", "orderby": "id", "order": "ASC", "per_page": 100}
        for page in range(1, MAX_SEARCH_PAGES + 1):
            data = self._request("GET", "/tickets", params={**params, "page": page})
            items = data.get("items") if isinstance(data, dict) else None
            for item in items or []:
                if isinstance(item, dict) and self._matches(item, key):
                    return self._case_ref(str(item.get("id")))
            if not isinstance(data, dict) or not data.get("next_page"):
                return None
        return None

    def create(self, key: str, case: dict[str, Any]) -> CaseRef:
        """Open a ticket for ``key`` unless one exists (then return it). ``case``: title, priority, due, body, requestor."""
        key = self._check_key(key)
        title = single_line(str(case.get("title") or ""))
        if not title:
            raise BackendError(f"case for {key!r} has no title", retryable=False)
        priority = case.get("priority")
        if priority not in PRIORITY_VALUES:
            raise BackendError(f"case for {key!r}: priority {priority!r} is not one of {', '.join(PRIORITY_VALUES)}", retryable=False)
        subject = f"{subject_tag(key)} {title}"[:SUBJECT_MAX]
        body: dict[str, Any] = {
            "Queue": self.queue,
            "Subject": subject,
            "Content": visible_controls(str(case.get("body") or title)),
            "ContentType": "text/plain",
            "Priority": PRIORITY_VALUES[priority],
            "CustomFields": {self.key_field: key},
        }
        if case.get("due"):
            body["Due"] = rt_due(str(case["due"]))
        if case.get("requestor"):
            body["Requestor"] = single_line(str(case["requestor"]))
        existing = self.find(key)
        if existing is not None:
            return existing
        created = self._request("POST", "/ticket", body=body)
        ticket_id = str(created.get("id")) if isinstance(created, dict) else ""
        if not _REF.match(ticket_id):
            raise self._error(f"Request Tracker POST {self.api_url}/ticket: answer without a ticket id", retryable=False)
        ticket = self._ticket(ticket_id)
        warning = None
        if key not in _cf_values(ticket.get("CustomFields"), self.key_field):
            warning = (f"RT ticket {ticket_id} was created without custom field {self.key_field!r} (RT drops it silently when the field "
                       f"does not exist, is not applied to queue {self.queue!r}, or the user lacks SeeCustomField/ModifyCustomField); "
                       f"the subject tag {subject_tag(key)} still identifies it")
        return self._case_ref(ticket_id, warning)

    def comment(self, ref: CaseRef | str, text: str) -> None:
        """Add an internal comment (plain text) to the ticket."""
        ticket_id = self._ref(ref)
        messages = self._request("POST", f"/ticket/{ticket_id}/comment",
                                 body={"Content": visible_controls(str(text)), "ContentType": "text/plain"})
        failures = _failures(messages)
        if failures:
            raise self._error(f"Request Tracker POST {self.api_url}/ticket/{ticket_id}/comment: RT refused: {'; '.join(failures)[:500]}",
                              retryable=False, status=201)

    def update_priority(self, ref: CaseRef | str, priority: str, comment: str | None = None) -> None:
        """Set the ticket's priority (P1..P4) and add ``comment``; verified by re-reading the ticket."""
        ticket_id = self._ref(ref)
        if priority not in PRIORITY_VALUES:
            raise BackendError(f"priority {priority!r} is not one of {', '.join(PRIORITY_VALUES)}", retryable=False)
        self._put(ticket_id, {"Priority": PRIORITY_VALUES[priority]})
        actual = self._ticket(ticket_id).get("Priority")
        if str(actual) != str(PRIORITY_VALUES[priority]):
            raise self._error(f"Request Tracker ticket {ticket_id}: priority is {actual!r} after setting it to "
                              f"{PRIORITY_VALUES[priority]} ({priority})", retryable=False)
        if comment:
            self.comment(ticket_id, comment)

    def resolve(self, ref: CaseRef | str, note: str | None = None) -> None:
        """Comment ``note``, then set the status to resolved (verified)."""
        ticket_id = self._ref(ref)
        if note:
            self.comment(ticket_id, note)
        self._set_status(ticket_id, "resolved")

    def reopen(self, ref: CaseRef | str, note: str | None = None) -> None:
        """Set the status back to open (verified), then comment ``note``."""
        ticket_id = self._ref(ref)
        self._set_status(ticket_id, "open")
        if note:
            self.comment(ticket_id, note)

    def get(self, ref: CaseRef | str) -> dict[str, Any]:
        """The ticket as ``{ref, status, priority (P1..P4), priority_value, subject, key, due (ISO Z or None), url}``."""
        ticket_id = self._ref(ref)
        ticket = self._ticket(ticket_id)
        due = ticket.get("Due")
        try:
            priority_value = int(ticket.get("Priority"))
        except (TypeError, ValueError):
            priority_value = None
        return {
            "ref": ticket_id,
            "status": ticket.get("Status"),
            "priority": priority_label(priority_value),
            "priority_value": priority_value,
            "subject": ticket.get("Subject"),
            "key": self._key_of(ticket),
            "due": None if not due or due == UNSET_DATE else due,
            "url": f"{self.web_url}/Ticket/Display.html?id={ticket_id}",
        }
