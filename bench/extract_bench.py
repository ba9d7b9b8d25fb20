"""Region and voxel extraction with cleaning: fmridyn vs nilearn, side by side.

Data (made once in bench/data/ by bench/nifti_read.py's generator): an HCP-size run,
91 x 109 x 91 x 284 float32 on the 2 mm MNI grid, TR 0.72 s, ~229k brain voxels; a 400-region
label atlas (Voronoi cells of 400 random seeds inside the brain) and the brain mask.
Cleaning in both tools: detrend + Butterworth 0.01-0.1 Hz + zscore.

Each tool runs in its own process under /usr/bin/time, which reports wall time and peak RSS.

Usage (from the repository root, after `swift build -c release`):
    python3 bench/extract_bench.py [--skip-voxel-peer] [--repeats N] [--reference-binary PATH]
Writes bench/results/extract.json. With --repeats every fmridyn timing is the median of N runs.
With --reference-binary another fmridyn build (say, of an older commit, from `git worktree add`)
is timed alternately with this one in the same run, its output checked identical, and the
ratio reported as `labels_vs_reference` / `voxels_vs_reference` (above 1: this build is faster).
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys

import nibabel as nib
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from nifti_read import DATA, ROOT, SHAPE, make_run  # noqa: E402

BINARY = ROOT / ".build" / "release" / "fmridyn"
ATLAS = ROOT / "bench" / "data" / "labels400.nii.gz"
MASK = ROOT / "bench" / "data" / "brain_mask.nii.gz"
OUT = ROOT / "bench" / "results"

NILEARN_LABELS = """
import sys, numpy as np
from nilearn.maskers import NiftiLabelsMasker
m = NiftiLabelsMasker(sys.argv[2], detrend=True, standardize="zscore_sample", low_pass=0.1, high_pass=0.01, t_r=0.72)
x = m.fit_transform(sys.argv[1])
np.save(sys.argv[3], x.astype(np.float32))
"""
NILEARN_VOXELS = """
import sys, numpy as np
from nilearn.maskers import NiftiMasker
m = NiftiMasker(mask_img=sys.argv[2], detrend=True, standardize="zscore_sample", low_pass=0.1, high_pass=0.01, t_r=0.72)
x = m.fit_transform(sys.argv[1])
np.save(sys.argv[3], x.astype(np.float32))
"""


def make_atlas():
    image = nib.load(DATA)
    first = np.asarray(image.dataobj[..., 0])
    brain = first != 0
    nib.Nifti1Image(brain.astype(np.uint8), image.affine).to_filename(MASK)
    rng = np.random.default_rng(1)
    coordinates = np.argwhere(brain)
    seeds = coordinates[rng.choice(len(coordinates), 400, replace=False)]
    labels = np.zeros(brain.shape, dtype=np.int16)
    best = np.full(len(coordinates), np.inf)
    owner = np.zeros(len(coordinates), dtype=np.int16)
    for index, seed in enumerate(seeds):
        distance = ((coordinates - seed) ** 2).sum(axis=1)
        closer = distance < best
        best[closer] = distance[closer]
        owner[closer] = index + 1
    labels[tuple(coordinates.T)] = owner
    nib.Nifti1Image(labels, image.affine).to_filename(ATLAS)


def timed(command):
    result = subprocess.run(["/usr/bin/time", "-v"] + command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{command[0]} failed:\n{result.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", result.stderr).group(1)
    parts = [float(p) for p in wall.split(":")]
    seconds = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) == 3 else 0)
    rss_mb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1)) / 1024
    return seconds, rss_mb


def timed_median(commands, repeats):
    """Runs each command `repeats` times, alternating, so load changes hit all alike."""
    samples = [[] for _ in commands]
    for _ in range(repeats):
        for index, command in enumerate(commands):
            samples[index].append(timed(command))
    return [(float(np.median([s for s, _ in runs])), max(m for _, m in runs)) for runs in samples]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-voxel-peer", action="store_true", help="do not run nilearn's voxel path (about 90 s)")
    parser.add_argument("--repeats", type=int, default=1, help="median of this many fmridyn runs per timing")
    parser.add_argument("--reference-binary", help="another fmridyn build to time alongside this one")
    args = parser.parse_args()
    if not DATA.exists():
        make_run(DATA)
    if not ATLAS.exists() or not MASK.exists():
        make_atlas()
    OUT.mkdir(parents=True, exist_ok=True)
    clean = ["--detrend", "--high-pass", "0.01", "--low-pass", "0.1", "--standardize", "zscore", "--tr", "0.72", "--quiet"]
    results = {"shape": SHAPE, "atlas_regions": 400, "mask_voxels": int(np.asarray(nib.load(MASK).dataobj).sum())}

    ours_tsv = OUT / "fmridyn_labels.tsv"
    reference_tsv = OUT / "reference_labels.tsv"
    binaries = [(str(BINARY), ours_tsv)] + ([(args.reference_binary, reference_tsv)] if args.reference_binary else [])
    timings = timed_median([[b, "extract", str(DATA), "--atlas", str(ATLAS), "--out", str(out)] + clean for b, out in binaries], args.repeats)
    results["fmridyn_labels_s"], results["fmridyn_labels_rss_mb"] = timings[0]
    if args.reference_binary:
        results["reference_binary"] = args.reference_binary
        results["reference_labels_s"], results["reference_labels_rss_mb"] = timings[1]
        results["labels_identical_to_reference"] = ours_tsv.read_bytes() == reference_tsv.read_bytes()
        results["labels_vs_reference"] = round(timings[1][0] / timings[0][0], 2)
    peer_npy = OUT / "nilearn_labels.npy"
    results["nilearn_labels_s"], results["nilearn_labels_rss_mb"] = timed(
        [sys.executable, "-c", NILEARN_LABELS, str(DATA), str(ATLAS), str(peer_npy)])
    ours = np.loadtxt(ours_tsv, skiprows=1, dtype=np.float64)
    results["labels_max_abs_diff"] = float(np.abs(ours - np.load(peer_npy)).max())

    ours_npy = OUT / "fmridyn_voxels.npy"
    reference_npy = OUT / "reference_voxels.npy"
    binaries = [(str(BINARY), ours_npy)] + ([(args.reference_binary, reference_npy)] if args.reference_binary else [])
    timings = timed_median([[b, "extract", str(DATA), "--mask", str(MASK), "--out", str(out)] + clean for b, out in binaries], args.repeats)
    results["fmridyn_voxels_s"], results["fmridyn_voxels_rss_mb"] = timings[0]
    if args.reference_binary:
        results["reference_voxels_s"], results["reference_voxels_rss_mb"] = timings[1]
        results["voxels_identical_to_reference"] = ours_npy.read_bytes() == reference_npy.read_bytes()
        results["voxels_vs_reference"] = round(timings[1][0] / timings[0][0], 2)
    if not args.skip_voxel_peer:
        peer_voxels = OUT / "nilearn_voxels.npy"
        results["nilearn_voxels_s"], results["nilearn_voxels_rss_mb"] = timed(
            [sys.executable, "-c", NILEARN_VOXELS, str(DATA), str(MASK), str(peer_voxels)])
        results["voxels_max_abs_diff"] = float(np.abs(np.load(ours_npy) - np.load(peer_voxels)).max())
        results["voxels_speedup"] = round(results["nilearn_voxels_s"] / results["fmridyn_voxels_s"], 2)
        peer_voxels.unlink()
    results["labels_speedup"] = round(results["nilearn_labels_s"] / results["fmridyn_labels_s"], 2)
    results["float32_data_mb"] = round(np.prod(SHAPE) * 4 / 2**20, 1)
    for path in [ours_tsv, peer_npy, ours_npy, reference_tsv, reference_npy]:
        path.unlink(missing_ok=True)
    (OUT / "extract.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
