# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example inventory (inventories/example) is valid, as documented, and keeps its secrets.

- ``ansible-inventory --list`` (with the example's vault password) gives the documented groups;
- every host's ``imagicle_*`` settings, resolved as Ansible resolves them for a play, pass
  ``host_settings`` (the check the ``imagicle.proactive.evaluate`` action does before anything);
- plans, timezones, consent, languages and overrides are those inventories/example/README.md and
  docs/inventory.md describe;
- the vault files are encrypted, decrypt with the example password, and none of their values
  appears in any unencrypted file (nor in this test's output: values are never printed);
- ``ansible-playbook --syntax-check`` of the scheduled job works against the example.

Nothing here connects to a host: the addresses are documentation ranges.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "inventories" / "example"
PASSWORD_FILE = INVENTORY / "vault-password.example"
VENV_BIN = ROOT / ".venv" / "bin"
COLLECTIONS = ROOT / "collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.imagicle.proactive.plugins.plugin_utils.evaluation import (  # noqa: E402
    HostSettings, host_settings)

# What the example documents, customer by customer.
CUSTOMERS = {
    "customer_acme": {"hosts": {"acme-ias1", "acme-ias2"}, "customer": "acme", "plan": "platinum",
                      "timezone": "Europe/Rome", "country": "IT", "language": "it", "consent": True},
    "customer_globex": {"hosts": {"globex-ias1"}, "customer": "globex", "plan": "gold",
                        "timezone": "America/New_York", "country": "US", "language": "en", "consent": True},
    "customer_initech": {"hosts": {"initech-ias1"}, "customer": "initech", "plan": "basic",
                         "timezone": "Europe/Rome", "country": "IT", "language": "en", "consent": True},
    "customer_umbrella": {"hosts": {"umbrella-ias1"}, "customer": "umbrella", "plan": "gold",
                          "timezone": "Europe/Berlin", "country": "DE", "language": "en", "consent": False},
}
ALL_HOSTS = set().union(*(c["hosts"] for c in CUSTOMERS.values()))
VAULT_FILES = sorted(INVENTORY.glob("group_vars/*/vault.yml"))
# Variables the evaluation reads (host_settings) and the module options the role passes on.
EVALUATION_VARS = ("imagicle_customer", "imagicle_sla", "imagicle_consent", "imagicle_cloud_connected",
                   "imagicle_rules_catalogue", "imagicle_rule_overrides", "imagicle_rule_overrides_host",
                   "imagicle_contacts", "imagicle_language")
MODULE_VARS = ("imagicle_gather_subset", "imagicle_gather_timeout", "imagicle_cpu_interval", "imagicle_state_dir",
               "imagicle_processes", "imagicle_disks", "imagicle_database", "imagicle_webserver", "imagicle_webapi",
               "imagicle_capacity", "imagicle_events", "imagicle_replication", "imagicle_cloud", "imagicle_release",
               "imagicle_profile")


def _env():
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    env["PATH"] = "%s:%s" % (VENV_BIN, env.get("PATH", ""))
    env.pop("ANSIBLE_VAULT_PASSWORD_FILE", None)
    return env


def _run(*args):
    """Run an Ansible command from the project root; on failure show its stderr only (never stdout,
    which holds decrypted values)."""
    proc = subprocess.run([str(VENV_BIN / args[0]), *args[1:]], cwd=ROOT, env=_env(), capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, "%s failed (rc %s): %s" % (" ".join(args[:2]), proc.returncode, proc.stderr[-3000:])
    return proc


@pytest.fixture(scope="module")
def inventory_list():
    proc = _run("ansible-inventory", "-i", "inventories/example", "--vault-password-file",
                "inventories/example/vault-password.example", "--list")
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def vault_values():
    """The decrypted leaf values of every vault file, by file."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import VaultLib, VaultSecret

    vault = VaultLib([("default", VaultSecret(_password()))])
    values = {}
    for path in VAULT_FILES:
        plaintext = vault.decrypt(path.read_bytes())
        data = DataLoader().load(plaintext.decode("utf-8"))
        assert isinstance(data, dict) and data, "%s decrypts to no variables" % path.relative_to(ROOT)
        values[path] = {name: str(value) for name, value in data.items()}
    return values


def _password() -> bytes:
    return PASSWORD_FILE.read_bytes().strip()


@pytest.fixture(scope="module")
def resolved():
    """Every host's imagicle_* variables, templated as for a play (vault values, hostvars, ...)."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import VaultSecret
    from ansible.template import Templar
    from ansible.vars.hostvars import HostVars
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    loader.set_vault_secrets([("default", VaultSecret(_password()))])
    inventory = InventoryManager(loader=loader, sources=[str(INVENTORY)])
    variable_manager = VariableManager(loader=loader, inventory=inventory)
    # As a play does it: hostvars (the HA peer's address) is the whole inventory's variables.
    variable_manager._hostvars = HostVars(inventory=inventory, variable_manager=variable_manager, loader=loader)
    out = {}
    for host in inventory.get_hosts():
        host_vars = variable_manager.get_vars(host=host, include_hostvars=True)
        templar = Templar(loader=loader, variables=host_vars)
        out[host.name] = {name: templar.template(host_vars[name]) for name in EVALUATION_VARS + MODULE_VARS
                          if name in host_vars}
        out[host.name]["ansible_host"] = templar.template(host_vars.get("ansible_host"))
    return out


def test_groups(inventory_list):
    assert set(inventory_list["appsuite"]["children"]) == set(CUSTOMERS)
    for group, expected in CUSTOMERS.items():
        assert set(inventory_list[group]["hosts"]) == expected["hosts"], group
    hostvars = inventory_list["_meta"]["hostvars"]
    assert set(hostvars) == ALL_HOSTS
    # Nothing else (a stray file read as an inventory source would add ungrouped hosts).
    assert not inventory_list.get("ungrouped", {}).get("hosts")


def test_addresses_are_documentation_ranges(inventory_list):
    for host, variables in inventory_list["_meta"]["hostvars"].items():
        address = variables["ansible_host"]
        assert address.startswith(("192.0.2.", "198.51.100.")), (host, address)


def test_every_host_settings_valid(resolved):
    assert set(resolved) == ALL_HOSTS
    for group, expected in CUSTOMERS.items():
        for host in expected["hosts"]:
            settings = host_settings(host, resolved[host])
            assert isinstance(settings, HostSettings)
            assert settings.customer == expected["customer"], host
            assert settings.sla.plan.name == expected["plan"], host
            assert settings.consent is expected["consent"], host
            assert settings.language == expected["language"], host
            assert settings.contacts and all(c.endswith(".example") for c in settings.contacts), host
            sla = resolved[host]["imagicle_sla"]
            assert sla["timezone"] == expected["timezone"], host
            assert sla["holidays"]["country"] == expected["country"], host


def test_plans_as_documented(resolved):
    plans = {host: host_settings(host, resolved[host]).sla.plan for host in ALL_HOSTS}
    assert plans["acme-ias1"].proactive and plans["acme-ias1"].page_on_p1      # platinum pages on P1
    assert plans["globex-ias1"].proactive and not plans["globex-ias1"].page_on_p1
    assert not plans["initech-ias1"].proactive                                  # basic: no cases
    assert resolved["globex-ias1"]["imagicle_sla"]["calendars"]["business"]["hours"]["fri"] == ["08:00-15:00"]


def test_overrides_group_then_host(resolved):
    def disk_rule(host):
        rule = host_settings(host, resolved[host]).catalogue.rule("disk_space")
        assert rule is not None, host
        return rule

    one, two = disk_rule("acme-ias1"), disk_rule("acme-ias2")
    assert (one.warn, one.crit) == (80, 90)         # the customer's override
    assert (two.warn, two.crit) == (80, 93)         # then the host's, on top
    assert "imagicle_rule_overrides_host" not in resolved["acme-ias1"]


def test_module_options_resolve(resolved):
    # The HA pair: each node's replication peer is the other one's address.
    assert resolved["acme-ias1"]["imagicle_replication"]["peer_url"] == "https://192.0.2.12/"
    assert resolved["acme-ias2"]["imagicle_replication"]["peer_url"] == "https://192.0.2.11/"
    for host in ALL_HOSTS:
        assert "imagicle_replication" not in resolved[host] or host.startswith("acme-"), host
        assert resolved[host]["imagicle_capacity"]["licensed"], host
        assert resolved[host]["imagicle_webapi"]["username"] == "proactive", host


def test_every_host_describes_its_installation(resolved):
    # The module has no defaults for the processes, the database, the event logs and the release
    # file: every host of the example gets them (from the estate's profile or its own variables),
    # so that none of its sections is "not configured".
    for host in ALL_HOSTS:
        values = resolved[host]
        profile = values.get("imagicle_profile") or {}

        def option(name, key=None):
            own = values.get("imagicle_" + name)
            if key is None:
                return own if own is not None else profile.get(name)
            return (own or {}).get(key) or (profile.get(name) or {}).get(key)
        assert option("processes"), host
        assert option("database", "engine"), host
        assert option("events", "sources"), host
        assert option("release", "file"), host
    # A customer's own database settings keep the profile's SQLite file (the role merges them).
    assert resolved["initech-ias1"]["imagicle_database"] == {"engine": "sqlite", "max_size_mb": 4096}
    assert resolved["initech-ias1"]["imagicle_profile"]["database"]["path"]


def test_vault_decrypts_and_feeds_the_passwords(vault_values, resolved):
    assert INVENTORY / "group_vars" / "customer_acme" / "vault.yml" in vault_values
    for path in VAULT_FILES:
        assert path.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256\n"), path.relative_to(ROOT)
    secrets = {name: value for values in vault_values.values() for name, value in values.items()}
    assert all(name.startswith("vault_") and len(value) >= 16 for name, value in secrets.items())
    # The resolved Web API and database passwords are the vault's (compared, never shown).
    for host in ALL_HOSTS:
        customer = resolved[host]["imagicle_customer"]
        webapi_password = resolved[host]["imagicle_webapi"]["password"]
        same = webapi_password == secrets["vault_%s_webapi_password" % customer]
        assert same, "%s: the Web API password is not the vault's" % host
        database = resolved[host].get("imagicle_database") or {}
        if "password" in database:
            same = database["password"] == secrets["vault_%s_db_password" % customer]
            assert same, "%s: the database password is not the vault's" % host


def test_no_plaintext_secret_outside_the_vault(vault_values):
    secrets = [value for values in vault_values.values() for value in values.values()]
    password = _password().decode()
    reused = any(password == secret for secret in secrets)
    assert not reused, "the vault password is also a vault value"
    checked = 0
    for base in (INVENTORY, ROOT / "examples", ROOT / "docs"):
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            if path in VAULT_FILES or path == PASSWORD_FILE:
                continue
            text = path.read_text(errors="replace")
            leaked = [i for i, secret in enumerate(secrets) if secret in text]
            assert not leaked, "a vault value appears in plain text in %s" % path.relative_to(ROOT)
            checked += 1
    assert checked > 5
    # Every password in an unencrypted file of the example is a reference to a vault variable.
    for path in INVENTORY.rglob("*.yml"):
        if path in VAULT_FILES:
            continue
        for line in path.read_text().splitlines():
            if line.strip().startswith("password:"):
                assert '"{{ vault_' in line, "%s: %s" % (path.relative_to(ROOT), line.split(":")[0])


def test_vault_password_file_is_not_executable():
    # An executable vault password file is run as a script by Ansible, not read.
    assert not os.access(PASSWORD_FILE, os.X_OK)


def test_syntax_check():
    _run("ansible-playbook", "--syntax-check", "-i", "inventories/example", "playbooks/proactive_check.yml")
