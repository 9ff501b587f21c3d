# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RtBackend against a real Request Tracker 5 on 127.0.0.1 (see conftest.py)."""

from __future__ import annotations

import base64
import itertools
import time
import uuid

import pytest
import requests

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import ActionContext, BackendError, CaseRef
from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.rt import RtBackend, rt_due

CASE = {
    "title": "Disk C: almost full on appsuite-01",
    "priority": "P3",
    "due": "2030-01-02T03:04:05Z",
    "body": "Disk C: is 93 % full.\nFree some space.",
    "requestor": "ops@example.com",
}
_counter = itertools.count()


def new_key() -> str:
    return f"fp-{next(_counter)}-{uuid.uuid4().hex[:12]}"


def ctx(key: str, action: str = "open", deadline: float | None = None) -> ActionContext:
    """The context of one outbox action of case ``key`` (the same action id on every retry)."""
    return ActionContext(case_key=key, action_id=f"{key}:{action}", deadline=deadline)


def rest(rt, method: str, path: str, *, token: str | None = None, **kwargs):
    """A direct REST 2 call (not through the backend), to check what RT really stored."""
    response = requests.request(method, rt.rest_url + path, headers={"Authorization": f"token {token or rt.token}",
                                                                      "User-Agent": "proactive-tests"}, timeout=10, **kwargs)
    response.raise_for_status()
    return response.json()


def assert_no_secret(text: str, *secrets: str) -> None:
    """Fails without printing the text or the secrets (pytest would show both in its diff)."""
    leaked = [index for index, secret in enumerate(secrets) if secret and secret in text]
    assert not leaked, f"secret number(s) {leaked} appear in a message"


def search_count(rt, query: str) -> int:
    return len(rest(rt, "GET", "/tickets", params={"query": query, "per_page": 100})["items"])


def transactions(rt, ticket_id: str) -> list[dict]:
    return rest(rt, "GET", f"/ticket/{ticket_id}/history", params={"fields": "Type,Data", "per_page": 100})["items"]


def transaction_contents(rt, txn_id: str) -> list[tuple[str, str]]:
    """(ContentType, decoded Content) of each attachment of a transaction."""
    result = []
    for item in rest(rt, "GET", f"/transaction/{txn_id}/attachments", params={"per_page": 100})["items"]:
        attachment = rest(rt, "GET", f"/attachment/{item['id']}")
        result.append((attachment["ContentType"], base64.b64decode(attachment["Content"] or "").decode("utf-8")))
    return result


@pytest.fixture
def backend(rt):
    return RtBackend(rt.url, token=rt.token)


def test_create_stores_tag_key_priority_and_due(rt, backend):
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    assert isinstance(ref, CaseRef)
    assert (ref.backend, ref.warning, ref.status) == ("rt", None, "open")
    assert ref.url == f"{rt.url}/Ticket/Display.html?id={ref.ref}"
    ticket = rest(rt, "GET", f"/ticket/{ref.ref}")
    assert ticket["Subject"] == f"[alarm:{key}] {CASE['title']}"
    assert [cf["values"] for cf in ticket["CustomFields"] if cf["name"] == "AlarmKey"] == [[key]]
    assert str(ticket["Priority"]) == "50"
    assert ticket["Due"] == "2030-01-02T03:04:05Z"
    assert ticket["Queue"]["id"] == "1"
    assert [r["id"] for r in ticket["Requestor"]] == ["ops@example.com"]
    assert backend.get(ref) == {"ref": ref.ref, "status": "new", "priority": "P3", "priority_value": 50,
                                "subject": ticket["Subject"], "key": key, "due": "2030-01-02T03:04:05Z", "url": ref.url}


def test_create_twice_returns_the_same_ticket(rt, backend):
    key = new_key()
    first = backend.create(ctx(key), CASE)
    second = backend.create(ctx(key), {**CASE, "title": "retried after a crash"})
    assert second.ref == first.ref
    assert search_count(rt, f"'CF.{{AlarmKey}}' = '{key}'") == 1
    assert search_count(rt, f"Subject LIKE '[alarm:{key}]'") == 1
    assert backend.find(ctx(key)).ref == first.ref


def test_find_unknown_key_is_none(backend):
    assert backend.find(ctx(new_key())) is None


def test_find_tells_a_live_ticket_from_a_resolved_one(rt, backend):
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    assert backend.find(ctx(key)).status == "open"  # RT status "new"
    backend.resolve(ctx(key, "resolve"), ref.ref, "the disk has space again")
    assert rest(rt, "GET", f"/ticket/{ref.ref}")["Status"] == "resolved"
    found = backend.find(ctx(key))
    assert (found.ref, found.status) == (ref.ref, "resolved")
    assert backend.create(ctx(key), CASE) == found
    for status, expected in (("stalled", "open"), ("rejected", "resolved"), ("open", "open")):
        rest(rt, "PUT", f"/ticket/{ref.ref}", json={"Status": status})
        assert backend.find(ctx(key)).status == expected, status


def test_update_priority_sets_priority_and_comments_once(rt, backend):
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    backend.update_priority(ctx(key, "update:1"), ref.ref, "P1", "Escalated to P1: the disk is now 99 % full.")
    assert str(rest(rt, "GET", f"/ticket/{ref.ref}")["Priority"]) == "90"
    assert backend.get(ref)["priority"] == "P1"
    backend.update_priority(ctx(key, "update:1"), ref.ref, "P1", "Escalated to P1: the disk is now 99 % full.")  # a retry
    comments = [t for t in transactions(rt, ref.ref) if t["Type"] == "Comment"]
    assert len(comments) == 1
    assert transaction_contents(rt, comments[0]["id"]) == [("text/plain", "Escalated to P1: the disk is now 99 % full.")]
    assert comments[0]["Data"].strip() == f"[action:{key}:update:1]"  # the marker is the comment's subject
    assert [t["Type"] for t in transactions(rt, ref.ref)].count("Set") == 1  # the retry did not write the priority again
    backend.update_priority(ctx(key, "update:2"), ref.ref, "P2", "Down to P2.")  # another action: its own comment
    assert [t["Type"] for t in transactions(rt, ref.ref)].count("Comment") == 2
    assert backend.get(ref)["priority"] == "P2"


def test_resolve_then_reopen(rt, backend):
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    backend.resolve(ctx(key, "resolve"), ref.ref, "recovered")
    assert rest(rt, "GET", f"/ticket/{ref.ref}")["Status"] == "resolved"
    backend.resolve(ctx(key, "resolve"), ref.ref, "recovered")  # a retry after a lost answer: nothing repeated
    backend.resolve(ctx(key, "resolve:2"), ref.ref, None)  # already resolved: still fine, nothing written
    backend.reopen(ctx(key, "reopen"), ref.ref, "the alarm fired again")
    assert rest(rt, "GET", f"/ticket/{ref.ref}")["Status"] == "open"
    assert backend.get(ref)["status"] == "open"
    backend.reopen(ctx(key, "reopen"), ref.ref, "the alarm fired again")  # a retry
    types = [t["Type"] for t in transactions(rt, ref.ref)]
    assert types.count("Comment") == 2
    assert types.count("Status") == 2  # resolved once, opened once


def test_a_resolve_whose_status_change_fails_comments_only_once(rt, backend):
    """The old failure: comment, then a refused status change; every retry added the comment again."""
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    blocker_key = new_key()
    blocker = backend.create(ctx(blocker_key), CASE)
    rest(rt, "PUT", f"/ticket/{ref.ref}", json={"DependsOn": blocker.ref})  # RT refuses to resolve it while the other is open
    for _attempt in range(3):
        with pytest.raises(BackendError) as info:
            backend.resolve(ctx(key, "resolve"), ref.ref, "recovered")
        assert info.value.retryable is False and info.value.backend_wide is False
        assert "unresolved dependencies" in info.value.message
    assert [t["Type"] for t in transactions(rt, ref.ref)].count("Comment") == 1
    backend.resolve(ctx(blocker_key, "resolve"), blocker.ref, None)
    backend.resolve(ctx(key, "resolve"), ref.ref, "recovered")  # the retry that finally works
    assert rest(rt, "GET", f"/ticket/{ref.ref}")["Status"] == "resolved"
    assert [t["Type"] for t in transactions(rt, ref.ref)].count("Comment") == 1


def test_reopen_of_a_live_ticket_changes_no_status(rt, backend):
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    rest(rt, "PUT", f"/ticket/{ref.ref}", json={"Status": "stalled"})
    backend.reopen(ctx(key, "reopen"), ref.ref, None)
    assert rest(rt, "GET", f"/ticket/{ref.ref}")["Status"] == "stalled"


def test_comment_is_added_once_per_action(rt, backend):
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    backend.comment(ctx(key, "note:1"), ref.ref, "checked again")
    backend.comment(ctx(key, "note:1"), ref.ref, "checked again")
    backend.comment(ctx(key, "note:2"), ref.ref, "checked again")
    assert [t["Type"] for t in transactions(rt, ref.ref)].count("Comment") == 2


def test_wrong_token_is_401_backend_wide_not_retryable_and_hides_the_token(rt):
    bad_token = "1-14-" + "0123456789abcdef" * 2
    backend = RtBackend(rt.url, token=bad_token)
    with pytest.raises(BackendError) as info:
        backend.find(ctx(new_key()))
    assert (info.value.status, info.value.retryable, info.value.backend_wide) == (401, False, True)
    assert "check IMAGICLE_RT_TOKEN" in str(info.value) and rt.rest_url in str(info.value)
    for text in (str(info.value), repr(info.value), repr(backend), repr(backend.__dict__)):
        assert_no_secret(text, bad_token, "0123456789abcdef", rt.token)


def test_a_redirect_to_the_login_page_is_backend_wide_and_says_what_to_check(rt):
    """RT answers 302 to its login page when it takes the client for a browser or the path is not REST 2."""
    browser = RtBackend(rt.url, token="1-14-" + "0" * 32)
    browser._session.headers["User-Agent"] = "Mozilla/5.0"  # pylint: disable=protected-access
    wrong_path = RtBackend(rt.url + "/rt", token="1-14-" + "0" * 32)
    for backend in (browser, wrong_path):
        with pytest.raises(BackendError) as info:
            backend.find(ctx(new_key()))
        assert (info.value.status, info.value.retryable, info.value.backend_wide) == (302, False, True)
        assert "WebBaseURL + WebPath" in info.value.message and "browser" in info.value.message


def test_an_html_page_from_rt_is_a_refused_backend_wide_failure(rt):
    """With a valid token and a path that is not REST 2, RT answers 200 with an HTML page ("Possible cross-site
    request forgery"): the answer does not count, and a person must fix the url (refused: the run fails loudly,
    the action stays queued and later runs retry it)."""
    backend = RtBackend(rt.url + "/rt", token=rt.token)
    key = new_key()
    with pytest.raises(BackendError) as info:
        backend.create(ctx(key), CASE)
    assert (info.value.status, info.value.retryable, info.value.backend_wide) == (200, False, True)
    assert f"Request Tracker GET {rt.url}/rt/REST/2.0/tickets: HTML page (HTTP 200) instead of JSON" in info.value.message
    assert_no_secret(str(info.value), rt.token)
    assert search_count(rt, f"Subject LIKE '[alarm:{key}]'") == 0


def test_rt_stopped_is_retryable_connection_refused(rt, backend):
    rt.stop()
    try:
        with pytest.raises(BackendError) as info:
            backend.create(ctx(new_key()), CASE)
        assert (info.value.retryable, info.value.backend_wide) == (True, True)
        assert info.value.status is None
        assert "connection refused" in str(info.value)
        assert_no_secret(str(info.value), rt.token)
    finally:
        rt.start()
    assert backend.find(ctx(new_key())) is None


def test_a_deadline_already_past_sends_nothing(rt, backend):
    key = new_key()
    with pytest.raises(BackendError) as info:
        backend.create(ctx(key, deadline=time.monotonic() - 1), CASE)
    assert (info.value.retryable, info.value.backend_wide) == (True, False)
    assert "deadline" in info.value.message
    assert search_count(rt, f"Subject LIKE '[alarm:{key}]'") == 0


def test_unknown_queue_is_403_not_retryable(rt):
    backend = RtBackend(rt.url, token=rt.token, queue="NoSuchQueue")
    with pytest.raises(BackendError) as info:
        backend.create(ctx(new_key()), CASE)
    assert (info.value.status, info.value.retryable, info.value.backend_wide) == (403, False, False)
    assert "No permission to create tickets in the queue 'NoSuchQueue'" in str(info.value)
    assert_no_secret(str(info.value), rt.token)


def test_permission_denied_in_a_200_answer_is_not_retryable(rt, backend):
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    readonly = RtBackend(rt.url, token=rt.tokens.readonly)
    assert readonly.get(ref)["priority"] == "P3"
    with pytest.raises(BackendError) as info:
        readonly.update_priority(ctx(key, "update"), ref.ref, "P1", "should not land")
    assert info.value.retryable is False
    assert "Permission Denied" in str(info.value)
    assert str(rest(rt, "GET", f"/ticket/{ref.ref}")["Priority"]) == "50"
    with pytest.raises(BackendError) as info:
        readonly.resolve(ctx(key, "resolve"), ref.ref, None)
    assert info.value.retryable is False
    assert rest(rt, "GET", f"/ticket/{ref.ref}")["Status"] == "new"
    assert_no_secret(str(info.value) + repr(readonly), rt.token, rt.tokens.readonly)


def test_find_ignores_deleted_tickets(rt, backend):
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    response = requests.delete(f"{rt.rest_url}/ticket/{ref.ref}", timeout=10,
                               headers={"Authorization": f"token {rt.tokens.root}", "User-Agent": "proactive-tests"})
    assert response.status_code == 204
    assert backend.find(ctx(key)) is None
    assert backend.create(ctx(key), CASE).ref != ref.ref


def test_missing_custom_field_warns_and_subject_tag_still_finds(rt):
    backend = RtBackend(rt.url, token=rt.token, key_field="NoSuchField")
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    assert ref.warning and "NoSuchField" in ref.warning and f"[alarm:{key}]" in ref.warning
    assert backend.find(ctx(key)).ref == ref.ref
    assert backend.create(ctx(key), CASE).ref == ref.ref
    assert backend.get(ref)["key"] == key


def test_host_text_lands_as_inert_plain_text(rt, backend):
    body = ("process <script>alert('x')</script> <b>bold</b> &amp;\n"
            "{{ lookup('pipe', 'id') }} {% for x in y %}{{ x }}{% endfor %} ${HOME} $(id)\n"
            "bell\x07 escape\x1b[31m nul\x00 del\x7f tab\tend")
    key = new_key()
    ref = backend.create(ctx(key), {**CASE, "title": "svc <img src=x onerror=alert(1)>\r\n{{ 7*7 }}\x1b", "body": body})
    ticket = rest(rt, "GET", f"/ticket/{ref.ref}")
    assert ticket["Subject"].endswith("] svc <img src=x onerror=alert(1)> {{ 7*7 }}")
    create = [t for t in transactions(rt, ref.ref) if t["Type"] == "Create"]
    assert len(create) == 1
    expected = ("process <script>alert('x')</script> <b>bold</b> &amp;\n"
                "{{ lookup('pipe', 'id') }} {% for x in y %}{{ x }}{% endfor %} ${HOME} $(id)\n"
                "bell\\x07 escape\\x1b[31m nul\\x00 del\\x7f tab\tend")
    assert transaction_contents(rt, create[0]["id"]) == [("text/plain", expected)]
    backend.comment(ctx(key, "note"), ref.ref, "note <i>x</i> {{ y }}\x08")
    comments = [t for t in transactions(rt, ref.ref) if t["Type"] == "Comment"]
    assert transaction_contents(rt, comments[0]["id"]) == [("text/plain", "note <i>x</i> {{ y }}\\x08")]


def test_unknown_ticket_is_404_not_retryable(backend):
    with pytest.raises(BackendError) as info:
        backend.get("999999")
    assert (info.value.status, info.value.retryable) == (404, False)
    with pytest.raises(BackendError) as info:
        backend.get("1/../../rt")
    assert info.value.retryable is False


def test_basic_authentication(rt):
    backend = RtBackend(rt.rest_url + "/", username="proactive-api", password=rt.tokens.api_password)
    key = new_key()
    ref = backend.create(ctx(key), CASE)
    assert backend.find(ctx(key)).ref == ref.ref
    wrong = RtBackend(rt.url, username="proactive-api", password="not-the-password-4711")
    with pytest.raises(BackendError) as info:
        wrong.get(ref)
    assert (info.value.status, info.value.retryable, info.value.backend_wide) == (401, False, True)
    pair = base64.b64encode(b"proactive-api:not-the-password-4711").decode()
    assert_no_secret(str(info.value) + repr(wrong) + repr(vars(wrong)) + repr(vars(backend)), "not-the-password-4711",
                     rt.tokens.api_password, pair)


@pytest.mark.parametrize("kwargs", [
    {},
    {"token": "t", "username": "u", "password": "p"},
    {"username": "u"},
    {"password": "secret-pw"},
    {"token": "t", "url": "http://api:secret-pw@127.0.0.1:9"},
    {"token": "t", "url": "ftp://secret-pw"},
])
def test_credentials_must_be_token_xor_user_password(kwargs):
    with pytest.raises(BackendError) as info:
        args = dict(kwargs)
        RtBackend(args.pop("url", "http://127.0.0.1:9"), **args)
    assert info.value.retryable is False
    assert "secret-pw" not in str(info.value)


@pytest.mark.parametrize("kwargs, credential", [({"token": "tok-secret"}, "the token"),
                                                ({"username": "u", "password": "pw-secret"}, "the password")])
def test_http_to_another_machine_is_refused_unless_allowed(kwargs, credential):
    with pytest.raises(BackendError) as info:
        RtBackend("http://rt.example.net/rt", **kwargs)
    assert info.value.retryable is False
    assert info.value.message == (f"the Request Tracker backend would send {credential} in clear text over http:// to rt.example.net: "
                                  "use https://, or allow it for a trusted network with allow_http (IMAGICLE_ALLOW_HTTP=true)")
    assert RtBackend("http://rt.example.net/rt", allow_http=True, **kwargs).api_url == "http://rt.example.net/rt/REST/2.0"
    for url in ("https://rt.example.net", "http://127.0.0.1:8080", "http://127.1.2.3", "http://localhost:9", "http://[::1]:9"):
        assert RtBackend(url, **kwargs).web_url == url


def test_due_and_case_validation(backend):
    assert rt_due("2030-01-02T03:04:05Z") == "2030-01-02 03:04:05"
    assert rt_due("2030-01-02T05:04:05+02:00") == "2030-01-02 03:04:05"
    for due in ("tomorrow", "2030-01-02T03:04:05"):
        with pytest.raises(BackendError) as info:
            backend.create(ctx(new_key()), {**CASE, "due": due})
        assert info.value.retryable is False
    with pytest.raises(BackendError):
        backend.create(ctx(new_key()), {**CASE, "priority": "P9"})
    with pytest.raises(BackendError):
        backend.create(ctx("two\nlines"), CASE)
    with pytest.raises(BackendError) as info:
        backend.comment(ActionContext(case_key="k", action_id="two\nlines"), "1", "x")
    assert info.value.retryable is False


def test_no_secret_in_the_rt_log_or_mail(rt):
    for path in (rt.log_path, rt.mbox_path):
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except FileNotFoundError:
            continue
        assert_no_secret(text, rt.token, rt.tokens.readonly, rt.tokens.root, rt.tokens.api_password)
