# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduled job without SSH hosts, and readers of what it filed in the real services.

:class:`Estate` writes an inventory of hosts (``ansible_connection=local``, customer, plan,
consent, contacts, language) and one ``imagicle_health`` JSON file per host;
``tests/faults/playbooks/check.yml`` evaluates each host's file with
``imagicle.proactive.evaluate`` and the ``imagicle.proactive.cases`` callback (enabled in the
project's ansible.cfg) files the alarms at the end of the run. :class:`Job` runs that playbook
with the callback's settings as environment variables (real Request Tracker, Alertmanager and SMTP
server, usually through the fault proxy), in the foreground or in the background.

The readers (:class:`Tickets`, :func:`active_alerts`, :func:`mails_to`) look at the services
directly (REST 2 of RT, Alertmanager's API v2, the SMTP server's mailbox), never through the code
under test.
"""

from __future__ import annotations

import base64
import copy
import email
import email.policy
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
COLLECTION = os.path.join(ROOT, "collections", "ansible_collections", "imagicle", "proactive")
PLAYBOOKS = os.path.join(HERE, "playbooks")
ANSIBLE_PLAYBOOK = os.path.join(ROOT, ".venv", "bin", "ansible-playbook")
PYTHON = sys.executable
MAIL_FROM = "Imagicle Support <support@example.net>"

_FIXTURE = os.path.join(COLLECTION, "tests", "unit", "plugins", "plugin_utils", "health_fixture.py")
_spec = importlib.util.spec_from_file_location("faults_health_fixture", _FIXTURE)
health_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(health_fixture)

PLANS = {
    "platinum": {"plan": "platinum", "timezone": "Europe/Rome", "holidays": {"country": "IT"}},
    "gold": {"plan": "gold", "timezone": "Europe/Rome", "holidays": {"country": "IT"}},
}

# --------------------------------------------------------------------------------------------
# Health facts
# --------------------------------------------------------------------------------------------


def healthy(host: str = "ias-a") -> dict:
    """A fresh healthy imagicle_health (the collection's unit-test fixture) for ``host``."""
    health = health_fixture.healthy_health()
    health["system"]["hostname"] = host
    return health


def disk(mount: str, used_percent: float = 96.0, total_bytes: int = 60000000) -> dict:
    """One ``disks`` item, ``used_percent`` full."""
    used = int(total_bytes * used_percent / 100.0)
    return {"mount": mount, "device": "/dev/loop3", "fstype": "ext4", "total_bytes": total_bytes, "used_bytes": used,
            "free_bytes": total_bytes - used, "used_percent": used_percent, "inodes_total": 16384, "inodes_used_percent": 0.1}


def full_disks(host: str, count: int, used_percent: float = 96.0, prefix: str = "/srv/vol") -> dict:
    """Healthy facts but for ``count`` extra mounts ``used_percent`` full (one disk_space alarm each)."""
    health = healthy(host)
    health["disks"]["items"] += [disk("%s%04d" % (prefix, index), used_percent) for index in range(count)]
    return health


def appsuite_disk(health: dict, used_percent: float) -> dict:
    """Set /srv/appsuite ``used_percent`` full (96: a P3 disk_space alarm; 30: no alarm)."""
    for item in health["disks"]["items"]:
        if item["mount"] == "/srv/appsuite":
            item.update(disk("/srv/appsuite", used_percent))
    return health


def voip_crashed(health: dict) -> dict:
    """The VoIP stack not running: a voip_stack_crashed alarm (P1; platinum pages)."""
    process = health_fixture.process(health, "voip_stack")
    process.update(running=False, count=0, pids=[], cpu_percent=None, rss_bytes=None, memory_percent=None,
                   start_time_epoch=None, start_time=None, restarted=False, was_running=True)
    return health


# --------------------------------------------------------------------------------------------
# Inventory and runs
# --------------------------------------------------------------------------------------------


class Estate:
    """Hosts of the job: their inventory variables and the health each one reports in the next run."""

    def __init__(self, directory: str):
        self.directory = str(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.inventory = os.path.join(self.directory, "inventory.json")
        self.hosts: dict = {}

    def add(self, host: str, health: dict | None, *, customer: str = "acme", plan: str = "gold",
            contacts: list | None = None, language: str = "en", **variables) -> None:
        self.hosts[host] = dict({
            "ansible_connection": "local",
            "ansible_python_interpreter": PYTHON,
            "imagicle_customer": customer,
            "imagicle_sla": copy.deepcopy(PLANS[plan]),
            "imagicle_consent": True,
            "imagicle_contacts": list(contacts or []),
            "imagicle_language": language,
        }, **variables)
        self._write_inventory()
        if health is not None:
            self.report(host, health)

    def report(self, host: str, health: dict) -> None:
        """What ``host`` reports in the next run (NaN is written as NaN, which the playbook's from_json reads)."""
        with open(os.path.join(self.directory, "%s.json" % host), "w", encoding="utf-8") as handle:
            json.dump(health, handle)

    def alarms(self, host: str) -> list:
        """The alarms of ``host`` kept by the last run with ``-e dump_alarms=true``."""
        with open(os.path.join(self.directory, "%s.alarms.json" % host), encoding="utf-8") as handle:
            return json.load(handle)

    def _write_inventory(self) -> None:
        inventory = {"all": {"hosts": self.hosts, "vars": {"health_dir": self.directory}}}
        with open(self.inventory, "w", encoding="utf-8") as handle:
            json.dump(inventory, handle, indent=1)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    elapsed: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def table(self) -> str:
        """The callback's table line (``opened N | updated N | ...``), or ""."""
        return next((line.strip() for line in self.stdout.splitlines() if line.strip().startswith("opened ")), "")

    def count(self, name: str) -> int | None:
        """A figure of the table (``count("opened")``), None when the table does not have it."""
        for cell in self.table().split("|"):
            words = cell.strip().rsplit(" ", 1)
            if len(words) == 2 and words[0] == name and words[1].isdigit():
                return int(words[1])
        return None

    def describe(self) -> str:
        return "exit %s after %.1f s\n--- stdout (tail) ---\n%s\n--- stderr (tail) ---\n%s" % (
            self.returncode, self.elapsed, self.stdout[-5000:], self.stderr[-3000:])


def clean_environment() -> dict:
    """This process's environment without any IMAGICLE_ or ANSIBLE_ setting of the caller."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("IMAGICLE_", "ANSIBLE_"))}
    env["PATH"] = os.path.join(ROOT, ".venv", "bin") + os.pathsep + env.get("PATH", "")
    env.update(ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_DEPRECATION_WARNINGS="0", PYTHONUNBUFFERED="1")
    return env


class Background:
    """An ansible-playbook run in the background (its own session: killable as a group)."""

    def __init__(self, command: list, env: dict, cwd: str, log_dir: str):
        self.started = time.monotonic()
        self._out = open(os.path.join(log_dir, "bg-%d.out" % time.monotonic_ns()), "w+", encoding="utf-8")  # noqa: SIM115
        self._err = open(os.path.join(log_dir, "bg-%d.err" % time.monotonic_ns()), "w+", encoding="utf-8")  # noqa: SIM115
        self.process = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=self._out,
                                        stderr=self._err, text=True, start_new_session=True)
        self.pid = self.process.pid
        self._run: Run | None = None

    def wait(self, timeout: float) -> Run:
        """The run once it ended; on timeout it is killed and an AssertionError says so."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            killed = self.kill()
            raise AssertionError("ansible-playbook did not end within %.0f s (killed):\n%s" % (timeout, killed.describe())) from None
        return self._result()

    def kill(self) -> Run:
        """SIGKILL the run and every process of its session (a crash of the controller)."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(30)
        return self._result()

    def _result(self) -> Run:
        if self._run is None:
            self._out.seek(0)
            self._err.seek(0)
            self._run = Run(self.process.returncode if self.process.returncode is not None else -1, self._out.read(),
                            self._err.read(), time.monotonic() - self.started)
            self._out.close()
            self._err.close()
        return self._run


class Job:
    """The scheduled job (check.yml) over an :class:`Estate`, with the callback's settings as environment."""

    def __init__(self, estate: Estate, store: str, **settings: str):
        self.estate = estate
        self.store = str(store)
        self.settings = {"IMAGICLE_STATE_STORE": self.store, "IMAGICLE_CASES_RETRY_BACKOFF_SECONDS": "0",
                         "IMAGICLE_CASES_REQUEST_TIMEOUT_SECONDS": "10"}
        self.settings.update({key: str(value) for key, value in settings.items()})

    def command(self, *args: str, playbook: str = "check.yml") -> list:
        return [ANSIBLE_PLAYBOOK, "-i", self.estate.inventory, os.path.join(PLAYBOOKS, playbook), *args]

    def environment(self, extra: dict | None = None) -> dict:
        env = clean_environment()
        env.update(self.settings)
        for key, value in (extra or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = str(value)
        return env

    def run(self, *args: str, env: dict | None = None, timeout: float = 120, playbook: str = "check.yml") -> Run:
        """Run the job to its end (killed and failed after ``timeout`` seconds)."""
        return self.start(*args, env=env, playbook=playbook).wait(timeout)

    def start(self, *args: str, env: dict | None = None, playbook: str = "check.yml") -> Background:
        return Background(self.command(*args, playbook=playbook), self.environment(env), ROOT, self.estate.directory)


def rt_settings(url: str, token: str) -> dict:
    return {"IMAGICLE_CASES_BACKEND": "rt", "IMAGICLE_RT_URL": url, "IMAGICLE_RT_TOKEN": token}


def mail_settings(port: int) -> dict:
    return {"IMAGICLE_MAIL": "true", "IMAGICLE_SMTP_HOST": "127.0.0.1", "IMAGICLE_SMTP_PORT": str(port),
            "IMAGICLE_SMTP_SECURITY": "none", "IMAGICLE_MAIL_FROM": MAIL_FROM}


def pager_settings(url: str) -> dict:
    return {"IMAGICLE_PAGER": "alertmanager", "IMAGICLE_ALERTMANAGER_URL": url}


# --------------------------------------------------------------------------------------------
# Readers of the real services
# --------------------------------------------------------------------------------------------


class Tickets:
    """Request Tracker read directly over REST 2 (root's token: sees every ticket and transaction)."""

    def __init__(self, service):
        self.base = service.rest_url
        self.headers = {"Authorization": "token %s" % service.tokens.root, "User-Agent": "imagicle-proactive-fault-tests"}

    def _get(self, path: str, params: dict | None = None) -> dict:
        answer = requests.get(self.base + path, params=params, headers=self.headers, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def search(self, query: str, limit_pages: int = 50) -> list:
        items, page = [], 1
        while page <= limit_pages:
            data = self._get("/tickets", {"query": query, "fields": "Subject,Status,Priority,CustomFields",
                                          "per_page": 100, "page": page, "orderby": "id", "order": "ASC"})
            items += data.get("items") or []
            if not data.get("next_page"):
                break
            page += 1
        return items

    def of_host(self, host: str) -> list:
        """Every ticket of ``host`` (its title starts with ``<host>:``), resolved ones included."""
        return [t for t in self.search("Subject LIKE %s" % _sql("%s:" % host)) if ("] %s:" % host) in str(t.get("Subject"))]

    def count(self, host: str) -> int:
        return len(self.of_host(host))

    def history(self, ticket_id) -> list:
        items, page = [], 1
        while page <= 20:
            data = self._get("/ticket/%s/history" % ticket_id, {"fields": "Type,Data,Field,OldValue,NewValue",
                                                                  "per_page": 100, "page": page})
            items += data.get("items") or []
            if not data.get("next_page"):
                break
            page += 1
        return items

    def comments(self, ticket_id) -> list:
        return [item for item in self.history(ticket_id) if item.get("Type") == "Comment"]

    def status(self, ticket_id) -> str:
        return self._get("/ticket/%s" % ticket_id).get("Status")

    def texts(self, ticket_id) -> str:
        """Subject and the decoded content of every attachment of the ticket (its body and comments)."""
        parts = [str(self._get("/ticket/%s" % ticket_id).get("Subject"))]
        page = 1
        while page <= 20:
            data = self._get("/ticket/%s/attachments" % ticket_id, {"fields": "Subject,Content,Headers", "per_page": 100,
                                                                      "page": page})
            for item in data.get("items") or []:
                parts.append(str(item.get("Subject") or ""))
                content = item.get("Content") or ""
                try:
                    parts.append(base64.b64decode(content).decode("utf-8", "replace"))
                except (ValueError, TypeError):
                    parts.append(str(content))
            if not data.get("next_page"):
                break
            page += 1
        return "\n".join(parts)


def _sql(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def active_alerts(alertmanager_url: str, host: str) -> list:
    """Alertmanager's active alerts of ``host`` (GET /api/v2/alerts, the label filter)."""
    query = urllib.parse.urlencode({"filter": 'host="%s"' % host})
    answer = requests.get("%s/api/v2/alerts?%s" % (alertmanager_url, query), timeout=10)
    answer.raise_for_status()
    return answer.json()


def notifications(receiver, host: str) -> list:
    """The webhook notifications Alertmanager sent about ``host`` (one entry per alert in a notification)."""
    with receiver.lock:
        posts = list(receiver.posts)
    found = []
    for post in posts:
        body = post.get("json")
        if not isinstance(body, dict):
            continue
        for alert in body.get("alerts") or []:
            if (alert.get("labels") or {}).get("host") == host:
                found.append({"status": alert.get("status"), "dedup_key": alert["labels"].get("dedup_key")})
    return found


def parse_mail(data: str) -> dict:
    """A received mail as {"subject", "text" (every text part decoded), "headers"}."""
    message = email.message_from_string(data, policy=email.policy.default)
    texts = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            try:
                texts.append(part.get_content())
            except (LookupError, ValueError):
                texts.append(part.get_payload(decode=True).decode("utf-8", "replace"))
    return {"subject": str(message.get("Subject", "")), "text": "\n".join(texts), "message": message}


def mails_to(mailbox, address: str) -> list:
    """The mails the SMTP server received for ``address``, parsed."""
    return [parse_mail(m["data"]) for m in list(mailbox.messages) if address in m["to"]]
