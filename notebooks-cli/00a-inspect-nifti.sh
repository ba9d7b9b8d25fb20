#!/usr/bin/env bash
# 00a - Inspect a NIfTI image before anything else.
#
# Usage: notebooks-cli/00a-inspect-nifti.sh OUT_DIR [IMAGE]
# Writes OUT_DIR/info.json (header + value statistics) and prints a readable summary.
# Without IMAGE it uses the real EPI run bundled with the tests (nibabel's example4d).
set -euo pipefail
out=${1:?usage: $0 OUT_DIR [IMAGE]}
image=${2:-Tests/Fixtures/nifti/example4d.nii.gz}
fmridyn=${FMRIDYN:-.build/release/fmridyn}
[ -x "$fmridyn" ] || fmridyn=.build/debug/fmridyn
mkdir -p "$out"

# 1. The human summary: shape, voxel size, TR, scaling, which affine applies.
#    example4d stores its TR in milliseconds but labels it seconds: fmridyn warns on stderr.
"$fmridyn" info "$image"

# 2. The same as JSON, with statistics of the scaled values (streamed one volume at a time).
"$fmridyn" info --json --stats "$image" > "$out/info.json"
echo "wrote $out/info.json"
