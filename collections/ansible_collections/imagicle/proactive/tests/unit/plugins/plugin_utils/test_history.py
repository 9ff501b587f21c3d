# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an evaluation records of a host's facts (only measured values), what it reads back
(the window each metric's rules need), that it compacts once an hour, and that a state store it
cannot use is a warning, never a host left unevaluated."""

from __future__ import annotations

import contextlib
import math
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings

from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import (
    PREDICTION_WINDOW,
    apply_overrides,
    evaluate_facts,
    history_windows,
    load_catalogue,
    metric_kind,
)
from ansible_collections.imagicle.proactive.plugins.plugin_utils.history import (
    DATABASE_USED_PERCENT,
    History,
    capacity_metric,
    disk_metric,
    history_names,
    host_metrics,
    process_metric,
    remember,
    space_metrics,
)
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import StoreError, open_store

from .health_fixture import healthy_health
from .test_pipeline_properties import facts as any_facts

NOW = datetime(2026, 11, 26, 5, 40, tzinfo=timezone.utc)
PROCESSES = ("voip_stack", "call_recording", "advanced_queuing", "ivr", "call_analytics", "web_portal")
HEALTHY_METRICS = {
    "disk:/:used_percent": 30.0,
    "disk:/:total_bytes": 41943040000.0,
    "disk:/srv/appsuite:used_percent": 1.67,
    "disk:/srv/appsuite:total_bytes": 60000000.0,
    "database:used_percent": 12.5,
}


# --- facts -> metrics ----------------------------------------------------------------------------

def test_every_measured_disk_and_the_database_give_their_metrics():
    metrics = space_metrics(healthy_health())
    assert metrics == HEALTHY_METRICS
    assert all(isinstance(value, float) for value in metrics.values())
    assert disk_metric("/srv/appsuite", "used_percent") == "disk:/srv/appsuite:used_percent"
    assert DATABASE_USED_PERCENT == "database:used_percent"


def edited(edit):
    health = healthy_health()
    edit(health)
    return health


@pytest.mark.parametrize("edit, missing", [
    (lambda h: h["disks"]["items"][1].update(used_percent=None), ["disk:/srv/appsuite:used_percent"]),
    (lambda h: h["disks"]["items"][1].update(used_percent=math.nan, total_bytes="60 MB"),
     ["disk:/srv/appsuite:used_percent", "disk:/srv/appsuite:total_bytes"]),
    (lambda h: h["disks"]["items"][1].update(used_percent=True), ["disk:/srv/appsuite:used_percent"]),
    (lambda h: h["disks"]["items"][1].update(error="cannot stat /srv/appsuite"),
     ["disk:/srv/appsuite:used_percent", "disk:/srv/appsuite:total_bytes"]),
    (lambda h: h["disks"].update(items=None), [name for name in HEALTHY_METRICS if name.startswith("disk:")]),
    (lambda h: h.pop("disks"), [name for name in HEALTHY_METRICS if name.startswith("disk:")]),
    (lambda h: h["database"].update(used_percent=None, limit_bytes=None), ["database:used_percent"]),
    (lambda h: h["database"].update(configured=False), ["database:used_percent"]),
    (lambda h: h["database"].update(error="login failed"), ["database:used_percent"]),
    (lambda h: h.update(database="not a section"), ["database:used_percent"]),
    (lambda h: h["disks"]["items"].insert(0, "not a disk"), []),
])
def test_what_is_not_measured_is_not_recorded(edit, missing):
    expected = {name: value for name, value in HEALTHY_METRICS.items() if name not in missing}
    assert space_metrics(edited(edit)) == expected


@pytest.mark.parametrize("health", [None, "facts", {}, {"schema_version": 2, "disks": {"items": []}}])
def test_unusable_facts_record_nothing(health):
    assert space_metrics(health) == {}
    assert host_metrics(health) == {} and history_names(health) == []


def test_every_number_a_rule_reads_is_a_metric():
    metrics = host_metrics(healthy_health())
    expected = dict(HEALTHY_METRICS)
    for process in PROCESSES:
        expected.update({process_metric(process, "cpu_percent"): 1.5, process_metric(process, "rss_bytes"): 31000000.0,
                         process_metric(process, "start_time_epoch"): 1795000000.12})
    expected.update({capacity_metric("call_recording", "in_use"): 2.0, capacity_metric("call_recording", "licensed"): 8.0,
                     capacity_metric("advanced_queuing", "in_use"): 1.0, capacity_metric("advanced_queuing", "licensed"): 10.0,
                     capacity_metric("ivr", "in_use"): 0.0, capacity_metric("ivr", "licensed"): 4.0,
                     "webserver:latency_ms": 12.3, "cloud:latency_ms": 3.1,
                     "replication:healthy": 1.0, "replication:clock_skew_seconds": 0.4})
    assert metrics == expected
    assert all(isinstance(value, float) and not isinstance(value, bool) for value in metrics.values())


def _items(health, section="processes"):
    return health[section]["items"]


@pytest.mark.parametrize("edit, missing", [
    (lambda h: _items(h)[0].update(running=False, cpu_percent=0.0, rss_bytes=0, start_time_epoch=None),
     [process_metric("voip_stack", f) for f in ("cpu_percent", "rss_bytes", "start_time_epoch")]),
    (lambda h: _items(h)[0].update(running=None), [process_metric("voip_stack", f) for f in ("cpu_percent", "rss_bytes", "start_time_epoch")]),
    (lambda h: _items(h)[0].update(error="access denied"),
     [process_metric("voip_stack", f) for f in ("cpu_percent", "rss_bytes", "start_time_epoch")]),
    (lambda h: _items(h)[1].update(cpu_percent=math.nan, rss_bytes="31 MB", start_time_epoch=True),
     [process_metric("call_recording", f) for f in ("cpu_percent", "rss_bytes", "start_time_epoch")]),
    (lambda h: _items(h)[1].update(cpu_percent=None), [process_metric("call_recording", "cpu_percent")]),
    (lambda h: h["processes"].update(error="psutil missing"),
     [process_metric(p, f) for p in PROCESSES for f in ("cpu_percent", "rss_bytes", "start_time_epoch")]),
    (lambda h: h["webserver"].update(up=False), ["webserver:latency_ms"]),
    (lambda h: h["webserver"].update(latency_ms=math.inf), ["webserver:latency_ms"]),
    (lambda h: h["cloud"].update(reachable=False), ["cloud:latency_ms"]),
    (lambda h: h["cloud"].update(latency_ms=None), ["cloud:latency_ms"]),
    (lambda h: h["capacity"]["apps"]["ivr"].update(error="Web API failed"),
     [capacity_metric("ivr", "in_use"), capacity_metric("ivr", "licensed")]),
    (lambda h: h["capacity"]["apps"]["ivr"].update(licensed=None), [capacity_metric("ivr", "licensed")]),
    (lambda h: h["capacity"].update(apps=["ivr"]), [capacity_metric(a, f) for a in ("call_recording", "advanced_queuing", "ivr")
                                                    for f in ("in_use", "licensed")]),
    (lambda h: h["replication"].update(configured=False), ["replication:healthy", "replication:clock_skew_seconds"]),
    (lambda h: h["replication"].update(healthy="yes", clock_skew_seconds=None),
     ["replication:healthy", "replication:clock_skew_seconds"]),
    (lambda h: h["replication"].update(error="no status file"), ["replication:healthy", "replication:clock_skew_seconds"]),
])
def test_what_a_run_did_not_measure_gives_no_metric(edit, missing):
    everything = host_metrics(healthy_health())
    metrics = host_metrics(edited(edit))
    assert metrics == {name: value for name, value in everything.items() if name not in missing}


def test_an_unhealthy_replication_is_zero_and_a_process_is_named_as_its_alarm():
    health = healthy_health()
    health["replication"]["healthy"] = False
    _items(health)[0]["id"] = "voip\x1bstack"
    _items(health)[1]["id"] = "voip\x1bstack"  # a second item with the same name: the first counts
    _items(health)[1]["rss_bytes"] = 1
    metrics = host_metrics(health)
    assert metrics["replication:healthy"] == 0.0
    assert metrics[process_metric("voip stack", "rss_bytes")] == 31000000.0


def test_a_process_that_is_down_still_has_its_history_read():
    health = healthy_health()
    _items(health)[0].update(running=False, start_time_epoch=None)
    assert process_metric("voip_stack", "start_time_epoch") not in host_metrics(health)
    assert process_metric("voip_stack", "start_time_epoch") in history_names(health)


def test_a_mount_is_named_as_its_alarm_and_the_first_of_two_counts():
    health = healthy_health()
    health["disks"]["items"][1]["mount"] = "/srv/odd\nname"
    health["disks"]["items"].append(dict(health["disks"]["items"][1], used_percent=99.0))
    metrics = space_metrics(health)
    assert metrics["disk:/srv/odd name:used_percent"] == 1.67


def test_history_answers_what_the_rules_ask():
    used = ((NOW, 1.0),)
    history = History({disk_metric("/", "used_percent"): used, DATABASE_USED_PERCENT: ((NOW, 2.0),)})
    assert history.disk("/") == ([(NOW, 1.0)], [])
    assert history.disk("/srv") == ([], [])
    assert history.database() == [(NOW, 2.0)]
    assert History().database() == []


# --- remember ------------------------------------------------------------------------------------

def opener(path):
    return lambda: open_store(str(path), "state store")


def test_remember_records_and_reads_back_the_window(tmp_path):
    path = tmp_path / "state.sqlite"
    health = healthy_health()
    for days in (9, 6, 3, 1):  # the first is older than the window of 7 days
        health["database"]["used_percent"] = 20.0 - days
        remember(opener(path), "ias-a", health, NOW - timedelta(days=days))
    remembered = remember(opener(path), "ias-a", healthy_health(), NOW)
    assert remembered.warnings == () and remembered.recorded == len(host_metrics(healthy_health())) == 33
    expected = [(NOW - timedelta(days=6), 14.0), (NOW - timedelta(days=3), 17.0), (NOW - timedelta(days=1), 19.0), (NOW, 12.5)]
    assert remembered.history.database() == expected
    assert remembered.history.disk("/")[1][-1] == (NOW, 41943040000.0)
    # Read back: what a rule reads (space, processes and capacity), not what only the report shows.
    assert set(remembered.history.series) == set(HEALTHY_METRICS) | {
        process_metric(process, field) for process in PROCESSES for field in ("cpu_percent", "rss_bytes", "start_time_epoch")} | {
        capacity_metric(app, field) for app in ("call_recording", "advanced_queuing", "ivr") for field in ("in_use", "licensed")}
    with open_store(str(path)) as store:
        # Older than 7 days: kept as the mean of its hour.
        assert store.metrics("ias-a", DATABASE_USED_PERCENT, NOW - timedelta(days=30))[0] == (
            datetime(2026, 11, 17, 5, 0, tzinfo=timezone.utc), 11.0)
        assert store.metrics("ias-b", DATABASE_USED_PERCENT, NOW - timedelta(days=30)) == []


def test_check_mode_reads_and_records_nothing(tmp_path):
    path = tmp_path / "state.sqlite"
    remember(opener(path), "ias-a", healthy_health(), NOW - timedelta(days=7.5))
    remember(opener(path), "ias-a", healthy_health(), NOW - timedelta(days=1))
    with open_store(str(path)) as store:
        before = store.metrics("ias-a", DATABASE_USED_PERCENT, NOW - timedelta(days=30))
    remembered = remember(opener(path), "ias-a", healthy_health(), NOW, record=False)
    assert remembered.recorded == 0 and remembered.history.database() == [(NOW - timedelta(days=1), 12.5)]
    with open_store(str(path)) as store:
        assert store.metrics("ias-a", DATABASE_USED_PERCENT, NOW - timedelta(days=30)) == before
    assert before[0] == (NOW - timedelta(days=7.5), 12.5)  # not compacted either


def test_nothing_measured_opens_no_store():
    def fail():
        raise AssertionError("the store was opened")
    remembered = remember(fail, "ias-a", None, NOW)
    assert (remembered.history, remembered.warnings) == (None, ())


def test_a_store_that_cannot_be_opened_is_a_warning(tmp_path):
    remembered = remember(opener(tmp_path), "ias-a", healthy_health(), NOW)  # a directory
    assert remembered.history is None
    [warning] = remembered.warnings
    assert warning.startswith("host ias-a: the metric history in the state store could not be used (state store sqlite://%s: "
                              % tmp_path)
    assert "evaluated on this run's facts only" in warning
    assert "IMAGICLE_STATE_STORE, else [imagicle_cases] store in ansible.cfg" in warning


def test_any_failure_of_the_store_or_its_setting_is_a_warning():
    def broken_setting():
        raise RuntimeError("the [imagicle_cases] section of ansible.cfg cannot be read")
    remembered = remember(broken_setting, "ias-a", healthy_health(), NOW)
    assert remembered.history is None and "cannot be read" in remembered.warnings[0]


class ReadFails:
    """A store that takes values but cannot read them, or cannot compact them."""

    def __init__(self, real, fail):
        self.real, self.fail = real, fail

    def __getattr__(self, name):
        if name == self.fail:
            def failing(*args, **kwargs):
                raise StoreError("state store sqlite:///x: cannot %s: disk I/O error" % name)
            return failing
        return getattr(self.real, name)


def test_a_store_that_cannot_be_read_is_a_warning(tmp_path):
    @contextlib.contextmanager
    def store():
        with open_store(str(tmp_path / "s.sqlite")) as real:
            yield ReadFails(real, "metrics")
    remembered = remember(store, "ias-a", healthy_health(), NOW)
    assert remembered.history is None and "cannot metrics: disk I/O error" in remembered.warnings[0]


def test_a_compaction_that_fails_keeps_the_history_with_a_warning(tmp_path):
    @contextlib.contextmanager
    def store():
        with open_store(str(tmp_path / "s.sqlite")) as real:
            yield ReadFails(real, "compact_metrics")
    remembered = remember(store, "ias-a", healthy_health(), NOW)
    assert remembered.history.database() == [(NOW, 12.5)]
    [warning] = remembered.warnings
    assert warning.startswith("host ias-a: old metric history was not compacted this run (state store sqlite:///x: cannot "
                              "compact_metrics: disk I/O error); it is tried again by the first evaluation of the next hour")


def test_remember_compacts_the_hosts_old_history(tmp_path):
    path = tmp_path / "state.sqlite"
    with open_store(str(path)) as store:
        for minutes in range(0, 60, 15):
            store.record_metrics("ias-a", NOW - timedelta(days=10, minutes=minutes), {DATABASE_USED_PERCENT: minutes})
    remember(opener(path), "ias-a", healthy_health(), NOW)
    with open_store(str(path)) as store:
        old = store.metrics("ias-a", DATABASE_USED_PERCENT, NOW - timedelta(days=30))
    # 04:55 alone in its hour, 05:10, 05:25 and 05:40 in the next.
    assert old[:2] == [(datetime(2026, 11, 16, 4, 0, tzinfo=timezone.utc), 45.0),
                       (datetime(2026, 11, 16, 5, 0, tzinfo=timezone.utc), 15.0)]
    assert old[2] == (NOW, 12.5)


def test_each_kind_is_read_as_far_back_as_its_rules_need():
    assert history_windows() == {
        "disk": PREDICTION_WINDOW, "database": PREDICTION_WINDOW,
        "process:start_time_epoch": timedelta(days=1, minutes=60),  # the restart loop's window and a day before it
        "process:rss_bytes": timedelta(days=28),         # the baseline's
        "process:cpu_percent": timedelta(days=28),
        "capacity": timedelta(days=28)}                  # the daily peaks of 28 days (and the day of now, capped)
    assert history_windows(load_catalogue()) == history_windows()
    catalogue = apply_overrides(load_catalogue(), {
        "process_unusual_behaviour": {"enabled": False}, "process_memory_growing": {"window_days": 2},
        "process_restart_loop": {"window_minutes": 1440}, "database_space": {"enabled": False},
        "recording_channels_running_out": {"enabled": False}, "qme_licences_running_out": {"window_days": 7},
        "ivr_licences_running_out": {"window_days": 10}}, "test")
    assert history_windows(catalogue) == {"disk": PREDICTION_WINDOW, "process:start_time_epoch": timedelta(days=2),
                                          "process:rss_bytes": timedelta(days=2), "capacity": timedelta(days=11)}
    assert [metric_kind(name) for name in ("disk:/a:b:used_percent", DATABASE_USED_PERCENT, process_metric("a:b", "rss_bytes"),
                                           capacity_metric("ivr", "in_use"), "webserver:latency_ms")] == [
        "disk", "database", "process:rss_bytes", "capacity", "webserver"]
    assert PREDICTION_WINDOW == timedelta(days=7)


def test_a_kind_no_rule_reads_is_recorded_not_read_back(tmp_path):
    path = tmp_path / "state.sqlite"
    remember(opener(path), "ias-a", healthy_health(), NOW - timedelta(minutes=5))
    remembered = remember(opener(path), "ias-a", healthy_health(), NOW, windows={"database": timedelta(days=1)})
    assert set(remembered.history.series) == {DATABASE_USED_PERCENT}
    assert remembered.history.database() == [(NOW - timedelta(minutes=5), 12.5), (NOW, 12.5)]
    with open_store(str(path)) as store:
        assert len(store.metrics("ias-a", "cloud:latency_ms", NOW - timedelta(days=1))) == 2


def test_compaction_runs_once_an_hour(tmp_path):
    path = tmp_path / "state.sqlite"
    calls = []

    @contextlib.contextmanager
    def counting():
        with open_store(str(path)) as real:
            original = real.compact_metrics
            real.compact_metrics = lambda *args, **kwargs: calls.append(args[0]) or original(*args, **kwargs)
            yield real
    start = datetime(2026, 11, 26, 4, 50, tzinfo=timezone.utc)
    for minutes in range(0, 80, 5):  # 04:50 .. 06:05
        remember(counting, "ias-a", healthy_health(), start + timedelta(minutes=minutes))
    # The first run ever, then the first run of each new hour.
    assert calls == [start, datetime(2026, 11, 26, 5, 0, tzinfo=timezone.utc), datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc)]
    # A clock set back: the latest earlier run is in another hour, so it compacts.
    remember(counting, "ias-a", healthy_health(), start - timedelta(hours=2))
    assert len(calls) == 4


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(health=any_facts())
def test_any_facts_give_finite_metrics_and_a_first_run_changes_no_alarm(tmp_path, health):
    metrics = space_metrics(health)
    assert all(isinstance(value, float) and math.isfinite(value) for value in metrics.values())
    remembered = remember(opener(tmp_path / "state.sqlite"), "ias-a", health, NOW)
    assert remembered.warnings == ()
    catalogue = load_catalogue()
    options = {"host": "ias-a", "customer": "acme", "catalogue": catalogue, "detected_at": NOW}
    with_history = evaluate_facts(health, history=remembered.history, **options)
    without = evaluate_facts(health, **options)
    assert [alarm.to_dict() for alarm in with_history[0]] == [alarm.to_dict() for alarm in without[0]]
    assert with_history[1] == without[1]
