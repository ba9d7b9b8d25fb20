"""Golden values for masks, smoothing and region extraction, from nilearn.

Uses the real nitime run Tests/Fixtures/fmri/fmri1.nii.gz (10 x 10 x 18 x 40, TR 1.35 s,
oblique affine). Makes two label atlases: one on the data grid, one on a 1 mm axis-aligned
grid (resampled by nilearn to the data, nearest neighbour). Writes the atlases and
Tests/Fixtures/extraction/golden.json.

Run from the repository root: python3 bench/golden/extraction.py
"""
import base64
import json
import pathlib
import warnings

import nibabel as nib
import nilearn
import numpy as np
from nilearn.image import smooth_img, index_img
from nilearn.maskers import NiftiLabelsMasker, NiftiMasker, NiftiSpheresMasker
from nilearn.masking import compute_background_mask, compute_epi_mask

DATA = pathlib.Path("Tests/Fixtures/fmri/fmri1.nii.gz")
OUT = pathlib.Path("Tests/Fixtures/extraction")
warnings.simplefilter("ignore")


def exact(array):
    array = np.ascontiguousarray(np.asarray(array, dtype="<f8"))
    return {"shape": list(array.shape), "f64": base64.b64encode(array.tobytes()).decode()}


def fortran_flat(mask):
    return np.flatnonzero(np.asarray(mask).ravel(order="F")).tolist()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    image = nib.load(DATA)
    shape = image.shape[:3]
    epi = compute_epi_mask(image)
    background = compute_background_mask(image)

    # Native-grid atlas: blocks of 3 x 4 x 5 voxels inside the EPI mask, labels 1..N with a gap.
    i, j, k = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    native = (1 + i // 3 + 4 * (j // 4) + 12 * (k // 5)).astype(np.int16)
    native[image.get_fdata().mean(axis=3) < 300] = 0  # background
    native[native == 7] = 0  # a label that does not exist
    native[native == 30] = 1000  # a large label value
    native_img = nib.Nifti1Image(native, image.affine)
    native_img.set_qform(image.affine, 1)
    native_img.to_filename(OUT / "labels_native.nii.gz")

    # Fine atlas on an axis-aligned 1 mm grid covering the data: labels by world octant
    # relative to the data's centre, plus a label far outside the data (lost in resampling).
    corners = np.array([[a, b, c, 1] for a in (0, shape[0] - 1) for b in (0, shape[1] - 1) for c in (0, shape[2] - 1)])
    world = corners @ image.affine.T
    low, high = world[:, :3].min(axis=0) - 3, world[:, :3].max(axis=0) + 3
    centre = world[:, :3].mean(axis=0)
    fine_shape = np.ceil(high - low).astype(int) + 1
    fine_affine = np.diag([1.0, 1.0, 1.0, 1.0])
    fine_affine[:3, 3] = low
    fx, fy, fz = np.meshgrid(*(np.arange(n) for n in fine_shape), indexing="ij")
    wx, wy, wz = fx + low[0], fy + low[1], fz + low[2]
    fine = (1 + (wx > centre[0]) + 2 * (wy > centre[1]) + 4 * (wz > centre[2])).astype(np.int16)
    fine[0, 0, 0] = 9  # one voxel in a corner, outside the data's field of view
    fine_img = nib.Nifti1Image(fine, fine_affine)
    fine_img.to_filename(OUT / "labels_fine.nii.gz")

    out = {"versions": {"nilearn": nilearn.__version__, "nibabel": nib.__version__},
           "epi_mask": fortran_flat(epi.get_fdata()), "background_mask": fortran_flat(background.get_fdata()),
           "labels": [], "spheres": []}
    for strategy in ["mean", "median", "sum", "minimum", "maximum", "standard_deviation"]:
        masker = NiftiLabelsMasker(native_img, strategy=strategy)
        signals = masker.fit_transform(image)
        out["labels"].append({"atlas": "labels_native.nii.gz", "strategy": strategy, "clean": None,
                              "region_ids": [int(v) for key, v in masker.region_ids_.items() if key != "background"],
                              "signals": exact(signals)})
    clean = dict(detrend=True, standardize="zscore_sample", low_pass=0.1, high_pass=0.01, t_r=1.35)
    masker = NiftiLabelsMasker(native_img, strategy="mean", **clean)
    out["labels"].append({"atlas": "labels_native.nii.gz", "strategy": "mean", "clean": clean,
                          "signals": exact(masker.fit_transform(image))})
    masker = NiftiLabelsMasker(fine_img, strategy="mean")
    out["labels"].append({"atlas": "labels_fine.nii.gz", "strategy": "mean", "clean": None,
                          "signals": exact(masker.fit_transform(image))})

    seeds = [tuple(float(v) for v in (image.affine @ np.array([4, 5, 9, 1]))[:3]),
             tuple(float(v) for v in (image.affine @ np.array([6, 2, 4, 1]))[:3]),
             tuple(float(v) for v in (image.affine @ np.array([7.3, 7.6, 14.2, 1]))[:3])]
    # nilearn 0.14 stores sphere means in the image's dtype (int16 here), truncating them;
    # give it float32 data so the reference is the true mean.
    float_image = nib.Nifti1Image(image.get_fdata(dtype=np.float32), image.affine)
    for radius in [None, 4.0]:
        masker = NiftiSpheresMasker(seeds, radius=radius)
        out["spheres"].append({"seeds": seeds, "radius": radius, "signals": exact(masker.fit_transform(float_image))})

    background_masker = NiftiMasker(mask_img=background, detrend=True, standardize="zscore_sample")
    out["voxels"] = {"mask": "background", "clean": {"detrend": True, "standardize": "zscore"},
                     "signals": exact(background_masker.fit_transform(image))}

    first = index_img(image, 0)
    out["smooth"] = {"fwhm": 5.0, "volume": exact(np.asarray(smooth_img(first, 5.0).get_fdata()).ravel(order="F"))}
    (OUT / "golden.json").write_text(json.dumps(out))
    print(f"wrote {OUT}/golden.json; EPI mask {len(out['epi_mask'])} voxels; native labels {out['labels'][0]['signals']['shape']}")


if __name__ == "__main__":
    main()
