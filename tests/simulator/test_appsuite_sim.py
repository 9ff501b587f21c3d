# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the simulated ApplicationSuite: real processes, real ports on 127.0.0.1, real files."""
from __future__ import annotations

import base64
import email.utils
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

SIM = Path(__file__).with_name("appsuite_sim.py")
# The managed-host interpreter when present (the sim must run there), else the test one.
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
APPS = ("ias-voip", "ias-recorder", "ias-qme", "ias-ivr", "ias-analytics", "ias-web")
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (INFO|WARNING|ERROR|CRITICAL) [\w-]+: .+$")
PHONE = re.compile(r"^\+39 0\d{1,2} \d{4} \d{4}$")


def free_port() -> int:
    """A currently free high TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sim(root: Path, *args: str, check: bool = True, python: str = PY) -> subprocess.CompletedProcess:
    """Run one simulator command against root."""
    done = subprocess.run([python, str(SIM), *args, "--root", str(root)], capture_output=True, text=True,
                          timeout=90, check=False)
    if check:
        assert done.returncode == 0, f"{args}: rc={done.returncode} {done.stdout} {done.stderr}"
    return done


def status(root: Path) -> dict:
    return json.loads(sim(root, "status").stdout)


def alive(pid: int) -> bool:
    """Live and not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def start_ticks(pid: int) -> int:
    """Process start time in clock ticks since boot (/proc/PID/stat field 22)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rfind(")") + 2:].split()[19])


def wait_until(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout} s")


def events(root: Path, name: str = "events.log") -> list:
    return (root / "logs" / name).read_text().splitlines()


class Suite:
    """A running simulator instance."""

    def __init__(self, root: Path, https: int, cloud: int):
        self.root, self.https, self.cloud = root, https, cloud

    @property
    def creds(self) -> dict:
        return json.loads((self.root / "webapi.json").read_text())

    def get(self, path: str, auth=True, timeout: float = 15):
        """GET over HTTPS, verifying the certificate against tls/ca.pem; (status, headers, body, cert)."""
        context = ssl.create_default_context(cafile=str(self.root / "tls" / "ca.pem"))
        conn = http.client.HTTPSConnection("127.0.0.1", self.https, context=context, timeout=timeout)
        headers = {}
        if auth:
            user, password = (self.creds["username"], self.creds["password"]) if auth is True else auth
            headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        try:
            conn.request("GET", path, headers=headers)
            cert = conn.sock.getpeercert()
            resp = conn.getresponse()
            return resp.status, resp.headers, resp.read(), cert
        finally:
            conn.close()

    def api(self, path: str):
        code, _, body, _ = self.get(path)
        assert code == 200, body
        return json.loads(body)

    def cloud_get(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.cloud, timeout=5)
        try:
            conn.request("GET", "/test")
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read())
        finally:
            conn.close()


RECORDINGS = "/fw/Apps/Recorder/WebAPI/LiveRecordings"
QME = "/fw/Apps/QME/WebAPI/RealTimeStatistics"
IVR = "/fw/Apps/IVR/WebAPI/ActiveCalls"


def start_suite(root: Path, *extra: str, python: str = PY) -> Suite:
    suite = Suite(root, free_port(), free_port())
    sim(root, "start", "--https-port", str(suite.https), "--cloud-port", str(suite.cloud), *extra, python=python)
    return suite


def stop_and_check(root: Path) -> None:
    """Stop the simulator and assert that none of its processes is left."""
    pids = [int(f.read_text()) for f in (root / "run").glob("*.pid")] if (root / "run").is_dir() else []
    sim(root, "stop")
    assert not [pid for pid in pids if alive(pid)]


@pytest.fixture(scope="module")
def module_suite(tmp_path_factory):
    root = tmp_path_factory.mktemp("appsuite")
    suite = start_suite(root, "--peer", "ias-b", "--heartbeat", "1")
    yield suite
    stop_and_check(root)


@pytest.fixture(scope="module")
def light_module_suite(tmp_path_factory):
    root = tmp_path_factory.mktemp("appsuite-light")
    suite = start_suite(root, "--light", "--peer", "ias-b", "--heartbeat", "1")
    yield suite
    stop_and_check(root)


@pytest.fixture
def full_suite(module_suite):
    """The full mode (supervisor + one process per app), for the process tests and faults."""
    yield module_suite
    sim(module_suite.root, "clear", "all")


@pytest.fixture(params=["full", "light"])
def suite(request):
    """Each mode in turn: what does not need separate app processes works the same in both."""
    running = request.getfixturevalue("module_suite" if request.param == "full" else "light_module_suite")
    yield running
    sim(running.root, "clear", "all")


# ---------------------------------------------------------------- lifecycle
@pytest.mark.parametrize("python", sorted({PY, sys.executable}))
def test_start_status_stop_idempotent(tmp_path, python):
    root = tmp_path / "suite"
    suite = start_suite(root, python=python)
    try:
        state = status(root)
        assert state["running"] and state["faults"] == {}
        assert state["ports"] == {"https": suite.https, "cloud": suite.cloud}
        pids = state["apps"]
        assert set(pids) == set(APPS) and all(alive(pid) for pid in pids.values())
        again = sim(root, "start", "--https-port", str(suite.https), "--cloud-port", str(suite.cloud))
        assert "already running" in again.stdout
        assert status(root)["apps"] == pids
        # the layout
        assert (root / "release.txt").read_text().strip() == "2024.Winter.1"
        assert (root / "webapi.json").stat().st_mode & 0o777 == 0o600
        assert suite.creds["username"] == "proactive" and len(suite.creds["password"]) >= 16
        assert json.loads((root / "sim.json").read_text())["db_limit_bytes"] == 8 * 1024 * 1024
        assert 50_000 <= (root / "db" / "appsuite.sqlite").stat().st_size <= 200_000
        assert not (root / "ha" / "replication.json").exists()  # no --peer
        assert (root / "tls" / "server.pem").exists() and (root / "tls" / "ca.pem").exists()
        refused = sim(root, "fault", "break-replication", check=False)
        assert refused.returncode == 1 and "--peer" in refused.stderr
        supervisor = state["supervisor_pid"]
    finally:
        stop_and_check(root)
    assert not alive(supervisor)
    assert "nothing to stop" in sim(root, "stop").stdout
    state = status(root)
    assert not state["running"] and all(pid is None for pid in state["apps"].values())


def test_start_fails_clearly_when_the_port_is_taken(tmp_path):
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([PY, str(SIM), "start", "--root", str(tmp_path), "--https-port", str(port),
                               "--cloud-port", str(free_port()), "--timeout", "3"],
                              capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "did not come up within 3 s" in done.stderr and "sim.log" in done.stderr
    assert not status(tmp_path)["running"]
    assert not list((tmp_path / "run").glob("*.pid"))


def test_fault_before_start_is_an_error(tmp_path):
    done = sim(tmp_path, "fault", "portal-fail", check=False)
    assert done.returncode == 1 and "run `start" in done.stderr


# ---------------------------------------------------------------- processes, portal, API, cloud
def test_process_names_and_heartbeat(full_suite):
    for name, pid in status(full_suite.root)["apps"].items():
        assert Path(f"/proc/{pid}/comm").read_text().strip() == name
        assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode() == name
    wait_until(lambda: any("INFO ias-analytics: service running normally" in line for line in events(full_suite.root)))
    assert all(LINE.match(line) for line in events(full_suite.root))


def test_portal_and_certificate(suite):
    code, headers, body, cert = suite.get("/", auth=False)
    assert code == 200 and b"<html>" in body and headers["Content-Type"].startswith("text/html")
    host = socket.gethostname()
    assert dict(item[0] for item in cert["subject"])["commonName"] == host
    assert set(cert["subjectAltName"]) == {("IP Address", "127.0.0.1"), ("DNS", host), ("DNS", "localhost")}


@pytest.mark.parametrize("path", [RECORDINGS, QME, IVR])
def test_webapi_needs_basic_auth(full_suite, path):
    for auth in (False, ("proactive", "wrong"), ("someone", full_suite.creds["password"])):
        code, headers, _, _ = full_suite.get(path, auth=auth)
        assert code == 401 and headers["WWW-Authenticate"].startswith("Basic")
    assert full_suite.get(path)[0] == 200


def test_webapi_idle_answers(suite):
    assert suite.api(RECORDINGS) == [] and suite.api(IVR) == []
    stats = suite.api(QME)
    assert {"isOpen", "callsBeingServed", "availableChannels", "agents", "waitingCalls"} <= set(stats)
    assert stats["callsBeingServed"] == 0 and stats["availableChannels"] == 10


def test_cloud_stand_in(full_suite):
    assert full_suite.cloud_get() == (200, {"message": "successfully connected!"})


# ---------------------------------------------------------------- process faults
@pytest.mark.parametrize("fault", [["crash-voip"], ["crash-app", "recorder"], ["crash-app", "qme"],
                                   ["crash-app", "ivr"], ["crash-app", "analytics"]])
def test_crash_holds_the_app_down_until_cleared(full_suite, fault):
    name = "ias-voip" if fault == ["crash-voip"] else f"ias-{fault[1]}"
    before = status(full_suite.root)["apps"]
    sim(full_suite.root, "fault", *fault)
    after = status(full_suite.root)
    assert after["apps"][name] is None and not alive(before[name])
    assert {k: v for k, v in after["apps"].items() if k != name} == {k: v for k, v in before.items() if k != name}
    assert any(f"CRITICAL {name}: process crashed" in line for line in events(full_suite.root))
    time.sleep(1.5)  # the supervisor checks faults every second: still down
    assert status(full_suite.root)["apps"][name] is None
    sim(full_suite.root, "clear", fault[0])
    pid = status(full_suite.root)["apps"][name]
    assert pid and pid != before[name] and alive(pid)


def test_crash_app_rejects_unknown_app(full_suite):
    done = sim(full_suite.root, "fault", "crash-app", "fax", check=False)
    assert done.returncode == 2 and "invalid choice: 'fax'" in done.stderr


def test_unexpected_death_is_respawned_and_logged(full_suite):
    old = status(full_suite.root)["apps"]["ias-ivr"]
    os.kill(old, signal.SIGKILL)

    def respawned():
        pid = status(full_suite.root)["apps"]["ias-ivr"]
        return pid if pid not in (None, old) else None
    new = wait_until(respawned)
    assert alive(new) and not alive(old)
    assert any("CRITICAL ias-ivr: process exited unexpectedly (killed by signal 9)" in line
               for line in events(full_suite.root))


def test_restart_app_gives_a_new_start_time(full_suite):
    before = status(full_suite.root)["apps"]
    ticks = start_ticks(before["ias-qme"])
    time.sleep(0.1)
    out = sim(full_suite.root, "fault", "restart-app", "qme").stdout
    after = status(full_suite.root)["apps"]
    assert f"pid {before['ias-qme']} -> {after['ias-qme']}" in out
    assert after["ias-qme"] != before["ias-qme"] and start_ticks(after["ias-qme"]) > ticks
    assert {k: v for k, v in after.items() if k != "ias-qme"} == {k: v for k, v in before.items() if k != "ias-qme"}
    assert status(full_suite.root)["faults"] == {}
    assert "nothing to clear" in sim(full_suite.root, "clear", "restart-app").stdout


# ---------------------------------------------------------------- data faults
def test_grow_db_and_clear(suite):
    db = suite.root / "db" / "appsuite.sqlite"
    base = db.stat().st_size
    sim(suite.root, "fault", "grow-db", "60")
    limit = 8 * 1024 * 1024
    assert 0.60 * limit <= db.stat().st_size <= 0.60 * limit + 32 * 1024
    sim(suite.root, "clear", "grow-db")
    assert db.stat().st_size <= base + 16 * 1024
    for bad in ("0", "101", "lots"):
        done = sim(suite.root, "fault", "grow-db", bad, check=False)
        assert done.returncode == 2 and "argument pct" in done.stderr


def test_occupy_shows_in_the_webapi(suite):
    sim(suite.root, "fault", "occupy", "call_recording", "3")
    sim(suite.root, "fault", "occupy", "advanced_queuing", "4")
    sim(suite.root, "fault", "occupy", "ivr", "2")
    recordings = suite.api(RECORDINGS)
    assert len(recordings) == 3
    for item in recordings:
        assert set(item) == {"id", "duration", "startedAt", "localParty", "remoteParty", "isPaused"}
        assert re.match(r"^PT(\d+H)?(\d+M)?\d+S$", item["duration"]) and item["localParty"]["username"]
        assert PHONE.match(item["remoteParty"]["phoneNumber"]) and item["remoteParty"]["lastName"]
    stats = suite.api(QME)
    assert stats["callsBeingServed"] == 4 and stats["availableChannels"] == 6 and stats["isOpen"] is True
    assert len(suite.api(IVR)) == 2
    sim(suite.root, "clear", "occupy", "ivr")
    assert suite.api(IVR) == [] and len(suite.api(RECORDINGS)) == 3
    sim(suite.root, "clear", "occupy")
    assert suite.api(RECORDINGS) == [] and suite.api(QME)["availableChannels"] == 10
    done = sim(suite.root, "fault", "occupy", "ivr", "5", check=False)
    assert done.returncode == 1 and "0..4 licensed" in done.stderr


def test_break_replication_and_clear(suite):
    path = suite.root / "ha" / "replication.json"
    assert json.loads(path.read_text())["state"] == "sync_ready"
    sim(suite.root, "fault", "break-replication", "time", "not", "aligned")
    state = json.loads(path.read_text())
    assert state["state"] == "failure" and state["reason"] == "time not aligned" and state["peer"] == "ias-b"
    sim(suite.root, "clear", "break-replication")
    state = json.loads(path.read_text())
    assert state["state"] == "sync_ready" and state["reason"] is None and state["updated_at"].endswith("Z")


def test_clock_skew_shifts_the_date_header(suite):
    def skew() -> float:
        date = suite.get("/", auth=False)[1]["Date"]
        return email.utils.parsedate_to_datetime(date).timestamp() - time.time()
    assert abs(skew()) < 3
    sim(suite.root, "fault", "clock-skew", "-3600")
    assert abs(skew() + 3600) < 3
    sim(suite.root, "clear", "clock-skew")
    assert abs(skew()) < 3


def test_portal_fail_keeps_the_webapi(suite):
    sim(suite.root, "fault", "portal-fail")
    assert suite.get("/", auth=False)[0] == 500
    assert suite.get(QME)[0] == 200
    sim(suite.root, "clear", "portal-fail")
    assert suite.get("/", auth=False)[0] == 200


def test_portal_slow(suite):
    sim(suite.root, "fault", "portal-slow", "1.5")
    began = time.monotonic()
    assert suite.get("/", auth=False)[0] == 200
    assert time.monotonic() - began >= 1.4
    sim(suite.root, "clear", "portal-slow")
    began = time.monotonic()
    suite.get("/", auth=False)
    assert time.monotonic() - began < 1.0


def test_cut_cloud_refuses_connections(suite):
    sim(suite.root, "fault", "cut-cloud")
    with pytest.raises(ConnectionRefusedError):
        suite.cloud_get()
    sim(suite.root, "clear", "cut-cloud")
    assert suite.cloud_get()[0] == 200


# ---------------------------------------------------------------- event log
def test_emit_event_lines(suite):
    sim(suite.root, "fault", "emit-event", "disk", "write", "failed")
    sim(suite.root, "fault", "emit-event", "--severity", "warning", "--source", "ias-recorder", "slow disk")
    mine = [line for line in events(suite.root) if "ias-sim:" in line or "slow disk" in line]
    assert LINE.match(mine[-2]) and mine[-2].endswith(" ERROR ias-sim: disk write failed")
    assert LINE.match(mine[-1]) and mine[-1].endswith(" WARNING ias-recorder: slow disk")
    done = sim(suite.root, "fault", "emit-event", "--severity", "fatal", "x", check=False)
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_rotate_log(suite):
    sim(suite.root, "fault", "emit-event", "before rotation")
    sim(suite.root, "fault", "rotate-log")
    sim(suite.root, "fault", "emit-event", "after rotation")
    old, new = events(suite.root, "events.log.1"), events(suite.root)
    assert any(x.endswith("ias-sim: before rotation") for x in old) and not any("before rotation" in x for x in new)
    assert any(x.endswith("ias-sim: after rotation") for x in new)


def test_status_lists_faults_and_clear_all_restores(full_suite):
    sim(full_suite.root, "fault", "portal-fail")
    sim(full_suite.root, "fault", "cut-cloud")
    sim(full_suite.root, "fault", "crash-app", "ivr")
    sim(full_suite.root, "fault", "clock-skew", "30")
    assert set(status(full_suite.root)["faults"]) == {"portal-fail", "cut-cloud", "crash-app", "clock-skew"}
    sim(full_suite.root, "clear", "all")
    state = status(full_suite.root)
    assert state["faults"] == {} and all(state["apps"].values())
    assert full_suite.get("/", auth=False)[0] == 200 and full_suite.cloud_get()[0] == 200
    done = sim(full_suite.root, "clear", "portal-fail", "ivr", check=False)
    assert done.returncode == 1 and "unexpected argument" in done.stderr


# ---------------------------------------------------------------- light mode (one process)
def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def test_light_start_status_stop(tmp_path):
    root = tmp_path / "light"
    suite = start_suite(root, "--light")
    try:
        state = status(root)
        pid = state["supervisor_pid"]
        assert state["running"] and state["mode"] == "light" and state["apps"] == {}
        # one process, named ias-sim (comm and argv[0]), with no children
        assert Path(f"/proc/{pid}/comm").read_text().strip() == "ias-sim"
        assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] == b"ias-sim"
        assert Path(f"/proc/{pid}/task/{pid}/children").read_text().split() == []
        again = sim(root, "start", "--light", "--https-port", str(suite.https), "--cloud-port", str(suite.cloud))
        assert "already running" in again.stdout and "light mode" in again.stdout
        assert status(root)["supervisor_pid"] == pid
        # the same layout as the full mode
        cfg = json.loads((root / "sim.json").read_text())
        assert cfg["mode"] == "light" and cfg["db_limit_bytes"] == 8 * 1024 * 1024
        assert (root / "release.txt").read_text().strip() == "2024.Winter.1"
        assert (root / "webapi.json").stat().st_mode & 0o777 == 0o600
        assert 50_000 <= (root / "db" / "appsuite.sqlite").stat().st_size <= 200_000
        assert (root / "tls" / "server.pem").exists() and not (root / "ha" / "replication.json").exists()
    finally:
        stop_and_check(root)
    assert not alive(pid) and not status(root)["running"]
    assert "nothing to stop" in sim(root, "stop").stdout


def test_light_serves_every_role_and_keeps_no_request_threads(light_module_suite):
    suite = light_module_suite
    pid = status(suite.root)["supervisor_pid"]
    base = threads(pid)  # main, the HTTPS server, the cloud stand-in
    assert base == 3
    for path in (RECORDINGS, QME, IVR):
        assert suite.get(path, auth=False)[0] == 401 and suite.get(path)[0] == 200
    _, headers, _, _ = suite.get("/", auth=False)
    assert headers["Server"].startswith("ias-web")
    assert suite.cloud_get() == (200, {"message": "successfully connected!"})
    assert json.loads((suite.root / "ha" / "replication.json").read_text())["state"] == "sync_ready"
    # every app's start line and heartbeat come from the one process (a rotate-log test may
    # have moved the start lines to events.log.1)
    logged = [line for name in ("events.log.1", "events.log") if (suite.root / "logs" / name).exists()
              for line in events(suite.root, name)]
    for name in APPS:
        assert any(f"INFO {name}: service started (pid {pid}, light mode)" in line for line in logged)
    for name in APPS[:-1]:  # ias-web has no heartbeat, as in the full mode
        wait_until(lambda name=name: any(f"INFO {name}: service running normally" in line
                                         for line in events(suite.root)))
    assert all(LINE.match(line) for line in events(suite.root))
    wait_until(lambda: threads(pid) == base)  # the request threads are gone


@pytest.mark.parametrize("fault", [["crash-voip"], ["crash-app", "recorder"], ["restart-app", "web"]])
def test_light_refuses_process_faults(light_module_suite, fault):
    suite = light_module_suite
    pid = status(suite.root)["supervisor_pid"]
    done = sim(suite.root, "fault", *fault, check=False)
    assert done.returncode == 1
    assert f"{fault[0]} needs separate application processes" in done.stderr
    assert "light mode" in done.stderr and "without --light" in done.stderr
    state = status(suite.root)
    assert state["faults"] == {} and state["supervisor_pid"] == pid and alive(pid)


# ---------------------------------------------------------------- fill-disk on a private filesystem
@pytest.fixture
def small_fs(tmp_path):
    """A 64 MB ext4 image loop-mounted under tmp_path (root only)."""
    if os.geteuid() != 0:
        pytest.skip("fill-disk is tested on a loop-mounted ext4 image, which needs root")
    image, mount = tmp_path / "disk.img", tmp_path / "mnt"
    mount.mkdir()
    subprocess.run(["truncate", "-s", "64M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-F", "-q", str(image)], check=True)
    done = subprocess.run(["mount", "-o", "loop", str(image), str(mount)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot loop-mount an ext4 image here: {done.stderr.strip()}")
    yield mount
    if subprocess.run(["umount", str(mount)], check=False).returncode:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def used_percent(path: Path) -> float:
    st = os.statvfs(path)
    return 100.0 * (st.f_blocks - st.f_bfree) / st.f_blocks


@pytest.mark.parametrize("mode", [(), ("--light",)], ids=["full", "light"])
def test_fill_disk_and_clear(small_fs, mode):
    root = small_fs / "appsuite"
    start_suite(root, *mode)
    try:
        base = used_percent(root)
        sim(root, "fault", "fill-disk", "80")
        assert 80.0 <= used_percent(root) <= 81.0
        assert status(root)["faults"]["fill-disk"]["pct"] == 80.0
        sim(root, "fault", "fill-disk", "95")  # replaces the filler, computed again
        assert 95.0 <= used_percent(root) <= 96.0
        sim(root, "clear", "fill-disk")
        assert used_percent(root) <= base + 0.5 and "fill-disk" not in status(root)["faults"]
        for bad in ("0", "100", "x"):
            assert sim(root, "fault", "fill-disk", bad, check=False).returncode == 2
    finally:
        stop_and_check(root)


def test_fill_disk_refuses_a_large_real_disk(full_suite):
    st = os.statvfs(full_suite.root)
    need = st.f_blocks * st.f_frsize * 0.99 - (st.f_blocks - st.f_bfree) * st.f_frsize
    if need <= 2 * 1024 ** 3:
        pytest.skip("the filesystem under the test directory is small: fill-disk would really fill it")
    done = sim(full_suite.root, "fault", "fill-disk", "99", check=False)
    assert done.returncode == 1 and ("refusing" in done.stderr or "cannot fill" in done.stderr)
    assert not (full_suite.root / ".fill-disk.bin").exists() and "fill-disk" not in status(full_suite.root)["faults"]


# ---------------------------------------------------------------- the light mode's facts profile
def test_light_profile_is_the_demo_profile_with_the_one_process():
    yaml = pytest.importorskip("yaml")
    repo = Path(__file__).resolve().parents[2]
    demo = yaml.safe_load((repo / "inventories" / "demo" / "group_vars" / "simulator.yml").read_text())
    light = yaml.safe_load(Path(__file__).with_name("light_profile.yml").read_text())
    demo, profile = demo["imagicle_profile"], light["imagicle_profile"]
    assert set(profile) == set(demo)
    for section in set(demo) - {"processes", "webapi"}:
        assert profile[section] == demo[section], section
    # webapi: the demo's, plus the account (the demo gives it in group_vars/appsuite.yml)
    assert {k: v for k, v in profile["webapi"].items() if k not in ("username", "password")} == demo["webapi"]
    assert profile["webapi"]["username"] == "proactive" and "webapi-password" in profile["webapi"]["password"]
    # the one process of the light mode, under the name the simulator gives it
    sim_source = SIM.read_text()
    assert [item["name"] for item in profile["processes"]] == ["ias-sim"]
    assert 'SUPERVISOR = "ias-sim"' in sim_source
