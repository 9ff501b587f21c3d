# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A realistic, healthy ``imagicle_health`` (schema_version 1) for controller-side tests.

The shape is the one ``appsuite_facts`` really returns (see docs/facts-schema.md and the
collectors): every section collected, every process running, disks, database and licences well
below their limits, web portal, replication and cloud healthy, a supported release. Each call
returns a fresh structure that a test may change freely.
"""

from __future__ import annotations

import copy

_PROCESSES = (
    ("voip_stack", "voip_stack", "VoIP stack", 42),
    ("call_recording", "application", "Call Recording", 43),
    ("advanced_queuing", "application", "Advanced Queuing", 44),
    ("ivr", "application", "IVR", 45),
    ("call_analytics", "application", "Call Analytics", 46),
    ("web_portal", "service", "Web portal", 47),
)
SECTIONS = ["system", "processes", "disks", "database", "webserver", "events", "capacity", "replication", "cloud", "release"]


def _process(process_id: str, role: str, application: str, pid: int) -> dict:
    return {
        "id": process_id,
        "role": role,
        "application": application,
        "running": True,
        "count": 1,
        "pids": [pid],
        "cpu_percent": 1.5,
        "rss_bytes": 31000000,
        "memory_percent": 0.12,
        "start_time_epoch": 1795000000.12,
        "start_time": "2026-11-18T12:26:40Z",
        "previous_start_time_epoch": 1795000000.12,
        "restarted": False,
        "was_running": True,
    }


_HEALTHY = {
    "schema_version": 1,
    "collected_at": "2026-11-26T05:40:00Z",
    "gather_subset": list(SECTIONS),
    "check_mode": False,
    "system": {
        "hostname": "ias-a",
        "platform": "Linux-6.1.0-26-amd64-x86_64-with-glibc2.36",
        "python": "3.11.2",
        "psutil": "5.9.4",
        "cpu_count": 2,
        "cpu_percent": 12.5,
        "cpu_interval": 0.25,
        "load_average": [0.1, 0.2, 0.3],
        "memory": {"total": 25000000000, "available": 24000000000, "used_percent": 4.1},
        "swap": {"total": 0, "used_percent": 0.0},
        "boot_time": "2026-11-20T00:00:00Z",
        "uptime_seconds": 538800,
    },
    "processes": {
        "cpu_interval": 0.25,
        "items": [_process(*row) for row in _PROCESSES],
    },
    "disks": {
        "items": [
            {
                "mount": "/",
                "device": "/dev/sda1",
                "fstype": "ext4",
                "total_bytes": 41943040000,
                "used_bytes": 12582912000,
                "free_bytes": 29360128000,
                "used_percent": 30.0,
                "inodes_total": 2621440,
                "inodes_used_percent": 8.4,
            },
            {
                "mount": "/srv/appsuite",
                "device": "/dev/loop3",
                "fstype": "ext4",
                "total_bytes": 60000000,
                "used_bytes": 1000000,
                "free_bytes": 59000000,
                "used_percent": 1.67,
                "inodes_total": 16384,
                "inodes_used_percent": 0.1,
            },
        ],
    },
    "database": {
        "configured": True,
        "engine": "sqlite",
        "name": "/srv/appsuite/db/appsuite.sqlite",
        "size_bytes": 1048576,
        "limit_bytes": 8388608,
        "limit_source": "configured",
        "used_percent": 12.5,
        "edition": None,
    },
    "webserver": {
        "url": "https://127.0.0.1/",
        "up": True,
        "status_code": 200,
        "latency_ms": 12.3,
        "tls": {"not_after": "2027-11-26T05:40:00Z", "days_left": 365.0, "subject": "ias-a"},
        "problem": None,
    },
    "events": {
        "new_count": 1,
        "returned": 1,
        "truncated": False,
        "items": [
            {
                "source": "/srv/appsuite/logs/events.log",
                "line": "2026-11-26T05:39:58Z ERROR ias-recorder: disk write failed for +39 *** *** ****",
                "severity": "error",
                "pattern": "\\bERROR\\b",
            },
        ],
        "sources": [{"path": "/srv/appsuite/logs/events.log", "offset": 4096, "rotated": False, "error": None}],
    },
    "capacity": {
        "apps": {
            "call_recording": {"in_use": 2, "licensed": 8, "available": 6, "used_percent": 25.0, "source": "LiveRecordings"},
            "advanced_queuing": {"in_use": 1, "licensed": 10, "available": 9, "used_percent": 10.0, "source": "RealTimeStatistics"},
            "ivr": {"in_use": 0, "licensed": 4, "available": 4, "used_percent": 0.0, "source": "ActiveCalls"},
        },
    },
    "replication": {
        "configured": True,
        "state": "sync_ready",
        "healthy": True,
        "reason": None,
        "peer": "ias-b",
        "updated_at": "2026-11-26T05:39:00Z",
        "clock_skew_seconds": 0.4,
        "problem": None,
    },
    "cloud": {
        "url": "http://127.0.0.1:8780/test",
        "reachable": True,
        "status_code": 200,
        "message": "successfully connected!",
        "latency_ms": 3.1,
        "problem": None,
    },
    "release": {
        "raw": "2024.Winter.1",
        "year": 2024,
        "season": "Winter",
        "number": 1,
        "source": "/srv/appsuite/release.txt",
    },
    "duration_seconds": 0.61,
}


def healthy_health() -> dict:
    """A fresh healthy ``imagicle_health``; change it freely."""
    return copy.deepcopy(_HEALTHY)


def process(health: dict, process_id: str) -> dict:
    """The ``processes`` item with this id (for tests that change one process)."""
    for item in health["processes"]["items"]:
        if item["id"] == process_id:
            return item
    raise LookupError("no process %s in the fixture" % process_id)
