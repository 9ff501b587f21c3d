# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every playbook of playbooks/ and every playbook the collection ships (run by its name,
``imagicle.proactive.NAME``) parses: ``ansible-playbook --syntax-check`` with the project's
ansible.cfg, against the demo inventory and the example inventory (with its Vault password).
A playbook added to either is checked without editing this file.
"""

from __future__ import annotations

import glob
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(ROOT, ".venv", "bin", "ansible-playbook")
COLLECTION = os.path.join(ROOT, "collections", "ansible_collections", "imagicle", "proactive")
SHIPPED = sorted("imagicle.proactive." + os.path.basename(path)[:-4]
                 for path in glob.glob(os.path.join(COLLECTION, "playbooks", "*.yml")))
PLAYBOOKS = sorted(os.path.relpath(path, ROOT) for path in glob.glob(os.path.join(ROOT, "playbooks", "*.yml"))) + SHIPPED
INVENTORIES = {
    "demo": [],
    "example": ["--vault-password-file", os.path.join("inventories", "example", "vault-password.example")],
}


def syntax_check(playbook: str, inventory: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    command = [ANSIBLE_PLAYBOOK, "--syntax-check", "-i", os.path.join("inventories", inventory),
               *INVENTORIES[inventory], playbook]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL)


def test_there_are_playbooks_to_check():
    assert "playbooks/proactive_check.yml" in PLAYBOOKS
    assert {"imagicle.proactive.%s" % name for name in ("proactive_check", "cases", "silence", "explain", "outbox")} \
        <= set(SHIPPED)


@pytest.mark.parametrize("inventory", sorted(INVENTORIES))
@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_the_playbook_parses(playbook, inventory):
    result = syntax_check(playbook, inventory)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    shown = os.path.join(COLLECTION, "playbooks", playbook.rsplit(".", 1)[1] + ".yml") if playbook in SHIPPED else playbook
    assert "playbook: %s" % shown in result.stdout
