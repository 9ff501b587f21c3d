# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of imagicle.proactive.silence: runs on the controller, see plugin_utils.silences."""

from __future__ import annotations

import getpass
from datetime import datetime, timezone

from ansible_collections.imagicle.proactive.plugins.module_utils.argument_specs import SILENCE
from ansible_collections.imagicle.proactive.plugins.plugin_utils import silences
from ansible_collections.imagicle.proactive.plugins.plugin_utils.rules import RulesError, load_catalogue
from ansible_collections.imagicle.proactive.plugins.plugin_utils.settings import StoreAction
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import StoreError


class ActionModule(StoreAction):
    """Add, extend or lift a maintenance window in the state store."""

    SPEC = SILENCE

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars or {})
        args = self.task_args()
        now = datetime.now(timezone.utc)
        try:
            with self.open_state_store(args["store"]) as store:
                if args["state"] == "present":
                    catalogue = load_catalogue(args["catalogue"] or None)
                    wanted = silences.build_silence(
                        customer=args["customer"], host=args["host"], rule=args["rule"], duration=args["duration"],
                        starts=args["starts"], ends=args["ends"], reason=args["reason"], created_by=_user(), now=now,
                        known_rules=set(catalogue.ids()))
                    outcome = silences.apply_present(store, wanted, now, check_mode=self._task.check_mode)
                    result["silence"] = outcome["silence"].to_dict()
                else:
                    outcome = silences.apply_absent(store, now, silence_id=args["id"], customer=args["customer"],
                                                    host=args["host"], rule=args["rule"], check_mode=self._task.check_mode)
                    result["lifted"] = [s.to_dict() for s in outcome["lifted"]]
                result["silences"] = [s.to_dict() for s in store.silences(ended_since=now)]
        except (silences.SilenceError, StoreError, RulesError) as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result.update(changed=outcome["changed"], msg=outcome["msg"])
        return result


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (a container)
        return None
