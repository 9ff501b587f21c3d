# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unusual behaviour of processes, run after run: each run records its facts in a real SQLite
state store and is evaluated with the history read back (``history.remember``), as the evaluate
action does; the tests assert each run's alarms.

Restart loops (P1), memory growing steadily (P3) and CPU or memory far from the process's own
baseline (P4), with the edges: a first run without history, gaps, a restart that starts the
memory fit again, a clock set back, a renamed host, values that are missing or NaN.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils import behaviour
from ansible_collections.imagicle.proactive.plugins.plugin_utils.history import History, process_metric, remember
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import (
    RulesError,
    apply_overrides,
    evaluate_facts,
    history_windows,
    load_catalogue,
)
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store

from .health_fixture import healthy_health

CATALOGUE = load_catalogue()
BEHAVIOUR_RULES = ("process_restart_loop", "process_memory_growing", "process_unusual_behaviour")
# The rules of the default catalogue that the tests below make fire (test_rules_evaluate checks
# that every rule of the catalogue fires in some test).
EXERCISED = set(BEHAVIOUR_RULES)
MB = 1048576
# A Monday, 10:00 UTC.
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
EPOCH0 = T0.timestamp() - 86400  # every process started a day before T0


def facts(**changes) -> dict:
    """Healthy facts whose process items get ``changes[process id]`` (a mapping of fields)."""
    health = healthy_health()
    for item in health["processes"]["items"]:
        item["start_time_epoch"] = EPOCH0
        item.update(changes.get(item["id"], {}))
    return health


class Runs:
    """A host evaluated run after run against one SQLite state store."""

    def __init__(self, tmp_path, catalogue=CATALOGUE, host="ias-a"):
        self.path = str(tmp_path / "state.sqlite")
        self.catalogue = catalogue
        self.host = host

    def store(self):
        return open_store(self.path, "state store")

    def run(self, health, at, host=None):
        """This run's alarms of the unusual-behaviour rules, as (rule, subject, priority), and the alarms."""
        host = host or self.host
        remembered = remember(self.store, host, health, at, windows=history_windows(self.catalogue))
        assert remembered.warnings == ()
        alarms = evaluate_facts(health, host=host, customer="acme", catalogue=self.catalogue, detected_at=at,
                                history=remembered.history)[0]
        found = [alarm for alarm in alarms if alarm.rule in BEHAVIOUR_RULES]
        return [(alarm.rule, alarm.subject, alarm.priority) for alarm in found], found

    def record(self, process, field, points):
        """Earlier history of one process metric, written straight into the store, then compacted."""
        with self.store() as store:
            for when, value in points:
                store.record_metrics(self.host, when, {process_metric(process, field): value})
            if points:
                store.compact_metrics(max(when for when, dummy in points), host=self.host)


# --- restart loop ---------------------------------------------------------------------------------

def restarting(run_index: int, restarts_at=(1, 2, 3)) -> float:
    """The start time of a process that restarts at the given runs (5 minutes apart)."""
    done = [index for index in restarts_at if index <= run_index]
    return EPOCH0 if not done else T0.timestamp() + 300 * done[-1] - 30


def test_a_process_restarting_again_and_again_is_one_p1_while_it_loops(tmp_path):
    runs = Runs(tmp_path)
    seen = []
    for index in range(16):  # every 5 minutes from T0 to T0 + 75 min
        at = T0 + timedelta(minutes=5 * index)
        found, alarms = runs.run(facts(ivr={"start_time_epoch": restarting(index)}), at)
        seen.append(found)
        if index == 3:
            [alarm] = alarms
            assert alarm.title == "Process restarting again and again"
            assert alarm.evidence["restarts"] == 3 and alarm.evidence["window_minutes"] == 60
            assert alarm.evidence["restart_times"] == "2026-11-23T10:04:30Z, 2026-11-23T10:09:30Z, 2026-11-23T10:14:30Z"
            assert alarm.evidence["running"] is True
            assert alarm.summary == ("IVR (ivr) restarted 3 times within 60 min (started at 2026-11-23T10:04:30Z, "
                                     "2026-11-23T10:09:30Z, 2026-11-23T10:14:30Z)")
    loop = [("process_restart_loop", "ivr", "P1")]
    # Runs 0-2: first run, one restart, two restarts; 3-13: three restarts within the hour (run 13,
    # at 11:05, still sees the first restart, seen at 10:05, at the edge of its window); then two.
    assert seen == [[]] * 3 + [loop] * 11 + [[]] * 2


def test_fewer_restarts_than_a_loop_hold_an_open_loop_case_until_a_window_without_one(tmp_path):
    runs = Runs(tmp_path)
    holds = []
    for index in range(16):
        at = T0 + timedelta(minutes=5 * index)
        health = facts(ivr={"start_time_epoch": restarting(index)})
        remembered = remember(runs.store, runs.host, health, at, windows=history_windows(CATALOGUE))
        no_data = evaluate_facts(health, host="ias-a", customer="acme", catalogue=CATALOGUE, detected_at=at,
                                 history=remembered.history)[1]
        holds.append([(gap.subject, gap.quiet) for gap in no_data if gap.rule == "process_restart_loop"])
    held = [("ivr", True)]
    # One or two restarts within the hour (runs 1-2, and 14-15 as the restarts leave the window): no alarm,
    # and a quiet hold that keeps an open loop case from being resolved while the process still restarts.
    assert holds == [[]] + [held] * 2 + [[]] * 11 + [held] * 2
    assert runs.run(facts(ivr={"start_time_epoch": restarting(3)}), T0 + timedelta(minutes=80))[0] == []
    remembered = remember(runs.store, runs.host, facts(ivr={"start_time_epoch": restarting(3)}), T0 + timedelta(minutes=85),
                          windows=history_windows(CATALOGUE))
    no_data = evaluate_facts(facts(ivr={"start_time_epoch": restarting(3)}), host="ias-a", customer="acme", catalogue=CATALOGUE,
                             detected_at=T0 + timedelta(minutes=85), history=remembered.history)[1]
    assert not [gap for gap in no_data if gap.rule == "process_restart_loop"]  # a window without a restart: clear


def test_one_alarm_per_process_each_with_its_own_fingerprint(tmp_path):
    runs = Runs(tmp_path)
    for index in range(4):
        found, alarms = runs.run(facts(ivr={"start_time_epoch": restarting(index)},
                                       voip_stack={"start_time_epoch": restarting(index)}), T0 + timedelta(minutes=5 * index))
    assert sorted(found) == [("process_restart_loop", "ivr", "P1"), ("process_restart_loop", "voip_stack", "P1")]
    assert len({alarm.fingerprint for alarm in alarms}) == 2


def test_a_loop_is_still_seen_at_a_run_that_finds_the_process_down(tmp_path):
    runs = Runs(tmp_path)
    for index in range(3):
        runs.run(facts(ivr={"start_time_epoch": restarting(index, (1, 2))}), T0 + timedelta(minutes=5 * index))
    down = {"running": False, "count": 0, "pids": [], "cpu_percent": 0.0, "rss_bytes": 0, "start_time_epoch": None}
    assert runs.run(facts(ivr=down), T0 + timedelta(minutes=15))[0] == []
    # Back with a third start time: three restarts within the hour.
    found, dummy = runs.run(facts(ivr={"start_time_epoch": T0.timestamp() + 1170}), T0 + timedelta(minutes=20))
    assert found == [("process_restart_loop", "ivr", "P1")]
    found, dummy = runs.run(facts(ivr=down), T0 + timedelta(minutes=25))
    assert found == [("process_restart_loop", "ivr", "P1")]  # down now, and it looped within the hour


def test_a_first_run_a_renamed_host_and_sparse_runs_give_no_loop(tmp_path):
    runs = Runs(tmp_path)
    assert runs.run(facts(ivr={"start_time_epoch": restarting(3)}), T0)[0] == []
    for index in range(4):
        runs.run(facts(ivr={"start_time_epoch": restarting(index)}), T0 + timedelta(minutes=5 * index))
    # The same server under a new inventory name has no history: no alarm.
    assert runs.run(facts(ivr={"start_time_epoch": restarting(4)}), T0 + timedelta(minutes=20), host="ias-a-new")[0] == []
    # Runs an hour apart (a gap in the history): one restart per window is no loop.
    sparse = Runs(tmp_path / "sparse")
    (tmp_path / "sparse").mkdir()
    for index in range(6):
        found, dummy = sparse.run(facts(ivr={"start_time_epoch": T0.timestamp() + 3600 * index}), T0 + timedelta(hours=index))
        assert found == []


def test_a_clock_set_back_ignores_the_later_history(tmp_path):
    runs = Runs(tmp_path)
    for index in range(4):
        runs.run(facts(ivr={"start_time_epoch": restarting(index)}), T0 + timedelta(minutes=5 * index))
    # The controller's clock now says an hour earlier: what was recorded "later" is not history.
    assert runs.run(facts(ivr={"start_time_epoch": restarting(3)}), T0 - timedelta(hours=1))[0] == []


@pytest.mark.parametrize("bad", [math.nan, None, "1795000000", True, math.inf])
def test_a_start_time_that_is_not_a_number_is_no_restart(tmp_path, bad):
    runs = Runs(tmp_path)
    for index in range(5):
        start = bad if index % 2 else restarting(index)
        found, dummy = runs.run(facts(ivr={"start_time_epoch": start}), T0 + timedelta(minutes=5 * index))
        assert found == []


def test_the_restart_count_and_window_are_parameters(tmp_path):
    catalogue = apply_overrides(CATALOGUE, {"process_restart_loop": {"restarts": 2, "window_minutes": 10}}, "test")
    runs = Runs(tmp_path, catalogue)
    seen = [runs.run(facts(ivr={"start_time_epoch": restarting(index, (1, 2))}), T0 + timedelta(minutes=5 * index))[0]
            for index in range(5)]
    assert seen == [[], [], [("process_restart_loop", "ivr", "P1")], [("process_restart_loop", "ivr", "P1")], []]
    with pytest.raises(RulesError, match=r"window_minutes: 2000 is above the maximum 1440"):
        apply_overrides(CATALOGUE, {"process_restart_loop": {"window_minutes": 2000}}, "test")
    with pytest.raises(RulesError, match=r"restarts: 1 is below the minimum 2"):
        apply_overrides(CATALOGUE, {"process_restart_loop": {"restarts": 1}}, "test")


def test_many_restarts_list_the_latest_times():
    history = History({process_metric("ivr", "start_time_epoch"): tuple(
        (T0 + timedelta(minutes=5 * index), T0.timestamp() + 300 * index) for index in range(12))})
    now = T0 + timedelta(minutes=60)
    alarms = evaluate_facts(facts(ivr={"start_time_epoch": now.timestamp()}), host="ias-a", customer="acme",
                            catalogue=CATALOGUE, detected_at=now, history=history)[0]
    [alarm] = [alarm for alarm in alarms if alarm.rule == "process_restart_loop"]
    assert alarm.evidence["restarts"] == 12
    assert alarm.evidence["restart_times"].startswith("6 earlier, 2026-11-23T10:35:00Z, ")
    assert alarm.evidence["restart_times"].endswith(", 2026-11-23T11:00:00Z")


# --- memory growing -------------------------------------------------------------------------------

def leaking(hours: float, rng: random.Random, base=500.0, per_day=100.0, noise=3.0) -> int:
    return int((base + per_day * hours / 24 + rng.uniform(-noise, noise)) * MB)


def test_memory_growing_steadily_is_a_p3_after_a_day_and_a_restart_starts_the_fit_again(tmp_path):
    runs = Runs(tmp_path)
    rng = random.Random(7)
    seen = {}
    restart_at = 60
    for hour in range(0, 84, 2):
        at = T0 + timedelta(hours=hour)
        if hour < restart_at:
            fields = {"rss_bytes": leaking(hour, rng)}
        else:  # restarted at hour 60: small again and flat
            fields = {"rss_bytes": leaking(0, rng, base=300.0, per_day=0.0), "start_time_epoch": T0.timestamp() + 3600 * restart_at - 60}
        found, alarms = runs.run(facts(call_recording=fields), at)
        seen[hour] = found
        if hour == 48:
            [alarm] = alarms
            evidence = alarm.evidence
            assert 90 <= evidence["slope_mb_per_day"] <= 110
            assert 10 <= evidence["growth_percent_per_day"] <= 20
            assert evidence["rising_share"] >= 0.9 and evidence["since"] == "2026-11-23T10:00:00Z"
            assert evidence["points"] == 25 and evidence["span_hours"] == 48.0
            assert evidence["limit_mb"] is None and evidence["limit_eta"] is None
            assert alarm.summary.startswith("Call Recording (call_recording) memory grows ")
            assert alarm.summary.endswith(" since 2026-11-23T10:00:00Z, now %.1f MB" % evidence["rss_mb"])
    growing = [("process_memory_growing", "call_recording", "P3")]
    assert all(seen[hour] == [] for hour in range(0, 24, 2))  # less than a day of history
    assert all(seen[hour] == growing for hour in range(24, restart_at, 2))
    assert all(seen[hour] == [] for hour in range(restart_at, 84, 2))  # the fit starts again at the restart


def test_a_restart_starts_the_fit_again_even_when_memory_does_not_fall(tmp_path):
    runs = Runs(tmp_path)
    rng = random.Random(8)
    seen = {}
    for hour in range(0, 72, 2):
        if hour < 40:
            fields = {"rss_bytes": leaking(hour, rng)}
        else:  # restarted at hour 40 and at once as big as before, then level
            fields = {"rss_bytes": leaking(0, rng, base=500.0 + 100.0 * 40 / 24, per_day=0.0),
                      "start_time_epoch": T0.timestamp() + 3600 * 40 - 60}
        seen[hour] = runs.run(facts(voip_stack=fields), T0 + timedelta(hours=hour))[0]
    assert seen[38] == [("process_memory_growing", "voip_stack", "P3")]
    # Since the restart: level, and first too short to judge.
    assert all(seen[hour] == [] for hour in range(40, 72, 2))


def test_noisy_memory_whose_line_rises_is_not_steady_growth():
    rng = random.Random(3)
    points = [(T0 + timedelta(hours=hour), leaking(hour, rng, base=1000.0, per_day=60.0, noise=100.0)) for hour in range(0, 50, 2)]
    now = T0 + timedelta(hours=48)
    growth = behaviour.memory_growth(points, now, window=timedelta(days=7), min_points=12, min_span=timedelta(hours=24))
    # The line rises by more than 5 % a day, but between too few pairs of values.
    assert growth.percent_per_day > 5 and growth.slope_per_day > 10 * MB and growth.rising_share < 0.75
    history = History({process_metric("ivr", "rss_bytes"): tuple(points[:-1])})
    health = facts(ivr={"rss_bytes": points[-1][1]})
    alarms = evaluate_facts(health, host="ias-a", customer="acme", catalogue=CATALOGUE, detected_at=now, history=history)[0]
    assert [alarm for alarm in alarms if alarm.rule in BEHAVIOUR_RULES] == []
    steady = [(when, leaking((when - T0).total_seconds() / 3600, rng, base=1000.0, per_day=60.0, noise=5.0))
              for when, dummy in points]
    alarms = evaluate_facts(facts(ivr={"rss_bytes": steady[-1][1]}), host="ias-a", customer="acme", catalogue=CATALOGUE,
                            detected_at=now, history=History({process_metric("ivr", "rss_bytes"): tuple(steady[:-1])}))[0]
    assert [alarm.rule for alarm in alarms if alarm.rule in BEHAVIOUR_RULES] == ["process_memory_growing"]


def test_memory_that_stays_level_or_saws_is_not_growing(tmp_path):
    runs = Runs(tmp_path)
    rng = random.Random(3)
    for hour in range(0, 72, 2):
        flat = leaking(hour, rng, base=800.0, per_day=0.0, noise=40.0)
        saw = int((600 + 100 * ((hour % 12) / 12.0)) * MB)  # climbs 100 MB, freed every 12 hours
        slow = leaking(hour, rng, base=2000.0, per_day=20.0, noise=1.0)  # 1 % a day: below 5 %
        found, dummy = runs.run(facts(ivr={"rss_bytes": flat}, voip_stack={"rss_bytes": saw},
                                      call_analytics={"rss_bytes": slow}), T0 + timedelta(hours=hour))
        assert found == []


def test_a_growth_below_the_floor_in_mb_is_not_reported(tmp_path):
    runs = Runs(tmp_path)
    rng = random.Random(5)
    for hour in range(0, 40, 2):  # 20 MB process growing 2 MB a day: 10 % a day but 2 MB
        found, dummy = runs.run(facts(ivr={"rss_bytes": leaking(hour, rng, base=20.0, per_day=2.0, noise=0.1)}),
                                T0 + timedelta(hours=hour))
        assert found == []


def test_a_memory_limit_gives_the_time_it_is_reached(tmp_path):
    catalogue = apply_overrides(CATALOGUE, {"process_memory_growing": {"limit_mb": 1000}}, "test")
    runs = Runs(tmp_path, catalogue)
    rng = random.Random(9)
    for hour in range(0, 50, 2):
        found, alarms = runs.run(facts(ivr={"rss_bytes": leaking(hour, rng, noise=1.0)}), T0 + timedelta(hours=hour))
    [alarm] = alarms
    # ~700 MB at hour 48, 100 MB a day: the 1000 MB limit in about 3 days.
    eta = datetime.fromisoformat(alarm.evidence["limit_eta"].replace("Z", "+00:00"))
    assert timedelta(days=2.7) <= eta - (T0 + timedelta(hours=48)) <= timedelta(days=3.3)
    assert alarm.evidence["limit_mb"] == 1000
    assert "; reaches its 1000 MB limit on 2026-11-2" in alarm.summary and alarm.summary.endswith("(in 3 days)")


def test_memory_history_with_gaps_and_nan_values(tmp_path):
    runs = Runs(tmp_path)
    rng = random.Random(11)
    seen = {}
    for hour in range(0, 70, 2):
        if 10 <= hour < 40:
            continue  # the controller did not run for more than a day
        rss = math.nan if hour % 6 == 0 else leaking(hour, rng)
        seen[hour] = runs.run(facts(ivr={"rss_bytes": rss}), T0 + timedelta(hours=hour))[0]
    # Measured values: 2, 4, 8, then 40, 44, 46, 50, 52, 56, 58, 62, 64 (the 12th), 68. The values
    # before and after the gap still make a steady line once 12 of them exist; a run whose
    # value is NaN is not judged.
    growing = [("process_memory_growing", "ivr", "P3")]
    assert {hour for hour, found in seen.items() if found} == {64, 68}
    assert seen[64] == seen[68] == growing


# --- unusual against the baseline ---------------------------------------------------------------

def every(start, end, step, value):
    """Points from ``start`` to before ``end`` every ``step``, valued ``value(time)``."""
    out, when = [], start
    while when < end:
        out.append((when, value(when)))
        when += step
    return out


def test_cpu_far_above_its_whole_window_baseline_is_a_p4(tmp_path):
    runs = Runs(tmp_path)
    rng = random.Random(1)
    runs.record("ivr", "cpu_percent", every(T0 - timedelta(days=3), T0, timedelta(minutes=15),
                                            lambda when: 5.0 + rng.uniform(-1, 1)))
    found, alarms = runs.run(facts(ivr={"cpu_percent": 60.0}), T0)
    assert found == [("process_unusual_behaviour", "ivr/cpu", "P4")]
    evidence = alarms[0].evidence
    assert evidence["basis"] == "whole window" and evidence["points"] == 288 and evidence["unit"] == "%"
    assert 4.5 <= evidence["median"] <= 5.5 and evidence["value"] == 60.0 and evidence["limit"] < 15
    assert alarms[0].summary.startswith("IVR (ivr) CPU is 60.0 %, usually ")
    assert alarms[0].summary.endswith("baseline by whole window of 288 values)")
    # Above median + 6 MAD but less than 20 points above the median: not unusual enough.
    assert runs.run(facts(ivr={"cpu_percent": 20.0}), T0 + timedelta(minutes=5))[0] == []
    assert runs.run(facts(ivr={"cpu_percent": 6.0}), T0 + timedelta(minutes=10))[0] == []


def test_no_baseline_without_enough_history(tmp_path):
    runs = Runs(tmp_path)
    assert runs.run(facts(ivr={"cpu_percent": 99.0, "rss_bytes": 5000 * MB}), T0)[0] == []  # the first run
    runs.record("ivr", "cpu_percent", every(T0 - timedelta(hours=30), T0, timedelta(minutes=5), lambda when: 5.0))
    assert runs.run(facts(ivr={"cpu_percent": 99.0}), T0 + timedelta(minutes=5))[0] == []  # 30 h < 48 h
    # 48 hours, but only 20 values: a history with gaps is not judged.
    other = Runs(tmp_path / "sparse")
    (tmp_path / "sparse").mkdir()
    other.record("ivr", "cpu_percent", every(T0 - timedelta(days=3), T0, timedelta(hours=3.6), lambda when: 5.0))
    assert other.run(facts(ivr={"cpu_percent": 99.0}), T0)[0] == []


def test_a_gap_before_this_run_is_neither_a_value_nor_a_reason(tmp_path):
    runs = Runs(tmp_path)
    rng = random.Random(2)
    runs.record("ivr", "cpu_percent", every(T0 - timedelta(days=5), T0 - timedelta(days=2), timedelta(minutes=5),
                                            lambda when: 30.0 + rng.uniform(-2, 2)))
    # Two days without values, then the usual level: nothing to report.
    assert runs.run(facts(ivr={"cpu_percent": 31.0}), T0)[0] == []
    # A missing or NaN value this run is not measured, so it is not judged.
    assert runs.run(facts(ivr={"cpu_percent": math.nan}), T0 + timedelta(minutes=5))[0] == []
    assert runs.run(facts(ivr={"cpu_percent": None}), T0 + timedelta(minutes=10))[0] == []


def test_the_hour_of_the_week_is_the_baseline_once_three_weeks_are_known(tmp_path):
    runs = Runs(tmp_path)
    rng = random.Random(4)

    def weekly(when):  # busy on Monday mornings (10:00-11:00 UTC), idle otherwise
        return (70.0 if behaviour.hour_of_week(when) == 10 else 5.0) + rng.uniform(-2, 2)
    runs.record("ivr", "cpu_percent", every(T0 - timedelta(days=27), T0, timedelta(minutes=10), weekly))
    # Monday 10:20: busy as every Monday morning.
    assert runs.run(facts(ivr={"cpu_percent": 72.0}), T0 + timedelta(minutes=20))[0] == []
    # Monday 12:20: the same load two hours later is unusual for that hour.
    found, alarms = runs.run(facts(ivr={"cpu_percent": 72.0}), T0 + timedelta(hours=2, minutes=20))
    assert found == [("process_unusual_behaviour", "ivr/cpu", "P4")]
    assert alarms[0].evidence["basis"] == "hour of week" and alarms[0].evidence["median"] < 8


def test_memory_far_above_its_baseline_and_not_just_above(tmp_path):
    runs = Runs(tmp_path)
    rng = random.Random(6)
    runs.record("ivr", "rss_bytes", every(T0 - timedelta(days=3), T0, timedelta(minutes=15),
                                          lambda when: (300 + rng.uniform(-5, 5)) * MB))
    assert runs.run(facts(ivr={"rss_bytes": 400 * MB}), T0)[0] == []  # far in MADs, but not 1.5 times
    found, alarms = runs.run(facts(ivr={"rss_bytes": 700 * MB}), T0 + timedelta(minutes=5))
    assert found == [("process_unusual_behaviour", "ivr/memory", "P4")]
    assert alarms[0].evidence["unit"] == "MB" and 295 <= alarms[0].evidence["median"] <= 305
    assert alarms[0].summary.startswith("IVR (ivr) memory is 700.0 MB, usually 3")


def test_a_process_that_just_started_is_not_judged_and_history_later_than_now_is_ignored(tmp_path):
    runs = Runs(tmp_path)
    runs.record("ivr", "cpu_percent", every(T0 - timedelta(days=3), T0, timedelta(minutes=15), lambda when: 5.0))
    started = {"cpu_percent": 90.0, "start_time_epoch": T0.timestamp() - 300}
    assert runs.run(facts(ivr=started), T0)[0] == []
    # The clock set back by four days: every recorded value is "later", so there is no history.
    assert runs.run(facts(ivr={"cpu_percent": 90.0}), T0 - timedelta(days=4))[0] == []
    assert runs.run(facts(ivr={"cpu_percent": 90.0}), T0 + timedelta(minutes=5))[0] == [
        ("process_unusual_behaviour", "ivr/cpu", "P4")]
    # Under a new host name nothing is known.
    assert runs.run(facts(ivr={"cpu_percent": 90.0}), T0 + timedelta(minutes=10), host="ias-renamed")[0] == []


# --- the parts -----------------------------------------------------------------------------------

def test_without_history_the_behaviour_rules_never_fire():
    health = facts(ivr={"cpu_percent": 99.0, "rss_bytes": 9000 * MB, "restarted": True})
    alarms = evaluate_facts(health, host="ias-a", customer="acme", catalogue=CATALOGUE, detected_at=T0)[0]
    assert [alarm for alarm in alarms if alarm.rule in BEHAVIOUR_RULES] == []


def test_restarts_within_counts_changes_seen_in_the_window():
    points = [(T0 + timedelta(minutes=5 * index), value) for index, value in enumerate([100.0, 100.5, 200.0, 150.0, 300.0])]
    # 100.5 is the same start (within a second), 150 goes back (a host clock set back).
    assert behaviour.restarts_within(points, T0 + timedelta(minutes=20), timedelta(hours=1)) == [
        (T0 + timedelta(minutes=10), 200.0), (T0 + timedelta(minutes=20), 300.0)]
    assert behaviour.restarts_within(points, T0 + timedelta(minutes=20), timedelta(minutes=5)) == [
        (T0 + timedelta(minutes=20), 300.0)]
    assert behaviour.restarts_within(points, T0 + timedelta(minutes=25), timedelta(hours=1), current=400.0)[-1] == (
        T0 + timedelta(minutes=25), 400.0)
    assert behaviour.restarts_within([], T0, timedelta(hours=1), current=400.0) == []


def test_memory_growth_bounds_its_work():
    points = [(T0 + timedelta(minutes=index), 100.0 + index) for index in range(20000)]
    growth = behaviour.memory_growth(points, T0 + timedelta(minutes=20000), window=timedelta(days=28), min_points=10,
                                     min_span=timedelta(hours=1))
    assert growth.fit.n == behaviour.GROWTH_MAX_POINTS and growth.points == 20000
    assert growth.rising_share == 1.0 and math.isclose(growth.slope_per_day, 1440.0)
