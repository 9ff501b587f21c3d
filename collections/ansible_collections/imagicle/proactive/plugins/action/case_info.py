# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of imagicle.proactive.case_info: runs on the controller, see plugin_utils.case_report."""

from __future__ import annotations

from datetime import datetime, timezone

from ansible_collections.imagicle.proactive.plugins.module_utils.argument_specs import CASE_INFO
from ansible_collections.imagicle.proactive.plugins.plugin_utils.case_report import QueryError, report
from ansible_collections.imagicle.proactive.plugins.plugin_utils.settings import StoreAction
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import StoreError


class ActionModule(StoreAction):
    """Read the cases, the silences and the outbox of the state store."""

    SPEC = CASE_INFO

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars or {})
        args = self.task_args()
        try:
            with self.open_state_store(args["store"]) as store:
                found = report(store, datetime.now(timezone.utc), status=args["status"], host=args["host"],
                               customer=args["customer"], case=args["case"], days=args["history_days"])
        except (QueryError, StoreError) as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result.update(changed=False, **found)
        return result
