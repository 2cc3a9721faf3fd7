#!/usr/bin/env bash
# Runs the whole test suite (installing what is missing first). CI runs exactly this.
# Tests are built in release mode with testing enabled (numeric tests such as PPO learning on
# CartPole need optimised code), in their own build folder so that they do not disturb the
# release build of scripts/quickstart.sh.
#
# The Open Bandit Dataset sample the OPE and persona tests use is fetched into data/obd when it
# is missing (scripts/get-obd.sh, from PyPI). OPTIMA_REQUIRE_DATA=1 makes a test whose data is
# missing fail instead of skip, so that no test silently stops running. The closing line counts
# passed, failed and skipped tests; any skip is listed.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/get-obd.sh
export OPTIMA_REQUIRE_DATA=1
flags=(-c release -Xswiftc -enable-testing --scratch-path .build-test)
swift build "${flags[@]}" --build-tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test "${flags[@]}" --skip-build --disable-swift-testing 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# The closing line counts test cases by their outcome lines ("Test Case '...' passed|failed|skipped"):
# XCTest's own total counts failed assertions, not failed tests, and puts skips in a clause of
# its own ("Executed 190 tests, with 2 tests skipped and 1 failure ...").
if grep -qE "^[[:space:]]*Executed [0-9]+ tests?, with " "$log"; then
  passed=$(grep -cE "^Test Case '.*' passed \(" "$log" || true)
  failed=$(grep -cE "^Test Case '.*' failed \(" "$log" || true)
  skipped=$(grep -cE "^Test Case '.*' skipped \(" "$log" || true)
  echo "tests: $passed passed, $failed failed, $skipped skipped"
  if [ "$failed" -gt 0 ]; then
    echo "failed tests:"
    grep -E "^Test Case '.*' failed \(" "$log" | sed -E "s/^Test Case '([^']*)' failed.*/  \1/"
  fi
  if [ "$skipped" -gt 0 ]; then
    echo "skipped tests:"
    grep -E "^Test Case '.*' skipped \(" "$log" | sed -E "s/^Test Case '([^']*)' skipped.*/  \1/"
  fi
else
  echo "tests: no XCTest summary found (the test binary did not finish)"
  status=1
fi
# The cluster, notebook, server and dashboard checks run the same binary: a one-node Slurm cluster
# running a sweep as a job array, exported notebooks executed by Jupyter, `serve` checked by
# Schemathesis against its OpenAPI document, the dashboard's pages loaded in headless Chromium
# (screenshots in test-artifacts/dashboard/), and exported ONNX policies checked by onnx.checker and
# ONNX Runtime. Each skips, saying why, only when its packages cannot be installed.
bin=$(swift build "${flags[@]}" --show-bin-path)/optima-gym
./scripts/slurm-test.sh "$bin" || status=1
./scripts/notebook-test.sh "$bin" || status=1
./scripts/server-test.sh "$bin" || status=1
./scripts/dashboard-test.sh "$bin" || status=1
./scripts/onnx-test.sh "$bin" || status=1
exit "$status"
