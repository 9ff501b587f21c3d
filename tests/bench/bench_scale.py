# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the scheduled proactive check against ``ansible.builtin.setup`` at 10 to 200 hosts.

One test bed is brought up at the largest size (tests/testbed/testbed.py) and the simulated
AppSuite started on every host; each size N then runs over the first N hosts, through an
inventory written for them (the simulator's profile, a customer with its plan, calendar and
contacts per host, an HA peer, the Web API account). Two variants, each one ``ansible-playbook``
with the project's ansible.cfg (its forks and SSH settings):

* **check**: ``playbooks/proactive_check.yml`` as the scheduled job runs it (facts, evaluation,
  the ``cases`` callback filing into the local register of a SQLite store of its own, the
  summary);
* **setup**: one ``ansible.builtin.setup`` task with its defaults (``gather_subset: all``),
  with the same ansible.cfg less its ``callbacks_enabled`` (a bare setup, no cases callback).

Per size: ``--warmup`` runs of each (discarded), then ``--runs`` rounds of one run of each, the
variant that goes first alternating. Per run: wall time; controller CPU, user and system, of
ansible-playbook and every process it waited for (``os.wait4``); CPU on the hosts (what their
sshd processes collected from the commands of the run); the peak proportional set size (PSS) of
ansible-playbook's process tree, sampled at 5 Hz; the hosts that finished (in the recap, neither
failed nor unreachable). Reported per size: median and min to max of each figure per variant,
per host, the ratios check / setup of the medians and the check's hosts per minute; as a table
on stdout and as JSON with the machine's description (``--output``).

    .venv/bin/python tests/bench/bench_scale.py [--sizes 10,50,100,200] [--runs 3] [--warmup 1]
        [--output tests/output/bench_scale.json] [--keep-bed] [--light | --full]

The simulator is the light one (``Testbed.start_simulators(light=True)``, profile
tests/simulator/light_profile.yml) when the checkout has it, else the full one
(playbooks/simulator.yml, profile inventories/demo/group_vars/simulator.yml), for a few tens of
hosts; ``--light`` or ``--full`` choose. ``make bench`` runs it with these
defaults. Needs root (the test bed); it replaces any test bed that runs on the machine.
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _path in (os.path.join(ROOT, "collections"), os.path.join(ROOT, "tests", "testbed"),
              os.path.dirname(os.path.abspath(__file__))):
    if _path not in sys.path:
        sys.path.insert(0, _path)

# pylint: disable=wrong-import-position
import bench_history  # noqa: E402
from benchutil import sshd_cpu  # noqa: E402
from testbed import MAX_HOSTS, Testbed, TestbedError  # noqa: E402

VENV_BIN = os.path.join(ROOT, ".venv", "bin")
ANSIBLE_CFG = os.path.join(ROOT, "ansible.cfg")
DEFAULT_OUT = os.path.join(ROOT, "tests", "output", "bench_scale.json")
DEFAULT_STATE_DIR = os.environ.get("IMAGICLE_TESTBED_STATE_DIR", "/var/tmp/imagicle-testbed")
# The simulator's profile (an ``imagicle_profile`` dict of group variables) for each simulator.
PROFILES = {"full": os.path.join(ROOT, "inventories", "demo", "group_vars", "simulator.yml"),
            "light": os.path.join(ROOT, "tests", "simulator", "light_profile.yml")}
VARIANTS = ("check", "setup")
SETUP_PLAYBOOK = """---
- name: setup
  hosts: appsuite
  gather_facts: false
  tasks:
    - name: setup
      ansible.builtin.setup:
        gather_subset: all
"""
# The hosts' customers, one after the other: every one eligible for proactive cases.
CUSTOMERS = (
    {"imagicle_customer": "bench-rome", "imagicle_consent": True, "imagicle_language": "it",
     "imagicle_sla": {"plan": "platinum", "timezone": "Europe/Rome", "holidays": {"country": "IT"}},
     "imagicle_contacts": ["noc@bench-rome.example"]},
    {"imagicle_customer": "bench-newyork", "imagicle_consent": True, "imagicle_language": "en",
     "imagicle_sla": {"plan": "gold", "timezone": "America/New_York", "holidays": {"country": "US"}},
     "imagicle_contacts": ["it@bench-newyork.example"]},
    {"imagicle_customer": "bench-tokyo", "imagicle_consent": True, "imagicle_language": "en",
     "imagicle_sla": {"plan": "platinum", "timezone": "Asia/Tokyo", "holidays": {"country": "JP"}},
     "imagicle_contacts": ["helpdesk@bench-tokyo.example"]},
    {"imagicle_customer": "bench-copenhagen", "imagicle_consent": True, "imagicle_language": "en",
     "imagicle_sla": {"plan": "gold", "timezone": "Europe/Copenhagen", "holidays": {"country": "DK"}},
     "imagicle_contacts": ["ops@bench-copenhagen.example"]},
)
# Figures of a run, with their unit; the first ones are divided by the hosts for "per host".
FIGURES = (("wall_s", "s"), ("controller_user_s", "s"), ("controller_sys_s", "s"), ("controller_cpu_s", "s"),
           ("host_cpu_s", "s"), ("peak_pss_mib", "MiB"))
RECAP = re.compile(r"^(\S+)\s*:\s*ok=\d+\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=\d+\s+"
                   r"rescued=\d+\s+ignored=(\d+)", re.M)
# The check's run summary: the result of its last task, as the yaml result format prints it.
SUMMARY = re.compile(r"^TASK \[Alarms per host[^\n]*\n(?:.*\n)*?ok: \[localhost\] =>\s*\n((?:[ \t]+.*\n)+)", re.M)
SAMPLE_INTERVAL = 0.2


class BenchError(Exception):
    """The benchmark cannot run or a run failed; the message says which and what to do."""


# --- the estate ----------------------------------------------------------------------------------

def load_profile(path: str) -> dict:
    """The ``imagicle_profile`` of the YAML file ``path`` (group variables)."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as exc:
        raise BenchError("cannot read the simulator profile %s: %s" % (path, exc)) from exc
    except yaml.YAMLError as exc:
        raise BenchError("the simulator profile %s is not valid YAML: %s" % (path, exc)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("imagicle_profile"), dict):
        raise BenchError("the simulator profile %s has no imagicle_profile mapping (group variables with the "
                         "health_check role's profile)" % path)
    return data["imagicle_profile"]


def ha_peer(index: int, total: int) -> int | None:
    """The HA peer of host ``index`` of the bed: pairs (0, 1), (2, 3), ...; an odd last host peers with 0."""
    if total < 2:
        return None
    peer = index ^ 1
    return peer if peer < total else 0


def write_inventory(path: str, hosts: list, all_hosts: list, profile: dict, state_dir: str) -> None:
    """An inventory of ``hosts`` (the first N of the bed's ``all_hosts``) in group ``appsuite``:
    connection, the simulator's profile, a customer (CUSTOMERS in turn), the HA peer (a host of
    the bed, running even when not in ``hosts``) and, when the profile has a Web API, its account."""
    group = {
        "imagicle_testbed_dir": state_dir,
        "ansible_user": "root",
        "ansible_ssh_private_key_file": os.path.join(state_dir, "id_ed25519"),
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "
                                   "-o ControlPath=%s" % os.path.join(state_dir, "cp-%C"),
        "ansible_python_interpreter": "/usr/bin/python3",
        "imagicle_profile": profile,
    }
    if "webapi" in profile:
        group["imagicle_webapi"] = {"username": "proactive",
                                    "password": "{{ lookup('ansible.builtin.file', imagicle_testbed_dir ~ '/webapi-password') }}"}
    members = {}
    for index, host in enumerate(hosts):
        variables = dict(CUSTOMERS[index % len(CUSTOMERS)], ansible_host=host["ip"])
        peer = ha_peer(index, len(all_hosts))
        if peer is not None:
            variables["imagicle_ha_peer"] = all_hosts[peer]["name"]
            if "replication" in profile:
                variables["imagicle_replication"] = {"peer_url": "https://%s/" % all_hosts[peer]["ip"]}
        members[host["name"]] = variables
    inventory = {"all": {"children": {"appsuite": {"vars": group, "hosts": members}}}}
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("---\n# Written by tests/bench/bench_scale.py for one size of the benchmark.\n")
        yaml.safe_dump(inventory, handle, default_flow_style=False, sort_keys=False)


def setup_config(path: str) -> None:
    """The project's ansible.cfg without its callbacks (a bare setup), at ``path``: the same forks
    and SSH settings; its relative paths made absolute (Ansible reads them from the file's directory)."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(ANSIBLE_CFG)
    config.remove_option("defaults", "callbacks_enabled")
    for key in ("collections_path", "inventory", "roles_path"):
        if config.has_option("defaults", key):
            config.set("defaults", key, os.pathsep.join(os.path.normpath(os.path.join(ROOT, part))
                                                        for part in config.get("defaults", key).split(os.pathsep)))
    with open(path, "w", encoding="utf-8") as handle:
        config.write(handle)


def ansible_env(state_dir: str, store: str) -> dict:
    """The runs' environment. Python keeps the bytecode it compiles, as it does by default on a controller (the
    warm-up round writes it beside the collection's plugins): a PYTHONDONTWRITEBYTECODE of the calling shell
    would make every run compile the collection's plugins again, which no installed controller does."""
    env = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""), ANSIBLE_CONFIG=ANSIBLE_CFG,
               IMAGICLE_TESTBED_STATE_DIR=state_dir, IMAGICLE_STATE_STORE=store)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def start_simulators(bed: Testbed, inventory: str, light: bool, env: dict) -> None:
    """Start the simulated AppSuite, without fault, on every host of the bed (``inventory``).

    Full: playbooks/simulator.yml, as scripts/demo.sh does. Light: the test bed's own starter of
    the light simulator (``Testbed.start_simulators(light=True)``)."""
    if light:
        starter = getattr(bed, "start_simulators", None)
        if starter is None:
            raise BenchError("the light simulator is not available: this checkout's tests/testbed/testbed.py has no "
                             "Testbed.start_simulators; use --full (a few tens of hosts) or a checkout that has it")
        starter(light=True)
        return
    # The bed is always a new one (fresh disks, no faults.json): no fault to clear after the start.
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory,
                           os.path.join(ROOT, "playbooks", "simulator.yml")],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BenchError("playbooks/simulator.yml failed (%d):\n%s\n%s" % (proc.returncode, proc.stdout[-3000:],
                                                                           proc.stderr[-2000:]))


# --- one run -------------------------------------------------------------------------------------

def _tree_pss_kib(root: int) -> int:
    """The PSS of process ``root`` and all its descendants, in KiB (0 when it is gone)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, encoding="ascii", errors="replace") as handle:
                parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    total = 0
    for pid in tree:
        try:
            with open("/proc/%d/smaps_rollup" % pid, encoding="ascii") as handle:
                total += next((int(line.split()[1]) for line in handle if line.startswith("Pss:")), 0)
        except (OSError, ValueError):
            continue
    return total


class PeakPss(threading.Thread):
    """Samples the PSS of a process tree every SAMPLE_INTERVAL seconds until stopped; keeps the peak."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self.samples = pid, 0, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while True:
            self.peak_kib = max(self.peak_kib, _tree_pss_kib(self.pid))
            self.samples += 1
            if self._stop_event.wait(SAMPLE_INTERVAL):
                return

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def finished_hosts(variant: str, output: str, names: list) -> int:
    """Hosts of ``names`` that finished the run: in the play recap neither failed, unreachable nor
    ignored (the check ignores an unreachable host, and makes it a host_not_reporting alarm); for
    the check also reported, in the run summary ("<host> (<customer>, <plan>): N alarm(s)", without
    NOT REPORTING)."""
    recap = {m.group(1): m.groups()[1:] for m in RECAP.finditer(output)}
    done = {name for name in names if recap.get(name) == ("0", "0", "0")}
    if variant == "check":
        summary = SUMMARY.search(output)
        try:
            lines = (yaml.safe_load(summary.group(1)) or {}).get("msg") if summary else None
        except yaml.YAMLError:
            lines = None
        reported = {line.split(" (", 1)[0] for line in lines or [] if isinstance(line, str)
                    and re.search(r"\): \d+ alarm\(s\)", line) and "NOT REPORTING" not in line}
        done &= reported
    return len(done)


def run_once(variant: str, playbook: str, inventory: str, names: list, namespaces: list, env: dict, log_path: str) -> dict:
    """One ansible-playbook over the inventory, measured."""
    host_before = sshd_cpu(namespaces)
    with open(log_path, "w+", encoding="utf-8") as log:
        started = time.perf_counter()
        proc = subprocess.Popen([os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory, playbook],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        sampler = PeakPss(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
        log.seek(0)
        output = log.read()
    time.sleep(0.3)  # sshd reaps its session a moment after the client sees the end of the run
    host_cpu = sshd_cpu(namespaces) - host_before
    if proc.returncode != 0:
        raise BenchError("%s failed (exit %d) over %d hosts; its output is in %s:\n%s" % (
            variant, proc.returncode, len(names), log_path, output[-3000:]))
    return {"wall_s": wall, "controller_user_s": usage.ru_utime, "controller_sys_s": usage.ru_stime,
            "controller_cpu_s": usage.ru_utime + usage.ru_stime, "host_cpu_s": host_cpu,
            "peak_pss_mib": sampler.peak_kib / 1024.0, "pss_samples": sampler.samples,
            "hosts_finished": finished_hosts(variant, output, names)}


# --- the report ----------------------------------------------------------------------------------

def summarise(runs: list, hosts: int) -> dict:
    figures = {}
    for name, _unit in FIGURES:
        values = [run[name] for run in runs]
        median = statistics.median(values)
        figures[name] = {"median": median, "min": min(values), "max": max(values), "per_host": median / hosts}
    return {"runs": runs, "figures": figures, "hosts_finished": min(run["hosts_finished"] for run in runs)}


def size_result(hosts: int, samples: dict) -> dict:
    variants = {variant: summarise(samples[variant], hosts) for variant in VARIANTS}
    ratios = {}
    for name, _unit in FIGURES:
        theirs = variants["setup"]["figures"][name]["median"]
        ratios[name] = variants["check"]["figures"][name]["median"] / theirs if theirs else None
    wall = variants["check"]["figures"]["wall_s"]["median"]
    return {"hosts": hosts, "variants": variants, "ratios_check_to_setup": ratios,
            "check_hosts_per_minute": hosts * 60.0 / wall}


def table(result: dict) -> str:
    lines = []
    for size in result["sizes"]:
        hosts = size["hosts"]
        lines += ["", "%d hosts, %s simulator, forks %s, median (min to max) of %d run(s) each; per host: the median / %d" % (
            hosts, result["settings"]["simulator"], result["settings"]["forks"], result["settings"]["runs"], hosts),
            "| per run | check | setup | check / setup | check per host | setup per host |",
            "|---|---|---|---|---|---|"]
        for name, unit in FIGURES:
            cells = []
            for variant in VARIANTS:
                fig = size["variants"][variant]["figures"][name]
                cells.append("%.3f %s (%.3f to %.3f)" % (fig["median"], unit, fig["min"], fig["max"]))
            per_host = ["%.4f %s" % (size["variants"][variant]["figures"][name]["per_host"], unit) for variant in VARIANTS]
            ratio = size["ratios_check_to_setup"][name]
            lines.append("| %s | %s | %s | %s | %s | %s |" % (name, cells[0], cells[1], "-" if ratio is None else "%.2f" % ratio,
                                                            per_host[0], per_host[1]))
        lines.append("| hosts finished (fewest of the runs) | %d of %d | %d of %d | | | |" % (
            size["variants"]["check"]["hosts_finished"], hosts, size["variants"]["setup"]["hosts_finished"], hosts))
        lines.append("check: %.0f hosts per minute" % size["check_hosts_per_minute"])
    return "\n".join(lines)


def ansible_settings() -> dict:
    """Forks and SSH settings of the project's ansible.cfg (what both variants run with)."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(ANSIBLE_CFG)
    return {"forks": config.getint("defaults", "forks", fallback=5),
            "ssh": {"pipelining": config.get("ssh_connection", "pipelining", fallback=None),
                    "ssh_args": config.get("ssh_connection", "ssh_args", fallback=None)}}


def describe_machine(env: dict) -> dict:
    described = dict(bench_history.machine(), kernel=platform.release())
    version = subprocess.run([os.path.join(VENV_BIN, "ansible"), "--version"], env=env, capture_output=True, text=True,
                             check=False).stdout.splitlines()
    described["ansible_core"] = version[0] if version else None
    described["hosts_python"] = subprocess.run(["/usr/bin/python3", "--version"], capture_output=True, text=True,
                                               check=False).stdout.strip()
    described["ssh"] = subprocess.run(["ssh", "-V"], capture_output=True, text=True, check=False).stderr.strip()
    described["load_average_at_start"] = list(os.getloadavg())
    return described


# --- main ----------------------------------------------------------------------------------------

def light_available() -> bool:
    """Whether this checkout has the light simulator: the test bed's starter and its profile."""
    return hasattr(Testbed, "start_simulators") and os.path.exists(PROFILES["light"])


def run(sizes: list, runs: int = 3, warmup: int = 1, out: str | None = DEFAULT_OUT, light: bool | None = None,
        keep_bed: bool = False, state_dir: str = DEFAULT_STATE_DIR, log=print) -> dict:
    """Bring the bed up at the largest size, measure each size, write ``out``; returns the result."""
    sizes = sorted(set(sizes))
    if not sizes or sizes[0] < 1 or runs < 1 or warmup < 0:
        raise BenchError("sizes must be at least 1 host, runs at least 1 and warm-up runs at least 0")
    if sizes[-1] > MAX_HOSTS:
        raise BenchError("the test bed has at most %d hosts: --sizes %d is too many" % (MAX_HOSTS, sizes[-1]))
    if light is None:
        light = light_available()
    elif light and not light_available():
        raise BenchError("the light simulator is not in this checkout (it needs Testbed.start_simulators in "
                         "tests/testbed/testbed.py and the profile %s): use --full" % os.path.relpath(PROFILES["light"], ROOT))
    profile_path = PROFILES["light" if light else "full"]
    profile = load_profile(profile_path)
    settings = ansible_settings()
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "settings": {"sizes": sizes, "runs": runs, "warmup": warmup, "simulator": "light" if light else "full",
                           "profile": os.path.relpath(profile_path, ROOT), "forks": settings["forks"],
                           "ssh": settings["ssh"], "ansible_cfg": os.path.relpath(ANSIBLE_CFG, ROOT)},
              "sizes": []}
    bed = Testbed(state_dir=state_dir)
    with tempfile.TemporaryDirectory(prefix="imagicle-bench-scale-") as work:
        env = ansible_env(state_dir, os.path.join(work, "state.sqlite"))
        result["machine"] = describe_machine(env)
        started = time.monotonic()
        brought_up = False
        try:
            log("bringing up %d test-bed hosts ..." % sizes[-1])
            brought_up = True  # up replaces any bed that runs: from here on, down at the end
            all_hosts = bed.up(sizes[-1])
            whole = os.path.join(work, "inventory-all.yml")
            write_inventory(whole, all_hosts, all_hosts, profile, state_dir)
            start_simulators(bed, whole, light, env)
            log("test bed and simulators up in %.1f s" % (time.monotonic() - started))
            playbooks = {"check": os.path.join(ROOT, "playbooks", "proactive_check.yml"),
                         "setup": os.path.join(work, "setup.yml")}
            with open(playbooks["setup"], "w", encoding="utf-8") as handle:
                handle.write(SETUP_PLAYBOOK)
            configs = {"check": ANSIBLE_CFG, "setup": os.path.join(work, "ansible-setup.cfg")}
            setup_config(configs["setup"])
            for hosts in sizes:
                chosen = all_hosts[:hosts]
                names = [host["name"] for host in chosen]
                namespaces = [host["netns"] for host in chosen]
                inventory = os.path.join(work, "inventory-%d.yml" % hosts)
                write_inventory(inventory, chosen, all_hosts, profile, state_dir)
                size_env = dict(env, IMAGICLE_STATE_STORE=os.path.join(work, "state-%d.sqlite" % hosts))

                def measure(variant, hosts=hosts, inventory=inventory, names=names, namespaces=namespaces, env=size_env):
                    return run_once(variant, playbooks[variant], inventory, names, namespaces,
                                    dict(env, ANSIBLE_CONFIG=configs[variant]),
                                    os.path.join(work, "%s-%d.log" % (variant, hosts)))

                for _ in range(warmup):
                    for variant in VARIANTS:
                        log("%4d hosts  warm-up  %-5s  wall %7.2f s  (discarded)" % (hosts, variant,
                                                                                 measure(variant)["wall_s"]))
                samples = {variant: [] for variant in VARIANTS}
                for number in range(runs):
                    order = VARIANTS if number % 2 == 0 else VARIANTS[::-1]
                    for variant in order:
                        sample = measure(variant)
                        sample["round"], sample["first"] = number + 1, order[0] == variant
                        samples[variant].append(sample)
                        log("%4d hosts  round %d  %-5s  wall %7.2f s  controller %6.2f+%5.2f s  hosts %6.2f s  "
                            "PSS %7.1f MiB  finished %d" % (hosts, number + 1, variant, sample["wall_s"],
                                                            sample["controller_user_s"], sample["controller_sys_s"],
                                                            sample["host_cpu_s"], sample["peak_pss_mib"],
                                                            sample["hosts_finished"]))
                result["sizes"].append(size_result(hosts, samples))
        finally:
            result["machine"]["load_average_at_end"] = list(os.getloadavg())
            result["seconds"] = round(time.monotonic() - started, 1)
            if brought_up and not keep_bed:
                bed.down()
    if out:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2, allow_nan=False)
            handle.write("\n")
    return result


def _sizes(text: str) -> list:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("--sizes takes host counts separated by commas, e.g. 10,50,100,200") from None


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--sizes", type=_sizes, default=[10, 50, 100, 200], help="host counts (default 10,50,100,200)")
    parser.add_argument("--runs", type=int, default=3, help="measured rounds per size (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="discarded runs of each variant per size (default 1)")
    parser.add_argument("--output", default=DEFAULT_OUT, help="the JSON results (default tests/output/bench_scale.json)")
    parser.add_argument("--keep-bed", action="store_true", help="leave the test bed and simulators up at the end")
    parser.add_argument("--state-dir", default=DEFAULT_STATE_DIR, help="the test bed's state directory")
    simulator = parser.add_mutually_exclusive_group()
    simulator.add_argument("--light", dest="light", action="store_true",
                           help="the light simulator (Testbed.start_simulators(light=True)) and its profile "
                                "tests/simulator/light_profile.yml; the default when the checkout has both")
    simulator.add_argument("--full", dest="light", action="store_false",
                           help="the full simulator (playbooks/simulator.yml) and the demo's profile "
                                "(inventories/demo/group_vars/simulator.yml); the default otherwise; for a few tens of hosts")
    parser.set_defaults(light=None)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("the test bed needs root (network namespaces, loop disks)")
    try:
        result = run(args.sizes, args.runs, args.warmup, args.output, args.light, args.keep_bed, args.state_dir)
    except (BenchError, TestbedError) as exc:
        print("bench_scale: %s" % exc, file=sys.stderr)
        return 1
    print(table(result))
    print("\nJSON: %s (machine: %s, %s CPUs, load average %s at the end)" % (
        args.output, result["machine"]["cpu_model"], result["machine"]["cpus"],
        " ".join("%.1f" % value for value in result["machine"]["load_average_at_end"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
