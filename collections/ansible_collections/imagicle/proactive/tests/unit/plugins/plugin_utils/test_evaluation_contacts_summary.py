# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The evaluation's contacts (one bad address never blocks the others) and its printed lines (one line each, masked)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.imagicle.proactive.plugins.plugin_utils.evaluation import (
    SettingsError,
    contact_problem,
    evaluate_host,
    host_settings,
    summary_lines,
)
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils.health_fixture import (
    healthy_health,
    process,
)

VARIABLES = {"imagicle_customer": "acme", "imagicle_consent": True, "imagicle_sla": {"plan": "gold"}}
FRIDAY_EVENING = datetime(2026, 11, 27, 16, 50, tzinfo=timezone.utc)


def with_contacts(contacts):
    return host_settings("ias-a", dict(VARIABLES, imagicle_contacts=contacts))


@pytest.mark.parametrize(
    "address",
    ["it-ops@acme.example", "mario.rossi+alarms@mail.example.co.uk", "o'brien@example.com", "a_b@xn--bcher-kva.example",
     "  helpdesk@acme.example  ", "x@sub-domain.example.it"],
)
def test_good_addresses(address):
    assert contact_problem(address) is None
    assert with_contacts([address]).contacts == (address.strip(),)


@pytest.mark.parametrize(
    "entry, words",
    [
        ("a@x.it, b@y.it", "comma"),
        ("a@x.it;b@y.it", "semicolon"),
        ("Mario Rossi <mario@x.it>", "angle brackets"),
        ("mario rossi@x.it", "space"),
        ("mario@x.it\nBcc: all@x.it", "control character"),
        ("mario@x.\rit", "control character"),
        ("mario\t@x.it", "control character"),
        ("mario@@x.it", "2 @"),
        ("mario.x.it", "no @"),
        ("a@b@x.it", "2 @"),
        ("mario@localhost", "no dot"),
        ("mariò@x.it", "ASCII"),
        ("mario@exämple.it", "ASCII"),
        ("mario@x.it\u202e", "ASCII"),
        (".mario@x.it", "not an e-mail address"),
        ("mario..rossi@x.it", "not an e-mail address"),
        ("mario@-x.it", "not an e-mail address"),
        ("mario@x.1", "not an e-mail address"),
        ("mario@x.it.", "not an e-mail address"),
        ("@x.it", "not an e-mail address"),
        ("m" * 250 + "@x.it", "not an e-mail address"),
        ("", "empty"),
        ("   ", "empty"),
        (42, "a int, not a string"),
        (None, "null, not a string"),
        ({"email": "a@x.it"}, "a dict, not a string"),
    ],
)
def test_a_bad_entry_is_left_out_with_a_warning_and_the_others_kept(entry, words):
    settings_ = with_contacts(["it-ops@acme.example", entry, "helpdesk@acme.example"])
    assert settings_.contacts == ("it-ops@acme.example", "helpdesk@acme.example")
    [warning] = settings_.warnings
    assert warning.startswith("host ias-a: imagicle_contacts entry 2 ")
    assert words in warning
    assert "correct or remove it in the inventory" in warning
    # The entry is shown escaped: a line break in it cannot start a line of the warning.
    assert "\n" not in warning and "\r" not in warning


def test_a_single_string_is_one_entry():
    assert with_contacts("it-ops@acme.example").contacts == ("it-ops@acme.example",)
    settings_ = with_contacts("a@x.it, b@y.it")
    assert settings_.contacts == () and "one address per list entry" in settings_.warnings[0]


@pytest.mark.parametrize("value", [None, "", []])
def test_no_contacts(value):
    settings_ = with_contacts(value)
    assert settings_.contacts == () and settings_.warnings == ()


@pytest.mark.parametrize("value", [{"to": "a@x.it"}, 42, True])
def test_contacts_that_are_not_a_list_fail_naming_host_and_variable(value):
    with pytest.raises(SettingsError) as info:
        with_contacts(value)
    assert "host ias-a" in str(info.value) and "imagicle_contacts" in str(info.value)


def test_the_evaluation_mails_the_good_contacts():
    settings_ = with_contacts(["it-ops@acme.example", "bad address@x.it"])
    result = evaluate_host(settings_, {"ansible_facts": {"imagicle_health": healthy_health()}}, detected_at=FRIDAY_EVENING)
    assert result["notify"]["emails"] == ["it-ops@acme.example"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=40), st.none(), st.integers(), st.emails()), max_size=6))
def test_contacts_never_fail_the_host_and_keep_only_valid_addresses(entries):
    settings_ = with_contacts(entries)
    assert len(settings_.contacts) + len(settings_.warnings) == len(entries)
    assert all(contact_problem(address) is None for address in settings_.contacts)
    assert all("\n" not in warning for warning in settings_.warnings)


# --- summary_lines ---------------------------------------------------------------------------

def test_alarm_lines_are_one_line_and_masked():
    health = healthy_health()
    voip = process(health, "voip_stack")
    voip.update(id="voip\nFAKE LINE: P1 ok", application="VoIP 3471234567\r\nFAKE", running=False, count=0, pids=[])
    result = evaluate_host(host_settings("ias-a", VARIABLES), {"ansible_facts": {"imagicle_health": health}},
                           detected_at=FRIDAY_EVENING)
    lines = summary_lines(result)
    assert lines and all("\n" not in line and "\r" not in line for line in lines)
    assert not any(line.startswith("FAKE") for line in lines)
    assert "3471234567" not in " ".join(lines)
    assert lines[0].startswith("P1 voip_stack_crashed [")


@pytest.mark.parametrize(
    "result, lines",
    [
        ({"eligibility": {"eligible": True}, "alarms": []}, ["no alarm"]),
        ({}, ["alarms unreadable (a list expected, got null)"]),
        (None, ["alarms unreadable (a list expected, got null)"]),
        ({"alarms": "x"}, ["alarms unreadable (a list expected, got str)"]),
        ({"alarms": [None, {}]}, ["unreadable alarm (a mapping expected, got null)", "? ? [-] ? (respond by ?, ?)"]),
        ({"eligibility": {"eligible": False, "reasons": "x"}, "alarms": []},
         ["no proactive cases for this host: no reason given", "no alarm"]),
        ({"eligibility": {"eligible": False, "reasons": ["no consent\nFAKE", 3]}, "alarms": []},
         ["no proactive cases for this host: no consent FAKE; 3", "no alarm"]),
        ({"alarms": [{"priority": "P3", "rule": "disk_space", "subject": "/srv/caller 3471234567",
                      "summary": "Disk\nspace " + "x" * 1000, "due": "2026-11-30T11:50:00Z", "response_calendar": "business"}]},
         ["P3 disk_space [/srv/caller 347*******] Disk space " + "x" * 286 + "... (respond by 2026-11-30T11:50:00Z, business)"]),
    ],
)
def test_odd_evaluations_give_readable_lines(result, lines):
    assert summary_lines(result) == lines


_ANY = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=50)),
                    lambda children: st.one_of(st.lists(children, max_size=4),
                                               st.dictionaries(st.text(max_size=10), children, max_size=4)), max_leaves=20)
_ALARM_KEYS = st.sampled_from(["priority", "rule", "subject", "summary", "due", "response_calendar"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({}, optional={
    "eligibility": st.one_of(_ANY, st.fixed_dictionaries({}, optional={"eligible": _ANY, "reasons": _ANY})),
    "alarms": st.one_of(_ANY, st.lists(st.one_of(_ANY, st.dictionaries(_ALARM_KEYS, _ANY)), max_size=5)),
}))
def test_summary_lines_never_raise_and_are_one_line(result):
    for line in summary_lines(result):
        assert isinstance(line, str) and len(line.splitlines()) <= 1 and len(line) < 1000
