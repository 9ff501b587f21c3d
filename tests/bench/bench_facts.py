# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: appsuite_facts against ansible.builtin.setup on the same test-bed hosts.

Runs, in one command and interleaved so that both see the same machine, N times each:

* ``appsuite_facts`` through the ``health_check`` role (every section, the demo inventory's
  options: web portal, Web API, database, events, replication peer, cloud stand-in);
* ``ansible.builtin.setup`` with its defaults (``gather_subset: all``).

Each run is one ``ansible-playbook`` over every host of the demo inventory, SSH connections
warm (one discarded warm-up run of each first). Reported per run, as medians:

* wall time of the whole playbook;
* CPU time on the controller (the ansible-playbook process and its children);
* CPU time on the managed hosts: the growth of the children CPU time (cutime + cstime) of the
  sshd processes of each host, to which every command of the run adds once it has finished
  (the module's Python and its shell: the same overhead for both modules).

The ratio appsuite_facts / setup is printed for each. With ``--floor``, ``ansible.builtin.ping`` is
measured too (same rounds): what any module costs a host whatever it does (the SSH command and the
login shell, Python, the AnsiballZ wrapper and ``ansible.module_utils.basic``), so that the part of
appsuite_facts' figure that is its own work shows as the difference. Needs the demo test bed up
(``make demo`` or ``scripts/demo.sh up``). Usage: ``python tests/bench/bench_facts.py [--runs N] [--floor]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# pylint: disable=wrong-import-position
from benchutil import host_namespaces, sshd_cpu  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PLAYBOOKS = {
    "appsuite_facts": """
- name: appsuite_facts
  hosts: appsuite
  gather_facts: false
  roles:
    - role: imagicle.proactive.health_check
      vars:
        health_check_show_summary: false
""",
    "setup": """
- name: setup
  hosts: appsuite
  gather_facts: false
  tasks:
    - name: setup
      ansible.builtin.setup:
""",
}
# The floor (--floor): a module that does nothing on the host.
FLOOR = {
    "ping": """
- name: ping
  hosts: appsuite
  gather_facts: false
  tasks:
    - name: ping
      ansible.builtin.ping:
""",
}


def run_once(playbook: str, namespaces: list) -> dict:
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"))
    before_rusage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before_hosts = sshd_cpu(namespaces)
    started = time.perf_counter()
    proc = subprocess.run(
        [os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", os.path.join(ROOT, "inventories", "demo"),
         playbook],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    wall = time.perf_counter() - started
    # sshd reaps its session a moment after the client sees the end of the run.
    time.sleep(0.3)
    after_hosts = sshd_cpu(namespaces)
    after_rusage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit("%s failed:\n%s\n%s" % (playbook, proc.stdout[-3000:], proc.stderr[-3000:]))
    controller = (after_rusage.ru_utime - before_rusage.ru_utime) + (after_rusage.ru_stime - before_rusage.ru_stime)
    return {"wall": wall, "controller_cpu": controller, "host_cpu": after_hosts - before_hosts}


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="measured runs of each (default 7)")
    parser.add_argument("--floor", action="store_true",
                        help="measure ansible.builtin.ping too: what any module costs (default: no)")
    args = parser.parse_args(argv)
    namespaces = host_namespaces()
    playbooks = dict(PLAYBOOKS, **(FLOOR if args.floor else {}))
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, text in playbooks.items():
            files[name] = os.path.join(tmp, "%s.yml" % name)
            with open(files[name], "w", encoding="utf-8") as handle:
                handle.write("---" + text)
        for name in playbooks:  # warm-up: SSH masters, caches
            run_once(files[name], namespaces)
        samples = {name: [] for name in playbooks}
        for _ in range(args.runs):
            for name in playbooks:
                samples[name].append(run_once(files[name], namespaces))
    hosts = len(namespaces)
    print("appsuite_facts against ansible.builtin.setup, %d hosts, median of %d runs each" % (hosts, args.runs))
    print()
    print("| per run | appsuite_facts | setup | ratio |")
    print("|---|---|---|---|")
    for key, label in (("wall", "wall time"), ("controller_cpu", "controller CPU"), ("host_cpu", "managed-host CPU")):
        ours = statistics.median(s[key] for s in samples["appsuite_facts"])
        theirs = statistics.median(s[key] for s in samples["setup"])
        print("| %s | %.3f s | %.3f s | %.2f |" % (label, ours, theirs, ours / theirs if theirs else float("nan")))
    if args.floor:
        print()
        print("| per run | ping (the floor) | appsuite_facts less the floor | setup less the floor | ratio |")
        print("|---|---|---|---|---|")
        for key, label in (("wall", "wall time"), ("controller_cpu", "controller CPU"), ("host_cpu", "managed-host CPU")):
            floor = statistics.median(s[key] for s in samples["ping"])
            ours = statistics.median(s[key] for s in samples["appsuite_facts"]) - floor
            theirs = statistics.median(s[key] for s in samples["setup"]) - floor
            print("| %s | %.3f s | %.3f s | %.3f s | %.2f |"
                  % (label, floor, ours, theirs, ours / theirs if theirs > 0 else float("nan")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
