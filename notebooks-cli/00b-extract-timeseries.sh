#!/usr/bin/env bash
# 00b - From a BOLD run to clean region timeseries and per-volume task labels.
#
# Usage: notebooks-cli/00b-extract-timeseries.sh OUT_DIR
# Uses the real nitime run bundled with the tests (10 x 10 x 18 x 40, TR 1.35 s) and a small
# label atlas made for it; replace them with your own run and atlas.
set -euo pipefail
out=${1:?usage: $0 OUT_DIR}
fmridyn=${FMRIDYN:-.build/release/fmridyn}
[ -x "$fmridyn" ] || fmridyn=.build/debug/fmridyn
run=Tests/Fixtures/fmri/fmri1.nii.gz
atlas=Tests/Fixtures/extraction/labels_native.nii.gz
mkdir -p "$out"

# 1. Region means, cleaned as nilearn's NiftiLabelsMasker would with these options:
#    detrend, Butterworth band-pass 0.01-0.1 Hz (zero-phase), z-score.
"$fmridyn" extract "$run" --atlas "$atlas" \
  --detrend --high-pass 0.01 --low-pass 0.1 --standardize zscore \
  --out "$out/regions.tsv"

# 2. The same run in voxel mode inside a mask computed from the data (nilearn's EPI rule),
#    written as a cleaned 4-D image and as a (volumes x voxels) float32 .npy.
"$fmridyn" extract "$run" --mask background --detrend --standardize zscore --out "$out/cleaned.nii.gz"
"$fmridyn" extract "$run" --mask background --detrend --standardize zscore --out "$out/voxels.npy"

# 3. Task conditions per volume from a BIDS events file (a motor localiser here), and the
#    HRF-convolved regressors nilearn's design matrix would hold.
"$fmridyn" events Tests/Fixtures/events/motor_events.tsv --tr 1.35 --volumes 40 --labels --out "$out/conditions.tsv"
"$fmridyn" events Tests/Fixtures/events/motor_events.tsv --tr 1.35 --volumes 40 --hrf glover --out "$out/design.tsv"

echo "outputs in $out:"; ls -l "$out"
