# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paging the on-call engineer through PagerDuty (Events API v2, ``POST /v2/enqueue``).

``trigger`` sends an alert event with our dedup key, so repeating it while the alert is open only
adds a log entry to the same PagerDuty alert; ``clear`` sends a resolve event: ``routing_key``,
``event_action`` and ``dedup_key`` only, as documented. PagerDuty answers 202 with
``{"status": "success", ...}`` when it accepted the event (ingest is asynchronous): only that
counts; an HTML page (a proxy's or a login page) is refused (the run fails loudly, the event stays
queued and later runs retry it), any other 2xx is a retryable failure. 400 is an
invalid event (never retried), 429 rate limiting and 5xx PagerDuty's side (both retried later, as
are network errors).

The routing (integration) key travels in the request body; it never appears in errors or reprs.
Host-supplied text (summary, host, customer, rule) is sent as single-line plain text.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends import _http
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends._http import check_key, single_line
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import ActionContext, BackendError, Pager

PAGER_NAME = "pagerduty"
DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"
USER_AGENT = "imagicle.proactive-pager/1.0"
CLIENT = "imagicle.proactive"
DEDUP_KEY_MAX = 255
SUMMARY_MAX = 1024
FIELD_MAX = 255


def check_dedup_key(dedup_key: Any) -> str:
    """The dedup key if it is a non-empty single-line string of at most 255 characters, else a non-retryable BackendError."""
    return check_key(dedup_key, "page dedup key", DEDUP_KEY_MAX)


def _http_url(value: Any) -> str | None:
    """``value`` if it is a plain http(s) URL, else None."""
    if not isinstance(value, str) or not value or len(value) > 2000 or re.search(r"[\s\x00-\x1f\x7f-\x9f]", value):
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    return value


def trigger_payload(dedup_key: str, page: dict[str, Any]) -> dict[str, Any]:
    """The ``payload`` object of a trigger event (summary ≤ 1024 characters, source = host, severity critical)."""
    if not isinstance(page, dict):
        raise BackendError(f"page for {dedup_key!r} must be a dict, not {type(page).__name__}", retryable=False)
    summary = single_line(page.get("summary"), SUMMARY_MAX)
    if not summary:
        raise BackendError(f"page for {dedup_key!r} has no summary", retryable=False)
    host = single_line(page.get("host"), FIELD_MAX)
    customer = single_line(page.get("customer"), FIELD_MAX)
    details = {
        "customer": customer,
        "host": host,
        "rule": single_line(page.get("rule"), FIELD_MAX),
        "priority": single_line(page.get("priority"), FIELD_MAX),
        "due": single_line(page.get("due"), FIELD_MAX),
        "case_ref": single_line(page.get("case_ref"), FIELD_MAX) or None,
        "case_url": single_line(page.get("case_url"), 2000) or None,
    }
    return {
        "summary": summary,
        "source": host or customer or CLIENT,
        "severity": "critical",
        "custom_details": details,
    }


class PagerDutyPager(Pager):
    """Pages as PagerDuty alert events; the dedup key identifies the alert across trigger and clear (resolve)."""

    name = PAGER_NAME

    def __init__(self, routing_key: str, *, url: str = DEFAULT_URL, timeout: float = 10.0, ca_path: str | None = None,
                 validate_certs: bool = True, allow_http: bool = False) -> None:
        _http.require_requests("PagerDuty pager")
        if not isinstance(routing_key, str) or not routing_key.strip() or re.search(r"[\s\x00-\x1f\x7f-\x9f]", routing_key):
            raise BackendError("PagerDuty routing key is empty or contains blanks: give the 32-character integration key of an "
                               "Events API v2 integration", retryable=False)
        if not isinstance(url, str) or not re.match(r"^https?://[^/]", url):
            raise BackendError(f"PagerDuty url must start with http:// or https:// (default {DEFAULT_URL})", retryable=False)
        if "@" in urlsplit(url).netloc:
            raise BackendError("PagerDuty url must not contain credentials", retryable=False)
        _http.refuse_clear_text(url, client="the PagerDuty pager", credential="the routing key", allow_http=allow_http)
        self.url = url
        self.timeout = float(timeout)
        self._routing_key = routing_key
        self._secrets = _http.Secrets((routing_key,))
        self._session = _http.new_session(USER_AGENT, ca_path=ca_path, validate_certs=validate_certs)

    def __repr__(self) -> str:
        return f"PagerDutyPager(url={self.url!r}, routing_key=<hidden>)"

    def _send(self, ctx: ActionContext, event: dict[str, Any]) -> None:
        """POST one event; a BackendError unless PagerDuty answers 202 with ``{"status": "success"}``."""
        where = f"PagerDuty POST {self.url} ({event['event_action']} {event['dedup_key']!r})"
        response = _http.send(self._session, "POST", self.url, what=where, secrets=self._secrets, timeout=self.timeout,
                              deadline=ctx.deadline, reach="check the url and the network (proxy) to PagerDuty", json=event)
        status = response.status_code
        if 200 <= status < 300:
            data = _http.json_answer(response, what=where, secrets=self._secrets)
            if status != 202 or not isinstance(data, dict) or data.get("status") != "success":
                raise _http.shape_error(where, status, 'HTTP 202 with {"status": "success"}', data, self._secrets)
            return
        raise _http.status_error(
            response, _pd_message(response), what=where, secrets=self._secrets, redirect=f"check the url (default {DEFAULT_URL})",
            refusal="PagerDuty will not accept this event as it is",
            hints={400: ("PagerDuty rejected the event; check the routing key (an Events API v2 integration key) and the page", False,
                         False),
                   429: ("rate limited by PagerDuty (about 120 events a minute per integration key); the event was not accepted; "
                         "will retry later", True, True)})

    def trigger(self, ctx: ActionContext, dedup_key: str, page: dict[str, Any]) -> str:
        """Send a trigger event for ``page``; returns the dedup key. Repeating it while the alert is open is harmless."""
        dedup_key = check_dedup_key(dedup_key)
        event: dict[str, Any] = {
            "routing_key": self._routing_key,
            "event_action": "trigger",
            "dedup_key": dedup_key,
            "payload": trigger_payload(dedup_key, page),
            "client": CLIENT,
        }
        case_url = _http_url(page.get("case_url"))
        if case_url:
            text = single_line(page.get("case_ref"), FIELD_MAX)
            event["links"] = [{"href": case_url, "text": f"Case {text}" if text else "Case"}]
        self._send(ctx, event)
        return dedup_key

    def clear(self, ctx: ActionContext, dedup_key: str, page: dict[str, Any]) -> None:
        """Send a resolve event (routing_key, event_action, dedup_key only). ``page`` is not sent. Repeating it is harmless."""
        dedup_key = check_dedup_key(dedup_key)
        self._send(ctx, {"routing_key": self._routing_key, "event_action": "resolve", "dedup_key": dedup_key})


def _pd_message(response: Any) -> str:
    """PagerDuty's explanation: ``message`` and ``errors`` of its JSON error body, else the reason phrase."""
    try:
        data = response.json()
    except ValueError:
        return _http.reason_of(response)
    if not isinstance(data, dict):
        return _http.reason_of(response)
    parts = [single_line(data.get(key), 200) for key in ("status", "message") if data.get(key)]
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        parts.append("errors: " + "; ".join(single_line(error, 200) for error in errors[:5]))
    return " - ".join(parts)[:600] or _http.reason_of(response)
