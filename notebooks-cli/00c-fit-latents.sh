#!/usr/bin/env bash
# 00c - Fit the sequential VAE on region timeseries and export latent timeseries.
#
# Usage: notebooks-cli/00c-fit-latents.sh OUT_DIR [EPOCHS]
# Uses the real nitime run bundled with the tests (40 volumes, TR 1.35 s) with a small label
# atlas: far too little data for science, enough to see every step. Replace the inputs with your
# own extracted runs (one TSV per run) or a manifest.
set -euo pipefail
out=${1:?usage: $0 OUT_DIR [EPOCHS]}
epochs=${2:-20}
fmridyn=${FMRIDYN:-.build/release/fmridyn}
[ -x "$fmridyn" ] || fmridyn=.build/debug/fmridyn
mkdir -p "$out"

# 1. Region timeseries, detrended and z-scored (a BIDS-style name carries the entities).
"$fmridyn" extract Tests/Fixtures/fmri/fmri1.nii.gz --atlas Tests/Fixtures/extraction/labels_native.nii.gz \
  --detrend --standardize zscore --out "$out/sub-01_task-motor_run-1_timeseries.tsv"

# 2. The sequential VAE with neural-ODE latent dynamics (rk4, one step per TR): 16-volume windows,
#    4 latents. The best model goes to $out/model (config.json, model.safetensors), the log to
#    $out/model/training_log.csv; an interrupted run continues with --resume.
"$fmridyn" fit "$out/sub-01_task-motor_run-1_timeseries.tsv" --tr 1.35 --out "$out/model" \
  --window 16 --stride 4 --latent-dim 4 --hidden 16 --epochs "$epochs" --lr 0.01 --quiet

# 3. Posterior-mean latents for every volume, with the task condition of each volume.
"$fmridyn" latents --model "$out/model" "$out/sub-01_task-motor_run-1_timeseries.tsv" --tr 1.35 \
  --events Tests/Fixtures/events/motor_events.tsv --out "$out/latents.csv"

echo "training log (last epochs):"; tail -n 3 "$out/model/training_log.csv"
echo "latents: $out/latents.csv"; head -n 3 "$out/latents.csv"
