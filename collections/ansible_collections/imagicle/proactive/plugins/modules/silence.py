#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: silence
short_description: Silence a host, a rule or a customer for a maintenance window
version_added: 0.1.0
description:
  - Runs on the controller and writes to the state store of the M(imagicle.proactive.case_info) module and the
    C(imagicle.proactive.cases) callback.
  - While a silence is in force, the alarms it matches open, reopen, update, page and mail nothing. A case
    already open stays open (it is neither updated nor resolved while its alarm still fires), and a condition
    that clears is resolved as usual. When the window ends, an alarm that still fires opens its case at the next run.
  - A silence matches by O(customer), O(host) and O(rule); the ones not given match any value, and at least one
    must be given.
  - Running the same request again (same customer, host, rule and reason) does not stack silences; it moves the
    end of the one in force or to come.
requirements:
  - psycopg2 (the C(psycopg2-binary) package) on the controller, only for a PostgreSQL state store
author:
  - imagicle.proactive contributors (@imagicle-proactive)
extends_documentation_fragment:
  - imagicle.proactive.controller
  - imagicle.proactive.state_store
options:
  state:
    description: V(present) adds (or extends) a silence; V(absent) lifts one, by O(id) or by customer, host and rule.
    type: str
    choices: [present, absent]
    default: present
  host:
    description: The inventory name of the host to silence.
    type: str
  rule:
    description: The rule to silence (for example V(disk_space), V(host_not_reporting)); one of the catalogue's rules.
    type: str
  customer:
    description: The customer (C(imagicle_customer)) to silence.
    type: str
  duration:
    description:
      - How long the window lasts from O(starts), for example V(90m), V(2h), V(1h30m), V(3d); a bare number is minutes.
      - Give O(duration) or O(ends). At most 31 days.
    type: str
  starts:
    description: When the window starts, ISO 8601 with a timezone. Defaults to now.
    type: str
  ends:
    description: When the window ends, ISO 8601 with a timezone, instead of O(duration).
    type: str
  reason:
    description: The change or maintenance the window is for. Required with O(state=present).
    type: str
  id:
    description: The number of the silence to lift, with O(state=absent).
    type: int
  catalogue:
    description: A rules catalogue file whose rules O(rule) may name, when the hosts use one instead of the default.
    type: path
notes:
  - The silences in force are part of the output of M(imagicle.proactive.case_info) and of the playbook C(imagicle.proactive.silence).
seealso:
  - module: imagicle.proactive.case_info
"""

EXAMPLES = r"""
- name: Silence ias-a for tonight's upgrade
  imagicle.proactive.silence:
    host: ias-a
    duration: 3h
    reason: CHG-1042 Winter 2026 upgrade

- name: Silence the disk rule of one customer until Monday morning
  imagicle.proactive.silence:
    customer: acme
    rule: disk_space
    ends: "2026-11-30T08:00:00+01:00"
    reason: archive migration

- name: Lift silence number 3
  imagicle.proactive.silence:
    state: absent
    id: 3
"""

RETURN = r"""
silence:
  description: The silence added or extended (O(state=present)).
  returned: when state is present
  type: dict
  sample: {id: 3, host: ias-a, rule: null, customer: null, starts_at: "2026-11-27T21:00:00Z",
           ends_at: "2026-11-28T00:00:00Z", reason: CHG-1042 Winter 2026 upgrade, created_by: ops, lifted_at: null}
lifted:
  description: The silences lifted (O(state=absent)).
  returned: when state is absent
  type: list
  elements: dict
silences:
  description: Every silence in force or to come, after the change.
  returned: success
  type: list
  elements: dict
msg:
  description: What was done, in one line.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.imagicle.proactive.plugins.module_utils.argument_specs import SILENCE


def main():
    """The options only: the task runs in the action plugin of the same name, on the controller."""
    module = AnsibleModule(supports_check_mode=True, **SILENCE)
    module.fail_json(msg="imagicle.proactive.silence runs on the controller, in its action plugin; this module "
                         "only declares its options")


if __name__ == "__main__":
    main()
