"""Read an HCP-size gzip'd fMRI run fully into float32: fmridyn vs nibabel, side by side.

The run is 91 x 109 x 91 x 284 float32 on the 2 mm MNI grid (1.03 GB uncompressed): a
brain-shaped ellipsoid of about 235k voxels holding noisy float32 signal, zeros outside, so it
compresses to a size like a real preprocessed run. The script makes it once (bench/data/).

Peer: nibabel's np.asarray(img.dataobj) (float32 on disk, no scaling: no conversion).
fmridyn: `fmridyn bench read` (ISA-L inflate, and zlib for reference).

Usage (from the repository root, after `swift build -c release`):
    python3 bench/nifti_read.py [--repeats 3]
Writes bench/results/nifti_read.json and prints a table.
"""
import argparse
import json
import pathlib
import subprocess
import sys
import time

import nibabel as nib
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "hcp_like_bold.nii.gz"
BINARY = ROOT / ".build" / "release" / "fmridyn"
SHAPE = (91, 109, 91, 284)


def make_run(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    x, y, z = np.meshgrid(*(np.linspace(-1, 1, n) for n in SHAPE[:3]), indexing="ij")
    brain = (x / 0.78) ** 2 + (y / 0.80) ** 2 + (z / 0.80) ** 2 <= 1.0
    print(f"making {path}: {brain.sum()} brain voxels", file=sys.stderr)
    data = np.zeros(SHAPE, dtype=np.float32)
    baseline = rng.normal(800, 150, size=brain.sum()).astype(np.float32)
    for t in range(SHAPE[3]):
        volume = np.zeros(SHAPE[:3], dtype=np.float32)
        volume[brain] = baseline + rng.normal(0, 12, size=baseline.size).astype(np.float32)
        data[..., t] = volume
    affine = np.array([[-2, 0, 0, 90], [0, 2, 0, -126], [0, 0, 2, -72], [0, 0, 0, 1]], dtype=float)
    image = nib.Nifti1Image(data, affine)
    image.header.set_xyzt_units("mm", "sec")
    image.header["pixdim"][4] = 0.72
    temporary = path.with_name("partial_" + path.name)
    image.to_filename(temporary)
    temporary.rename(path)


def time_nibabel(path, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        array = np.asarray(nib.load(path).dataobj)
        best = min(best, time.perf_counter() - start)
        assert array.dtype == np.float32 and array.shape == SHAPE
        middle = float(array.reshape(-1, order="F")[array.size // 2])
        del array
    return best, middle


def time_fmridyn(path, repeats, inflate):
    output = subprocess.run(
        [str(BINARY), "bench", "read", str(path), "--repeats", str(repeats), "--inflate", inflate, "--json"],
        check=True, capture_output=True, text=True,
    ).stdout
    result = json.loads(output)
    return result["seconds"], result["middle_value"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not BINARY.exists():
        sys.exit(f"{BINARY} is missing: run `swift build -c release` first")
    if not DATA.exists():
        make_run(DATA)
    size_mb = DATA.stat().st_size / 1e6
    nibabel_s, nibabel_middle = time_nibabel(DATA, args.repeats)
    isal_s, isal_middle = time_fmridyn(DATA, args.repeats, "isal")
    zlib_s, zlib_middle = time_fmridyn(DATA, args.repeats, "zlib")
    assert nibabel_middle == isal_middle == zlib_middle, "readers disagree on the data"
    result = {
        "file": str(DATA.relative_to(ROOT)), "shape": SHAPE, "compressed_mb": round(size_mb, 1),
        "nibabel_seconds": round(nibabel_s, 3), "nibabel_version": nib.__version__,
        "fmridyn_isal_seconds": round(isal_s, 3), "fmridyn_zlib_seconds": round(zlib_s, 3),
        "speedup_isal": round(nibabel_s / isal_s, 2), "speedup_zlib": round(nibabel_s / zlib_s, 2),
        "repeats": args.repeats,
    }
    out = ROOT / "bench" / "results" / "nifti_read.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{DATA.name}: {SHAPE}, {size_mb:.0f} MB gzip, best of {args.repeats}")
    print(f"  nibabel {nib.__version__:>8}  {nibabel_s:6.2f} s")
    print(f"  fmridyn (ISA-L)   {isal_s:6.2f} s   {nibabel_s / isal_s:4.1f}x faster")
    print(f"  fmridyn (zlib)    {zlib_s:6.2f} s   {nibabel_s / zlib_s:4.1f}x faster")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
