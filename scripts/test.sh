#!/usr/bin/env bash
# Runs the whole test suite (installing what is missing first). CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build --build-tests
swift test --skip-build
