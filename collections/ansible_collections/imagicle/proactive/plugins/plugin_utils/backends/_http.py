# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP layer shared by the outbound clients (case backends and pagers), controller only.

:func:`new_session` sets a ``requests`` session up the same way for every client: its own
User-Agent, JSON accepted, no cookies kept, the CA bundle (or no verification), an
authentication object whose repr hides the secret (:class:`HeaderAuth`, :class:`BasicAuth`) and
connections whose sockets a :class:`Watchdog` can shut down.
:func:`send` makes one request without following redirects, bounded by a total deadline (connect
and the whole answer, not per read), and turns a transport failure into a :class:`BackendError`
(timeouts and refused connections retryable); :func:`status_error` does the same for a non-2xx
answer (408, 425, 429 and 5xx retryable, other statuses not) and :func:`json_answer` for a 2xx
answer that is not JSON (an HTML login page, a proxy's page: retryable). :func:`refuse_clear_text`
keeps a credential off a plain ``http://`` connection to another machine. Every message names the
URL, has the secrets scrubbed (:class:`Secrets`, :func:`credential_secrets`, :func:`scrub`) and
says what to do. The text helpers keep host-supplied strings inert: control characters made
visible or turned into spaces.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import threading
import time
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
except ImportError:  # pragma: no cover - exercised by the sanity import test
    requests = None
    HTTPAdapter = HTTPConnection = HTTPSConnection = HTTPConnectionPool = HTTPSConnectionPool = object

from ansible_collections.imagicle.proactive.plugins.module_utils._http import credential_forms
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


def credential_secrets(*values: str | None, username: str | None = None, password: str | None = None) -> Secrets:
    """The secrets of a client: ``values`` (tokens, keys), the password and, with a username, what Basic
    authentication puts on the wire: ``user:password`` and its base64 form (as UTF-8 and as Latin-1)."""
    forms = [*values, password]
    if username and password:
        forms.extend(sorted(credential_forms(username, password)))
    return Secrets(forms)


def scrub(text: str, secrets: Secrets) -> str:
    """``text`` with every secret replaced by ``***``."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def error(message: str, secrets: Secrets, *, retryable: bool, status: int | None = None, backend_wide: bool = False) -> BackendError:
    """A BackendError whose message has the secrets scrubbed."""
    return BackendError(scrub(message, secrets), retryable=retryable, status=status, backend_wide=backend_wide)


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


# clear text -------------------------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1): nothing sent there leaves the machine."""
    name = (host or "").strip().strip("[]").lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def refuse_clear_text(url: str, *, client: str, credential: str, allow_http: bool) -> None:
    """A non-retryable BackendError when ``url`` is ``http://`` to another machine and ``allow_http`` is False:
    ``client`` would send ``credential`` (e.g. "the token") readable by anyone on the way."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "http" or allow_http or is_loopback(parts.hostname or ""):
        return
    raise BackendError(f"{client} would send {credential} in clear text over http:// to {parts.hostname}: use https://, or allow "
                       "it for a trusted network with allow_http (IMAGICLE_ALLOW_HTTP=true)", retryable=False)


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
    auth = HeaderAuth(scheme, token) if token else BasicAuth(username, password)
    return auth, credential_secrets(token, username=username, password=password)


# deadlines --------------------------------------------------------------------------------------------
def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class Watchdog:
    """Shuts the watched sockets down once ``seconds`` have passed, so that no read or write of a request (or of
    an SMTP conversation) outlives its deadline, however slowly the peer drips its answer.

    A context manager: entering starts the timer; leaving cancels it, waits for its thread and closes the
    duplicate descriptors it kept (a duplicate, because TLS wrapping detaches the original socket object;
    shutting a duplicate down shuts the connection down). ``expired`` tells whether the time ran out.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: Any) -> bool:
        self._timer.cancel()
        self._timer.join()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()
        return False

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the time runs out (at once if it already has)."""
        try:
            copy = socket.fromfd(sock.fileno(), sock.family, sock.type)
        except (OSError, ValueError):
            return
        with self._lock:
            self._sockets.append(copy)
            if self.expired:
                _shutdown(copy)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)


def budget(timeout: float, deadline: float | None, what: str, secrets: Secrets) -> tuple[float, bool]:
    """``(seconds, clipped)``: the time one call may take, ``timeout`` or what is left before ``deadline``
    (``time.monotonic()``) if less (then ``clipped``); a retryable BackendError when the deadline has passed."""
    if deadline is None:
        return timeout, False
    left = deadline - time.monotonic()
    if left <= 0:
        raise error(f"{what}: not sent: the deadline of this action had already passed; will retry", secrets, retryable=True)
    return (left, True) if left < timeout else (timeout, False)


_ACTIVE = threading.local()  # the Watchdog of the request this thread is making, if any


def _watch_active(sock: socket.socket) -> None:
    watchdog = getattr(_ACTIVE, "watchdog", None)
    if watchdog is not None:
        watchdog.watch(sock)


class _Watched:
    """Hands every socket of a connection to the Watchdog of the current request: a new one when it is
    opened, a pooled one when a request is sent over it."""

    sock: Any

    def _new_conn(self) -> Any:
        sock = super()._new_conn()  # pylint: disable=no-member
        _watch_active(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> Any:
        if self.sock is not None:
            _watch_active(self.sock)
        return super().request(*args, **kwargs)  # pylint: disable=no-member


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def _watched_pools() -> dict[str, Any]:
    return {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """A requests adapter whose connections (direct or through an HTTP proxy) are watched."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)  # pylint: disable=no-member
        self.poolmanager.pool_classes_by_scheme = _watched_pools()

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)  # pylint: disable=no-member
        if not proxy.lower().startswith("socks"):  # a SOCKS proxy has connections of its own: per-read timeouts only
            manager.pool_classes_by_scheme = _watched_pools()
        return manager


def new_session(user_agent: str, *, auth: Any = None, ca_path: str | None = None, validate_certs: bool = True,
                headers: dict[str, str] | None = None) -> Any:
    """A session sending ``user_agent`` and accepting JSON, keeping no cookies (a Cookie header can turn a 401 into a
    302 to a login page), verifying with ``ca_path`` (else the system CAs; nothing when ``validate_certs`` is False),
    with connections :func:`send` can bound by a total deadline."""
    session = requests.Session()
    session.mount("http://", _WatchedAdapter())
    session.mount("https://", _WatchedAdapter())
    session.headers.update({"User-Agent": user_agent, "Accept": "application/json", **(headers or {})})
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    if auth is not None:
        session.auth = auth
    session.verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)
    return session


def send(session: Any, method: str, url: str, *, what: str, secrets: Secrets, timeout: float, reach: str,
         deadline: float | None = None, certificate: str | None = None, detail: bool = True, **kwargs: Any) -> Any:
    """One request (redirects not followed) and its complete response, whatever its status; a BackendError when there is none.

    ``timeout`` bounds the whole request (connect, send, the complete answer), as does ``deadline``
    (``time.monotonic()``) when it comes sooner: when the time runs out the request's sockets are shut down and
    the call raises a retryable "no complete answer within N s", even if the peer is still dripping bytes. A
    deadline already past raises without sending. ``what`` starts every message (e.g. ``"Request Tracker GET
    <url>"``); ``reach`` says what to check when the peer cannot be reached. With ``certificate`` (whose
    certificate, e.g. ``"the instance's"``) an untrusted certificate is a non-retryable error, otherwise it counts
    as a failed connection. ``detail`` False leaves the exception's own text (which may quote the URL) out of
    messages. ``verify`` is passed on each request, so that the session's ``ca_path`` or ``validate_certs`` wins
    over ``REQUESTS_CA_BUNDLE``; ``kwargs`` go to ``session.request``.

    Transport failures are ``backend_wide`` (every call would fail the same way now), except a timeout that only
    the action's deadline made short.
    """
    seconds, clipped = budget(timeout, deadline, what, secrets)
    late = error(f"{what}: no complete answer within {seconds:.3g} s; will retry", secrets, retryable=True, backend_wide=not clipped)
    watchdog = Watchdog(seconds)
    _ACTIVE.watchdog = watchdog
    try:
        with watchdog:
            response = session.request(method, url, timeout=seconds, allow_redirects=False, verify=session.verify, **kwargs)
    except requests.Timeout:
        raise late from None
    except requests.ConnectionError as exc:
        if watchdog.expired or "timed out" in str(exc).lower():
            raise late from None
        if certificate is not None and isinstance(exc, requests.exceptions.SSLError):
            raise error(f"{what}: TLS certificate not trusted; give ca_path (or fix {certificate} certificate)", secrets,
                        retryable=False, backend_wide=True) from None
        reason = "connection refused" if "refused" in str(exc).lower() else f"cannot connect ({exc.__class__.__name__})"
        raise error(f"{what}: {reason}; {reach}; will retry", secrets, retryable=True, backend_wide=True) from None
    except requests.RequestException as exc:
        if watchdog.expired:
            raise late from None
        said = f": {exc}" if detail else ""
        raise error(f"{what}: {exc.__class__.__name__}{said}; will retry", secrets, retryable=True) from None
    finally:
        _ACTIVE.watchdog = None
    if watchdog.expired:  # the answer may have been cut short by the shutdown: it does not count
        raise late
    return response


# answers ----------------------------------------------------------------------------------------------
def is_html(response: Any) -> bool:
    """True when the answer is an HTML page (by its Content-Type or its first bytes)."""
    content_type = str(response.headers.get("Content-Type", "")).lower()
    start = (response.content or b"")[:200].lstrip().lower()
    return "text/html" in content_type or start.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def shown(value: Any, limit: int = 120) -> str:
    """What came back, for a message: one line of at most ``limit`` characters (JSON re-encoded, bytes decoded)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    elif not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False)
    return repr(single_line(value, limit))


def json_answer(response: Any, *, what: str, secrets: Secrets) -> Any:
    """The decoded JSON of a 2xx ``response``, None when it has no body.

    An HTML page (a login page or a proxy's) is a backend-wide BackendError that is not retryable in this run: a
    person must look (like a 401), so the run fails loudly, while the action stays queued and later runs retry it
    with backoff. Another body that is not JSON (a truncated answer) is retryable and backend-wide.
    """
    status = response.status_code
    content = response.content or b""
    if not content.strip():
        return None
    if is_html(response):
        raise error(f"{what}: HTML page (HTTP {status}) instead of JSON: a login page or a proxy? check the url and what "
                    "stands in front of the peer; the action stays queued and later runs retry it", secrets, retryable=False,
                    status=status, backend_wide=True)
    try:
        return json.loads(content)
    except ValueError:
        raise error(f"{what}: HTTP {status} with a body that is not JSON ({shown(content)}); check the url; will retry", secrets,
                    retryable=True, status=status, backend_wide=True) from None


def shape_error(what: str, status: int, expected: str, data: Any, secrets: Secrets) -> BackendError:
    """The retryable, backend-wide BackendError for a 2xx answer that is not ``expected`` (the documented shape)."""
    got = "no body" if data is None else shown(data)
    return error(f"{what}: HTTP {status}: the answer is not {expected} (got {got}); check that the url is the peer's API; "
                 "will retry", secrets, retryable=True, status=status, backend_wide=True)


BACKEND_WIDE_STATUSES = frozenset((401, 429, 502, 503, 504))


def status_error(response: Any, said: str, *, what: str, secrets: Secrets, redirect: str, refusal: str,
                 hints: dict[int, tuple[str, bool, bool]] | None = None) -> BackendError:
    """The BackendError for a non-2xx ``response`` whose explanation is ``said``.

    A redirect is not retryable and backend-wide (``redirect`` says what to fix); a status in ``hints`` gets its
    text, retryable and backend-wide flags; any other is retryable when :func:`status_is_retryable`, else
    ``refusal`` says the peer will never accept it, and backend-wide for 401, 429, 502, 503 and 504.
    """
    status = response.status_code
    if status in REDIRECT_STATUSES:
        return error(f"{what}: HTTP {status} redirect to {response.headers.get('Location', '?')!r}: {redirect}", secrets,
                     retryable=False, status=status, backend_wide=True)
    if hints and status in hints:
        hint, retryable, backend_wide = hints[status]
        return error(f"{what}: HTTP {status} {said}: {hint}", secrets, retryable=retryable, status=status, backend_wide=backend_wide)
    retryable = status_is_retryable(status)
    return error(f"{what}: HTTP {status} {said}; {'will retry' if retryable else refusal}", secrets, retryable=retryable,
                 status=status, backend_wide=status in BACKEND_WIDE_STATUSES)


def reason_of(response: Any) -> str:
    """The response's reason phrase, trimmed to 200 characters."""
    return (response.reason or "").strip()[:200]
