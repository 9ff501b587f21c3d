#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: case_info
short_description: List the support cases, or show one, with the silences and the outbox
version_added: 0.1.0
description:
  - Runs on the controller and reads the state store of the C(imagicle.proactive.cases) callback - the case map
    (one case per alarm fingerprint, in whichever backend), the local case register, the silences and the outbox
    of actions sent, waiting for retry or rejected.
  - With O(case), one case in full - its record, its body and comments when it is in the local register, and each
    action sent or queued for it.
requirements:
  - psycopg2 (the C(psycopg2-binary) package) on the controller, only for a PostgreSQL state store
author:
  - imagicle.proactive contributors (@imagicle-proactive)
extends_documentation_fragment:
  - imagicle.proactive.controller
  - imagicle.proactive.state_store
options:
  status:
    description: Which cases to list.
    type: str
    choices: [open, resolved, all]
    default: open
  host:
    description: Only the cases (and silences) of this host.
    type: str
  customer:
    description: Only the cases (and silences) of this customer.
    type: str
  case:
    description: One case to show - its alarm fingerprint (or its first six or more characters) or its reference in the
      backend (for example V(LOCAL-3) or an RT ticket number).
    type: str
  history_days:
    description:
      - Also show the metric history of the host (of O(host), or of the host of O(case)) over this many days - every
        value the C(imagicle.proactive.evaluate) action recorded for the rules that read history (disk and database
        space), with its range and the Theil-Sen trend through it, as the space prediction fits it.
      - V(0) shows none. The store keeps raw values for 7 days, hourly means to 56 days and daily means to 400 days.
    type: int
    default: 0
seealso:
  - module: imagicle.proactive.silence
  - module: imagicle.proactive.outbox
"""

EXAMPLES = r"""
- name: Open cases of ias-a
  imagicle.proactive.case_info:
    host: ias-a
  register: open_cases

- name: Print them
  ansible.builtin.debug:
    msg: "{{ open_cases.lines }}"

- name: One case in full
  imagicle.proactive.case_info:
    case: LOCAL-3
  register: one_case

- name: The cases of ias-a and its metric history of the last week
  imagicle.proactive.case_info:
    host: ias-a
    history_days: 7
  register: ias_a_history
"""

RETURN = r"""
cases:
  description: The cases, oldest first.
  returned: success
  type: list
  elements: dict
  sample:
    - fingerprint: 4b1f0c2a9e7d3f10
      customer: acme
      host: ias-a
      rule: disk_space
      priority: P3
      status: open
      backend: local
      case_ref: LOCAL-3
      title: "ias-a: Disk space running low (/srv/appsuite)"
      opened_at: "2026-11-27T09:10:02Z"
case:
  description: The case asked for with O(case).
  returned: when case is given
  type: dict
local:
  description: Body, status and comments of the case in the local register.
  returned: when case is given and the case is in the local register
  type: dict
actions:
  description: The outbox actions of the case asked for (open, update, resolve, reopen, page, mail) with their status.
  returned: when case is given
  type: list
  elements: dict
silences:
  description: Silences in force or to come (of the host or customer asked for, when given).
  returned: success
  type: list
  elements: dict
outbox:
  description:
    - How many outbox actions are undelivered (C(queued)), C(sent) and C(dropped), with every undelivered action (its
      key, kind, backend, failed attempts, whether the backend refused it, the last error, since when it waits and its
      next attempt) and every dropped one with the reason. M(imagicle.proactive.outbox) requeues or drops them.
  returned: success
  type: dict
  sample:
    queued: 1
    sent: 12
    dropped: 0
    undelivered_items:
      - {key: "4b1f0c2a9e7d3f10aa11-1:open", kind: open, backend: rt, attempts: 2, refused: true,
         error: "Request Tracker POST ...: HTTP 401 ...", since: "2026-11-27T09:10:02Z", next_attempt_at: "2026-11-27T09:16:02Z"}
    dropped_items: []
history:
  description:
    - The metric history asked for with O(history_days) - for each metric its values (C(points), at most 100 - hourly or
      daily means when there are more), their number, first and last time, minimum, maximum, last value, and the trend
      (C(slope_per_day), C(quality) from 0 to 1; null with fewer than four values).
    - C(conditions) - what the case manager remembers of each alarm condition of the host - whether its case follows
      it as C(firing), the C(streak) of runs of a sustained rule not yet filed, its recent C(changes) of state and
      C(flapping_since).
  returned: when history_days is above 0
  type: dict
  sample:
    days: 7
    metrics:
      "disk:/srv/appsuite:used_percent":
        count: 168
        first_at: "2026-11-20T09:00:00Z"
        last_at: "2026-11-27T09:00:00Z"
        last: 70.0
        min: 49.0
        max: 70.0
        slope_per_day: 3.0
        quality: 1.0
        points: [["2026-11-20T09:00:00Z", 49.0], ["2026-11-20T10:00:00Z", 49.13]]
    conditions:
      - fingerprint: 4b1f0c2a9e7d3f10aa11
        host: ias-a
        rule: cloud_connection_failed
        subject: ""
        firing: true
        streak: 0
        changes: ["2026-11-27T08:40:00Z", "2026-11-27T08:45:00Z", "2026-11-27T08:50:00Z", "2026-11-27T08:55:00Z"]
        flapping_since: "2026-11-27T08:55:00Z"
store:
  description: The state store read (without password).
  returned: success
  type: str
lines:
  description: All of the above as readable lines.
  returned: success
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.imagicle.proactive.plugins.module_utils.argument_specs import CASE_INFO


def main():
    """The options only: the task runs in the action plugin of the same name, on the controller."""
    module = AnsibleModule(supports_check_mode=True, **CASE_INFO)
    module.fail_json(msg="imagicle.proactive.case_info runs on the controller, in its action plugin; this module "
                         "only declares its options")


if __name__ == "__main__":
    main()
