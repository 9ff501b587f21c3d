# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``system`` section: host identity, CPU, load, memory, swap and uptime.

CPU use comes from the module's shared CPU sample (``ctx.cpu``); this collector never sleeps
unless it is called without one.
"""

from __future__ import annotations

import os
import platform
import socket
import time

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import (
    CollectorError,
    round2,
)
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._cpu import sample_for

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._psutil import psutil


def _utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _load_average():
    try:
        return [round2(value) for value in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def collect(options: dict, ctx) -> dict:
    """Return the ``system`` section. ``options`` is unused (kept for the common signature)."""
    if psutil is None:
        raise CollectorError("the psutil Python library is missing on this host; install python3-psutil")
    sample = sample_for(ctx)
    try:
        memory = psutil.virtual_memory()
        swap = psutil.swap_memory()
        boot = psutil.boot_time()
    except (OSError, RuntimeError) as exc:
        raise CollectorError("cannot read memory or boot time from the kernel (%s); is /proc mounted?" % exc)
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "psutil": psutil.__version__,
        "cpu_count": psutil.cpu_count(),
        "cpu_percent": round2(sample.system_percent),
        "cpu_interval": round2(sample.interval),
        "load_average": _load_average(),
        "memory": {
            "total": int(memory.total),
            "available": int(memory.available),
            "used_percent": round2(memory.percent),
        },
        "swap": {"total": int(swap.total), "used_percent": round2(swap.percent)},
        "boot_time": _utc(boot),
        "uptime_seconds": round2(max(0.0, time.time() - boot)),
    }
