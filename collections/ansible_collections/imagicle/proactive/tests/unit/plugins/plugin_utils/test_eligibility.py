# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The brief's requirements for proactive support, one by one."""

from __future__ import annotations

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils.eligibility import check_eligibility


def health(release="2024.Winter.1"):
    return {"schema_version": 1, "release": {"raw": release}}


def verdict(**overrides):
    args = {"plan_name": "gold", "plan_proactive": True, "consent": True, "cloud_connected": True,
            "health": health()}
    args.update(overrides)
    return check_eligibility(**args)


def test_gold_with_consent_cloud_and_a_recent_release_is_eligible():
    result = verdict()
    assert result.eligible is True and result.reasons == ()


@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({"plan_name": "basic", "plan_proactive": False}, "plan basic has no proactive support"),
        ({"consent": False}, "has not given consent"),
        ({"consent": None}, "has not given consent"),
        ({"consent": "yes"}, "has not given consent"),
        ({"cloud_connected": False}, "not connected to the vendor cloud"),
        ({"health": health("2019.Summer.1")}, "older than Winter 2020"),
        ({"health": health("2019.Winter.9")}, "older than Winter 2020"),
        ({"health": health("nonsense")}, "not of the form YYYY.Season.N"),
        ({"health": {"schema_version": 1, "release": {"error": "release: file not found"}}}, "release is unknown"),
    ],
)
def test_each_requirement_alone_makes_a_host_ineligible_and_says_why(overrides, reason):
    result = verdict(**overrides)
    assert result.eligible is False
    assert len(result.reasons) == 1 and reason in result.reasons[0]


@pytest.mark.parametrize("release", ["2020.Winter.1", "2020.Spring.1", "2020.Summer.2", "2025.Winter.1"])
def test_winter_2020_and_later_qualify(release):
    assert verdict(health=health(release)).eligible is True


def test_every_reason_is_listed_and_consent_is_reported():
    result = verdict(plan_name="basic", plan_proactive=False, consent=False, health=health("2019.Spring.1"))
    assert len(result.reasons) == 3
    assert result.to_dict()["consent"] is False


def test_a_host_that_did_not_report_is_judged_without_facts():
    assert verdict(health=None).eligible is True
    assert verdict(health=None, consent=False).eligible is False
