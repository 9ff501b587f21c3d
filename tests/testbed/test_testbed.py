# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the namespace test bed: real namespaces, real sshd, real ssh and Ansible.

Needs root. Running them replaces any running test bed (there is one per machine).
Run: /work/main/.venv/bin/python -m pytest tests/testbed -q
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import testbed  # noqa: E402
from testbed import Testbed, TestbedError  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ANSIBLE_BIN = REPO / ".venv" / "bin"
STATE_DIR = "/var/tmp/imagicle-testbed-pytest"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="the test bed needs root"),
    pytest.mark.skipif(shutil.which("unshare") is None or not os.path.exists("/usr/sbin/sshd"),
                       reason="needs util-linux unshare and openssh-server"),
]


def ssh(bed: Testbed, ip: str, command: str) -> subprocess.CompletedProcess:
    """Run ``command`` on a host over real ssh with the test bed's client key."""
    return subprocess.run(
        ["ssh", "-i", bed.client_key, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5", "root@" + ip, command],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60,
        check=False)


def our_objects() -> List[str]:
    """Every network namespace and link with the test bed's names."""
    return testbed._netns_list() + testbed._links()


def processes_with(text: str) -> List[int]:
    """PIDs of live processes whose command line contains ``text``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and testbed._pid_alive(int(entry)):
            found.append(int(entry))
    return found


@pytest.fixture(scope="module")
def bed():
    """A fresh 2-host test bed for the module; torn down at the end."""
    instance = Testbed(state_dir=STATE_DIR)
    instance.up(2)
    yield instance
    instance.down()
    assert our_objects() == []


@pytest.fixture(scope="module")
def hosts(bed) -> Dict[str, Dict]:
    return {record["name"]: record for record in bed.hosts()}


def test_hosts_are_named_and_addressed(hosts):
    assert sorted(hosts) == ["ias-a", "ias-b"]
    assert hosts["ias-a"]["ip"] == "10.231.47.11"
    assert hosts["ias-b"]["ip"] == "10.231.47.12"
    assert hosts["ias-a"]["netns"] == "imp-ias-a"
    assert hosts["ias-b"]["veth"] == "impv-b"


def test_ssh_hostname_is_own_name(bed, hosts):
    for name, record in hosts.items():
        proc = ssh(bed, record["ip"], "hostname")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == name


def test_each_host_has_its_own_appsuite_disk(bed, hosts):
    a, b = hosts["ias-a"]["ip"], hosts["ias-b"]["ip"]
    for ip in (a, b):
        proc = ssh(bed, ip, "findmnt -n -o FSTYPE,SOURCE /srv/appsuite")
        assert proc.returncode == 0, proc.stderr
        fstype, source = proc.stdout.split()
        assert fstype == "ext4" and source.startswith("/dev/loop")
    proc = ssh(bed, a, "echo only-on-a > /srv/appsuite/marker && cat /srv/appsuite/marker")
    assert proc.stdout.strip() == "only-on-a"
    assert ssh(bed, b, "test -e /srv/appsuite/marker").returncode == 1
    assert not os.path.exists("/srv/appsuite/marker")


def test_each_host_has_its_own_state_dir(bed, hosts):
    proc = ssh(bed, hosts["ias-b"]["ip"], "echo b > /var/lib/imagicle-proactive/who")
    assert proc.returncode == 0, proc.stderr
    assert ssh(bed, hosts["ias-a"]["ip"], "test -e /var/lib/imagicle-proactive/who").returncode == 1
    assert not os.path.exists("/var/lib/imagicle-proactive/who")
    private = Path(hosts["ias-b"]["private_state_dir"]) / "who"
    assert private.read_text().strip() == "b"


def test_the_hosts_root_shell_starts_nothing_of_the_machines(bed, hosts):
    # The command sshd runs goes through root's bash, which reads ~/.bashrc: the host's, not the machine's.
    proc = ssh(bed, hosts["ias-a"]["ip"], "cat ~/.bashrc")
    if os.path.isfile(testbed.MACHINE_ROOT_BASHRC):
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == testbed.ROOT_BASHRC
    else:  # nothing to hide
        assert proc.returncode != 0


def test_each_host_has_its_own_pid_namespace(bed, hosts):
    for record in hosts.values():
        proc = ssh(bed, record["ip"], "ps -e --no-headers | wc -l; tr '\\0' ' ' < /proc/1/cmdline")
        assert proc.returncode == 0, proc.stderr
        count, init = proc.stdout.splitlines()
        assert int(count) <= 10, proc.stdout
        assert "nsinit.py" in init and record["name"] in init


def test_no_default_route_and_no_way_out(bed):
    for name in ("ias-a", "ias-b"):
        for family in ("-4", "-6"):
            proc = bed.exec(name, ["ip", family, "route", "show"])
            assert proc.returncode == 0, proc.stderr
            assert "default" not in proc.stdout
        probe = ("import socket,errno\n"
                 "s=socket.socket()\n"
                 "try:\n s.connect(('192.0.2.1',80))\n"
                 "except OSError as e:\n print(errno.errorcode.get(e.errno))\n")
        proc = bed.exec(name, ["/usr/bin/python3", "-c", probe])
        assert proc.stdout.strip() == "ENETUNREACH", proc.stdout + proc.stderr


def test_loopback_is_up_inside(bed):
    proc = bed.exec("ias-a", ["ip", "-o", "addr", "show", "dev", "lo"])
    assert "127.0.0.1" in proc.stdout


def test_exec_runs_inside_and_passes_exit_code(bed):
    assert bed.exec("ias-b", ["hostname"]).stdout.strip() == "ias-b"
    assert bed.exec("ias-a", ["sh", "-c", "exit 3"]).returncode == 3
    with pytest.raises(TestbedError, match="no test-bed host 'ias-z'"):
        bed.exec("ias-z", ["true"])


def test_cli_exec_status_inventory(bed):
    cli = [sys.executable, str(HERE / "testbed.py")]
    proc = subprocess.run(cli + ["exec", "ias-a", "--state-dir", STATE_DIR, "--", "hostname"],
                          stdout=subprocess.PIPE, universal_newlines=True, timeout=30, check=False)
    assert (proc.returncode, proc.stdout.strip()) == (0, "ias-a")
    proc = subprocess.run(cli + ["status", "--state-dir", STATE_DIR],
                          stdout=subprocess.PIPE, universal_newlines=True, timeout=30, check=False)
    status = json.loads(proc.stdout)
    assert status["status"] == "up"
    assert [h["sshd_reachable"] for h in status["hosts"]] == [True, True]
    proc = subprocess.run(cli + ["inventory", "--state-dir", STATE_DIR],
                          stdout=subprocess.PIPE, universal_newlines=True, timeout=30, check=False)
    assert proc.stdout.strip() == bed.inventory_path


@pytest.mark.skipif(not (ANSIBLE_BIN / "ansible").exists(), reason="no ansible in .venv")
def test_inventory_is_what_ansible_reads(bed):
    proc = subprocess.run([str(ANSIBLE_BIN / "ansible-inventory"), "-i", bed.inventory_path,
                           "--list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert sorted(data["appsuite"]["hosts"]) == ["ias-a", "ias-b"]
    hostvars = data["_meta"]["hostvars"]["ias-a"]
    assert hostvars["ansible_host"] == "10.231.47.11"
    assert hostvars["ansible_user"] == "root"
    assert hostvars["ansible_ssh_private_key_file"] == bed.client_key
    assert hostvars["ansible_python_interpreter"] == "/usr/bin/python3"
    assert hostvars["imagicle_testbed_host"] is True
    assert "ControlPath=%s/cp-%%C" % STATE_DIR in hostvars["ansible_ssh_common_args"]


@pytest.mark.skipif(not (ANSIBLE_BIN / "ansible").exists(), reason="no ansible in .venv")
def test_ansible_ping_reaches_every_host(bed, tmp_path):
    env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING="False")
    proc = subprocess.run([str(ANSIBLE_BIN / "ansible"), "-i", bed.inventory_path, "all",
                           "-m", "ping"], cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("pong") == 2, proc.stdout
    # Ansible's ControlPersist masters use the inventory's ControlPath (down closes them).
    assert len(list(Path(STATE_DIR).glob("cp-*"))) == 2


def test_start_simulators_light_then_stop(bed, hosts):
    import base64  # pylint: disable=import-outside-toplevel
    import http.client  # pylint: disable=import-outside-toplevel
    import ssl  # pylint: disable=import-outside-toplevel
    result = bed.start_simulators(light=True)
    assert result["hosts"] == 2 and result["mode"] == "light"
    assert bed.load_state()["simulators"]["mode"] == "light"
    context = ssl.create_default_context(cafile=os.path.join(bed.sim_ca_dir, "ca.pem"))
    password = Path(bed.webapi_password_path).read_text()
    auth = "Basic " + base64.b64encode(("proactive:" + password).encode()).decode()
    for name, record in hosts.items():
        # one simulator process: comm and argv[0] ias-sim
        ps = bed.exec(name, ["ps", "-eo", "comm=,args="]).stdout.splitlines()
        sims = [line for line in ps if line.startswith("ias-")]
        assert len(sims) == 1 and sims[0].split()[:2] == ["ias-sim", "ias-sim"], ps
        # the portal and the Web API on the host's address, with a certificate of the shared CA
        conn = http.client.HTTPSConnection(record["ip"], 443, context=context, timeout=10)
        conn.request("GET", "/fw/Apps/QME/WebAPI/RealTimeStatistics", headers={"Authorization": auth})
        resp = conn.getresponse()
        assert resp.status == 200 and json.loads(resp.read())["availableChannels"] == 10
        conn.close()
        # the cloud stand-in on the host's loopback, the HA pair a <-> b
        cloud = bed.exec(name, ["/usr/bin/python3", "-c", "import urllib.request; print(urllib.request."
                                "urlopen('http://127.0.0.1:8780/test', timeout=5).read().decode())"])
        assert json.loads(cloud.stdout) == {"message": "successfully connected!"}, cloud.stderr
        peer = json.loads(bed.exec(name, ["cat", "/srv/appsuite/ha/replication.json"]).stdout)["peer"]
        assert peer == {"ias-a": "ias-b", "ias-b": "ias-a"}[name]
    memory = bed.memory()
    assert set(memory["per_host"]) == set(hosts) and memory["by_process_kb"]["ias-sim"] > 0
    # the CLI stops them (down would too)
    done = subprocess.run([sys.executable, str(HERE / "testbed.py"), "sim-stop", "--state-dir", STATE_DIR],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    for name in hosts:
        assert not [line for line in bed.exec(name, ["ps", "-eo", "comm="]).stdout.split()
                    if line.startswith("ias-")]
    assert "simulators" not in bed.load_state()


def test_start_simulators_names_the_failing_host(bed, hosts):
    assert bed.exec("ias-b", ["mount", "-o", "remount,ro", "/srv/appsuite"]).returncode == 0
    try:
        with pytest.raises(TestbedError, match=r"did not start on 1 of 2 hosts.*ias-b: .*Read-only") as err:
            bed.start_simulators(light=True, timeout=10)
        assert "ias-a:" not in str(err.value)
    finally:
        assert bed.exec("ias-b", ["mount", "-o", "remount,rw", "/srv/appsuite"]).returncode == 0
    bed.stop_simulators(names=["ias-a"])


# -- life cycle (these bring the test bed up and down themselves) -----------------------

def test_background_process_survives_session_and_down_kills_everything(bed, hosts):
    proc = ssh(bed, hosts["ias-a"]["ip"], "nohup sleep 4243 >/dev/null 2>&1 & echo $!")
    assert proc.returncode == 0, proc.stderr
    time.sleep(0.2)
    sleepers = [pid for pid in testbed._netns_pids("imp-ias-a") if pid in processes_with("sleep 4243")]
    assert len(sleepers) == 1, "the process started over ssh did not survive the session"
    assert bed.exec("ias-a", ["kill", "-0", proc.stdout.strip()]).returncode == 0
    images = [record["disk_image"] for record in hosts.values()]
    bed.down()
    assert not testbed._pid_alive(sleepers[0])
    assert processes_with("sleep 4243") == []
    assert processes_with(STATE_DIR + "/cp-") == []  # ssh ControlPersist masters closed
    assert processes_with(STATE_DIR + "/hosts/") == []  # no nsinit, no sshd left
    assert our_objects() == []
    assert not any(dev.get("back-file", "").startswith(STATE_DIR) for dev in json.loads(
        subprocess.run(["losetup", "--list", "--json"], stdout=subprocess.PIPE,
                       universal_newlines=True, check=True).stdout or '{"loopdevices": []}'
    )["loopdevices"])
    assert not any(os.path.exists(image) for image in images)
    assert not os.path.exists(STATE_DIR)


def test_down_twice_is_fine(bed):
    bed.down()
    bed.down()
    assert our_objects() == []


def test_up_after_a_crash(bed):
    first = bed.up(2)
    for record in first:
        os.kill(record["unshare_pid"], signal.SIGKILL)
    time.sleep(0.2)
    assert sorted(testbed._netns_list()) == ["imp-ias-a", "imp-ias-b"]  # left behind
    assert not bed.status()["status"] == "up"
    second = bed.up(2)
    for record in second:
        assert ssh(bed, record["ip"], "hostname").stdout.strip() == record["name"]
    assert bed.status()["status"] == "up"


def test_down_without_state_json(bed):
    bed.up(2)
    os.unlink(bed.state_path)
    Testbed(state_dir=STATE_DIR).down()
    assert our_objects() == []
    assert processes_with(STATE_DIR + "/hosts/") == []


class HalfFailingTestbed(Testbed):
    """Fails while starting the second host: network made, first host running."""

    __test__ = False

    def _start_host(self, host):
        if host["name"].endswith("-b"):
            raise TestbedError("injected failure starting %s" % host["name"])
        super()._start_host(host)


def test_down_cleans_a_half_failed_up():
    broken = HalfFailingTestbed(state_dir=STATE_DIR)
    with pytest.raises(TestbedError, match="injected failure"):
        broken.up(2)
    assert "impv-b" in testbed._links()
    assert processes_with(STATE_DIR + "/hosts/ias-a/") != []
    Testbed(state_dir=STATE_DIR).down()
    assert our_objects() == []
    assert processes_with(STATE_DIR + "/hosts/") == []


class BadSshdTestbed(Testbed):
    """Writes an sshd configuration that sshd refuses for the second host."""

    __test__ = False

    def _write_sshd_config(self, host):
        super()._write_sshd_config(host)
        if host["name"].endswith("-b"):
            with open(host["sshd_config"], "a") as handle:
                handle.write("NoSuchSshdOption yes\n")


def test_up_names_the_host_whose_sshd_fails():
    broken = BadSshdTestbed(state_dir=STATE_DIR, ready_timeout=10.0)
    started = time.monotonic()
    with pytest.raises(TestbedError, match=r"host ias-b: (.|\n)*NoSuchSshdOption"):
        broken.up(2)
    assert time.monotonic() - started < 8.0  # noticed when init exits, not at the timeout
    Testbed(state_dir=STATE_DIR).down()
    assert our_objects() == []


def test_up_rejects_bad_arguments():
    with pytest.raises(TestbedError, match="--hosts must be between 1 and"):
        Testbed(state_dir=STATE_DIR).up(0)
    with pytest.raises(TestbedError, match="prefix"):
        Testbed(state_dir=STATE_DIR, prefix="Bad Prefix").up(1)


def test_custom_prefix_and_disk_size():
    custom = Testbed(state_dir=STATE_DIR, prefix="node", disk_mb=16)
    try:
        records = custom.up(1)
        assert [r["name"] for r in records] == ["node-a"]
        assert custom.exec("node-a", ["hostname"]).stdout.strip() == "node-a"
        size = custom.exec("node-a", ["df", "-B1", "--output=size", "/srv/appsuite"])
        assert 8 * 2**20 < int(size.stdout.split()[-1]) <= 16 * 2**20
    finally:
        custom.down()
    assert our_objects() == []


def test_host_letters():
    assert [testbed.host_letters(i) for i in (0, 1, 25, 26, 27, 51, 52)] == \
        ["a", "b", "z", "aa", "ab", "az", "ba"]
