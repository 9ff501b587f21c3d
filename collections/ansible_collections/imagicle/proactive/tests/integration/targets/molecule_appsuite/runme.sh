#!/usr/bin/env bash
# The molecule scenario appsuite (extensions/molecule/appsuite): the role health_check and the proactive
# check over SSH on two hosts of the project's test bed running the simulated AppSuite as an HA pair,
# against every fault of the simulator, then idempotence and verify.
set -eux -o pipefail

# ansible-test runs a copy of this target; the scenario is in the collection's own tree, whose
# collections directory ansible-test puts first on ANSIBLE_COLLECTIONS_PATH.
collection="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/imagicle/proactive"
test -f "${collection}/extensions/molecule/appsuite/molecule.yml"

# molecule runs ansible-playbook with its own configuration and inventory: the settings ansible-test makes
# for the playbooks of a target (its config file, no inventory, a placeholder interpreter, its copy of the
# ansible package on PYTHONPATH) must not reach them. Its junit callback stays: the scenario's tasks are
# reported with the other targets' (tests/output/junit).
unset ANSIBLE_CONFIG ANSIBLE_INVENTORY ANSIBLE_PYTHON_INTERPRETER ANSIBLE_LIBRARY ANSIBLE_HOST_PATTERN_MISMATCH \
  ANSIBLE_FORCE_HANDLERS PYTHONPATH _ANSIBLE_COVERAGE_CONFIG

cd "${collection}/extensions"
molecule test -s appsuite
