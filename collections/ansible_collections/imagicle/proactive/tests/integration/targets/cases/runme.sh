#!/usr/bin/env bash
# The imagicle.proactive.cases callback on the local register: a case opened for a new alarm, left alone
# while it still fires, resolved when it clears, held back by a silence; an evaluation that only looks files
# nothing; a setting that cannot work ends the run with exit code 78. The table of each run and the
# register (read with case_info in check.yml) are asserted.
set -eux -o pipefail

# The callback and the modules share the state store of this target, never the user's.
export IMAGICLE_STATE_STORE="${OUTPUT_DIR}/cases.sqlite"
export IMAGICLE_CASES_BACKEND=local
export ANSIBLE_CALLBACKS_ENABLED="${ANSIBLE_CALLBACKS_ENABLED:+${ANSIBLE_CALLBACKS_ENABLED},}imagicle.proactive.cases"
# The scheduled job in short and its host, from setup_appsuite_health.
inventory=../setup_appsuite_health/inventory.yml
job_playbook=../setup_appsuite_health/job.yml
export ANSIBLE_NOCOLOR=1
rm -f "${IMAGICLE_STATE_STORE}"
out="${OUTPUT_DIR}/run.log"

# job HEALTH [ARGS...]: the scheduled job on facts HEALTH (healthy, disk_full, voip_down); its output in $out.
job() {
  local health=$1
  shift
  ansible-playbook -i "${inventory}" "${job_playbook}" -e "health_name=${health}" "$@" | tee "${out}"
}
# counted NAME NUMBER: the table of the last run counted NUMBER for NAME.
counted() {
  grep -qE "^ *(.* \| )?$1 $2( \||$)" "${out}"
}
# check OPEN RESOLVED RULES: the register holds OPEN open and RESOLVED resolved cases, of RULES (a JSON list).
check() {
  ansible-playbook -i "${inventory}" check.yml -e "{\"check_open\": $1, \"check_resolved\": $2, \"check_rules\": $3}"
}

job disk_full "$@"
counted opened 1
counted resolved 0

# The same condition at the next run: the case stays as it is, no second case.
job disk_full "$@"
counted opened 0
counted updated 0

# The disk is fine again: the case is resolved.
job healthy "$@"
counted opened 0
counted resolved 1

# Only looking (what playbooks/explain.yml does): no table, nothing filed.
job voip_down -e file_cases=false "$@"
if grep -q "IMAGICLE CASES" "${out}"; then exit 1; fi

# A silence of the host, made in the run, holds back its alarm (the VoIP stack down).
job voip_down -e "silence_reason='CHG-9 VoIP upgrade'" "$@"
counted opened 0
counted silenced 1

# The register: the disk case resolved, no case for the VoIP stack (looked at, then silenced).
check 0 1 '["disk_space"]'

# A backend without its URL: the run ends with exit code 78 and says which setting is missing.
set +e
IMAGICLE_CASES_BACKEND=rt ansible-playbook -i "${inventory}" "${job_playbook}" -e health_name=healthy "$@" >"${out}" 2>&1
rc=$?
set -e
cat "${out}"
[ "${rc}" -eq 78 ]
grep -q "rt_url" "${out}"
