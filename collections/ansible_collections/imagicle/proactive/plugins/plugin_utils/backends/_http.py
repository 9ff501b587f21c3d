# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP layer shared by the outbound clients (case backends and pagers), controller only.

:func:`new_session` sets a ``requests`` session up the same way for every client: its own
User-Agent, JSON accepted, no cookies kept, the CA bundle (or no verification) and an
authentication object whose repr hides the secret (:class:`HeaderAuth`, :class:`BasicAuth`).
:func:`send` makes one request without following redirects and turns a transport failure into a
:class:`BackendError` (timeouts and refused connections retryable); :func:`status_error` does the
same for a non-2xx answer (408, 425, 429 and 5xx retryable, other statuses not). Every message
names the URL, has the secrets scrubbed (:class:`Secrets`, :func:`scrub`) and says what to do.
The text helpers keep host-supplied strings inert: control characters made visible or turned
into spaces.
"""

from __future__ import annotations

import re
from http.cookiejar import DefaultCookiePolicy
from typing import Any

try:
    import requests
except ImportError:  # pragma: no cover - exercised by the sanity import test
    requests = None

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import BackendError, status_is_retryable

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LAYOUT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


# text -------------------------------------------------------------------------------------------------
def has_controls(text: str) -> bool:
    """True when ``text`` has a control character (newlines and tabs included)."""
    return bool(_CONTROL.search(text))


def visible_controls(text: str) -> str:
    """Control characters (except tab and newlines) as visible ``\\xNN`` text."""
    return _CONTROL_BUT_LAYOUT.sub(lambda match: f"\\x{ord(match.group(0)):02x}", text)


def single_line(value: Any, limit: int | None = None) -> str:
    """``value`` as one line of plain text (control characters as spaces, runs of blanks collapsed, trimmed).

    With ``limit``, a longer text is cut to ``limit`` characters ending in ``...``.
    """
    text = " ".join(_CONTROL.sub(" ", "" if value is None else str(value)).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 3].rstrip() + "..."
    return text


def check_key(value: Any, label: str, limit: int) -> str:
    """``value`` if it is a non-empty single-line string of at most ``limit`` characters, else a non-retryable BackendError."""
    if not isinstance(value, str) or not value.strip() or has_controls(value):
        raise BackendError(f"{label} {value!r} must be a non-empty single-line string", retryable=False)
    if len(value) > limit:
        raise BackendError(f"{label} {value[:40]!r}... is longer than {limit} characters", retryable=False)
    return value


# secrets ----------------------------------------------------------------------------------------------
class Secrets(tuple):
    """The secrets to scrub from messages, longest first, empty ones left out; its repr hides them."""

    __slots__ = ()

    def __new__(cls, values: Any = ()) -> Secrets:
        return super().__new__(cls, sorted(dict.fromkeys(value for value in values if value), key=len, reverse=True))

    def __repr__(self) -> str:
        return "<hidden>"

    __str__ = __repr__


def scrub(text: str, secrets: Secrets) -> str:
    """``text`` with every secret replaced by ``***``."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def error(message: str, secrets: Secrets, *, retryable: bool, status: int | None = None) -> BackendError:
    """A BackendError whose message has the secrets scrubbed."""
    return BackendError(scrub(message, secrets), retryable=retryable, status=status)


class HeaderAuth:
    """``Authorization: <scheme> <secret>`` as a requests auth (so no .netrc entry can replace it); hides the secret."""

    def __init__(self, scheme: str, secret: str) -> None:
        self._value = f"{scheme} {secret}"
        self._scheme = scheme

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = self._value
        return request

    def __repr__(self) -> str:
        return f"HeaderAuth({self._scheme!r}, <hidden>)"


class BasicAuth:
    """HTTP Basic authentication whose repr hides the password."""

    def __init__(self, username: str, password: str) -> None:
        self._auth = requests.auth.HTTPBasicAuth(username, password)

    def __call__(self, request: Any) -> Any:
        return self._auth(request)

    def __repr__(self) -> str:
        return "BasicAuth(<hidden>)"


# requests ---------------------------------------------------------------------------------------------
def require_requests(client: str) -> None:
    """A non-retryable BackendError naming ``client`` when the ``requests`` package is missing."""
    if requests is None:
        raise BackendError(f"the {client} needs the Python package 'requests' on the controller: install it (pip install requests)",
                           retryable=False)


def token_or_password(client: str, scheme: str, token: str | None, username: str | None,
                      password: str | None) -> tuple[HeaderAuth | BasicAuth, Secrets]:
    """The auth (``Authorization: <scheme> <token>``, else Basic) and the secrets of a client given either a token
    or a username and password; a non-retryable BackendError naming ``client`` for both, neither or half a pair."""
    if bool(token) == bool(username or password):
        raise BackendError(f"{client}: give either a token or a username and password, not both or neither", retryable=False)
    if not token and not (username and password):
        raise BackendError(f"{client}: username and password must both be given", retryable=False)
    return (HeaderAuth(scheme, token) if token else BasicAuth(username, password)), Secrets((token, password))


def new_session(user_agent: str, *, auth: Any = None, ca_path: str | None = None, validate_certs: bool = True,
                headers: dict[str, str] | None = None) -> Any:
    """A session sending ``user_agent`` and accepting JSON, keeping no cookies (a Cookie header can turn a 401 into a
    302 to a login page), verifying with ``ca_path`` (else the system CAs; nothing when ``validate_certs`` is False)."""
    session = requests.Session()
    session.headers.update({"User-Agent": user_agent, "Accept": "application/json", **(headers or {})})
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    if auth is not None:
        session.auth = auth
    session.verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)
    return session


def send(session: Any, method: str, url: str, *, what: str, secrets: Secrets, timeout: float, reach: str,
         certificate: str | None = None, detail: bool = True, **kwargs: Any) -> Any:
    """One request (redirects not followed) and its response, whatever its status; a BackendError when there is none.

    ``what`` starts every message (e.g. ``"Request Tracker GET <url>"``); ``reach`` says what to check when the peer
    cannot be reached. With ``certificate`` (whose certificate, e.g. ``"the instance's"``) an untrusted certificate is
    a non-retryable error, otherwise it counts as a failed connection. ``detail`` False leaves the exception's own
    text (which may quote the URL) out of messages. ``verify`` is passed on each request, so that the session's
    ``ca_path`` or ``validate_certs`` wins over ``REQUESTS_CA_BUNDLE``; ``kwargs`` go to ``session.request``.
    """
    try:
        return session.request(method, url, timeout=timeout, allow_redirects=False, verify=session.verify, **kwargs)
    except requests.Timeout:
        raise error(f"{what}: no answer within {timeout:g} s; will retry", secrets, retryable=True) from None
    except requests.ConnectionError as exc:
        if certificate is not None and isinstance(exc, requests.exceptions.SSLError):
            raise error(f"{what}: TLS certificate not trusted; give ca_path (or fix {certificate} certificate)", secrets,
                        retryable=False) from None
        reason = "connection refused" if "refused" in str(exc).lower() else f"cannot connect ({exc.__class__.__name__})"
        raise error(f"{what}: {reason}; {reach}; will retry", secrets, retryable=True) from None
    except requests.RequestException as exc:
        said = f": {exc}" if detail else ""
        raise error(f"{what}: {exc.__class__.__name__}{said}", secrets, retryable=True) from None


def status_error(response: Any, said: str, *, what: str, secrets: Secrets, redirect: str, refusal: str,
                 hints: dict[int, tuple[str, bool]] | None = None) -> BackendError:
    """The BackendError for a non-2xx ``response`` whose explanation is ``said``.

    A redirect is not retryable (``redirect`` says what to fix); a status in ``hints`` gets its text and retryable
    flag; any other is retryable when :func:`status_is_retryable`, else ``refusal`` says the peer will never accept it.
    """
    status = response.status_code
    if status in REDIRECT_STATUSES:
        return error(f"{what}: HTTP {status} redirect to {response.headers.get('Location', '?')!r}: {redirect}", secrets,
                     retryable=False, status=status)
    if hints and status in hints:
        hint, retryable = hints[status]
        return error(f"{what}: HTTP {status} {said}: {hint}", secrets, retryable=retryable, status=status)
    retryable = status_is_retryable(status)
    return error(f"{what}: HTTP {status} {said}; {'will retry' if retryable else refusal}", secrets, retryable=retryable,
                 status=status)


def reason_of(response: Any) -> str:
    """The response's reason phrase, trimmed to 200 characters."""
    return (response.reason or "").strip()[:200]
