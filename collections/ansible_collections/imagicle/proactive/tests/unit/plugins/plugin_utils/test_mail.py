# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Customer mail against a real SMTP server (aiosmtpd) on 127.0.0.1.

The server requires STARTTLS before anything else and AUTH (LOGIN/PLAIN) before MAIL, with a
self-signed certificate made by the ``openssl`` CLI; a second, unrelated certificate plays the
wrong CA. Servers that greet a byte at a time (``SlowPeer``) check the total deadline. Everything
stays on loopback.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import ssl
import subprocess
import threading
import time
import traceback
from datetime import datetime, timezone

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import ActionContext, BackendError, Notifier
from ansible_collections.imagicle.proactive.plugins.plugin_utils.mail import (
    local_time_text,
    Mailer,
    SmtpSettings,
    build_message,
    mail_language,
    message_id,
    render_customer_mail,
    send_mail,
)

from ._slow_peers import SlowPeer

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
aiosmtpd_smtp = pytest.importorskip("aiosmtpd.smtp")

USER = "proactive-mailer"
PASSWORD = "Pw-7f3k!Zq9-not-for-logs"
SENDER = "Imagicle Proactive <proactive@example.net>"
CUSTOMER = ["it-support@customer.example"]
PHONE = "+39 021 234 5678"
TEMPLATE = "{{ lookup('pipe','id') }}"
JINJA_BLOCK = "{% for x in range(3) %}x{% endfor %}"


def case(**extra):
    record = {
        "case_ref": "4711",
        "title": f"<script>alert(1)</script> {TEMPLATE} call {PHONE}",
        "priority": "P2",
        "summary": f"/srv/appsuite is 96.0 % full; contact mario.rossi@customer.example or {PHONE} {JINJA_BLOCK}",
        "customer": "acme",
        "host": "ias-a",
        "rule": "disk_space",
        "due": "2026-11-27T17:00:00Z",
        "due_local": "27/11/2026 18:00 Europe/Rome",
        "plan": "gold",
    }
    record.update(extra)
    return record


# fixtures --------------------------------------------------------------------------------------------
def _self_signed(directory, name):
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    """(server cert, server key, an unrelated CA cert) made with the openssl CLI."""
    directory = tmp_path_factory.mktemp("smtp-tls")
    cert, key = _self_signed(directory, "server")
    other, _other_key = _self_signed(directory, "other-ca")
    return cert, key, other


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    """Keeps every accepted message; ``data_reply``/``rcpt_reply`` make the server refuse instead."""

    def __init__(self, data_reply=None, rcpt_reply=None):
        self.messages = []
        self.data_reply = data_reply
        self.rcpt_reply = rcpt_reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # pylint: disable=unused-argument
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # pylint: disable=unused-argument
        if self.data_reply:
            return self.data_reply
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed, session.auth_data))
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):  # pylint: disable=unused-argument
    ok = (mechanism in ("LOGIN", "PLAIN") and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode())
    return aiosmtpd_smtp.AuthResult(success=ok, handled=False, auth_data=(USER, mechanism) if ok else None)


def server_tls_context(certs):
    cert, key, _other = certs
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context


@pytest.fixture
def start_server():
    """Start aiosmtpd Controllers on free loopback ports; all are stopped at the end of the test."""
    started = []

    def start(handler, **kwargs):
        port = free_port()
        controller = aiosmtpd_controller.Controller(handler, hostname="127.0.0.1", port=port, server_hostname="localhost", **kwargs)
        started.append(controller)
        controller.start()
        return port

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def submission(start_server, certs):
    """A submission server: STARTTLS required first, then AUTH LOGIN/PLAIN, then mail. Returns (port, sink)."""
    sink = Sink()
    port = start_server(sink, tls_context=server_tls_context(certs), require_starttls=True, authenticator=authenticator,
                        auth_required=True)
    return port, sink


def settings_for(port, certs, **extra):
    values = {"host": "127.0.0.1", "port": port, "security": "starttls", "username": USER, "password": PASSWORD,
              "sender": SENDER, "ca_path": str(certs[0]), "timeout": 10.0}
    values.update(extra)
    return SmtpSettings(**values)


def send(settings, event="open", language="en", key="fp-ias-a-disk:2026-11-27T10:00:00Z:open", thread_key=None, **fields):
    subject, text, html_body = render_customer_mail(event, case(**fields), language)
    message = build_message(settings, CUSTOMER, subject, text, html_body, key, thread_key)
    send_mail(settings, message)
    return message


def assert_secret_free(exc):
    everything = " ".join([str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc))])
    assert PASSWORD not in everything
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)


def parts(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    html_body = message.get_body(preferencelist=("html",)).get_content()
    return text, html_body


# rendering (no server) -----------------------------------------------------------------------------------
def test_italian_open_texts():
    subject, text, html_body = render_customer_mail("open", case(title="Spazio disco quasi esaurito"), "it")
    assert subject == "[Segnalazione 4711] Aperta: Spazio disco quasi esaurito"
    assert "Abbiamo aperto la segnalazione 4711" in text
    assert re.search(r"^Risposta entro: +27/11/2026 18:00 Europe/Rome \(2026-11-27 17:00 UTC\)$", text, re.M)
    assert "Priorità:" in text and "Piano di assistenza:" in text
    assert '<html lang="it">' in html_body and "Abbiamo aperto la segnalazione 4711" in html_body


def test_italian_and_english_resolve_texts():
    subject, text, _html = render_customer_mail("resolve", case(title="Spazio disco quasi esaurito"), "it-IT")
    assert subject == "[Segnalazione 4711] Risolta: Spazio disco quasi esaurito"
    assert "La segnalazione 4711 è stata risolta" in text
    assert "Risposta entro" not in text and "Dettagli" not in text
    subject, text, _html = render_customer_mail("resolve", case(title="Disk space running low"), "en")
    assert subject == "[Case 4711] Resolved: Disk space running low"
    assert "Case 4711 has been resolved" in text


def test_the_deadline_in_the_customers_timezone_and_words():
    # Thursday 3 December 2026, 13:30 UTC: 14:30 in Rome, 13:30 in London.
    subject, text, html_body = render_customer_mail(
        "open", case(due="2026-12-03T13:30:00Z", timezone="Europe/Rome", due_local=None, title="Spazio su disco in esaurimento"), "it")
    assert re.search(r"^Risposta entro: +giovedì 3 dicembre 2026, 14:30 \(Europe/Rome\)$", text, re.M)
    assert "giovedì 3 dicembre 2026, 14:30 (Europe/Rome)" in html_body and "UTC" not in text
    _subject, text, _html = render_customer_mail("open", case(due="2026-12-03T13:30:00Z", timezone="Europe/London"), "en")
    # The timezone wins over an older due_local.
    assert re.search(r"^Response by: +Thursday 3 December 2026, 13:30 \(Europe/London\)$", text, re.M)


@pytest.mark.parametrize("instant, zone, language, expected", [
    ("2026-12-03T13:30:00Z", "Europe/Rome", "it", "giovedì 3 dicembre 2026, 14:30 (Europe/Rome)"),
    ("2026-12-03T13:30:00Z", "Europe/London", "en", "Thursday 3 December 2026, 13:30 (Europe/London)"),
    ("2026-12-03T13:30:00Z", "America/New_York", "it-IT", "giovedì 3 dicembre 2026, 08:30 (America/New_York)"),
    ("2026-01-01T00:05:00Z", "America/New_York", "en", "Wednesday 31 December 2025, 19:05 (America/New_York)"),
    # Spring forward in Rome (29 March 2026, 02:00 -> 03:00): the minute before and the minute after.
    ("2026-03-29T00:59:00Z", "Europe/Rome", "it", "domenica 29 marzo 2026, 01:59 (Europe/Rome)"),
    ("2026-03-29T01:00:00Z", "Europe/Rome", "it", "domenica 29 marzo 2026, 03:00 (Europe/Rome)"),
    ("2026-03-29T01:00:00Z", "Europe/London", "en", "Sunday 29 March 2026, 02:00 (Europe/London)"),
    # Fall back in Rome (25 October 2026, 03:00 -> 02:00): the repeated hour says which one it is.
    ("2026-10-25T00:30:00Z", "Europe/Rome", "it", "domenica 25 ottobre 2026, 02:30 (Europe/Rome, UTC+02:00)"),
    ("2026-10-25T01:30:00Z", "Europe/Rome", "it", "domenica 25 ottobre 2026, 02:30 (Europe/Rome, UTC+01:00)"),
    ("2026-10-25T02:30:00Z", "Europe/Rome", "en", "Sunday 25 October 2026, 03:30 (Europe/Rome)"),
    ("2026-11-01T06:30:00Z", "America/New_York", "en", "Sunday 1 November 2026, 01:30 (America/New_York, UTC-05:00)"),
    # No timezone, or one that does not exist: UTC, and it says so.
    ("2026-12-03T13:30:00Z", None, "it", "giovedì 3 dicembre 2026, 13:30 (UTC)"),
    ("2026-12-03T13:30:00Z", "Europe/Nowhere", "en", "Thursday 3 December 2026, 13:30 (UTC)"),
    ("2026-12-03T13:30:00Z", "../../etc/passwd", "en", "Thursday 3 December 2026, 13:30 (UTC)"),
])
def test_local_time_text(instant, zone, language, expected):
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    assert local_time_text(moment, zone, language) == expected


def test_local_time_text_does_not_depend_on_the_locale(monkeypatch):
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    moment = datetime(2026, 12, 3, 13, 30, tzinfo=timezone.utc)
    assert local_time_text(moment, "Europe/Rome", "it") == "giovedì 3 dicembre 2026, 14:30 (Europe/Rome)"
    with pytest.raises(ValueError, match="timezone-aware"):
        local_time_text(datetime(2026, 12, 3, 13, 30), "Europe/Rome", "it")


def test_unknown_language_is_english():
    assert mail_language("de") == "en" and mail_language(None) == "en" and mail_language("IT_ch") == "it"
    assert render_customer_mail("open", case(), "fr") == render_customer_mail("open", case(), "en")


def test_due_without_local_time_and_bad_due():
    # An older payload with neither a timezone nor due_local: the time in UTC, saying so.
    _subject, text, _html = render_customer_mail("open", case(due_local=None, due="2026-11-27T18:00:00+01:00"), "en")
    assert re.search(r"^Response by: +Friday 27 November 2026, 17:00 \(UTC\)$", text, re.M)
    _subject, text, _html = render_customer_mail("open", case(due_local=None, timezone="No/Such_Zone"), "it")
    assert re.search(r"^Risposta entro: +venerdì 27 novembre 2026, 17:00 \(UTC\)$", text, re.M)
    with pytest.raises(BackendError, match="not an ISO 8601") as caught:
        render_customer_mail("open", case(due="tomorrow"), "en")
    assert caught.value.retryable is False


def test_bad_event_and_missing_title():
    with pytest.raises(BackendError, match="event 'update'"):
        render_customer_mail("update", case(), "en")
    with pytest.raises(BackendError, match="case_ref and a title"):
        render_customer_mail("open", case(title=""), "en")


def test_control_characters_cannot_inject_headers():
    subject, text, _html = render_customer_mail("open", case(title="disk\r\nBcc: victim@example.org\x00 full"), "en")
    assert "\r" not in subject and "\n" not in subject
    message = build_message(SmtpSettings(host="localhost", security="none", sender=SENDER), CUSTOMER, subject, text, "<p></p>", "k", None)
    assert message["Bcc"] is None


def test_message_id_is_stable_per_key():
    settings = SmtpSettings(host="localhost", security="none", sender=SENDER)
    first = build_message(settings, CUSTOMER, "s", "t", "<p>h</p>", "key-1", None)
    again = build_message(settings, CUSTOMER, "s", "t", "<p>h</p>", "key-1", None)
    other = build_message(settings, CUSTOMER, "s", "t", "<p>h</p>", "key-2", None)
    assert first["Message-ID"] == again["Message-ID"] == message_id("key-1")
    assert other["Message-ID"] != first["Message-ID"]
    assert first["Message-ID"].startswith("<") and first["Message-ID"].endswith("@imagicle-proactive>")
    assert len(first["Message-ID"]) == len("<@imagicle-proactive>") + 32


# real SMTP server ------------------------------------------------------------------------------------
@pytest.mark.parametrize("language, subject_start, phrase", [
    ("it", "[Segnalazione 4711] Aperta: ", "Abbiamo aperto la segnalazione 4711"),
    ("en", "[Case 4711] Opened: ", "We have opened case 4711"),
])
def test_open_mail_arrives(submission, certs, language, subject_start, phrase):
    port, sink = submission
    settings = settings_for(port, certs)
    sent = send(settings, language=language)
    assert len(sink.messages) == 1
    mail_from, rcpt_tos, received, auth_data = sink.messages[0]
    assert mail_from == "proactive@example.net" and rcpt_tos == CUSTOMER and auth_data[0] == USER
    assert received["Subject"].startswith(subject_start)
    assert received["Message-ID"] == sent["Message-ID"] == message_id("fp-ias-a-disk:2026-11-27T10:00:00Z:open")
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["In-Reply-To"] is None and received["Date"]
    assert received.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in received.iter_parts()] == ["text/plain", "text/html"]
    text, html_body = parts(received)
    assert phrase in text and phrase in html_body
    # HTML: escaped, never evaluated
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_body and "<script>" not in html_body
    assert "{{ lookup(&#x27;pipe&#x27;,&#x27;id&#x27;) }}" in html_body
    assert "{% for x in range(3) %}x{% endfor %}" in html_body
    # plain text and subject: the same text as text
    assert "<script>alert(1)</script>" in text and TEMPLATE in text and JINJA_BLOCK in text
    assert TEMPLATE in received["Subject"]
    # personal data masked everywhere
    for where in (text, html_body, received["Subject"]):
        assert PHONE not in where and "+39 *** *** ****" in where
        assert "uid=" not in where
    assert "mario.rossi@customer.example" not in text + html_body and "***@***" in text


def test_resend_is_the_same_message(submission, certs):
    port, sink = submission
    settings = settings_for(port, certs)
    send(settings, key="same-key")
    send(settings, key="same-key")
    assert sink.messages[0][2]["Message-ID"] == sink.messages[1][2]["Message-ID"] == message_id("same-key")


def test_resolve_mail_threads_to_open_mail(submission, certs):
    port, sink = submission
    settings = settings_for(port, certs)
    send(settings, "open", "it", key="case-4711:open")
    send(settings, "resolve", "it", key="case-4711:resolve", thread_key="case-4711:open")
    opened, resolved = sink.messages[0][2], sink.messages[1][2]
    assert resolved["In-Reply-To"] == opened["Message-ID"]
    assert resolved["References"] == opened["Message-ID"]
    assert resolved["Message-ID"] != opened["Message-ID"]
    assert resolved["Subject"].startswith("[Segnalazione 4711] Risolta: ")
    assert "La segnalazione 4711 è stata risolta" in parts(resolved)[0]


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_auth_login_and_plain(start_server, certs, mechanism):
    sink = Sink()
    others = [name for name in ("LOGIN", "PLAIN") if name != mechanism]
    port = start_server(sink, tls_context=server_tls_context(certs), require_starttls=True, authenticator=authenticator,
                        auth_required=True, auth_exclude_mechanism=others)
    send(settings_for(port, certs))
    assert sink.messages[0][3] == (USER, mechanism)
    with pytest.raises(BackendError, match="535") as caught:
        send(settings_for(port, certs, password="not-" + PASSWORD))
    assert caught.value.retryable is False
    assert_secret_free(caught.value)


def test_wrong_ca_is_refused_so_the_certificate_is_checked(submission, certs):
    port, sink = submission
    settings = settings_for(port, certs, ca_path=str(certs[2]))
    with pytest.raises(BackendError, match="certificate could not be verified") as caught:
        send(settings)
    assert caught.value.retryable is False
    assert "127.0.0.1:" in caught.value.message
    assert_secret_free(caught.value)
    assert sink.messages == []


def test_system_cas_do_not_trust_a_self_signed_server(submission, certs):
    port, sink = submission
    with pytest.raises(BackendError, match="certificate could not be verified") as caught:
        send(settings_for(port, certs, ca_path=None))
    assert caught.value.retryable is False and sink.messages == []


def test_validate_certs_false_skips_the_check(submission, certs):
    port, sink = submission
    send(settings_for(port, certs, ca_path=str(certs[2]), validate_certs=False))
    assert len(sink.messages) == 1


def test_wrong_password_is_not_retryable_and_secret_free(submission, certs):
    port, sink = submission
    wrong = PASSWORD + "-wrong"
    settings = settings_for(port, certs, password=wrong)
    with pytest.raises(BackendError) as caught:
        send(settings)
    error = caught.value
    assert error.retryable is False and error.status == 535 and error.backend_wide is True
    assert "535" in error.message and "check username and password" in error.message
    everything = " ".join([str(error), repr(error), "".join(traceback.format_exception(error))])
    assert wrong not in everything and PASSWORD not in everything
    assert sink.messages == []


def test_server_down_is_retryable(certs):
    settings = settings_for(free_port(), certs)
    with pytest.raises(BackendError, match="connection refused") as caught:
        send(settings)
    assert caught.value.retryable is True
    assert_secret_free(caught.value)


def test_silent_server_times_out_retryable(certs):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # the kernel accepts the connection; nobody ever sends a greeting
        settings = settings_for(silent.getsockname()[1], certs, timeout=0.5)
        with pytest.raises(BackendError, match="no complete answer within 0.5 s") as caught:
            send(settings)
    assert (caught.value.retryable, caught.value.backend_wide) == (True, True)
    assert_secret_free(caught.value)


def test_4xx_reply_is_retryable_5xx_is_not(start_server, certs):
    busy = start_server(Sink(data_reply="451 4.3.0 Try again later"), tls_context=server_tls_context(certs),
                        require_starttls=True, authenticator=authenticator, auth_required=True)
    with pytest.raises(BackendError) as caught:
        send(settings_for(busy, certs))
    assert caught.value.retryable is True and caught.value.status == 451 and caught.value.backend_wide is False
    assert_secret_free(caught.value)
    unknown = start_server(Sink(rcpt_reply="550 5.1.1 Mailbox unavailable"), tls_context=server_tls_context(certs),
                           require_starttls=True, authenticator=authenticator, auth_required=True)
    with pytest.raises(BackendError, match="550") as caught:
        send(settings_for(unknown, certs))
    assert caught.value.retryable is False and caught.value.status == 550 and caught.value.backend_wide is False
    assert_secret_free(caught.value)


def test_a_reply_echoing_the_password_is_scrubbed(start_server, certs):
    port = start_server(Sink(data_reply=f"554 5.7.1 rejected, you sent {PASSWORD}"), tls_context=server_tls_context(certs),
                        require_starttls=True, authenticator=authenticator, auth_required=True)
    with pytest.raises(BackendError, match="554") as caught:
        send(settings_for(port, certs))
    assert caught.value.retryable is False and "***" in caught.value.message
    assert_secret_free(caught.value)


def test_starttls_is_never_skipped(start_server, certs):
    port = start_server(Sink())  # no tls_context: STARTTLS not offered
    with pytest.raises(BackendError, match="does not offer") as caught:
        send(settings_for(port, certs))
    assert caught.value.retryable is False
    assert_secret_free(caught.value)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls(start_server, certs):
    sink = Sink()
    # aiosmtpd only knows about STARTTLS: on an implicit-TLS listener it must be told that AUTH may be offered
    port = start_server(sink, ssl_context=server_tls_context(certs), authenticator=authenticator, auth_required=True,
                        auth_require_tls=False)
    send(settings_for(port, certs, security="tls"))
    assert len(sink.messages) == 1
    with pytest.raises(BackendError, match="certificate could not be verified") as caught:
        send(settings_for(port, certs, security="tls", ca_path=str(certs[2])))
    assert caught.value.retryable is False


def test_plain_smtp_to_a_loopback_relay(start_server):
    sink = Sink()
    port = start_server(sink)
    send(SmtpSettings(host="127.0.0.1", port=port, security="none", sender=SENDER))
    assert len(sink.messages) == 1


def test_plain_smtp_refused_to_a_remote_host():
    for host in ("mail.example.net", "192.0.2.10", "10.0.0.1"):
        with pytest.raises(BackendError, match="only allowed to a relay on this machine") as caught:
            SmtpSettings(host=host, port=25, security="none", sender=SENDER)
        assert caught.value.retryable is False
    for host in ("localhost", "127.0.0.1", "::1"):
        assert SmtpSettings(host=host, port=25, security="none", sender=SENDER).security == "none"


def test_settings_validation():
    with pytest.raises(BackendError, match="security 'ssl'"):
        SmtpSettings(host="mail.example.net", security="ssl", sender=SENDER)
    with pytest.raises(BackendError, match="together"):
        SmtpSettings(host="mail.example.net", username=USER, sender=SENDER)
    with pytest.raises(BackendError, match="sender"):
        SmtpSettings(host="mail.example.net", sender="nobody")
    with pytest.raises(BackendError, match="port"):
        SmtpSettings(host="mail.example.net", port=0, sender=SENDER)
    with pytest.raises(BackendError) as caught:
        SmtpSettings(host="mail.example.net", port=70000, username=USER, password=PASSWORD, sender=SENDER)
    assert_secret_free(caught.value)


def test_unreadable_ca_file(certs, tmp_path):
    settings = settings_for(free_port(), certs, ca_path=str(tmp_path / "missing.pem"))
    with pytest.raises(BackendError, match="cannot load the CA file") as caught:
        send(settings)
    assert caught.value.retryable is False


def test_password_never_in_repr():
    settings = SmtpSettings(host="mail.example.net", username=USER, password=PASSWORD, sender=SENDER)
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings) and PASSWORD not in f"{settings}"
    assert "password" not in repr(settings)
    assert USER in repr(settings)


# the notifier the outbox calls ---------------------------------------------------------------------------
def test_mailer_is_the_notifier_and_delivers_with_the_action_id_as_message_id(submission, certs):
    port, sink = submission
    mailer = Mailer(settings_for(port, certs))
    assert isinstance(mailer, Notifier) and mailer.name == "mail"
    opened = ActionContext(case_key="fp-ias-a-disk-20261127T100000Z", action_id="fp-ias-a-disk-20261127T100000Z:mail:open")
    mailer.deliver(opened, {"event": "open", "to": CUSTOMER, "language": "it", "case": case(), "thread_key": None})
    resolved = ActionContext(case_key=opened.case_key, action_id=f"{opened.case_key}:mail:resolve")
    mailer.deliver(resolved, {"event": "resolve", "to": CUSTOMER, "language": "en", "case": case(), "thread_key": opened.action_id})
    first, second = sink.messages[0][2], sink.messages[1][2]
    assert first["Message-ID"] == message_id(opened.action_id) and first["In-Reply-To"] is None
    assert first["Subject"].startswith("[Segnalazione 4711] Aperta: ")
    assert second["Message-ID"] == message_id(resolved.action_id)
    assert second["In-Reply-To"] == second["References"] == first["Message-ID"]
    assert second["Subject"].startswith("[Case 4711] Resolved: ")
    assert repr(mailer) == f"Mailer(127.0.0.1:{port})"


def test_mailer_refuses_a_message_that_is_not_a_dict():
    mailer = Mailer(SmtpSettings(host="localhost", security="none", sender=SENDER))
    with pytest.raises(BackendError) as caught:
        mailer.deliver(ActionContext(case_key="k", action_id="k:mail:open"), ["open"])
    assert caught.value.retryable is False


# deadlines -----------------------------------------------------------------------------------------------
@pytest.fixture
def slow_smtp():
    started = []

    def start(greeting, interval):
        peer = SlowPeer([(greeting, interval)], speaks_first=True)
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.close()


def test_a_server_dripping_its_greeting_is_cut_off_at_the_total_deadline(slow_smtp):
    """Each byte comes well within the per-read timeout; only the total deadline ends the conversation."""
    peer = slow_smtp(b"220 " + b"x" * 400 + b" ESMTP\r\n", 0.05)
    settings = SmtpSettings(host="127.0.0.1", port=peer.port, security="none", sender=SENDER, timeout=0.6)
    started = time.monotonic()
    with pytest.raises(BackendError) as caught:
        send(settings)
    took = time.monotonic() - started
    assert (caught.value.retryable, caught.value.backend_wide) == (True, True)
    assert caught.value.message == f"SMTP 127.0.0.1:{peer.port} (none): no complete answer within 0.6 s; will retry"
    assert 0.5 < took < 1.5
    assert not any(isinstance(thread, threading.Timer) and thread.is_alive() for thread in threading.enumerate())


def test_a_tls_handshake_that_never_ends_is_cut_off(slow_smtp, certs):
    peer = slow_smtp(None, 0)  # implicit TLS: the client speaks first (ClientHello) and never hears back
    settings = settings_for(peer.port, certs, security="tls", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(BackendError) as caught:
        send(settings)
    assert caught.value.retryable is True and "no complete answer within 0.5 s" in caught.value.message
    assert time.monotonic() - started < 1.5
    assert_secret_free(caught.value)


def test_the_action_deadline_wins_when_it_comes_first(slow_smtp, certs):
    peer = slow_smtp(b"220 " + b"x" * 400 + b"\r\n", 0.05)
    mailer = Mailer(SmtpSettings(host="127.0.0.1", port=peer.port, security="none", sender=SENDER, timeout=30))
    started = time.monotonic()
    with pytest.raises(BackendError) as caught:
        mailer.deliver(ActionContext(case_key="k", action_id="k:mail:open", deadline=started + 0.4),
                       {"event": "open", "to": CUSTOMER, "language": "en", "case": case(), "thread_key": None})
    assert (caught.value.retryable, caught.value.backend_wide) == (True, False)
    assert "no complete answer within 0." in caught.value.message
    assert time.monotonic() - started < 1.5


def test_a_deadline_already_past_sends_nothing(submission, certs):
    port, sink = submission
    mailer = Mailer(settings_for(port, certs))
    with pytest.raises(BackendError) as caught:
        mailer.deliver(ActionContext(case_key="k", action_id="k:mail:open", deadline=time.monotonic() - 1),
                       {"event": "open", "to": CUSTOMER, "language": "en", "case": case(), "thread_key": None})
    assert caught.value.retryable is True and "deadline" in caught.value.message
    assert sink.messages == []
