#!/usr/bin/env bash
# 03 - Fixed points of the fitted latent dynamics, compared with the simulator's truth.
#
# Usage: notebooks-cli/03-fixed-points.sh OUT_DIR   (runs 01 first when its outputs are missing)
set -euo pipefail
out=${1:?usage: $0 OUT_DIR}
fmridyn=${FMRIDYN:-.build/release/fmridyn}
[ -x "$fmridyn" ] || fmridyn=.build/debug/fmridyn
[ -f "$out/model/config.json" ] || "$(dirname "$0")/01-simulate-and-fit.sh" "$out"
starts=1024; iterations=5000
if [ "${QUICK:-0}" = 1 ]; then starts=64; iterations=500; fi

# Starts on the posterior-mean latents of every run (plus noise), joint Adam on q = |f|^2 / 2,
# Newton polishing, eigenvalues of the Jacobian: fixed_points.json and fixed_points.csv.
"$fmridyn" fixed-points --model "$out/model" --data "$out/runs.tsv" --manifest \
  --starts "$starts" --max-iters "$iterations" --out "$out/fixed_points.json"
cat "$out/fixed_points.csv"

# The truth: 3^4 fixed points of dz/dt = z - z^3 + input, 16 of them stable.
grep -c '"stable"' "$out/sim/ground_truth/fixed_points.json" | sed 's/^/true stable fixed points: /'
