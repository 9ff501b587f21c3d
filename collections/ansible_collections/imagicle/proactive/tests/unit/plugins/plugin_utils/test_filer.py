# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filer process: hosts handed over one by one, then the end of the run, into a real SQLite store and the
local register; what goes wrong comes back as a FilerError of the right kind."""

from __future__ import annotations

import atexit

import pytest

from ansible_collections.imagicle.proactive.plugins.plugin_utils import cases
from ansible_collections.imagicle.proactive.plugins.plugin_utils.filer import Filer, FilerError
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store

from .test_cases_stepwise import SCENARIO, run_input


def settings(store_path, **options):
    base = {"backend": "local", "store": store_path, "pager": "none", "mail": False, "allow_http": False,
            "request_timeout_seconds": 5}
    base.update(options)
    return {"options": base, "policy": cases.Policy(), "attempts": 1, "send_seconds": 60, "lock_wait_seconds": 5,
            "lock_ttl_seconds": 60, "playbook": "test", "run_pid": 1}


def test_the_filer_files_the_hosts_as_they_come_and_the_rest_at_the_end(tmp_path):
    store_path = str(tmp_path / "state.sqlite")
    whole, alone = run_input(SCENARIO[1], sorted(SCENARIO[1]))
    filer = Filer(settings(store_path))
    for host, part in alone:
        filer.submit(host, part)
    report, undelivered = filer.finish(whole)
    assert undelivered == []
    # bz-2 alone (nothing); acme's cloud loss makes one customer case; ias-a did not report; bz-1 lost the cloud
    # alone; ias-c's crash.
    assert (report.opened, report.suppressed) == (4, 3)
    with open_store(store_path) as store:
        opened = sorted((r.host, r.rule) for r in store.cases(status="open"))
    assert opened == [("acme (all hosts)", "cloud_connection_failed"), ("bz-1", "cloud_connection_failed"),
                      ("ias-a", "host_not_reporting"), ("ias-c", "voip_stack_crashed")]


def test_a_store_that_cannot_be_used_is_a_store_error(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    whole, dummy = run_input(SCENARIO[0], sorted(SCENARIO[0]))
    filer = Filer(settings(str(blocker / "state.sqlite")))
    with pytest.raises(FilerError) as caught:
        filer.finish(whole)
    assert caught.value.kind == "StoreError"
    assert "state.sqlite" in caught.value.message


def test_the_filer_ends_without_running_the_exit_handlers_of_the_process_it_was_forked_from(tmp_path):
    # ansible-playbook's exit handlers (its temporary directory removed, ...) belong to it alone.
    marker = tmp_path / "exit-handler-ran"

    def handler():
        marker.write_text("ran")

    atexit.register(handler)
    try:
        whole, alone = run_input(SCENARIO[1], sorted(SCENARIO[1]))
        filer = Filer(settings(str(tmp_path / "state.sqlite")))
        for host, part in alone:
            filer.submit(host, part)
        report, dummy = filer.finish(whole)
    finally:
        atexit.unregister(handler)
    assert not marker.exists()
    assert report.opened == 4
