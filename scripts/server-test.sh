#!/usr/bin/env bash
# Checks `optima-gym serve` against its own OpenAPI document with Schemathesis (from PyPI, in a
# virtualenv under .build-test): makes a small run in a fresh store, serves it on a free loopback
# port with a bearer token, runs every check (no 5xx, responses match the schema, 405 for
# undeclared methods, ...) on every operation, the writes included, then stops the server with
# SIGTERM and requires a clean exit. When Schemathesis cannot be
# installed it prints why and exits 0 (skipped).
# Usage: scripts/server-test.sh [path/to/optima-gym]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${1:-$root/.build/release/optima-gym}
[ -x "$bin" ] || { echo "server-test: $bin not found" >&2; exit 1; }
venv=${OPTIMA_SCHEMATHESIS_VENV:-$root/.build-test/schemathesis-venv}
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "server-test: installing schemathesis into $venv"
  if ! { command -v python3 >/dev/null && { python3 -m venv "$venv" >/dev/null 2>&1 || { apt-get install -y -qq python3-venv >/dev/null 2>&1 && python3 -m venv "$venv"; }; } \
         && "$venv/bin/pip" install -q --disable-pip-version-check schemathesis >/dev/null 2>&1; }; then
    echo "server-test: SKIPPED: cannot install schemathesis from PyPI (no python3-venv or no network)"
    rm -rf "$venv"
    exit 0
  fi
fi
work=$(mktemp -d /tmp/optima-server.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cat > "$work/run.yaml" <<YAML
name: server_test
seed: 5
population: {size: 150}
training: {episodes: 600, curve_window: 200}
evaluation: {episodes: 600, bootstrap_samples: 50}
agents: [random, epsilon_greedy]
gate:
  - {metric: mean_reward, agent: epsilon_greedy, min: -1}
YAML
"$bin" run "$work/run.yaml" --store "$work/store.sqlite" --out "$work/run" --quiet >/dev/null
# What POST /train, /deploy and /synthetic may name: the run's scenario (as server_test), a gate
# file (as server_test), and the repository's example persona model (as obd).
mkdir -p "$work/scenarios/sweeps" "$work/gates" "$work/personas" "$work/reports"
cp "$work/run.yaml" "$work/scenarios/server_test.yaml"
printf 'gate:\n  - {metric: mean_reward, agent: epsilon_greedy, min: -1}\n' > "$work/gates/server_test.yaml"
cp "$root/examples/obd/model.json" "$work/personas/obd.json"
# Positive data the schema cannot rule out may still not fit the server's data (rows that do not
# match the persona model's columns): 422 is an expected answer to it, besides Schemathesis's
# default list.
cat > "$work/schemathesis.toml" <<'TOML'
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
TOML
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token="server-test-$(date +%s)-$$-token"
printf '%s\n' "$token" > "$work/token"
"$bin" serve --store "$work/store.sqlite" --port "$port" --token-file "$work/token" --scenarios "$work/scenarios" \
  --gates "$work/gates" --persona-models "$work/personas" --reports "$work/reports" --shutdown-grace 60 > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$port/openapi.json" >/dev/null 2>&1 && break
  sleep 0.2
done
status=0
# Run from the work directory: Schemathesis keeps its cache (.schemathesis/) in the current one.
(cd "$work" && "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "http://127.0.0.1:$port/openapi.json" --checks all --max-examples 50 --seed 1 \
  --header "Authorization: Bearer $token") > "$work/st.log" 2>&1 || status=$?
tail -n 12 "$work/st.log" | sed 's/^/server-test: /'
if [ "$status" -ne 0 ]; then
  echo "server-test: FAILED: schemathesis found problems (exit $status)"
  cat "$work/st.log"
fi
kill -TERM "$pid"
if wait "$pid"; then echo "server-test: the server stopped cleanly on SIGTERM"; else echo "server-test: FAILED: the server exited $? on SIGTERM"; cat "$work/serve.log"; status=1; fi
pid=""
exit "$status"
