# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as its users have it: the tarball, installed into a project of its own outside
this repository, with a fresh virtualenv made from what the collection declares (ansible-core and
the collection's requirements.txt, nothing of this project's venv), runs the scheduled check by
its name against the test-bed hosts and files into the local register; every plugin and role
renders with ansible-doc there.

The project is a temporary directory with its own ansible.cfg (the collection installed under
./collections, the cases callback enabled, the state store ./state.sqlite) and a copy of the demo
inventory (the test-bed hosts and what to look at on them), as a user's project would be.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from test_flapping_rt import counters  # pylint: disable=import-error  # tests/e2e is on sys.path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTION = os.path.join(ROOT, "collections", "ansible_collections", "imagicle", "proactive")
HOST = "ias-a"

ANSIBLE_CFG = """\
[defaults]
collections_path = ./collections
inventory = ./inventory
host_key_checking = False
interpreter_python = auto_silent
callbacks_enabled = imagicle.proactive.cases

[imagicle_cases]
backend = local
store = ./state.sqlite

[ssh_connection]
pipelining = True
"""


def ansible_core_pin() -> str:
    """The ansible-core this project is tested with (its requirements.txt)."""
    with open(os.path.join(ROOT, "requirements.txt"), encoding="utf-8") as handle:
        found = re.search(r"^ansible-core==\S+", handle.read(), re.MULTILINE)
    assert found, "requirements.txt pins no ansible-core"
    return found.group(0)


def run(command, cwd, env, timeout=600) -> subprocess.CompletedProcess:
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, "%s failed (%d):\n%s\n%s" % (" ".join(map(str, command)), proc.returncode,
                                                              proc.stdout[-4000:], proc.stderr[-3000:])
    return proc


@pytest.fixture(scope="module")
def project(estate, tmp_path_factory):
    """(the user's project directory, its environment) with the tarball installed and a fresh venv."""
    work = tmp_path_factory.mktemp("standalone")
    assert not str(work).startswith(ROOT)
    with open(os.path.join(COLLECTION, "galaxy.yml"), encoding="utf-8") as handle:
        galaxy = yaml.safe_load(handle)
    run([os.path.join(ROOT, ".venv", "bin", "ansible-galaxy"), "collection", "build", COLLECTION,
         "--output-path", str(work)], ROOT, dict(os.environ))
    tarball = work / ("%s-%s-%s.tar.gz" % (galaxy["namespace"], galaxy["name"], galaxy["version"]))

    venv = work / "venv"
    base_python = getattr(sys, "_base_executable", None) or shutil.which("python3")
    run([base_python, "-m", "venv", str(venv)], str(work), {"PATH": "/usr/bin:/bin"})
    bare = {"PATH": "%s:/usr/bin:/bin" % (venv / "bin"), "HOME": str(work), "LANG": "C.UTF-8"}
    for key in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_CERT", "REQUESTS_CA_BUNDLE",
                "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy", "XDG_CACHE_HOME"):
        if key in os.environ:
            bare[key] = os.environ[key]
    bare.setdefault("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache"))  # pip's wheel cache
    # What the collection declares, read from the tarball's copy once installed below: first the
    # requirements file as built (the same bytes), then ansible-core.
    requirements = os.path.join(COLLECTION, "requirements.txt")
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", ansible_core_pin(),
         "-r", requirements], str(work), bare)

    home = work / "project"
    home.mkdir()
    (home / "ansible.cfg").write_text(ANSIBLE_CFG)
    inventory = home / "inventory"
    shutil.copytree(os.path.join(ROOT, "inventories", "demo"), inventory)
    run([str(venv / "bin" / "ansible-galaxy"), "collection", "install", str(tarball), "-p", "./collections"],
        str(home), bare)
    installed = home / "collections" / "ansible_collections" / "imagicle" / "proactive"
    with open(installed / "requirements.txt", encoding="utf-8") as shipped, open(requirements, encoding="utf-8") as ours:
        assert shipped.read() == ours.read()
    env = dict(bare, IMAGICLE_TESTBED_STATE_DIR=estate.env["IMAGICLE_TESTBED_STATE_DIR"])
    return home, env, venv


def test_the_installed_collection_checks_the_estate_and_files_into_the_local_register(estate, project):
    home, env, venv = project
    estate.sim(HOST, "fault", "fill-disk", "96")
    try:
        check = run([str(venv / "bin" / "ansible-playbook"), "imagicle.proactive.proactive_check"], str(home), env)
    finally:
        estate.sim(HOST, "clear", "all")
    output = check.stdout
    assert "Proactive check of the Imagicle ApplicationSuite servers" in output, output[-3000:]
    assert counters(output).get("opened", 0) >= 1, output[-3000:]
    cases = run([str(venv / "bin" / "ansible-playbook"), "imagicle.proactive.cases", "-e", "cases_host=%s" % HOST],
                str(home), env)
    assert "Disk space close to saturation" in cases.stdout and "LOCAL-1" in cases.stdout, cases.stdout[-3000:]
    assert (home / "state.sqlite").exists()
    # Nothing of this repository was used: the collection ran from the project's own copy.
    assert ROOT not in check.stdout + check.stderr


def plugin_docs(installed: str) -> list:
    """(type, name) of every plugin and role of the installed collection that ansible-doc renders."""
    found = []
    for kind, folder in (("module", "modules"), ("callback", "callback"), ("filter", "filter")):
        for path in sorted(glob.glob(os.path.join(installed, "plugins", folder, "*"))):
            name, ext = os.path.splitext(os.path.basename(path))
            if name.startswith("_") or ext not in (".py", ".yml"):
                continue
            if kind == "filter" and ext == ".py":
                continue  # a filter file holds several filters, each documented by its own .yml
            found.append((kind, name))
    found += [("role", name) for name in sorted(os.listdir(os.path.join(installed, "roles")))]
    return found


def test_every_plugin_and_role_renders_with_ansible_doc_in_the_users_project(project):
    home, env, venv = project
    installed = str(home / "collections" / "ansible_collections" / "imagicle" / "proactive")
    docs = plugin_docs(installed)
    assert ("module", "appsuite_facts") in docs and ("callback", "cases") in docs and ("role", "health_check") in docs
    for kind, name in docs:
        proc = run([str(venv / "bin" / "ansible-doc"), "-t", kind, "imagicle.proactive.%s" % name], str(home), env,
                   timeout=120)
        assert "imagicle.proactive.%s" % name in proc.stdout and "ERROR" not in proc.stderr, (kind, name, proc.stderr)
