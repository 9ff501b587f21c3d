# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One host of the run never answers: the others' cases are filed while the run still waits for it.

The scheduled job (playbooks/proactive_check.yml, the cases callback on the local register) runs
over the demo estate plus ``ias-gone``, whose SSH port accepts connections and then says nothing
(a hung server: the connection's timeout, ``ansible_ssh_timeout``, is all that ends the wait).
ias-a's disk is full. The test watches the state store while the playbook runs: ias-a's case must
be filed (in the register, with its reference) while ias-gone is still being waited for, and
ias-gone ends as one ``host_not_reporting`` case once its timeout passes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store  # noqa: E402

GONE_TIMEOUT = 25  # seconds ias-gone is waited for (ansible_ssh_timeout)


class SilentServer:
    """A TCP port on loopback that accepts connections and never sends a byte (a hung SSH server)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.first_connection = None
        self.held = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, dummy = self.sock.accept()
            except OSError:
                return
            if self.first_connection is None:
                self.first_connection = time.monotonic()
            self.held.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


def _filed_cases(store_path: str, host: str) -> list:
    if not os.path.exists(store_path):
        return []
    try:
        with open_store(store_path) as store:
            return [record for record in store.cases(host=host) if record.case_ref]
    except Exception:  # pylint: disable=broad-except  # the run may be creating the store right now
        return []


def test_the_cases_of_the_hosts_that_answer_are_filed_while_a_hung_host_is_still_waited_for(estate, tmp_path):
    server = SilentServer()
    extra = tmp_path / "gone.yml"
    extra.write_text(yaml.safe_dump({"all": {"children": {"appsuite": {"hosts": {"ias-gone": {
        "ansible_host": "127.0.0.1", "ansible_port": server.port, "ansible_ssh_timeout": GONE_TIMEOUT,
        "imagicle_ha_peer": "ias-a"}}}}}}))
    store_path = str(tmp_path / "state.sqlite")
    env = dict(estate.env, IMAGICLE_CASES_BACKEND="local", IMAGICLE_STATE_STORE=store_path)
    for name in ("IMAGICLE_PAGER", "IMAGICLE_MAIL"):
        env.pop(name, None)
    estate.sim("ias-a", "fault", "fill-disk", "96")
    try:
        started = time.monotonic()
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", os.path.join(ROOT, "inventories", "demo"),
             "-i", str(extra), os.path.join(ROOT, "playbooks", "proactive_check.yml")],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        filed_at = None
        running_then = None
        while proc.poll() is None and time.monotonic() - started < GONE_TIMEOUT + 120:
            if filed_at is None and _filed_cases(store_path, "ias-a"):
                filed_at = time.monotonic()
                running_then = proc.poll() is None
            time.sleep(0.25)
        output, dummy = proc.communicate(timeout=300)
        ended = time.monotonic()
    finally:
        estate.sim("ias-a", "clear", "all")
        server.close()
    assert proc.returncode == 0, output[-4000:]
    assert server.first_connection is not None, "ias-gone was never tried:\n" + output[-3000:]
    # ias-a's case was in the register while the playbook still ran, waiting for ias-gone.
    assert filed_at is not None, "ias-a's case was not filed while the run went on:\n" + output[-3000:]
    assert running_then
    assert filed_at < server.first_connection + GONE_TIMEOUT, (filed_at - started, server.first_connection - started)
    assert ended >= server.first_connection + GONE_TIMEOUT  # the run did wait for ias-gone to the end
    with open_store(store_path) as store:
        [disk] = [record for record in store.cases(host="ias-a")]
        assert (disk.rule, disk.status) == ("disk_space", "open") and disk.case_ref
        [gone] = store.cases(host="ias-gone")
        assert (gone.rule, gone.status) == ("host_not_reporting", "open") and gone.case_ref
        assert store.cases(host="ias-b") == []
    print("ias-a's case filed %.1f s after the start; the run ended %.1f s after the start (ias-gone waited for %d s)"
          % (filed_at - started, ended - started, GONE_TIMEOUT))
