# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state store under faults: nothing lost, nothing twice.

* A store restored from a backup taken before a ticket was filed does not file a second ticket.
* A run whose callback cannot work (a store file full of garbage, backend rt without its URL)
  exits 78 and says why.
* A controller killed (SIGKILL) right after a case was saved and before its action was queued:
  the next run files the ticket, once.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from fault_job import ROOT, Estate, Job, Tickets, appsuite_disk, healthy, rt_settings


def _sqlite_files(path: str) -> list:
    return [path + suffix for suffix in ("", "-wal", "-shm", "-journal")]


def _backup(path: str, to: str) -> None:
    """A consistent copy of a SQLite store (the online backup API), as a backup job takes it."""
    source, target = sqlite3.connect(path), sqlite3.connect(to)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def _restore(backup: str, path: str) -> None:
    for name in _sqlite_files(path):
        if os.path.exists(name):
            os.unlink(name)
    _backup(backup, path)


def test_a_store_restored_from_a_backup_files_no_second_ticket(tmp_path, rt, rt_proxy):
    host = "t07-restored"
    store = str(tmp_path / "state.sqlite")
    estate = Estate(tmp_path / "estate")
    estate.add(host, healthy(host))
    job = Job(estate, store, **rt_settings(rt_proxy.url, rt.token))
    assert job.run().returncode == 0  # a healthy run: the store exists, no case
    _backup(store, str(tmp_path / "backup.sqlite"))

    estate.report(host, appsuite_disk(healthy(host), 96))
    first = job.run()
    tickets = Tickets(rt)
    assert tickets.count(host) == 1, first.describe()

    _restore(str(tmp_path / "backup.sqlite"), store)  # the controller's store rolled back to the backup
    again = job.run()
    job.run()
    found = tickets.of_host(host)
    assert len(found) == 1, "the restored store filed the same alarm again: %s\n%s" % (
        [t["Subject"] for t in found], again.describe())


def _garbage_store(path: str) -> None:
    with open(path, "wb") as handle:
        handle.write(b"this is not a database \x00\xff\xfe" * 400)


@pytest.mark.parametrize("broken", ["garbage-store", "rt-without-url"])
def test_a_run_whose_cases_cannot_be_filed_exits_78_and_says_why(broken, tmp_path, rt, rt_proxy):
    host = "t08-%s" % broken
    store = str(tmp_path / "state.sqlite")
    estate = Estate(tmp_path / "estate")
    estate.add(host, appsuite_disk(healthy(host), 96))
    settings = rt_settings(rt_proxy.url, rt.token)
    if broken == "garbage-store":
        _garbage_store(store)
        reason = ("not a database", store)
    else:
        settings["IMAGICLE_RT_URL"] = ""
        reason = ("IMAGICLE_RT_URL",)
    run = Job(estate, store, **settings).run()
    assert Tickets(rt).count(host) == 0
    assert run.returncode == 78, "cases could not be filed: the run must exit 78:\n%s" % run.describe()
    missing = [word for word in reason if word not in run.output]
    assert not missing, "the run must say why (%s):\n%s" % (missing, run.describe())


# A controller that dies (SIGKILL) inside plan_run, right after the case was saved and before its
# first outbox action was queued: the store's enqueue kills the process on its first call.
KILLED_PLANNER = textwrap.dedent("""
    import json, os, signal, sys
    from datetime import datetime, timezone
    sys.path.insert(0, sys.argv[1])
    from ansible_collections.imagicle.proactive.plugins.plugin_utils import cases
    from ansible_collections.imagicle.proactive.plugins.plugin_utils import store as store_module
    from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store

    def die(self, item):
        os.kill(os.getpid(), signal.SIGKILL)

    store_module.Store.enqueue = die
    alarms = json.loads(open(sys.argv[3]).read())
    with open_store(sys.argv[2]) as store:
        cases.plan_run(store, alarms, {a["host"] for a in alarms}, "rt", datetime.now(timezone.utc))
    sys.exit("plan_run never queued an action")
""")


def test_a_crash_between_saving_a_case_and_queueing_its_action_loses_nothing(tmp_path, rt, rt_proxy):
    host = "t12-crash"
    store = str(tmp_path / "state.sqlite")
    estate = Estate(tmp_path / "estate")
    estate.add(host, appsuite_disk(healthy(host), 96))
    job = Job(estate, store, **rt_settings(rt_proxy.url, rt.token))
    look = job.run("-e", "file_cases=false", "-e", "dump_alarms=true")  # the alarms, nothing filed
    assert look.returncode == 0, look.describe()
    alarms_file = os.path.join(estate.directory, "%s.alarms.json" % host)
    with open(alarms_file, encoding="utf-8") as handle:
        assert len(json.load(handle)) == 1

    child = subprocess.run([sys.executable, "-c", KILLED_PLANNER, os.path.join(ROOT, "collections"), store, alarms_file],
                           capture_output=True, text=True, timeout=60, check=False)
    assert child.returncode == -signal.SIGKILL, "the planner was not killed in enqueue: %s %s" % (child.returncode, child.stderr)
    tickets = Tickets(rt)
    assert tickets.count(host) == 0

    after = job.run()
    job.run()
    assert tickets.count(host) == 1, "the case saved before the crash was never filed:\n%s" % after.describe()
