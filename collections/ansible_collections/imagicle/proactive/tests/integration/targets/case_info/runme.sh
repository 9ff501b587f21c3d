#!/usr/bin/env bash
# imagicle.proactive.case_info reads back what the cases callback filed into the local register: a first
# run evaluates a host with a full disk and the callback files its case at the end of the run; a second
# playbook reads the case, its actions and the host's metric history, and asserts on them.
set -eux -o pipefail

# The callback and the modules share the state store of this target, never the user's.
export IMAGICLE_STATE_STORE="${OUTPUT_DIR}/case_info.sqlite"
export IMAGICLE_CASES_BACKEND=local
export ANSIBLE_CALLBACKS_ENABLED="${ANSIBLE_CALLBACKS_ENABLED:+${ANSIBLE_CALLBACKS_ENABLED},}imagicle.proactive.cases"
# The scheduled job in short and its host, from setup_appsuite_health.
inventory=../setup_appsuite_health/inventory.yml
job_playbook=../setup_appsuite_health/job.yml
rm -f "${IMAGICLE_STATE_STORE}"

ansible-playbook -i "${inventory}" "${job_playbook}" -e health_name=disk_full "$@"
ansible-playbook -i "${inventory}" read_back.yml "$@"
