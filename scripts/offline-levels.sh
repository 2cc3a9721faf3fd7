#!/usr/bin/env bash
# The offline-RL table of docs/offline-rl.md: three datasets of long_horizon.yaml, like D4RL's
# random / medium / expert, each learnt from by CQL and by behaviour cloning, each learnt policy
# judged in the simulator against the behaviour that logged its data (paired, fresh worlds).
#
#   ./scripts/offline-levels.sh [OUT]        # default OUT: reports/offline-levels
#
# Datasets (one world of 2,000 users over 14 days each, seed 20261126; about 60 MB apiece):
#   random  epsilon_greedy mixed with 1.0 uniform: uniformly random over the allowed actions
#   medium  epsilon_greedy (the myopic bandit)
#   expert  paced_bandit (the bandit with a pacing cost, the best shipped non-oracle agent)
# Extra arguments go to every `train-offline` (e.g. --steps 5000 --truth-runs 10).
# About 10 minutes on 2 cores (release build).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-reports/offline-levels}"
shift || true
# OPTIMA_GYM=path/to/optima-gym skips the set-up and build and uses that binary.
if [ -z "${OPTIMA_GYM:-}" ]; then
  ./scripts/setup.sh
  swift build -c release --product optima-gym
fi
bin="${OPTIMA_GYM:-.build/release/optima-gym}"
scenario=scenarios/long_horizon.yaml
mkdir -p "$out"
collect() { # level behaviour mix
  if [ ! -f "$out/data-$1/dataset.json" ]; then
    rm -rf "$out/data-$1"
    "$bin" dataset collect "$scenario" --behaviour "$2" --behaviour-mix "$3" --seed 20261126 --out "$out/data-$1" --quiet
  fi
}
collect random epsilon_greedy 1
collect medium epsilon_greedy 0
collect expert paced_bandit 0
table="$out/table.md"
{
  echo "| dataset | behaviour true user_return | learner | learned true user_return | learned - behaviour (paired, 95%) | % of behaviour | own Q estimate | dr on held-out (95%) |"
  echo "|---|---|---|---|---|---|---|---|"
} > "$table.tmp"
for level in random medium expert; do
  for algo in cql bc; do
    dir="$out/$level-$algo"
    rm -rf "$dir"
    "$bin" train-offline --data "$out/data-$level" --scenario "$scenario" --algo "$algo" --out "$dir" --quiet "$@" > /dev/null
    # truth.csv: world, behaviour, policy. Means and the paired difference's 95% interval.
    stats=$(awk -F, 'NR > 1 { n++; b += $2; p += $3; d = $3 - $2; s += d; ss += d * d }
      END { m = s / n; se = sqrt((ss - n * m * m) / (n - 1) / n);
            pc = b > 0 ? sprintf("%.1f%%", 100 * p / b) : "n/a (behaviour <= 0)";
            printf "%.4f|%.4f|%+.4f [%+.4f, %+.4f]|%s", b / n, p / n, m, m - 1.96 * se, m + 1.96 * se, pc }' "$dir/truth.csv")
    b=$(cut -d'|' -f1 <<< "$stats"); p=$(cut -d'|' -f2 <<< "$stats"); d=$(cut -d'|' -f3 <<< "$stats"); pc=$(cut -d'|' -f4 <<< "$stats")
    q=$(grep -o "own estimate of its value per journey is [-0-9.]*" "$dir/report.md" | awk '{print $NF}' || true)
    dr=$(awk -F, '$2 == "dr" { v = sprintf("%.3f [%.3f, %.3f]", $3, $4, $5) } END { print v }' "$dir/validation.csv")
    echo "| $level | $b | $algo | $p | $d | $pc | ${q:-n/a} | $dr |" >> "$table.tmp"
  done
done
mv "$table.tmp" "$table"
cat "$table"
echo "Reports in $out/<level>-<algo>/report.md"
