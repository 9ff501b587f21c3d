# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The response_target and response_due filters, called directly and through a Jinja template."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.imagicle.proactive.plugins.filter.sla import FilterModule, parse_detected_at, response_due, response_target


def test_filters_are_registered() -> None:
    assert set(FilterModule().filters()) == {"response_target", "response_due"}


@pytest.mark.parametrize(("priority", "minutes"), [("P1", 60), ("P2", 120), ("P3", 240), ("P4", 480)])
def test_response_target(priority: str, minutes: int) -> None:
    assert response_target(priority) == minutes


@pytest.mark.parametrize("priority", ["P5", "p1", "", None])
def test_response_target_rejects_unknown_priority(priority) -> None:
    with pytest.raises(AnsibleFilterError, match="allowed: P1, P2, P3, P4"):
        response_target(priority)


@pytest.mark.parametrize(
    ("detected_at", "priority", "settings", "expected"),
    [
        # Friday 17:50 CET + 4 business hours -> Monday 12:50 CET
        ("2026-11-27T16:50:00Z", "P3", None, "2026-11-30T11:50:00Z"),
        ("2026-11-27T17:50:00+01:00", "P3", {"plan": "gold"}, "2026-11-30T11:50:00Z"),
        ("2026-11-27 16:50:00+00:00", "P3", {}, "2026-11-30T11:50:00Z"),
        (datetime(2026, 11, 27, 17, 50, tzinfo=ZoneInfo("Europe/Rome")), "P3", None, "2026-11-30T11:50:00Z"),
        ("2026-11-27T16:50:00Z", "P3", {"holidays": {"dates": ["2026-11-30"]}}, "2026-12-01T11:50:00Z"),
        # Sunday 03:00 CET: platinum counts P1 24/7, gold waits for Monday 08:00 CET
        ("2026-11-29T02:00:00Z", "P1", {"plan": "platinum"}, "2026-11-29T03:00:00Z"),
        ("2026-11-29T02:00:00Z", "P1", {"plan": "gold"}, "2026-11-30T08:00:00Z"),
        # New York: Friday 17:00 EST + 2 business hours -> Monday 10:00 EST
        ("2026-11-27T22:00:00Z", "P2", {"timezone": "America/New_York", "holidays": {"country": "US"}}, "2026-11-30T15:00:00Z"),
    ],
)
def test_response_due(detected_at, priority: str, settings, expected: str) -> None:
    assert response_due(detected_at, priority, settings) == expected


@pytest.mark.parametrize("detected_at", ["2026-11-27T17:50:00", datetime(2026, 11, 27, 17, 50)])
def test_response_due_rejects_a_time_without_timezone(detected_at) -> None:
    with pytest.raises(AnsibleFilterError, match="has no timezone.*'2026-11-27T17:50:00Z'"):
        response_due(detected_at, "P3")


@pytest.mark.parametrize("detected_at", ["yesterday", "", 1764262200, None])
def test_response_due_rejects_other_input(detected_at) -> None:
    with pytest.raises(AnsibleFilterError, match="response_due: .*ISO 8601"):
        response_due(detected_at, "P3")


def test_response_due_rejects_unknown_priority() -> None:
    with pytest.raises(AnsibleFilterError, match="unknown priority 'P0'; allowed: P1, P2, P3, P4"):
        response_due("2026-11-27T16:50:00Z", "P0")


def test_response_due_names_the_source_and_key_of_bad_settings() -> None:
    bad = {"calendars": {"business": {"hours": {"mon": ["25:00-26:00"]}}}}
    with pytest.raises(AnsibleFilterError, match=r"inventory variable imagicle_sla of host ias-a, key calendars\.business\.hours\.mon\[0\]"):
        response_due("2026-11-27T16:50:00Z", "P3", bad, source="inventory variable imagicle_sla of host ias-a")
    with pytest.raises(AnsibleFilterError, match="imagicle_sla settings given to the response_due filter, key plan"):
        response_due("2026-11-27T16:50:00Z", "P3", {"plan": "diamond"})


def test_parse_detected_at_keeps_the_instant() -> None:
    assert parse_detected_at("2026-03-29T02:30:00+02:00") == datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc)


TEMPLATE_SCRIPT = """
import sys
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar, trust_as_template

init_plugin_loader([sys.argv[1]])
templar = Templar(loader=DataLoader(), variables={"imagicle_sla": {"plan": "gold"}, "detected": "2026-11-27T16:50:00Z"})
print(templar.template(trust_as_template("{{ detected | imagicle.proactive.response_due('P3', imagicle_sla) }}")))
print(templar.template(trust_as_template("{{ 'P4' | imagicle.proactive.response_target }}")) + 1)
try:
    templar.template(trust_as_template("{{ '2026-11-27T17:50:00' | imagicle.proactive.response_due('P3') }}"))
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def test_filters_in_a_template() -> None:
    """Ansible finds the filters by their full names; run in a child process so the collection loader stays out of this one."""
    collections_root = Path(__file__).resolve().parents[7]
    assert (collections_root / "ansible_collections" / "imagicle" / "proactive" / "galaxy.yml").is_file()
    completed = subprocess.run([sys.executable, "-c", TEMPLATE_SCRIPT, str(collections_root)], capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    due, target_plus_one, error = completed.stdout.splitlines()
    assert due == "2026-11-30T11:50:00Z"
    assert target_plus_one == "481"
    assert "has no timezone" in error and "response_due" in error
