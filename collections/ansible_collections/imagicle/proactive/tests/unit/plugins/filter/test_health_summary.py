# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""health_summary and run_summary: readable lines that never fail, never forge a line, never leak a number."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.imagicle.proactive.plugins.filter.health_summary import (
    LINE_LIMIT,
    MAX_ITEMS,
    FilterModule,
    health_report,
    health_summary,
    run_summary,
)
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils.health_fixture import (
    SECTIONS,
    healthy_health,
    process,
)

HEALTHY_LINES = [
    "release: 2024.Winter.1",
    "system: cpu 12.5 %, memory 4.1 % used, load 0.1/0.2/0.3, up 6.2 days",
    "process voip_stack: running, pid 42, cpu 1.5 %, 30 MB",
    "process call_recording: running, pid 43, cpu 1.5 %, 30 MB",
    "process advanced_queuing: running, pid 44, cpu 1.5 %, 30 MB",
    "process ivr: running, pid 45, cpu 1.5 %, 30 MB",
    "process call_analytics: running, pid 46, cpu 1.5 %, 30 MB",
    "process web_portal: running, pid 47, cpu 1.5 %, 30 MB",
    "disk /: 30.0 % used, 28000 MB free",
    "disk /srv/appsuite: 1.7 % used, 56 MB free",
    "database (sqlite): 1.0 MB of 8 MB (12.5 %)",
    "web portal: up, HTTP 200 in 12 ms, certificate expires in 365 days",
    "capacity call_recording: 2 in use of 8 licensed",
    "capacity advanced_queuing: 1 in use of 10 licensed",
    "capacity ivr: 0 in use of 4 licensed",
    "replication: sync_ready with ias-b, clock skew 0.4 s",
    "cloud: reachable in 3 ms",
    "events: 1 new",
    "  error: 2026-11-26T05:39:58Z ERROR ias-recorder: disk write failed for +39 *** *** ****",
]


def registered(health):
    return {"changed": False, "ansible_facts": {"imagicle_health": health}}


def assert_clean(lines):
    assert isinstance(lines, list) and lines
    for line in lines:
        assert isinstance(line, str)
        assert "\n" not in line and "\r" not in line and len(line.splitlines()) <= 1, repr(line)
        assert len(line) <= LINE_LIMIT


def test_registered():
    assert set(FilterModule().filters()) == {"health_summary", "health_report", "run_summary"}


def test_a_healthy_host_from_the_registered_result_or_the_fact():
    assert health_summary(registered(healthy_health())) == HEALTHY_LINES
    assert health_summary(healthy_health()) == HEALTHY_LINES


def test_a_null_load_average_is_unknown():
    health = healthy_health()
    health["system"]["load_average"] = None
    assert health_summary(health)[1] == "system: cpu 12.5 %, memory 4.1 % used, load unknown, up 6.2 days"


def test_host_text_cannot_forge_a_line_nor_leak_a_number():
    health = healthy_health()
    voip = process(health, "voip_stack")
    voip.update(id="voip\nFAKE LINE: P1 ok caller 3471234567", running=False, count=0, pids=[])
    health["events"]["items"] = [{"severity": "error\r\nFAKE", "line": "call from 347 1234567\x1b[2J\u202edone"}]
    lines = health_summary(health)
    assert_clean(lines)
    assert "process voip FAKE LINE: P1 ok caller 347*******: NOT RUNNING" in lines
    assert lines[-1] == "  error FAKE: call from 347 ******* [2J done"
    assert not any(line.startswith("FAKE") for line in lines)
    assert "1234567" not in " ".join(lines)


@pytest.mark.parametrize(
    "change, line",
    [
        (lambda h: h["disks"].update(items={"/": {}}), "disks: unreadable facts (list expected for its disks, got dict)"),
        (lambda h: h["disks"]["items"].append("oops"), "disk ?: unreadable facts (mapping expected, got str)"),
        (lambda h: h["disks"]["items"][0].update(error="cannot stat /\nFAKE"), "disk /: ERROR cannot stat / FAKE"),
        (lambda h: h["disks"]["items"][0].update(used_percent=float("nan")), "disk /: ? % used, 28000 MB free"),
        (lambda h: h.update(system=None), "system: unreadable facts (mapping expected, got null)"),
        (lambda h: h.update(cloud={"error": "cloud: bad proxy"}), "cloud: ERROR cloud: bad proxy"),
        (lambda h: h["cloud"].update(reachable=None), "cloud: state unknown"),
        (lambda h: h["cloud"].update(reachable=False, problem=None), "cloud: NOT REACHABLE: no reason given"),
        (lambda h: h["webserver"].update(up=False, problem="refused", tls=None), "web portal: DOWN: refused"),
        (lambda h: h["database"].update(configured=False), "database: not configured"),
        (lambda h: h["database"].update(limit_bytes=None, used_percent=None), "database (sqlite): 1.0 MB of no known limit (- %)"),
        (lambda h: h["capacity"].update(apps=[]), "capacity: unreadable facts (mapping expected for its apps, got list)"),
        (lambda h: h["capacity"]["apps"].update(ivr={"error": "HTTP 401"}), "capacity ivr: ERROR HTTP 401"),
        (lambda h: h["replication"].update(configured="yes"),
         "replication: unreadable facts (true or false expected for configured, got str)"),
        (lambda h: h["replication"].update(configured=False), "replication: not configured"),
        (lambda h: h["replication"].update(clock_skew_seconds=None, problem="no Date header"),
         "replication: sync_ready with ias-b, clock skew unknown (no Date header)"),
        (lambda h: h["processes"].update(items=None), "processes: unreadable facts (list expected for its processes, got null)"),
        (lambda h: h["events"].update(items="x"), "events: unreadable facts (list expected for its items, got str)"),
        (lambda h: h["release"].update(raw=None), "release: unknown"),
        (lambda h: h.update(processes={"not_configured": "processes: not configured: no Imagicle process to watch; "
                                                         "set the option processes (inventory variable imagicle_processes)"}),
         "processes: NOT CONFIGURED: no Imagicle process to watch; set the option processes (inventory variable imagicle_processes)"),
        (lambda h: h.update(release={"not_configured": "release:\nFAKE"}), "release: NOT CONFIGURED: release: FAKE"),
        (lambda h: h.update(events={"not_configured": 42}), "events: NOT CONFIGURED: 42"),
    ],
)
def test_odd_facts_give_a_readable_line(change, line):
    health = healthy_health()
    change(health)
    lines = health_summary(health)
    assert_clean(lines)
    assert line in lines


@pytest.mark.parametrize(
    "value, line",
    [
        ({"unreachable": True, "msg": "Failed to connect to the host via ssh:\ntimeout", "changed": False},
         "health: no facts, the host could not be reached (Failed to connect to the host via ssh: timeout)"),
        ({"failed": True, "msg": "MODULE FAILURE"}, "health: no facts, the health check failed (MODULE FAILURE)"),
        ({"skipped": True, "changed": False}, "health: no facts, the health check was skipped for this host"),
        ({"changed": False, "ansible_facts": {}}, "health: no facts, the facts task returned no imagicle_health"),
        (None, "health: no facts"),
        ([1, 2], "health: unreadable facts (mapping expected, got list)"),
        ("text", "health: unreadable facts (mapping expected, got str)"),
        ({"schema_version": 1}, "health: no section collected"),
        (registered(["x"]), "health: unreadable facts (mapping expected, got list)"),
    ],
)
def test_no_facts_is_one_line(value, line):
    assert health_summary(value) == [line]


def test_long_lists_are_cut_to_a_count():
    health = healthy_health()
    health["processes"]["items"] = [copy.deepcopy(health["processes"]["items"][0]) for _index in range(MAX_ITEMS + 950)]
    health["events"]["items"] = [{"severity": "error", "line": "x" * 5000}] * 10000
    lines = health_summary(health)
    assert_clean(lines)
    assert "processes: 950 more processes not shown" in lines
    assert len(lines) < 100


# --- property: never raises, never more than one line per entry ----------------------------

_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300), st.sampled_from(["\n", "FAKE\r\nLINE", "347 1234567", "\x00\x1b\u2028"]),
)
_JSON = st.recursive(_LEAVES, lambda children: st.one_of(
    st.lists(children, max_size=6), st.dictionaries(st.text(max_size=12), children, max_size=6)), max_leaves=40)
_KEYS = st.sampled_from(["items", "error", "load_average", "memory", "running", "pids", "apps", "configured", "tls",
                         "days_left", "mount", "id", "line", "severity", "reachable", "up", "problem", "raw",
                         "used_percent", "free_bytes", "new_count", "ansible_facts", "imagicle_health", "unreachable"])


def _paths(value, path=()):
    """Every path to a value inside nested dicts and lists."""
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, path + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, path + (index,))


def _pick(draw, health):
    """A path inside ``health`` and the container holding its last step."""
    path = draw(st.sampled_from([path for path in _paths(health) if path]))
    parent = health
    for key in path[:-1]:
        parent = parent[key]
    return parent, path[-1]


@st.composite
def odd_health(draw):
    """The healthy facts with some values replaced by anything, some keys or sections removed, maybe a list made huge."""
    health = healthy_health()
    for _change in range(draw(st.integers(min_value=1, max_value=8))):
        parent, key = _pick(draw, health)
        action = draw(st.sampled_from(["replace", "delete", "key"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[key]
        elif action == "key" and isinstance(parent, dict):
            parent[draw(_KEYS)] = draw(_JSON)
        else:
            parent[key] = draw(_JSON)
    if draw(st.booleans()):
        parent, key = _pick(draw, health)
        parent[key] = [draw(_JSON)] * draw(st.integers(min_value=0, max_value=20000))
    return health


_ANY_FACTS = st.one_of(
    _JSON,
    st.dictionaries(st.sampled_from(SECTIONS), _JSON),
    odd_health(),
    odd_health().map(registered),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_ANY_FACTS)
def test_health_summary_never_raises_and_gives_clean_lines(facts):
    lines = health_summary(facts)
    assert_clean(lines)
    assert len(lines) <= 10 + 3 * (MAX_ITEMS + 1) + 6


# --- run_summary -------------------------------------------------------------------------------

def evaluation(**changes):
    value = {"customer": "acme", "plan": "gold", "reporting": True,
             "eligibility": {"eligible": True, "reasons": [], "consent": True}}
    value.update(changes)
    return value


def alarm(priority):
    return {"rule": "disk_space", "priority": priority, "summary": "x"}


class RaisingVars(dict):
    """The variables of a host whose templating fails."""

    def get(self, key, default=None):
        raise RuntimeError("template error")


def test_run_summary_lines():
    hostvars = {
        "ias-a": {"imagicle_evaluation": evaluation(), "imagicle_alarms": []},
        "ias-b": {"imagicle_evaluation": evaluation(), "imagicle_alarms": [alarm("P3"), alarm("P1"), alarm("P3")]},
        "ias-c": {},
        "ias-d": {"imagicle_evaluation": evaluation(
            reporting=False, eligibility={"eligible": False, "reasons": ["no consent", "basic plan\nFAKE LINE"]}),
            "imagicle_alarms": [alarm("P2")]},
    }
    assert run_summary(hostvars, ["ias-a", "ias-b", "ias-c", "ias-d"]) == [
        "ias-a (acme, gold): 0 alarm(s)",
        "ias-b (acme, gold): 3 alarm(s), 1 P1, 2 P3",
        "ias-c: not evaluated (the check did not run for this host)",
        "ias-d (acme, gold): 1 alarm(s), 1 P2, NOT REPORTING; no proactive cases: no consent; basic plan FAKE LINE",
    ]


@pytest.mark.parametrize(
    "variables, line",
    [
        ({"imagicle_evaluation": {"customer": "acme", "plan": "gold"}, "imagicle_alarms": [alarm("P4")]},
         "h (acme, gold): 1 alarm(s), 1 P4"),
        ({"imagicle_evaluation": evaluation(), "imagicle_alarms": "oops"},
         "h (acme, gold): alarms unreadable (imagicle_alarms is str, not a list)"),
        ({"imagicle_evaluation": evaluation(), "imagicle_alarms": [None, "x", {"priority": None}, alarm("P1")]},
         "h (acme, gold): 4 alarm(s), 1 P1"),
        ({"imagicle_evaluation": ["x"]}, "h: not evaluated (imagicle_evaluation is list, not a mapping)"),
        ({"imagicle_evaluation": {}}, "h (?, ?): 0 alarm(s)"),
        ({"imagicle_evaluation": evaluation(customer="Rossi 3471234567\nFAKE", eligibility={"eligible": False})},
         "h (Rossi 347******* FAKE, gold): 0 alarm(s); no proactive cases: no reason given"),
        (RaisingVars(), "h: not evaluated (its variables cannot be read: RuntimeError)"),
    ],
)
def test_run_summary_never_fails_on_odd_variables(variables, line):
    assert run_summary({"h": variables}, ["h"]) == [line]


@pytest.mark.parametrize(
    "hostvars, hosts, lines",
    [
        ({}, ["gone"], ["gone: not evaluated (its variables cannot be read: KeyError)"]),
        ({}, [], ["no host checked"]),
        ({"h": {}}, "h", ["h: not evaluated (the check did not run for this host)"]),
        ({}, None, ["run summary: no hosts (a list of host names expected, got null)"]),
        (None, ["h"], ["h: not evaluated (its variables cannot be read: TypeError)"]),
    ],
)
def test_run_summary_odd_arguments(hostvars, hosts, lines):
    assert run_summary(hostvars, hosts) == lines


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=20), st.dictionaries(
    st.sampled_from(["imagicle_evaluation", "imagicle_alarms"]), _JSON), max_size=5), st.lists(st.text(max_size=20), max_size=6))
def test_run_summary_never_raises_and_gives_clean_lines(hostvars, hosts):
    lines = run_summary(hostvars, hosts + list(hostvars))
    assert_clean(lines)


def test_the_summary_prints_every_section_of_the_facts_schema_once():
    from ansible_collections.imagicle.proactive.plugins.filter.health_summary import SECTION_LINES
    from ansible_collections.imagicle.proactive.plugins.module_utils._schema import SECTIONS as SCHEMA_SECTIONS

    printed = [name for name, dummy in SECTION_LINES]
    assert sorted(printed) == sorted(SCHEMA_SECTIONS)


# --- health_report ---------------------------------------------------------------------------------

def _evaluated(health, alarms, reporting=True):
    evaluation = {"customer": "acme", "plan": "gold", "reporting": reporting, "eligibility": {"eligible": True}}
    return {"ansible_facts": {"imagicle_health": health}, "imagicle_evaluation": evaluation, "imagicle_alarms": alarms}


def test_health_report_gives_each_host_its_health_then_its_alarms():
    alarm = {"priority": "P3", "rule": "disk_space", "subject": "/srv/appsuite", "summary": "/srv/appsuite is 96.0 % full",
             "due": "2026-12-04T09:36:10Z", "response_calendar": "business"}
    hostvars = {"ias-a": _evaluated(healthy_health(), [alarm]), "ias-b": _evaluated(healthy_health(), []),
                "ias-c": _evaluated(healthy_health(), [], reporting=False), "ias-d": {"imagicle_health": healthy_health()},
                "ias-e": {}}
    report = health_report(hostvars, ["ias-a", "ias-b", "ias-c", "ias-d", "ias-e"])
    assert list(report) == ["ias-a", "ias-b", "ias-c", "ias-d", "ias-e"]
    assert report["ias-a"] == HEALTHY_LINES + [
        "P3 disk_space [/srv/appsuite] /srv/appsuite is 96.0 % full (respond by 2026-12-04T09:36:10Z, business)"]
    assert report["ias-b"] == HEALTHY_LINES + ["no alarm"]
    # A host that did not report shows no stale facts (a fact cache may hold some), only that it did not report.
    assert report["ias-c"] == ["health: no facts, the host did not report (see its alarm)", "no alarm"]
    assert report["ias-d"] == HEALTHY_LINES + ["not evaluated (facts collected only)"]
    assert report["ias-e"] == ["not evaluated (the check did not run for this host)"]


class _Exploding(dict):
    def get(self, key, default=None):
        raise RuntimeError("templating failed")


@pytest.mark.parametrize("hostvars, hosts", [
    ({"h": _Exploding()}, ["h"]),
    ({}, ["missing"]),
    ({"h": {"imagicle_evaluation": "text", "imagicle_alarms": 3}}, ["h"]),
    ({"h": {"imagicle_evaluation": {"reporting": True}, "imagicle_alarms": [None, "x"], "imagicle_health": [1]}}, "h"),
    ({"h": {}}, 42),
])
def test_health_report_never_fails_and_gives_clean_lines(hostvars, hosts):
    report = health_report(hostvars, hosts)
    assert isinstance(report, dict) and report
    for lines in report.values():
        assert_clean(lines)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_health_report_makes_host_text_one_line(text):
    alarm = {"priority": "P1", "rule": "voip_stack_crashed", "subject": text, "summary": text}
    health = healthy_health()
    health["release"]["version"] = text
    report = health_report({"h\nforged": _evaluated(health, [alarm])}, ["h\nforged"])
    for name, lines in report.items():
        assert "\n" not in name
        assert_clean(lines)
