#!/usr/bin/env bash
# 05 - Look at the fit: one self-contained HTML page with the training curves, latent
# trajectories (condition blocks shaded), fixed points and decoding of notebooks 01-04.
#
# Usage: notebooks-cli/05-report.sh OUT_DIR   (runs 03 and 04 first when their outputs are missing)
set -euo pipefail
out=${1:?usage: $0 OUT_DIR}
fmridyn=${FMRIDYN:-.build/release/fmridyn}
[ -x "$fmridyn" ] || fmridyn=.build/debug/fmridyn
[ -f "$out/fixed_points.json" ] || "$(dirname "$0")/03-fixed-points.sh" "$out"
[ -f "$out/comparison.json" ] || "$(dirname "$0")/04-task-decoding.sh" "$out"

"$fmridyn" report --model "$out/model" --latents "$out/latents.csv" --fixed-points "$out/fixed_points.json" \
  --decoding "$out/comparison.json" --out "$out/report.html"
# Open it in any browser; it needs no network. Every section is an anchor:
grep -o '<section id="[a-z-]*">' "$out/report.html"
