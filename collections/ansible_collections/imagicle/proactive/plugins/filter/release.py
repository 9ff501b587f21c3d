# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over ApplicationSuite release names (YYYY.Season.N): release_parse, release_compare.

The parsing is the release collector's (module_utils/collectors/release.py), so that the host
and the controller read a release the same way.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors.release import (
    parse_release,
    release_key,
)


def _parsed(value, what: str) -> dict:
    if isinstance(value, dict) and {"year", "season", "number"} <= set(value):
        return value
    try:
        return parse_release(str(value))
    except ValueError as exc:
        raise AnsibleFilterError("%s: %s" % (what, exc)) from None


def release_parse(value) -> dict:
    """'2024.Winter.1' -> {raw, year, season, number}."""
    return _parsed(value, "release_parse")


def release_compare(value, other) -> int:
    """-1, 0 or 1 as ``value`` is older than, the same as, or newer than ``other``."""
    left = release_key(_parsed(value, "release_compare"))
    right = release_key(_parsed(other, "release_compare (second release)"))
    return (left > right) - (left < right)


class FilterModule:
    """Release name filters."""

    def filters(self):
        return {"release_parse": release_parse, "release_compare": release_compare}
