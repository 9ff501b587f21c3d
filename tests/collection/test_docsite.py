# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's user guides (docs/docsite) are generated from docs/*.md by scripts/docsite.py:
the committed pages are the generator's output of the committed guides, their cross references
resolve, every page of docs/ is either a guide or a developer page, and antsibull-docs finds
nothing wrong with the collection's docs (the guides and every plugin's documentation).
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTION = os.path.join(ROOT, "collections", "ansible_collections", "imagicle", "proactive")
DOCSITE = os.path.join(COLLECTION, "docs", "docsite")
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
REGENERATE = ".venv/bin/python scripts/docsite.py"

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import docsite  # noqa: E402  pylint: disable=wrong-import-position


def docsite_files(folder: str) -> dict:
    found = {}
    for path in glob.glob(os.path.join(folder, "**", "*"), recursive=True):
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                found[os.path.relpath(path, folder)] = handle.read()
    return found


def test_the_committed_guides_are_the_generators_output(tmp_path):
    docsite.generate(str(tmp_path))
    fresh, committed = docsite_files(str(tmp_path)), docsite_files(DOCSITE)
    stale = sorted(name for name in set(fresh) | set(committed) if fresh.get(name) != committed.get(name))
    assert not stale, ("the collection's guides are stale (%s): run `%s` and commit what it writes"
                       % (", ".join(stale), REGENERATE))


def test_every_page_of_docs_is_a_guide_or_a_developer_page():
    pages = sorted(os.path.relpath(path, ROOT) for path in glob.glob(os.path.join(ROOT, "docs", "*.md")))
    sources = {source for source, _name in docsite.GUIDES}
    unknown = [page for page in pages if page not in sources and page not in docsite.DEVELOPER_PAGES]
    assert not unknown, ("%s: add each to GUIDES (a user guide) or DEVELOPER_PAGES in scripts/docsite.py, "
                         "then run `%s`" % (", ".join(unknown), REGENERATE))
    assert "docs/alarms.md" in sources and "docs/cases.md" in sources


def test_the_cross_references_resolve():
    labels, refs = set(), []
    for path in glob.glob(os.path.join(DOCSITE, "rst", "*.rst")):
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        labels |= set(re.findall(r"^\.\. _([^:\s]+):$", text, flags=re.M))
        refs += [(os.path.basename(path), label) for label in re.findall(r":ref:`(?:[^`<]*<)?([^`<>]+)>?`", text)]
    assert len(refs) > 20
    assert [ref for ref in refs if ref[1] not in labels] == []
    assert all(label.startswith(docsite.LABEL) for label in labels)


def test_the_plugin_docs_references_to_the_guides_resolve():
    """R(text,label) in plugin and role docs: the label is a guide's (a comma in the text breaks it)."""
    labels = set()
    for path in glob.glob(os.path.join(DOCSITE, "rst", "*.rst")):
        with open(path, encoding="utf-8") as handle:
            labels |= set(re.findall(r"^\.\. _([^:\s]+):$", handle.read(), flags=re.M))
    refs = []
    for path in glob.glob(os.path.join(COLLECTION, "plugins", "**", "*.*"), recursive=True) + \
            glob.glob(os.path.join(COLLECTION, "roles", "*", "meta", "argument_specs.yml")):
        if path.endswith((".py", ".yml")):
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            refs += [(os.path.relpath(path, COLLECTION), match.group(1).strip())
                     for match in re.finditer(r"\bR\([^,()]*,([^()]*)\)", text)]
    assert len(refs) >= 3
    assert [ref for ref in refs if ref[1] not in labels] == []


def test_links_between_guides_become_cross_references(tmp_path):
    source = "docs/inventory.md"  # links to sla.md, cases.md, ... and to a file of the repository
    tree = docsite.parse(source)
    anchors = {name: docsite.sections(docsite.parse(src)) for src, name in docsite.GUIDES}
    rst = docsite.convert(source, tree, anchors)
    assert ":ref:`ansible_collections.imagicle.proactive.docsite.sla`" in rst
    assert ".md>" not in rst and ".md`" not in rst and "../" not in rst


@pytest.mark.parametrize("text, expected", [
    ("ansible-playbook -i inventories/acme playbooks/cases.yml -e case=LOCAL-3",
     "ansible-playbook -i inventories/acme imagicle.proactive.cases -e case=LOCAL-3"),
    ("playbooks/awx_configure.yml", "playbooks/awx_configure.yml"),  # not shipped: stays a repository path
])
def test_operator_playbooks_are_named_as_collection_playbooks(text, expected):
    assert docsite.rewrite_text(text) == expected


def test_antsibull_docs_finds_nothing_wrong():
    env = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""), ANSIBLE_FORCE_COLOR="0")
    result = subprocess.run([os.path.join(VENV_BIN, "antsibull-docs"), "lint-collection-docs", "--plugin-docs", "."],
                            cwd=COLLECTION, env=env, capture_output=True, text=True, check=False,
                            stdin=subprocess.DEVNULL, timeout=300)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
