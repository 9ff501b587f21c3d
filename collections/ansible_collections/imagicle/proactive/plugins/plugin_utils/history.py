# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The metric history of a host: what each evaluation records, and what it reads back.

* :func:`space_metrics` maps one host's ``imagicle_health`` to the numbers the disk and
  database space rules read: ``disk:<mount>:used_percent`` and ``disk:<mount>:total_bytes`` for
  every measured filesystem, ``database:used_percent`` for a database with a known limit. Only
  measured values: a value that is missing, null, NaN or of the wrong type, a disk with an error,
  facts of an unusable host, give no metric.
* :class:`History` is the history of those metrics as read from the state store, as the rules
  ask for it (``disk(mount)``, ``database()``).
* :func:`remember` records this run's metrics in the state store, reads back the window the
  rules need and keeps the store small (``Store.compact_metrics``); a store that cannot be used
  gives no history and a warning, never an error: the host is evaluated on its facts alone.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping
from datetime import datetime

from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import (
    PREDICTION_WINDOW,
    clean_text,
    not_reporting_reason,
    number,
)

DATABASE_USED_PERCENT = "database:used_percent"


def disk_metric(mount: str, field: str) -> str:
    """The metric name of ``field`` (used_percent, total_bytes) of the disk at ``mount`` (as in the alarm's subject)."""
    return "disk:%s:%s" % (mount, field)


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


@dataclasses.dataclass(frozen=True)
class Remembered:
    """What :func:`remember` did: the history to evaluate with (None: none) and the warnings."""

    history: History | None
    recorded: int = 0
    warnings: tuple[str, ...] = ()


WHAT_TO_DO = ("check the state store setting (IMAGICLE_STATE_STORE, else [imagicle_cases] store in ansible.cfg) and that "
              "the store can be reached and written from this controller")


def remember(open_store: Callable, host: str, health, at: datetime, window=PREDICTION_WINDOW,
             record: bool = True) -> Remembered:
    """Record the space metrics of ``host`` at ``at``, and read back their last ``window``.

    ``open_store()`` opens the state store (a context manager). Nothing is opened when the facts
    measure nothing (an unreachable host). Old history is then compacted (``compact_metrics``).
    With ``record`` false (check mode) the history is only read: nothing is written.
    A store that cannot be opened, written or read (or a setting of the store that cannot be
    read) gives no history and a warning that names the store and what to do; a compaction that
    fails only a warning. Nothing here raises: the host is always evaluated.
    """
    metrics = space_metrics(health)
    if not metrics:
        return Remembered(None)
    warnings = []
    try:
        with open_store() as store:
            recorded = store.record_metrics(host, at, metrics) if record else 0
            history = History(types.MappingProxyType({name: tuple(store.metrics(host, name, at - window))
                                                      for name in sorted(metrics)}))
            try:
                if record:
                    store.compact_metrics(at, host=host)
            except Exception as exc:  # pylint: disable=broad-exception-caught  # history never keeps a host from being evaluated
                warnings.append("host %s: old metric history was not compacted this run (%s); it is tried again at "
                                "the next evaluation - %s" % (host, exc, WHAT_TO_DO))
    except Exception as exc:  # pylint: disable=broad-exception-caught  # history never keeps a host from being evaluated
        return Remembered(None, 0, ("host %s: the metric history in the state store could not be used (%s); the host "
                                    "was evaluated on this run's facts only, without predicted disk and database "
                                    "space - %s" % (host, exc, WHAT_TO_DO),))
    return Remembered(history, recorded, tuple(warnings))
