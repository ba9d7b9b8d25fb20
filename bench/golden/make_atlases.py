"""Builds the bundled atlases in atlases/ from the shared fixtures (run once; outputs committed).

- power264.tsv, dosenbach160.tsv, seitzman300.tsv: coordinate tables (x, y, z in MNI mm,
  label, network) from the published coordinates distributed by nilearn.
- mni152_2009_brain_mask_2mm.nii.gz, mni152_2009_gm_mask_2mm.nii.gz: nilearn's
  load_mni152_brain_mask / load_mni152_gm_mask rules (template scaled to [0, 1], resampled to
  2 mm by nilearn's resample_img, threshold 0.2; grey matter then closed twice) applied to the
  MNI ICBM152 2009a templates.

Run from the repository root with ../shared present: python3 bench/golden/make_atlases.py
"""
import pathlib

import nibabel as nib
import numpy as np
import pandas as pd
from nilearn.image import new_img_like, resample_img
from scipy.ndimage import binary_closing

SHARED = pathlib.Path("../shared/fixtures")
OUT = pathlib.Path("atlases")


def coordinate_tables():
    power = pd.read_csv(SHARED / "atlases/power_2011.csv")
    pd.DataFrame({"x": power["X"], "y": power["Y"], "z": power["Z"], "label": [f"power_{i:03d}" for i in power["ROI"]],
                  "network": "n/a"}).to_csv(OUT / "power264.tsv", sep="\t", index=False)
    dosenbach = pd.read_csv(SHARED / "atlases/dosenbach_2010.csv")
    pd.DataFrame({"x": dosenbach["x"], "y": dosenbach["y"], "z": dosenbach["z"],
                  "label": [f"{name.replace(' ', '_')}_{number}" for name, number in zip(dosenbach["name"], dosenbach["number"])],
                  "network": dosenbach["network"]}).to_csv(OUT / "dosenbach160.tsv", sep="\t", index=False)
    seitzman = pd.read_csv(SHARED / "atlases/seitzman_2018_ROIs_300inVol_MNI_allInfo.txt", sep=" ")
    legend_line, *codes = (SHARED / "atlases/seitzman_2018_ROIs_anatomicalLabels.txt").read_text().split()
    legend = dict(item.split("=") for item in legend_line.split(","))
    pd.DataFrame({"x": seitzman["x"], "y": seitzman["y"], "z": seitzman["z"],
                  "label": [f"seitzman_{i + 1:03d}_{legend[code]}" for i, code in enumerate(codes)],
                  "network": seitzman["netName"]}).to_csv(OUT / "seitzman300.tsv", sep="\t", index=False)


def scaled(path):
    image = nib.load(path)
    data = np.asarray(image.dataobj).astype("float32")
    data /= data.max()
    return resample_img(new_img_like(image, data), np.eye(3) * 2, interpolation="continuous",
                        force_resample=True, copy_header=True)


def masks():
    brain = scaled(SHARED / "templates/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz")
    mask = (brain.get_fdata() > 0.2).astype("uint8")
    nib.Nifti1Image(mask, brain.affine).to_filename(OUT / "mni152_2009_brain_mask_2mm.nii.gz")
    grey = scaled(SHARED / "templates/mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz")
    gm = binary_closing((grey.get_fdata() > 0.2).astype("int8"), iterations=2).astype("uint8")
    nib.Nifti1Image(gm, grey.affine).to_filename(OUT / "mni152_2009_gm_mask_2mm.nii.gz")
    print("brain mask", mask.shape, int(mask.sum()), "voxels; grey matter", int(gm.sum()))


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    coordinate_tables()
    masks()
