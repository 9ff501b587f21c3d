# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the scheduled check's controller time goes: the job taken apart, step by step, against setup.

On N test-bed hosts with the light simulator (one bed, brought up here), interleaved rounds of:

* ``setup``     one ``ansible.builtin.setup`` task, no callback (the baseline);
* ``facts``     the role's task collecting only (``health_check_evaluate: false``), no callback;
* ``evaluate``  the role's task collecting and evaluating (metric history in the state store), no callback;
* ``callback``  the same with the ``cases`` callback (which also imports the evaluation once for the workers);
* ``scheduled`` ``playbooks/proactive_check.yml`` as scheduled: the above, the display of every host once
  and the run summary.

Each row differs from the one above by one step, so the differences of their controller CPU per
host say what each step costs. Reported per variant: the median of the controller CPU (user +
system) per host and its ratio to setup; written to ``--output`` as JSON.

Usage: ``python tests/bench/profile_check.py [--hosts 50] [--runs 3]`` (root; replaces any test bed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# pylint: disable=wrong-import-position
import bench_scale  # noqa: E402

ROLE_PLAYBOOK = """---
- name: The role's task only
  hosts: appsuite
  gather_facts: false
  tasks:
    - name: Check the hosts
      ansible.builtin.import_role:
        name: imagicle.proactive.health_check
        tasks_from: check
      vars:
        health_check_evaluate: %s
        health_check_show_summary: false
"""
VARIANTS = ("setup", "facts", "evaluate", "callback", "scheduled")


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", default=os.path.join(bench_scale.ROOT, "tests", "output", "profile_check.json"))
    args = parser.parse_args(argv)
    bed = bench_scale.Testbed(state_dir=bench_scale.DEFAULT_STATE_DIR)
    profile = bench_scale.load_profile(bench_scale.PROFILES["light"])
    results = {variant: [] for variant in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="imagicle-profile-check-") as work:
        env = bench_scale.ansible_env(bench_scale.DEFAULT_STATE_DIR, os.path.join(work, "state.sqlite"))
        try:
            hosts = bed.up(args.hosts)
            inventory = os.path.join(work, "inventory.yml")
            bench_scale.write_inventory(inventory, hosts, hosts, profile, bench_scale.DEFAULT_STATE_DIR)
            bench_scale.start_simulators(bed, inventory, True, env)
            bare = os.path.join(work, "bare.cfg")
            bench_scale.setup_config(bare)
            playbooks = {"setup": os.path.join(work, "setup.yml"), "facts": os.path.join(work, "facts.yml"),
                         "evaluate": os.path.join(work, "evaluate.yml"), "callback": os.path.join(work, "evaluate.yml"),
                         "scheduled": os.path.join(bench_scale.ROOT, "playbooks", "proactive_check.yml")}
            for name, text in (("setup", bench_scale.SETUP_PLAYBOOK), ("facts", ROLE_PLAYBOOK % "false"),
                               ("evaluate", ROLE_PLAYBOOK % "true")):
                with open(playbooks[name], "w", encoding="utf-8") as handle:
                    handle.write(text)
            configs = {"setup": bare, "facts": bare, "evaluate": bare, "callback": bench_scale.ANSIBLE_CFG,
                       "scheduled": bench_scale.ANSIBLE_CFG}
            names = [host["name"] for host in hosts]
            namespaces = [host["netns"] for host in hosts]
            for number in range(args.runs + 1):  # the first round warms up
                order = VARIANTS if number % 2 == 0 else VARIANTS[::-1]
                for variant in order:
                    sample = bench_scale.run_once("check" if variant == "scheduled" else "setup", playbooks[variant],
                                                  inventory, names, namespaces, dict(env, ANSIBLE_CONFIG=configs[variant]),
                                                  os.path.join(work, "%s.log" % variant))
                    if number:
                        results[variant].append(sample)
                    print("round %d %-9s controller %6.2f s  hosts %6.2f s  wall %6.2f s%s" % (
                        number, variant, sample["controller_cpu_s"], sample["host_cpu_s"], sample["wall_s"],
                        "" if number else "  (warm-up)"), flush=True)
        finally:
            bed.down()
    summary = {}
    for variant in VARIANTS:
        cpu = statistics.median(run["controller_cpu_s"] for run in results[variant]) / args.hosts
        host = statistics.median(run["host_cpu_s"] for run in results[variant]) / args.hosts
        summary[variant] = {"controller_cpu_per_host_s": cpu, "host_cpu_per_host_s": host}
    base = summary["setup"]["controller_cpu_per_host_s"]
    print("\n%d hosts, light simulator, median of %d rounds, per host" % (args.hosts, args.runs))
    print("| variant | controller CPU | vs setup | step cost | host CPU |")
    print("|---|---|---|---|---|")
    previous = None
    for variant in VARIANTS:
        cpu = summary[variant]["controller_cpu_per_host_s"]
        step = "" if previous is None or variant == "facts" else "%+.1f ms" % (1000 * (cpu - previous))
        print("| %s | %.1f ms | %.2f | %s | %.1f ms |" % (variant, 1000 * cpu, cpu / base, step,
                                                      1000 * summary[variant]["host_cpu_per_host_s"]))
        previous = cpu
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump({"hosts": args.hosts, "runs": args.runs, "summary": summary, "runs_by_variant": results}, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
