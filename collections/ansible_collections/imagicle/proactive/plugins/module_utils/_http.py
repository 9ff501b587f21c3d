# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small HTTP(S) GET client for the collectors, standard library only.

``ansible.module_utils.urls`` and ``requests`` hide the peer certificate; the web server check
needs its expiry, so this client talks ``http.client`` + ``ssl`` directly. Every failure is a
:class:`CollectorError` whose message names the URL (never a password) and says what to do.

This file must stay importable on Python 3.8 with the standard library only.
"""

from __future__ import annotations

import base64
import calendar
import datetime
import http.client
import json
import os
import socket
import ssl
import tempfile
import threading
import time
from urllib.parse import unquote, urlsplit, urlunsplit

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import CollectorError

DEFAULT_MAX_BYTES = 1048576
# The month abbreviations of a certificate date as OpenSSL prints it ("Nov 26 05:40:00 2026 GMT").
_CERT_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# One TLS context per CA bundle (and one that verifies nothing), made once per process: loading a
# bundle, the system's above all, costs more than the handshake that uses it.
_CONTEXTS = {}
_CONTEXTS_LOCK = threading.Lock()


class HttpOptionError(CollectorError):
    """The request cannot be made as configured (bad URL, missing CA file): a configuration error."""


class TlsVerifyError(CollectorError):
    """The server certificate is not trusted by the configured CA."""


class HttpResult:
    """The answer to one GET.

    ``headers`` has lower-case keys (repeated headers joined with ``", "``); ``latency_ms`` is
    the time from the start of the request to the response headers; ``tls`` is None for plain
    http, else ``{"not_after": ISO UTC or None, "days_left": float or None, "subject": CN}``.
    ``started`` and ``headers_at`` are the local epoch times around the exchange (used to
    compare clocks with the peer's ``Date`` header).
    """

    __slots__ = ("url", "status", "reason", "headers", "body", "latency_ms", "tls", "started", "headers_at")

    def __init__(self, url, status, reason, headers, body, latency_ms, tls, started, headers_at):
        self.url = url
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.latency_ms = latency_ms
        self.tls = tls
        self.started = started
        self.headers_at = headers_at

    def __repr__(self) -> str:
        return "HttpResult(%s %s %s, %d bytes)" % (self.url, self.status, self.reason, len(self.body))


def safe_url(url: str) -> str:
    """The URL without any ``user:password@`` part, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = "[%s]" % netloc
    if parts.port is not None:
        netloc = "%s:%d" % (netloc, parts.port)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def parse_url(url: str) -> tuple:
    """Split an http(s) URL into (scheme, host, port, path_with_query, user, password).

    Raises CollectorError for anything that is not a usable http/https URL.
    """
    if not isinstance(url, str) or not url.strip():
        raise HttpOptionError("no URL given: set an http:// or https:// URL")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise HttpOptionError("invalid URL %s (%s): use http://host[:port]/path or https://..." % (safe_url(url), exc))
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise HttpOptionError(
            "unsupported URL scheme %r in %s: use http:// or https://" % (parts.scheme, safe_url(url))
        )
    if not parts.hostname:
        raise HttpOptionError("URL %s has no host name" % safe_url(url))
    if port is None:
        port = 443 if scheme == "https" else 80
    path = parts.path or "/"
    if parts.query:
        path = "%s?%s" % (path, parts.query)
    return scheme, parts.hostname, port, path, parts.username, parts.password


def _iso_utc(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _decode_der(der: bytes):
    """Decode a DER certificate into the dict form of ``getpeercert()``; None if impossible."""
    decode = getattr(getattr(ssl, "_ssl", None), "_test_decode_cert", None)
    if decode is None or not der:
        return None
    fd, path = tempfile.mkstemp(prefix="imagicle-proactive-", suffix=".pem")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(ssl.DER_cert_to_PEM_cert(der))
        return decode(path)
    except (OSError, ValueError, ssl.SSLError):
        return None
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def cert_time_to_seconds(text: str) -> int:
    """Epoch seconds of a certificate date as ``getpeercert()`` gives it (``"Nov 26 05:40:00 2026 GMT"``).

    The same result as ``ssl.cert_time_to_seconds``, without ``time.strptime`` (whose first call
    imports and compiles a locale-dependent parser); anything else is left to ``ssl``, which raises
    ValueError for what it cannot read.
    """
    fields = text.split() if isinstance(text, str) else ()
    if len(fields) == 5 and fields[0] in _CERT_MONTHS and fields[4] == "GMT":
        numbers = [fields[1], fields[3]] + fields[2].split(":")
        if len(numbers) == 5 and all(n.isdigit() and n.isascii() for n in numbers) and len(fields[3]) == 4 \
                and all(len(n) <= 2 for n in numbers[:1] + numbers[2:]):
            day, year, hour, minute, second = (int(n) for n in numbers)
            month = _CERT_MONTHS.index(fields[0]) + 1
            if 1 <= day <= calendar.monthrange(year, month)[1] and hour <= 23 and minute <= 59 and second <= 61:
                return calendar.timegm((year, month, day, hour, minute, second))
    return ssl.cert_time_to_seconds(text)


def _cert_facts(cert) -> dict:
    """``{not_after, days_left, subject}`` from a ``getpeercert()``-style dict (or None)."""
    facts = {"not_after": None, "days_left": None, "subject": None}
    if not cert:
        return facts
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                facts["subject"] = value
    not_after = cert.get("notAfter")
    if not_after:
        try:
            epoch = cert_time_to_seconds(not_after)
        except ValueError:
            return facts
        facts["not_after"] = _iso_utc(epoch)
        facts["days_left"] = round((epoch - time.time()) / 86400.0, 2)
    return facts


def peer_tls_facts(sock) -> dict:
    """TLS facts of a connected ``ssl.SSLSocket`` (works also when the chain was not verified)."""
    cert = None
    try:
        cert = sock.getpeercert()
    except (ValueError, ssl.SSLError):
        cert = None
    if not cert:
        try:
            der = sock.getpeercert(binary_form=True)
        except (ValueError, ssl.SSLError):
            der = None
        cert = _decode_der(der) if der else None
    return _cert_facts(cert)


def certificate_of(url: str, timeout: float):
    """TLS facts of the certificate an https server presents, read without trusting it.

    Used after a verification failure, to still report when the untrusted certificate expires:
    only the handshake is made, no HTTP request is sent and nothing is read from the server.
    Returns None when no handshake is possible.
    """
    scheme, host, port = parse_url(url)[:3]
    if scheme != "https":
        return None
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with _tls_context(False, None).wrap_socket(raw, server_hostname=host) as tls:
                return peer_tls_facts(tls)
    except (OSError, ssl.SSLError):
        return None


def _unverified_context() -> ssl.SSLContext:
    """A client context that checks neither the chain nor the name (and so loads no CA at all)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _verifying_context(ca_path) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=ca_path or None)
    except (OSError, ssl.SSLError) as exc:
        raise HttpOptionError("cannot load the CA file %s (ca_path): %s; it must be a PEM certificate" % (ca_path, exc))


def _tls_context(validate_certs: bool, ca_path) -> ssl.SSLContext:
    """The context for ``validate_certs`` and ``ca_path`` (the system's store when unset), shared by
    every request of the process that uses the same CA file, as long as that file is unchanged."""
    if not validate_certs:
        key = ("unverified",)
        make = _unverified_context
    else:
        identity = None
        if ca_path:
            try:
                status = os.stat(ca_path)
            except OSError:
                status = None
            if status is None or not os.path.isfile(ca_path):
                raise HttpOptionError(
                    "CA file %s (ca_path) does not exist: point ca_path at the PEM file of the CA that "
                    "signed the server certificate" % ca_path
                )
            identity = (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)
        key = ("verified", ca_path or None, identity)

        def make():
            return _verifying_context(ca_path)
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.get(key)
        if context is None:
            context = make()
            _CONTEXTS[key] = context
    return context


def credential_forms(username, password) -> set:
    """Every form in which Basic credentials may come back in a text (a proxy's reason phrase, an error).

    The password (4 characters or more: shorter ones would mask half of every text), ``user:password``
    as given and percent-decoded, and their base64 in UTF-8 and Latin-1 (what a ``Basic`` header carries).
    """
    forms = set()
    if password is None:
        return forms
    for user, secret in sorted({(username or "", password), (unquote(username or ""), unquote(password))}):
        if len(secret) >= 4:
            forms.add(secret)
        pair = "%s:%s" % (user, secret)
        if secret:
            forms.add(pair)
        for encoding in ("utf-8", "latin-1"):
            try:
                forms.add(base64.b64encode(pair.encode(encoding)).decode("ascii"))
            except UnicodeEncodeError:
                continue
    return forms


def url_credential_forms(url) -> set:
    """:func:`credential_forms` of the user and password inside ``url`` (none when it has none or is no URL)."""
    if not isinstance(url, str) or "@" not in url:
        return set()
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return set()
    return credential_forms(parts.username, parts.password)


def credential_forms_in(options) -> set:
    """The :func:`credential_forms` of every URL with credentials and every ``username``/``password`` pair in
    ``options`` (a module's parameters, nested dicts and lists), for the module's ``no_log_values``."""
    forms = set()
    if isinstance(options, dict):
        if isinstance(options.get("password"), str):
            forms |= credential_forms(options.get("username") if isinstance(options.get("username"), str) else "",
                                      options["password"])
        for value in options.values():
            forms |= credential_forms_in(value)
    elif isinstance(options, (list, tuple)):
        for value in options:
            forms |= credential_forms_in(value)
    elif isinstance(options, str) and "://" in options:
        forms |= url_credential_forms(options)
    return forms


def _basic(username, password) -> str:
    token = "%s:%s" % (username or "", password or "")
    return "Basic " + base64.b64encode(token.encode("utf-8")).decode("ascii")


def _connection(scheme, host, port, timeout, context, proxy):
    """An unopened HTTP(S)Connection (through an HTTP proxy if given) and the request target."""
    if not proxy:
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=context), None
        return http.client.HTTPConnection(host, port, timeout=timeout), None
    p_scheme, p_host, p_port, _path, p_user, p_password = parse_url(proxy)
    if p_scheme != "http":
        raise HttpOptionError("proxy %s: only http:// proxies are supported" % safe_url(proxy))
    proxy_headers = {}
    if p_user is not None:
        proxy_headers["Proxy-Authorization"] = _basic(p_user, p_password)
    if scheme == "https":
        conn = http.client.HTTPSConnection(p_host, p_port, timeout=timeout, context=context)
        conn.set_tunnel(host, port, headers=proxy_headers or None)
        return conn, None
    conn = http.client.HTTPConnection(p_host, p_port, timeout=timeout)
    return conn, proxy_headers


def _describe_oserror(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (nothing listens on that port, or a firewall rejects it)"
    if isinstance(exc, socket.gaierror):
        return "host name does not resolve (%s); check the name and the host's DNS" % (exc.strerror or exc)
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    text = str(exc)
    if text.startswith("Tunnel connection failed"):
        return "the proxy refused the tunnel (%s); the proxy must allow HTTP CONNECT" % text
    return text or exc.__class__.__name__


def _fail(url: str, proxy, what: str, error_class=CollectorError) -> CollectorError:
    via = " via proxy %s" % safe_url(proxy) if proxy else ""
    return error_class("GET %s%s failed: %s" % (safe_url(url), via, what))


def http_get(url, timeout, username=None, password=None, ca_path=None, validate_certs=True, proxy=None,
             max_bytes=DEFAULT_MAX_BYTES, headers=None) -> HttpResult:
    """GET ``url`` and return an :class:`HttpResult` for any HTTP status.

    Only transport failures (bad URL, DNS, refused, timeout, TLS, body over ``max_bytes``) raise
    :class:`CollectorError`. Redirects are not followed. ``max_bytes=0`` skips the body.
    """
    scheme, host, port, path, url_user, url_password = parse_url(url)
    if username is None and url_user is not None:
        username, password = url_user, url_password
    timeout = float(timeout)
    context = _tls_context(validate_certs, ca_path) if scheme == "https" else None
    conn, proxy_headers = _connection(scheme, host, port, timeout, context, proxy)
    request_headers = {"User-Agent": "imagicle.proactive", "Accept": "application/json, */*;q=0.5"}
    if username is not None:
        request_headers["Authorization"] = _basic(username, password)
    if proxy_headers is not None:
        # Plain http through a proxy: absolute URI in the request line.
        request_headers.update(proxy_headers)
        path = "http://%s:%d%s" % (host if ":" not in host else "[%s]" % host, port, path)
    request_headers.update(headers or {})
    started = time.time()
    tick = time.monotonic()
    try:
        try:
            conn.connect()
            # Read the certificate now: http.client drops conn.sock when the server closes after the answer.
            tls = peer_tls_facts(conn.sock) if scheme == "https" else None
            conn.request("GET", path, headers=request_headers)
            response = conn.getresponse()
            headers_at = time.time()
            latency_ms = round((time.monotonic() - tick) * 1000.0, 2)
            body = response.read(max_bytes + 1) if max_bytes > 0 else b""
        except socket.timeout:
            raise _fail(url, proxy, "no answer within %g s" % timeout)
        except ssl.SSLCertVerificationError as exc:
            raise _fail(url, proxy, "TLS certificate not trusted (%s); set ca_path to the CA that signed the "
                                    "server certificate"
                        % (exc.verify_message or exc.reason or exc), TlsVerifyError)
        except ssl.SSLError as exc:
            raise _fail(url, proxy, "TLS handshake failed (%s); is it an https port?" % (exc.reason or exc))
        except http.client.HTTPException as exc:
            raise _fail(url, proxy, "invalid HTTP answer (%s: %s); is it an HTTP server?"
                        % (exc.__class__.__name__, exc))
        except OSError as exc:
            if "timed out" in str(exc):
                raise _fail(url, proxy, "no answer within %g s" % timeout)
            raise _fail(url, proxy, _describe_oserror(exc))
    finally:
        conn.close()
    if len(body) > max_bytes:
        raise _fail(url, proxy, "answer larger than %d bytes; is the URL right?" % max_bytes)
    merged = {}
    for key, value in response.getheaders():
        key = key.lower()
        merged[key] = "%s, %s" % (merged[key], value) if key in merged else value
    return HttpResult(safe_url(url), response.status, response.reason, merged, body, latency_ms, tls,
                      started, headers_at)


def describe_body(body: bytes) -> str:
    """A short, escaped description of a body that is not what was expected."""
    if not body or not body.strip():
        return "an empty body"
    text = body.decode("utf-8", "replace")
    head = text.lstrip()[:512].lower()
    kind = "an HTML page" if head.startswith("<!doctype html") or "<html" in head else "text"
    return "%s starting %s" % (kind, json.dumps(text.strip()[:80]))


def get_json(url, timeout, username=None, password=None, ca_path=None, validate_certs=True, proxy=None,
             max_bytes=DEFAULT_MAX_BYTES, headers=None) -> tuple:
    """GET ``url`` and return ``(data, HttpResult)``; the status must be 2xx and the body JSON."""
    result = http_get(url, timeout, username=username, password=password, ca_path=ca_path,
                      validate_certs=validate_certs, proxy=proxy, max_bytes=max_bytes, headers=headers)
    where = "GET %s" % result.url
    if result.status in (401, 403):
        raise CollectorError(
            "%s answered HTTP %d %s: check the Web API user name and password and that the user has "
            "the \"Complete Management\" permission level" % (where, result.status, result.reason)
        )
    if not 200 <= result.status < 300:
        raise CollectorError("%s answered HTTP %d %s (expected 2xx)" % (where, result.status, result.reason))
    try:
        data = json.loads(result.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CollectorError("%s did not answer JSON but %s" % (where, describe_body(result.body)))
    return data, result
