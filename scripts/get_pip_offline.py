# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip.py script that ansible-test downloads.

ansible-test bootstraps pip in each of its sanity virtual environments by running a cached
``get-pip`` script. That script is normally downloaded from a host this project's machines do
not reach; scripts/setup.sh copies this file into ansible-test's cache instead. It installs pip
from the interpreter's own ``ensurepip`` wheel, then lets that pip install the pinned packages
from the configured package index, with the caller's environment (ensurepip blanks
PIP_CONFIG_FILE, which would lose the index and TLS settings).
"""

from __future__ import annotations

import ensurepip
import os
import subprocess
import sys


def main() -> int:
    environment = dict(os.environ)
    ensurepip.bootstrap(upgrade=True)
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    if not args:
        return 0
    command = [sys.executable, "-m", "pip", "install", "--upgrade"] + args
    return subprocess.call(command, env=environment)


if __name__ == "__main__":
    sys.exit(main())
