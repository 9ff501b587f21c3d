# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the collectors of ``appsuite_facts`` and assembles ``imagicle_health``.

The order of work on the host, so that one call costs one short CPU interval and no more:

1. start the CPU sampler (one snapshot of the host and of every process);
2. run the I/O collectors (disks, database, web server, events, capacity, replication, cloud,
   release) in parallel threads, each bounded by ``gather_timeout``;
3. finish the CPU sampler (it sleeps only what is left of ``cpu_interval``);
4. run the collectors that read the CPU sample (system, processes).

Each collector reports its own failure inside its section; nothing here raises for one of them.
"""

from __future__ import annotations

import threading
import time

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors import (
    capacity,
    cloud,
    database,
    disks,
    events,
    processes,
    release,
    replication,
    system,
    webserver,
)
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import (
    CollectContext,
    CollectorError,
    HostState,
    NotConfigured,
)

from ansible_collections.imagicle.proactive.plugins.module_utils._schema import FACTS_SCHEMA_VERSION, SECTIONS
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors import _cpu
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._psutil import HAS_PSUTIL

SCHEMA_VERSION = FACTS_SCHEMA_VERSION

# Section name -> collector module. The order is the order of the output.
COLLECTORS = {
    "system": system,
    "processes": processes,
    "disks": disks,
    "database": database,
    "webserver": webserver,
    "events": events,
    "capacity": capacity,
    "replication": replication,
    "cloud": cloud,
    "release": release,
}
ALL_SECTIONS = tuple(COLLECTORS)
if ALL_SECTIONS != SECTIONS:  # pragma: no cover - a collector added without its section name in _schema
    raise ImportError("the collectors %s do not match the sections of the facts schema %s" % (ALL_SECTIONS, SECTIONS))
# Sections that read the shared CPU sample and run after it.
CPU_SECTIONS = ("system", "processes")
# Sections that need psutil on the host.
PSUTIL_SECTIONS = ("system", "processes", "disks")
# What "min" means in gather_subset: cheap, local, no network.
MIN_SECTIONS = ("system", "disks", "release")


def resolve_subset(requested) -> list:
    """Turn ``gather_subset`` (``all``, ``min``, names, ``!name``) into the list of sections.

    Raises ValueError naming the unknown entry and the allowed ones.
    """
    include = set()
    exclude = set()
    saw_positive = False
    for raw in requested or ["all"]:
        entry = str(raw).strip()
        negate = entry.startswith("!")
        name = entry[1:] if negate else entry
        if name == "all":
            names = set(ALL_SECTIONS)
        elif name == "min":
            names = set(MIN_SECTIONS)
        elif name in COLLECTORS:
            names = {name}
        else:
            raise ValueError(
                "gather_subset: unknown subset %r; allowed: all, min, %s (prefix with ! to exclude)"
                % (entry, ", ".join(ALL_SECTIONS))
            )
        if negate:
            exclude |= names
        else:
            saw_positive = True
            include |= names
    if not saw_positive:
        include = set(ALL_SECTIONS)
    return [name for name in ALL_SECTIONS if name in include and name not in exclude]


def collector_options(params: dict) -> dict:
    """The option dictionary each collector receives, from the module's parameters."""
    webapi = dict(params.get("webapi") or {})
    capacity_options = dict(params.get("capacity") or {})
    capacity_options.update(webapi)
    return {
        "system": {},
        "processes": {"items": params.get("processes") or []},
        "disks": dict(params.get("disks") or {}),
        "database": dict(params.get("database") or {}),
        "webserver": dict(params.get("webserver") or {}),
        "events": dict(params.get("events") or {}),
        "capacity": capacity_options,
        "replication": dict(params.get("replication") or {}),
        "cloud": dict(params.get("cloud") or {}),
        "release": dict(params.get("release") or {}),
    }


def missing_psutil_message() -> str:
    # The wording of ansible.module_utils.basic.missing_required_lib, plus where to get it.
    return (
        "Failed to import the required Python library (psutil) on %s's Python. "
        "Install it with the imagicle.proactive.prerequisites role (Debian: python3-psutil; "
        "pip: psutil), or set ansible_python_interpreter to a Python that has it."
        % _hostname()
    )


def _hostname() -> str:
    import socket

    return socket.gethostname()


def run_collector(name: str, options: dict, ctx: CollectContext) -> dict:
    """Run one collector; turn any failure into ``{"error": ...}`` for its section, and a collector
    with nothing to look at (an unset option that describes the installation) into
    ``{"not_configured": ...}``."""
    try:
        section = COLLECTORS[name].collect(options, ctx)
    except NotConfigured as exc:
        return {"not_configured": "%s: %s" % (name, exc)}
    except CollectorError as exc:
        return {"error": "%s: %s" % (name, exc)}
    except Exception as exc:  # noqa: BLE001 - one broken collector must not hide the others
        return {"error": "%s: unexpected %s: %s" % (name, type(exc).__name__, exc)}
    if not isinstance(section, dict):
        return {"error": "%s: collector returned %s instead of a section" % (name, type(section).__name__)}
    return section


def _utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def gather(params: dict, check_mode: bool = False) -> dict:
    """Collect the requested sections and return ``imagicle_health``.

    ``params`` are the module's parameters (see the module's argument spec). Raises ValueError
    only for a bad ``gather_subset``; every collector failure stays inside its section.
    """
    started = time.time()
    sections = resolve_subset(params.get("gather_subset"))
    timeout = float(params.get("gather_timeout") or 10)
    options = collector_options(params)
    state = HostState(params.get("state_dir") or "/var/lib/imagicle-proactive", check_mode=check_mode)
    results = {}

    wanted_cpu = [name for name in CPU_SECTIONS if name in sections]
    sampler = None
    if HAS_PSUTIL and wanted_cpu:
        attrs = processes.sample_attrs(options["processes"]) if "processes" in wanted_cpu else ["pid"]
        sampler = _cpu.CpuSampler(float(params.get("cpu_interval") or 0.25), attrs)
        sampler.start()

    io_sections = [name for name in sections if name not in CPU_SECTIONS]
    threads = []
    for name in io_sections:
        if name in PSUTIL_SECTIONS and not HAS_PSUTIL:
            results[name] = {"error": "%s: %s" % (name, missing_psutil_message())}
            continue
        ctx = CollectContext(state, check_mode=check_mode, timeout=timeout)
        thread = threading.Thread(
            target=lambda n=name, c=ctx: results.__setitem__(n, run_collector(n, options[n], c)),
            name="collector-%s" % name,
        )
        thread.daemon = True
        thread.start()
        threads.append((name, thread))

    sample = sampler.finish() if sampler is not None else None
    for name in wanted_cpu:
        if not HAS_PSUTIL:
            results[name] = {"error": "%s: %s" % (name, missing_psutil_message())}
            continue
        ctx = CollectContext(state, check_mode=check_mode, timeout=timeout, cpu=sample)
        results[name] = run_collector(name, options[name], ctx)

    # Every I/O collector bounds its own calls by `timeout`; this is the backstop.
    deadline = started + timeout + 5
    for name, thread in threads:
        thread.join(max(0.0, deadline - time.time()))
        if thread.is_alive():
            results[name] = {
                "error": "%s: did not finish within %.0f s; raise gather_timeout or check the host"
                % (name, timeout + 5)
            }

    health = {
        "schema_version": SCHEMA_VERSION,
        "collected_at": _utc(started),
        "gather_subset": sections,
        "check_mode": bool(check_mode),
    }
    for name in sections:
        health[name] = results.get(name, {"error": "%s: produced no result" % name})
    health["duration_seconds"] = round(time.time() - started, 3)
    return health


def section_errors(health: dict) -> list:
    """The ``error`` or ``not_configured`` message of every section that has one, for the module's warnings."""
    return [
        health[name].get("error") or health[name]["not_configured"]
        for name in ALL_SECTIONS
        if isinstance(health.get(name), dict) and (health[name].get("error") or health[name].get("not_configured"))
    ]
