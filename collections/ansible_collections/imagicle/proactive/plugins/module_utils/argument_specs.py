# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the modules that run on the controller (evaluate, case_info, silence, outbox).

One argument spec per module, written once: its action plugin validates a task's options with it
(``ActionBase.validate_argument_spec``: an unknown option, a wrong type or a value outside the
choices fails the task naming the option and what is allowed), and the module file declares it to
``AnsibleModule``, so that the validate-modules sanity test compares it with the module's
documentation. Each value is the keyword arguments of both calls.
"""

from __future__ import annotations

# The state store (doc fragment imagicle.proactive.state_store): the cases callback's when not given.
_STORE = dict(type="str")

EVALUATE = dict(
    argument_spec=dict(
        facts_result=dict(type="dict"),
        health=dict(type="dict"),
        collect=dict(type="dict"),
        collect_only=dict(type="bool", default=False),
        detected_at=dict(type="str"),
        file_cases=dict(type="bool", default=True),
    ),
)

CASE_INFO = dict(
    argument_spec=dict(
        status=dict(type="str", choices=["open", "resolved", "all"], default="open"),
        host=dict(type="str"),
        customer=dict(type="str"),
        case=dict(type="str"),
        history_days=dict(type="int", default=0),
        store=dict(_STORE),
    ),
)

SILENCE = dict(
    argument_spec=dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        host=dict(type="str"),
        rule=dict(type="str"),
        customer=dict(type="str"),
        duration=dict(type="str"),
        starts=dict(type="str"),
        ends=dict(type="str"),
        reason=dict(type="str"),
        id=dict(type="int"),
        catalogue=dict(type="path"),
        store=dict(_STORE),
    ),
)

OUTBOX = dict(
    argument_spec=dict(
        requeue=dict(type="list", elements="str"),
        drop=dict(type="list", elements="str"),
        reason=dict(type="str"),
        store=dict(_STORE),
    ),
    mutually_exclusive=[("requeue", "drop")],
    required_one_of=[("requeue", "drop")],
)
