#!/usr/bin/env bash
# Reproduces the figures docs/circuit-breakers.md and docs/opt-out-and-disputes.md quote: each
# scenario switch on and off, as variants of the shipped scenarios (written to a temporary
# directory; the shipped files are not changed). Prints one line per variant and agent with the
# metrics the docs quote.
# Usage: scripts/safety-figures.sh [path/to/optima-gym]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${1:-$root/.build/release/optima-gym}
[ -x "$bin" ] || { echo "safety-figures: $bin not found (run scripts/quickstart.sh first)" >&2; exit 1; }
work=$(mktemp -d /tmp/optima-safety.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 - "$root" "$work" <<'PY'
import re, sys
root, work = sys.argv[1], sys.argv[2]
breakers = open(f"{root}/scenarios/breakers.yaml").read()
head, rest = breakers.split("safety:", 1)
agents = "agents:" + rest.split("agents:", 1)[1]
fpr = "    - {kind: intervention_fpr, threshold: 0.1, window: 500, min_decisions: 100, cooldown: 2000}\n"
variants = {
    "breakers_none": head + agents,
    "breakers_fpr_no_intervention": head + "safety:\n  fallback: no_intervention\n  breakers:\n" + fpr + agents,
    "breakers_fpr_no_action": head + "safety:\n  fallback: no_action\n  breakers:\n" + fpr + agents,
    "breakers_all": breakers,
}
base = open(f"{root}/scenarios/baseline.yaml").read()
bhead = re.sub(r"gate:.*", "", base.split("agents:", 1)[0], flags=re.S)
bandit = "  - epsilon_greedy:\n      epsilon_start: 0.3\n      epsilon_end: 0.05\n      decay_episodes: 10000\n      schedule: linear\n"
ppo = "  - ppo: {learning_rate: 0.001, lr_schedule: constant, update_epochs: 10, minibatch_size: 64, update_every: 250, reward_lag: 250, clip_value_loss: false}\n"
def training(extra):
    return bhead.replace("training:\n  episodes: 20000", "training:\n  episodes: 20000\n" + extra)
for h in ["true", "false"]:
    variants[f"disputes_honoured_{h}"] = training(f"  dispute_probability: 0.02\n  dispute_bad_outcome: 0.5\n  honour_disputes: {h}\n") + "agents:\n" + bandit + ppo
    variants[f"opt_out_honoured_{h}"] = training(f"  honour_opt_out: {h}\n") + "agents:\n" + bandit + ppo
for name, text in variants.items():
    open(f"{work}/{name}.yaml", "w").write(text)
PY
for f in "$work"/*.yaml; do
  name=$(basename "$f" .yaml)
  "$bin" run "$f" --out "$work/$name" --no-store --no-logs --quiet >/dev/null || true   # a failed gate is not an error here
  while IFS=, read -r agent metric value low high _; do
    case "$metric" in
      mean_reward|intervention_fpr|opt_out_rate|retention_7d|breakers.trips|breakers.fallback_share)
        printf '%-32s %-16s %-24s %.4f [%.4f, %.4f]\n' "$name" "$agent" "$metric" "$value" "$low" "$high" ;;
    esac
  done < <(tail -n +2 "$work/$name/metrics.csv")
  grep -h -E "^- (disputes|honouring opt-out|circuit breakers \(evaluation\))" "$work/$name/report.md" | sed "s/^/$name: /" || true
done
