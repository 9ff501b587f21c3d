# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Installs the awx.awx collection alone from the community ``ansible`` wheel on PyPI, for
machines that reach PyPI but not Galaxy.

The wheel (pinned version, checked against its sha256) holds every community collection under
``ansible_collections/``; only ``ansible_collections/awx/awx/`` is extracted, into the running
Python's site-packages, where ansible-core finds collections on ``sys.path``. Does nothing when
the wanted version is already there.

Usage: python install_awx_collection.py WHEEL_VERSION WHEEL_SHA256 AWX_VERSION
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile

PREFIX = "ansible_collections/awx/awx/"


def installed_version(target: str) -> str | None:
    """The version of the awx.awx in ``target``, or None."""
    try:
        with open(os.path.join(target, "MANIFEST.json"), encoding="utf-8") as handle:
            return json.load(handle)["collection_info"]["version"]
    except (OSError, ValueError, KeyError):
        return None


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(wheel_version: str, directory: str) -> str:
    """``pip download`` of the wheel alone (no dependencies, no source build)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
                    "--only-binary=:all:", "ansible==%s" % wheel_version, "-d", directory], check=True)
    [wheel] = [name for name in os.listdir(directory) if name.endswith(".whl")]
    return os.path.join(directory, wheel)


def extract(wheel: str, target: str) -> None:
    """The awx.awx tree of the wheel into ``target``, replacing what was there in one rename."""
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".awx-", dir=parent)
    try:
        with zipfile.ZipFile(wheel) as archive:
            members = [name for name in archive.namelist() if name.startswith(PREFIX) and not name.endswith("/")]
            if not members:
                raise SystemExit("install_awx_collection: the wheel holds no %s" % PREFIX)
            for name in members:
                relative = name[len(PREFIX):]
                path = os.path.normpath(os.path.join(staging, relative))
                if not path.startswith(staging + os.sep):
                    raise SystemExit("install_awx_collection: unsafe path in the wheel: %s" % name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with archive.open(name) as source, open(path, "wb") as destination:
                    shutil.copyfileobj(source, destination)
        if os.path.exists(target):
            shutil.rmtree(target)
        os.rename(staging, target)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)


def main(argv: list) -> int:
    wheel_version, wheel_sha256, awx_version = argv
    target = os.path.join(sysconfig.get_paths()["purelib"], *PREFIX.strip("/").split("/"))
    if installed_version(target) == awx_version:
        return 0
    with tempfile.TemporaryDirectory(prefix="awx-wheel-") as directory:
        wheel = download(wheel_version, directory)
        actual = sha256(wheel)
        if actual != wheel_sha256:
            print("install_awx_collection: %s has sha256 %s, expected %s" % (os.path.basename(wheel), actual,
                                                                              wheel_sha256), file=sys.stderr)
            return 1
        extract(wheel, target)
    found = installed_version(target)
    if found != awx_version:
        print("install_awx_collection: the wheel holds awx.awx %s, expected %s" % (found, awx_version), file=sys.stderr)
        return 1
    print("setup: installed awx.awx %s into %s" % (found, target))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
