# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request Tracker 5 (REST 2) as a case backend.

Idempotency: each ticket carries the case key twice, in the custom field ``AlarmKey`` (when RT
has it, applied to the queue, and the API user may set it) and as the subject tag
``[alarm:<key>]``, so :meth:`RtBackend.find` finds the ticket after a crash or a lost answer even
where RT silently dropped the custom field. ``create`` looks before it creates. Every comment
carries the id of its action as its subject, ``[action:<action id>]`` (RT keeps a comment's
subject in the ``Data`` of its transaction), and is only posted when the ticket's history has no
comment with that marker; ``resolve`` and ``reopen`` read the status first and leave it alone when
it already is what they want; ``update_priority`` only writes a priority that differs. So a
retried action (after a lost answer or a failed step) repeats nothing that was done.

Answers count only in their documented shape: a created ticket is ``201`` with an object carrying
the ticket id, a search or history page an object with ``items``, an update a JSON array of
messages, a comment ``201`` with a JSON array. An HTML page or a body that is not JSON is a
retryable, backend-wide failure (a proxy or a login page answered); a redirect (RT sends 302 to its
login page to a client it takes for a browser, or for a path that is not REST 2) and a 401 are
backend-wide and need a person.

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
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import ActionContext, BackendError, CaseBackend, CaseRef

BACKEND_NAME = "rt"
USER_AGENT = "imagicle.proactive-rt-backend/1.0"
PRIORITY_VALUES = {"P1": 90, "P2": 70, "P3": 50, "P4": 30}
SUBJECT_MAX = 200
UNSET_DATE = "1970-01-01T00:00:00Z"
MAX_SEARCH_PAGES = 10
MAX_HISTORY_PAGES = 10
# RT's default lifecycle: these statuses are inactive (the case is over); new, open and stalled are live
RESOLVED_STATUSES = ("resolved", "rejected")
# messages of a 200 answer to PUT that mean "not done"
_FAILURE_PATTERNS = re.compile(
    r"permission denied|isn't a valid|is not a valid|could not|couldn't|invalid|illegal|not allowed|"
    r"unresolved dependencies|failed|no permission|immutable|must match|unknown",
    re.IGNORECASE,
)
_REF = re.compile(r"^[1-9][0-9]{0,11}$")
_REDIRECT_HINT = ("RT sends its login page to a client it takes for a browser (a Cookie header, a User-Agent with 'Mozilla') "
                  "and to a path that is not REST 2: check that the url is RT's base URL (WebBaseURL + WebPath) and that no "
                  "proxy or single sign-on in front of RT intercepts /REST/2.0")


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


def case_status(status: Any) -> str:
    """RT's status as the case's: ``resolved`` for resolved and rejected, ``open`` for the rest (new, open, stalled)."""
    return "resolved" if status in RESOLVED_STATUSES else "open"


def action_marker(action_id: str) -> str:
    """The subject of the comment of one action, ``[action:<action id>]``: how a retry recognises it in the history."""
    return f"[action:{check_key(action_id, 'action id', 150)}]"


# the documented shapes of RT's 2xx answers: (what it should be, the check of status and decoded JSON)
TICKET = ("a ticket object with its 'id'", lambda status, data: isinstance(data, dict) and "id" in data)
ITEMS = ("an object with 'items'", lambda status, data: isinstance(data, dict) and isinstance(data.get("items"), list))
CREATED = ("HTTP 201 with an object carrying the new ticket's 'id'",
           lambda status, data: status == 201 and isinstance(data, dict) and bool(_REF.match(str(data.get("id")))))
MESSAGES = ("a JSON array of messages", lambda status, data: isinstance(data, list))
COMMENTED = ("HTTP 201 with a JSON array of messages", lambda status, data: status == 201 and isinstance(data, list))


class RtBackend(CaseBackend):
    """Cases as Request Tracker 5 tickets over REST 2 (token or Basic authentication)."""

    name = BACKEND_NAME
    readable = True

    def __init__(self, url: str, *, token: str | None = None, username: str | None = None, password: str | None = None,
                 queue: str = "General", key_field: str = "AlarmKey", timeout: float = 10.0, ca_path: str | None = None,
                 validate_certs: bool = True, allow_http: bool = False) -> None:
        _http.require_requests("Request Tracker backend")
        if not isinstance(url, str) or not re.match(r"^https?://[^/]", url):
            raise BackendError("Request Tracker url must start with http:// or https:// (RT's WebBaseURL + WebPath)", retryable=False)
        if "@" in urlsplit(url).netloc:
            raise BackendError("Request Tracker url must not contain credentials: give them as token or username/password",
                               retryable=False)
        auth, self._secrets = _http.token_or_password("Request Tracker backend", "token", token, username, password)
        _http.refuse_clear_text(url, client="the Request Tracker backend", credential="the token" if token else "the password",
                                allow_http=allow_http)
        base = url.rstrip("/")
        if base.endswith("/REST/2.0"):
            base = base[: -len("/REST/2.0")]
        self.web_url = base
        self.api_url = base + "/REST/2.0"
        self.queue = queue
        self.key_field = key_field
        self.timeout = float(timeout)
        self._auth_hint = ("RT rejected the token (rotated or wrong): check IMAGICLE_RT_TOKEN" if token else
                           "RT rejected the username/password: check them")
        # a Cookie header makes RT answer 302 to the login page instead of 401: the session keeps no cookies
        self._session = _http.new_session(USER_AGENT, auth=auth, ca_path=ca_path, validate_certs=validate_certs)

    def __repr__(self) -> str:
        return f"RtBackend(url={self.web_url!r}, queue={self.queue!r}, key_field={self.key_field!r})"

    # HTTP --------------------------------------------------------------------------------------------
    def _error(self, message: str, *, retryable: bool, status: int | None = None) -> BackendError:
        return _http.error(message, self._secrets, retryable=retryable, status=status)

    def _call(self, deadline: float | None, method: str, path: str, *, params: dict[str, Any] | None = None,
              body: Any = None) -> tuple[int, Any]:
        """One REST 2 call: ``(status, decoded JSON or None)`` of a 2xx answer, else a BackendError."""
        url = self.api_url + path
        where = f"Request Tracker {method} {url}"
        response = _http.send(self._session, method, url, what=where, secrets=self._secrets, timeout=self.timeout, deadline=deadline,
                              reach="check that RT runs and the url is right", params=params, json=body)
        status = response.status_code
        if 200 <= status < 300:
            return status, _http.json_answer(response, what=where, secrets=self._secrets)
        raise _http.status_error(response, self._rt_message(response), what=where, secrets=self._secrets, redirect=_REDIRECT_HINT,
                                 refusal="RT will not accept this request as it is", hints={401: (self._auth_hint, False, True)})

    def _answer(self, deadline: float | None, method: str, path: str, shape: tuple[str, Any], **kwargs: Any) -> Any:
        """The JSON answer of a call when it has the documented ``shape``, else a retryable, backend-wide BackendError."""
        status, data = self._call(deadline, method, path, **kwargs)
        expected, check = shape
        if not check(status, data):
            raise _http.shape_error(f"Request Tracker {method} {self.api_url}{path}", status, expected, data, self._secrets)
        return data

    @staticmethod
    def _rt_message(response: Any) -> str:
        try:
            data = response.json()
        except ValueError:
            return _http.reason_of(response)
        if isinstance(data, dict) and data.get("message"):
            return single_line(data["message"], 300)
        return _http.reason_of(response)

    # helpers ----------------------------------------------------------------------------------------
    def _ref(self, ref: CaseRef | str | int) -> str:
        value = ref.ref if isinstance(ref, CaseRef) else str(ref)
        if not _REF.match(value):
            raise BackendError(f"Request Tracker ticket reference {value!r} is not a ticket number", retryable=False)
        return value

    def _case_ref(self, ticket_id: str, status: Any, warning: str | None = None) -> CaseRef:
        return CaseRef(backend=BACKEND_NAME, ref=ticket_id, url=f"{self.web_url}/Ticket/Display.html?id={ticket_id}", warning=warning,
                       status=case_status(status))

    @staticmethod
    def _check_key(key: str) -> str:
        return check_key(key, "idempotency key", 150)

    def _ticket(self, deadline: float | None, ticket_id: str) -> dict[str, Any]:
        return self._answer(deadline, "GET", f"/ticket/{ticket_id}", TICKET)

    def _key_of(self, ticket: dict[str, Any]) -> str | None:
        values = _cf_values(ticket.get("CustomFields"), self.key_field)
        if values:
            return values[0]
        match = re.match(r"^\[alarm:([^\]]+)\]", str(ticket.get("Subject") or ""))
        return match.group(1) if match else None

    def _matches(self, item: dict[str, Any], key: str) -> bool:
        return key in _cf_values(item.get("CustomFields"), self.key_field) or subject_tag(key) in str(item.get("Subject") or "")

    def _put(self, deadline: float | None, ticket_id: str, changes: dict[str, Any]) -> None:
        messages = self._answer(deadline, "PUT", f"/ticket/{ticket_id}", MESSAGES, body=changes)
        failures = _failures(messages)
        if failures:
            raise self._error(f"Request Tracker PUT {self.api_url}/ticket/{ticket_id} {sorted(changes)}: RT refused: "
                              f"{'; '.join(failures)[:500]}", retryable=False, status=200)

    def _set_status(self, deadline: float | None, ticket_id: str, status: str) -> None:
        self._put(deadline, ticket_id, {"Status": status})
        actual = self._ticket(deadline, ticket_id).get("Status")
        if actual != status:
            raise self._error(f"Request Tracker ticket {ticket_id}: status is {actual!r} after setting it to {status!r} "
                              f"({self.api_url}/ticket/{ticket_id}); check the queue's lifecycle and the user's rights",
                              retryable=False)

    def _has_comment(self, deadline: float | None, ticket_id: str, marker: str) -> bool:
        """True when the ticket's history (newest first, up to 1000 transactions) has a comment whose subject holds ``marker``."""
        params = {"fields": "Type,Data", "orderby": "id", "order": "DESC", "per_page": 100}
        for page in range(1, MAX_HISTORY_PAGES + 1):
            data = self._answer(deadline, "GET", f"/ticket/{ticket_id}/history", ITEMS, params={**params, "page": page})
            for item in data["items"]:
                if isinstance(item, dict) and item.get("Type") == "Comment" and marker in str(item.get("Data") or ""):
                    return True
            if not data.get("next_page"):
                return False
        return False

    def _comment_once(self, ctx: ActionContext, ticket_id: str, text: str) -> None:
        """Add the internal comment of this action unless the history shows it was added already."""
        marker = action_marker(ctx.action_id)
        if self._has_comment(ctx.deadline, ticket_id, marker):
            return
        path = f"/ticket/{ticket_id}/comment"
        messages = self._answer(ctx.deadline, "POST", path, COMMENTED,
                                body={"Subject": marker, "Content": visible_controls(str(text)), "ContentType": "text/plain"})
        failures = _failures(messages)
        if failures:
            raise self._error(f"Request Tracker POST {self.api_url}{path}: RT refused: {'; '.join(failures)[:500]}", retryable=False,
                              status=201)

    # public API -------------------------------------------------------------------------------------
    def find(self, ctx: ActionContext) -> CaseRef | None:
        """The ticket carrying ``ctx.case_key`` (custom field or subject tag), resolved ones included, deleted ones not."""
        key = self._check_key(ctx.case_key)
        query = (f"('CF.{{{self.key_field}}}' = {_sql_quote(key)} OR Subject LIKE {_sql_quote(subject_tag(key))}) "
                 "AND Status != 'deleted'")
        params = {"query": query, "fields": "Subject,Status,CustomFields", "orderby": "id", "order": "ASC", "per_page": 100}
        for page in range(1, MAX_SEARCH_PAGES + 1):
            data = self._answer(ctx.deadline, "GET", "/tickets", ITEMS, params={**params, "page": page})
            for item in data["items"]:
                if isinstance(item, dict) and self._matches(item, key) and _REF.match(str(item.get("id"))):
                    return self._case_ref(str(item["id"]), item.get("Status"))
            if not data.get("next_page"):
                return None
        return None

    def create(self, ctx: ActionContext, case: dict[str, Any]) -> CaseRef:
        """Open a ticket for ``ctx.case_key`` unless one exists (then return it). ``case``: title, priority, due, body, requestor."""
        key = self._check_key(ctx.case_key)
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
        existing = self.find(ctx)
        if existing is not None:
            return existing
        ticket_id = str(self._answer(ctx.deadline, "POST", "/ticket", CREATED, body=body)["id"])
        ticket = self._ticket(ctx.deadline, ticket_id)
        warning = None
        if key not in _cf_values(ticket.get("CustomFields"), self.key_field):
            warning = (f"RT ticket {ticket_id} was created without custom field {self.key_field!r} (RT drops it silently when the field "
                       f"does not exist, is not applied to queue {self.queue!r}, or the user lacks SeeCustomField/ModifyCustomField); "
                       f"the subject tag {subject_tag(key)} still identifies it")
        return self._case_ref(ticket_id, ticket.get("Status"), warning)

    def comment(self, ctx: ActionContext, ref: str, text: str) -> None:
        """Add an internal comment (plain text, subject ``[action:<action id>]``) unless this action added it already."""
        self._comment_once(ctx, self._ref(ref), text)

    def update_priority(self, ctx: ActionContext, ref: str, priority: str, note: str | None) -> None:
        """Set the ticket's priority (P1..P4) unless it has it (verified by re-reading), and add ``note`` once."""
        ticket_id = self._ref(ref)
        if priority not in PRIORITY_VALUES:
            raise BackendError(f"priority {priority!r} is not one of {', '.join(PRIORITY_VALUES)}", retryable=False)
        wanted = str(PRIORITY_VALUES[priority])
        if str(self._ticket(ctx.deadline, ticket_id).get("Priority")) != wanted:
            self._put(ctx.deadline, ticket_id, {"Priority": PRIORITY_VALUES[priority]})
            actual = self._ticket(ctx.deadline, ticket_id).get("Priority")
            if str(actual) != wanted:
                raise self._error(f"Request Tracker ticket {ticket_id}: priority is {actual!r} after setting it to {wanted} ({priority})",
                                  retryable=False)
        if note:
            self._comment_once(ctx, ticket_id, note)

    def resolve(self, ctx: ActionContext, ref: str, note: str | None) -> None:
        """Comment ``note`` once, then set the status to resolved (verified) unless it is resolved or rejected already."""
        ticket_id = self._ref(ref)
        status = self._ticket(ctx.deadline, ticket_id).get("Status")
        if note:
            self._comment_once(ctx, ticket_id, note)
        if status not in RESOLVED_STATUSES:
            self._set_status(ctx.deadline, ticket_id, "resolved")

    def reopen(self, ctx: ActionContext, ref: str, note: str | None) -> None:
        """Set the status back to open (verified) unless it is live already (new, open, stalled), then comment ``note`` once."""
        ticket_id = self._ref(ref)
        if self._ticket(ctx.deadline, ticket_id).get("Status") in RESOLVED_STATUSES:
            self._set_status(ctx.deadline, ticket_id, "open")
        if note:
            self._comment_once(ctx, ticket_id, note)

    def get(self, ref: CaseRef | str) -> dict[str, Any]:
        """The ticket as ``{ref, status, priority (P1..P4), priority_value, subject, key, due (ISO Z or None), url}``."""
        ticket_id = self._ref(ref)
        ticket = self._ticket(None, ticket_id)
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
