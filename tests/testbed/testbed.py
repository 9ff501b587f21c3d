# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test bed: N managed hosts as Linux namespaces, each with its own sshd.

Every host is a network namespace ``imp-<host>`` on the private bridge ``impbr0``
(10.231.47.1/24, no default route anywhere: traffic cannot leave), plus a private
UTS, mount and PID namespace whose PID 1 is ``nsinit.py``. Each host has its own
hostname, its own loop-mounted ext4 disk at ``/srv/appsuite``, its own
``/var/lib/imagicle-proactive``, its own ``sshd`` (key-only root login), and root's
``~/.bashrc`` is a server's, not the machine's. Everything else (/, /usr, memory, CPUs)
is shared with the real machine.

Command line (root only)::

    python3 tests/testbed/testbed.py up --hosts 2 [--prefix ias] [--state-dir DIR] [--disk-mb 64]
                                        [--sim light|full]    # and start the simulated AppSuite
    python3 tests/testbed/testbed.py sim-start [--mode light|full] [--no-peers] [--workers N]
    python3 tests/testbed/testbed.py sim-stop
    python3 tests/testbed/testbed.py status            # JSON
    python3 tests/testbed/testbed.py exec ias-a -- hostname
    python3 tests/testbed/testbed.py inventory         # prints the inventory path
    python3 tests/testbed/testbed.py down

As a module::

    from testbed import Testbed
    bed = Testbed()
    hosts = bed.up(2)
    bed.start_simulators(light=True)   # the simulated AppSuite in every host, in parallel
    bed.exec("ias-a", ["hostname"]).stdout
    bed.inventory_path
    bed.down()

Only objects with the test bed's names are ever touched: network namespaces
``imp-*``, links ``impv-*`` and the bridge ``impbr0``. There is one test bed per
machine: ``up`` and ``down`` clean every object with these names.
Standard library only.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import fcntl
import glob
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Sequence

DEFAULT_STATE_DIR = os.environ.get("IMAGICLE_TESTBED_STATE_DIR", "/var/tmp/imagicle-testbed")
DEFAULT_PREFIX = "ias"
DEFAULT_DISK_MB = 64

BRIDGE = "impbr0"
NETNS_PREFIX = "imp-"
VETH_PREFIX = "impv-"
SUBNET = "10.231.47.0/24"
BRIDGE_IP = "10.231.47.1"
FIRST_HOST_OCTET = 11
MAX_HOSTS = 254 - FIRST_HOST_OCTET + 1

APPSUITE_MOUNT = "/srv/appsuite"
STATE_MOUNT = "/var/lib/imagicle-proactive"
SSHD_PRIVSEP_DIR = "/run/sshd"
LOCK_FILE = "/run/imagicle-testbed.lock"
HOST_PYTHON = "/usr/bin/python3"
# bash runs root's ~/.bashrc for every command sshd starts. The machine's own (a developer's: pyenv init,
# tool paths; about 0.1 s of CPU each time) is not a server's: each host sees this one over it, in its
# private mount namespace, so that what the hosts spend is what Ansible's commands cost.
MACHINE_ROOT_BASHRC = "/root/.bashrc"
ROOT_BASHRC = "# root's ~/.bashrc of a test-bed host (tests/testbed/testbed.py): a server's, with nothing to start\n"
NSINIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nsinit.py")
SIMULATOR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "simulator", "appsuite_sim.py")
SIM_HTTPS_PORT = 443
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
REQUIRED_TOOLS = ("ip", "unshare", "nsenter", "losetup", "mount", "truncate", "mkfs.ext4",
                  "ssh", "ssh-keygen")

# Files and directories that up() creates in the state directory; down() removes only these.
# The simulators' shared CA and Web API password (start_simulators, playbooks/simulator.yml) go too.
STATE_FILES = ("state.json", "inventory.yml", "ssh_config", "authorized_keys",
               "id_ed25519", "id_ed25519.pub", "webapi-password")
STATE_DIRS = ("hosts", "sim-ca")

# unshare processes started by this Python process, kept to reap them (no zombies).
_SPAWNED: Dict[int, subprocess.Popen] = {}


class TestbedError(Exception):
    """The test bed could not be brought up, inspected or torn down."""

    __test__ = False  # not a pytest test class


def host_letters(index: int) -> str:
    """Return the letters of host number ``index`` (0 -> a, 25 -> z, 26 -> aa, ...)."""
    letters = ""
    index += 1
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _run(cmd: Sequence[str], check: bool = True, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run a command, capture its output; raise TestbedError naming it when ``check`` fails."""
    try:
        proc = subprocess.run(list(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True,
                              timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TestbedError("%s: %s" % (" ".join(cmd), exc)) from exc
    if check and proc.returncode != 0:
        raise TestbedError("%s failed (exit %d): %s"
                           % (" ".join(cmd), proc.returncode, (proc.stderr or proc.stdout).strip()))
    return proc


def _pid_alive(pid: Optional[int]) -> bool:
    """True when ``pid`` names a live (non-zombie) process."""
    if not pid:
        return False
    try:
        with open("/proc/%d/stat" % pid) as handle:
            stat = handle.read()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _is_testbed_process(pid: Optional[int]) -> bool:
    """True when ``pid`` is an unshare/nsinit process of a test bed (guards against PID reuse)."""
    if not pid:
        return False
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return b"nsinit.py" in handle.read()
    except OSError:
        return False


def _kill(pid: int) -> None:
    """SIGKILL one process, ignoring a process that is already gone."""
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _reap_spawned() -> None:
    """Collect the exit status of unshare processes this Python process started."""
    for pid, proc in list(_SPAWNED.items()):
        if proc.poll() is not None:
            del _SPAWNED[pid]


def _children(pid: int) -> List[int]:
    """Child PIDs of ``pid`` (from /proc/PID/task/*/children, else a /proc scan)."""
    found: List[int] = []
    paths = glob.glob("/proc/%d/task/*/children" % pid)
    if paths:
        for path in paths:
            try:
                with open(path) as handle:
                    found.extend(int(part) for part in handle.read().split())
            except OSError:
                continue
        return found
    for stat_path in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat_path) as handle:
                fields = handle.read().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat_path.split("/")[2]))
    return found


def _ns_pid_one(pid: int) -> bool:
    """True when ``pid`` is PID 1 of its own (child) PID namespace."""
    try:
        with open("/proc/%d/status" % pid) as handle:
            for line in handle:
                if line.startswith("NSpid:"):
                    parts = line.split()[1:]
                    return len(parts) >= 2 and parts[-1] == "1"
    except OSError:
        return False
    return False


def _netns_list() -> List[str]:
    """Names of the test bed's network namespaces (``imp-*``) that exist now."""
    proc = _run(["ip", "netns", "list"], check=False)
    names = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    return [name for name in names if name.startswith(NETNS_PREFIX)]


def _links() -> List[str]:
    """Names of the test bed's links in the root namespace (``impv-*`` and the bridge)."""
    proc = _run(["ip", "-j", "link", "show"], check=False)
    try:
        links = json.loads(proc.stdout or "[]")
    except ValueError:
        return []
    names = [link.get("ifname", "") for link in links]
    return [name for name in names if name.startswith(VETH_PREFIX) or name == BRIDGE]


def _netns_pids(name: str) -> List[int]:
    """PIDs of the processes living in network namespace ``name``."""
    proc = _run(["ip", "netns", "pids", name], check=False)
    return [int(part) for part in proc.stdout.split() if part.isdigit()]


def _tail(path: str, lines: int = 15) -> str:
    """The last lines of a log file, for error messages."""
    try:
        with open(path, errors="replace") as handle:
            return "".join(handle.readlines()[-lines:]).strip()
    except OSError as exc:
        return "(no log: %s)" % exc


@contextmanager
def _locked() -> Iterator[None]:
    """Serialise up/down of the (single, machine-wide) test bed."""
    with open(LOCK_FILE, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Testbed:
    """N managed hosts as namespaces with their own sshd (see the module docstring)."""

    __test__ = False  # not a pytest test class

    def __init__(self, state_dir: str = DEFAULT_STATE_DIR, prefix: str = DEFAULT_PREFIX,
                 disk_mb: int = DEFAULT_DISK_MB, ready_timeout: float = 20.0) -> None:
        self.state_dir = os.path.abspath(state_dir)
        self.prefix = prefix
        self.disk_mb = disk_mb
        self.ready_timeout = ready_timeout

    # -- paths -------------------------------------------------------------------------

    @property
    def inventory_path(self) -> str:
        """The Ansible inventory written by ``up``."""
        return os.path.join(self.state_dir, "inventory.yml")

    @property
    def state_path(self) -> str:
        """The JSON record of the running test bed."""
        return os.path.join(self.state_dir, "state.json")

    @property
    def ssh_config_path(self) -> str:
        """An ssh_config with one ``Host`` entry per host (``ssh -F PATH ias-a``)."""
        return os.path.join(self.state_dir, "ssh_config")

    @property
    def client_key(self) -> str:
        """The private key that every host's root accepts."""
        return os.path.join(self.state_dir, "id_ed25519")

    @property
    def control_path(self) -> str:
        """The ssh ControlPath pattern used in the inventory (one socket per connection)."""
        return os.path.join(self.state_dir, "cp-%C")

    # -- state -------------------------------------------------------------------------

    def load_state(self) -> Dict[str, Any]:
        """Read state.json; an empty record when it is missing or unreadable."""
        try:
            with open(self.state_path) as handle:
                state = json.load(handle)
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def _save_state(self, state: Dict[str, Any]) -> None:
        tmp = self.state_path + ".tmp"
        with open(tmp, "w") as handle:
            json.dump(state, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(tmp, self.state_path)

    def hosts(self) -> List[Dict[str, Any]]:
        """The host records of the running test bed (from state.json)."""
        hosts = self.load_state().get("hosts", [])
        return hosts if isinstance(hosts, list) else []

    def host(self, name: str) -> Dict[str, Any]:
        """The record of host ``name``; TestbedError if the test bed has no such host."""
        for record in self.hosts():
            if record.get("name") == name:
                return record
        known = ", ".join(h.get("name", "?") for h in self.hosts()) or "none (is it up?)"
        raise TestbedError("no test-bed host %r in %s; hosts: %s" % (name, self.state_path, known))

    # -- up ----------------------------------------------------------------------------

    def _check_prerequisites(self, count: int) -> None:
        if os.geteuid() != 0:
            raise TestbedError("the test bed needs root (namespaces, bridge, loop mounts)")
        if not 1 <= count <= MAX_HOSTS:
            raise TestbedError("--hosts must be between 1 and %d, got %d" % (MAX_HOSTS, count))
        if not re.match(r"^[a-z][a-z0-9-]{0,19}$", self.prefix):
            raise TestbedError("prefix %r must be 1-20 of a-z, 0-9, '-' starting with a letter"
                               % self.prefix)
        if self.disk_mb < 8:
            raise TestbedError("--disk-mb must be at least 8, got %d" % self.disk_mb)
        if re.search(r"\s", self.state_dir) or len(self.state_dir) > 60:
            raise TestbedError("state dir %r must have no whitespace and at most 60 characters "
                               "(sshd config paths, ssh control socket length)" % self.state_dir)
        missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
        for path in ("/usr/sbin/sshd", HOST_PYTHON, NSINIT):
            if not os.path.exists(path):
                missing.append(path)
        if missing:
            raise TestbedError("missing: %s (apt-get install openssh-server iproute2 "
                               "e2fsprogs util-linux)" % ", ".join(missing))

    def _plan(self, count: int) -> List[Dict[str, Any]]:
        hosts = []
        for index in range(count):
            letters = host_letters(index)
            name = "%s-%s" % (self.prefix, letters)
            host_dir = os.path.join(self.state_dir, "hosts", name)
            hosts.append({
                "name": name,
                "ip": "10.231.47.%d" % (FIRST_HOST_OCTET + index),
                "netns": NETNS_PREFIX + name,
                "veth": VETH_PREFIX + letters,
                "dir": host_dir,
                "disk_image": os.path.join(host_dir, "disk.img"),
                "disk_mb": self.disk_mb,
                "disk_mount": APPSUITE_MOUNT,
                "private_state_dir": os.path.join(host_dir, "imagicle-proactive"),
                "state_mount": STATE_MOUNT,
                "sshd_config": os.path.join(host_dir, "sshd_config"),
                "host_key": os.path.join(host_dir, "ssh_host_ed25519_key"),
                "root_bashrc": os.path.join(host_dir, "root_bashrc"),
                "log": os.path.join(host_dir, "host.log"),
                "unshare_pid": None,
                "init_pid": None,
            })
        return hosts

    def _write_sshd_config(self, host: Dict[str, Any]) -> None:
        lines = [
            "# sshd of test-bed host %s (written by tests/testbed/testbed.py)" % host["name"],
            "ListenAddress %s:22" % host["ip"],
            "HostKey %s" % host["host_key"],
            "PidFile none",
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "AuthorizedKeysFile %s" % os.path.join(self.state_dir, "authorized_keys"),
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "UseDNS no",
            "PrintMotd no",
            "PrintLastLog no",
            "MaxStartups 100:30:200",
            "MaxSessions 50",
            "AcceptEnv LANG LC_*",
            "Subsystem sftp /usr/lib/openssh/sftp-server",
            "LogLevel INFO",
        ]
        with open(host["sshd_config"], "w") as handle:
            handle.write("\n".join(lines) + "\n")

    def _prepare_host_files(self, host: Dict[str, Any]) -> None:
        os.makedirs(host["private_state_dir"], exist_ok=True)
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "testbed-" + host["name"],
              "-f", host["host_key"]])
        self._write_sshd_config(host)
        with open(host["root_bashrc"], "w") as handle:
            handle.write(ROOT_BASHRC)
        _run(["truncate", "-s", "%dM" % host["disk_mb"], host["disk_image"]])
        _run(["mkfs.ext4", "-F", "-q", "-L", host["name"][:16], host["disk_image"]])

    def _create_network(self, host: Dict[str, Any]) -> None:
        netns, veth = host["netns"], host["veth"]
        _run(["ip", "netns", "add", netns])
        _run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns])
        _run(["ip", "link", "set", veth, "master", BRIDGE, "up"])
        _run(["ip", "-n", netns, "addr", "add", host["ip"] + "/24", "dev", "eth0"])
        _run(["ip", "-n", netns, "link", "set", "eth0", "up"])
        _run(["ip", "-n", netns, "link", "set", "lo", "up"])

    def _start_host(self, host: Dict[str, Any]) -> None:
        cmd = ["ip", "netns", "exec", host["netns"],
               "unshare", "--uts", "--mount", "--propagation", "private", "--pid", "--fork",
               "--kill-child", "--mount-proc",
               HOST_PYTHON, NSINIT, "--hostname", host["name"],
               "--disk", "%s:%s" % (host["disk_image"], APPSUITE_MOUNT),
               "--bind", "%s:%s" % (host["private_state_dir"], STATE_MOUNT),
               "--sshd-config", host["sshd_config"]]
        if os.path.isfile(MACHINE_ROOT_BASHRC):
            cmd[-2:-2] = ["--bind", "%s:%s" % (host["root_bashrc"], MACHINE_ROOT_BASHRC)]
        env = {"PATH": CLEAN_PATH, "LANG": "C.UTF-8", "HOME": "/root"}
        with open(host["log"], "ab") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    env=env, start_new_session=True, close_fds=True)
        _SPAWNED[proc.pid] = proc
        host["unshare_pid"] = proc.pid  # `ip netns exec` execs unshare in place

    def _wait_init(self, host: Dict[str, Any], deadline: float) -> None:
        while time.monotonic() < deadline:
            for child in _children(host["unshare_pid"]):
                if _ns_pid_one(child):
                    host["init_pid"] = child
                    return
            if not _pid_alive(host["unshare_pid"]):
                break
            time.sleep(0.02)
        raise TestbedError("host %s: its init (nsinit.py) did not start; log %s:\n%s"
                           % (host["name"], host["log"], _tail(host["log"])))

    def _wait_sshd(self, host: Dict[str, Any], deadline: float) -> None:
        last_error = "timeout"
        while time.monotonic() < deadline:
            if not _pid_alive(host["init_pid"]):
                last_error = "its init exited"
                break
            try:
                with socket.create_connection((host["ip"], 22), timeout=0.5) as sock:
                    sock.settimeout(2.0)
                    if sock.recv(64).startswith(b"SSH-"):
                        return
            except OSError as exc:
                last_error = str(exc)
            time.sleep(0.05)
        raise TestbedError("host %s: sshd on %s:22 did not accept a connection within %.0f s "
                           "(%s); log %s:\n%s"
                           % (host["name"], host["ip"], self.ready_timeout, last_error,
                              host["log"], _tail(host["log"])))

    def _write_inventory(self, hosts: List[Dict[str, Any]]) -> None:
        common = ("-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                  "-o LogLevel=ERROR -o ControlPath=%s" % self.control_path)
        lines = ["# Test-bed hosts, written by tests/testbed/testbed.py up; removed by down.",
                 "all:", "  children:", "    appsuite:", "      hosts:"]
        for host in hosts:
            lines += [
                "        %s:" % host["name"],
                "          ansible_host: %s" % host["ip"],
                "          ansible_user: root",
                "          ansible_ssh_private_key_file: %s" % json.dumps(self.client_key),
                "          ansible_python_interpreter: %s" % HOST_PYTHON,
                "          ansible_ssh_common_args: %s" % json.dumps(common),
                "          imagicle_testbed_host: true",
            ]
        with open(self.inventory_path, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        ssh_lines = []
        for host in hosts:
            ssh_lines += [
                "Host %s" % host["name"],
                "    HostName %s" % host["ip"],
                "    User root",
                "    IdentityFile %s" % self.client_key,
                "    IdentitiesOnly yes",
                "    BatchMode yes",
                "    StrictHostKeyChecking no",
                "    UserKnownHostsFile /dev/null",
                "    LogLevel ERROR",
                "",
            ]
        with open(self.ssh_config_path, "w") as handle:
            handle.write("\n".join(ssh_lines))

    def up(self, count: int) -> List[Dict[str, Any]]:
        """Bring up ``count`` hosts (tearing down any previous test bed first).

        Returns the host records (also in state.json). On failure raises TestbedError
        and leaves everything recorded, so that ``down`` cleans it (logs stay readable
        until then).
        """
        self._check_prerequisites(count)
        with _locked():
            self._down_locked()
            started = time.monotonic()
            os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
            hosts = self._plan(count)
            state: Dict[str, Any] = {
                "version": 1, "status": "starting", "prefix": self.prefix,
                "state_dir": self.state_dir, "bridge": BRIDGE, "bridge_ip": BRIDGE_IP,
                "subnet": SUBNET, "client_key": self.client_key,
                "inventory": self.inventory_path, "ssh_config": self.ssh_config_path,
                "control_path": self.control_path, "hosts": hosts,
            }
            self._save_state(state)
            for directory in (APPSUITE_MOUNT, STATE_MOUNT, SSHD_PRIVSEP_DIR):
                os.makedirs(directory, mode=0o755, exist_ok=True)
            _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "imagicle-testbed",
                  "-f", self.client_key])
            shutil.copyfile(self.client_key + ".pub", os.path.join(self.state_dir, "authorized_keys"))
            for host in hosts:
                os.makedirs(host["dir"], exist_ok=True)
                self._prepare_host_files(host)
            _run(["ip", "link", "add", BRIDGE, "type", "bridge"])
            _run(["ip", "addr", "add", BRIDGE_IP + "/24", "dev", BRIDGE])
            _run(["ip", "link", "set", BRIDGE, "up"])
            for host in hosts:
                self._create_network(host)
                self._start_host(host)
                self._save_state(state)
            deadline = time.monotonic() + self.ready_timeout
            for host in hosts:
                self._wait_init(host, deadline)
            self._save_state(state)
            for host in hosts:
                self._wait_sshd(host, deadline)
            self._write_inventory(hosts)
            state["status"] = "up"
            state["up_seconds"] = round(time.monotonic() - started, 3)
            self._save_state(state)
            return hosts

    # -- down --------------------------------------------------------------------------

    def _close_control_masters(self) -> None:
        for sock in glob.glob(os.path.join(self.state_dir, "cp-*")):
            _run(["ssh", "-O", "exit", "-o", "ControlPath=" + sock, "testbed-host"],
                 check=False, timeout=10)
            try:
                os.unlink(sock)
            except OSError:
                pass

    def _kill_hosts(self, state: Dict[str, Any], namespaces: List[str]) -> List[str]:
        recorded = []
        for host in state.get("hosts", []) if isinstance(state.get("hosts"), list) else []:
            for key in ("unshare_pid", "init_pid"):
                pid = host.get(key) if isinstance(host, dict) else None
                if isinstance(pid, int) and _is_testbed_process(pid):
                    recorded.append(pid)
        deadline = time.monotonic() + 10.0
        while True:
            pids = set(recorded)
            for name in namespaces:
                pids.update(_netns_pids(name))
            pids = {pid for pid in pids if _pid_alive(pid)}
            if not pids:
                _reap_spawned()
                return []
            if time.monotonic() > deadline:
                return ["processes still alive after SIGKILL: %s" % sorted(pids)]
            for pid in pids:
                _kill(pid)
            time.sleep(0.05)
            _reap_spawned()

    def _attached_loops(self) -> List[str]:
        """Loop devices whose backing file lies in the state dir (even if deleted)."""
        proc = _run(["losetup", "--list", "--json", "--output", "NAME,BACK-FILE"], check=False)
        try:
            devices = json.loads(proc.stdout or "{}").get("loopdevices", [])
        except ValueError:
            return []
        prefix = self.state_dir + "/"
        return [dev["name"] for dev in devices
                if str(dev.get("back-file") or "").startswith(prefix)]

    def _detach_loops(self, images: List[str]) -> List[str]:
        deadline = time.monotonic() + 3.0
        while True:
            devices = set(self._attached_loops())
            for image in images:
                if os.path.exists(image):
                    proc = _run(["losetup", "-j", image], check=False)
                    devices.update(line.split(":", 1)[0] for line in proc.stdout.splitlines()
                                   if line.strip())
            if not devices:
                return []
            if time.monotonic() > deadline:
                for device in sorted(devices):
                    _run(["losetup", "-d", device], check=False)
                left = self._attached_loops()
                return ["loop devices still attached: %s" % left] if left else []
            time.sleep(0.1)  # the kernel clears a loop mount's device once its mount ns is gone

    def _remove_state_files(self) -> None:
        for name in STATE_FILES:
            for path in (os.path.join(self.state_dir, name), os.path.join(self.state_dir, name + ".tmp")):
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
        for name in STATE_DIRS:
            shutil.rmtree(os.path.join(self.state_dir, name), ignore_errors=True)
        try:
            os.rmdir(self.state_dir)
        except OSError:
            pass

    def _down_locked(self) -> None:
        state = self.load_state()
        namespaces = set(_netns_list())
        for host in state.get("hosts", []) if isinstance(state.get("hosts"), list) else []:
            if isinstance(host, dict) and str(host.get("netns", "")).startswith(NETNS_PREFIX):
                namespaces.add(host["netns"])
        problems: List[str] = []
        self._close_control_masters()
        problems += self._kill_hosts(state, sorted(namespaces))
        images = glob.glob(os.path.join(self.state_dir, "hosts", "*", "disk.img"))
        problems += self._detach_loops(images)
        for link in _links():
            if link.startswith(VETH_PREFIX):
                _run(["ip", "link", "del", link], check=False)
        for name in sorted(namespaces):
            if name in _netns_list():
                _run(["ip", "netns", "del", name], check=False)
        if BRIDGE in _links():
            _run(["ip", "link", "del", BRIDGE], check=False)
        leftovers = _netns_list() + _links()
        if leftovers:
            problems.append("still present: %s (a namespace kept alive by stale sockets goes "
                            "away within a few minutes; run down again)" % ", ".join(leftovers))
        if problems:
            raise TestbedError("test bed not fully torn down: " + "; ".join(problems))
        self._remove_state_files()

    def down(self) -> None:
        """Tear everything down (idempotent; works without state.json and after a crash).

        Order: close ssh ControlPersist masters, kill every process of each namespace,
        detach loop devices, delete the veths, the namespaces, the bridge, then remove
        the files that ``up`` wrote in the state dir.
        """
        if os.geteuid() != 0:
            raise TestbedError("the test bed needs root to be torn down")
        with _locked():
            self._down_locked()

    # -- use ---------------------------------------------------------------------------

    def exec(self, host: str, cmd: Sequence[str], capture: bool = True,
             timeout: Optional[float] = 120.0, env: Optional[Dict[str, str]] = None,
             input: Optional[str] = None) -> subprocess.CompletedProcess:
        """Run ``cmd`` inside ``host``'s namespaces (nsenter -n -m -u -p); never raises on exit code.

        The command gets a clean environment (PATH, HOME=/root, LANG) unless ``env`` is given.
        """
        record = self.host(host)
        pid = record.get("init_pid")
        if not _pid_alive(pid) or not _ns_pid_one(pid):
            raise TestbedError("host %s is not running (init pid %s); run up again"
                               % (host, pid))
        full = ["nsenter", "-t", str(pid), "-n", "-m", "-u", "-p", "--"] + list(cmd)
        run_env = env if env is not None else {"PATH": CLEAN_PATH, "HOME": "/root",
                                               "LANG": "C.UTF-8"}
        if capture:
            return subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  universal_newlines=True, timeout=timeout, env=run_env,
                                  input=input, check=False)
        return subprocess.run(full, timeout=timeout, env=run_env, input=input,
                              universal_newlines=True, check=False)

    # -- the simulated AppSuite ---------------------------------------------------------

    @property
    def sim_ca_dir(self) -> str:
        """The CA that signs every host's simulator certificate (as playbooks/simulator.yml makes it)."""
        return os.path.join(self.state_dir, "sim-ca")

    @property
    def webapi_password_path(self) -> str:
        """The Web API password of every simulated host (the file playbooks/simulator.yml uses)."""
        return os.path.join(self.state_dir, "webapi-password")

    def _sim_secrets(self) -> None:
        """Make the shared CA and the Web API password once (kept if they exist)."""
        os.makedirs(self.sim_ca_dir, mode=0o700, exist_ok=True)
        ca_pem, ca_key = (os.path.join(self.sim_ca_dir, name) for name in ("ca.pem", "ca.key"))
        if not (os.path.exists(ca_pem) and os.path.exists(ca_key)):
            _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                  "-nodes", "-days", "3650", "-subj", "/CN=imagicle-proactive test-bed CA",
                  "-keyout", ca_key, "-out", ca_pem])
        if not os.path.exists(self.webapi_password_path):
            alphabet = string.ascii_letters + string.digits
            fd = os.open(self.webapi_password_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write("".join(secrets.choice(alphabet) for _ in range(24)))

    def _sim_answers(self, record: Dict[str, Any], context: ssl.SSLContext,
                     timeout: float = 5.0) -> Optional[str]:
        """None when the host's simulated portal answers HTTPS on its address with a certificate
        that ``context`` verifies; otherwise what went wrong."""
        conn = http.client.HTTPSConnection(record["ip"], SIM_HTTPS_PORT, timeout=timeout, context=context)
        try:
            conn.request("GET", "/__sim__/ping")
            server = conn.getresponse().getheader("Server", "")
            return None if server.startswith("ias-web") else "unexpected Server header %r" % server
        except (OSError, http.client.HTTPException) as exc:
            return str(exc)
        finally:
            conn.close()

    def _sim_records(self, names: Optional[Sequence[str]]) -> List[Dict[str, Any]]:
        records = self.hosts() if names is None else [self.host(name) for name in names]
        if not records:
            raise TestbedError("no test-bed hosts in %s: run up first" % self.state_path)
        return records

    def _parallel(self, records: List[Dict[str, Any]], work, workers: Optional[int]) -> Dict[str, str]:
        """Run work(record) for every host in threads; the hosts whose work failed, with why."""
        failed: Dict[str, str] = {}
        workers = workers or 4 * (os.cpu_count() or 1)
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(work, record): record["name"] for record in records}
            for future in concurrent.futures.as_completed(futures):
                try:
                    problem = future.result()
                except (TestbedError, OSError, subprocess.SubprocessError) as exc:
                    problem = str(exc)
                if problem:
                    failed[futures[future]] = problem
        return failed

    def start_simulators(self, light: bool = True, names: Optional[Sequence[str]] = None,
                         peers: bool = True, workers: Optional[int] = None,
                         timeout: float = 60.0) -> Dict[str, Any]:
        """Start the simulated AppSuite (tests/simulator/appsuite_sim.py) in every host, or in the
        hosts ``names``, in parallel, and wait until each one answers.

        Each host gets ``appsuite_sim.py start [--light] --root /srv/appsuite`` through
        :meth:`exec` (nsenter, no ssh, no Ansible), with the shared CA of ``sim_ca_dir`` (so the
        certificate holds the host's address and verifies from every host and the controller),
        the Web API password of ``webapi_password_path`` and, with ``peers``, an HA peer: hosts
        are paired in order (a-b, c-d, ...; an odd last host has none). ``start`` returns once
        the host's portal, Web API and cloud stand-in answer inside the host; then the portal
        must answer HTTPS on the host's address from the controller. A simulator that already
        runs is left as it is. Returns ``{"hosts", "mode", "seconds"}``; raises TestbedError
        naming every host that failed and why.
        """
        records = self._sim_records(names)
        self._sim_secrets()
        ca_files = [(os.path.join(self.sim_ca_dir, name), name, mode)
                    for name, mode in (("ca.pem", 0o644), ("ca.key", 0o600))]
        order = [record["name"] for record in self.hosts()]
        context = ssl.create_default_context(cafile=os.path.join(self.sim_ca_dir, "ca.pem"))
        started = time.monotonic()

        def start(record: Dict[str, Any]) -> Optional[str]:
            pid = record.get("init_pid")
            if not _pid_alive(pid) or not _ns_pid_one(pid):
                return "not running (init pid %s); run up again" % pid
            # The host's /srv/appsuite as the host sees it (its private mount namespace).
            tls = "/proc/%d/root%s/tls" % (pid, APPSUITE_MOUNT)
            os.makedirs(tls, mode=0o755, exist_ok=True)
            for src, name, mode in ca_files:
                dst = os.path.join(tls, name)
                shutil.copyfile(src, dst)
                os.chmod(dst, mode)
            cmd = [HOST_PYTHON, SIMULATOR, "start", "--root", APPSUITE_MOUNT, "--san-ip", record["ip"],
                   "--https-port", str(SIM_HTTPS_PORT), "--webapi-password-file", self.webapi_password_path,
                   "--timeout", str(max(1, int(timeout)))] + (["--light"] if light else [])
            index = order.index(record["name"])
            peer = index ^ 1  # 0<->1, 2<->3, ...
            if peers and peer < len(order):
                cmd += ["--peer", order[peer]]
            proc = self.exec(record["name"], cmd, timeout=timeout + 30)
            if proc.returncode != 0:
                return "simulator start failed (exit %d): %s" % (
                    proc.returncode, (proc.stderr or proc.stdout).strip()[-500:])
            deadline = time.monotonic() + timeout
            while True:
                problem = self._sim_answers(record, context)
                if problem is None or time.monotonic() > deadline:
                    return problem and "portal https://%s/ does not answer: %s" % (record["ip"], problem)
                time.sleep(0.2)

        failed = self._parallel(records, start, workers)
        if failed:
            raise TestbedError("the simulator did not start on %d of %d hosts (see /srv/appsuite/run/sim.log "
                               "inside each): %s" % (len(failed), len(records), "; ".join(
                                   "%s: %s" % item for item in sorted(failed.items()))))
        result = {"hosts": len(records), "mode": "light" if light else "full",
                  "seconds": round(time.monotonic() - started, 3)}
        state = self.load_state()
        if state:
            state["simulators"] = result
            self._save_state(state)
        return result

    def stop_simulators(self, names: Optional[Sequence[str]] = None,
                        workers: Optional[int] = None) -> None:
        """Stop the simulated AppSuite in every host (or in ``names``), in parallel (``down``
        stops them too, with the hosts)."""
        records = self._sim_records(names)

        def stop(record: Dict[str, Any]) -> Optional[str]:
            proc = self.exec(record["name"], [HOST_PYTHON, SIMULATOR, "stop", "--root", APPSUITE_MOUNT],
                             timeout=60)
            return None if proc.returncode == 0 else "simulator stop failed (exit %d): %s" % (
                proc.returncode, (proc.stderr or proc.stdout).strip()[-500:])

        failed = self._parallel(records, stop, workers)
        if failed:
            raise TestbedError("the simulator did not stop on: %s"
                               % "; ".join("%s: %s" % item for item in sorted(failed.items())))
        state = self.load_state()
        if state.pop("simulators", None) is not None:
            self._save_state(state)

    def memory(self) -> Dict[str, Any]:
        """Memory of the hosts: the PSS (proportional set size, /proc/PID/smaps_rollup) of every
        process of each host (its namespaces' processes plus its ``unshare``), in KiB.

        Returns ``{"hosts", "per_host_kb": {"mean", "min", "max"}, "total_kb",
        "by_process_kb": {comm: mean PSS per host}, "per_host": {name: KiB}}``.
        """
        per_host: Dict[str, int] = {}
        by_comm: Dict[str, int] = {}
        records = self.hosts()
        for record in records:
            pids = set(_netns_pids(record["netns"]))
            if _is_testbed_process(record.get("unshare_pid")):
                pids.add(record["unshare_pid"])
            total = 0
            for pid in pids:
                try:
                    with open("/proc/%d/comm" % pid) as handle:
                        comm = handle.read().strip()
                    with open("/proc/%d/smaps_rollup" % pid) as handle:
                        pss = next(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
                except (OSError, StopIteration, ValueError, IndexError):
                    continue  # gone meanwhile, or a kernel thread
                total += pss
                by_comm[comm] = by_comm.get(comm, 0) + pss
            per_host[record["name"]] = total
        values = list(per_host.values()) or [0]
        count = max(1, len(records))
        return {"hosts": len(records),
                "per_host_kb": {"mean": round(sum(values) / count), "min": min(values), "max": max(values)},
                "total_kb": sum(values),
                "by_process_kb": {comm: round(kb / count) for comm, kb in sorted(by_comm.items())},
                "per_host": per_host}

    def set_link(self, host: str, up: bool, timeout: float = 20.0) -> None:
        """Take ``host``'s link to the bridge down (the host is unreachable; its processes keep
        running) or bring it up again and wait until its sshd answers.

        Taking it down first closes the ssh ControlPersist masters: a connection kept open to an
        unreachable host would make the next command hang instead of failing.
        """
        record = self.host(host)
        if not up:
            self._close_control_masters()
        _run(["ip", "link", "set", record["veth"], "up" if up else "down"])
        if up:
            self._wait_sshd(record, time.monotonic() + timeout)

    def status(self) -> Dict[str, Any]:
        """The recorded hosts with liveness and sshd reachability, plus any objects found."""
        state = self.load_state()
        hosts = []
        for record in self.hosts():
            alive = _pid_alive(record.get("init_pid")) and _ns_pid_one(record.get("init_pid"))
            reachable = False
            if alive:
                try:
                    with socket.create_connection((record["ip"], 22), timeout=1.0):
                        reachable = True
                except OSError:
                    reachable = False
            hosts.append({"name": record.get("name"), "ip": record.get("ip"),
                          "netns": record.get("netns"), "init_pid": record.get("init_pid"),
                          "unshare_pid": record.get("unshare_pid"), "running": alive,
                          "sshd_reachable": reachable})
        up = bool(hosts) and all(h["running"] and h["sshd_reachable"] for h in hosts)
        return {"state_dir": self.state_dir, "status": "up" if up else
                ("degraded" if hosts else "down"), "recorded_status": state.get("status"),
                "inventory": self.inventory_path if os.path.exists(self.inventory_path) else None,
                "hosts": hosts, "namespaces": _netns_list(), "links": _links(),
                "loop_devices": self._attached_loops()}


# -- command line ----------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state-dir", default=DEFAULT_STATE_DIR,
                        help="where keys, disks, logs, state.json and inventory.yml live "
                             "(default %(default)s; env IMAGICLE_TESTBED_STATE_DIR)")
    parser = argparse.ArgumentParser(description="Managed hosts as namespaces with their own sshd.")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", parents=[common], help="(re)create the test bed")
    up.add_argument("--hosts", type=int, required=True, help="number of hosts")
    up.add_argument("--prefix", default=DEFAULT_PREFIX, help="host name prefix (default %(default)s)")
    up.add_argument("--disk-mb", type=int, default=DEFAULT_DISK_MB,
                    help="size of each host's /srv/appsuite disk (default %(default)s)")
    up.add_argument("--sim", choices=("light", "full"), default=None,
                    help="then start the simulated AppSuite in every host, in this mode")
    sim_start = sub.add_parser("sim-start", parents=[common],
                               help="start the simulated AppSuite in every host, in parallel")
    sim_start.add_argument("--mode", choices=("light", "full"), default="light",
                           help="light: one process per host; full: supervisor + 6 apps (default %(default)s)")
    sim_start.add_argument("--no-peers", action="store_true", help="no HA pairs (no replication file)")
    for parser_ in (up, sim_start):
        parser_.add_argument("--workers", type=int, default=None,
                             help="simulators started at once (default 4 per CPU)")
    sub.add_parser("sim-stop", parents=[common], help="stop the simulated AppSuite in every host")
    sub.add_parser("memory", parents=[common], help="JSON: PSS of each host's processes (KiB)")
    sub.add_parser("down", parents=[common], help="tear everything down (idempotent)")
    sub.add_parser("status", parents=[common], help="print the state as JSON")
    sub.add_parser("inventory", parents=[common], help="print the inventory path")
    exe = sub.add_parser("exec", parents=[common], usage="%(prog)s HOST [--state-dir DIR] -- CMD [ARGS...]",
                         help="run a command inside a host: exec HOST -- CMD [ARGS...]")
    exe.add_argument("host")
    return parser


def main(argv: Sequence[str]) -> int:
    """Run the command line; return the exit code."""
    argv = list(argv)
    cmd: List[str] = []
    if "--" in argv:  # everything after the first -- is the command of `exec`
        cmd = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    args = build_parser().parse_args(argv)
    bed = Testbed(state_dir=args.state_dir, prefix=getattr(args, "prefix", DEFAULT_PREFIX),
                  disk_mb=getattr(args, "disk_mb", DEFAULT_DISK_MB))
    try:
        if args.command == "up":
            hosts = bed.up(args.hosts)
            out = {"inventory": bed.inventory_path, "ssh_config": bed.ssh_config_path,
                   "up_seconds": bed.load_state().get("up_seconds"),
                   "hosts": [{"name": h["name"], "ip": h["ip"]} for h in hosts]}
            if args.sim:
                out["simulators"] = bed.start_simulators(light=args.sim == "light", workers=args.workers)
            print(json.dumps(out, indent=2))
        elif args.command == "sim-start":
            print(json.dumps(bed.start_simulators(light=args.mode == "light", peers=not args.no_peers,
                                                  workers=args.workers), indent=2))
        elif args.command == "sim-stop":
            bed.stop_simulators()
        elif args.command == "memory":
            summary = bed.memory()
            summary.pop("per_host")
            print(json.dumps(summary, indent=2))
        elif args.command == "down":
            bed.down()
        elif args.command == "status":
            print(json.dumps(bed.status(), indent=2))
        elif args.command == "inventory":
            print(bed.inventory_path)
            return 0 if os.path.exists(bed.inventory_path) else 1
        elif args.command == "exec":
            if not cmd:
                raise TestbedError("exec needs a command: exec HOST -- CMD [ARGS...]")
            return bed.exec(args.host, cmd, capture=False, timeout=None).returncode
    except TestbedError as exc:
        sys.stderr.write("testbed: %s\n" % exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
