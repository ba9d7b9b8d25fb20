#!/usr/bin/env bash
# 02 - Posterior-mean latent timeseries of every run, as one CSV with conditions.
#
# Usage: notebooks-cli/02-latents-to-csv.sh OUT_DIR   (after 01-simulate-and-fit.sh OUT_DIR)
# Runs 01 first when its outputs are missing.
set -euo pipefail
out=${1:?usage: $0 OUT_DIR}
fmridyn=${FMRIDYN:-.build/release/fmridyn}
[ -x "$fmridyn" ] || fmridyn=.build/debug/fmridyn
[ -f "$out/model/config.json" ] || "$(dirname "$0")/01-simulate-and-fit.sh" "$out"

# subject,session,task,run,volume,time_s,condition,z1..z4 for every volume of every run.
"$fmridyn" latents --model "$out/model" "$out/runs.tsv" --manifest --out "$out/latents.csv"
head -n 3 "$out/latents.csv"
echo "rows: $(($(wc -l < "$out/latents.csv") - 1))"
