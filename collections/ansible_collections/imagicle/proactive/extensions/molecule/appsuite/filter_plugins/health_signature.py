# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The molecule scenario's view of imagicle_health: the facts that each fault may change.

``health | health_signature`` reduces a host's facts to a flat dictionary of the observations
the simulator's faults act on. The verify playbook compares it with the host's baseline: a
fault must change exactly its own keys, on its own host, and clearing it must restore them.
"""

from __future__ import annotations

SEVERITY_ORDER = ("info", "warning", "error", "critical")
APP_MOUNT = "/srv/appsuite"


def _max_severity(events: dict) -> str:
    found = [item.get("severity") for item in events.get("items", [])]
    ranked = [SEVERITY_ORDER.index(s) for s in found if s in SEVERITY_ORDER]
    return SEVERITY_ORDER[max(ranked)] if ranked else "none"


def health_signature(health: dict) -> dict:
    """The observations of one host, see the module docstring."""
    processes = health["processes"]["items"]
    disk = [d for d in health["disks"]["items"] if d.get("mount") == APP_MOUNT]
    capacity = health["capacity"]["apps"]
    replication = health["replication"]
    skew = replication.get("clock_skew_seconds")
    web = health["webserver"]
    tls = web.get("tls") or {}
    return {
        "sections_with_error": sorted(name for name in health["gather_subset"] if health[name].get("error")),
        "release": health["release"].get("raw"),
        "running": {p["id"]: p["running"] for p in processes},
        "restarted": sorted(p["id"] for p in processes if p.get("restarted")),
        "appsuite_disk_over_80_percent": bool(disk) and disk[0]["used_percent"] >= 80,
        "database_over_80_percent": (health["database"].get("used_percent") or 0) >= 80,
        "channels_in_use": {app: values.get("in_use") for app, values in capacity.items()},
        "channels_available": {app: values.get("available") for app, values in capacity.items()},
        "replication_state": replication.get("state"),
        "replication_healthy": replication.get("healthy"),
        "clock_skew_over_15_s": skew is not None and abs(skew) > 15,
        "portal_up": web.get("up"),
        "portal_status": web.get("status_code"),
        "portal_slower_than_1_s": (web.get("latency_ms") or 0) > 1000,
        "portal_certificate_ok": (tls.get("days_left") or 0) > 30,
        "cloud_reachable": health["cloud"].get("reachable"),
        "events_max_severity": _max_severity(health["events"]),
    }


class FilterModule:
    """Filters of the molecule scenario."""

    def filters(self):
        return {"health_signature": health_signature}
