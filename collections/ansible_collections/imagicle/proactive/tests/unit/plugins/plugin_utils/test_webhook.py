# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WebhookBackend against a real HTTP receiver on 127.0.0.1.

The receiver (a ThreadingHTTPServer) is what a customer would run: it checks every delivery with
``verify_signature`` (401 when it fails), deduplicates by ``Idempotency-Key`` and records what it
received, raw bytes included. Tests also make it answer 4xx/5xx, redirects, no JSON, or an id.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import socket
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import ActionContext, BackendError, CaseRef
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.webhook import WebhookBackend, sign, verify_signature

SECRET = "whsec-3b8f0c2d9e6a4f71b5c8"
RECEIVER_TOKEN = "receiver-bearer-6a1f9d2c"
CASE = {
    "title": "Disk C: almost full on appsuite-01",
    "priority": "P3",
    "due": "2030-01-02T03:04:05Z",
    "body": "Disk C: is 93 % full.\nFree some space.",
}
_keys = itertools.count()


def new_key() -> str:
    return f"0123456789abcdef{next(_keys):04d}-20261127T100000Z"


def ctx(key: str | None = None, action: str = "open", deadline: float | None = None) -> ActionContext:
    """The context of one outbox action of case ``key`` (the same action id on every retry)."""
    key = new_key() if key is None else key
    return ActionContext(case_key=key, action_id=f"{key}:{action}", deadline=deadline)


def assert_no_secret(text: str, *secrets: str) -> None:
    """Fails without printing the text or the secrets (pytest would show both in its diff or the frame's arguments)."""
    __tracebackhide__ = True  # pylint: disable=unused-variable
    leaked = [index for index, secret in enumerate(secrets) if secret and secret in text]
    if leaked:
        raise AssertionError(f"secret number(s) {leaked} appear in a message")


class Receiver:
    """A webhook receiver that verifies signatures, deduplicates by Idempotency-Key and records deliveries."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.deliveries: list[dict] = []  # accepted, first time seen
        self.attempts: list[dict] = []  # every POST, verified or not
        self.answers: dict[str, tuple[int, bytes]] = {}  # Idempotency-Key -> the answer given the first time
        self.next_status: list[tuple[int, dict, bytes]] = []
        self.give_ids = False
        self.ids = itertools.count(1)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, body = receiver.receive(self.path, dict(self.headers.items()), raw)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/imagicle"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def receive(self, path: str, headers: dict, raw: bytes) -> tuple[int, dict, bytes]:
        lowered = {name.lower(): value for name, value in headers.items()}
        with self._lock:
            attempt = {"path": path, "headers": lowered, "raw": raw}
            self.attempts.append(attempt)
            if self.next_status:
                return self.next_status.pop(0)
            if not verify_signature(self.secret, lowered.get("x-imagicle-timestamp"), raw, lowered.get("x-imagicle-signature")):
                return 401, {"Content-Type": "application/json"}, b'{"error": "bad signature"}'
            key = lowered.get("idempotency-key", "")
            if key in self.answers:
                status, body = self.answers[key]
                return status, {"Content-Type": "application/json"}, body
            document = json.loads(raw)
            self.deliveries.append(dict(attempt, json=document))
            answer = {"id": f"CASE-{next(self.ids)}", "url": f"https://cases.example.net/{key}"} if self.give_ids else {"ok": True}
            body = json.dumps(answer).encode()
            self.answers[key] = (202, body)
            return 202, {"Content-Type": "application/json"}, body


@pytest.fixture(scope="module")
def running_receiver():
    receiver = Receiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


@pytest.fixture
def receiver(running_receiver):
    running_receiver.deliveries.clear()
    running_receiver.attempts.clear()
    running_receiver.answers.clear()
    running_receiver.next_status.clear()
    running_receiver.give_ids = False
    running_receiver.ids = itertools.count(1)
    running_receiver.secret = SECRET
    return running_receiver


@pytest.fixture
def backend(receiver):
    return WebhookBackend(receiver.url, secret=SECRET)


def iso(stamp: str) -> str:
    return datetime.fromtimestamp(int(stamp), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_delivery(delivery: dict, event: str, idempotency_key: str) -> dict:
    """Assert the headers and the envelope of one delivery; return its JSON document."""
    headers, raw = delivery["headers"], delivery["raw"]
    assert delivery["path"] == "/hooks/imagicle"
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/json"
    assert headers["user-agent"].startswith("imagicle.proactive-webhook-backend/")
    assert headers["idempotency-key"] == idempotency_key
    assert headers["x-imagicle-event"] == event
    stamp = headers["x-imagicle-timestamp"]
    assert re.match(r"^[0-9]{10}$", stamp)
    expected = "sha256=" + hmac.new(SECRET.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    assert headers["x-imagicle-signature"] == expected
    document = json.loads(raw)
    assert sorted(document) == ["case", "event", "key", "ref", "sent_at"]
    assert document["event"] == event
    assert document["sent_at"] == iso(stamp)
    assert "cookie" not in headers
    return document


# create -------------------------------------------------------------------------------------------
def test_create_posts_a_signed_case_opened(receiver, backend):
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    assert ref == CaseRef(backend="webhook", ref=key, url=None)  # no status: a webhook cannot say
    assert len(receiver.deliveries) == 1
    document = check_delivery(receiver.deliveries[0], "case.opened", f"{key}:case.opened")
    assert document["key"] == key
    assert document["ref"] is None
    assert document["case"] == CASE


def test_create_uses_the_receivers_id_and_url(receiver, backend):
    receiver.give_ids = True
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    assert ref == CaseRef(backend="webhook", ref="CASE-1", url=f"https://cases.example.net/{key}:case.opened")
    backend.resolve(ctx(key, "resolve"), ref.ref, "gone")
    document = check_delivery(receiver.deliveries[-1], "case.resolved", f"{key}:case.resolved:{key}:resolve")
    assert (document["key"], document["ref"]) == (key, "CASE-1")


def test_create_retried_has_the_same_idempotency_key_and_is_one_case(receiver, backend):
    receiver.give_ids = True
    key = new_key()
    first = backend.create(ctx(key), CASE)
    second = backend.create(ctx(key), CASE)
    assert first.ref == second.ref == "CASE-1"
    assert [attempt["headers"]["idempotency-key"] for attempt in receiver.attempts] == [f"{key}:case.opened"] * 2
    assert len(receiver.deliveries) == 1


def test_find_cannot_ask_and_get_returns_what_is_known(receiver, backend):
    assert backend.find(ctx()) is None
    assert backend.readable is False
    assert backend.get("CASE-7") == {"ref": "CASE-7", "status": None, "priority": None, "subject": None, "key": None, "url": None,
                                     "readable": False}
    assert receiver.attempts == []


def test_text_is_plain_and_control_characters_visible(receiver, backend):
    backend.create(ctx(new_key()), dict(CASE, title="Disk\nC:\tfull <b>", body="line1\nline2\x1b[31m\x00", due=None))
    case = json.loads(receiver.deliveries[0]["raw"])["case"]
    assert case == {"title": "Disk C: full <b>", "priority": "P3", "due": None, "body": "line1\nline2\\x1b[31m\\x00"}


def test_non_ascii_text_is_sent_as_utf8_and_signed_over_the_raw_bytes(receiver, backend):
    backend.create(ctx(new_key()), dict(CASE, title="Dépôt plein – 93 %"))
    raw = receiver.deliveries[0]["raw"]
    assert "Dépôt plein – 93 %".encode("utf-8") in raw
    assert json.loads(raw)["case"]["title"] == "Dépôt plein – 93 %"


@pytest.mark.parametrize("case, text", [({"title": "", "priority": "P1"}, "no title"), ({"title": "t", "priority": "high"}, "priority")])
def test_invalid_cases_are_refused_without_sending(receiver, backend, case, text):
    with pytest.raises(BackendError) as info:
        backend.create(ctx(new_key()), case)
    assert (info.value.retryable, text in info.value.message) == (False, True)
    assert receiver.attempts == []


# follow-up events --------------------------------------------------------------------------------
def test_follow_up_events_and_their_bodies(receiver, backend):
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    backend.update_priority(ctx(key, "update:1"), ref.ref, "P1", "Priority changed from P3 to P1")
    backend.comment(ctx(key, "note:1"), ref.ref, "checked again")
    backend.resolve(ctx(key, "resolve:1"), ref.ref, "The condition no longer holds")
    backend.reopen(ctx(key, "reopen:1"), ref.ref, "The condition is back")
    backend.update_priority(ctx(key, "update:2"), ref.ref, "P2", None)
    backend.resolve(ctx(key, "resolve:2"), ref.ref, None)
    got = [(delivery["json"]["event"], delivery["json"]["key"], delivery["json"]["ref"], delivery["json"]["case"])
           for delivery in receiver.deliveries[1:]]
    assert got == [
        ("case.updated", key, key, {"priority": "P1", "comment": "Priority changed from P3 to P1"}),
        ("case.commented", key, key, {"comment": "checked again"}),
        ("case.resolved", key, key, {"note": "The condition no longer holds"}),
        ("case.reopened", key, key, {"note": "The condition is back"}),
        ("case.updated", key, key, {"priority": "P2", "comment": None}),
        ("case.resolved", key, key, {"note": None}),
    ]
    actions = ["update:1", "note:1", "resolve:1", "reopen:1", "update:2", "resolve:2"]
    for delivery, action in zip(receiver.deliveries[1:], actions):
        event = delivery["json"]["event"]
        check_delivery(delivery, event, f"{key}:{event}:{key}:{action}")
    assert len({delivery["headers"]["idempotency-key"] for delivery in receiver.deliveries}) == 7


def test_the_same_action_retried_keeps_its_idempotency_key(receiver, backend):
    key = new_key()
    backend.resolve(ctx(key, "resolve:1"), key, "gone at 10:00")
    backend.resolve(ctx(key, "resolve:1"), key, "gone at 10:00")  # a retry after a lost answer
    backend.resolve(ctx(key, "resolve:2"), key, "gone at 10:00")  # another action with the same text
    keys = [attempt["headers"]["idempotency-key"] for attempt in receiver.attempts]
    assert keys == [f"{key}:case.resolved:{key}:resolve:1"] * 2 + [f"{key}:case.resolved:{key}:resolve:2"]
    assert len(receiver.deliveries) == 2


def test_invalid_priority_reference_or_action_id_is_refused(receiver, backend):
    with pytest.raises(BackendError) as info:
        backend.update_priority(ctx(), "k", "P0", None)
    assert not info.value.retryable
    with pytest.raises(BackendError) as info:
        backend.resolve(ctx(), "a\nb", "x")
    assert not info.value.retryable
    with pytest.raises(BackendError) as info:
        backend.comment(ActionContext(case_key="k", action_id="a\nb"), "k", "x")
    assert not info.value.retryable
    assert receiver.attempts == []


# failures ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [400, 404, 409, 410, 422])
def test_4xx_is_not_retryable(receiver, backend, status):
    receiver.next_status.append((status, {"Content-Type": "text/plain"}, b"nope"))
    with pytest.raises(BackendError) as info:
        backend.create(ctx(new_key()), CASE)
    assert (info.value.retryable, info.value.status) == (False, status)
    assert f"webhook POST {receiver.url} (case.opened): HTTP {status} nope" in info.value.message


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_5xx_and_throttling_are_retryable(receiver, backend, status):
    receiver.next_status.append((status, {"Retry-After": "30"}, b""))
    with pytest.raises(BackendError) as info:
        backend.update_priority(ctx(), "k", "P2", "worse")
    assert (info.value.retryable, info.value.status) == (True, status)


def test_redirect_is_not_followed(receiver, backend):
    receiver.next_status.append((307, {"Location": "http://127.0.0.1:9/elsewhere"}, b""))
    with pytest.raises(BackendError) as info:
        backend.create(ctx(new_key()), CASE)
    assert (info.value.retryable, info.value.status) == (False, 307)
    assert len(receiver.attempts) == 1


def test_wrong_secret_is_refused_by_the_receiver_and_never_shown(receiver):
    wrong = "not-the-shared-secret-4f1a"
    backend = WebhookBackend(receiver.url, secret=wrong)
    with pytest.raises(BackendError) as info:
        backend.create(ctx(new_key()), CASE)
    assert (info.value.retryable, info.value.status, info.value.backend_wide) == (False, 401, True)
    assert "check the shared secret" in info.value.message
    assert receiver.deliveries == []
    assert_no_secret(info.value.message + repr(info.value) + repr(backend), wrong, SECRET)


def test_an_empty_answer_or_a_json_object_without_id_means_the_key_is_the_ref(receiver, backend):
    key = new_key()
    receiver.next_status.append((204, {}, b""))
    assert backend.create(ctx(key), CASE).ref == key
    receiver.next_status.append((200, {"Content-Length": "0"}, b""))
    assert backend.create(ctx(key), CASE).ref == key
    receiver.next_status.append((202, {"Content-Type": "application/json"}, b'{"queued": true}'))
    assert backend.create(ctx(key), CASE).ref == key


@pytest.mark.parametrize("content_type, body, text", [
    ("text/html", b"<!DOCTYPE html><html><title>Sign in</title></html>", "HTML page (HTTP 200) instead of JSON: a login page or a proxy?"),
    ("text/plain", b"thanks", "HTTP 200 with a body that is not JSON ('thanks')"),
    ("application/json", b'["queued"]', "the answer is not an empty body or a JSON object (got '[\"queued\"]')"),
    ("application/json", b'"ok"', "the answer is not an empty body or a JSON object"),
])
def test_any_other_2xx_body_is_a_failure(receiver, backend, content_type, body, text):
    """The contract: a delivery counts only for 2xx with an empty body or a JSON object. An HTML page needs a person
    (refused: the run fails loudly, the event stays queued); another body is retried."""
    receiver.next_status.append((200, {"Content-Type": content_type}, body))
    with pytest.raises(BackendError) as info:
        backend.resolve(ctx(action="resolve"), "k", "gone")
    assert (info.value.retryable, info.value.backend_wide, info.value.status) == ("HTML page" not in text, True, 200)
    assert text in info.value.message


def test_an_unusable_id_keeps_the_key_as_ref_with_a_warning(receiver, backend):
    receiver.next_status.append((201, {"Content-Type": "application/json"}, json.dumps({"id": "x" * 151}).encode()))
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    assert (ref.ref, ref.url) == (key, None)
    assert "answered an id that is not a single line" in ref.warning


def test_connection_refused_is_retryable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = WebhookBackend(f"http://127.0.0.1:{port}/hook", secret=SECRET)
    with pytest.raises(BackendError) as info:
        backend.create(ctx(new_key()), CASE)
    assert info.value.retryable
    assert "connection refused" in info.value.message
    assert_no_secret(info.value.message, SECRET)


def test_no_answer_is_retryable():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection in the kernel, never answers
        backend = WebhookBackend(f"http://127.0.0.1:{silent.getsockname()[1]}/hook", secret=SECRET, timeout=0.5)
        with pytest.raises(BackendError) as info:
            backend.create(ctx(new_key()), CASE)
    assert info.value.retryable
    assert "no complete answer within 0.5 s" in info.value.message


# secrets and settings -----------------------------------------------------------------------------
def test_extra_headers_are_sent_and_hidden(receiver):
    backend = WebhookBackend(receiver.url + "?token=query-secret-91b2", secret=SECRET,
                             extra_headers={"Authorization": f"Bearer {RECEIVER_TOKEN}"})
    backend.create(ctx(new_key()), CASE)
    assert receiver.attempts[0]["headers"]["authorization"] == f"Bearer {RECEIVER_TOKEN}"
    assert receiver.attempts[0]["path"] == "/hooks/imagicle?token=query-secret-91b2"
    receiver.next_status.append((500, {"Content-Type": "text/plain"}, f"echo {RECEIVER_TOKEN} token=query-secret-91b2".encode()))
    with pytest.raises(BackendError) as info:
        backend.comment(ctx(action="note"), "k", "x")
    assert_no_secret(info.value.message + repr(info.value) + repr(backend), SECRET, RECEIVER_TOKEN, "query-secret-91b2")
    assert "***" in info.value.message


def test_the_secret_never_appears_in_bodies_headers_messages_or_reprs(receiver, backend):
    backend.create(ctx(new_key()), CASE)
    backend.update_priority(ctx(action="update"), "k", "P1", "note")
    receiver.next_status.append((503, {}, b""))
    with pytest.raises(BackendError) as info:
        backend.resolve(ctx(action="resolve"), "k", "gone")
    sent = "".join(attempt["raw"].decode() + json.dumps(attempt["headers"]) for attempt in receiver.attempts)
    assert_no_secret(sent + info.value.message + repr(info.value) + repr(backend) + str(backend), SECRET)


@pytest.mark.parametrize("kwargs, text", [
    ({"secret": "short"}, "at least 16 characters"),
    ({"secret": SECRET, "extra_headers": {"X-Imagicle-Signature": "x"}}, "not an allowed header"),
    ({"secret": SECRET, "extra_headers": {"idempotency-key": "x"}}, "not an allowed header"),
    ({"secret": SECRET, "extra_headers": {"X-Api-Key": "a\r\nInjected: 1"}}, "single-line"),
    ({"secret": SECRET, "extra_headers": {"Bad Name": "x"}}, "not an allowed header"),
])
def test_invalid_settings_are_refused(kwargs, text):
    with pytest.raises(BackendError) as info:
        WebhookBackend("https://hooks.example.net/imagicle", **kwargs)
    assert not info.value.retryable
    assert text in info.value.message
    assert_no_secret(info.value.message, SECRET)


def test_http_with_extra_headers_to_another_machine_is_refused_unless_allowed():
    headers = {"Authorization": f"Bearer {RECEIVER_TOKEN}"}
    with pytest.raises(BackendError) as info:
        WebhookBackend("http://hooks.example.net/imagicle", secret=SECRET, extra_headers=headers)
    assert info.value.retryable is False
    assert info.value.message == ("the webhook backend would send extra_headers in clear text over http:// to hooks.example.net: use "
                                  "https://, or allow it for a trusted network with allow_http (IMAGICLE_ALLOW_HTTP=true)")
    assert_no_secret(info.value.message, SECRET, RECEIVER_TOKEN)
    assert WebhookBackend("http://hooks.example.net/imagicle", secret=SECRET, extra_headers=headers, allow_http=True).url
    assert WebhookBackend("http://hooks.example.net/imagicle", secret=SECRET).url  # the secret itself is never sent
    assert WebhookBackend("http://127.0.0.1:9/imagicle", secret=SECRET, extra_headers=headers).url


@pytest.mark.parametrize("url", ["hooks.example.net", "ftp://hooks.example.net", f"https://user:{SECRET}@hooks.example.net/"])
def test_invalid_urls_are_refused(url):
    with pytest.raises(BackendError) as info:
        WebhookBackend(url, secret=SECRET)
    assert not info.value.retryable
    assert_no_secret(info.value.message, SECRET)


# verify_signature --------------------------------------------------------------------------------
NOW = 1_900_000_000
BODY = b'{"event":"case.opened","key":"k"}'


def test_verify_signature_accepts_a_fresh_valid_signature():
    header = sign(SECRET, NOW, BODY)
    assert header == "sha256=" + hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert verify_signature(SECRET, str(NOW), BODY, header, now=NOW + 299)
    assert verify_signature(SECRET, NOW, BODY.decode(), header.upper().replace("SHA256=", "sha256="), now=NOW)
    assert verify_signature(SECRET, str(NOW), BODY, header, now=datetime.fromtimestamp(NOW - 10, timezone.utc))


@pytest.mark.parametrize("secret, timestamp, body, header, now", [
    ("other-secret-0123456789", str(NOW), BODY, None, NOW),          # wrong secret
    (SECRET, str(NOW), BODY + b" ", None, NOW),                     # body changed
    (SECRET, str(NOW + 1), BODY, None, NOW),                        # timestamp changed
    (SECRET, str(NOW), BODY, None, NOW + 301),                      # too old (replay)
    (SECRET, str(NOW), BODY, None, NOW - 301),                      # from the future
    (SECRET, str(NOW), BODY, "sha1=abc", NOW),                      # malformed header
    (SECRET, str(NOW), BODY, "", NOW),
    (SECRET, "yesterday", BODY, None, NOW),                         # not Unix seconds
    (SECRET, None, BODY, None, NOW),
    ("", str(NOW), BODY, None, NOW),
])
def test_verify_signature_refuses(secret, timestamp, body, header, now):
    if header is None:
        header = sign(SECRET, NOW, BODY)
    assert verify_signature(secret, timestamp, body, header, now=now) is False


def test_verify_signature_tolerance_is_configurable():
    header = sign(SECRET, NOW, BODY)
    assert not verify_signature(SECRET, NOW, BODY, header, tolerance_seconds=60, now=NOW + 61)
    assert verify_signature(SECRET, NOW, BODY, header, tolerance_seconds=3600, now=NOW + 3000)
