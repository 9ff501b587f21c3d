# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SIGKILL in the middle of a run filing 20 cases: of Request Tracker itself, and of the proxy in
front of it. After the next run each case is in RT exactly once."""

from __future__ import annotations

import os
import signal
import time

from fault_job import Estate, Job, Tickets, full_disks, rt_settings
from fault_proxy import FaultProxy

CASES = 20


def _wait_for_tickets(tickets: Tickets, host: str, at_least: int, run, seconds: float = 60.0) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        count = tickets.count(host)
        if count >= at_least:
            return count
        if run.process.poll() is not None:
            raise AssertionError("the run ended before filing %d tickets" % at_least)
        time.sleep(0.2)
    raise AssertionError("RT never had %d tickets of %s" % (at_least, host))


def _assert_each_once(tickets: Tickets, host: str, *runs) -> None:
    found = tickets.of_host(host)
    keys = [ticket["Subject"].split("]", 1)[0] for ticket in found]
    assert len(found) == CASES and len(set(keys)) == CASES, "%d tickets, %d distinct alarm keys for %d cases:\n%s" % (
        len(found), len(set(keys)), CASES, "\n".join(run.describe() for run in runs))


def _job(tmp_path, host: str, url: str, token: str) -> Job:
    estate = Estate(tmp_path / "estate")
    estate.add(host, full_disks(host, CASES))
    return Job(estate, tmp_path / "state.sqlite", **rt_settings(url, token), IMAGICLE_CASES_MAX_NEW_PER_HOST="100",
               IMAGICLE_CASES_REQUEST_TIMEOUT_SECONDS="5")


def test_request_tracker_killed_in_the_middle_of_a_run(tmp_path, rt, rt_proxy):
    host = "tk-rt"
    tickets = Tickets(rt)
    job = _job(tmp_path, host, rt_proxy.url, rt.token)
    rt_proxy.set_rules([{"method": "POST", "fault": "delay", "seconds": 0.3}])  # a run long enough to kill in
    running = job.start()
    try:
        _wait_for_tickets(tickets, host, 5, running)
        os.killpg(rt.pid(), signal.SIGKILL)  # RT and its workers, mid-request
    finally:
        killed = running.wait(timeout=120)
    rt.stop()  # reap what is left of it
    rt.start()
    rt_proxy.clear()
    assert tickets.count(host) < CASES, "RT was killed too late to test anything"
    after = job.run()
    _assert_each_once(tickets, host, killed, after)


def test_the_proxy_killed_in_the_middle_of_a_run(tmp_path, rt):
    host = "tk-proxy"
    tickets = Tickets(rt)
    with FaultProxy("127.0.0.1", rt.port) as proxy:
        proxy.set_rules([{"method": "POST", "fault": "delay", "seconds": 0.3}])
        job = _job(tmp_path, host, proxy.url, rt.token)
        running = job.start()
        try:
            _wait_for_tickets(tickets, host, 5, running)
            proxy.kill()  # the network in front of RT dies, some answers with it
        finally:
            killed = running.wait(timeout=120)
        assert tickets.count(host) < CASES, "the proxy was killed too late to test anything"
        proxy.start()  # the same port, plain forwarding
        after = job.run()
        _assert_each_once(tickets, host, killed, after)
