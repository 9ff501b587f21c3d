# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Customer mail when a case is opened and when it is resolved, in Italian or English.

Three steps, each a plain function:

* :func:`render_customer_mail` turns a case into ``(subject, text, html)``. Host-supplied text
  (title, summary, host name) is data: phone numbers and e-mail addresses are masked, control
  characters removed, every field HTML-escaped in the HTML part and kept as plain text in the
  text part. No template engine ever sees it, so ``{{ }}`` and ``{% %}`` stay inert.
* :func:`build_message` makes a ``multipart/alternative`` message whose ``Message-ID`` is derived
  from the id of the outbox action (a resend is recognisably the same message) and which threads
  the resolve mail to the open mail with ``In-Reply-To``/``References``.
* :func:`send_mail` sends it with :mod:`smtplib` over STARTTLS, implicit TLS or (to a loopback relay
  only) plain SMTP, always with a verifying TLS context, the whole conversation bounded by one
  deadline (a watchdog shuts the connection down when it passes, however slowly the server
  answers), and maps failures to :class:`BackendError` (``retryable`` for refused connections,
  timeouts and 4xx replies; not for 5xx replies and certificate failures; ``backend_wide`` when
  every mail would fail the same way: the server, TLS, the login or the sender). The password never
  appears in a message or a repr.

:class:`Mailer` is the :class:`Notifier` the outbox calls. Standard library only (the deadline
helpers of ``backends/_http.py`` do not need ``requests``); Python 3.11 (controller side).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, parseaddr
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ansible_collections.imagicle.proactive.plugins.module_utils._schema import LANGUAGES
from ansible_collections.imagicle.proactive.plugins.module_utils._redact import mask_personal_data
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends import _http
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import ActionContext, BackendError, Notifier

SECURITY_MODES = ("starttls", "tls", "none")
EVENTS = ("open", "resolve")
MESSAGE_ID_DOMAIN = "imagicle-proactive"
SUBJECT_TITLE_MAX = 150
FIELD_MAX = 300
SUMMARY_MAX = 2000
REPLY_MAX = 300
# host-supplied fields: masked for personal data before they go anywhere
MASKED_FIELDS = ("title", "summary", "host", "rule", "customer", "plan")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


# settings ---------------------------------------------------------------------------------------------
def _config_error(message: str) -> BackendError:
    return BackendError(f"SMTP settings: {message}", retryable=False)


@dataclass(frozen=True, kw_only=True)
class SmtpSettings:
    """Where and how to send customer mail. The password is never shown in the repr.

    ``security``: ``starttls`` (submission, usually port 587), ``tls`` (implicit TLS, usually
    port 465) or ``none`` (plain SMTP, only to a relay on this machine: a loopback host).
    ``ca_path``: a PEM file of CAs to trust instead of the system's; turning ``validate_certs`` off
    skips the certificate and host-name checks (for a test relay only). ``timeout``: the most one
    mail may take, connection, TLS, login and sending together.
    """

    host: str
    port: int = 587
    security: str = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str
    timeout: float = 10.0
    ca_path: str | None = None
    validate_certs: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.host, str) or not self.host.strip() or _CONTROL.search(self.host) or " " in self.host.strip():
            raise _config_error(f"host {self.host!r} must be a host name or IP address of the mail server")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise _config_error(f"port {self.port!r} must be a number from 1 to 65535 (587 for starttls, 465 for tls)")
        if self.security not in SECURITY_MODES:
            raise _config_error(f"security {self.security!r} must be one of {', '.join(SECURITY_MODES)}")
        if self.security == "none" and not _http.is_loopback(self.host):
            raise _config_error(
                f"security 'none' sends mail (and any password) unencrypted, so it is only allowed to a relay on this machine "
                f"(localhost, 127.0.0.1, ::1), not to {self.host!r}: use security 'starttls' (port 587) or 'tls' (port 465)")
        if bool(self.username) != bool(self.password):
            raise _config_error("username and password must be given together (or neither, for a relay without AUTH)")
        if self.username is not None and (not isinstance(self.username, str) or _CONTROL.search(self.username)):
            raise _config_error("username must be a single-line string")
        if self.password is not None and not isinstance(self.password, str):
            raise _config_error("password must be a string")
        if not isinstance(self.sender, str) or _CONTROL.search(self.sender) or "@" not in parseaddr(self.sender)[1]:
            raise _config_error(f"sender {self.sender!r} must be one address, e.g. 'Imagicle Proactive <proactive@example.net>'")
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)) or not self.timeout > 0:
            raise _config_error(f"timeout {self.timeout!r} must be a positive number of seconds")
        if self.ca_path is not None and (not isinstance(self.ca_path, str) or not self.ca_path):
            raise _config_error("ca_path must be the path of a PEM file of CA certificates")

    def __str__(self) -> str:
        return repr(self)


# rendering ---------------------------------------------------------------------------------------------
_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "case": "Case",
        "opened": "Opened",
        "resolved": "Resolved",
        "greeting": "Hello,",
        "open_intro": "We have opened case {ref} for an issue that our proactive monitoring found on your Imagicle ApplicationSuite server.",
        "open_next": "Our support team is working on it; you do not need to do anything now. We will write again when the case is resolved.",
        "resolve_intro": "Case {ref} has been resolved: our proactive monitoring no longer sees the issue on your Imagicle ApplicationSuite server.",
        "resolve_next": "If the issue comes back, we will reopen the case or open a new one and let you know.",
        "quote": "Please quote case {ref} if you contact us about it.",
        "footer": "This message was sent automatically by Imagicle Proactive Support.",
        "issue": "Issue",
        "priority": "Priority",
        "server": "Server",
        "check": "Check",
        "customer": "Customer",
        "plan": "Support plan",
        "details": "Details",
        "due": "Response by",
    },
    "it": {
        "case": "Segnalazione",
        "opened": "Aperta",
        "resolved": "Risolta",
        "greeting": "Buongiorno,",
        "open_intro": "Abbiamo aperto la segnalazione {ref} per un problema rilevato dal monitoraggio proattivo "
                      "sul vostro server Imagicle ApplicationSuite.",
        "open_next": "Il nostro team di supporto se ne sta occupando: per ora non è richiesta alcuna azione da parte vostra. "
                     "Vi scriveremo di nuovo quando la segnalazione sarà risolta.",
        "resolve_intro": "La segnalazione {ref} è stata risolta: il monitoraggio proattivo non rileva più il problema "
                         "sul vostro server Imagicle ApplicationSuite.",
        "resolve_next": "Se il problema dovesse ripresentarsi, riapriremo la segnalazione o ne apriremo una nuova e ve lo comunicheremo.",
        "quote": "Per contattarci su questo argomento, indicate il numero di segnalazione {ref}.",
        "footer": "Messaggio inviato automaticamente da Imagicle Proactive Support.",
        "issue": "Problema",
        "priority": "Priorità",
        "server": "Server",
        "check": "Controllo",
        "customer": "Cliente",
        "plan": "Piano di assistenza",
        "details": "Dettagli",
        "due": "Risposta entro",
    },
}


# Day and month names written out here: the mail never depends on the controller's locale.
_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
}
_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "it": ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre",
           "novembre", "dicembre"),
}


def _zone(name: Any) -> ZoneInfo | None:
    """The timezone called ``name`` (an IANA name), or None when there is no such zone."""
    if not isinstance(name, str) or not name.strip():
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def local_time_text(instant: datetime, zone_name: Any, language: Any = "en") -> str:
    """``instant`` as people of ``language`` read it, in the timezone ``zone_name`` (UTC when it is none or unknown).

    English ``Thursday 3 December 2026, 14:30 (Europe/London)``, Italian ``giovedì 3 dicembre 2026, 14:30
    (Europe/Rome)``. In the hour a clock change repeats, the UTC offset is added (``02:30 (Europe/Rome, UTC+01:00)``),
    so the time is never ambiguous.
    """
    if not isinstance(instant, datetime) or instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {instant!r}")
    lang = mail_language(language)
    zone = _zone(zone_name)
    name = zone.key if zone is not None else "UTC"
    local = instant.astimezone(zone or timezone.utc)
    where = name
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        offset = local.utcoffset()
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        where = f"{name}, UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return (f"{_DAYS[lang][local.weekday()]} {local.day} {_MONTHS[lang][local.month - 1]} {local.year}, "
            f"{local.hour:02d}:{local.minute:02d} ({where})")


def mail_language(language: Any) -> str:
    """``it`` for Italian (``it``, ``it-IT``, ``it_CH``...), ``en`` for anything else."""
    code = re.split(r"[-_.@]", str(language or "").strip().lower(), maxsplit=1)[0]
    return code if code in LANGUAGES else "en"


def _clean(value: Any, limit: int = FIELD_MAX) -> str:
    """One line of plain text: control characters as spaces, runs of spaces collapsed, capped."""
    text = "" if value is None else str(value)
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _due_text(case: dict[str, Any], language: str) -> str:
    """The response deadline for people: in the customer's timezone (``timezone``) and language; from an older
    payload without one, ``<due_local> (<UTC>)``, or the time in UTC saying so; "" when none."""
    due = case.get("due")
    local = _clean(case.get("due_local"), 80)
    if not due:
        return local
    text = str(due).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise BackendError(f"customer mail for case {_clean(case.get('case_ref'), 40)!r}: due {_clean(due, 40)!r} is not an "
                           "ISO 8601 date-time (expected e.g. 2026-11-27T17:00:00Z)", retryable=False) from None
    if instant.tzinfo is None:
        raise BackendError(f"customer mail for case {_clean(case.get('case_ref'), 40)!r}: due {_clean(due, 40)!r} has no "
                           "timezone; give it in UTC with a trailing Z", retryable=False)
    if local and _zone(case.get("timezone")) is None:
        return f"{local} ({instant.astimezone(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')})"
    return local_time_text(instant, case.get("timezone"), language)


def _fields(case: dict[str, Any], language: str) -> dict[str, str]:
    """The case's fields as clean, masked plain text."""
    values: dict[str, str] = {}
    for key in ("case_ref", "title", "priority", "summary", "customer", "host", "rule", "plan"):
        text = _clean(case.get(key), SUMMARY_MAX if key == "summary" else FIELD_MAX)
        values[key] = mask_personal_data(text) if key in MASKED_FIELDS else text
    values["due"] = _due_text(case, language)
    return values


def _rows(event: str, words: dict[str, str], values: dict[str, str]) -> list[tuple[str, str]]:
    """(label, value) pairs shown in the mail; empty values are left out."""
    keys = [("case", "case_ref"), ("issue", "title"), ("priority", "priority"), ("server", "host"), ("check", "rule"),
            ("customer", "customer"), ("plan", "plan")]
    if event == "open":
        keys += [("details", "summary"), ("due", "due")]
    return [(words[label], values[key]) for label, key in keys if values[key]]


def render_customer_mail(event: str, case: dict, language: str = "en") -> tuple[str, str, str]:
    """``(subject, text, html)`` of the customer mail for ``event`` ``open`` or ``resolve``.

    ``language``: ``it`` or ``en``; anything else gives English. ``case`` keys: case_ref, title,
    priority, summary (title and summary already in ``language``), customer, host, rule, due (ISO 8601
    UTC), timezone (the customer's IANA timezone: the deadline is shown in it, in the language's words;
    without it, in UTC), plan; due_local (optional, of older payloads: shown as given, e.g.
    ``27/11/2026 18:00 Europe/Rome``, followed by the UTC time, when there is no timezone).
    """
    if event not in EVENTS:
        raise BackendError(f"customer mail: event {event!r} must be one of {', '.join(EVENTS)}", retryable=False)
    if not isinstance(case, dict):
        raise BackendError("customer mail: the case must be a dict", retryable=False)
    words = _TEXTS[mail_language(language)]
    values = _fields(case, mail_language(language))
    ref = values["case_ref"]
    if not ref or not values["title"]:
        raise BackendError(f"customer mail ({event}): the case needs a case_ref and a title (got case_ref {ref!r})", retryable=False)
    status = words["opened"] if event == "open" else words["resolved"]
    title = values["title"] if len(values["title"]) <= SUBJECT_TITLE_MAX else values["title"][: SUBJECT_TITLE_MAX - 1] + "…"
    subject = f"[{words['case']} {ref}] {status}: {title}"
    paragraphs = [
        words["open_intro" if event == "open" else "resolve_intro"].replace("{ref}", ref),
        words["open_next" if event == "open" else "resolve_next"],
        words["quote"].replace("{ref}", ref),
    ]
    rows = _rows(event, words, values)
    return subject, _render_text(words, paragraphs, rows), _render_html(words, mail_language(language), subject, paragraphs, rows)


def _render_text(words: dict[str, str], paragraphs: list[str], rows: list[tuple[str, str]]) -> str:
    width = max(len(label) for label, _value in rows) + 1
    table = "\n".join(f"{(label + ':').ljust(width)} {value}" for label, value in rows)
    body = [words["greeting"], paragraphs[0], table, *paragraphs[1:], "-- ", words["footer"]]
    return "\n\n".join(body[:-2]) + "\n\n" + "\n".join(body[-2:]) + "\n"


def _render_html(words: dict[str, str], lang: str, subject: str, paragraphs: list[str], rows: list[tuple[str, str]]) -> str:
    esc = html.escape
    cell = "padding:4px 12px 4px 0;vertical-align:top;text-align:left"
    table = "\n".join(f'<tr><th style="{cell}">{esc(label)}</th><td style="{cell}">{esc(value)}</td></tr>' for label, value in rows)
    return "\n".join([
        "<!DOCTYPE html>",
        f'<html lang="{esc(lang)}">',
        '<head><meta charset="utf-8">',
        f"<title>{esc(subject)}</title></head>",
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">',
        f"<p>{esc(words['greeting'])}</p>",
        f"<p>{esc(paragraphs[0])}</p>",
        f'<table style="border-collapse:collapse">\n{table}\n</table>',
        *(f"<p>{esc(paragraph)}</p>" for paragraph in paragraphs[1:]),
        f'<p style="color:#666;font-size:12px">{esc(words["footer"])}</p>',
        "</body>",
        "</html>",
        "",
    ])


# message ----------------------------------------------------------------------------------------------
def message_id(key: str) -> str:
    """The Message-ID derived from the id of an outbox action: ``<sha256(key)[:32]@imagicle-proactive>``."""
    if not isinstance(key, str) or not key:
        raise BackendError("customer mail: the idempotency key must be a non-empty string", retryable=False)
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{MESSAGE_ID_DOMAIN}>"


def build_message(settings: SmtpSettings, to: list[str], subject: str, text: str, html: str,  # pylint: disable=redefined-outer-name
                  idempotency_key: str, thread_key: str | None) -> EmailMessage:
    """A ``multipart/alternative`` (text, then HTML) message to ``to``.

    ``Message-ID`` comes from ``idempotency_key`` (the id of the outbox action: same key, same id); with
    ``thread_key`` (the action id of the case's open mail) ``In-Reply-To`` and ``References`` point at that mail.
    """
    if isinstance(to, str) or not to:
        raise BackendError("customer mail: 'to' must be a non-empty list of addresses", retryable=False)
    for address in to:
        if not isinstance(address, str) or _CONTROL.search(address) or len(getaddresses([address])) != 1 \
                or "@" not in getaddresses([address])[0][1]:
            raise BackendError(f"customer mail: recipient {address!r} is not one e-mail address", retryable=False)
    message = EmailMessage()
    message["Subject"] = _clean(subject, 400)
    message["From"] = settings.sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(idempotency_key)
    if thread_key:
        parent = message_id(thread_key)
        message["In-Reply-To"] = parent
        message["References"] = parent
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


# sending ----------------------------------------------------------------------------------------------
def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=settings.ca_path)
    except (OSError, ssl.SSLError) as exc:
        raise BackendError(f"SMTP {settings.host}:{settings.port}: cannot load the CA file ca_path {settings.ca_path!r} "
                           f"({exc.__class__.__name__}: {getattr(exc, 'strerror', None) or exc}); give a readable PEM file",
                           retryable=False, backend_wide=True) from None
    if not settings.validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _scrub(settings: SmtpSettings, text: str) -> str:
    """``text`` without the password (as given and base64-encoded, as AUTH sends it)."""
    secret = settings.password
    if not secret:
        return text
    forms = {secret, base64.b64encode(secret.encode("utf-8")).decode("ascii")}
    if settings.username:
        forms.add(base64.b64encode(f"\0{settings.username}\0{secret}".encode("utf-8")).decode("ascii"))
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


def _reply(error: Any) -> str:
    """An SMTP reply text as one short line."""
    if isinstance(error, bytes):
        error = error.decode("utf-8", "replace")
    return _clean(error, REPLY_MAX)


def _fail(settings: SmtpSettings, message: str, *, retryable: bool, status: int | None = None,
          backend_wide: bool = True) -> BackendError:
    return BackendError(_scrub(settings, message), retryable=retryable, status=status, backend_wide=backend_wide)


def _code_error(settings: SmtpSettings, where: str, step: str, code: int, reply: Any, backend_wide: bool = False) -> BackendError:
    retryable = 400 <= code < 500
    if code in (530, 534, 535, 538):
        hint = "the server rejected the login: check username and password (and that the account may send mail)"
        backend_wide = True
    elif retryable:
        hint = "temporary failure; will retry"
    else:
        hint = "the server will not accept this mail as it is"
    return _fail(settings, f"{where}: {step} answered {code} {_reply(reply)}; {hint}", retryable=retryable, status=code,
                 backend_wide=backend_wide or code == 421)


class _WatchedSMTP(smtplib.SMTP):
    """smtplib's client whose connection ``watchdog`` can shut down from its first byte; with ``implicit_tls`` it
    speaks TLS from the start (SMTPS), as ``smtplib.SMTP_SSL`` does."""

    def __init__(self, host: str, watchdog: _http.Watchdog, implicit_tls: ssl.SSLContext | None, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._host = host  # the name TLS checks the certificate against (STARTTLS and SMTPS)
        self._watchdog = watchdog
        self._implicit_tls = implicit_tls

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = socket.create_connection((host, port), timeout, self.source_address)
        self._watchdog.watch(sock)
        if self._implicit_tls is None:
            return sock
        try:
            return self._implicit_tls.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise


def _transport(settings: SmtpSettings, message: EmailMessage, context: ssl.SSLContext | None, watchdog: _http.Watchdog,
               seconds: float) -> dict:
    client = _WatchedSMTP(settings.host, watchdog, context if settings.security == "tls" else None, seconds)
    with client:
        client.connect(settings.host, settings.port)
        if settings.security == "starttls":
            client.starttls(context=context)
        if settings.username:
            client.login(settings.username, settings.password)
        return client.send_message(message)


def _watched_transport(settings: SmtpSettings, message: EmailMessage, context: ssl.SSLContext | None, where: str,
                       deadline: float | None) -> dict:
    """:func:`_transport` bounded by ``settings.timeout`` or ``deadline``, whichever comes first: when the time runs out
    the connection is shut down and a retryable BackendError says so (whatever smtplib made of the shutdown), as
    for a single read that timed out."""
    seconds, clipped = _http.budget(float(settings.timeout), deadline, where, _http.Secrets())
    watchdog = _http.Watchdog(seconds)
    try:
        with watchdog:
            return _transport(settings, message, context, watchdog, seconds)
    except (smtplib.SMTPException, OSError) as exc:
        if watchdog.expired or isinstance(exc, TimeoutError) or "timed out" in str(exc):
            raise _fail(settings, f"{where}: no complete answer within {seconds:.3g} s; will retry", retryable=True,
                        backend_wide=not clipped) from None
        raise


def send_mail(settings: SmtpSettings, message: EmailMessage, deadline: float | None = None) -> None:
    """Send ``message`` as ``settings`` say, within ``settings.timeout`` and before ``deadline`` (``time.monotonic()``);
    a :class:`BackendError` (with ``retryable`` and ``backend_wide``) on failure."""
    where = f"SMTP {settings.host}:{settings.port} ({settings.security})"
    context = _tls_context(settings) if settings.security in ("starttls", "tls") else None
    try:
        refused = _watched_transport(settings, message, context, where, deadline)
    except ssl.SSLCertVerificationError as exc:
        raise _fail(settings, f"{where}: the server's certificate could not be verified ({exc.verify_message or exc.reason}); "
                    "give the CA that signed it in ca_path, or fix the server's certificate or host name", retryable=False) from None
    except ssl.SSLError as exc:
        raise _fail(settings, f"{where}: TLS handshake failed ({exc.reason or exc.__class__.__name__}); check security "
                    "('tls' for port 465, 'starttls' for port 587)", retryable=False) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise _fail(settings, f"{where}: {_reply(str(exc))}: the server does not offer what security/username ask for "
                    "(STARTTLS, AUTH, or SMTPUTF8 for non-ASCII addresses); check the settings", retryable=False) from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _reply_text in exc.recipients.values()]
        retryable = bool(codes) and all(400 <= code < 500 for code in codes)
        details = "; ".join(f"{address}: {code} {_reply(text)}" for address, (code, text) in exc.recipients.items())
        raise _fail(settings, f"{where}: every recipient was refused ({details}); "
                    + ("will retry" if retryable else "check the customer's addresses"),
                    retryable=retryable, status=codes[0] if codes else None, backend_wide=False) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise _code_error(settings, where, "AUTH", exc.smtp_code, exc.smtp_error) from None
    except smtplib.SMTPSenderRefused as exc:
        raise _code_error(settings, where, f"MAIL FROM {exc.sender}", exc.smtp_code, exc.smtp_error, backend_wide=True) from None
    except smtplib.SMTPResponseException as exc:
        raise _code_error(settings, where, "the server", exc.smtp_code, exc.smtp_error) from None
    except smtplib.SMTPServerDisconnected as exc:
        raise _fail(settings, f"{where}: the server closed the connection ({_reply(str(exc))}); will retry", retryable=True) from None
    except ConnectionRefusedError:
        raise _fail(settings, f"{where}: connection refused; check that the mail server runs and host/port are right; will retry",
                    retryable=True) from None
    except socket.gaierror as exc:
        raise _fail(settings, f"{where}: cannot resolve the host name ({exc.strerror}); check host; will retry", retryable=True) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise _fail(settings, f"{where}: {exc.__class__.__name__}: {_reply(str(exc))}; will retry", retryable=True) from None
    if refused:
        details = "; ".join(f"{address}: {code} {_reply(text)}" for address, (code, text) in refused.items())
        raise _fail(settings, f"{where}: the mail was sent, but some recipients were refused ({details}); check those addresses "
                    "(not retried, so the others do not get it twice)", retryable=False, backend_wide=False)


class Mailer(Notifier):
    """The customer-mail notifier of the case manager: render, build and send one mail per action."""

    name = "mail"

    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    def __repr__(self) -> str:
        return f"Mailer({self.settings.host}:{self.settings.port})"

    def deliver(self, ctx: ActionContext, message: dict[str, Any]) -> None:
        """Mail ``message`` (``{"event": "open"|"resolve", "to": [addresses], "language": "it"|"en", "case": {...},
        "thread_key": str|None}``); ``ctx.action_id`` makes the Message-ID, ``thread_key`` (the action id of the case's
        open mail) threads a resolve mail to it; the whole send ends by ``ctx.deadline``."""
        if not isinstance(message, dict):
            raise BackendError("customer mail: the message must be a dict with event, to, language, case and thread_key", retryable=False)
        event = message.get("event")
        subject, text, html = render_customer_mail(event, message.get("case"), message.get("language"))
        to = message.get("to")
        built = build_message(self.settings, list(to) if isinstance(to, (list, tuple)) else to, subject, text, html,
                              idempotency_key=ctx.action_id, thread_key=message.get("thread_key") if event != "open" else None)
        send_mail(self.settings, built, deadline=ctx.deadline)
