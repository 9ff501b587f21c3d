#!/usr/bin/env bash
# Brings the demo estate up or down: two test-bed hosts (network namespaces with their own
# sshd, disk and processes) running the simulated AppSuite as an HA pair.
# Usage: scripts/demo.sh up|down|status      (needs root: it creates network namespaces)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$PWD/ansible.cfg"
STATE=${IMAGICLE_TESTBED_STATE_DIR:-/var/tmp/imagicle-testbed}
export IMAGICLE_TESTBED_STATE_DIR=$STATE

if [ "$(id -u)" != 0 ]; then
  echo "demo: the test bed creates network namespaces and loop disks; run this as root." >&2
  exit 1
fi

case "${1:-up}" in
  up)
    python3 tests/testbed/testbed.py up --hosts 2 --state-dir "$STATE"
    ansible-playbook -i inventories/demo playbooks/simulator.yml
    ;;
  down)
    if [ -f "$STATE/inventory.yml" ]; then
      ansible-playbook -i inventories/demo playbooks/simulator.yml -e sim_action=stop || true
    fi
    python3 tests/testbed/testbed.py down --state-dir "$STATE"
    ;;
  status)
    python3 tests/testbed/testbed.py status --state-dir "$STATE"
    ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
