# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run lock of the state store, with a slow backend and with a run killed while holding it.

* Lock expiry with a slow backend: RT behind the fault proxy adding 1 s per request, a lock TTL of
  5 s and a send deadline of 4 s, two runs started overlapping over 20 alarms: each run keeps to
  its deadline (so its lock never expires under it), the second waits for the first, and after a
  last run RT has exactly 20 tickets, one per alarm key.
* A run killed with SIGKILL while holding the lock does not block the next one: the next run on
  this machine takes the lock over at once (far within lock_wait_seconds), says so and files its
  case. A run that waits for a living holder says how long and for whom.
"""

from __future__ import annotations

import time

from fault_job import Estate, Job, Tickets, appsuite_disk, full_disks, healthy, rt_settings

ALARMS = 20


def test_lock_expiry_with_a_slow_backend_files_each_alarm_once(tmp_path, rt, rt_proxy):
    host = "t05-slow"
    estate = Estate(tmp_path / "estate")
    estate.add(host, full_disks(host, ALARMS))
    job = Job(estate, tmp_path / "state.sqlite", **rt_settings(rt_proxy.url, rt.token),
              IMAGICLE_CASES_LOCK_TTL_SECONDS="5", IMAGICLE_CASES_SEND_DEADLINE_SECONDS="4",
              IMAGICLE_CASES_LOCK_WAIT_SECONDS="60", IMAGICLE_CASES_MAX_NEW_PER_HOST="100",
              IMAGICLE_CASES_REQUEST_TIMEOUT_SECONDS="3")
    rt_proxy.set_rules([{"fault": "delay", "seconds": 1.0}])
    first = job.start()
    rt_proxy.wait_for_log(1, timeout=30, done=False)  # the first run holds the lock and sends
    second = job.start()
    try:
        first_run = first.wait(timeout=40)
    finally:
        second_run = second.wait(timeout=60)
    assert first_run.returncode in (0, 75) and second_run.returncode in (0, 75), first_run.describe() + second_run.describe()

    rt_proxy.clear()
    last = job.run(env={"IMAGICLE_CASES_LOCK_TTL_SECONDS": "300", "IMAGICLE_CASES_SEND_DEADLINE_SECONDS": "120"})
    found = Tickets(rt).of_host(host)
    keys = [ticket["Subject"].split("]", 1)[0] for ticket in found]
    assert len(found) == ALARMS and len(set(keys)) == ALARMS, (
        "%d tickets, %d alarm keys (%d alarms): duplicates %s\n%s\n%s\n%s" % (
            len(found), len(set(keys)), ALARMS, sorted(k for k in set(keys) if keys.count(k) > 1),
            first_run.describe(), second_run.describe(), last.describe()))
    assert last.count("undelivered") == 0, last.describe()


def test_a_run_killed_while_holding_the_lock_does_not_block_the_next(tmp_path, rt, rt_proxy):
    host = "t13-killed"
    estate = Estate(tmp_path / "estate")
    estate.add(host, appsuite_disk(healthy(host), 96))
    job = Job(estate, tmp_path / "state.sqlite", **rt_settings(rt_proxy.url, rt.token),
              IMAGICLE_CASES_LOCK_WAIT_SECONDS="30", IMAGICLE_CASES_REQUEST_TIMEOUT_SECONDS="60")
    rt_proxy.set_rules([{"fault": "hang"}])
    holder = job.start()
    rt_proxy.wait_for_log(1, timeout=30, done=False)  # it holds the lock, waiting for RT
    holder.kill()
    rt_proxy.clear()

    started = time.monotonic()
    after = job.run(timeout=90)
    elapsed = time.monotonic() - started
    assert elapsed < 15, "the next run waited %.0f s for the lock of a dead run (lock_wait_seconds 30):\n%s" % (
        elapsed, after.describe())
    assert Tickets(rt).count(host) == 1, after.describe()
    assert after.returncode == 0, after.describe()
    assert "took over" in after.output and str(holder.pid) in after.output, (
        "the run must say whose lock it took over (pid %d):\n%s" % (holder.pid, after.describe()))


def test_a_run_that_waits_for_a_living_holder_says_how_long_and_for_whom(tmp_path, rt, rt_proxy):
    host = "t13-waits"
    estate = Estate(tmp_path / "estate")
    estate.add(host, appsuite_disk(healthy(host), 96))
    job = Job(estate, tmp_path / "state.sqlite", **rt_settings(rt_proxy.url, rt.token), IMAGICLE_CASES_LOCK_WAIT_SECONDS="30")
    rt_proxy.set_rules([{"fault": "delay", "seconds": 5.0, "count": 1}])
    holder = job.start()
    rt_proxy.wait_for_log(1, timeout=30, done=False)  # it holds the lock
    waiter = job.start()
    holder_run = holder.wait(timeout=60)
    waiter_run = waiter.wait(timeout=60)
    assert holder_run.returncode == 0 and waiter_run.returncode == 0, holder_run.describe() + waiter_run.describe()
    assert Tickets(rt).count(host) == 1
    lines = [line for line in waiter_run.output.splitlines() if "waited" in line and "lock" in line]
    assert lines, "the waiting run must say it waited for the lock:\n%s" % waiter_run.describe()
    assert str(holder.pid) in lines[0] and " s " in lines[0] + " ", "how long and for whom: %s" % lines[0]
