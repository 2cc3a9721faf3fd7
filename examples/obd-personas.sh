#!/usr/bin/env bash
# Synthetic personas from real data: the Open Bandit Dataset's user features (ZOZO, CC BY 4.0;
# data/obd/README.md, fetched by scripts/get-obd.sh). Splits off a holdout, fits a differentially private persona
# model (epsilon 1, delta 1e-5), generates profiles and writes the quality report.
#
#   examples/obd-personas.sh [OUT_DIR]      (default: reports/obd-personas)
#
# Needs a release build: swift build -c release --product optima-gym
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/optima-gym}
if [ -z "${OBD:-}" ]; then ./scripts/get-obd.sh; fi
OBD=${OBD:-data/obd/random/all/all.csv}
OUT=${1:-reports/obd-personas}
if [ -e "$OUT" ]; then echo "error: $OUT exists; give another directory" >&2; exit 64; fi
mkdir -p "$OUT"
# OBD has no user identifier: every row is its own privacy unit. The user features are the four
# hashed categorical columns; the other columns describe the recommendation, not the user.
ROLES=(--role 'user-item_affinity_*=identifier' --role timestamp=identifier --role item_id=identifier
       --role position=identifier --role click=identifier --role propensity_score=identifier
       --role user_feature_0=quasi_identifier --role user_feature_1=quasi_identifier --role user_feature_2=quasi_identifier)
"$BIN" synth split --real "$OBD" --holdout-fraction 0.2 --train-out "$OUT/train.csv" --holdout-out "$OUT/holdout.csv" --seed 7
# The ledger lands next to the data: $OUT/train.csv.privacy-ledger.json (budget epsilon 1).
"$BIN" synth fit --real "$OUT/train.csv" --out "$OUT/model.json" --epsilon 1 --delta 1e-5 --seed 7 "${ROLES[@]}"
"$BIN" synth generate --model "$OUT/model.json" --count 8000 --out "$OUT/synthetic.csv" --seed 7
"$BIN" synth stats --model "$OUT/model.json" --real "$OUT/train.csv" --holdout "$OUT/holdout.csv" \
    --synthetic "$OUT/synthetic.csv" --target user_feature_3 --out "$OUT/quality"
echo "report: $OUT/quality/report.md"
