#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: evaluate
short_description: Turn a host's health facts into alarms with priorities and response deadlines
version_added: 0.1.0
description:
  - Runs on the controller. Reads the host's C(imagicle_health) (collected by O(collect), or from O(facts_result),
    O(health) or the host's facts) and applies the rules catalogue to it; returns the alarms, also as the fact
    C(imagicle_alarms), and the host's eligibility for proactive support as C(imagicle_evaluation).
  - Each alarm has a priority (P1 to P4), a fingerprint that stays the same as long as the same condition
    holds, and a response deadline computed from the customer's plan and business calendar.
  - A host that could not be reached, whose health check failed, or whose facts are missing or of an
    unknown schema version gets one alarm, C(host_not_reporting), and nothing else.
  - The host's settings come from its inventory variables - C(imagicle_customer), C(imagicle_sla) (plan,
    timezone, holidays, calendars), C(imagicle_consent), C(imagicle_cloud_connected),
    C(imagicle_rules_catalogue), C(imagicle_rule_overrides), C(imagicle_rule_overrides_host), and for customer
    mail C(imagicle_contacts) (e-mail addresses) and C(imagicle_language) (V(en) or V(it)). Malformed settings fail
    the task with a message naming the variable and the key.
  - Records the host's disk and database space (each measured filesystem's C(used_percent) and C(total_bytes), the
    database's C(used_percent)) in the state store of the C(imagicle.proactive.cases) callback (C(IMAGICLE_STATE_STORE),
    else C([imagicle_cases] store) in ansible.cfg, else its default file), at O(detected_at), and reads back the last
    7 days; with that history the rules C(disk_space) and C(database_space) also fire when the trend predicts the space
    full within C(predict_warn_days) or C(predict_crit_days). Older history is kept as hourly, then daily means.
    In check mode the history is read, nothing is recorded.
  - A state store that cannot be opened, written or read does not fail the task; the host is evaluated on its facts
    alone and the task warns, naming the store and what to check.
  - The rules, their thresholds and default priorities are described in the collection guide R(Alarms,ansible_collections.imagicle.proactive.docsite.alarms).
requirements:
  - holidays (and python-dateutil) on the controller, for the public holidays of the business calendars
  - tzdata on the controller when the system has no timezone database
  - psycopg2 (the C(psycopg2-binary) package) on the controller, only for a PostgreSQL state store
author:
  - imagicle.proactive contributors (@imagicle-proactive)
extends_documentation_fragment:
  - imagicle.proactive.controller
attributes:
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
    support: full
options:
  facts_result:
    description:
      - The registered result of the M(imagicle.proactive.appsuite_facts) task. It tells an unreachable host
        (with C(ignore_unreachable)) or a failed check apart from a healthy one.
    type: dict
  health:
    description:
      - The C(imagicle_health) facts to evaluate, when not taken from O(facts_result) or the host's facts.
    type: dict
  collect:
    description:
      - Collect the facts first, in the same task, with M(imagicle.proactive.appsuite_facts), which runs on the host
        over the task's connection. Its result is evaluated as O(facts_result) would be, and returned as RV(facts).
      - The value is the base of the module's options (a profile - what every server installed the same way shares,
        the role passes C(imagicle_profile)). Over it go the host's own C(imagicle_<option>) inventory variables (for
        example C(imagicle_processes), C(imagicle_database)), a mapping merged key by key, recursively. An option set by
        neither is left to the module's default. A mapping option that is not a mapping fails the task naming the
        variable.
      - One task per host instead of two - less controller work per host, and the alarms of each host are ready
        (and its cases filed by the C(imagicle.proactive.cases) callback) as soon as that host answers, whatever the
        other hosts of the run do. The role C(imagicle.proactive.health_check) works this way.
      - A host that cannot be reached gives the alarm C(host_not_reporting); the task does not fail and is not
        reported unreachable. How long an unreachable host is waited for is the connection's timeout
        (C(ansible_ssh_timeout), C(timeout) in ansible.cfg).
      - Ignored when O(facts_result) or O(health) is given.
    type: dict
  collect_only:
    description:
      - With O(collect), only collect - return the facts as RV(facts) (and the host's fact C(imagicle_health)), with no
        alarm, no evaluation and nothing recorded in the state store; the cases callback files nothing for the task.
    type: bool
    default: false
  detected_at:
    description:
      - When the alarms are considered detected, ISO 8601 with a timezone. Defaults to now.
      - The metrics are recorded at this time, and the history the rules read (predicted space, unusual behaviour of
        processes) is read as of it.
    type: str
  file_cases:
    description:
      - Whether the C(imagicle.proactive.cases) callback files cases from this task's alarms (and resolves the
        host's cases that no longer fire). V(false) only looks, as the playbook C(imagicle.proactive.explain) does.
    type: bool
    default: true
notes:
  - Without consent (C(imagicle_consent=true)) or on the basic plan the alarms are still computed and shown,
    with C(eligible=false); the cases callback sends nothing about such a host.
seealso:
  - module: imagicle.proactive.appsuite_facts
"""

EXAMPLES = r"""
- name: Collect the health facts
  imagicle.proactive.appsuite_facts:
  register: facts
  ignore_unreachable: true
  failed_when: false

- name: Alarms and deadlines
  imagicle.proactive.evaluate:
    facts_result: "{{ facts }}"

- name: Show the P1 alarms
  ansible.builtin.debug:
    msg: "{{ imagicle_alarms | selectattr('priority', 'eq', 'P1') | map(attribute='summary') }}"
"""

RETURN = r"""
alarms:
  description: The alarms, most urgent first (also in the fact C(imagicle_alarms)).
  returned: always
  type: list
  elements: dict
  contains:
    rule:
      description: Rule id, for example V(disk_space) or V(voip_stack_crashed).
      type: str
    check:
      description:
        - The check of the rules catalogue that fired, for example V(cloud_unreachable) (see the collection guide
          R(Alarms,ansible_collections.imagicle.proactive.docsite.alarms)).
      type: str
    priority:
      description: P1 to P4.
      type: str
    subject:
      description: What the alarm is about on the host (a mount point, a process id, an application), or empty.
      type: str
    fingerprint:
      description: Stable id of the condition (customer, host, rule, subject).
      type: str
    summary:
      description: One line saying what is wrong, with the numbers.
      type: str
    evidence:
      description: The figures that triggered the alarm.
      type: dict
    due:
      description: Response deadline, ISO 8601 UTC.
      type: str
    response_target_minutes:
      description: The plan's response target for the priority, in (business) minutes.
      type: int
    page:
      description: Whether the plan pages the on-call engineer for this alarm (platinum P1).
      type: bool
    eligible:
      description: Whether the host is eligible for proactive cases.
      type: bool
    sustain:
      description:
        - Only for a rule with C(for_runs) or C(for_minutes) - V(runs) and V(minutes) its condition must hold before its
          case opens.
      type: dict
      returned: when the rule is sustained
    pending:
      description:
        - Only while the alarm of a sustained rule waits for its case - V(runs) seen in a row (this one included) of
          V(for_runs), V(minutes) held so far of V(for_minutes). No case, mail or page until then.
      type: dict
      returned: when the alarm is pending
  sample:
    - rule: disk_space
      priority: P3
      subject: /srv/appsuite
      summary: /srv/appsuite is 96.0 % full (2 MB free)
      due: "2026-11-30T11:50:00Z"
    - rule: disk_space
      priority: P4
      subject: /var/lib/recordings
      summary: "/var/lib/recordings is 70.0 % full (30720.0 MB free); predicted full on 2026-12-09 (in 10 days)"
      evidence:
        threshold: null
        prediction: {eta: "2026-12-09T05:40:00Z", hours_left: 240.0, slope_per_day: 3.0, quality: 1.0, points: 29}
evaluation:
  description: The host's customer, plan, eligibility (with reasons) and reporting state (also the fact C(imagicle_evaluation)).
  returned: always
  type: dict
  sample:
    customer: acme
    plan: gold
    reporting: true
    eligibility: {eligible: false, reasons: ["plan basic has no proactive support"], consent: true}
facts:
  description:
    - How M(imagicle.proactive.appsuite_facts) went when O(collect) ran it - its result without its facts (C(failed),
      C(unreachable), C(msg), C(warnings)). The facts are set as the host's fact C(imagicle_health).
  returned: when O(collect) is given
  type: dict
msg:
  description: The alarms as readable lines.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.imagicle.proactive.plugins.module_utils.argument_specs import EVALUATE


def main():
    """The options only: the task runs in the action plugin of the same name, on the controller."""
    module = AnsibleModule(supports_check_mode=True, **EVALUATE)
    module.fail_json(msg="imagicle.proactive.evaluate runs on the controller, in its action plugin; this module "
                         "only declares its options")


if __name__ == "__main__":
    main()
