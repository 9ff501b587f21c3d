# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``disks`` section: space and inodes of the filesystems that matter.

Options::

    {"mounts": ["/srv/appsuite"],     # empty: every real filesystem of the host
     "exclude_fstypes": ["squashfs", "tmpfs", "devtmpfs", "overlay", "iso9660"]}

With ``mounts`` empty, every filesystem ``psutil.disk_partitions(all=False)`` lists is
reported, less the excluded types, each filesystem once (a bind mount of a device already
listed is left out). A configured mount is always reported, whatever its type; when the path
is a directory on a larger filesystem (not a mount point itself), the filesystem holding it is
measured and ``device``/``fstype`` are those of that filesystem. A configured path that does not exist gives an item with ``error``; the other
items are still returned.

``used_percent`` is psutil's (space reserved for root counts as unavailable);
``inodes_used_percent`` is null on filesystems that have no fixed inode table (btrfs, ...).
"""

from __future__ import annotations

import os

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import (
    CollectorError,
    round2,
)

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._psutil import psutil

DEFAULT_EXCLUDE = ["squashfs", "tmpfs", "devtmpfs", "overlay", "iso9660"]


def _partitions(all_filesystems: bool) -> list:
    try:
        return list(psutil.disk_partitions(all=all_filesystems))
    except OSError as exc:
        raise CollectorError("cannot list mounted filesystems (%s); is /proc mounted?" % exc)


def _containing(path: str, partitions: list):
    """The partition whose mount point holds ``path`` (longest prefix), or None."""
    real = os.path.realpath(path)
    best = None
    for part in partitions:
        mount = part.mountpoint
        prefix = mount if mount.endswith(os.sep) else mount + os.sep
        if real == mount or real.startswith(prefix):
            if best is None or len(mount) >= len(best.mountpoint):
                # Later entries win on a tie: the last mount over a path is the visible one.
                best = part
    return best


def measure(mount: str, device, fstype) -> dict:
    """Space and inode figures of the filesystem holding ``mount``.

    Raises OSError when the path cannot be measured.
    """
    usage = psutil.disk_usage(mount)
    stats = os.statvfs(mount)
    inodes_total = int(stats.f_files)
    inodes_used = inodes_total - int(stats.f_ffree)
    return {
        "mount": mount,
        "device": device,
        "fstype": fstype,
        "total_bytes": int(usage.total),
        "used_bytes": int(usage.used),
        "free_bytes": int(usage.free),
        "used_percent": round2(usage.percent),
        "inodes_total": inodes_total,
        "inodes_used_percent": round2(inodes_used * 100.0 / inodes_total) if inodes_total else None,
    }


def _item(mount: str, partition) -> dict:
    device = partition.device if partition is not None else None
    fstype = partition.fstype if partition is not None else None
    if not os.path.exists(mount):
        return {
            "mount": mount,
            "device": None,
            "fstype": None,
            "error": "mount %s does not exist on this host; fix disks.mounts or mount the filesystem" % mount,
        }
    try:
        return measure(mount, device, fstype)
    except OSError as exc:
        return {
            "mount": mount,
            "device": device,
            "fstype": fstype,
            "error": "cannot measure %s (%s)" % (mount, exc.strerror or exc),
        }


def collect(options: dict, ctx) -> dict:
    """Return the ``disks`` section."""
    if psutil is None:
        raise CollectorError("the psutil Python library is missing on this host; install python3-psutil")
    mounts = [str(mount) for mount in (options.get("mounts") or [])]
    excluded = options.get("exclude_fstypes")
    excluded = set(DEFAULT_EXCLUDE if excluded is None else excluded)
    items = []
    if mounts:
        partitions = _partitions(True)
        for mount in mounts:
            items.append(_item(mount, _containing(mount, partitions)))
        return {"items": items}
    seen = set()
    for part in _partitions(False):
        # A bind mount shows the same device again: report each filesystem once.
        key = part.device if part.device.startswith("/dev/") else part.mountpoint
        if part.fstype in excluded or key in seen or part.mountpoint in seen:
            continue
        seen.update((key, part.mountpoint))
        items.append(_item(part.mountpoint, part))
    return {"items": items}
