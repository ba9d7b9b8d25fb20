"""GIfTI fixtures written by nibabel, and nibabel's reading of them (Tests/Fixtures/gifti).

A functional file of 12 time points (TR 720 ms in the TimeStep metadata) over 40 vertices,
one DataArray per time point, in each of GIfTI's three encodings (GZipBase64Binary,
Base64Binary, ASCII), and a label file over the same 40 vertices with three labels. Writes
expected.json: shape, encodings, first values, label keys and table, per-label means.

Usage: .build/venv/bin/python bench/golden/gifti_nibabel.py (needs nibabel)
"""
import json
import pathlib

import nibabel as nib
import numpy as np
from nibabel.gifti import GiftiDataArray, GiftiImage, GiftiLabel, GiftiLabelTable, GiftiMetaData

OUT = pathlib.Path(__file__).resolve().parent.parent.parent / "Tests" / "Fixtures" / "gifti"
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(11)
data = (rng.normal(size=(12, 40)) + np.arange(40)[None, :] * 0.05).astype(np.float32)
for encoding, name in (("GIFTI_ENCODING_B64GZ", "sim.func.gii"), ("GIFTI_ENCODING_B64BIN", "sim_base64.func.gii"), ("GIFTI_ENCODING_ASCII", "sim_ascii.func.gii")):
    arrays = [GiftiDataArray(row, intent="NIFTI_INTENT_TIME_SERIES", datatype="NIFTI_TYPE_FLOAT32", encoding=encoding,
                             meta=GiftiMetaData({"TimeStep": "720.000000"})) for row in data]
    nib.save(GiftiImage(darrays=arrays), OUT / name)

keys = np.array([1] * 15 + [2] * 15 + [3] * 6 + [0] * 4, dtype=np.int32)
table = GiftiLabelTable()
for key, label in ((0, "???"), (1, "precentral"), (2, "postcentral"), (3, "insula")):
    entry = GiftiLabel(key=key, red=0.5, green=0.5, blue=0.5, alpha=1)
    entry.label = label
    table.labels.append(entry)
labels = GiftiImage(darrays=[GiftiDataArray(keys, intent="NIFTI_INTENT_LABEL", datatype="NIFTI_TYPE_INT32", encoding="GIFTI_ENCODING_B64GZ")],
                    labeltable=table)
nib.save(labels, OUT / "sim.label.gii")

image = nib.load(OUT / "sim.func.gii")
values = np.vstack([array.data for array in image.darrays])
expected = {
    "nibabel": nib.__version__,
    "func": {"shape": list(values.shape), "time_step_ms": float(image.darrays[0].meta["TimeStep"]), "first_row": values[0, :6].tolist(),
             "last_vertex": values[:, 39].tolist()},
    "label": {"keys": keys.tolist(), "table": {"0": "???", "1": "precentral", "2": "postcentral", "3": "insula"}},
    "region_means": {str(k): values[:, keys == k].mean(axis=1).tolist() for k in (1, 2, 3)},
}
(OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
print("wrote", OUT)
