# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SLA filters: response_target and response_due (documented in response_target.yml and response_due.yml)."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.imagicle.proactive.plugins.plugin_utils.sla import (
    SlaConfig,
    SlaError,
    build_sla,
    response_due as sla_response_due,
    response_target_minutes,
)

DEFAULT_SETTINGS_SOURCE = "the imagicle_sla settings given to the response_due filter"


def parse_detected_at(value: Any) -> datetime:
    """An aware datetime from an ISO 8601 string or a datetime; raise AnsibleFilterError when it has no timezone."""
    if isinstance(value, datetime):
        detected_at = value
    elif isinstance(value, str):
        try:
            detected_at = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise AnsibleFilterError(f"response_due: {value!r} is not an ISO 8601 date and time; write e.g. '2026-11-27T17:50:00Z'") from exc
    else:
        raise AnsibleFilterError(f"response_due: expected an ISO 8601 string or a datetime as input, found {type(value).__name__} {value!r}")
    if detected_at.tzinfo is None or detected_at.utcoffset() is None:
        raise AnsibleFilterError(
            f"response_due: {value!s} has no timezone, so the SLA clock cannot tell when it happened; add 'Z' for UTC or an offset, e.g. '2026-11-27T17:50:00Z'"
        )
    return detected_at


@functools.lru_cache(maxsize=128)
def _sla_from_json(settings_json: str, source: str) -> SlaConfig:
    return build_sla(json.loads(settings_json), source)


def sla_config(settings: Any, source: str) -> SlaConfig:
    """build_sla with a cache keyed by the settings' JSON text, so a play's many calls build it once."""
    try:
        settings_json = json.dumps(settings, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return build_sla(settings, source)
    return _sla_from_json(settings_json, source)


def response_target(priority: Any) -> int:
    """Response target of a priority in (business) minutes: P1 60, P2 120, P3 240, P4 480."""
    try:
        return response_target_minutes(priority)
    except SlaError as exc:
        raise AnsibleFilterError(f"response_target: {exc}") from exc


def response_due(detected_at: Any, priority: Any, settings: Any = None, source: str = DEFAULT_SETTINGS_SOURCE) -> str:
    """ISO 8601 UTC deadline ('...Z') of an alarm of ``priority`` detected at ``detected_at`` under the customer's ``imagicle_sla``."""
    instant = parse_detected_at(detected_at)
    try:
        return sla_response_due(instant, priority, sla_config(settings, source))["due_iso"]
    except SlaError as exc:
        raise AnsibleFilterError(f"response_due: {exc}") from exc


class FilterModule:
    """SLA filters."""

    def filters(self) -> dict[str, Any]:
        return {"response_target": response_target, "response_due": response_due}
