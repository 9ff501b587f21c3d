#!/usr/bin/env bash
# Brings the demo estate up or down: two test-bed hosts (network namespaces with their own
# sshd, disk and processes) running the simulated AppSuite as an HA pair.
# Usage: scripts/demo.sh up|tour|down|status      (needs root: it creates network namespaces)
#   tour: a healthy check, then two faults (VoIP stack crash on ias-a, disk close to saturation on
#   ias-b), the check again with its alarms and the cases it opens, and what to try next.
# The demo's cases are kept in .demo/state.sqlite (IMAGICLE_STATE_STORE), a fresh one at each `up`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$PWD/ansible.cfg"
STATE=${IMAGICLE_TESTBED_STATE_DIR:-/var/tmp/imagicle-testbed}
export IMAGICLE_TESTBED_STATE_DIR=$STATE
export IMAGICLE_STATE_STORE=${IMAGICLE_STATE_STORE:-$PWD/.demo/state.sqlite}

if [ "$(id -u)" != 0 ]; then
  echo "demo: the test bed creates network namespaces and loop disks; run this as root." >&2
  exit 1
fi

case "${1:-up}" in
  up)
    python3 tests/testbed/testbed.py up --hosts 2 --state-dir "$STATE"
    ansible-playbook -i inventories/demo playbooks/simulator.yml
    ansible-playbook -i inventories/demo playbooks/simulator.yml -e sim_action=clear -e 'sim_args="all"' >/dev/null
    rm -f "$IMAGICLE_STATE_STORE" "$IMAGICLE_STATE_STORE-wal" "$IMAGICLE_STATE_STORE-shm"
    ;;
  tour)
    banner() { printf '\n==== %s ====\n' "$*"; }
    banner "1/4 The proactive check on the healthy estate (ias-a, ias-b: customer acme, plan gold)"
    ansible-playbook -i inventories/demo playbooks/proactive_check.yml
    banner "2/4 Two faults: the VoIP stack crashes on ias-a, the disk of ias-b fills up (about 96 % used)"
    ansible-playbook -i inventories/demo playbooks/simulator.yml -l ias-a -e sim_action=fault -e 'sim_args="crash-voip"' >/dev/null
    ansible-playbook -i inventories/demo playbooks/simulator.yml -l ias-b -e sim_action=fault -e 'sim_args="fill-disk 91"' >/dev/null
    banner "3/4 The check again: alarms with priorities and deadlines, and the cases opened"
    ansible-playbook -i inventories/demo playbooks/proactive_check.yml
    banner "4/4 The cases in the local register (playbooks/cases.yml)"
    ansible-playbook -i inventories/demo playbooks/cases.yml
    cat <<'NEXT'

Next (the demo's cases are in .demo/state.sqlite; these make targets use it):
  make explain HOST=ias-a                  why each alarm of ias-a fires: evidence, deadline, its case
  make cases CASE=LOCAL-1                  one case in full: body, comments, what was sent
  make clear HOST=ias-b && make check      the disk of ias-b back to normal: its case is resolved
  make fault HOST=ias-a FAULT="occupy ivr 4"               another fault (tests/simulator/README.md)
  make silence HOST=ias-a FOR=2h REASON="CHG-1 upgrade"    a maintenance window
  make demo-down                           stop the simulator and remove the test bed
Docs: README.md, docs/cases.md, docs/alarms.md, docs/sla.md
NEXT
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
    echo "usage: $0 up|tour|down|status" >&2
    exit 2
    ;;
esac
