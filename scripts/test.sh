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
LOCAL_TESTS=(tests/playbooks tests/collection tests/inventory tests/bench tests/simulator tests/paging)
# The files in those directories that use the test bed (the scale benchmark's reduced form): they
# run with the others, not beside them.
TESTBED_FILES=(tests/bench/test_bench_scale.py)
run_pytest() {
  local ignore=() local_ignore=() dir file local_pid local_rc main_rc
  for file in "${TESTBED_FILES[@]}"; do local_ignore+=(--ignore="$file"); done
  for dir in "${LOCAL_TESTS[@]}"; do
    if printf '%s\n' "${TESTBED_FILES[@]}" | grep -q "^$dir/"; then
      for file in "$dir"/test_*.py; do
        [[ " ${TESTBED_FILES[*]} " == *" $file "* ]] || ignore+=(--ignore="$file")
      done
    else
      ignore+=(--ignore="$dir")
    fi
  done
  python -m pytest "${LOCAL_TESTS[@]}" "${local_ignore[@]}" -p no:cacheprovider -q -rs --durations=15 \
    --junitxml="$RESULTS/pytest-local.xml" >"$RESULTS/pytest-local.log" 2>&1 &
  local_pid=$!
  python -m pytest tests "${ignore[@]}" -p no:cacheprovider -q -rs --durations=25 --junitxml="$RESULTS/pytest.xml"
  main_rc=$?
  wait "$local_pid"
  local_rc=$?
  echo "--- ${LOCAL_TESTS[*]} (run beside the others) ---"
  cat "$RESULTS/pytest-local.log"
  [ "$main_rc" -eq 0 ] && [ "$local_rc" -eq 0 ] &&
  python scripts/junit_count.py --require-tests $SKIPS "$RESULTS/pytest.xml" &&
  python scripts/junit_count.py --require-tests $SKIPS "$RESULTS/pytest-local.xml"
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
for suite in "${suites[@]}"; do
  echo "=== $suite ==="
  start=$SECONDS
  if "run_$suite"; then status[$suite]="passed"; else status[$suite]="FAILED"; failed=$((failed+1)); fi
  echo "=== $suite: ${status[$suite]} in $((SECONDS-start)) s ==="
done

echo
echo "Suites:"
for suite in "${suites[@]}"; do printf '  %-11s %s\n' "$suite" "${status[$suite]}"; done
echo "  ($(( ${#suites[@]} - failed )) of ${#suites[@]} suites passed)"
shopt -s nullglob
python scripts/junit_count.py "$RESULTS"/*.xml "$RESULTS"/integration-*/*.xml || true
exit $(( failed > 0 ))
