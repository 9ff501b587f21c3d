# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The metric history that case_info (and playbooks/explain.yml) shows for a host."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils.case_report import (
    HISTORY_MAX_POINTS,
    QueryError,
    history,
    history_days,
    report,
)
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
USED = "disk:/srv/appsuite:used_percent"


@pytest.fixture
def store(tmp_path):
    with open_store(str(tmp_path / "state.sqlite")) as opened:
        yield opened


def fill(store, host, hours, per_hour=0.125, start=49.0, every=timedelta(hours=1)):
    at = NOW - timedelta(hours=hours)
    value = start
    while at <= NOW:
        store.record_metrics(host, at, {USED: value, "database:used_percent": 20.0})
        at += every
        value += per_hour * every.total_seconds() / 3600


def test_the_history_gives_each_metric_its_values_range_and_trend(store):
    fill(store, "ias-a", 72)
    fill(store, "ias-b", 72, per_hour=1.0)
    shown = history(store, "ias-a", NOW, 7)
    disk = shown["metrics"][USED]
    assert disk["count"] == 73 and disk["min"] == 49.0 and disk["max"] == pytest.approx(58.0)
    assert disk["slope_per_day"] == pytest.approx(3.0) and disk["quality"] == 1.0
    assert disk["first_at"] == "2026-11-24T09:00:00Z" and disk["last_at"] == "2026-11-27T09:00:00Z"
    assert disk["points"][0] == ["2026-11-24T09:00:00Z", 49.0] and len(disk["points"]) == 73
    assert shown["metrics"]["database:used_percent"]["slope_per_day"] == 0.0
    assert shown["lines"][0].startswith("history of ias-a over the last 7 day(s), from ")
    assert any(line.startswith("  %s: 73 value(s) 2026-11-24 09:00 to 2026-11-27 09:00, min 49, max 58, last 58;"
                               " trend +3 a day (quality 1.00)" % USED) for line in shown["lines"])


def test_older_values_and_values_after_now_are_left_out(store):
    fill(store, "ias-a", 24 * 10)
    store.record_metrics("ias-a", NOW + timedelta(hours=2), {USED: 99.0})  # a clock that went backwards
    disk = history(store, "ias-a", NOW, 2)["metrics"][USED]
    assert disk["first_at"] == "2026-11-25T09:00:00Z" and disk["last"] != 99.0 and disk["max"] < 99.0


def test_many_values_are_shown_as_hourly_then_daily_means(store):
    fill(store, "ias-a", 24 * 3, every=timedelta(minutes=5))
    disk = history(store, "ias-a", NOW, 7)["metrics"][USED]
    assert disk["count"] == 865 and len(disk["points"]) == 73  # hourly means
    assert [at for at, dummy in disk["points"]][:2] == ["2026-11-24T09:00:00Z", "2026-11-24T10:00:00Z"]
    fill(store, "ias-b", 24 * 5, every=timedelta(minutes=5))
    disk = history(store, "ias-b", NOW, 7)["metrics"][USED]
    assert disk["count"] == 1441 and len(disk["points"]) == 6 <= HISTORY_MAX_POINTS  # daily means
    assert [at for at, dummy in disk["points"]][:2] == ["2026-11-22T00:00:00Z", "2026-11-23T00:00:00Z"]


def test_a_host_without_history_says_so_and_a_value_alone_has_no_trend(store):
    assert history(store, "ias-z", NOW, 7) == {"days": 7, "metrics": {}, "conditions": [], "lines": [
        "no metric history of ias-z in the last 7 day(s) in %s" % store.display]}
    store.record_metrics("ias-a", NOW, {USED: 50.0})
    shown = history(store, "ias-a", NOW, 7)
    assert shown["metrics"][USED]["slope_per_day"] is None and "too few values for a trend" in shown["lines"][1]


def test_the_report_adds_the_history_only_when_asked_and_for_one_host(store):
    fill(store, "ias-a", 24)
    assert "history" not in report(store, NOW, host="ias-a")
    found = report(store, NOW, host="ias-a", days="3")
    assert found["history"]["days"] == 3 and USED in found["history"]["metrics"]
    assert found["lines"][-3].startswith("history of ias-a")
    with pytest.raises(QueryError, match="history_days shows the metric history of one host: give host"):
        report(store, NOW, days=7)


@pytest.mark.parametrize("value", [-1, 401, "7 days", 1.5, True, "x"])
def test_a_bad_history_days_names_the_option_and_the_range(value):
    with pytest.raises(QueryError, match=r"history_days must be a whole number of days from 0 \(no history\) to 400"):
        history_days(value)


@pytest.mark.parametrize("value, days", [(None, 0), ("", 0), (0, 0), ("7", 7), (400, 400)])
def test_history_days(value, days):
    assert history_days(value) == days


def test_the_history_shows_the_changes_of_state_flapping_and_pending_streaks(store):
    from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import ConditionRecord

    changes = [NOW - timedelta(minutes=minutes) for minutes in (20, 15, 10, 5)]
    store.save_condition(ConditionRecord("f1", host="ias-a", rule="cloud_connection_failed", subject="", firing=True,
                                         changes=changes, flapping_since=NOW - timedelta(minutes=5)), NOW)
    store.save_condition(ConditionRecord("f2", host="ias-a", rule="disk_space", subject="/srv", streak=2,
                                         streak_since=NOW - timedelta(minutes=5)), NOW)
    store.save_condition(ConditionRecord("f3", host="ias-b", rule="disk_space", subject="/srv", firing=True), NOW)
    shown = history(store, "ias-a", NOW, 7)
    assert [c["fingerprint"] for c in shown["conditions"]] == ["f1", "f2"]
    assert shown["conditions"][0]["changes"] == ["2026-11-27T08:40:00Z", "2026-11-27T08:45:00Z", "2026-11-27T08:50:00Z",
                                                 "2026-11-27T08:55:00Z"]
    assert shown["conditions"][0]["flapping_since"] == "2026-11-27T08:55:00Z"
    assert "conditions of ias-a (changes of state, flapping, pending):" in shown["lines"]
    assert ("  condition cloud_connection_failed: firing; 4 recent change(s) of state (2026-11-27 08:40, 2026-11-27 08:45, "
            "2026-11-27 08:50, 2026-11-27 08:55); flapping since 2026-11-27 08:55") in shown["lines"]
    assert "  condition disk_space [/srv]: pending (2 run(s) in a row since 2026-11-27 08:55); 0 recent change(s) of state" \
        in shown["lines"]
