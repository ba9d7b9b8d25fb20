#!/usr/bin/env bash
# 04 - Task capture: decode each volume's condition from the latents, against PCA and chance.
#
# Usage: notebooks-cli/04-task-decoding.sh OUT_DIR   (runs 02 first when latents are missing)
set -euo pipefail
out=${1:?usage: $0 OUT_DIR}
fmridyn=${FMRIDYN:-.build/release/fmridyn}
[ -x "$fmridyn" ] || fmridyn=.build/debug/fmridyn
[ -f "$out/latents.csv" ] || "$(dirname "$0")/02-latents-to-csv.sh" "$out"
folds=4
if [ "${QUICK:-0}" = 1 ]; then folds=2; fi

# Balanced accuracy of multinomial logistic regression on z1..z4 (plus the previous 3 volumes,
# --lags 3, so the classifier sees the slow BOLD response), folds by subject, rest left out.
"$fmridyn" decode "$out/latents.csv" --target condition --groups subject --folds "$folds" \
  --lags 3 --exclude rest --permutations 20 --out "$out/decoding.json"
grep -E '"(balanced_accuracy_mean|chance|p_value)"' "$out/decoding.json"

# The model against PCA, FastICA (4 components each) and all regions, on the same volumes and
# folds, with labels following the BOLD response (--hrf-shift) instead of lags; one table, and
# JSON that fmridyn report draws as bars (05-report.sh).
"$fmridyn" compare --model "NODE=$out/model" "$out/runs.tsv" --manifest --hrf-shift \
  --groups subject --folds "$folds" --exclude rest --out "$out" --quiet
