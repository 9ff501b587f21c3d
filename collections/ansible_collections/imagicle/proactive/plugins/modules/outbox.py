#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: outbox
short_description: Requeue or drop undelivered actions of the support cases outbox
version_added: 0.1.0
description:
  - Runs on the controller and changes the outbox of the state store of the C(imagicle.proactive.cases) callback, where
    every action (open, update, resolve, reopen, comment, page, page clear, mail) waits until its backend accepts it.
  - An action that cannot be delivered is never forgotten - it stays queued with the reason and is retried with backoff,
    and the runs report it (and fail once it waits too long). After fixing the cause (a rotated token, a queue name, a
    mail server), O(requeue) makes it due at the next run instead of after its backoff.
  - O(drop) decides, with a O(reason), that actions are not to be delivered (for example a ticket filed by hand).
    Dropping the C(open) of a case forgets the case and drops what else waits for it; if its alarm still fires, the next
    run opens a new case, so silence the alarm first (M(imagicle.proactive.silence)) when that is not wanted.
  - M(imagicle.proactive.case_info) lists the undelivered actions with their keys.
requirements:
  - psycopg2 (the C(psycopg2-binary) package) on the controller, only for a PostgreSQL state store
author:
  - imagicle.proactive contributors (@imagicle-proactive)
extends_documentation_fragment:
  - imagicle.proactive.controller
  - imagicle.proactive.state_store
options:
  requeue:
    description: Keys of undelivered (or dropped) actions to try at the next run, or V(all) for every undelivered one.
    type: list
    elements: str
  drop:
    description: Keys of undelivered actions not to deliver, or V(all). Needs O(reason).
    type: list
    elements: str
  reason:
    description: Why the actions are dropped; kept with them.
    type: str
notes:
  - Give O(requeue) or O(drop), not both.
seealso:
  - module: imagicle.proactive.case_info
  - module: imagicle.proactive.silence
"""

EXAMPLES = r"""
- name: The RT token was rotated and fixed - try every undelivered action now
  imagicle.proactive.outbox:
    requeue: all

- name: A case was filed by hand - do not file it again
  imagicle.proactive.outbox:
    drop:
      - "4b1f0c2a9e7d3f10aa11-1:open"
    reason: filed by hand as RT#4711
"""

RETURN = r"""
keys:
  description: The keys of the actions requeued or dropped.
  returned: success
  type: list
  elements: str
forgotten_cases:
  description: The fingerprints of the cases forgotten because their open was dropped.
  returned: when drop is given
  type: list
  elements: str
outbox:
  description: The outbox after the change, as M(imagicle.proactive.case_info) returns it.
  returned: success
  type: dict
msg:
  description: What was done, in one line.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.imagicle.proactive.plugins.module_utils.argument_specs import OUTBOX


def main():
    """The options only: the task runs in the action plugin of the same name, on the controller."""
    module = AnsibleModule(supports_check_mode=True, **OUTBOX)
    module.fail_json(msg="imagicle.proactive.outbox runs on the controller, in its action plugin; this module "
                         "only declares its options")


if __name__ == "__main__":
    main()
