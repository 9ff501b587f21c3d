# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the controller-side modules (evaluate, case_info, silence, outbox), validated by
Ansible's argument spec validation against the spec of module_utils.argument_specs: a bad option fails
the task before the state store is opened, naming the option and what is allowed; a good one reaches
the store converted to its type."""

from __future__ import annotations

import importlib
import json
from datetime import datetime, timedelta
from types import SimpleNamespace
from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.imagicle.proactive.plugins.module_utils import argument_specs
from ansible_collections.imagicle.proactive.tests.unit.plugins.plugin_utils.health_fixture import healthy_health

SPECS = {"evaluate": argument_specs.EVALUATE, "case_info": argument_specs.CASE_INFO,
         "silence": argument_specs.SILENCE, "outbox": argument_specs.OUTBOX}


def action(name, args, check_mode=False):
    """The action plugin of module ``name`` for a task with ``args``, as the task executor builds it."""
    plugin_class = importlib.import_module("ansible_collections.imagicle.proactive.plugins.action.%s" % name).ActionModule
    task = SimpleNamespace(args=args, check_mode=check_mode, async_val=0, action=name,
                           resolved_action="imagicle.proactive.%s" % name)
    connection = MagicMock()
    connection._shell.tmpdir = None
    loader = DataLoader()
    plugin = plugin_class(task, connection, None, loader, Templar(loader=loader), None)
    plugin._load_name = plugin_class.__module__  # as the plugin loader names a collection's action
    return plugin


@pytest.fixture
def store(tmp_path):
    return tmp_path / "state.sqlite"


@pytest.fixture
def evaluate_store(monkeypatch, store):
    """evaluate records into the cases callback's store: here a file of the test."""
    module = importlib.import_module("ansible_collections.imagicle.proactive.plugins.action.evaluate")
    monkeypatch.setattr(module, "store_url", lambda explicit=None: str(store))
    return store


def failure(name, args, store=None):
    with pytest.raises(AnsibleActionFail) as raised:
        action(name, args).run(task_vars={"inventory_hostname": "ias-q"})
    if store is not None:
        assert not store.exists(), "the state store was opened for a task with bad options"
    return str(raised.value.message)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_an_unknown_option_is_named_with_the_supported_ones(name, store, evaluate_store):
    given = {"requeue": ["all"]} if name == "outbox" else {}  # else the missing one is told first
    message = failure(name, dict(given, stroe=str(store)), store)
    supported = ", ".join(sorted(SPECS[name]["argument_spec"]))
    assert message == "Unsupported parameters for (imagicle.proactive.%s) module: stroe. Supported parameters include: %s." % (
        name, supported)


@pytest.mark.parametrize("name, args, message", [
    ("silence", {"state": "absent", "id": "seven"}, "argument 'id' is of type str and we were unable to convert to int"),
    ("case_info", {"host": "ias-q", "history_days": "a week"},
     "argument 'history_days' is of type str and we were unable to convert to int"),
    ("evaluate", {"health": "disk full"}, "argument 'health' is of type str and we were unable to convert to dict"),
    ("evaluate", {"health": {}, "file_cases": "maybe"}, "argument 'file_cases' is of type str and we were unable to convert to bool"),
    ("outbox", {"requeue": {"key": "a"}}, "argument 'requeue' is of type dict and we were unable to convert to list"),
])
def test_a_wrong_type_names_the_option_and_the_type(name, args, message, store, evaluate_store):
    assert message in failure(name, dict(args, **({} if name == "evaluate" else {"store": str(store)})), store)


@pytest.mark.parametrize("name, args, message", [
    ("silence", {"state": "lifted", "id": 1}, "value of state must be one of: present, absent, got: lifted"),
    ("case_info", {"status": "closed"}, "value of status must be one of: open, resolved, all, got: closed"),
])
def test_a_value_outside_the_choices_names_them(name, args, message, store):
    assert failure(name, dict(args, store=str(store)), store) == message


@pytest.mark.parametrize("args, message", [
    ({"requeue": ["all"], "drop": ["all"], "reason": "x"}, "parameters are mutually exclusive: requeue|drop"),
    ({"reason": "ticket filed by hand"}, "one of the following is required: requeue, drop"),
])
def test_outbox_takes_requeue_or_drop(args, message, store):
    assert failure("outbox", dict(args, store=str(store)), store) == message


def test_detected_at_needs_a_timezone(evaluate_store):
    result = action("evaluate", {"health": healthy_health(), "detected_at": "2026-11-27T17:50:00"}).run(
        task_vars={"inventory_hostname": "ias-q"})
    assert result["failed"] is True
    assert result["msg"].startswith("detected_at must be an ISO 8601 time with a timezone")
    assert not evaluate_store.exists()


def test_options_reach_the_actions_converted_to_their_types(store):
    # A survey answer is a string: id "1" is silence #1, history_days "0" no history, requeue "all" a list.
    added = action("silence", {"host": "ias-q", "duration": 90, "reason": "CHG-7", "store": str(store)}).run(task_vars={})
    assert added["changed"] is True and added["silence"]["host"] == "ias-q"
    window = [datetime.fromisoformat(added["silence"][end].replace("Z", "+00:00")) for end in ("starts_at", "ends_at")]
    assert window[1] - window[0] == timedelta(minutes=90)  # a bare number (converted to "90") is minutes
    listed = action("case_info", {"history_days": "0", "store": str(store)}).run(task_vars={})
    assert "failed" not in listed and [s["id"] for s in listed["silences"]] == [1]
    lifted = action("silence", {"state": "absent", "id": "1", "store": str(store)}).run(task_vars={})
    assert lifted["changed"] is True and [s["id"] for s in lifted["lifted"]] == [1]
    requeued = action("outbox", {"requeue": "all", "store": str(store)}).run(task_vars={})
    assert "failed" not in requeued and requeued["keys"] == []


def test_evaluate_file_cases_defaults_to_true_and_takes_yes_no_strings(evaluate_store):
    task_vars = {"inventory_hostname": "ias-q", "imagicle_customer": "acme", "imagicle_consent": True,
                 "imagicle_sla": {"plan": "gold", "timezone": "Europe/Rome"}}
    health = healthy_health()
    health["disks"]["items"][1].update(used_percent=95.5, free_bytes=2700000, used_bytes=57300000)
    filed = action("evaluate", {"health": health}).run(task_vars=task_vars)
    assert filed["evaluation"]["file_cases"] is True
    assert [alarm["rule"] for alarm in filed["alarms"]] == ["disk_space"]
    looked = action("evaluate", {"health": json.dumps(health), "file_cases": "no"}).run(task_vars=task_vars)
    assert looked["evaluation"]["file_cases"] is False  # a JSON string is a dict option's value too
    assert [alarm["rule"] for alarm in looked["alarms"]] == ["disk_space"]
    assert evaluate_store.exists()
