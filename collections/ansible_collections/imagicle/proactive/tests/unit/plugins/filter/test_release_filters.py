# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""release_parse and release_compare."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.imagicle.proactive.plugins.filter.release import FilterModule, release_compare, release_parse


def test_registered():
    assert set(FilterModule().filters()) == {"release_parse", "release_compare"}


def test_parse():
    parsed = release_parse(" 2021.spring.3 ")
    assert (parsed["year"], parsed["season"], parsed["number"]) == (2021, "Spring", 3)


@pytest.mark.parametrize(
    "left, right, expected",
    [
        ("2020.Winter.1", "2020.Winter.1", 0),
        ("2019.Summer.9", "2020.Winter.1", -1),
        ("2020.Spring.1", "2020.Winter.4", 1),
        ("2020.Summer.1", "2020.Spring.7", 1),
        ("2020.Winter.2", "2020.Winter.10", -1),
        ("2025.Winter.1", "2024.Summer.3", 1),
    ],
)
def test_compare(left, right, expected):
    assert release_compare(left, right) == expected
    assert release_compare(right, left) == -expected
    assert release_compare(release_parse(left), right) == expected


@pytest.mark.parametrize("bad", ["2020.Autumn.1", "latest", "", "2020.Winter"])
def test_bad_release_names_fail_with_the_text(bad):
    with pytest.raises(AnsibleFilterError) as info:
        release_compare(bad, "2020.Winter.1")
    assert "release_compare" in str(info.value)
