# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The metric history of a host: what each evaluation records, and what it reads back.

* :func:`host_metrics` maps one host's ``imagicle_health`` to the numbers the rules read:
  ``disk:<mount>:used_percent`` and ``disk:<mount>:total_bytes`` for every measured filesystem,
  ``database:used_percent`` for a database with a known limit, ``process:<id>:cpu_percent``,
  ``process:<id>:rss_bytes`` and ``process:<id>:start_time_epoch`` for every running process
  item, ``webserver:latency_ms`` and ``cloud:latency_ms`` when they answered,
  ``capacity:<app>:in_use`` and ``capacity:<app>:licensed`` per application, and
  ``replication:healthy`` (1 or 0) and ``replication:clock_skew_seconds`` when HA is configured.
  Only measured values: a value that is missing, null, NaN or of the wrong type, an item or a
  section with an error, facts of an unusable host, give no metric. :func:`space_metrics` is the
  disk and database part of it.
* :class:`History` is the history of those metrics as read from the state store, as the rules
  ask for it (``disk(mount)``, ``database()``, ``process(id, field)``...).
* :func:`remember` records this run's metrics in the state store, reads back the window each
  metric's rules need (``rules.history_windows``) and keeps the store small
  (``Store.compact_metrics``, at most once per UTC hour and host); a store that cannot be used
  gives no history and a warning, never an error: the host is evaluated on its facts alone.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone

from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import (
    CAPACITY_APPS,
    PROCESS_FIELDS,
    clean_text,
    history_windows,
    metric_kind,
    not_reporting_reason,
    number,
    read_for_changes,
)

DATABASE_USED_PERCENT = "database:used_percent"
WEBSERVER_LATENCY_MS = "webserver:latency_ms"
CLOUD_LATENCY_MS = "cloud:latency_ms"
REPLICATION_HEALTHY = "replication:healthy"
REPLICATION_CLOCK_SKEW = "replication:clock_skew_seconds"
CAPACITY_FIELDS = ("in_use", "licensed")


def disk_metric(mount: str, field: str) -> str:
    """The metric name of ``field`` (used_percent, total_bytes) of the disk at ``mount`` (as in the alarm's subject)."""
    return "disk:%s:%s" % (mount, field)


def process_metric(process_id: str, field: str) -> str:
    """The metric name of ``field`` (cpu_percent, rss_bytes, start_time_epoch) of process item ``process_id``."""
    return "process:%s:%s" % (process_id, field)


def capacity_metric(app: str, field: str) -> str:
    """The metric name of ``field`` (in_use, licensed) of the capacity application ``app``."""
    return "capacity:%s:%s" % (app, field)


def space_metrics(health) -> dict[str, float]:
    """The numbers of one host's facts that the space rules read, by metric name.

    A mount is named as the disk_space alarm names it (its text made safe); when two disks give
    the same name, the first one counts, as for the alarm.
    """
    if not_reporting_reason(health) is not None:
        return {}
    metrics: dict[str, float] = {}
    disks = health.get("disks")
    items = disks.get("items") if isinstance(disks, dict) else None
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict) or item.get("error"):
            continue
        mount = clean_text(item.get("mount"))
        for field in ("used_percent", "total_bytes"):
            value = number(item.get(field))
            if value is not None:
                metrics.setdefault(disk_metric(mount, field), float(value))
    database = health.get("database")
    if isinstance(database, dict) and database.get("configured") is True and not database.get("error"):
        used = number(database.get("used_percent"))
        if used is not None:
            metrics[DATABASE_USED_PERCENT] = float(used)
    return metrics


def _section(health: dict, name: str) -> dict:
    """The section ``name`` when it is a mapping without an error, else an empty one (nothing measured)."""
    section = health.get(name)
    return section if isinstance(section, dict) and not section.get("error") else {}


def _process_metrics(health: dict, metrics: dict) -> None:
    items = _section(health, "processes").get("items")
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict) or item.get("error") or item.get("running") is not True:
            continue
        process = clean_text(item.get("id"))
        for field in PROCESS_FIELDS:
            value = number(item.get(field))
            if value is not None:
                metrics.setdefault(process_metric(process, field), float(value))


def _service_metrics(health: dict, metrics: dict) -> None:
    web = _section(health, "webserver")
    latency = number(web.get("latency_ms")) if web.get("up") is True else None
    if latency is not None:
        metrics[WEBSERVER_LATENCY_MS] = float(latency)
    cloud = _section(health, "cloud")
    latency = number(cloud.get("latency_ms")) if cloud.get("reachable") is True else None
    if latency is not None:
        metrics[CLOUD_LATENCY_MS] = float(latency)
    apps = _section(health, "capacity").get("apps")
    for app in CAPACITY_APPS:
        usage = apps.get(app) if isinstance(apps, dict) else None
        if not isinstance(usage, dict) or usage.get("error"):
            continue
        for field in CAPACITY_FIELDS:
            value = number(usage.get(field))
            if value is not None:
                metrics[capacity_metric(app, field)] = float(value)
    replication = _section(health, "replication")
    if replication.get("configured") is True:
        if isinstance(replication.get("healthy"), bool):
            metrics[REPLICATION_HEALTHY] = 1.0 if replication["healthy"] else 0.0
        skew = number(replication.get("clock_skew_seconds"))
        if skew is not None:
            metrics[REPLICATION_CLOCK_SKEW] = float(skew)


def host_metrics(health) -> dict[str, float]:
    """Every number of one host's facts that the rules read, by metric name (see the module's text).

    The space metrics are those of :func:`space_metrics`. A process item is named as its alarms
    name it (its id made safe; the first of two items with one name counts) and records only
    while it runs: a process that is down has no CPU, memory or start time to remember.
    """
    if not_reporting_reason(health) is not None:
        return {}
    metrics = space_metrics(health)
    _process_metrics(health, metrics)
    _service_metrics(health, metrics)
    return metrics


@dataclasses.dataclass(frozen=True)
class History:
    """The recorded values of a host's metrics, ``{name: ((time, value), ...)}`` oldest first."""

    series: Mapping[str, tuple] = dataclasses.field(default_factory=lambda: types.MappingProxyType({}))

    def points(self, name: str) -> list:
        """The history of metric ``name`` (empty when none)."""
        return list(self.series.get(name, ()))

    def disk(self, mount: str) -> tuple[list, list]:
        """(used_percent, total_bytes) history of the disk at ``mount``."""
        return self.points(disk_metric(mount, "used_percent")), self.points(disk_metric(mount, "total_bytes"))

    def database(self) -> list:
        """The database's used_percent history."""
        return self.points(DATABASE_USED_PERCENT)

    def process(self, process_id: str, field: str) -> list:
        """The history of ``field`` (cpu_percent, rss_bytes, start_time_epoch) of process item ``process_id``."""
        return self.points(process_metric(process_id, field))

    def capacity(self, app: str) -> tuple[list, list]:
        """(in_use, licensed) history of the capacity application ``app``."""
        return self.points(capacity_metric(app, "in_use")), self.points(capacity_metric(app, "licensed"))

    def webserver_latency(self) -> list:
        """The web portal's latency history, ms (runs when it answered)."""
        return self.points(WEBSERVER_LATENCY_MS)

    def cloud_latency(self) -> list:
        """The vendor cloud's latency history, ms (runs when it answered)."""
        return self.points(CLOUD_LATENCY_MS)

    def replication(self) -> tuple[list, list]:
        """(healthy as 1 or 0, clock skew in seconds) history of HA replication."""
        return self.points(REPLICATION_HEALTHY), self.points(REPLICATION_CLOCK_SKEW)


@dataclasses.dataclass(frozen=True)
class Remembered:
    """What :func:`remember` did: the history to evaluate with (None: none) and the warnings."""

    history: History | None
    recorded: int = 0
    warnings: tuple[str, ...] = ()


WHAT_TO_DO = ("check the state store setting (IMAGICLE_STATE_STORE, else [imagicle_cases] store in ansible.cfg) and that "
              "the store can be reached and written from this controller")


def history_names(health) -> list[str]:
    """The metrics whose history the rules read for these facts: what they measure, and the
    process items that are down now (a restart loop stays visible while the process is down)."""
    names = set(host_metrics(health))
    if not_reporting_reason(health) is None:
        items = _section(health, "processes").get("items")
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict) and not item.get("error"):
                names.update(process_metric(clean_text(item.get("id")), field) for field in PROCESS_FIELDS)
    return sorted(names)


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _compacted_this_hour(history: History, at: datetime) -> bool:
    """Whether an earlier run of this UTC hour recorded (and so compacted) already.

    Compaction only moves on when ``at`` enters a new hour (its periods end on whole hours), so
    a second compaction within the hour finds nothing to do; skipping it saves reading the
    host's whole compacted history on every run.
    """
    hour = _hour(at.astimezone(timezone.utc))
    for points in history.series.values():
        for when, dummy in reversed(points):
            if when < at:
                if _hour(when.astimezone(timezone.utc)) == hour:
                    return True
                break
    return False


def remember(open_store: Callable, host: str, health, at: datetime, record: bool = True,
             windows: Mapping[str, timedelta] | None = None) -> Remembered:
    """Record the metrics of ``host`` at ``at``, and read back the window each one's rules need.

    ``open_store()`` opens the state store (a context manager). Nothing is opened when the facts
    measure nothing (an unreachable host). ``windows`` maps a metric kind (``rules.metric_kind``)
    to how far back its rules read (``rules.history_windows(catalogue)``; None: the default
    catalogue's); a kind without a window is recorded but not read back. Old history is then
    compacted (``compact_metrics``), once per UTC hour and host: the first run of an hour does it.
    With ``record`` false (check mode) the history is only read: nothing is written.
    A store that cannot be opened, written or read (or a setting of the store that cannot be
    read) gives no history and a warning that names the store and what to do; a compaction that
    fails only a warning. Nothing here raises: the host is always evaluated.
    """
    metrics = host_metrics(health)
    if not metrics:
        return Remembered(None)
    windows = history_windows() if windows is None else windows
    reads = [(name, windows.get(metric_kind(name))) for name in history_names(health)]
    warnings = []
    try:
        with open_store() as store:
            recorded = store.record_metrics(host, at, metrics) if record else 0
            windows = {name: at - window for name, window in reads if window}
            history = History(types.MappingProxyType(store.metrics(host, windows, changes=[
                name for name in windows if read_for_changes(name)])))
            try:
                if record and not _compacted_this_hour(history, at):
                    store.compact_metrics(at, host=host)
            except Exception as exc:  # pylint: disable=broad-exception-caught  # history never keeps a host from being evaluated
                warnings.append("host %s: old metric history was not compacted this run (%s); it is tried again by "
                                "the first evaluation of the next hour - %s" % (host, exc, WHAT_TO_DO))
    except Exception as exc:  # pylint: disable=broad-exception-caught  # history never keeps a host from being evaluated
        return Remembered(None, 0, ("host %s: the metric history in the state store could not be used (%s); the host "
                                    "was evaluated on this run's facts only, without its history (predicted disk and "
                                    "database space, unusual behaviour of its processes) - %s" % (host, exc, WHAT_TO_DO),))
    return Remembered(history, recorded, tuple(warnings))
