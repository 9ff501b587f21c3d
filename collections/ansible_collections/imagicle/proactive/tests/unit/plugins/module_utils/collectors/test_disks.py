# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The disks collector on a real loop-mounted ext4 filesystem."""

from __future__ import annotations

import os
import shutil
import subprocess

import psutil
import pytest

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors import disks
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import (
    CollectContext,
    HostState,
)

MIB = 1024 * 1024


def _ctx(tmp_path):
    return CollectContext(HostState(str(tmp_path / "state")))


def _run(*command):
    subprocess.run(list(command), check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture
def ext4(tmp_path):
    """A 32 MiB ext4 image loop-mounted at ``tmp_path/mnt``; unmounted and detached afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a loop device needs root; run the disk tests as root")
    for tool in ("mkfs.ext4", "mount", "umount", "losetup"):
        if shutil.which(tool) is None:
            pytest.skip("%s is not installed" % tool)
    image = tmp_path / "disk.img"
    mount = tmp_path / "mnt"
    mount.mkdir()
    _run("truncate", "-s", "32M", str(image))
    _run("mkfs.ext4", "-F", "-q", "-N", "2048", str(image))
    _run("mount", "-o", "loop", str(image), str(mount))
    try:
        yield str(mount)
    finally:
        subprocess.run(["umount", str(mount)], check=False)
        attached = subprocess.run(["losetup", "-j", str(image)], stdout=subprocess.PIPE,
                                  universal_newlines=True, check=False).stdout
        for line in attached.splitlines():
            subprocess.run(["losetup", "-d", line.split(":", 1)[0]], check=False)


def _device_of(mount):
    return [part for part in psutil.disk_partitions(all=True) if part.mountpoint == mount][-1].device


def test_configured_mount_is_measured(tmp_path, ext4):
    empty = disks.collect({"mounts": [ext4]}, _ctx(tmp_path))["items"][0]
    assert empty["mount"] == ext4 and empty["fstype"] == "ext4"
    assert empty["device"] == _device_of(ext4) and empty["device"].startswith("/dev/loop")
    assert 25 * MIB < empty["total_bytes"] <= 32 * MIB
    assert empty["used_percent"] < 10
    assert empty["inodes_total"] == os.statvfs(ext4).f_files == 2048
    assert "error" not in empty

    with open(os.path.join(ext4, "fill.bin"), "wb") as handle:
        handle.write(b"\0" * (16 * MIB))
        handle.flush()
        os.fsync(handle.fileno())
    for index in range(500):
        open(os.path.join(ext4, "f%03d" % index), "w").close()
    full = disks.collect({"mounts": [ext4]}, _ctx(tmp_path))["items"][0]
    assert full["used_bytes"] - empty["used_bytes"] >= 16 * MIB
    usage = psutil.disk_usage(ext4)
    assert full["used_percent"] == round(usage.percent, 2)
    assert full["used_percent"] > 45
    assert full["free_bytes"] == usage.free
    stats = os.statvfs(ext4)
    expected = (stats.f_files - stats.f_ffree) * 100.0 / stats.f_files
    assert full["inodes_used_percent"] == round(expected, 2)
    assert full["inodes_used_percent"] > 500 * 100.0 / 2048


def test_discovery_lists_real_filesystems_and_honours_exclusions(tmp_path, ext4):
    items = disks.collect({"mounts": []}, _ctx(tmp_path))["items"]
    mounts = [item["mount"] for item in items]
    assert ext4 in mounts and "/" in mounts
    assert len(mounts) == len(set(mounts))
    assert all(item["fstype"] not in disks.DEFAULT_EXCLUDE for item in items)
    without_ext4 = disks.collect({"mounts": [], "exclude_fstypes": ["ext4"]}, _ctx(tmp_path))["items"]
    assert ext4 not in [item["mount"] for item in without_ext4]


def test_missing_mount_gives_an_error_item_and_the_others_still_come(tmp_path, ext4):
    missing = str(tmp_path / "not-there")
    items = disks.collect({"mounts": [missing, ext4]}, _ctx(tmp_path))["items"]
    assert items[0]["mount"] == missing and missing in items[0]["error"]
    assert items[1]["mount"] == ext4 and "error" not in items[1] and items[1]["total_bytes"] > 0


def test_directory_inside_a_mount_reports_that_filesystem(tmp_path, ext4):
    inner = os.path.join(ext4, "db")
    os.mkdir(inner)
    item = disks.collect({"mounts": [inner]}, _ctx(tmp_path))["items"][0]
    assert item["mount"] == inner and item["fstype"] == "ext4" and item["device"] == _device_of(ext4)
    assert item["total_bytes"] == psutil.disk_usage(ext4).total


def test_root_filesystem_is_measured(tmp_path):
    item = disks.collect({"mounts": ["/"]}, _ctx(tmp_path))["items"][0]
    assert item["mount"] == "/" and item["total_bytes"] == psutil.disk_usage("/").total
