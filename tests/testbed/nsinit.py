# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tiny init for one test-bed host: PID 1 of the host's PID namespace.

Started by ``testbed.py`` through ``ip netns exec imp-<host> unshare --uts --mount
--propagation private --pid --fork --kill-child --mount-proc``. It

1. checks it really is PID 1 of a fresh PID namespace,
2. sets the host name (private UTS namespace),
3. loop-mounts the host's ext4 image (``--disk IMAGE:MOUNTPOINT``) and bind-mounts
   the host's private directories (``--bind SRC:DST``) in the private mount namespace,
4. starts ``sshd -D -e -f CONFIG``,
5. reaps every child (orphans of ssh sessions end up here) with ``waitpid(-1)``,
   forwards SIGTERM/SIGINT/SIGHUP to sshd, and exits with sshd's status when sshd
   exits. The kernel then kills whatever is left in the PID namespace.

Standard library only; messages go to stderr (the host's log file).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
from typing import List, Optional, Sequence

SSHD = "/usr/sbin/sshd"


def log(message: str) -> None:
    """Write one line to stderr, which testbed.py points at the host's log file."""
    sys.stderr.write("nsinit[%s]: %s\n" % (socket.gethostname(), message))
    sys.stderr.flush()


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse the command line given by testbed.py."""
    parser = argparse.ArgumentParser(description="PID 1 of one test-bed host namespace")
    parser.add_argument("--hostname", required=True, help="host name to set in the UTS namespace")
    parser.add_argument("--disk", action="append", default=[], metavar="IMAGE:MOUNTPOINT",
                        help="ext4 image to loop-mount (repeatable)")
    parser.add_argument("--bind", action="append", default=[], metavar="SRC:DST",
                        help="directory to bind-mount (repeatable)")
    parser.add_argument("--sshd-config", required=True, help="sshd configuration file")
    return parser.parse_args(list(argv))


def split_pair(value: str, option: str) -> List[str]:
    """Split ``A:B`` into two absolute paths or exit with a message naming the option."""
    left, sep, right = value.partition(":")
    if not sep or not left.startswith("/") or not right.startswith("/"):
        raise SystemExit("nsinit: %s expects ABSOLUTE_SRC:ABSOLUTE_DST, got %r" % (option, value))
    return [left, right]


def run(cmd: List[str]) -> None:
    """Run a setup command; exit with its output if it fails (nothing is half-started yet)."""
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    if proc.returncode != 0:
        raise SystemExit("nsinit: %s failed (exit %d): %s"
                         % (" ".join(cmd), proc.returncode, proc.stdout.strip()))


def setup(args: argparse.Namespace) -> None:
    """Set the host name and mount the host's private file systems."""
    socket.sethostname(args.hostname)
    for item in args.disk:
        image, mountpoint = split_pair(item, "--disk")
        run(["mount", "-o", "loop", image, mountpoint])
    for item in args.bind:
        source, target = split_pair(item, "--bind")
        run(["mount", "--bind", source, target])


def start_sshd(config: str) -> int:
    """Fork and exec ``sshd -D -e -f config``; return its PID."""
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.execv(SSHD, [SSHD, "-D", "-e", "-f", config])
        finally:
            os._exit(127)
    return pid


def supervise(sshd_pid: int) -> int:
    """Reap every child until sshd exits; return the exit code to use."""
    state = {"sshd": sshd_pid}

    def forward(signum: int, _frame: Optional[object]) -> None:
        try:
            os.kill(state["sshd"], signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)

    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            log("no children left")
            return 1
        if pid == sshd_pid:
            code = os.waitstatus_to_exitcode(status)
            log("sshd exited with %d" % code)
            return code if code >= 0 else 128 - code


def main(argv: Sequence[str]) -> int:
    """Entry point: set up the host, run sshd, reap children."""
    args = parse_args(argv)
    if os.getpid() != 1:
        raise SystemExit("nsinit: must run as PID 1 of a new PID namespace "
                         "(start it with unshare --pid --fork --mount-proc), pid is %d" % os.getpid())
    setup(args)
    sshd_pid = start_sshd(args.sshd_config)
    log("started sshd (pid %d in the host's namespace)" % sshd_pid)
    return supervise(sshd_pid)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
