"""Golden header values for the NIfTI fixtures, read with nibabel.

expected.json records what nibabel reports after loading (where scl_slope/scl_inter are reset
to NaN once the scaling moved into the data proxy). This script adds the raw header fields the
Swift tests also check: stored slope/intercept, qform affine, byte order and vox_offset.

Run from the repository root:  python3 bench/golden/nifti_headers.py
Writes Tests/Fixtures/nifti/headers.json.
"""
import gzip
import json
import pathlib

import nibabel as nib
import numpy as np

FIXTURES = pathlib.Path("Tests/Fixtures/nifti")


def raw_header(path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        block = handle.read(540)
    size_le = int.from_bytes(block[:4], "little")
    size_be = int.from_bytes(block[:4], "big")
    version = 2 if 540 in (size_le, size_be) else 1
    klass = nib.Nifti2Header if version == 2 else nib.Nifti1Header
    endian = "<" if size_le in (348, 540) else ">"
    return klass(block[: klass.sizeof_hdr], endianness=endian, check=False), endian


def main():
    out = {}
    for path in sorted(FIXTURES.glob("*.nii*")):
        header, endian = raw_header(path)
        qform = header.get_qform() if int(header["qform_code"]) > 0 else None
        out[path.name] = {
            "raw_scl_slope": float(header["scl_slope"]),
            "raw_scl_inter": float(header["scl_inter"]),
            "big_endian": endian == ">",
            "vox_offset": float(header["vox_offset"]),
            "qform_affine": None if qform is None else np.asarray(qform, dtype=float).tolist(),
            "description": header["descrip"].item().split(b"\x00")[0].decode("latin-1"),
        }
    target = FIXTURES / "headers.json"
    target.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
