#!/usr/bin/env bash
# Checks `optima-gym export onnx` with ONNX's own tools (from PyPI, in a virtualenv under
# .build-test): trains two small PPO policies (the default shared action head with tanh, and a
# normalised, one-network ReLU policy without exploration) and a discrete CQL policy from logged
# journeys (greedy: a one-hot of the best allowed action), exports each with 1,000 observations
# recorded on the scenario's evaluation world, runs onnx.checker on the file and ONNX Runtime on
# the recorded observations and masks, and requires every probability to equal the Swift
# network's within 1e-5 (scripts/onnx_check.py). When the packages cannot be installed it prints
# why and exits 0 (skipped).
# Usage: scripts/onnx-test.sh [path/to/optima-gym]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${1:-$root/.build/release/optima-gym}
[ -x "$bin" ] || { echo "onnx-test: $bin not found" >&2; exit 1; }
venv=${OPTIMA_ONNX_VENV:-$root/.build-test/onnx-venv}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import onnx, onnxruntime, numpy" >/dev/null 2>&1; then
  echo "onnx-test: installing onnx, onnxruntime and numpy into $venv"
  if ! { command -v python3 >/dev/null && { python3 -m venv "$venv" >/dev/null 2>&1 || { apt-get install -y -qq python3-venv >/dev/null 2>&1 && python3 -m venv "$venv"; }; } \
         && "$venv/bin/pip" install -q --disable-pip-version-check onnx onnxruntime numpy >/dev/null 2>&1; }; then
    echo "onnx-test: SKIPPED: cannot install onnx and onnxruntime from PyPI (no python3-venv or no network)"
    rm -rf "$venv"
    exit 0
  fi
fi
work=$(mktemp -d /tmp/optima-onnx.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
cat > "$work/shared.yaml" <<YAML
name: onnx_shared
seed: 9
population: {size: 300}
training: {episodes: 6000, curve_window: 1000}
evaluation: {episodes: 1000, bootstrap_samples: 50}
agents: [ppo]
YAML
cat > "$work/plain.yaml" <<YAML
name: onnx_plain
seed: 4
population: {size: 300}
training: {episodes: 6000, curve_window: 1000}
evaluation: {episodes: 1000, bootstrap_samples: 50}
agents:
  - ppo: {activation: relu, normalize_observations: true, shared_action_head: false, evaluation_epsilon: 0, update_every: 500, reward_lag: 250}
YAML
# An offline policy: discrete CQL learnt from journeys an epsilon-greedy bandit logged.
cat > "$work/logged.yaml" <<YAML
name: onnx_logged
seed: 2
population: {size: 200}
training: {episodes: 2000, curve_window: 500}
evaluation: {episodes: 1000, bootstrap_samples: 50}
agents: [epsilon_greedy]
YAML
"$bin" dataset collect "$work/logged.yaml" --behaviour epsilon_greedy --behaviour-mix 0.3 --out "$work/data" --quiet > /dev/null
"$bin" train-offline --data "$work/data" --algo cql --hidden 32,32 --steps 400 --validations 1 --out "$work/cql" --quiet > /dev/null
for name in shared plain cql; do
  if [ "$name" = cql ]; then checkpoint="$work/cql/checkpoint.json"; scenario="$work/logged.yaml"
  else "$bin" run "$work/$name.yaml" --out "$work/$name" --no-store --quiet > /dev/null; checkpoint="$work/$name/checkpoints/ppo.json"; scenario="$work/$name.yaml"; fi
  "$bin" export onnx "$checkpoint" --scenario "$scenario" --out "$work/$name.onnx" --record 1000 | sed "s/^/onnx-test: $name: /"
  "$venv/bin/python" scripts/onnx_check.py "$work/$name.onnx" "$work/$name.jsonl" 1e-5 | sed "s/^/onnx-test: $name: /" || status=1
done
[ "$status" -eq 0 ] && echo "onnx-test: passed" || echo "onnx-test: FAILED"
exit "$status"
