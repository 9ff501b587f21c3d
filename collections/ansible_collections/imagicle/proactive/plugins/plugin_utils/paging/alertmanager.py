# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paging the on-call engineer through Prometheus Alertmanager (API v2).

A page is one Alertmanager alert whose label set is ``{alertname: ImagicleProactiveP1, dedup_key,
customer, host, rule, severity: critical}``; the label set is the alert's identity, so triggering the
same dedup key again updates the same alert and Alertmanager sends no second notification.

Alertmanager expects its clients to re-send active alerts every 30 s to 3 min and resolves an alert
that was posted without ``endsAt`` once ``resolve_timeout`` (default 5 min) passes without a re-send.
The proactive job runs every few minutes or less often, so :meth:`AlertmanagerPager.trigger` sets
``endsAt`` to now + ``hold_hours`` (default a week): the page stays active between runs, and still
resolves on its own if the job stops running for good. :meth:`AlertmanagerPager.clear` posts the
same labels and annotations with ``endsAt`` = now (annotations are re-sent because the last post's
annotations are what the resolved notification carries).

An answer counts when it is 2xx with an empty body (what Alertmanager sends) or JSON; another body
is a retryable failure. An HTML page (a proxy's or a login page), 401, 403 and redirects mean a
person must fix the credentials or the url: refused (the run fails loudly, the page stays queued
and later runs retry it), and backend-wide.

Host-supplied text (summary, host, customer, rule) is sent as single-line plain text: Alertmanager
does not evaluate alert values as templates, and nothing here builds templates from them.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends import _http
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends._http import check_key, single_line
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import ActionContext, BackendError, Pager

PAGER_NAME = "alertmanager"
ALERT_NAME = "ImagicleProactiveP1"
USER_AGENT = "imagicle.proactive-pager/1.0"
DEDUP_KEY_MAX = 255
LABEL_MAX = 200
SUMMARY_MAX = 1024
ANNOTATION_MAX = 2048


def check_dedup_key(dedup_key: Any) -> str:
    """The dedup key if it is a non-empty single-line string of at most 255 characters, else a non-retryable BackendError."""
    return check_key(dedup_key, "page dedup key", DEDUP_KEY_MAX)


def rfc3339(instant: datetime) -> str:
    """A UTC instant as RFC 3339 with milliseconds and a trailing Z."""
    return instant.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _http_url(value: Any) -> str | None:
    """``value`` if it is a plain http(s) URL (usable as Alertmanager's generatorURL), else None."""
    if not isinstance(value, str) or not value or len(value) > 2000 or re.search(r"[\s\x00-\x1f\x7f-\x9f\"<>\\^`{|}]", value):
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    return value


def alert_labels(dedup_key: str, page: dict[str, Any]) -> dict[str, str]:
    """The identifying label set of a page (the same for trigger and resolve)."""
    return {
        "alertname": ALERT_NAME,
        "dedup_key": dedup_key,
        "customer": single_line(page.get("customer"), LABEL_MAX),
        "host": single_line(page.get("host"), LABEL_MAX),
        "rule": single_line(page.get("rule"), LABEL_MAX),
        "severity": "critical",
    }


def alert_annotations(page: dict[str, Any]) -> dict[str, str]:
    """The page's annotations: summary, due (ISO) and case (reference and link, "" when there is no case yet)."""
    case = " ".join(part for part in (single_line(page.get("case_ref"), LABEL_MAX), single_line(page.get("case_url"), ANNOTATION_MAX))
                    if part)
    return {
        "summary": single_line(page.get("summary"), SUMMARY_MAX),
        "due": single_line(page.get("due"), LABEL_MAX),
        "case": case,
    }


def build_alert(dedup_key: str, page: dict[str, Any], ends_at: datetime, starts_at: datetime | None = None) -> dict[str, Any]:
    """One postable alert for ``page`` ending at ``ends_at``; ``starts_at`` None leaves startsAt to Alertmanager (= endsAt)."""
    if not isinstance(page, dict):
        raise BackendError(f"page for {dedup_key!r} must be a dict, not {type(page).__name__}", retryable=False)
    alert: dict[str, Any] = {
        "labels": alert_labels(dedup_key, page),
        "annotations": alert_annotations(page),
        "endsAt": rfc3339(ends_at),
    }
    if starts_at is not None:
        alert["startsAt"] = rfc3339(starts_at)
    if not alert["annotations"]["summary"]:
        raise BackendError(f"page for {dedup_key!r} has no summary", retryable=False)
    generator = _http_url(page.get("case_url"))
    if generator:
        alert["generatorURL"] = generator
    return alert


class AlertmanagerPager(Pager):
    """Pages as Alertmanager alerts: ``trigger`` keeps one alert active per dedup key, ``clear`` ends it."""

    name = PAGER_NAME

    def __init__(self, url: str, *, timeout: float = 10.0, ca_path: str | None = None, validate_certs: bool = True,
                 username: str | None = None, password: str | None = None, hold_hours: float = 168.0,
                 allow_http: bool = False) -> None:
        _http.require_requests("Alertmanager pager")
        if not isinstance(url, str) or not re.match(r"^https?://[^/]", url):
            raise BackendError("Alertmanager url must start with http:// or https:// (e.g. http://alertmanager:9093)", retryable=False)
        if "@" in urlsplit(url).netloc:
            raise BackendError("Alertmanager url must not contain credentials: give them as username/password", retryable=False)
        if bool(username) != bool(password):
            raise BackendError("Alertmanager pager: username and password must both be given, or neither", retryable=False)
        if username:
            _http.refuse_clear_text(url, client="the Alertmanager pager", credential="the password", allow_http=allow_http)
        try:
            hold = float(hold_hours)
        except (TypeError, ValueError):
            hold = 0.0
        if not hold > 0:
            raise BackendError(f"Alertmanager pager: hold_hours {hold_hours!r} must be a positive number of hours "
                               "(how long a page stays active without being triggered again)", retryable=False)
        base = url.rstrip("/")
        for suffix in ("/api/v2/alerts", "/api/v2"):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
        self.url = base
        self.alerts_url = base + "/api/v2/alerts"
        self.timeout = float(timeout)
        self.hold = timedelta(hours=hold)
        self._secrets = _http.credential_secrets(username=username, password=password)
        self._session = _http.new_session(USER_AGENT, auth=_http.BasicAuth(username, password) if username else None, ca_path=ca_path,
                                          validate_certs=validate_certs)

    def __repr__(self) -> str:
        return f"AlertmanagerPager(url={self.url!r}, hold_hours={self.hold.total_seconds() / 3600:g})"

    def _post(self, ctx: ActionContext, alerts: list[dict[str, Any]]) -> None:
        """POST the alerts; a BackendError unless Alertmanager answers 2xx with an empty body or JSON."""
        where = f"Alertmanager POST {self.alerts_url}"
        response = _http.send(self._session, "POST", self.alerts_url, what=where, secrets=self._secrets, timeout=self.timeout,
                              deadline=ctx.deadline, reach="check that Alertmanager runs and the url is right", json=alerts)
        if 200 <= response.status_code < 300:
            _http.json_answer(response, what=where, secrets=self._secrets)
            return
        refused = ("the credentials were not accepted; check username/password (and the proxy or --web.config.file in front of "
                   "Alertmanager)", False, True)
        raise _http.status_error(response, _am_message(response), what=where, secrets=self._secrets,
                                 redirect="give Alertmanager's base URL (its --web.external-url), not a login page's",
                                 refusal="Alertmanager will not accept this alert as it is", hints={401: refused, 403: refused})

    def trigger(self, ctx: ActionContext, dedup_key: str, page: dict[str, Any]) -> str:
        """Post the page as an active alert (until now + hold_hours); returns the dedup key. Repeating it is harmless."""
        dedup_key = check_dedup_key(dedup_key)
        now = datetime.now(timezone.utc)
        # startsAt must be sent: given only endsAt, Alertmanager sets startsAt = endsAt (a week ahead). Overlapping the
        # stored alert's active range, the post is merged into it and the earliest startsAt is kept.
        self._post(ctx, [build_alert(dedup_key, page, now + self.hold, starts_at=now)])
        return dedup_key

    def clear(self, ctx: ActionContext, dedup_key: str, page: dict[str, Any]) -> None:
        """Post the same labels and annotations with endsAt = now: Alertmanager sends the resolved notification.

        startsAt is not sent (Alertmanager sets it to endsAt; merged into the firing alert, whose earlier start is kept).
        Repeating it is harmless.
        """
        dedup_key = check_dedup_key(dedup_key)
        self._post(ctx, [build_alert(dedup_key, page, datetime.now(timezone.utc))])


def _am_message(response: Any) -> str:
    """Alertmanager's explanation: a JSON string (400), ``{"code", "message"}`` (422), else the reason phrase."""
    try:
        data = response.json()
    except ValueError:
        return _http.reason_of(response)
    if isinstance(data, str) and data:
        return single_line(data, 300)
    if isinstance(data, dict) and data.get("message"):
        return single_line(data["message"], 300)
    return _http.reason_of(response)
