# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One CPU sample for the whole host and every process, with a single wait.

``psutil.cpu_percent(interval)`` and ``Process.cpu_percent(interval)`` each sleep for the
interval; doing that per process would cost seconds. Instead :class:`CpuSampler` takes two
snapshots of the CPU times of the host and of every process, ``interval`` seconds apart, and
the module runs its other collectors in between::

    sampler = CpuSampler(0.5)
    sampler.start()
    ...                      # other collectors
    sample = sampler.finish()  # sleeps only what is left of the 0.5 s
    sample.system_percent, sample.process_percent(pid), sample.processes

Percentages follow psutil: the host figure is 0-100 over all CPUs (like
``psutil.cpu_percent()``), a process figure is relative to one CPU (like
``Process.cpu_percent()``: a process busy on two cores shows 200).
"""

from __future__ import annotations

import time

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._psutil import PSUTIL_IMPORT_ERROR, psutil

# What every process seen at finish() carries in ``.info`` (read once, in one pass).
PROCESS_ATTRS = ["pid", "name", "cmdline", "create_time", "memory_info", "cpu_times"]
# What finish() cannot do without: the percentages and the identity of each process.
REQUIRED_ATTRS = ("pid", "create_time", "cpu_times")


def _host_times(times) -> tuple:
    """(total, busy) CPU seconds from ``psutil.cpu_times()``, computed as psutil does."""
    total = sum(times)
    # On Linux guest time is already counted in user time.
    total -= getattr(times, "guest", 0.0) or 0.0
    total -= getattr(times, "guest_nice", 0.0) or 0.0
    busy = total - times.idle - (getattr(times, "iowait", 0.0) or 0.0)
    return total, busy


def _process_cpu(times) -> float:
    """User + system seconds of one process (children not included)."""
    return float(times.user) + float(times.system)


def _snapshot(attrs: list) -> list:
    """One pass over every process: a list of ``(process, info, monotonic time)``.

    Processes that vanish or deny access are skipped or carry ``None`` values; nothing raises.
    """
    found = []
    try:
        iterator = psutil.process_iter(attrs=attrs, ad_value=None)
        for proc in iterator:
            info = getattr(proc, "info", None)
            if info is None:
                continue
            found.append((proc, dict(info), time.monotonic()))
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        # process_iter itself does not raise these; a guard for old psutil releases.
        pass
    return found


class CpuSample:
    """The result of :meth:`CpuSampler.finish`."""

    def __init__(self, interval: float, system_percent: float, per_pid: dict, processes: list):
        #: Seconds actually elapsed between the two host snapshots.
        self.interval = interval
        #: Host CPU use in percent over ``interval`` (0-100, all CPUs together).
        self.system_percent = system_percent
        self._per_pid = per_pid
        #: The ``psutil.Process`` objects seen at the second snapshot. Each carries ``.info``,
        #: a dict with the sampler's attributes (:data:`PROCESS_ATTRS` unless it was asked for
        #: fewer); a value is None when access was denied.
        self.processes = processes

    def process_percent(self, pid: int):
        """CPU percent of ``pid`` over the sample (one CPU = 100), or None.

        None when the process was not in both snapshots, or when its create time changed
        (the pid was reused by another process).
        """
        return self._per_pid.get(pid)


class CpuSampler:
    """Takes the two snapshots of a :class:`CpuSample`; see the module docstring."""

    def __init__(self, interval: float, attrs=None):
        """``attrs``: what finish() reads of every process (default :data:`PROCESS_ATTRS`); each
        one costs a read of every process, so a caller that needs less (no ``cmdline`` when no
        process is matched by its command line) says so. :data:`REQUIRED_ATTRS` are always read."""
        if psutil is None:
            raise RuntimeError("psutil is required for CPU sampling: %s" % PSUTIL_IMPORT_ERROR)
        self.interval = max(0.0, float(interval))
        wanted = PROCESS_ATTRS if attrs is None else list(attrs)
        self.attrs = list(REQUIRED_ATTRS) + [attr for attr in wanted if attr not in REQUIRED_ATTRS]
        self._started = None
        self._host = None
        self._before = {}

    def start(self) -> "CpuSampler":
        """Snapshot the host and every process; returns self."""
        self._before = {}
        for _proc, info, stamp in _snapshot(["pid", "create_time", "cpu_times"]):
            if info.get("cpu_times") is None or info.get("create_time") is None:
                continue
            self._before[info["pid"]] = (info["create_time"], _process_cpu(info["cpu_times"]), stamp)
        self._host = psutil.cpu_times()
        self._started = time.monotonic()
        return self

    def finish(self) -> CpuSample:
        """Wait for what remains of the interval, snapshot again and return the sample."""
        if self._started is None:
            self.start()
        remaining = self.interval - (time.monotonic() - self._started)
        if remaining > 0:
            time.sleep(remaining)
        host_after = psutil.cpu_times()
        elapsed = time.monotonic() - self._started
        total_before, busy_before = _host_times(self._host)
        total_after, busy_after = _host_times(host_after)
        system_percent = 0.0
        if total_after - total_before > 0:
            system_percent = (busy_after - busy_before) / (total_after - total_before) * 100.0
            system_percent = min(100.0, max(0.0, system_percent))

        per_pid = {}
        processes = []
        for proc, info, stamp in _snapshot(self.attrs):
            proc.info = info
            processes.append(proc)
            before = self._before.get(info.get("pid"))
            if before is None or info.get("cpu_times") is None or info.get("create_time") is None:
                continue
            created, cpu_before, stamp_before = before
            if abs(created - info["create_time"]) > 0.01:
                continue
            wall = stamp - stamp_before
            if wall <= 0:
                continue
            used = max(0.0, _process_cpu(info["cpu_times"]) - cpu_before)
            per_pid[info["pid"]] = used / wall * 100.0
        return CpuSample(elapsed, system_percent, per_pid, processes)


def sample_for(ctx, interval: float = 0.5) -> CpuSample:
    """The context's finished sample; takes one of ``interval`` seconds if there is none.

    The module always passes a sample; this keeps a collector usable on its own.
    """
    if getattr(ctx, "cpu", None) is None:
        ctx.cpu = CpuSampler(interval).start().finish()
    return ctx.cpu
