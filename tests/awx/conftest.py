# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduled job as AWX / Automation Platform executes it: under ansible-runner, with a private
data dir per job (project/, inventory/, env/), what credential injectors would inject in
env/envvars, a read-only HOME, and the callback enabled by environment, against a PostgreSQL
state store. The demo estate (two test-bed hosts with the simulated AppSuite) comes up once.

No AWX runs here: ansible-runner is the engine under AWX, and the inputs are shaped like the ones
AWX gives it (a per-job private data dir, a sliced inventory per job slice, environment variables).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "collections")
for _path in (COLLECTIONS, os.path.join(ROOT, "tests", "services")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

# pylint: disable=wrong-import-position
from estate import VENV_BIN, root_demo_estate  # noqa: E402

ansible_runner = pytest.importorskip("ansible_runner")

DEMO_INVENTORY = os.path.join(ROOT, "inventories", "demo")
JOB_PLAYBOOK = "playbooks/proactive_check.yml"


def demo_hosts() -> dict:
    """The demo inventory's hosts with their variables, group variables merged in (as an AWX
    inventory source imports them), and the HA peer's URL written out: in a sliced job, a slice's
    inventory holds only its own hosts, so ``hostvars[peer]`` of a peer in another slice is missing."""
    with open(os.path.join(DEMO_INVENTORY, "hosts.yml")) as handle:
        children = yaml.safe_load(handle)["all"]["children"]
    hosts = children["appsuite"]["hosts"]
    group_vars = {}
    for group in ("appsuite", "simulator"):  # the simulator's profile too, for the hosts of that group
        with open(os.path.join(DEMO_INVENTORY, "group_vars", "%s.yml" % group)) as handle:
            group_vars[group] = yaml.safe_load(handle)
    result = {}
    for name, host_vars in hosts.items():
        variables = dict(group_vars["appsuite"])
        if name in (children.get("simulator") or {}).get("hosts", {}):
            variables.update(group_vars["simulator"])
        variables.update(host_vars or {})
        with open(os.path.join(DEMO_INVENTORY, "host_vars", "%s.yml" % name)) as handle:
            variables.update(yaml.safe_load(handle) or {})
        result[name] = variables
    for name, variables in result.items():
        peer = variables.get("imagicle_ha_peer")
        if peer in result:
            variables["imagicle_replication"] = {"peer_url": "https://%s/" % result[peer]["ansible_host"]}
    return result


def slice_hosts(names: list, number: int, count: int) -> list:
    """The hosts of slice ``number`` (1-based) of ``count``, as AWX splits a sliced job's inventory."""
    return sorted(names)[number - 1::count]


class ReadOnlyHome:
    """An empty directory mounted read-only (a tmpfs): even root cannot write to it, as in an AWX
    job container whose home is not writable."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="proactive-ro-home-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k,mode=0555", "proactive-ro-home", self.path],
                       check=True, capture_output=True)

    def remove(self) -> None:
        subprocess.run(["umount", self.path], check=False, capture_output=True)
        os.rmdir(self.path)


class Job:
    """One AWX-like job: a private data dir of its own, run with ansible-runner."""

    def __init__(self, base: str, name: str, hosts: dict, envvars: dict, home: str):
        self.private_data_dir = os.path.join(base, name)
        project = os.path.join(self.private_data_dir, "project")
        os.makedirs(project)
        # The project checkout: playbooks and the collection; no ansible.cfg, so that everything
        # the job needs comes from the environment, as a job template gives it.
        os.symlink(os.path.join(ROOT, "playbooks"), os.path.join(project, "playbooks"))
        os.symlink(COLLECTIONS, os.path.join(project, "collections"))
        inventory_dir = os.path.join(self.private_data_dir, "inventory")
        os.makedirs(inventory_dir)
        with open(os.path.join(inventory_dir, "hosts.yml"), "w") as handle:
            yaml.safe_dump({"all": {"children": {"appsuite": {"hosts": hosts}}}}, handle, sort_keys=True)
        env_dir = os.path.join(self.private_data_dir, "env")
        os.makedirs(env_dir)
        local_temp = os.path.join(self.private_data_dir, "tmp")
        os.makedirs(local_temp)
        environment = {
            "HOME": home,
            "PATH": VENV_BIN + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
            "ANSIBLE_COLLECTIONS_PATH": os.path.join(project, "collections"),
            "ANSIBLE_CALLBACKS_ENABLED": "imagicle.proactive.cases",
            "ANSIBLE_LOCAL_TEMP": local_temp,
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_FORCE_COLOR": "0",
        }
        environment.update(envvars)
        with open(os.path.join(env_dir, "envvars"), "w") as handle:
            yaml.safe_dump(environment, handle)
        with open(os.path.join(env_dir, "extravars"), "w") as handle:
            yaml.safe_dump({"imagicle_target": "appsuite"}, handle)

    def start(self):
        """Start the job in a thread: (thread, runner)."""
        return ansible_runner.run_async(private_data_dir=self.private_data_dir, playbook=JOB_PLAYBOOK, quiet=True)

    def run(self):
        return ansible_runner.run(private_data_dir=self.private_data_dir, playbook=JOB_PLAYBOOK, quiet=True)


@pytest.fixture(scope="session")
def estate():
    """Two test-bed hosts with the simulated AppSuite (faults injected as tests/e2e does)."""
    with root_demo_estate() as project:
        yield project


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL cluster on 127.0.0.1 (the collection's unit-test helper)."""
    # pylint: disable=import-outside-toplevel
    from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils import _pgcluster

    bindir = _pgcluster.pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed (apt-get install postgresql)")
    if _pgcluster.psycopg2 is None:
        pytest.skip("psycopg2 is not installed (pip install psycopg2-binary)")
    cluster = _pgcluster.PgCluster(bindir)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def read_only_home():
    home = ReadOnlyHome()
    try:
        yield home.path
    finally:
        home.remove()


@pytest.fixture
def awx(estate, pg_cluster, read_only_home, tmp_path):
    """Makes AWX-like jobs against a fresh PostgreSQL store database: ``awx.job(name, hosts)``;
    ``awx.store_url`` (with the password) to read the store back."""
    database = pg_cluster.create_database()

    class Factory:
        store_url = pg_cluster.url(database)
        # What AWX credential injectors would put in the job's environment: the store URL without
        # its password, and the password (a secret) in a variable of its own.
        envvars = {
            "IMAGICLE_CASES_BACKEND": "local",
            "IMAGICLE_STATE_STORE": "postgresql://%s@%s:%d/%s" % (pg_cluster.user, pg_cluster.host, pg_cluster.port,
                                                                  database),
            "PGPASSWORD": pg_cluster.password,
            "IMAGICLE_TESTBED_STATE_DIR": estate.bed.state_dir,
        }
        hosts = demo_hosts()

        def job(self, name: str, number: int = 1, count: int = 1) -> Job:
            names = slice_hosts(list(self.hosts), number, count)
            return Job(str(tmp_path), name, {h: self.hosts[h] for h in names}, self.envvars, read_only_home)

    return Factory()


@pytest.fixture
def store(awx):
    # pylint: disable=import-outside-toplevel
    from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store

    opened = open_store(awx.store_url)
    try:
        yield opened
    finally:
        opened.close()
