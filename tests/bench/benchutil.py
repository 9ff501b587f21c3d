# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the benchmarks on the test bed share: the CPU time that a run cost the hosts."""

from __future__ import annotations

import json
import os
import subprocess

STATE_DIR = os.environ.get("IMAGICLE_TESTBED_STATE_DIR", "/var/tmp/imagicle-testbed")


def host_namespaces(state_dir: str = STATE_DIR) -> list:
    """The network namespace of each host of the test bed that runs from ``state_dir``."""
    try:
        with open(os.path.join(state_dir, "state.json"), encoding="utf-8") as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        state = {}
    if not state.get("hosts"):
        raise SystemExit("the test bed of %s is not up: run scripts/demo.sh up first" % state_dir)
    return [host["netns"] for host in state["hosts"]]


def sshd_cpu(namespaces: list) -> float:
    """CPU seconds that the hosts' sshd processes have collected from their finished children.

    Every command Ansible runs on a host (the module's Python, its shell) is a child of an
    sshd process of that host, which reaps it: the children CPU time (cutime + cstime) of
    all sshd processes in the host's namespace grows by exactly what the run cost the host.
    """
    total = 0
    for netns in namespaces:
        pids = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True,
                              check=False).stdout.split()
        for pid in pids:
            try:
                with open("/proc/%s/stat" % pid, encoding="ascii") as handle:
                    head, tail = handle.read().rsplit(")", 1)
            except OSError:
                continue
            if not head.endswith("(sshd"):
                continue
            fields = tail.split()
            total += int(fields[13]) + int(fields[14])  # cutime, cstime (fields 16, 17 of stat)
    return total / os.sysconf("SC_CLK_TCK")
