# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduled job under ansible-runner with AWX-like inputs, alone and as a sliced job whose
slices run at the same time against one PostgreSQL state store.

Run alone (it brings up the test bed): ``.venv/bin/python -m pytest tests/awx -q`` as root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

FAULT = ("fill-disk", "95")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def describe(runner) -> str:
    """What a job printed, for assertion messages."""
    try:
        return runner.stdout.read()[-6000:]
    except (OSError, ValueError, AttributeError):
        return "(no output)"


def assert_successful(runner) -> None:
    assert runner.status == "successful" and runner.rc == 0, describe(runner)


def checked(runner) -> set:
    """The managed hosts a job ran on (its play recap, without the controller)."""
    return set(runner.stats["processed"]) - {"localhost"}


def disk_cases(store, host: str) -> list:
    return [case for case in store.cases(host=host) if case.rule and "disk" in case.rule]


def test_the_job_under_ansible_runner_files_the_case_in_the_postgresql_store(estate, awx, store):
    estate.fault("ias-a", *FAULT)
    try:
        runner = awx.job("job").run()
        assert_successful(runner)
        assert checked(runner) == {"ias-a", "ias-b"}
        [case] = disk_cases(store, "ias-a")
        assert case.status == "open" and case.backend == "local" and case.case_ref
        assert case.customer == "acme"
        assert disk_cases(store, "ias-b") == []
        # The job's environment reached the callback: it summarised the cases of the run.
        assert "opened 1" in describe(runner)
    finally:
        estate.clear("ias-a")


def test_sliced_job_slices_run_at_once_and_take_turns_on_the_store(estate, awx, store):
    estate.fault("ias-a", *FAULT)
    estate.fault("ias-b", *FAULT)
    try:
        slice_1, slice_2 = awx.job("slice1", 1, 2), awx.job("slice2", 2, 2)
        thread_1, runner_1 = slice_1.start()
        thread_2, runner_2 = slice_2.start()
        thread_1.join()
        thread_2.join()
        assert_successful(runner_1)
        assert_successful(runner_2)
        # Each slice checked only its own host.
        assert checked(runner_1) == {"ias-a"} and checked(runner_2) == {"ias-b"}
        [case_a] = disk_cases(store, "ias-a")
        [case_b] = disk_cases(store, "ias-b")
        assert case_a.status == case_b.status == "open"
        assert case_a.case_ref != case_b.case_ref
        assert len(store.cases()) == 2
        # Slice 2 alone, with ias-a's fault cleared: ias-a was not checked, its case stays open.
        estate.clear("ias-a")
        runner = awx.job("slice2-again", 2, 2).run()
        assert_successful(runner)
        [case_a] = disk_cases(store, "ias-a")
        assert case_a.status == "open"
        assert disk_cases(store, "ias-b")[0].status == "open"
        # Slice 1 checks ias-a: resolved.
        runner = awx.job("slice1-again", 1, 2).run()
        assert_successful(runner)
        [case_a] = disk_cases(store, "ias-a")
        assert case_a.status == "resolved"
        assert disk_cases(store, "ias-b")[0].status == "open"
        assert len(store.cases()) == 2
    finally:
        estate.clear("ias-a")
        estate.clear("ias-b")


def test_the_execution_environment_definition_makes_a_build_context(tmp_path):
    """ansible-builder v3 accepts execution-environment.yml (no image is built: that needs a
    container runtime), and the build's own steps, run here without a container, install the
    collection from the context and find its Python needs in what the collection declares."""
    builder = os.path.join(os.path.dirname(sys.executable), "ansible-builder")
    if not os.path.exists(builder):
        builder = shutil.which("ansible-builder")
    if not builder:
        pytest.skip("ansible-builder is not installed (pip install ansible-builder)")
    context = tmp_path / "context"
    proc = subprocess.run([builder, "create", "-f", os.path.join(ROOT, "execution-environment.yml"), "-c", str(context)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    build = context / "_build"
    assert "openssh-clients" in (build / "bindep.txt").read_text()
    assert (build / "imagicle.proactive" / "meta" / "execution-environment.yml").exists()
    # The galaxy stage (in the build's working directory, as the Containerfile runs it) ...
    collections = tmp_path / "collections"
    galaxy = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")
    # (as in the build: no project configuration whose collections path already holds the collection)
    bare = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    proc = subprocess.run([galaxy, "collection", "install", "-r", "requirements.yml", "-p", str(collections)],
                          cwd=build, env=bare, capture_output=True, text=True, timeout=120, check=False)
    assert (collections / "ansible_collections" / "imagicle" / "proactive" / "MANIFEST.json").exists(), proc.stdout
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # ... then the builder stage's introspection: the Python packages come from the collection.
    pip = tmp_path / "requirements.txt"
    proc = subprocess.run([sys.executable, str(build / "scripts" / "introspect.py"), "introspect", str(collections),
                           "--user-bindep", str(build / "bindep.txt"), "--write-pip", str(pip),
                           "--write-bindep", str(tmp_path / "bindep.txt")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    declared = open(os.path.join(ROOT, "collections", "ansible_collections", "imagicle", "proactive",
                                 "requirements.txt")).read()
    wanted = [line.split("#")[0].strip() for line in declared.splitlines() if line.split("#")[0].strip()]
    found = [line.split("#")[0].strip() for line in pip.read_text().splitlines()]
    assert {"requests>=2.25", "holidays>=0.40", "psycopg2-binary>=2.9"} <= set(found), found
    assert set(found) <= set(wanted), (found, wanted)  # PyYAML comes with ansible-core: builder leaves it out