#!/usr/bin/env bash
# One command for a fresh machine: install what is missing, build in release mode, and run the
# main job on the shipped baseline scenario. Extra arguments go to `optima-gym run`
# (e.g. --seed 7 --threads 1 --out reports/mine).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build -c release --product optima-gym
# The baseline's release gate holds the blueprint's targets, which the shipped agents miss (the
# report lists which): `optima-gym run` then exits 1, its way of failing a release. The job itself
# ran, so quickstart says so and exits 0; any other failure keeps its exit code.
set +e
.build/release/optima-gym run scenarios/baseline.yaml "$@"
status=$?
set -e
if [ "$status" -eq 1 ]; then
  echo "quickstart: the run finished and its release gate FAILED (optima-gym run exits 1): the shipped agents miss blueprint targets; report.md says which." >&2
  exit 0
fi
exit "$status"
