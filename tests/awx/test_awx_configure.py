# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/awx_configure.yml with the real awx.awx modules, against a stand-in for AWX.

This is a contract test against a stand-in, not a live AWX: no AWX runs here (it needs
Kubernetes and containers). ``FakeAwx`` is a small HTTP server on 127.0.0.1 that answers the
part of AWX's REST API v2 that the awx.awx modules of this playbook call (see awx.awx's
``plugins/module_utils/controller_api.py``), in AWX's documented shapes: lists as
``count``/``next``/``previous``/``results`` with ``?name=`` (any field) filters and pages, objects
with ``id``, ``url``, ``type``, ``related`` and ``summary_fields``, ``201`` on create, ``200`` on
``PATCH``, ``204`` on (dis)association, the ``X-API-Product-Name``/``-Version`` headers, bearer
tokens. It keeps the AWX behaviour the playbook depends on: secret credential inputs read back as
``$encrypted$``; ``ANSIBLE_*`` variables refused in credential type injectors; nullable-looking
string fields stored as ``""``; one id space for projects, inventory sources and job templates
(unified job templates); a project created with an SCM update that the module waits for; a job
template's playbook and an inventory source's path checked against the project (this checkout).
Every request is recorded, so that a second run can be shown to write nothing.

Run: ``.venv/bin/python -m pytest tests/awx/test_awx_configure.py -q`` (needs awx.awx:
``scripts/setup.sh``).
"""

from __future__ import annotations

import copy
import json
import os
import re
import secrets
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import jinja2
import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
PLAYBOOK = os.path.join(ROOT, "playbooks", "awx_configure.yml")
API = "/api/v2/"
AWX_VERSION = "24.6.1"
ENCRYPTED = "$encrypted$"
CALLBACK = "imagicle.proactive.cases"

# Types of object the stand-in keeps, with the fields AWX gives an object that a create left out.
RESOURCES = {
    "organizations": {"description": "", "max_hosts": 0, "default_environment": None},
    "credential_types": {"description": "", "kind": "cloud", "managed": False, "inputs": {}, "injectors": {}},
    "credentials": {"description": "", "organization": None, "inputs": {}},
    "execution_environments": {"description": "", "organization": None, "credential": None, "pull": ""},
    "projects": {"description": "", "scm_type": "", "scm_url": "", "scm_branch": "", "scm_refspec": "",
                 "scm_clean": False, "scm_delete_on_update": False, "scm_update_on_launch": False,
                 "credential": None, "default_environment": None, "scm_revision": ""},
    "inventories": {"description": "", "kind": "", "host_filter": None, "variables": ""},
    "inventory_sources": {"description": "", "source_path": "", "credential": None, "overwrite": False,
                          "overwrite_vars": False, "update_on_launch": False, "source_vars": ""},
    "job_templates": {"description": "", "job_type": "run", "forks": 0, "limit": "", "job_slice_count": 1,
                      "extra_vars": "", "execution_environment": None, "allow_simultaneous": False,
                      "survey_enabled": False},
    "schedules": {"description": "", "enabled": True, "extra_data": {}},
}
# AWX keeps these as blank strings, never null.
BLANK_NOT_NULL = {"inventories": {"kind"}, "projects": {"scm_type", "scm_branch", "scm_url"}}
UNIFIED = ("projects", "inventory_sources", "job_templates")
TYPE_NAMES = {"organizations": "organization", "credential_types": "credential_type", "credentials": "credential",
              "execution_environments": "execution_environment", "projects": "project", "inventories": "inventory",
              "inventory_sources": "inventory_source", "job_templates": "job_template", "schedules": "schedule"}
PAGE_SIZE = 25


class ApiError(Exception):
    def __init__(self, status: int, body: dict):
        super().__init__(status, body)
        self.status = status
        self.body = body


class FakeAwx:
    """The state and the API logic of the stand-in (the HTTP handler below calls ``handle``)."""

    def __init__(self, token: str, project_root: str):
        self.token = token
        self.project_root = project_root
        self.lock = threading.Lock()
        self.requests: list = []
        self.objects: dict = {name: {} for name in RESOURCES}
        self.associations: dict = {}
        self.project_updates: dict = {}
        self.settings = {"AWX_TASK_ENV": {"HTTPS_PROXY": "http://proxy.example.net:3128"},
                         "DEFAULT_JOB_TIMEOUT": 0}
        self._ids = {name: 0 for name in RESOURCES}
        self._unified_id = 0
        self._seed()

    # -- state ---------------------------------------------------------------------------------------
    def _seed(self) -> None:
        """What a new AWX has: the Default organization and the managed credential types."""
        self._create("organizations", {"name": "Default"})
        self._create("credential_types", {"name": "Machine", "kind": "ssh", "managed": True, "inputs": {"fields": [
            {"id": "username", "type": "string", "label": "Username"},
            {"id": "password", "type": "string", "label": "Password", "secret": True},
            {"id": "ssh_key_data", "type": "string", "label": "SSH Private Key", "secret": True, "multiline": True},
            {"id": "become_method", "type": "string", "label": "Privilege Escalation Method"}]}})
        self._create("credential_types", {"name": "Vault", "kind": "vault", "managed": True, "inputs": {"fields": [
            {"id": "vault_password", "type": "string", "label": "Vault Password", "secret": True},
            {"id": "vault_id", "type": "string", "label": "Vault Identifier"}], "required": ["vault_password"]}})
        self.requests.clear()

    def _next_id(self, kind: str) -> int:
        if kind in UNIFIED:
            self._unified_id += 1
            return self._unified_id
        self._ids[kind] += 1
        return self._ids[kind]

    def _create(self, kind: str, body: dict) -> dict:
        item = copy.deepcopy(RESOURCES[kind])
        item.update(copy.deepcopy(body))
        for field in BLANK_NOT_NULL.get(kind, ()):
            if item.get(field) is None:
                item[field] = ""
        item["id"] = self._next_id(kind)
        item["type"] = TYPE_NAMES[kind]
        self.objects[kind][item["id"]] = item
        return item

    def secret_fields(self, credential: dict) -> set:
        kind = self.objects["credential_types"].get(credential.get("credential_type"), {})
        return {field["id"] for field in kind.get("inputs", {}).get("fields", []) if field.get("secret")}

    def render(self, kind: str, item: dict) -> dict:
        """An object as the API shows it: secrets hidden, with url, related and summary_fields."""
        shown = copy.deepcopy(item)
        url = "%s%s/%d/" % (API, kind, item["id"])
        shown["url"] = url
        shown["related"] = {}
        shown["summary_fields"] = {}
        if kind == "credentials":
            hidden = self.secret_fields(item)
            shown["inputs"] = {key: (ENCRYPTED if key in hidden and value else value)
                               for key, value in item["inputs"].items()}
        if kind == "job_templates":
            shown["related"].update({"credentials": url + "credentials/", "survey_spec": url + "survey_spec/"})
            shown["summary_fields"]["credentials"] = [
                {"id": cid, "name": self.objects["credentials"][cid]["name"]}
                for cid in self.associations.get((kind, item["id"], "credentials"), [])]
        if kind == "projects":
            shown["related"]["update"] = url + "update/"
            if item.get("_current_update"):
                shown["summary_fields"]["current_update"] = {"id": item["_current_update"], "status": "successful"}
        if item.get("organization") and item["organization"] in self.objects["organizations"]:
            org = self.objects["organizations"][item["organization"]]
            shown["summary_fields"]["organization"] = {"id": org["id"], "name": org["name"]}
        return {key: value for key, value in shown.items() if not key.startswith("_")}

    # -- validation as AWX does it ---------------------------------------------------------------------
    def _validate(self, kind: str, item: dict, existing_id: int | None = None) -> None:
        errors: dict = {}
        if not item.get("name"):
            errors["name"] = ["This field may not be blank."]
        for other in self.objects[kind].values():
            scope = ("organization", "inventory", "credential_type", "unified_job_template")
            if other["id"] != existing_id and other.get("name") == item.get("name") and all(
                    other.get(key) == item.get(key) for key in scope if key in item):
                errors["__all__"] = ["%s with this Name already exists." % TYPE_NAMES[kind]]
        if kind == "credential_types":
            for variable in (item.get("injectors") or {}).get("env", {}):
                if variable.startswith("ANSIBLE_"):
                    errors.setdefault("injectors", []).append(
                        "Environment variable %s may affect Ansible configuration so its use is not allowed in "
                        "credentials." % variable)
            if item.get("kind") not in ("cloud", "net"):
                errors["kind"] = ["Must be 'cloud' or 'net', not %s" % item.get("kind")]
        if kind == "credentials":
            ctype = self.objects["credential_types"].get(item.get("credential_type"))
            if ctype is None:
                errors["credential_type"] = ["Invalid pk."]
            else:
                fields = {field["id"] for field in ctype["inputs"].get("fields", [])}
                unknown = set(item.get("inputs", {})) - fields
                missing = [name for name in ctype["inputs"].get("required", []) if not item.get("inputs", {}).get(name)]
                if unknown or missing:
                    errors["inputs"] = ["unknown %s, missing %s" % (sorted(unknown), missing)]
        if kind in ("projects", "inventories", "credentials", "execution_environments") and item.get("organization"):
            if item["organization"] not in self.objects["organizations"]:
                errors["organization"] = ["Invalid pk."]
        if kind == "projects" and item.get("scm_type") == "git" and not item.get("scm_url"):
            errors["scm_url"] = ["SCM URL is required."]
        if kind == "inventory_sources":
            if item.get("source") == "scm" and item.get("source_project") not in self.objects["projects"]:
                errors["source_project"] = ["Project required for scm type sources."]
            elif not os.path.exists(os.path.join(self.project_root, item.get("source_path", ""))):
                errors["source_path"] = ["Invalid inventory file or directory in the project."]
        if kind == "job_templates":
            if item.get("project") not in self.objects["projects"]:
                errors["project"] = ["Invalid pk."]
            elif not os.path.isfile(os.path.join(self.project_root, item.get("playbook") or "")):
                errors["playbook"] = ["Playbook not found for project."]
            if item.get("inventory") not in self.objects["inventories"]:
                errors["inventory"] = ["Invalid pk."]
            if item.get("execution_environment") not in (None, *self.objects["execution_environments"]):
                errors["execution_environment"] = ["Invalid pk."]
        if kind == "schedules":
            if item.get("unified_job_template") not in self.unified():
                errors["unified_job_template"] = ["Invalid pk."]
            rrule = item.get("rrule") or ""
            if not re.match(r"^DTSTART(;TZID=[\w/+-]+)?:\d{8}T\d{6}Z? RRULE:\S+$", rrule):
                errors["rrule"] = ["Valid DTSTART and RRULE required: %r" % rrule]
        if errors:
            raise ApiError(400, errors)

    def unified(self) -> dict:
        return {key: value for kind in UNIFIED for key, value in self.objects[kind].items()}

    # -- the API ---------------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers, body: bytes) -> tuple:
        parts = urlsplit(target)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        data = json.loads(body) if body else {}
        with self.lock:
            self.requests.append({"method": method, "path": path, "query": query, "body": data})
            if path in ("/api/", "/api/v2/ping/") or path == API:
                return 200, self._root(path)
            if headers.get("Authorization") != "Bearer %s" % self.token:
                return 401, {"detail": "Authentication credentials were not provided."}
            try:
                return self._route(method, path[len(API):].strip("/").split("/"), query, data)
            except ApiError as error:
                return error.status, error.body

    def _root(self, path: str) -> dict:
        if path == "/api/":
            return {"description": "AWX REST API", "current_version": API, "available_versions": {"v2": API}}
        if path == API:
            return {name: "%s%s/" % (API, name) for name in (*RESOURCES, "ping", "me", "settings")}
        return {"version": AWX_VERSION, "active_node": "awx-1", "ha": False, "instances": [], "instance_groups": []}

    def _route(self, method: str, segments: list, query: dict, data: dict) -> tuple:
        head = segments[0]
        if head == "me" and method == "GET":
            return 200, self._page([{"id": 1, "type": "user", "username": "admin", "is_superuser": True}], query)
        if head == "settings":
            return self._settings(method, segments[1] if len(segments) > 1 else "all", data)
        if head == "project_updates" and len(segments) == 2 and method == "GET":
            update = self.project_updates.get(int(segments[1]))
            if update is None:
                raise ApiError(404, {"detail": "Not found."})
            return 200, update
        if head == "unified_job_templates" and method == "GET":
            items = [self.render(kind, item) for kind in UNIFIED for item in self.objects[kind].values()]
            return 200, self._page(self._filter(items, query), query)
        if head not in RESOURCES:
            raise ApiError(404, {"detail": "Not found."})
        if len(segments) == 1:
            if method == "GET":
                items = [self.render(head, item) for item in self.objects[head].values()]
                return 200, self._page(self._filter(items, query), query)
            if method == "POST":
                return 201, self._post(head, data)
            raise ApiError(405, {"detail": 'Method "%s" not allowed.' % method})
        item = self._lookup(head, segments[1])
        if len(segments) == 2:
            if method == "GET":
                return 200, self.render(head, item)
            if method == "PATCH":
                return 200, self._patch(head, item, data)
            raise ApiError(405, {"detail": 'Method "%s" not allowed.' % method})
        if head == "job_templates" and segments[2] == "credentials":
            return self._credentials(item, method, data, query)
        if head == "job_templates" and segments[2] == "survey_spec":
            return self._survey_spec(item, method, data)
        raise ApiError(404, {"detail": "Not found."})

    def _lookup(self, kind: str, key: str) -> dict:
        if key.isdigit():
            item = self.objects[kind].get(int(key))
        else:  # a named URL: NAME, or NAME++ORGANIZATION
            name, _, org = key.partition("++")
            item = next((obj for obj in self.objects[kind].values() if obj.get("name") == name and (
                not org or self.objects["organizations"].get(obj.get("organization"), {}).get("name") == org)), None)
        if item is None:
            raise ApiError(404, {"detail": "Not found."})
        return item

    @staticmethod
    def _filter(items: list, query: dict) -> list:
        filters = {key: value for key, value in query.items() if key not in ("page", "page_size", "order_by")}
        alternatives = {key[4:]: value for key, value in filters.items() if key.startswith("or__")}
        exact = {key: value for key, value in filters.items() if not key.startswith("or__")}

        def matches(item: dict) -> bool:
            if any(str(item.get(key)) != value for key, value in exact.items()):
                return False
            return not alternatives or any(str(item.get(key)) == value for key, value in alternatives.items())
        return [item for item in items if matches(item)]

    @staticmethod
    def _page(items: list, query: dict) -> dict:
        size = int(query.get("page_size", PAGE_SIZE))
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * size: page * size]
        following = dict(query, page=str(page + 1))
        preceding = dict(query, page=str(page - 1))
        return {"count": len(items), "results": chunk,
                "next": ("?" + "&".join("%s=%s" % pair for pair in following.items())) if page * size < len(items) else None,
                "previous": ("?" + "&".join("%s=%s" % pair for pair in preceding.items())) if page > 1 else None}

    def _post(self, kind: str, data: dict) -> dict:
        candidate = copy.deepcopy(RESOURCES[kind])
        candidate.update(data)
        self._validate(kind, candidate)
        item = self._create(kind, data)
        if kind == "projects" and item.get("scm_type"):
            update_id = len(self.project_updates) + 1
            self.project_updates[update_id] = {"id": update_id, "type": "project_update", "status": "successful",
                                               "failed": False, "finished": "2026-01-01T00:00:00Z",
                                               "url": "%sproject_updates/%d/" % (API, update_id)}
            item["_current_update"] = update_id
            item["scm_revision"] = "0" * 40
        return self.render(kind, item)

    def _patch(self, kind: str, item: dict, data: dict) -> dict:
        changed = copy.deepcopy(item)
        for key, value in data.items():
            if kind == "credentials" and key == "inputs":
                value = {field: (item["inputs"].get(field) if given == ENCRYPTED else given)
                         for field, given in value.items()}
            changed[key] = value
        for field in BLANK_NOT_NULL.get(kind, ()):
            if changed.get(field) is None:
                changed[field] = ""
        self._validate(kind, changed, existing_id=item["id"])
        item.clear()
        item.update(changed)
        return self.render(kind, item)

    def _credentials(self, template: dict, method: str, data: dict, query: dict) -> tuple:
        key = ("job_templates", template["id"], "credentials")
        attached = self.associations.setdefault(key, [])
        if method == "GET":
            items = [self.render("credentials", self.objects["credentials"][cid]) for cid in attached]
            return 200, self._page(items, query)
        if method != "POST":
            raise ApiError(405, {"detail": "Method not allowed."})
        credential = self.objects["credentials"].get(data.get("id"))
        if credential is None:
            raise ApiError(400, {"msg": "Related object not found."})
        if data.get("disassociate"):
            if credential["id"] in attached:
                attached.remove(credential["id"])
            return 204, None
        kinds = [self.objects["credentials"][cid]["credential_type"] for cid in attached]
        if credential["credential_type"] in kinds:
            raise ApiError(400, {"error": "Cannot assign multiple %s credentials." % credential["credential_type"]})
        attached.append(credential["id"])
        return 204, None

    SURVEY_TYPES = {"text": str, "textarea": str, "password": str, "multiplechoice": str, "multiselect": str,
                    "integer": int, "float": float}

    def _survey_spec(self, template: dict, method: str, data: dict) -> tuple:
        """/api/v2/job_templates/N/survey_spec/: GET the spec ({} when none), POST a whole new one
        (validated and stored as AWX's JobTemplateSurveySpec does, answered 200 with no body),
        DELETE it."""
        if method == "GET":
            return 200, copy.deepcopy(template.get("_survey_spec") or {})
        if method == "DELETE":
            template["_survey_spec"] = {}
            return 200, None
        if method != "POST":
            raise ApiError(405, {"detail": 'Method "%s" not allowed.' % method})
        spec = copy.deepcopy(data)
        for field, kind in (("name", str), ("description", str), ("spec", list)):
            if not isinstance(spec.get(field), kind):
                raise ApiError(400, {"error": "Field '%s' is missing from survey spec." % field})
        if not spec["spec"]:
            raise ApiError(400, {"error": "'spec' doesn't contain any items."})
        variables = set()
        for idx, question in enumerate(spec["spec"]):
            for field in ("type", "question_name", "variable", "required"):
                if field not in question:
                    raise ApiError(400, {"error": "'%s' missing from survey question %d" % (field, idx)})
                if not isinstance(question[field], bool if field == "required" else str):
                    raise ApiError(400, {"error": "'%s' in survey question %d has the wrong type." % (field, idx)})
            if question["variable"] in variables:
                raise ApiError(400, {"error": "'variable' '%s' duplicated in survey question %d." % (question["variable"], idx)})
            variables.add(question["variable"])
            qtype = question["type"]
            if qtype not in self.SURVEY_TYPES:
                raise ApiError(400, {"error": "'%s' in survey question %d is not an allowed question type." % (qtype, idx)})
            if "default" in question and question["default"] != "" and not isinstance(question["default"],
                                                                                      self.SURVEY_TYPES[qtype]):
                raise ApiError(400, {"error": "Default value %r in survey question %d expected to be %s."
                                     % (question["default"], idx, qtype)})
            for key in ("min", "max"):
                if question.get(key) is not None and not isinstance(question[key], int):
                    raise ApiError(400, {"error": "The %s limit in survey question %d expected to be integer." % (key, idx)})
            if qtype in ("multiplechoice", "multiselect"):
                if "choices" not in question:
                    raise ApiError(400, {"error": "Survey question %d of type %s must specify choices." % (idx, qtype)})
                if isinstance(question["choices"], str):  # AWX keeps the non-blank lines
                    question["choices"] = "\n".join(line for line in question["choices"].splitlines() if line.strip())
                if "default" in question:
                    if isinstance(question["default"], str):
                        question["default"] = "\n".join(
                            line for line in question["default"].splitlines() if line.strip())
                        defaults = question["default"].splitlines()
                    else:
                        defaults = question["default"]
                    if qtype == "multiplechoice" and len(defaults) > 1:
                        raise ApiError(400, {"error": "Multiple Choice (Single Select) can only have one default value."})
                    if any(choice not in question["choices"] for choice in defaults):
                        raise ApiError(400, {"error": "Default choice must be answered from the choices listed."})
        template["_survey_spec"] = spec
        return 200, None

    def _settings(self, method: str, category: str, data: dict) -> tuple:
        if method == "GET":
            return 200, copy.deepcopy(self.settings)
        if method == "PATCH" and category == "all":
            self.settings.update(copy.deepcopy(data))
            return 200, copy.deepcopy(self.settings)
        raise ApiError(405, {"detail": "Method not allowed."})

    # -- for the assertions ----------------------------------------------------------------------------
    def writes(self) -> list:
        with self.lock:
            return [request for request in self.requests if request["method"] not in ("GET", "HEAD", "OPTIONS")]

    def named(self, kind: str, name: str) -> dict:
        [item] = [item for item in self.objects[kind].values() if item["name"] == name]
        return item


def serve(fake: FakeAwx) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            status, payload = fake.handle(self.command, self.path, self.headers, self.rfile.read(length))
            body = b"" if payload is None else json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-API-Product-Name", "AWX")
            self.send_header("X-API-Product-Version", AWX_VERSION)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

        def log_message(self, *args):  # pylint: disable=arguments-differ
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def documented_callback_variables() -> set:
    """The IMAGICLE_* environment variables that the callback's DOCUMENTATION declares."""
    result = subprocess.run([os.path.join(VENV_BIN, "ansible-doc"), "-t", "callback", "--json", CALLBACK],
                            cwd=ROOT, capture_output=True, text=True, check=True,
                            env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg")))
    options = json.loads(result.stdout)[CALLBACK]["doc"]["options"]
    return {env["name"] for option in options.values() for env in option.get("env", [])
            if env["name"].startswith("IMAGICLE_")}


def awx_installed() -> bool:
    result = subprocess.run([os.path.join(VENV_BIN, "ansible-doc"), "--json", "awx.awx.job_template"],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    return result.returncode == 0


class Run:
    """One ansible-playbook run of playbooks/awx_configure.yml."""

    def __init__(self, result: subprocess.CompletedProcess, writes_before: int, requests_before: int = 0):
        self.rc = result.returncode
        self.output = result.stdout + result.stderr
        self.writes_before = writes_before
        self.requests_before = requests_before

    def recap(self) -> dict:
        match = re.search(r"^localhost\s+:\s+(.*)$", self.output, re.MULTILINE)
        assert match, self.output[-4000:]
        return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}


SLICES = 3
OPERATOR_PLAYBOOKS = ("playbooks/cases.yml", "playbooks/silence.yml", "playbooks/explain.yml", "playbooks/outbox.yml")


class Controller:
    """A stand-in AWX on 127.0.0.1 and the settings, vault and environment of playbook runs against it."""

    def __init__(self, work):
        self.work = work
        self.token = secrets.token_hex(16)
        self.fake = FakeAwx(self.token, ROOT)
        self.server = serve(self.fake)
        self.secret_values = {
            "vault_awx_store_password": "pg-" + secrets.token_hex(12),
            "vault_awx_rt_token": "rt-" + secrets.token_hex(12),
            "vault_awx_pagerduty_routing_key": "pd-" + secrets.token_hex(12),
            "vault_awx_smtp_password": "smtp-" + secrets.token_hex(12),
            "vault_awx_machine_ssh_key": "-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n-----END OPENSSH PRIVATE KEY-----\n"
                                         % secrets.token_hex(24),
            "vault_awx_inventory_vault_password": "iv-" + secrets.token_hex(12),
        }
        settings = {
            "awx_organization": "Imagicle Support",
            "awx_store_url": "postgresql://proactive@db.example.net:5432/proactive?sslmode=verify-full",
            "awx_cases_backend": "rt", "awx_rt_url": "https://rt.example.net", "awx_rt_queue": "ImagicleCare",
            "awx_pager": "pagerduty",
            "awx_mail": True, "awx_smtp_host": "smtp.example.net", "awx_smtp_username": "proactive",
            "awx_mail_from": "Imagicle Support <support@example.net>",
            "awx_job_slice_count": SLICES, "awx_schedule_timezone": "Europe/Rome",
        }
        settings_file = work / "awx.yml"
        settings_file.write_text(yaml.safe_dump(settings))
        vault_file = work / "awx.vault.yml"
        vault_file.write_text(yaml.safe_dump(self.secret_values))
        vault_password = work / "vault-password"
        vault_password.write_text(secrets.token_hex(16) + "\n")
        subprocess.run([os.path.join(VENV_BIN, "ansible-vault"), "encrypt", "--vault-password-file",
                        str(vault_password), str(vault_file)], check=True, capture_output=True)
        home = work / "home"
        home.mkdir()
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith(("CONTROLLER_", "TOWER_", "IMAGICLE_", "ANSIBLE_"))}
        self.env.update({
            "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
            "ANSIBLE_FORCE_COLOR": "0",
            "HOME": str(home),
            "IMAGICLE_STATE_STORE": str(work / "state.sqlite"),
            "CONTROLLER_HOST": "http://127.0.0.1:%d" % self.server.server_address[1],
            "CONTROLLER_OAUTH_TOKEN": self.token,
            "CONTROLLER_VERIFY_SSL": "false",
            "no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1",
        })
        for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            self.env.pop(key, None)
        self.command = [os.path.join(VENV_BIN, "ansible-playbook"), "-v", PLAYBOOK, "-e", "@%s" % settings_file,
                        "-e", "@%s" % vault_file, "--vault-password-file", str(vault_password)]

    def run(self, *extra) -> Run:
        before = len(self.fake.writes())
        requests_before = len(self.fake.requests)
        result = subprocess.run([*self.command, *extra], cwd=ROOT, env=self.env, capture_output=True, text=True,
                                check=False, stdin=subprocess.DEVNULL)
        return Run(result, before, requests_before)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def configured(tmp_path_factory):
    """The playbook run twice against one stand-in: (fake, first run, second run, secrets)."""
    if not awx_installed():
        pytest.skip("the awx.awx collection is not installed (scripts/setup.sh)")
    controller = Controller(tmp_path_factory.mktemp("awx-configure"))
    try:
        first = controller.run()
        second = controller.run()
        yield controller.fake, first, second, dict(controller.secret_values, controller_token=controller.token)
    finally:
        controller.close()


@pytest.fixture(scope="module")
def switched_off(tmp_path_factory):
    """The playbook run once with awx_operator_templates=false: (fake, run)."""
    if not awx_installed():
        pytest.skip("the awx.awx collection is not installed (scripts/setup.sh)")
    controller = Controller(tmp_path_factory.mktemp("awx-configure-off"))
    try:
        yield controller.fake, controller.run("-e", "awx_operator_templates=false")
    finally:
        controller.close()


def job_template(fake: FakeAwx, playbook: str) -> dict:
    [template] = [item for item in fake.objects["job_templates"].values() if item["playbook"] == playbook]
    return template


def attached_credentials(fake: FakeAwx, template: dict) -> list:
    return [fake.objects["credentials"][cid] for cid in fake.associations[("job_templates", template["id"], "credentials")]]


def credential_type_name(fake: FakeAwx, credential: dict) -> str:
    return fake.objects["credential_types"][credential["credential_type"]]["name"]


def test_the_first_run_succeeds_and_changes_things(configured):
    fake, first, _, _ = configured
    assert first.rc == 0, first.output[-6000:]
    recap = first.recap()
    assert recap["failed"] == 0 and recap["changed"] > 0, first.output[-6000:]
    assert fake.writes()


def test_credential_types_inject_exactly_the_variables_the_callback_documents(configured):
    fake, first, _, _ = configured
    assert first.rc == 0, first.output[-6000:]
    custom = [ctype for ctype in fake.objects["credential_types"].values() if not ctype["managed"]]
    assert custom
    injected = set()
    for ctype in custom:
        env = ctype["injectors"]["env"]
        assert not [name for name in env if name.startswith("ANSIBLE_")]
        fields = {field["id"] for field in ctype["inputs"]["fields"]}
        for name, template in env.items():
            # Each injector template names fields of its own type (or a file AWX writes).
            used = set(re.findall(r"{{\s*(\w+)", template)) - {"tower"}
            assert used <= fields, (ctype["name"], name, template)
        injected |= {name for name in env if name.startswith("IMAGICLE_")}
    documented = documented_callback_variables()
    assert documented, "the callback documents no IMAGICLE_* variable"
    assert injected == documented, {"not injected": sorted(documented - injected),
                                    "not documented": sorted(injected - documented)}


def test_each_credential_type_holds_its_secrets_as_secret_fields(configured):
    fake, _, _, _ = configured
    secret_variables = {"IMAGICLE_RT_TOKEN", "IMAGICLE_SERVICENOW_PASSWORD", "IMAGICLE_SERVICENOW_TOKEN",
                        "IMAGICLE_WEBHOOK_SECRET", "IMAGICLE_PAGERDUTY_ROUTING_KEY", "IMAGICLE_SMTP_PASSWORD",
                        "PGPASSWORD"}
    for ctype in fake.objects["credential_types"].values():
        if ctype["managed"]:
            continue
        secret = {field["id"] for field in ctype["inputs"]["fields"] if field.get("secret")}
        for name, template in ctype["injectors"]["env"].items():
            if name in secret_variables:
                [field] = re.findall(r"{{\s*(\w+)", template)
                assert field in secret, (ctype["name"], name)


def test_the_state_store_is_postgresql_with_the_password_apart(configured):
    fake, _, _, secret_values = configured
    [credential] = [cred for cred in fake.objects["credentials"].values()
                    if "IMAGICLE_STATE_STORE" in fake.objects["credential_types"][cred["credential_type"]]
                    ["injectors"].get("env", {})]
    env = fake.objects["credential_types"][credential["credential_type"]]["injectors"]["env"]
    rendered = {name: jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(template)
                .render(**credential["inputs"]) for name, template in env.items()}
    assert rendered["IMAGICLE_STATE_STORE"].startswith("postgresql://")
    assert secret_values["vault_awx_store_password"] not in rendered["IMAGICLE_STATE_STORE"]
    assert rendered["PGPASSWORD"] == secret_values["vault_awx_store_password"]
    # The API shows the password as AWX does: encrypted.
    assert fake.render("credentials", credential)["inputs"]["password"] == ENCRYPTED


def test_the_job_template_runs_the_proactive_check_sliced_with_its_credentials(configured):
    fake, first, _, _ = configured
    assert first.rc == 0, first.output[-6000:]
    template = job_template(fake, "playbooks/proactive_check.yml")
    assert template["job_slice_count"] == SLICES
    assert template["project"] in fake.objects["projects"]
    assert fake.objects["projects"][template["project"]]["scm_type"] == "git"
    assert fake.objects["inventories"][template["inventory"]]["name"] == template["name"].rsplit(" proactive", 1)[0]
    assert template["execution_environment"] in fake.objects["execution_environments"]
    assert json.loads(template["extra_vars"]) == {"imagicle_target": "appsuite"}
    attached = [fake.objects["credentials"][cid] for cid in
                fake.associations[("job_templates", template["id"], "credentials")]]
    env = {}
    for credential in attached:
        env.update(fake.objects["credential_types"][credential["credential_type"]]["injectors"].get("env", {}))
    assert {"IMAGICLE_STATE_STORE", "PGPASSWORD", "IMAGICLE_RT_TOKEN", "IMAGICLE_PAGERDUTY_ROUTING_KEY",
            "IMAGICLE_SMTP_HOST"} <= set(env)
    assert env["IMAGICLE_CASES_BACKEND"] == "rt" and env["IMAGICLE_PAGER"] == "pagerduty"
    assert "Machine" in {fake.objects["credential_types"][cred["credential_type"]]["name"] for cred in attached}


def test_the_inventory_is_sourced_from_the_project(configured):
    fake, _, _, _ = configured
    [source] = fake.objects["inventory_sources"].values()
    assert source["source"] == "scm"
    # The inventory has Vault-encrypted variables: the source decrypts them with the Vault credential.
    assert credential_type_name(fake, fake.objects["credentials"][source["credential"]]) == "Vault"
    assert source["source_project"] in fake.objects["projects"]
    assert os.path.exists(os.path.join(ROOT, source["source_path"]))
    assert source["inventory"] in fake.objects["inventories"]


def test_the_callback_is_enabled_by_environment_for_the_jobs(configured):
    fake, _, _, _ = configured
    task_env = fake.settings["AWX_TASK_ENV"]
    assert CALLBACK in task_env["ANSIBLE_CALLBACKS_ENABLED"].split(",")
    # What was there before stays.
    assert task_env["HTTPS_PROXY"] == "http://proxy.example.net:3128"


def test_the_schedule_runs_the_job_every_5_minutes(configured):
    fake, _, _, _ = configured
    template = job_template(fake, "playbooks/proactive_check.yml")
    [schedule] = fake.objects["schedules"].values()
    assert schedule["unified_job_template"] == template["id"] and schedule["enabled"] is True
    match = re.fullmatch(r"DTSTART;TZID=([\w/]+):(\d{8}T\d{6}) RRULE:(\S+)", schedule["rrule"])
    assert match, schedule["rrule"]
    assert match.group(1) == "Europe/Rome"
    rule = dict(part.split("=", 1) for part in match.group(3).split(";"))
    assert rule == {"FREQ": "MINUTELY", "INTERVAL": "5"}


def test_a_second_run_changes_nothing(configured):
    fake, first, second, _ = configured
    assert first.rc == 0 and second.rc == 0, second.output[-6000:]
    recap = second.recap()
    assert recap["changed"] == 0 and recap["failed"] == 0, second.output[-6000:]
    assert fake.writes()[second.writes_before:] == []
    # It did compare the surveys: awx.awx's job_template reads each survey_spec and posts it only
    # when it differs.
    read = {request["path"] for request in fake.requests[second.requests_before:]
            if request["method"] == "GET" and request["path"].endswith("/survey_spec/")}
    assert read == {"%sjob_templates/%d/survey_spec/" % (API, job_template(fake, playbook)["id"])
                    for playbook in OPERATOR_PLAYBOOKS}


def playbook_code(playbook: str) -> str:
    """What a playbook reads, without its comments: its tasks (as JSON) and the templates it renders;
    a playbook that imports one of the collection's (``imagicle.proactive.NAME``) reads what that one reads."""
    with open(os.path.join(ROOT, playbook), encoding="utf-8") as handle:
        plays = yaml.safe_load(handle)
    imported = [play.get("ansible.builtin.import_playbook") for play in plays if isinstance(play, dict)]
    if imported and all(name and name.startswith("imagicle.proactive.") for name in imported):
        return "\n".join(playbook_code(os.path.join("collections", "ansible_collections", "imagicle", "proactive",
                                                     "playbooks", name.rsplit(".", 1)[1] + ".yml")) for name in imported)
    code = json.dumps(plays)
    for template in sorted(set(re.findall(r"'([\w./-]+\.j2)'", code))):
        with open(os.path.join(ROOT, os.path.dirname(playbook), "templates", template), encoding="utf-8") as handle:
            code += "\n" + handle.read()
    return code


def case_info_status_choices() -> list:
    result = subprocess.run([os.path.join(VENV_BIN, "ansible-doc"), "--json", "imagicle.proactive.case_info"],
                            cwd=ROOT, capture_output=True, text=True, check=True,
                            env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg")))
    return json.loads(result.stdout)["imagicle.proactive.case_info"]["doc"]["options"]["status"]["choices"]


def test_the_operators_playbooks_have_job_templates_on_the_scheduled_jobs_store(configured):
    fake, first, _, _ = configured
    assert first.rc == 0, first.output[-6000:]
    check = job_template(fake, "playbooks/proactive_check.yml")
    by_type = {credential_type_name(fake, cred): cred["id"] for cred in attached_credentials(fake, check)}
    store_type = next(ctype["name"] for ctype in fake.objects["credential_types"].values()
                      if "IMAGICLE_STATE_STORE" in ctype["injectors"].get("env", {}))
    for playbook in OPERATOR_PLAYBOOKS:
        template = job_template(fake, playbook)
        for field in ("project", "inventory", "execution_environment"):
            assert template[field] == check[field], (playbook, field)
        assert template["survey_enabled"] is True, playbook
        attached = {credential_type_name(fake, cred): cred["id"] for cred in attached_credentials(fake, template)}
        # The same store credential as the scheduled job, the inventory's Vault credential, and
        # the machine credential only for the playbook that connects to a host.
        expected = {store_type, "Vault"} | ({"Machine"} if playbook.endswith("/explain.yml") else set())
        assert set(attached) == expected, (playbook, sorted(attached))
        assert all(attached[name] == by_type[name] for name in attached), playbook
    # No schedule: only the scheduled job has one.
    assert [schedule["unified_job_template"] for schedule in fake.objects["schedules"].values()] == [check["id"]]


def test_each_survey_question_asks_a_variable_its_playbook_reads(configured):
    fake, _, _, _ = configured
    for playbook in OPERATOR_PLAYBOOKS:
        spec = job_template(fake, playbook)["_survey_spec"]
        assert spec["name"] and spec["description"] and spec["spec"], playbook
        code = playbook_code(playbook)
        for question in spec["spec"]:
            assert question["question_name"] and question["question_description"]
            assert re.search(r"(?<!\w)%s(?!\w)" % re.escape(question["variable"]), code), (playbook, question["variable"])
            # AWX adds a question's default to a job launched without an answer: an optional
            # question with default "" would pass the variable as an empty string.
            assert question["required"] or question.get("default", None) != "", (playbook, question["variable"])


def test_the_surveys_ask_what_the_operators_give(configured):
    fake, _, _, _ = configured

    def questions(playbook):
        return {question["variable"]: question for question in job_template(fake, playbook)["_survey_spec"]["spec"]}

    silence = questions("playbooks/silence.yml")
    assert set(silence) == {"silence_host", "silence_rule", "silence_customer", "silence_for", "silence_reason",
                            "silence_lift"}
    # Nothing required: the same template adds, lifts and lists silences (silence.yml says what is missing).
    assert not any(question["required"] for question in silence.values())
    assert silence["silence_for"]["default"] == "2h"
    assert silence["silence_lift"]["type"] == "integer" and silence["silence_lift"]["min"] == 1
    cases = questions("playbooks/cases.yml")
    assert set(cases) == {"cases_status", "cases_host", "cases_customer", "case"}
    status = cases["cases_status"]
    assert status["type"] == "multiplechoice" and status["choices"] == case_info_status_choices()
    assert status["default"] == "open"
    assert not any(cases[name]["required"] for name in ("cases_host", "cases_customer", "case"))
    explain = questions("playbooks/explain.yml")
    assert set(explain) == {"explain_host", "explain_rule", "explain_history_days"}
    assert explain["explain_host"]["required"] and not explain["explain_rule"]["required"]
    outbox = questions("playbooks/outbox.yml")
    assert set(outbox) == {"outbox_requeue", "outbox_drop", "outbox_reason"}
    assert not any(question["required"] for question in outbox.values())  # nothing answered: the list
    for spec in (silence, cases, explain, outbox):
        assert {question["type"] for question in spec.values()} <= {"text", "multiplechoice", "integer"}


def test_the_operators_job_templates_can_be_left_out(switched_off):
    fake, run = switched_off
    assert run.rc == 0, run.output[-6000:]
    assert [template["playbook"] for template in fake.objects["job_templates"].values()] == [
        "playbooks/proactive_check.yml"]
    assert not [request for request in fake.requests if "survey_spec" in request["path"]]


def test_no_secret_appears_in_the_output(configured):
    _, first, second, secret_values = configured
    for run in (first, second):
        assert "ok=" in run.output
        for name, value in secret_values.items():
            for line in value.strip().splitlines():
                assert line not in run.output, name
