# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ServiceNow incidents (REST Table API) as a case backend.

Idempotency: every incident carries the case key in ``correlation_id`` (and ``imagicle.proactive``
in ``correlation_display``); :meth:`ServiceNowBackend.find` queries
``sysparm_query=correlation_id=<key>`` and checks the ``correlation_id`` of every row it gets back,
because the Table API silently drops a condition it cannot apply (unknown or unreadable field) and
would then answer with unrelated incidents. ``create`` looks before it creates.

Follow-ups read the incident first and write only what is not so already: ``resolve`` leaves a
resolved, closed or canceled incident alone, ``reopen`` an incident that is new, in progress or on
hold, ``update_priority`` one that has the impact and urgency wanted (its work note goes with the
change, so it is not repeated either). What cannot be checked: the Table API reads journal fields
(``work_notes``) back as "", so a comment-only action (:meth:`ServiceNowBackend.comment`) cannot
see whether an earlier attempt landed; its note ends with the marker ``[action:<action id>]`` so
that a repeat after a lost answer is recognisable by a person.

Priority: P1..P4 are sent as impact and urgency, and ServiceNow computes ``priority`` from them with
its Priority Lookup Rules (instance data). With the default rules P1 = impact 1 urgency 1
(priority 1), P2 = 1/2 (2), P3 = 2/2 (3), P4 = 2/3 (4); the priority the instance computed is read
back and a difference is reported in ``CaseRef.warning``.

Answers count only in their documented shape, a JSON object with ``result``. Pitfalls handled: a
hibernating developer instance answers 200 with an HTML page, as does a proxy's login page: refused with
a clear message (the run fails loudly, the action stays queued and later runs retry it); a body that
is not JSON is retryable; 429 carries ``Retry-After`` (quoted in the message); the error body
``{"error": {"message", "detail"}, "status": "failure"}`` is quoted; redirects are not followed and
no cookies are kept, so every call is authenticated by its own header. Case text is sent as plain
text with control characters made visible.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends import _http
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends._http import check_key, single_line, visible_controls
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import ActionContext, BackendError, CaseBackend, CaseRef

BACKEND_NAME = "servicenow"
USER_AGENT = "imagicle.proactive-servicenow-backend/1.0"
TABLE_PATH = "/api/now/table/incident"
CORRELATION_DISPLAY = "imagicle.proactive"
# P1..P4 -> (impact, urgency); with ServiceNow's default Priority Lookup Rules they give priority 1..4
IMPACT_URGENCY = {"P1": ("1", "1"), "P2": ("1", "2"), "P3": ("2", "2"), "P4": ("2", "3")}
EXPECTED_PRIORITY = {"P1": "1", "P2": "2", "P3": "3", "P4": "4"}
STATE_NAMES = {"1": "new", "2": "in_progress", "3": "on_hold", "6": "resolved", "7": "closed", "8": "canceled"}
STATE_IN_PROGRESS = "2"
STATE_RESOLVED = "6"
CLOSED_STATES = ("7", "8")
RESOLVED_STATES = ("6", "7", "8")
DEFAULT_CLOSE_CODE = "Solution provided"
DEFAULT_CLOSE_NOTES = "Resolved by imagicle.proactive: the condition no longer holds."
SHORT_DESCRIPTION_MAX = 160
FIELDS = ("sys_id", "number", "state", "active", "impact", "urgency", "priority", "short_description",
          "correlation_id", "correlation_display", "close_code")
_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
_SYS_ID = re.compile(r"^[0-9a-f]{32}$")


def priority_label(value: Any) -> str | None:
    """ServiceNow's priority ("1".."5") as P1..P4 (4 - Low and 5 - Planning are both P4); None if unset."""
    return {"1": "P1", "2": "P2", "3": "P3", "4": "P4", "5": "P4"}.get(str(value).strip()) if value is not None else None


def case_status(state: Any) -> str:
    """The incident's state as the case's: ``resolved`` for 6 (Resolved), 7 (Closed) and 8 (Canceled), else ``open``."""
    return "resolved" if _value(state) in RESOLVED_STATES else "open"


def action_marker(action_id: str) -> str:
    """The last line of the work note of a comment-only action: ``[action:<action id>]``."""
    return f"[action:{check_key(action_id, 'action id', 150)}]"


def _value(field: Any) -> str:
    """A raw field value: the string itself, or ``value`` of a reference object."""
    if isinstance(field, dict):
        return str(field.get("value") or "")
    return "" if field is None else str(field)


class ServiceNowBackend(CaseBackend):
    """Cases as ServiceNow incidents over the REST Table API (Basic authentication or an OAuth bearer token)."""

    name = BACKEND_NAME
    readable = True

    def __init__(self, instance_url: str, *, username: str | None = None, password: str | None = None, token: str | None = None,
                 assignment_group: str | None = None, caller: str | None = None, category: str | None = None,
                 timeout: float = 10.0, ca_path: str | None = None, validate_certs: bool = True,
                 close_code: str = DEFAULT_CLOSE_CODE, allow_http: bool = False) -> None:
        _http.require_requests("ServiceNow backend")
        if not isinstance(instance_url, str) or not re.match(r"^https?://[^/]", instance_url):
            raise BackendError("ServiceNow instance_url must start with https:// (e.g. https://example.service-now.com)",
                               retryable=False)
        parts = urlsplit(instance_url)
        if "@" in parts.netloc:
            raise BackendError("ServiceNow instance_url must not contain credentials: give them as username/password or token",
                               retryable=False)
        if parts.query or parts.fragment:
            raise BackendError("ServiceNow instance_url must be the instance's base URL, without a query or fragment",
                               retryable=False)
        auth, self._secrets = _http.token_or_password("ServiceNow backend", "Bearer", token, username, password)
        _http.refuse_clear_text(instance_url, client="the ServiceNow backend", credential="the token" if token else "the password",
                                allow_http=allow_http)
        for label, value in (("assignment_group", assignment_group), ("caller", caller)):
            if value is not None and not _SYS_ID.match(value):
                raise BackendError(f"ServiceNow backend: {label} {value!r} is not a sys_id (32 lowercase hex digits): copy the "
                                   "record's sys_id from the instance (right-click the form header, Copy sys_id)", retryable=False)
        if not isinstance(close_code, str) or not close_code.strip():
            raise BackendError("ServiceNow backend: close_code must be one of the instance's incident resolution codes", retryable=False)
        base = instance_url.rstrip("/")
        for suffix in (TABLE_PATH, "/api/now/table", "/api/now"):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
                break
        self.instance_url = base
        self.table_url = base + TABLE_PATH
        self.assignment_group = assignment_group
        self.caller = caller
        self.category = single_line(category) if category else None
        self.close_code = close_code.strip()
        self.timeout = float(timeout)
        self._session = _http.new_session(USER_AGENT, auth=auth, ca_path=ca_path, validate_certs=validate_certs)

    def __repr__(self) -> str:
        return f"ServiceNowBackend(instance_url={self.instance_url!r}, assignment_group={self.assignment_group!r})"

    # HTTP --------------------------------------------------------------------------------------------
    def _error(self, message: str, *, retryable: bool, status: int | None = None, backend_wide: bool = False) -> BackendError:
        return _http.error(message, self._secrets, retryable=retryable, status=status, backend_wide=backend_wide)

    def _request(self, deadline: float | None, method: str, url: str, *, params: dict[str, str] | None = None,
                 body: dict[str, Any] | None = None) -> Any:
        """One Table API call; the ``result`` of a 2xx JSON answer (None for a POST or PATCH answered without a body),
        else a BackendError."""
        where = f"ServiceNow {method} {url}"
        response = _http.send(self._session, method, url, what=where, secrets=self._secrets, timeout=self.timeout, deadline=deadline,
                              reach="check instance_url and the network", certificate="the instance's", params=params, json=body)
        status = response.status_code
        if 200 <= status < 300:
            if _http.is_html(response):
                raise self._error(f"{where}: HTTP {status} with an HTML page instead of JSON: the instance is probably "
                                  "hibernating or under maintenance (a developer instance hibernates when unused: wake it at "
                                  "developer.servicenow.com), or a login page or proxy answered; the action stays queued and later runs "
                                  "retry it", retryable=False,
                                  status=status, backend_wide=True)
            data = _http.json_answer(response, what=where, secrets=self._secrets)
            if data is None and method in ("POST", "PATCH"):
                return None
            if not isinstance(data, dict) or "result" not in data:
                raise _http.shape_error(where, status, "a JSON object with 'result'", data, self._secrets)
            return data["result"]
        retry_after = response.headers.get("Retry-After")
        reset = response.headers.get("X-RateLimit-Reset")
        when = (f"retry after {retry_after} s" if retry_after else
                f"rate limit resets at Unix time {reset}" if reset else "retry later")
        raise _http.status_error(
            response, self._sn_message(response), what=where, secrets=self._secrets,
            redirect="instance_url is not the instance's base URL (or a proxy redirects to a login page)",
            refusal="ServiceNow will not accept this request as it is",
            hints={401: ("ServiceNow rejected the credentials; check the username/password (or the OAuth token, which expires)", False,
                         True),
                   403: ("refused by an ACL, a business rule or a data policy; give the user the itil role (incident "
                         "create/write/resolve) or fix the rejected field", False, False),
                   429: (f"ServiceNow rate limit rule exceeded; {when}; will retry", True, True)})

    @staticmethod
    def _sn_message(response: Any) -> str:
        """The documented error body ``{"error": {"message", "detail"}, "status": "failure"}`` as one line."""
        try:
            data = response.json()
        except ValueError:
            return _http.reason_of(response)
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            parts = [single_line(str(error.get(name) or "")) for name in ("message", "detail")]
            text = ": ".join(part for part in parts if part)
            if text:
                return text[:400]
        return _http.reason_of(response)

    def _params(self, **extra: str) -> dict[str, str]:
        params = {"sysparm_fields": ",".join(FIELDS), "sysparm_display_value": "false", "sysparm_exclude_reference_link": "true"}
        params.update(extra)
        return params

    # helpers ----------------------------------------------------------------------------------------
    def _sys_id(self, ref: CaseRef | str) -> str:
        value = ref.ref if isinstance(ref, CaseRef) else str(ref)
        if not _SYS_ID.match(value):
            raise BackendError(f"ServiceNow incident reference {value!r} is not a sys_id (32 hex digits)", retryable=False)
        return value

    def _url(self, sys_id: str) -> str:
        return f"{self.instance_url}/incident.do?sys_id={sys_id}"

    @staticmethod
    def _check_key(key: str) -> str:
        if not isinstance(key, str) or not _KEY.match(key):
            shown = key[:40] if isinstance(key, str) else key
            raise BackendError(f"idempotency key {shown!r} must be 1 to 100 characters from A-Z a-z 0-9 . _ : - "
                               "(it is matched in a ServiceNow encoded query)", retryable=False)
        return key

    def _record(self, deadline: float | None, sys_id: str) -> dict[str, Any]:
        url = f"{self.table_url}/{sys_id}"
        result = self._request(deadline, "GET", url, params=self._params())
        if not isinstance(result, dict):
            raise _http.shape_error(f"ServiceNow GET {url}", 200, "a record in 'result'", result, self._secrets)
        return result

    def _patch(self, deadline: float | None, sys_id: str, changes: dict[str, str]) -> dict[str, Any]:
        """PATCH the incident; the updated record (or {} when the instance sends no body)."""
        result = self._request(deadline, "PATCH", f"{self.table_url}/{sys_id}", params=self._params(), body=changes)
        return result if isinstance(result, dict) else {}

    def _check_fields(self, sys_id: str, record: dict[str, Any], wanted: dict[str, str]) -> None:
        """Fail when the record read back shows other values than written (a business rule overrode them)."""
        wrong = {name: _value(record.get(name)) for name, value in wanted.items() if name in record and _value(record.get(name)) != value}
        if wrong:
            raise self._error(f"ServiceNow incident {sys_id} ({self.table_url}/{sys_id}): {wrong} after setting {wanted}: "
                              "a business rule or the user's rights kept the old values", retryable=False)

    def _warning(self, key: str, priority: str, record: dict[str, Any]) -> str | None:
        problems = []
        if "correlation_id" in record and _value(record.get("correlation_id")) != key:
            problems.append(f"correlation_id was not stored (reads {_value(record.get('correlation_id'))!r}): the user may lack "
                            "write access to it, so a retry cannot find this incident")
        actual = _value(record.get("priority")) if "priority" in record else ""
        if actual and actual != EXPECTED_PRIORITY[priority]:
            impact, urgency = IMPACT_URGENCY[priority]
            problems.append(f"the instance's Priority Lookup Rules gave priority {actual} for impact {impact} urgency {urgency} "
                            f"({priority}; the default rules give {EXPECTED_PRIORITY[priority]})")
        if not problems:
            return None
        return f"ServiceNow incident {_value(record.get('number')) or _value(record.get('sys_id'))}: " + "; ".join(problems)

    # public API -------------------------------------------------------------------------------------
    def find(self, ctx: ActionContext) -> CaseRef | None:
        """The oldest incident whose ``correlation_id`` is ``ctx.case_key`` (any state, ``status`` set), None when there is none."""
        key = self._check_key(ctx.case_key)
        rows = self._request(ctx.deadline, "GET", self.table_url, params=self._params(
            sysparm_query=f"correlation_id={key}^ORDERBYsys_created_on", sysparm_limit="10", sysparm_no_count="true"))
        if not isinstance(rows, list):
            raise _http.shape_error(f"ServiceNow GET {self.table_url}", 200, "a list of records in 'result'", rows, self._secrets)
        for row in rows:
            if not isinstance(row, dict) or _value(row.get("correlation_id")) != key:
                raise self._error(f"ServiceNow GET {self.table_url}: the query correlation_id={key} returned other incidents: the "
                                  "instance ignored the condition (the user cannot read correlation_id?); give the user read "
                                  "access to incident.correlation_id", retryable=False, backend_wide=True)
        if not rows:
            return None
        sys_id = _value(rows[0].get("sys_id"))
        if not _SYS_ID.match(sys_id):
            raise _http.shape_error(f"ServiceNow GET {self.table_url}", 200, "incidents with a sys_id", rows[0], self._secrets)
        return CaseRef(backend=BACKEND_NAME, ref=sys_id, url=self._url(sys_id), status=case_status(rows[0].get("state")))

    def create(self, ctx: ActionContext, case: dict[str, Any]) -> CaseRef:
        """Open an incident for ``ctx.case_key`` unless one exists (then return it). ``case``: title, priority, due, body."""
        key = self._check_key(ctx.case_key)
        title = single_line(str(case.get("title") or ""))
        if not title:
            raise BackendError(f"case for {key!r} has no title", retryable=False)
        priority = case.get("priority")
        if priority not in IMPACT_URGENCY:
            raise BackendError(f"case for {key!r}: priority {priority!r} is not one of {', '.join(IMPACT_URGENCY)}", retryable=False)
        impact, urgency = IMPACT_URGENCY[priority]
        description = visible_controls(str(case.get("body") or title))
        if case.get("due") and str(case["due"]) not in description:
            description += f"\n\nResponse due: {single_line(str(case['due']))}"
        body: dict[str, str] = {
            "short_description": title[:SHORT_DESCRIPTION_MAX],
            "description": description,
            "impact": impact,
            "urgency": urgency,
            "correlation_id": key,
            "correlation_display": CORRELATION_DISPLAY,
        }
        if self.assignment_group:
            body["assignment_group"] = self.assignment_group
        if self.caller:
            body["caller_id"] = self.caller
        if self.category:
            body["category"] = self.category
        existing = self.find(ctx)
        if existing is not None:
            return existing
        created = self._request(ctx.deadline, "POST", self.table_url, params=self._params(), body=body)
        if created is None:
            found = self.find(ctx)
            if found is None:
                raise self._error(f"ServiceNow POST {self.table_url}: created, but no incident has correlation_id {key}", retryable=False)
            return found
        sys_id = _value(created.get("sys_id")) if isinstance(created, dict) else ""
        if not _SYS_ID.match(sys_id):
            raise _http.shape_error(f"ServiceNow POST {self.table_url}", 201, "the new incident with its sys_id", created, self._secrets)
        return CaseRef(backend=BACKEND_NAME, ref=sys_id, url=self._url(sys_id), warning=self._warning(key, priority, created),
                       status=case_status(created.get("state")))

    def comment(self, ctx: ActionContext, ref: str, text: str) -> None:
        """Add a work note (internal journal entry, plain text) ending with ``[action:<action id>]``.

        Work notes read back as "" through the Table API, so a retry cannot check whether an earlier attempt
        landed: after a lost answer the note may appear twice, recognisable by its marker.
        """
        sys_id = self._sys_id(ref)
        marker = action_marker(ctx.action_id)
        self._patch(ctx.deadline, sys_id, {"work_notes": f"{visible_controls(str(text))}\n\n{marker}"})

    def update_priority(self, ctx: ActionContext, ref: str, priority: str, note: str | None) -> None:
        """Set impact and urgency for ``priority`` (P1..P4) with ``note`` as a work note, unless the incident has them
        already (then nothing is written, so a retry does not repeat the note); verified on the answer."""
        sys_id = self._sys_id(ref)
        if priority not in IMPACT_URGENCY:
            raise BackendError(f"priority {priority!r} is not one of {', '.join(IMPACT_URGENCY)}", retryable=False)
        impact, urgency = IMPACT_URGENCY[priority]
        current = self._record(ctx.deadline, sys_id)
        if (_value(current.get("impact")), _value(current.get("urgency"))) == (impact, urgency):
            return
        changes = {"impact": impact, "urgency": urgency}
        if note:
            changes["work_notes"] = visible_controls(str(note))
        record = self._patch(ctx.deadline, sys_id, changes)
        self._check_fields(sys_id, record, {"impact": impact, "urgency": urgency})

    def resolve(self, ctx: ActionContext, ref: str, note: str | None) -> None:
        """Set state 6 (Resolved) with the resolution code and ``note`` as resolution notes, in one PATCH, unless the
        incident is resolved, closed or canceled already."""
        sys_id = self._sys_id(ref)
        if _value(self._record(ctx.deadline, sys_id).get("state")) in RESOLVED_STATES:
            return
        changes = {"state": STATE_RESOLVED, "close_code": self.close_code,
                   "close_notes": visible_controls(str(note)) if note else DEFAULT_CLOSE_NOTES}
        record = self._patch(ctx.deadline, sys_id, changes)
        self._check_fields(sys_id, record, {"state": STATE_RESOLVED})

    def reopen(self, ctx: ActionContext, ref: str, note: str | None) -> None:
        """Set state 2 (In Progress) with ``note`` as a work note, unless the incident is not resolved (new, in progress,
        on hold: nothing is written); a closed or canceled incident cannot be reopened."""
        sys_id = self._sys_id(ref)
        current = _value(self._record(ctx.deadline, sys_id).get("state"))
        if current in CLOSED_STATES:
            raise self._error(f"ServiceNow incident {sys_id} ({self._url(sys_id)}) is {STATE_NAMES[current]}: ServiceNow does not "
                              "reopen closed or canceled incidents; a new case must be opened", retryable=False)
        if current not in RESOLVED_STATES:
            return
        changes = {"state": STATE_IN_PROGRESS}
        if note:
            changes["work_notes"] = visible_controls(str(note))
        record = self._patch(ctx.deadline, sys_id, changes)
        self._check_fields(sys_id, record, {"state": STATE_IN_PROGRESS})

    def get(self, ref: CaseRef | str) -> dict[str, Any]:
        """The incident as ``{ref, number, status, state, priority (P1..P4), priority_value, impact, urgency, subject, key, active, url}``."""
        sys_id = self._sys_id(ref)
        record = self._record(None, sys_id)
        state = _value(record.get("state"))
        priority_value = _value(record.get("priority"))
        return {
            "ref": sys_id,
            "number": _value(record.get("number")) or None,
            "status": STATE_NAMES.get(state, state or None),
            "state": state or None,
            "priority": priority_label(priority_value) if priority_value else None,
            "priority_value": int(priority_value) if priority_value.isdigit() else None,
            "impact": _value(record.get("impact")) or None,
            "urgency": _value(record.get("urgency")) or None,
            "subject": _value(record.get("short_description")),
            "key": _value(record.get("correlation_id")) or None,
            "active": _value(record.get("active")) == "true" if "active" in record else None,
            "url": self._url(sys_id),
        }
