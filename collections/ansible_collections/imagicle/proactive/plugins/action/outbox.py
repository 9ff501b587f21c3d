# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of imagicle.proactive.outbox: runs on the controller, see plugin_utils.outbox."""

from __future__ import annotations

from datetime import datetime, timezone

from ansible_collections.imagicle.proactive.plugins.module_utils.argument_specs import OUTBOX
from ansible_collections.imagicle.proactive.plugins.plugin_utils import outbox
from ansible_collections.imagicle.proactive.plugins.plugin_utils.case_report import outbox_state
from ansible_collections.imagicle.proactive.plugins.plugin_utils.settings import StoreAction
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import StoreError


class ActionModule(StoreAction):
    """Requeue or drop undelivered outbox actions in the state store."""

    SPEC = OUTBOX

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars or {})
        args = self.task_args()
        now = datetime.now(timezone.utc)
        try:
            with self.open_state_store(args["store"]) as store:
                if args["requeue"] is not None:
                    outcome = outbox.requeue(store, args["requeue"], now, check_mode=self._task.check_mode)
                else:
                    outcome = outbox.drop(store, args["drop"], args["reason"], now, check_mode=self._task.check_mode)
                result["outbox"] = outbox_state(store)
        except (outbox.OutboxError, StoreError) as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result.update(outcome)
        return result
