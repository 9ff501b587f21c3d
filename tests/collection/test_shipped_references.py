# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection ships (plugins, roles, meta, playbooks, README, docs) points to the collection's own
docs, never to a file of the project's repository, which an operator who installed the collection
does not have: no docs/*.md guide, no playbooks/, scripts/, inventories/, examples/ or tests/ path
that the collection does not hold. The generated guides (docs/docsite/rst) may name files of the
repository (its examples, AWX configuration and tests) only on a page that says so in a note.
"""

from __future__ import annotations

import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTION = os.path.join(ROOT, "collections", "ansible_collections", "imagicle", "proactive")
SHIPPED = ("plugins", "roles", "meta", "docs", "playbooks", "README.md", "requirements.txt", "CHANGELOG.rst", "changelogs")
GUIDES = os.path.join("docs", "docsite", "rst")
PATH = re.compile(r"(?<![\w./-])(?:\.\./)*((?:docs|playbooks|scripts|inventories|examples|tests|awx|collections)/[\w.*/-]*)")
OPERATOR_PLAYBOOK = re.compile(r"playbooks/(proactive_check|cases|silence|explain|outbox)\.yml")
NOTE = "files of the project's source repository"


def shipped_files() -> list:
    files = []
    for top in SHIPPED:
        path = os.path.join(COLLECTION, top)
        candidates = [path] if os.path.isfile(path) else glob.glob(os.path.join(path, "**", "*"), recursive=True)
        files += [os.path.relpath(name, COLLECTION) for name in candidates
                  if os.path.isfile(name) and "__pycache__" not in name]
    return sorted(files)


def repository_paths(text: str) -> list:
    """The paths named in text that the collection does not hold."""
    found = []
    for match in PATH.finditer(text):
        path = match.group(1).rstrip(".")
        if not os.path.exists(os.path.join(COLLECTION, path.rstrip("*"))):
            found.append(path)
    return found


def read(name: str) -> str:
    with open(os.path.join(COLLECTION, name), encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("path, found", [
    ("see docs/alarms.md for the rules", ["docs/alarms.md"]),
    ("(playbooks/awx_configure.yml without case=)", ["playbooks/awx_configure.yml"]),
    ("the collection's playbooks/cases.yml", []),
    ("the collection's docs/facts-schema.md", []),
    ("ansible-playbook -i inventories/example x", ["inventories/example"]),
    ("https://git.example.com/a/docs/b.md", []),
])
def test_repository_paths_are_found(path, found):
    assert repository_paths(path) == found


def test_the_shipped_files_are_found():
    files = shipped_files()
    assert "README.md" in files and "plugins/modules/evaluate.py" in files
    assert os.path.join(GUIDES, "cases.rst") in files


@pytest.mark.parametrize("name", [name for name in shipped_files() if not name.startswith(GUIDES)])
def test_a_shipped_file_names_no_repository_path(name):
    found = repository_paths(read(name))
    assert not found, ("%s names %s, which the collection does not ship: point to the collection guide "
                       "(for example R(Alarms,ansible_collections.imagicle.proactive.docsite.alarms) in plugin docs, "
                       "or \"the collection guide 'Alarms' (docsite alarms)\") or to a collection playbook "
                       "(imagicle.proactive.cases)" % (name, ", ".join(found)))


@pytest.mark.parametrize("name", [name for name in shipped_files() if name.startswith(GUIDES)])
def test_a_guide_names_repository_files_only_with_the_note(name):
    text = read(name)
    assert not re.findall(r"docs/[\w-]+\.md", text), "%s: links between guides must be cross references" % name
    assert not OPERATOR_PLAYBOOK.findall(text), "%s: operator playbooks are collection playbooks" % name
    if repository_paths(text):
        assert NOTE in text, "%s names %s without the note" % (name, repository_paths(text))
