# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AlertmanagerPager against a real Alertmanager 0.25 and a real webhook receiver on 127.0.0.1 (see conftest.py).

Each test uses its own dedup key; the route groups by ``dedup_key``, so every page is its own
aggregation group and tests do not see each other's notifications. Arrivals are awaited by
polling with a bounded wait. "No second notification" is checked by watching the receiver for
a quiet window of several group intervals (the only moments Alertmanager sends anything for a
group) and, afterwards, by a resolve whose notification proves the group was still being flushed.
"""

from __future__ import annotations

import itertools
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from alertmanager_service import GROUP_INTERVAL_S, free_port, wait_until

from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import ActionContext, BackendError
from ansible_collections.imagicle.proactive.plugins.plugin_utils.paging import alertmanager as am_module
from ansible_collections.imagicle.proactive.plugins.plugin_utils.paging.alertmanager import AlertmanagerPager

PASSWORD = "am-proxy-pw-SECRET-5f1c"
QUIET_WINDOW_S = 5 * GROUP_INTERVAL_S
CTX = ActionContext(case_key="fp-1-20261127T100000Z", action_id="fp-1-20261127T100000Z:page")
_counter = itertools.count()


def new_key() -> str:
    return f"case-fp-{next(_counter)}-{uuid.uuid4().hex[:10]}"


def page(**changes) -> dict:
    record = {
        "summary": "P1: disk C: 97 % full on ias-01 (acme)",
        "customer": "acme",
        "host": "ias-01.acme.example",
        "rule": "disk_space",
        "priority": "P1",
        "due": "2026-11-27T11:00:00Z",
        "case_ref": "4711",
        "case_url": "https://rt.example.net/Ticket/Display.html?id=4711",
    }
    record.update(changes)
    return record


def expected_labels(key: str) -> dict:
    return {"alertname": "ImagicleProactiveP1", "dedup_key": key, "customer": "acme", "host": "ias-01.acme.example",
            "rule": "disk_space", "severity": "critical"}


def wait_notifications(receiver, key: str, count: int, what: str) -> list[dict]:
    return wait_until(lambda: (lambda found: found if len(found) >= count else None)(receiver.notifications(key)),
                      timeout=30, what=what)


def stays_quiet(receiver, key: str, count: int) -> bool:
    """True when no notification beyond ``count`` arrives for ``key`` during the quiet window (bounded polling)."""
    deadline = time.monotonic() + QUIET_WINDOW_S
    while time.monotonic() < deadline:
        if len(receiver.notifications(key)) > count:
            return False
        time.sleep(0.1)
    return len(receiver.notifications(key)) == count


def parse_time(text: str) -> datetime:
    """An RFC 3339 time as Alertmanager writes it (up to nanoseconds, trailing Z)."""
    text = text.replace("Z", "+00:00")
    if "." in text:
        head, tail = text.split(".", 1)
        text = f"{head}.{tail[:tail.index('+')][:6]}+00:00"
    return datetime.fromisoformat(text)


def test_trigger_retrigger_clear(alertmanager, receiver):
    key = new_key()
    pager = AlertmanagerPager(alertmanager.url, timeout=5.0)
    assert pager.trigger(CTX, key, page()) == key

    firing = wait_notifications(receiver, key, 1, "firing notification")
    assert len(firing) == 1
    body = firing[0]
    assert body["status"] == "firing"
    assert len(body["alerts"]) == 1
    alert = body["alerts"][0]
    assert alert["status"] == "firing"
    assert alert["labels"] == expected_labels(key)
    assert alert["annotations"] == {"summary": "P1: disk C: 97 % full on ias-01 (acme)", "due": "2026-11-27T11:00:00Z",
                                    "case": "4711 https://rt.example.net/Ticket/Display.html?id=4711"}
    assert alert["generatorURL"] == "https://rt.example.net/Ticket/Display.html?id=4711"

    stored = alertmanager.alerts(key)
    assert len(stored) == 1
    fingerprint, starts_at = stored[0]["fingerprint"], stored[0]["startsAt"]
    assert parse_time(stored[0]["endsAt"]) > datetime.now(timezone.utc) + timedelta(hours=160)  # held for a week

    # a later run: a new pager object, the same page again -> same alert, no second notification
    later = AlertmanagerPager(alertmanager.url, timeout=5.0)
    assert later.trigger(CTX, key, page(summary="P1: disk C: 98 % full on ias-01 (acme)")) == key
    assert stays_quiet(receiver, key, 1), "re-triggering the same dedup key sent a second notification"
    stored = alertmanager.alerts(key)
    assert [(item["fingerprint"], item["startsAt"]) for item in stored] == [(fingerprint, starts_at)]
    assert stored[0]["annotations"]["summary"] == "P1: disk C: 98 % full on ias-01 (acme)"

    pager.clear(CTX, key, page(summary="P1: disk C: 98 % full on ias-01 (acme)"))
    notifications = wait_notifications(receiver, key, 2, "resolved notification")
    assert len(notifications) == 2
    resolved = notifications[1]
    assert resolved["status"] == "resolved"
    assert resolved["alerts"][0]["status"] == "resolved"
    assert resolved["alerts"][0]["labels"] == expected_labels(key)
    assert resolved["alerts"][0]["annotations"]["summary"] == "P1: disk C: 98 % full on ias-01 (acme)"
    assert resolved["alerts"][0]["annotations"]["case"].startswith("4711 ")
    assert [body["status"] for body in receiver.notifications(key)] == ["firing", "resolved"]
    assert alertmanager.alerts(key) == []  # resolved alerts are no longer listed
    pager.clear(CTX, key, page())  # a retried clear (its answer was lost): harmless
    assert stays_quiet(receiver, key, 2), "clearing a cleared page sent another notification"


def test_page_without_case_and_with_host_text(alertmanager, receiver):
    key = new_key()
    text = "disk {{ .Status }}\nFULL\x1b[31m <b>x</b>"
    AlertmanagerPager(alertmanager.url).trigger(CTX, key, page(summary=text, case_ref=None, case_url=None))
    alert = wait_notifications(receiver, key, 1, "firing notification")[0]["alerts"][0]
    assert alert["annotations"] == {"summary": "disk {{ .Status }} FULL [31m <b>x</b>", "due": "2026-11-27T11:00:00Z", "case": ""}
    assert alert["generatorURL"] == ""


def test_restarted_alertmanager_gets_the_page_back_without_a_second_notification(alertmanager, receiver):
    key = new_key()
    pager = AlertmanagerPager(alertmanager.url)
    pager.trigger(CTX, key, page())
    wait_notifications(receiver, key, 1, "firing notification")
    # Alertmanager records a notification in its log only after the receiver answered; give it that moment (a stop in
    # between repeats the notification after the restart: delivery is at least once)
    assert stays_quiet(receiver, key, 1)
    alertmanager.stop()  # alerts live in memory only; the notification log is snapshotted into --storage.path on SIGTERM
    alertmanager.start()
    assert alertmanager.alerts(key) == []
    pager.trigger(CTX, key, page())  # what the next run does for an open P1
    wait_until(lambda: alertmanager.alerts(key), timeout=10, what="re-created alert")
    assert stays_quiet(receiver, key, 1), "the re-created alert was notified again"
    pager.clear(CTX, key, page())
    assert [body["status"] for body in wait_notifications(receiver, key, 2, "resolved notification")] == ["firing", "resolved"]


def test_alertmanager_stopped_is_retryable(alertmanager):
    pager = AlertmanagerPager(alertmanager.url, username="proactive", password=PASSWORD, timeout=5.0)
    pager.trigger(CTX, new_key(), page())  # Alertmanager without a web config ignores the Basic credentials
    alertmanager.stop()
    with pytest.raises(BackendError) as caught:
        pager.trigger(CTX, new_key(), page())
    assert caught.value.retryable is True
    assert caught.value.status is None
    assert "connection refused" in caught.value.message and f"{alertmanager.url}/api/v2/alerts" in caught.value.message
    with pytest.raises(BackendError) as caught_resolve:
        pager.clear(CTX, new_key(), page())
    assert caught_resolve.value.retryable is True
    texts = (caught.value.message, repr(caught.value), caught_resolve.value.message, repr(pager), repr(vars(pager)))
    leaked = [index for index, text in enumerate(texts) if PASSWORD in text]
    assert not leaked, f"the password appears in text number(s) {leaked}"  # never print the texts themselves


def test_a_deadline_already_past_sends_nothing(alertmanager):
    key = new_key()
    late = ActionContext(case_key="k", action_id="k:page", deadline=time.monotonic() - 1)
    with pytest.raises(BackendError) as caught:
        AlertmanagerPager(alertmanager.url).trigger(late, key, page())
    assert (caught.value.retryable, caught.value.backend_wide) == (True, False)
    assert "deadline" in caught.value.message
    assert alertmanager.alerts(key) == []


def test_the_answer_of_the_real_alertmanager_counts(alertmanager):
    """Alertmanager answers 200 with an empty body: the pager takes it as done (and reads the alert back)."""
    key = new_key()
    pager = AlertmanagerPager(alertmanager.url, timeout=5.0)
    pager.trigger(ActionContext(case_key="k", action_id="k:page", deadline=time.monotonic() + 5), key, page())
    assert [alert["labels"]["dedup_key"] for alert in alertmanager.alerts(key)] == [key]
    pager.clear(CTX, key, page())


def test_wrong_url_is_retryable():
    with pytest.raises(BackendError) as caught:
        AlertmanagerPager(f"http://127.0.0.1:{free_port()}", timeout=5.0).trigger(CTX, new_key(), page())
    assert caught.value.retryable is True


def test_wrong_path_is_not_retryable(alertmanager):
    with pytest.raises(BackendError) as caught:
        AlertmanagerPager(alertmanager.url + "/not-alertmanager").trigger(CTX, new_key(), page())
    assert caught.value.retryable is False
    assert caught.value.status == 404


def test_alert_rejected_with_400_is_not_retryable(alertmanager, receiver, monkeypatch):
    """Alertmanager answers 400 "start time must be before end time" for startsAt after endsAt."""
    build = am_module.build_alert

    def starts_after_it_ends(dedup_key, page_, ends_at, starts_at=None):
        alert = build(dedup_key, page_, ends_at, starts_at)
        alert["startsAt"] = am_module.rfc3339(ends_at + timedelta(hours=1))
        return alert

    monkeypatch.setattr(am_module, "build_alert", starts_after_it_ends)
    key = new_key()
    with pytest.raises(BackendError) as caught:
        AlertmanagerPager(alertmanager.url).trigger(CTX, key, page())
    assert caught.value.retryable is False
    assert caught.value.status == 400
    assert "start time must be before end time" in caught.value.message
    monkeypatch.undo()
    assert alertmanager.alerts(key) == []


def test_schema_violation_422_is_not_retryable(alertmanager, monkeypatch):
    build = am_module.build_alert
    monkeypatch.setattr(am_module, "build_alert", lambda *args, **kwargs: {key: value for key, value in build(*args, **kwargs).items() if key != "labels"})
    with pytest.raises(BackendError) as caught:
        AlertmanagerPager(alertmanager.url).trigger(CTX, new_key(), page())
    assert caught.value.retryable is False
    assert caught.value.status == 422
    assert "labels in body is required" in caught.value.message


@pytest.mark.parametrize("kwargs", [{"url": "alertmanager:9093"}, {"url": "http://u:p@am:9093"}, {"hold_hours": 0},
                                    {"hold_hours": "soon"}, {"username": "only-user"}])
def test_bad_configuration_is_not_retryable(kwargs):
    arguments = {"url": "http://127.0.0.1:9", **kwargs}
    with pytest.raises(BackendError) as caught:
        AlertmanagerPager(arguments.pop("url"), **arguments)
    assert caught.value.retryable is False


@pytest.mark.parametrize("key", ["", "a\nb", "x" * 256, None])
def test_bad_dedup_key_fails_before_sending(key):
    with pytest.raises(BackendError) as caught:
        AlertmanagerPager(f"http://127.0.0.1:{free_port()}").trigger(CTX, key, page())
    assert caught.value.retryable is False


def test_base_url_forms():
    for url in ("http://am.example:9093", "http://am.example:9093/", "http://am.example:9093/api/v2", "http://am.example:9093/api/v2/alerts"):
        pager = AlertmanagerPager(url)
        assert pager.alerts_url == "http://am.example:9093/api/v2/alerts"
        assert pager.name == "alertmanager"
