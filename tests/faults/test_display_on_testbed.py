# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""On the test bed (SSH hosts in network namespaces, the simulated AppSuite), under the test bed's
lock: a host whose facts make the role's human summary fail still has its alarms filed.

The host cannot read its load average: the module's Python runs with a sitecustomize that makes
``os.getloadavg()`` fail as it does when /proc/loadavg cannot be read (glibc here asks sysinfo(2),
so hiding /proc/loadavg alone is not enough), and its facts say ``system.load_average: null``; its
disk is filled to 95 %. The scheduled job (playbooks/proactive_check.yml, the health_check role)
must still file the disk alarm: one ticket.
"""

from __future__ import annotations

import os

from fault_job import Tickets, rt_settings

HOST = "ias-a"
NO_LOADAVG = """import os


def _getloadavg():
    raise OSError("Load averages are unobtainable")


os.getloadavg = _getloadavg
"""


def _python_without_loadavg(directory) -> str:
    """An interpreter for the host: its own /usr/bin/python3 with os.getloadavg() failing."""
    site = os.path.join(str(directory), "noloadavg")
    os.makedirs(site, exist_ok=True)
    with open(os.path.join(site, "sitecustomize.py"), "w", encoding="utf-8") as handle:
        handle.write(NO_LOADAVG)
    wrapper = os.path.join(str(directory), "python3-noloadavg")
    with open(wrapper, "w", encoding="utf-8") as handle:
        handle.write("#!/bin/sh\nPYTHONPATH=%s exec /usr/bin/python3 \"$@\"\n" % site)
    os.chmod(wrapper, 0o755)
    os.chmod(str(directory), 0o755)
    return wrapper


def test_testbed_a_host_whose_summary_cannot_be_shown_still_has_its_alarms_filed(demo_estate_locked, tmp_path, rt, rt_proxy):
    project = demo_estate_locked
    python = _python_without_loadavg(tmp_path)
    probe = project.bed.exec(HOST, [python, "-c", "import os; os.getloadavg()"])
    assert probe.returncode != 0, "the load average is still readable on %s" % HOST
    project.sim(HOST, "fault", "fill-disk", "95")
    try:
        env = dict(rt_settings(rt_proxy.url, rt.token), IMAGICLE_STATE_STORE=str(tmp_path / "state.sqlite"))
        run = project.playbook("proactive_check.yml", "-l", HOST, "-e", "ansible_python_interpreter=%s" % python,
                               env=env, check=False)
        text = run.stdout + run.stderr
        disk = [t for t in Tickets(rt).of_host(HOST) if "Disk space" in t["Subject"]]
        assert len(disk) == 1, "the disk alarm of %s was not filed (exit %d):\n%s" % (HOST, run.returncode, text[-6000:])
    finally:
        project.sim(HOST, "clear", "all")
