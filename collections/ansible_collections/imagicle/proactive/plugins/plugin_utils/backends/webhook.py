# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A signed JSON webhook as a case backend: one POST per case action to a receiver you run.

Every POST carries ``{"event", "key", "ref", "case", "sent_at"}`` and the headers
``Idempotency-Key`` (the same for a retry of the same action), ``X-Imagicle-Timestamp`` (Unix
seconds) and ``X-Imagicle-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">``.
Receivers check the signature with :func:`verify_signature` (or the same few lines in any language)
and drop a delivery whose ``Idempotency-Key`` they have already processed.

A webhook cannot be asked what it holds: :meth:`WebhookBackend.find` always returns None, so
``create`` always posts and the receiver deduplicates by ``Idempotency-Key``:
``<case key>:case.opened`` for the case, ``<case key>:<event>:<action id>`` for each later action
(the same on every retry of that action). When the receiver's JSON answer to ``case.opened``
carries ``{"id": "..."}`` that id is the case's reference (sent back as ``ref`` in the later
events), otherwise the key is.

A delivery counts when the receiver answers 2xx with an empty body or a JSON object; an HTML page
(a proxy's or a login page) is refused (the run fails loudly, the event stays queued and later runs
retry it), any other 2xx body is a retryable failure, so a delivery a receiver never saw is not
taken for done.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ansible_collections.imagicle.proactive.plugins.module_utils._schema import PRIORITIES
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends import _http
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends._http import check_key, has_controls, single_line, visible_controls
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import ActionContext, BackendError, CaseBackend, CaseRef

BACKEND_NAME = "webhook"
USER_AGENT = "imagicle.proactive-webhook-backend/1.0"
EVENTS = ("case.opened", "case.updated", "case.resolved", "case.reopened", "case.commented")
TIMESTAMP_HEADER = "X-Imagicle-Timestamp"
SIGNATURE_HEADER = "X-Imagicle-Signature"
EVENT_HEADER = "X-Imagicle-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"
RESERVED_HEADERS = frozenset(name.lower() for name in (
    "Content-Type", "Content-Length", "Host", "User-Agent", "Accept", TIMESTAMP_HEADER, SIGNATURE_HEADER, EVENT_HEADER,
    IDEMPOTENCY_HEADER))
MIN_SECRET_LENGTH = 16
TITLE_MAX = 200
_SIGNATURE = re.compile(r"^sha256=([0-9a-fA-F]{64})$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def sign(secret: str | bytes, timestamp: str | int, body: bytes | str) -> str:
    """The ``X-Imagicle-Signature`` value: ``sha256=`` + hex HMAC-SHA256 of ``"<timestamp>.<raw body>"`` with ``secret``."""
    digest = hmac.new(_as_bytes(secret), _as_bytes(str(timestamp)) + b"." + _as_bytes(body), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str | bytes, timestamp: str | int | None, body: bytes | str, header: str | None,
                     tolerance_seconds: float = 300, now: float | datetime | None = None) -> bool:
    """True when ``header`` is the signature of ``body`` sent at ``timestamp`` with ``secret``, and fresh.

    ``timestamp`` and ``header`` are the raw ``X-Imagicle-Timestamp`` and ``X-Imagicle-Signature``
    values, ``body`` the raw request body exactly as received (bytes; not re-serialised JSON).
    Deliveries older or newer than ``tolerance_seconds`` (against ``now``: Unix seconds or an aware
    datetime, default the current time) are refused, so a captured delivery cannot be replayed
    later; within that window deduplicate by ``Idempotency-Key``. Never raises on bad input.
    """
    if not secret or timestamp is None or header is None:
        return False
    match = _SIGNATURE.match(str(header).strip())
    stamp = str(timestamp).strip()
    if not match or not _TIMESTAMP.match(stamp):
        return False
    if isinstance(now, datetime):
        current = now.timestamp()
    else:
        current = time.time() if now is None else float(now)
    if abs(current - int(stamp)) > float(tolerance_seconds):
        return False
    try:
        expected = sign(secret, stamp, body)
    except (TypeError, ValueError):
        return False
    return hmac.compare_digest(expected.lower(), "sha256=" + match.group(1).lower())


class WebhookBackend(CaseBackend):
    """Cases as signed JSON POSTs to a receiver URL (HMAC-SHA256, one POST per action)."""

    name = BACKEND_NAME
    readable = False

    def __init__(self, url: str, *, secret: str, timeout: float = 10.0, ca_path: str | None = None, validate_certs: bool = True,
                 extra_headers: dict[str, str] | None = None, allow_http: bool = False) -> None:
        _http.require_requests("webhook backend")
        if not isinstance(url, str) or not re.match(r"^https?://[^/]", url):
            raise BackendError("webhook url must start with https:// (or http:// on a trusted network)", retryable=False)
        parts = urlsplit(url)
        if "@" in parts.netloc:
            raise BackendError("webhook url must not contain credentials: give them in extra_headers", retryable=False)
        if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
            raise BackendError(f"webhook secret must be a string of at least {MIN_SECRET_LENGTH} characters (e.g. the output of "
                               "'openssl rand -hex 32'), shared with the receiver", retryable=False)
        headers: dict[str, str] = {}
        for name, value in (extra_headers or {}).items():
            if not isinstance(name, str) or not _HEADER_NAME.match(name) or name.lower() in RESERVED_HEADERS:
                raise BackendError(f"webhook extra_headers: {name!r} is not an allowed header name (the signature, timestamp, "
                                   "idempotency and content headers are set by the backend)", retryable=False)
            if not isinstance(value, str) or any(char in value for char in "\r\n\x00"):
                raise BackendError(f"webhook extra_headers: the value of {name!r} must be a single-line string", retryable=False)
            headers[name] = value
        if headers:  # the HMAC secret is never sent, but extra headers usually carry a credential
            _http.refuse_clear_text(url, client="the webhook backend", credential="extra_headers", allow_http=allow_http)
        self.url = url
        self.safe_url = urlunsplit((parts.scheme, parts.netloc, parts.path, "..." if parts.query else "", ""))
        self.timeout = float(timeout)
        self._secret = secret
        # header values and query parameters may carry credentials: scrubbed from messages, whole and word by word
        # (an "Authorization: Bearer <token>" echoed as "<token>"); pieces shorter than 8 characters would mangle messages
        pieces = [*headers.values(), parts.query, *re.split(r"[&;=\s]+", " ".join([*headers.values(), parts.query]))]
        self._secrets = _http.Secrets([secret, *(piece for piece in pieces if len(piece) >= 8)])
        self._session = _http.new_session(USER_AGENT, ca_path=ca_path, validate_certs=validate_certs, headers=headers)

    def __repr__(self) -> str:
        return f"WebhookBackend(url={self.safe_url!r}, secret=<hidden>)"

    # HTTP --------------------------------------------------------------------------------------------
    def _post(self, deadline: float | None, event: str, idempotency_key: str, document: dict[str, Any]) -> dict[str, Any] | None:
        """Sign and POST one event; the receiver's JSON object answer (None for an empty body)."""
        stamp = str(int(time.time()))
        raw = json.dumps(dict(document, sent_at=datetime.fromtimestamp(int(stamp), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")),
                         separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: idempotency_key,
            EVENT_HEADER: event,
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: sign(self._secret, stamp, raw),
        }
        where = f"webhook POST {self.safe_url} ({event})"
        # the exception's own text is left out: it may quote the url's query, which can carry a credential
        response = _http.send(self._session, "POST", self.url, what=where, secrets=self._secrets, timeout=self.timeout,
                              deadline=deadline, reach="check that the receiver runs and the url is right", certificate="the receiver's",
                              detail=False, data=raw, headers=headers)
        status = response.status_code
        if 200 <= status < 300:
            data = _http.json_answer(response, what=where, secrets=self._secrets)
            if data is not None and not isinstance(data, dict):
                raise _http.shape_error(where, status, "an empty body or a JSON object", data, self._secrets)
            return data
        refused = ("the receiver refused the delivery: check the shared secret, extra_headers and the clocks (timestamp tolerance)",
                   False, True)
        raise _http.status_error(
            response, single_line(response.text[:200]) if response.content else _http.reason_of(response), what=where,
            secrets=self._secrets, redirect="redirects are not followed; set url to the final address",
            refusal="the receiver will not accept this delivery as it is", hints={401: refused, 403: refused})

    # helpers ----------------------------------------------------------------------------------------
    @staticmethod
    def _check_key(key: str, label: str = "idempotency key") -> str:
        return check_key(key, label, 150)

    def _ref(self, ref: CaseRef | str) -> str:
        return self._check_key(ref.ref if isinstance(ref, CaseRef) else str(ref), "webhook case reference")

    def _follow_up(self, ctx: ActionContext, event: str, ref: str, case: dict[str, Any]) -> None:
        """POST an event about an existing case; its Idempotency-Key ``<case key>:<event>:<action id>`` is stable per action."""
        ref_value = self._ref(ref)
        case_key = self._check_key(ctx.case_key)
        action_id = self._check_key(ctx.action_id, "action id")
        self._post(ctx.deadline, event, f"{case_key}:{event}:{action_id}", {"event": event, "key": case_key, "ref": ref_value, "case": case})

    # public API -------------------------------------------------------------------------------------
    def find(self, ctx: ActionContext) -> CaseRef | None:
        """Always None: a webhook cannot be asked; the receiver deduplicates ``case.opened`` by Idempotency-Key."""
        self._check_key(ctx.case_key)
        return None

    def create(self, ctx: ActionContext, case: dict[str, Any]) -> CaseRef:
        """POST ``case.opened`` (Idempotency-Key ``<case key>:case.opened``); the ref is the receiver's ``id`` or the key."""
        key = self._check_key(ctx.case_key)
        title = single_line(str(case.get("title") or ""))[:TITLE_MAX]
        if not title:
            raise BackendError(f"case for {key!r} has no title", retryable=False)
        priority = case.get("priority")
        if priority not in PRIORITIES:
            raise BackendError(f"case for {key!r}: priority {priority!r} is not one of {', '.join(PRIORITIES)}", retryable=False)
        body = {
            "title": title,
            "priority": priority,
            "due": single_line(str(case["due"])) if case.get("due") else None,
            "body": visible_controls(str(case.get("body") or title)),
        }
        answer = self._post(ctx.deadline, "case.opened", f"{key}:case.opened",
                            {"event": "case.opened", "key": key, "ref": None, "case": body})
        ref, url, warning = key, None, None
        if answer is not None:
            given = answer.get("id")
            if isinstance(given, (str, int)) and not isinstance(given, bool) and str(given).strip():
                text = str(given).strip()
                if len(text) <= 150 and not has_controls(text):
                    ref = text
                else:
                    warning = (f"webhook receiver {self.safe_url} answered an id that is not a single line of at most 150 "
                               "characters; the case key is used as its reference")
            link = answer.get("url")
            if isinstance(link, str) and re.match(r"^https?://[^\s]+$", link):
                url = link
        return CaseRef(backend=BACKEND_NAME, ref=ref, url=url, warning=warning)

    def comment(self, ctx: ActionContext, ref: str, text: str) -> None:
        """POST ``case.commented`` with ``{"comment": text}``."""
        self._follow_up(ctx, "case.commented", ref, {"comment": visible_controls(str(text))})

    def update_priority(self, ctx: ActionContext, ref: str, priority: str, note: str | None) -> None:
        """POST ``case.updated`` with ``{"priority": P1..P4, "comment": note}``."""
        if priority not in PRIORITIES:
            raise BackendError(f"priority {priority!r} is not one of {', '.join(PRIORITIES)}", retryable=False)
        self._follow_up(ctx, "case.updated", ref, {"priority": priority, "comment": visible_controls(str(note)) if note else None})

    def resolve(self, ctx: ActionContext, ref: str, note: str | None) -> None:
        """POST ``case.resolved`` with ``{"note": note}``."""
        self._follow_up(ctx, "case.resolved", ref, {"note": visible_controls(str(note)) if note else None})

    def reopen(self, ctx: ActionContext, ref: str, note: str | None) -> None:
        """POST ``case.reopened`` with ``{"note": note}``."""
        self._follow_up(ctx, "case.reopened", ref, {"note": visible_controls(str(note)) if note else None})

    def get(self, ref: CaseRef | str) -> dict[str, Any]:
        """What is known without asking the receiver (a webhook cannot be read back): the ref; the rest is None."""
        ref_value = self._ref(ref)
        return {"ref": ref_value, "status": None, "priority": None, "subject": None, "key": None, "url": None,
                "readable": False}
