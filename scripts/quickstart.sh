#!/usr/bin/env bash
# One command for a fresh machine: install what is missing, build in release mode, and run the
# main job on the shipped baseline scenario. Extra arguments go to `optima-gym run`
# (e.g. --seed 7 --threads 1 --out reports/mine).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build -c release --product optima-gym
exec .build/release/optima-gym run scenarios/baseline.yaml "$@"
