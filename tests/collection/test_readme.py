# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's README is what an operator who installed the collection has: it names every
module, callback, filter and role of the collection and every guide of its docs, and its complete
minimal example (inventory, ansible.cfg, playbook) parses with the collection as shipped.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "collections")
COLLECTION = os.path.join(COLLECTIONS, "ansible_collections", "imagicle", "proactive")
README = os.path.join(COLLECTION, "README.md")

if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)


def readme() -> str:
    with open(README, encoding="utf-8") as handle:
        return handle.read()


def plugin_names() -> list:
    names = []
    for kind in ("modules", "callback"):
        names += ["%s %s" % (kind, os.path.basename(path)[:-3])
                  for path in glob.glob(os.path.join(COLLECTION, "plugins", kind, "*.py"))
                  if not os.path.basename(path).startswith("_")]
    for path in glob.glob(os.path.join(COLLECTION, "plugins", "filter", "*.py")):
        module = __import__("ansible_collections.imagicle.proactive.plugins.filter." + os.path.basename(path)[:-3],
                            fromlist=["FilterModule"])
        names += ["filter %s" % name for name in module.FilterModule().filters()]
    names += ["role %s" % os.path.basename(path) for path in glob.glob(os.path.join(COLLECTION, "roles", "*"))
              if os.path.isdir(path)]
    names += ["playbook %s" % os.path.basename(path)[:-4]
              for path in glob.glob(os.path.join(COLLECTION, "playbooks", "*.yml"))]
    return sorted(names)


def section(title: str) -> str:
    """The README's section ``## title``, up to the next one."""
    text = readme()
    start = text.index("\n## %s\n" % title)
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def test_there_are_plugins_of_every_kind():
    kinds = {name.split()[0] for name in plugin_names()}
    assert kinds == {"modules", "callback", "filter", "role", "playbook"}
    assert "filter response_due" in plugin_names()


@pytest.mark.parametrize("plugin", plugin_names())
def test_every_plugin_and_role_has_its_line_in_the_readme(plugin):
    kind, name = plugin.split()
    table = section("Playbooks" if kind == "playbook" else "Content")
    lines = [line for line in table.splitlines() if line.startswith("| `imagicle.proactive.%s` |" % name)
             and (kind == "playbook" or {"modules": "module", "callback": "callback", "filter": "filter",
                                         "role": "role"}[kind] in line.split("|")[2])]
    assert len(lines) == 1, "the README's table has no line (or several) for the %s imagicle.proactive.%s" % (kind, name)


def test_every_guide_is_named_in_the_readme():
    with open(os.path.join(COLLECTION, "docs", "docsite", "extra-docs.yml"), encoding="utf-8") as handle:
        guides = [name for section in yaml.safe_load(handle)["sections"] for name in section["toctree"]]
    assert guides
    missing = [name for name in guides if "- **%s**:" % name not in readme()]
    assert not missing, "the README's Guides list misses %s" % missing


def example_files() -> dict:
    """The files of the README's complete minimal example: a `name`: line, then its code block."""
    section = readme().split("## A complete minimal example", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^`([\w.]+)`:\n\n```\w+\n(.*?)```", section, flags=re.M | re.S))


def test_the_minimal_example_parses(tmp_path):
    files = example_files()
    assert sorted(files) == ["ansible.cfg", "check.yml", "inventory.yml"]
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
               ANSIBLE_FORCE_COLOR="0")
    result = subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "--syntax-check", "check.yml"],
                            cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False,
                            stdin=subprocess.DEVNULL, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    inventory = subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible-inventory"), "--host", "ias-a"],
                               cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False,
                               stdin=subprocess.DEVNULL, timeout=120)
    assert inventory.returncode == 0, inventory.stderr[-3000:]
    assert '"imagicle_customer": "acme"' in inventory.stdout
