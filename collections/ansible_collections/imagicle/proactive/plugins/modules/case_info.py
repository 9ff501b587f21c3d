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
