#!/usr/bin/env bash
# Runs the test suites of imagicle.proactive: ansible-test sanity, units and integration (the
# collection's targets, then the molecule scenario), pytest for the top-level tests (test bed,
# simulator, end to end), ansible-lint.
# Usage: scripts/test.sh [sanity|units|pytest|integration|molecule|lint ...]
#   (default: sanity units pytest integration lint; molecule alone runs the molecule scenario's target,
#   which integration runs too)
# Every suite runs even when an earlier one failed; the exit code is non-zero if any failed,
# and a suite that ran no test counts as failed, as does one that skipped a test (a skip for a
# missing package or service would hide a missing install step; IMAGICLE_TEST_ALLOW_SKIPS=1
# accepts skips, e.g. when not running as root).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
COLL=$ROOT/collections/ansible_collections/imagicle/proactive
export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
RESULTS="$ROOT/tests/output"
SKIPS=--no-skips
[ "${IMAGICLE_TEST_ALLOW_SKIPS:-0}" = 1 ] && SKIPS=
rm -rf "$RESULTS" && mkdir -p "$RESULTS"

suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(sanity units pytest integration lint)

run_sanity() {
  (cd "$COLL" && ansible-test sanity --local --python 3.11 --color no)
}
run_units() {
  (cd "$COLL" && rm -rf tests/output/junit && ansible-test units --local --python 3.11 --color no &&
     cp tests/output/junit/*.xml "$RESULTS/" 2>/dev/null; true) &&
  python scripts/junit_count.py --require-tests $SKIPS "$RESULTS"/python*.xml
}
# The top-level tests that do not use the test bed (playbooks run with a local connection, the
# collection built and imported, the inventories parsed, the benchmarks' reduced forms, the
# simulator and Alertmanager on free loopback ports) run beside the others, each group in its
# own pytest; each must run tests and both must pass.
# A file of a test-bed directory that needs no test bed (the AWX configuration, against a stand-in AWX
# on loopback) is named here by its path.
LOCAL_TESTS=(tests/playbooks tests/collection tests/inventory tests/bench tests/simulator tests/paging
             tests/awx/test_awx_configure.py)
# The files in those directories that use the test bed (the scale benchmark's reduced form): they
# run with the others, not beside them.
TESTBED_FILES=(tests/bench/test_bench_scale.py)
# The two pytest groups, each with its own JUnit report; each must run tests.
run_pytest_bed() {
  local ignore=() dir file
  for dir in "${LOCAL_TESTS[@]}"; do
    if printf '%s\n' "${TESTBED_FILES[@]}" | grep -q "^$dir/"; then
      for file in "$dir"/test_*.py; do
        [[ " ${TESTBED_FILES[*]} " == *" $file "* ]] || ignore+=(--ignore="$file")
      done
    else
      ignore+=(--ignore="$dir")
    fi
  done
  python -m pytest tests "${ignore[@]}" -p no:cacheprovider -q -rs --durations=25 --junitxml="$RESULTS/pytest.xml" &&
  python scripts/junit_count.py --require-tests $SKIPS "$RESULTS/pytest.xml"
}
run_pytest_local() {
  local local_ignore=() file
  for file in "${TESTBED_FILES[@]}"; do local_ignore+=(--ignore="$file"); done
  python -m pytest "${LOCAL_TESTS[@]}" "${local_ignore[@]}" -p no:cacheprovider -q -rs --durations=15 \
    --junitxml="$RESULTS/pytest-local.xml" &&
  python scripts/junit_count.py --require-tests $SKIPS "$RESULTS/pytest-local.xml"
}
run_pytest() {
  local local_rc bed_rc
  run_pytest_local >"$RESULTS/pytest-local.log" 2>&1 &
  local local_pid=$!
  run_pytest_bed
  bed_rc=$?
  wait "$local_pid"
  local_rc=$?
  echo "--- ${LOCAL_TESTS[*]} (run beside the others) ---"
  cat "$RESULTS/pytest-local.log"
  [ "$bed_rc" -eq 0 ] && [ "$local_rc" -eq 0 ]
}
# The collection's integration targets (tests/integration/targets) on this machine: evaluate, silence,
# case_info and the cases callback, each on a state store of its own (seconds); then the molecule
# scenario's target, marked unsupported and destructive (it drives the test bed as root, for minutes) so
# that ansible-test runs it only when asked. The tasks of each run are JUnit reports; a run fails when they
# hold no task (every target skipped). Their skips are tasks skipped by a condition, not tests missing
# an install step: not counted against the suite.
INTEGRATION_TARGETS=(evaluate silence case_info cases)
MOLECULE_TARGET=molecule_appsuite
integration_run() {  # NAME ANSIBLE-TEST-ARGS...: reports in $RESULTS/integration-NAME
  local name=$1 rc
  shift
  (cd "$COLL" && rm -rf tests/output/junit && ansible-test integration --local --python 3.11 --color no "$@")
  rc=$?
  rm -rf "$RESULTS/integration-$name" && mkdir -p "$RESULTS/integration-$name"
  cp "$COLL"/tests/output/junit/*.xml "$RESULTS/integration-$name/" 2>/dev/null
  [ "$rc" -eq 0 ] && python scripts/junit_count.py --require-tests "$RESULTS/integration-$name"/*.xml
}
run_integration() {
  local targets_rc molecule_rc
  integration_run targets "${INTEGRATION_TARGETS[@]}"
  targets_rc=$?
  run_molecule
  molecule_rc=$?
  [ "$targets_rc" -eq 0 ] && [ "$molecule_rc" -eq 0 ]
}
run_molecule() {
  integration_run molecule --allow-unsupported --allow-destructive "$MOLECULE_TARGET"
}
run_lint() {
  # From the repository root (the example inventory's Vault files are decrypted with the example's
  # own password), then from the collection's directory as its users have it: neither sees the
  # collections installed in the venv (awx.awx is mocked in .ansible-lint), so a clean clone lints
  # before scripts/setup.sh too. From the collection's directory ansible-lint installs the
  # collection into its .ansible/ (ignored by git and by the build); no schema download.
  ANSIBLE_VAULT_PASSWORD_FILE="$ROOT/inventories/example/vault-password.example" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
    ansible-lint --profile production --offline &&
  (cd "$COLL" && env -u ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false ANSIBLE_LINT_SKIP_SCHEMA_UPDATE=1 \
    ansible-lint --profile production)
}

declare -A status
failed=0
record() {  # SUITE RC SECONDS
  if [ "$2" -eq 0 ]; then status[$1]="passed"; else status[$1]="FAILED"; failed=$((failed+1)); fi
  echo "=== $1: ${status[$1]} ($3) ==="
}
wanted() { [[ " ${suites[*]} " == *" $1 "* ]]; }
if wanted pytest && [ "${IMAGICLE_TEST_SERIAL:-0}" != 1 ]; then
  # Two lanes, so that the whole run stays short. The test bed (its hosts, Request Tracker, the
  # AppSuite simulators) serves one suite at a time: the test-bed pytest group, then the molecule
  # scenario. Beside them, in the background lane, what needs no test bed: the other pytest group,
  # sanity, lint and the collection's integration targets (local connection), one after the other;
  # its output is shown when the test-bed group ends. The units run first and alone: some of them
  # measure CPU percentages, which a loaded machine skews.
  if wanted units; then
    echo "=== units ==="; start=$SECONDS; run_units; record units $? "$((SECONDS-start)) s"
  fi
  lane() {
    local suite rc start
    for suite in "$@"; do
      echo "=== $suite (background lane) ==="
      start=$SECONDS
      case $suite in
        pytest) run_pytest_local ;;
        integration) integration_run targets "${INTEGRATION_TARGETS[@]}" ;;
        *) "run_$suite" ;;
      esac
      rc=$?
      echo "$rc $((SECONDS-start))" >"$RESULTS/lane-$suite.status"
      echo "=== $suite (background lane): rc $rc in $((SECONDS-start)) s ==="
    done
  }
  background=(pytest)
  for suite in sanity lint integration; do wanted "$suite" && background+=("$suite"); done
  lane "${background[@]}" >"$RESULTS/lane.log" 2>&1 &
  lane_pid=$!
  echo "=== pytest: the test-bed group (beside it: ${background[*]}; their output follows it) ==="
  start=$SECONDS
  run_pytest_bed
  bed_rc=$?
  bed_seconds=$((SECONDS-start))
  wait "$lane_pid"
  cat "$RESULTS/lane.log"
  lane_rc() { local rc=1 seconds=0; [ -f "$RESULTS/lane-$1.status" ] && read -r rc seconds <"$RESULTS/lane-$1.status"; echo "$rc $seconds"; }
  read -r local_rc local_seconds < <(lane_rc pytest)
  record pytest $(( bed_rc != 0 || local_rc != 0 )) "$bed_seconds s the test-bed group, $local_seconds s the other beside it"
  for suite in sanity lint; do
    wanted "$suite" || continue
    read -r rc seconds < <(lane_rc "$suite")
    record "$suite" "$rc" "$seconds s, beside the test-bed group"
  done
  if wanted integration; then
    read -r targets_rc targets_seconds < <(lane_rc integration)
    echo "=== integration: the molecule scenario (on the test bed) ==="
    start=$SECONDS
    run_molecule
    molecule_rc=$?
    record integration $(( targets_rc != 0 || molecule_rc != 0 )) "$targets_seconds s the targets beside the test-bed group, $((SECONDS-start)) s molecule"
  fi
  for suite in "${suites[@]}"; do
    case $suite in units|pytest|sanity|lint|integration) ;; *)
      echo "=== $suite ==="; start=$SECONDS; "run_$suite"; record "$suite" $? "$((SECONDS-start)) s" ;;
    esac
  done
else
  for suite in "${suites[@]}"; do
    echo "=== $suite ==="
    start=$SECONDS
    "run_$suite"
    record "$suite" $? "$((SECONDS-start)) s"
  done
fi

echo
echo "Suites:"
for suite in "${suites[@]}"; do printf '  %-11s %s\n' "$suite" "${status[$suite]}"; done
echo "  ($(( ${#suites[@]} - failed )) of ${#suites[@]} suites passed)"
shopt -s nullglob
python scripts/junit_count.py "$RESULTS"/*.xml "$RESULTS"/integration-*/*.xml || true
exit $(( failed > 0 ))
