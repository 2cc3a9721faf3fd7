#!/usr/bin/env bash
# Executes exported notebooks for real: makes a small run report and a small sweep report, exports
# each with `optima-gym export notebook`, and runs the notebooks with `jupyter nbconvert --execute`
# (jupyter/nbconvert, ipykernel, pandas and matplotlib from PyPI, in a virtualenv under .build-test).
# When they cannot be installed it prints why and exits 0 (skipped).
# Usage: scripts/notebook-test.sh [path/to/optima-gym]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${1:-$root/.build/release/optima-gym}
[ -x "$bin" ] || { echo "notebook-test: $bin not found" >&2; exit 1; }
venv=${OPTIMA_NOTEBOOK_VENV:-$root/.build-test/notebook-venv}
if [ ! -x "$venv/bin/jupyter" ]; then
  echo "notebook-test: installing nbconvert, ipykernel, pandas and matplotlib into $venv"
  if ! { command -v python3 >/dev/null && { python3 -m venv "$venv" >/dev/null 2>&1 || { apt-get install -y -qq python3-venv >/dev/null 2>&1 && python3 -m venv "$venv"; }; } \
         && "$venv/bin/pip" install -q --disable-pip-version-check nbconvert ipykernel pandas matplotlib >/dev/null 2>&1; }; then
    echo "notebook-test: SKIPPED: cannot install nbconvert/ipykernel/pandas/matplotlib from PyPI (no python3-venv or no network)"
    rm -rf "$venv"
    exit 0
  fi
fi
work=$(mktemp -d /tmp/optima-notebook.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/run.yaml" <<EOF
name: nb_run
seed: 3
population: {size: 150}
training: {episodes: 600, curve_window: 200}
evaluation: {episodes: 600, bootstrap_samples: 50}
agents: [random, epsilon_greedy]
EOF
cat > "$work/sweep.yaml" <<EOF
name: nb_sweep
base: $root/scenarios/small_town.yaml
set: {training.episodes: 300, evaluation.episodes: 300, training.curve_window: 100, evaluation.bootstrap_samples: 50}
parameters:
  pairing.daily_exposure_budget: [1, 2, 3]
seeds: [1, 2]
EOF
"$bin" run "$work/run.yaml" --out "$work/run" --quiet >/dev/null
"$bin" sweep "$work/sweep.yaml" --out "$work/sweep" --quiet >/dev/null
status=0
for r in run sweep; do
  "$bin" export notebook "$work/$r" --out "$work/notebooks" >/dev/null
  if "$venv/bin/jupyter" nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 \
       --output "$work/notebooks/$r.executed.ipynb" "$work/notebooks/$r.ipynb" >"$work/$r.log" 2>&1; then
    images=$(grep -c '"image/png"' "$work/notebooks/$r.executed.ipynb" || true)
    echo "notebook-test: $r report notebook executed ($images charts drawn)"
    [ "$images" -ge 1 ] || { echo "notebook-test: FAILED: the $r notebook drew no chart" >&2; status=1; }
  else
    echo "notebook-test: FAILED: the $r report notebook did not execute" >&2; tail -30 "$work/$r.log" >&2; status=1
  fi
done
exit $status
