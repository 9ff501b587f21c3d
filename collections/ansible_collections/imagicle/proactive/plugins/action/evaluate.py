# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of imagicle.proactive.evaluate: runs on the controller, see plugin_utils.evaluation."""

from __future__ import annotations

from datetime import datetime, timezone

from ansible.errors import AnsibleConnectionFailure

from ansible_collections.imagicle.proactive.plugins.module_utils.argument_specs import EVALUATE
from ansible_collections.imagicle.proactive.plugins.plugin_utils.evaluation import (
    FACTS_VARIABLES,
    SettingsError,
    collect_options,
    evaluate_host,
    host_settings,
    summary_lines,
    usable_health,
)
from ansible_collections.imagicle.proactive.plugins.plugin_utils.cases import sustain_progress
from ansible_collections.imagicle.proactive.plugins.plugin_utils.history import remember
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import history_windows
from ansible_collections.imagicle.proactive.plugins.plugin_utils.settings import SpecAction, store_url
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import OpenOnce, StoreError, open_store

FACTS_MODULE = "imagicle.proactive.appsuite_facts"
SETTING_VARIABLES = (
    "imagicle_customer",
    "imagicle_sla",
    "imagicle_consent",
    "imagicle_cloud_connected",
    "imagicle_rules_catalogue",
    "imagicle_rule_overrides",
    "imagicle_rule_overrides_host",
    "imagicle_contacts",
    "imagicle_language",
)


class ActionModule(SpecAction):
    """Turn one host's health facts into alarms with response deadlines."""

    SPEC = EVALUATE

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        given = self._task.args
        args = self.task_args()
        host = task_vars.get("inventory_hostname", "?")
        variables = {
            name: self._templar.template(task_vars[name]) for name in SETTING_VARIABLES if name in task_vars
        }
        detected_at = None
        if args.get("detected_at"):
            try:
                detected_at = datetime.fromisoformat(str(args["detected_at"]).replace("Z", "+00:00"))
            except ValueError:
                detected_at = None
            if detected_at is None or detected_at.tzinfo is None:
                result.update(failed=True, msg="detected_at must be an ISO 8601 time with a timezone, "
                                               "e.g. 2026-11-27T17:50:00Z; got %r" % args["detected_at"])
                return result
        try:
            settings = host_settings(host, variables)
        except SettingsError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        health = args.get("health")
        facts_result = args.get("facts_result")
        collected = None
        if args.get("collect") is not None and facts_result is None and health is None:
            host_options = {name: self._templar.template(task_vars[name]) for name in FACTS_VARIABLES if name in task_vars}
            try:
                options = collect_options(host, args["collect"], host_options)
            except SettingsError as exc:
                result.update(failed=True, msg=str(exc))
                return result
            facts_result = collected = self._collect(options, task_vars)
            if args["collect_only"]:
                result.update(changed=False, facts={key: value for key, value in collected.items() if key != "ansible_facts"},
                              ansible_facts=collected.get("ansible_facts") or {},
                              evaluation={"host": host, "file_cases": False}, msg=[])
                if collected.get("warnings"):
                    result["warnings"] = list(collected["warnings"])
                return result
        elif health is None and "facts_result" not in given:
            health = (task_vars.get("ansible_facts") or {}).get("imagicle_health")
        detected_at = detected_at or datetime.now(timezone.utc)
        # The metrics go to the state store of the cases callback (not in check mode), and the history
        # the host's rules read comes back; one connection to the store for the host.
        store = OpenOnce(lambda: open_store(store_url(None), "state store"))
        remembered = remember(store, host,
                              usable_health(facts_result, health), detected_at,
                              record=not self._task.check_mode, windows=history_windows(settings.catalogue))
        evaluation = evaluate_host(settings, facts_result=facts_result, health=health,
                                   detected_at=detected_at, history=remembered.history)
        alarms = evaluation.pop("alarms")
        if any(alarm.get("sustain") for alarm in alarms):
            # How far each alarm of a sustained rule is from its case (the cases callback decides; this only says it).
            try:
                with store() as opened:
                    for alarm in alarms:
                        progress = sustain_progress(opened, alarm, detected_at) if alarm.get("sustain") else None
                        if progress is not None:
                            alarm["pending"] = progress
            except StoreError:
                pass  # the history step above already warned that the store cannot be used
        store.close()
        # The cases callback files the alarms of this task unless told not to (a look at one host).
        evaluation["file_cases"] = args["file_cases"]
        result.update(
            changed=False,
            alarms=alarms,
            evaluation=evaluation,
            msg=summary_lines(dict(evaluation, alarms=alarms)),
            ansible_facts={"imagicle_alarms": alarms, "imagicle_evaluation": evaluation},
        )
        if collected is not None:
            # How the collection went; the facts themselves are the host's fact imagicle_health (once, not twice
            # in every result the controller keeps).
            result["facts"] = {key: value for key, value in collected.items() if key != "ansible_facts"}
        # The facts evaluated become the host's imagicle_health (what the health_report filter shows).
        given_facts = facts_result.get("ansible_facts") if isinstance(facts_result, dict) else None
        if isinstance(given_facts, dict) and isinstance(given_facts.get("imagicle_health"), dict):
            result["ansible_facts"]["imagicle_health"] = given_facts["imagicle_health"]
        warnings = list(collected.get("warnings") or []) if collected is not None else []
        warnings += settings.warnings + remembered.warnings
        if warnings:
            result.setdefault("warnings", []).extend(warnings)
        return result

    def _collect(self, options: dict, task_vars: dict) -> dict:
        """Run appsuite_facts on the host with ``options``; an unreachable host is a result saying so, as a task
        with ignore_unreachable registers it."""
        try:
            collected = self._execute_module(module_name=FACTS_MODULE, module_args=options, task_vars=task_vars)
        except AnsibleConnectionFailure as exc:
            return {"unreachable": True, "changed": False, "msg": str(exc)}
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        if not isinstance(collected, dict):
            return {"failed": True, "msg": "appsuite_facts returned no result"}
        collected.pop("invocation", None)  # the options again: the task has them
        return collected
