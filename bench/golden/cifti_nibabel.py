"""CIFTI-2 fixtures written by nibabel, and nibabel's reading of them (Tests/Fixtures/cifti).

A dense timeseries of 20 time points (TR 0.72 s) over 50 grayordinates: 30 vertices of the
left cortex (of a 100-vertex surface) and 20 voxels of the left thalamus in a 4 x 5 x 6 grid;
a dense label file over the same grayordinates with three labels; a dense scalar file. Writes
expected.json: shapes, TR, brain models (offsets, counts, structures, vertex indices, voxel
indices), label table, and per-label mean timeseries.

Usage: .build/venv/bin/python bench/golden/cifti_nibabel.py (needs nibabel)
"""
import json
import pathlib

import nibabel as nib
import numpy as np
from nibabel import cifti2

OUT = pathlib.Path(__file__).resolve().parent.parent.parent / "Tests" / "Fixtures" / "cifti"
rng = np.random.default_rng(7)

vertices = np.sort(rng.choice(100, size=30, replace=False))
voxels = np.array([[i, j, k] for i in range(4) for j in range(5) for k in range(6)])[rng.choice(120, size=20, replace=False)]
affine = np.array([[-2.0, 0, 0, 90], [0, 2, 0, -126], [0, 0, 2, -72], [0, 0, 0, 1]])
surface = cifti2.BrainModelAxis.from_mask(np.isin(np.arange(100), vertices), name="CortexLeft")
volume_mask = np.zeros((4, 5, 6), bool)
volume_mask[tuple(voxels.T)] = True
volume = cifti2.BrainModelAxis.from_mask(volume_mask, affine=affine, name="ThalamusLeft")
brain = surface + volume
series = cifti2.SeriesAxis(start=0, step=0.72, size=20, unit="second")
data = rng.normal(size=(20, 50)).astype(np.float32) + np.arange(50, dtype=np.float32)[None, :] * 0.1
nib.Cifti2Image(data, header=(series, brain)).to_filename(OUT / "sim.dtseries.nii")

keys = np.array([1] * 12 + [2] * 18 + [3] * 15 + [0] * 5, dtype=np.float32)[None, :]
table = {0: ("???", (0, 0, 0, 0)), 1: ("motor_left", (1, 0, 0, 1)), 2: ("visual_left", (0, 1, 0, 1)), 3: ("thalamus_left", (0, 0, 1, 1))}
labels = cifti2.LabelAxis(["parcels"], [table])
nib.Cifti2Image(keys, header=(labels, brain)).to_filename(OUT / "sim.dlabel.nii")
scalars = cifti2.ScalarAxis(["thickness", "curvature"])
nib.Cifti2Image(rng.normal(size=(2, 50)).astype(np.float32), header=(scalars, brain)).to_filename(OUT / "sim.dscalar.nii")

image = nib.load(OUT / "sim.dtseries.nii")
values = np.asarray(image.get_fdata())
axis = image.header.get_axis(1)
models = []
for name, slc, model in axis.iter_structures():
    start, stop, _ = slc.indices(len(axis))
    entry = {"structure": name, "offset": int(start), "count": int(stop - start)}
    if name.startswith("CIFTI_STRUCTURE_CORTEX"):
        entry["vertices"] = [int(v) for v in model.vertex]
        entry["surface_vertices"] = int(model.nvertices[name])
    else:
        entry["voxels"] = [[int(c) for c in ijk] for ijk in model.voxel]
    models.append(entry)
label_image = nib.load(OUT / "sim.dlabel.nii")
key_row = np.asarray(label_image.get_fdata())[0]
means = {str(key): values[:, key_row == key].mean(axis=1).tolist() for key in (1, 2, 3)}
expected = {
    "nibabel": nib.__version__,
    "dtseries": {"shape": list(values.shape), "step": float(image.header.get_axis(0).step), "unit": image.header.get_axis(0).unit,
                 "models": models, "first_values": values[0, :5].tolist(), "last_grayordinate": values[:, 49].tolist(),
                 "volume_shape": list(axis.volume_shape), "affine": axis.affine.tolist()},
    "dlabel": {"keys": key_row.astype(int).tolist(), "labels": {str(k): v[0] for k, v in table.items()}},
    "region_means": means,
    "dscalar": {"shape": list(nib.load(OUT / "sim.dscalar.nii").shape), "names": ["thickness", "curvature"]},
}
(OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
print("wrote", OUT)
