#!/usr/bin/env bash
# Load test of `optima-gym serve` on loopback with wrk (Debian's package, installed when missing):
# GET /api/ml/metrics/{id} and POST /api/ml/episode (unique ids), a fixed duration each, then the
# live episodes in the store counted against the requests wrk reports. The store is a copy of
# STORE (default reports/optima.sqlite, which scripts/quickstart.sh fills); nothing is written to it.
# Usage: scripts/load-test.sh [path/to/optima-gym] [STORE] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${1:-$root/.build/release/optima-gym}
store=${2:-$root/reports/optima.sqlite}
seconds=${3:-15}
[ -x "$bin" ] || { echo "load-test: $bin not found (run scripts/quickstart.sh first)" >&2; exit 1; }
[ -f "$store" ] || { echo "load-test: $store not found (run scripts/quickstart.sh first)" >&2; exit 1; }
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }; }
work=$(mktemp -d /tmp/optima-load.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cp "$store" "$work/store.sqlite"
model=$("$bin" models list --store "$work/store.sqlite" | sed -n 2p | cut -f1)
[ -n "$model" ] || { echo "load-test: the store has no model" >&2; exit 1; }
token="load-test-$(date +%s)-$$-token"
printf '%s\n' "$token" > "$work/token"
cat > "$work/post.lua" <<'LUA'
local counter = 0
local threads = {}
function setup(thread) thread:set("tid", #threads + 1); table.insert(threads, thread) end
function init(args) token = args[1] end
function request()
  counter = counter + 1
  local body = string.format('{"episode_id":"load-%d-%d","user_id":"u-load-%d","action_taken":"no_action","outcome":"neutral","reward_score":0,"timestamp":"2026-12-07T12:00:00Z","model_version":"m-1"}', tid, counter, counter % 1000)
  return wrk.format("POST", "/api/ml/episode", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
LUA
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --store "$work/store.sqlite" --port "$port" --token-file "$work/token" > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/openapi.json" >/dev/null 2>&1 && break; sleep 0.2; done
echo "load-test: GET /api/ml/metrics/$model, 2 threads, 32 connections, ${seconds}s"
wrk -t2 -c32 -d"${seconds}s" --latency "http://127.0.0.1:$port/api/ml/metrics/$model" > "$work/get.txt"
grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors|requests in" "$work/get.txt"
echo "load-test: GET /openapi.json (no store read), 2 threads, 32 connections, ${seconds}s"
wrk -t2 -c32 -d"${seconds}s" --latency "http://127.0.0.1:$port/openapi.json" | grep -E "Requests/sec|99%|Non-2xx|Socket errors"
echo "load-test: POST /api/ml/episode, 2 threads, 16 connections, ${seconds}s"
wrk -t2 -c16 -d"${seconds}s" --latency -s "$work/post.lua" "http://127.0.0.1:$port/api/ml/episode" -- "$token" > "$work/post.txt"
grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors|requests in" "$work/post.txt"
kill -TERM "$pid"; wait "$pid" || true; pid=""
stored=$("$bin" runs show live --store "$work/store.sqlite" | grep -oE "^[0-9]+ logged decisions" | cut -d' ' -f1)
echo "load-test: live episodes stored: $stored"
# The issue's goals: GET metrics at least 5,000/s with p99 under 20 ms; POST episode at least
# 2,000/s; no errors; every acknowledged episode stored (wrk counts completed requests; the store
# may hold up to one more per connection, sent when the time ran out).
python3 - "$work/get.txt" "$work/post.txt" "$stored" <<'PY'
import re, sys
def parse(path):
    t = open(path).read()
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", t).group(1))
    m = re.search(r"99%\s+([0-9.]+)(us|ms|s)", t)
    p99 = float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
    done = int(re.search(r"(\d+) requests in", t).group(1))
    errors = "Non-2xx" in t or "Socket errors" in t
    return rate, p99, done, errors
g, p, stored = parse(sys.argv[1]), parse(sys.argv[2]), int(sys.argv[3])
checks = [("GET metrics >= 5000/s", g[0] >= 5000), ("GET metrics p99 < 20 ms", g[1] < 20), ("GET no errors", not g[3]),
          ("POST episode >= 2000/s", p[0] >= 2000), ("POST no errors", not p[3]), ("no acknowledged episode lost", stored >= p[2])]
for name, ok in checks: print(f"load-test: {'met   ' if ok else 'MISSED'} {name}")
sys.exit(0 if all(ok for _, ok in checks) else 1)
PY
