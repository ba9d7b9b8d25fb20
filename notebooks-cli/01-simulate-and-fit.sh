#!/usr/bin/env bash
# 01 - Simulate a motor-task dataset with known latent dynamics, extract regions, fit the SVAE.
#
# Usage: notebooks-cli/01-simulate-and-fit.sh OUT_DIR
# QUICK=1 shrinks everything (CI smoke test). Takes about a minute with a release build.
set -euo pipefail
out=${1:?usage: $0 OUT_DIR}
fmridyn=${FMRIDYN:-.build/release/fmridyn}
[ -x "$fmridyn" ] || fmridyn=.build/debug/fmridyn
subjects=4; volumes=240; epochs=200
if [ "${QUICK:-0}" = 1 ]; then subjects=2; volumes=48; epochs=2; fi
mkdir -p "$out/timeseries"

# 1. A BIDS dataset: 2 runs per subject of a block-design motor task on a 4 mm MNI grid.
#    ground_truth/ holds the true latents, the 3^4 fixed points and the spatial maps.
"$fmridyn" simulate --out "$out/sim" --subjects "$subjects" --runs 2 --volumes "$volumes" --grid 4mm --seed 7

# 2. Power-264 spheres per run, cleaned: detrend, 0.01 Hz high-pass, motion and global-signal
#    confounds from the fMRIPrep-style derivatives, z-score.
for bold in "$out"/sim/sub-*/func/*_bold.nii.gz; do
  name=$(basename "$bold" _bold.nii.gz)
  subject=${name%%_*}
  "$fmridyn" extract "$bold" --atlas power264 --radius 6 --allow-overlap \
    --confounds "$out/sim/derivatives/fmridyn-sim/$subject/func/${name}_desc-confounds_timeseries.tsv" \
    --confound-strategy motion6,global --detrend --high-pass 0.01 --standardize zscore \
    --out "$out/timeseries/${name}_timeseries.tsv" --quiet
done

# 3. A manifest ties each timeseries to its TR and events (for condition labels later).
{
  printf 'timeseries\ttr\tevents\n'
  for ts in "$out"/timeseries/*_timeseries.tsv; do
    name=$(basename "$ts" _timeseries.tsv); subject=${name%%_*}
    printf '%s\t0.72\t%s\n' "$(realpath "$ts")" "$(realpath "$out/sim/$subject/func/${name}_events.tsv")"
  done
} > "$out/runs.tsv"

# 4. The sequential VAE with neural-ODE dynamics (4 latents, rk4, one step per TR).
"$fmridyn" fit "$out/runs.tsv" --manifest --out "$out/model" --latent-dim 4 --hidden 32 \
  --window 32 --stride 8 --epochs "$epochs" --batch-size 16 --lr 0.005 --kl-warmup 3 --patience 20 --quiet
echo "model in $out/model; training log:"; tail -n 3 "$out/model/training_log.csv"
