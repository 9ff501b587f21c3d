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
resolves on its own if the job stops running for good. :meth:`AlertmanagerPager.resolve` posts the
same labels and annotations with ``endsAt`` = now (annotations are re-sent because the last post's
annotations are what the resolved notification carries).

Host-supplied text (summary, host, customer, rule) is sent as single-line plain text: Alertmanager
does not evaluate alert values as templates, and nothing here builds templates from them.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

try:
    import requests
except ImportError:  # pragma: no cover - exercised by the sanity import test
    requests = None

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import BackendError, status_is_retryable

PAGER_NAME = "alertmanager"
ALERT_NAME = "ImagicleProactiveP1"
USER_AGENT = "imagicle.proactive-pager/1.0"
DEDUP_KEY_MAX = 255
LABEL_MAX = 200
SUMMARY_MAX = 1024
ANNOTATION_MAX = 2048
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def single_line(value: Any, limit: int) -> str:
    """``value`` as one line of plain text (control characters as spaces, runs of blanks collapsed), at most ``limit`` characters."""
    text = " ".join(_CONTROL.sub(" ", "" if value is None else str(value)).split())
    if len(text) > limit:
        text = text[: limit - 3].rstrip() + "..."
    return text


def check_dedup_key(dedup_key: Any) -> str:
    """The dedup key if it is a non-empty single-line string of at most 255 characters, else a non-retryable BackendError."""
    if not isinstance(dedup_key, str) or not dedup_key.strip() or _CONTROL.search(dedup_key):
        raise BackendError(f"page dedup key {dedup_key!r} must be a non-empty single-line string", retryable=False)
    if len(dedup_key) > DEDUP_KEY_MAX:
        raise BackendError(f"page dedup key {dedup_key[:40]!r}... is longer than {DEDUP_KEY_MAX} characters", retryable=False)
    return dedup_key


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


class _Secrets(tuple):
    """The secrets to scrub from messages; its repr hides them."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<hidden>"

    __str__ = __repr__


class _BasicAuth:
    """HTTP Basic authentication whose repr hides the password."""

    def __init__(self, username: str, password: str) -> None:
        self._auth = requests.auth.HTTPBasicAuth(username, password)

    def __call__(self, request: Any) -> Any:
        return self._auth(request)

    def __repr__(self) -> str:
        return "_BasicAuth(<hidden>)"


class AlertmanagerPager:
    """Pages as Alertmanager alerts: ``trigger`` keeps one alert active per dedup key, ``resolve`` ends it."""

    name = PAGER_NAME

    def __init__(self, url: str, *, timeout: float = 10.0, ca_path: str | None = None, validate_certs: bool = True,
                 username: str | None = None, password: str | None = None, hold_hours: float = 168.0) -> None:
        if requests is None:
            raise BackendError("the Alertmanager pager needs the Python package 'requests' on the controller: "
                               "install it (pip install requests)", retryable=False)
        if not isinstance(url, str) or not re.match(r"^https?://[^/]", url):
            raise BackendError("Alertmanager url must start with http:// or https:// (e.g. http://alertmanager:9093)", retryable=False)
        if "@" in urlsplit(url).netloc:
            raise BackendError("Alertmanager url must not contain credentials: give them as username/password", retryable=False)
        if bool(username) != bool(password):
            raise BackendError("Alertmanager pager: username and password must both be given, or neither", retryable=False)
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
        self._secrets = _Secrets(secret for secret in (password,) if secret)
        self._session = requests.Session()
        self._session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        if username:
            self._session.auth = _BasicAuth(username, password)
        self._session.verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)

    def __repr__(self) -> str:
        return f"AlertmanagerPager(url={self.url!r}, hold_hours={self.hold.total_seconds() / 3600:g})"

    def _error(self, message: str, *, retryable: bool, status: int | None = None) -> BackendError:
        for secret in self._secrets:
            message = message.replace(secret, "***")
        return BackendError(message, retryable=retryable, status=status)

    def _post(self, alerts: list[dict[str, Any]]) -> None:
        """POST the alerts; a BackendError unless Alertmanager answers 2xx."""
        where = f"Alertmanager POST {self.alerts_url}"
        try:
            response = self._session.post(self.alerts_url, json=alerts, timeout=self.timeout, allow_redirects=False)
        except requests.Timeout:
            raise self._error(f"{where}: no answer within {self.timeout:g} s; will retry", retryable=True) from None
        except requests.ConnectionError as exc:
            reason = "connection refused" if "refused" in str(exc).lower() else f"cannot connect ({exc.__class__.__name__})"
            raise self._error(f"{where}: {reason}; check that Alertmanager runs and the url is right; will retry", retryable=True) from None
        except requests.RequestException as exc:
            raise self._error(f"{where}: {exc.__class__.__name__}: {exc}", retryable=True) from None
        status = response.status_code
        if 200 <= status < 300:
            return
        message = _am_message(response)
        if status in (301, 302, 303, 307, 308):
            raise self._error(f"{where}: HTTP {status} redirect to {response.headers.get('Location', '?')!r}: give Alertmanager's "
                              "base URL (its --web.external-url)", retryable=False, status=status)
        if status in (401, 403):
            raise self._error(f"{where}: HTTP {status} {message}: the credentials were not accepted; check username/password",
                              retryable=False, status=status)
        retryable = status_is_retryable(status)
        hint = "will retry" if retryable else "Alertmanager will not accept this alert as it is"
        raise self._error(f"{where}: HTTP {status} {message}; {hint}", retryable=retryable, status=status)

    def trigger(self, dedup_key: str, page: dict[str, Any]) -> str:
        """Post the page as an active alert (until now + hold_hours); returns the dedup key. Repeating it is harmless."""
        dedup_key = check_dedup_key(dedup_key)
        now = datetime.now(timezone.utc)
        # startsAt must be sent: given only endsAt, Alertmanager sets startsAt = endsAt (a week ahead). Overlapping the
        # stored alert's active range, the post is merged into it and the earliest startsAt is kept.
        self._post([build_alert(dedup_key, page, now + self.hold, starts_at=now)])
        return dedup_key

    def resolve(self, dedup_key: str, page: dict[str, Any]) -> None:
        """Post the same labels and annotations with endsAt = now: Alertmanager sends the resolved notification.

        startsAt is not sent (Alertmanager sets it to endsAt; merged into the firing alert, whose earlier start is kept).
        """
        dedup_key = check_dedup_key(dedup_key)
        self._post([build_alert(dedup_key, page, datetime.now(timezone.utc))])


def _am_message(response: Any) -> str:
    """Alertmanager's explanation: a JSON string (400), ``{"code", "message"}`` (422), else the reason phrase."""
    try:
        data = response.json()
    except ValueError:
        return (response.reason or "").strip()[:200]
    if isinstance(data, str) and data:
        return single_line(data, 300)
    if isinstance(data, dict) and data.get("message"):
        return single_line(data["message"], 300)
    return (response.reason or "").strip()[:200]
