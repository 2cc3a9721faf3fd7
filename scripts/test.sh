#!/usr/bin/env bash
# Runs the whole test suite (installing what is missing first). CI runs exactly this.
# Tests are built in release mode with testing enabled (numeric tests such as PPO learning on
# CartPole need optimised code), in their own build folder so that they do not disturb the
# release build of scripts/quickstart.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
flags=(-c release -Xswiftc -enable-testing --scratch-path .build-test)
swift build "${flags[@]}" --build-tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test "${flags[@]}" --skip-build --disable-swift-testing 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# A plain closing line: the XCTest totals.
total=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -1 | sed -E 's/.*Executed ([0-9]+) tests?, with ([0-9]+) failures?.*/\1 \2/')
if [ -n "$total" ]; then
  set -- $total
  echo "tests: $(( $1 - $2 )) passed, $2 failed"
fi
# The cluster and notebook checks run the same binary: a one-node Slurm cluster running a sweep
# as a job array, and exported notebooks executed by Jupyter. Each skips, saying why, only when
# its packages cannot be installed.
bin=$(swift build "${flags[@]}" --show-bin-path)/optima-gym
./scripts/slurm-test.sh "$bin" || status=1
./scripts/notebook-test.sh "$bin" || status=1
exit "$status"
