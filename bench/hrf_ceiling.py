"""How much BOLD-level state R^2 the models' HRF discretisation can cost, on the simulator's truth.

The simulator convolves its neural latents with the Glover HRF on a TR/10 grid; `fit
--observation hrf` convolves the latents it infers with the Glover HRF sampled once per TR. This
takes the true neural latents at the volumes (`ground_truth/*_latents.tsv`, columns z1..zK),
convolves them with nilearn's Glover HRF at the TR (oversampling 1, 32 s), fits an affine map to
the true BOLD-level latents (bold_z1..bold_zK) per run and prints R^2 (the benchmark's state R^2):
the ceiling of a model whose neural state were exact. It also prints the affine fit of the neural
state itself (no HRF), which is what an instantaneous read-out of a perfect neural state gets.

Usage (one or more datasets written by `fmridyn simulate`):
    FMRIDYN_ATLAS_DIR=atlases fmridyn simulate --out /tmp/hrf/multistable --subjects 2 --runs 2 --volumes 240 --grid 4mm
    python bench/hrf_ceiling.py /tmp/hrf/multistable [...]
Needs numpy and nilearn (pip install nilearn).
"""
import glob
import sys

import numpy as np
from nilearn.glm.first_level.hemodynamic_models import glover_hrf


def r2(design, target):
    x = np.column_stack([design, np.ones(len(design))])
    beta, *_ = np.linalg.lstsq(x, target, rcond=None)
    residual = target - x @ beta
    return 1 - (residual ** 2).sum() / ((target - target.mean(0)) ** 2).sum()


for root in sys.argv[1:]:
    convolved, instantaneous = [], []
    for path in sorted(glob.glob(root + "/ground_truth/*_latents.tsv")):
        table = np.genfromtxt(path, delimiter="\t", names=True, dtype=None, encoding=None)
        names = table.dtype.names
        neural = np.column_stack([table[n] for n in names if n.startswith("z")]).astype(float)
        bold = np.column_stack([table[n] for n in names if n.startswith("bold_z")]).astype(float)
        tr = float(table["time_s"][1] - table["time_s"][0])
        kernel = glover_hrf(tr, oversampling=1, time_length=32.0)
        seen = np.column_stack([np.convolve(neural[:, d], kernel)[: len(neural)] for d in range(neural.shape[1])])
        convolved.append(r2(seen, bold))
        instantaneous.append(r2(neural, bold))
    print(f"{root}: {len(convolved)} runs; R^2 of the TR-sampled HRF of the true neural state "
          f"{min(convolved):.4f}-{max(convolved):.4f}; of the neural state itself {min(instantaneous):.3f}-{max(instantaneous):.3f}")
