# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every playbook of playbooks/ parses: ``ansible-playbook --syntax-check`` with the project's
ansible.cfg, against the demo inventory and the example inventory (with its Vault password).
A playbook added to playbooks/ is checked without editing this file.
"""

from __future__ import annotations

import glob
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(ROOT, ".venv", "bin", "ansible-playbook")
PLAYBOOKS = sorted(os.path.relpath(path, ROOT) for path in glob.glob(os.path.join(ROOT, "playbooks", "*.yml")))
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


@pytest.mark.parametrize("inventory", sorted(INVENTORIES))
@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_the_playbook_parses(playbook, inventory):
    result = syntax_check(playbook, inventory)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "playbook: %s" % playbook in result.stdout
