"""The simulated cell and the scores shared by issue 16's numpy diagnostics.

`rollout_fit.py`, `em_polynomial.py` and `shooting_continuation.py` read one dataset of
`fmridyn simulate`, split it by subject (training subjects, one held-out subject), integrate on a
grid of `substeps` points per TR, and score a learned polynomial field the same way:

- state R^2 after the affine map from the learned paths (at the TR) to the training subjects'
  neural-level truth, the same map applied to the held-out subject;
- the field's stable points, mapped by it, against the true stable points within 0.25: recall of
  the wells the data visit (at least 1% of the volumes within 0.25), recall of all, precision.

The known observation model (a diagnostic: the regions regressed on the true BOLD-level latents
of the training subjects, Ledoit-Wolf residual precision P) reduces the misfit to a K-dimensional
statistic: |y - B h - c|^2_P = |h - h_hat|^2_M + const, M = B P B^T, h_hat = M^-1 B P (y - c).
"""
import json
import os

import numpy as np
from sklearn.covariance import LedoitWolf

from em_polynomial import Polynomial, condition_matrix, fixed_points
from inference_oracle import glover_kernel, load, r2

WELL_RADIUS = 0.25


def add_cell_arguments(parser):
    """The dataset, atlas, split and integration grid every diagnostic takes."""
    parser.add_argument("dataset")
    parser.add_argument("--atlas", default=os.path.join(os.path.dirname(__file__), "..", "atlases", "power264.tsv"))
    parser.add_argument("--substeps", type=int, default=4, help="integration points per TR")
    parser.add_argument("--test-subject", default="sub-04")


def write_json(path, report):
    """Atomically: a temporary file, then a rename."""
    with open(path + ".tmp", "w") as handle:
        json.dump(report, handle, indent=1)
    os.replace(path + ".tmp", path)


class KnownObservation:
    """Regions on the true BOLD-level latents of `runs` (or on `targets`, per run [T, K]): loading
    B [K, R], offset c [R], precision P."""

    def __init__(self, runs, targets=None):
        targets = [r["bold"] for r in runs] if targets is None else targets
        design = np.column_stack([np.vstack(targets), np.ones(sum(len(r["y"]) for r in runs))])
        target = np.vstack([r["y"] for r in runs])
        beta, *_ = np.linalg.lstsq(design, target, rcond=None)
        self.loading, self.offset = beta[:-1], beta[-1]
        self.precision = LedoitWolf().fit(target - design @ beta).precision_
        self.metric = self.loading @ self.precision @ self.loading.T
        self.root_metric = np.linalg.cholesky(self.metric)

    def statistic(self, run):
        """h_hat [T, K], the regions' sufficient statistic for the BOLD-level latents."""
        return np.linalg.solve(self.metric, self.loading @ self.precision @ (run["y"] - self.offset).T).T


class Cell:
    """One simulated dataset, split into training runs and the held-out subject's runs."""

    def __init__(self, args):
        self.truth = json.load(open(os.path.join(args.dataset, "ground_truth", "fixed_points.json")))
        self.k = self.truth["dimension"]
        self.conditions = sorted(self.truth["condition_inputs"])
        self.runs = load(args.dataset, args.atlas)
        self.train = [r for r in self.runs if r["subject"] != args.test_subject]
        self.test = [r for r in self.runs if r["subject"] == args.test_subject]
        self.substeps = args.substeps
        self.tr = self.runs[0]["tr"]
        self.step = self.tr / args.substeps
        self.kernel = glover_kernel(self.step)
        self.basis = Polynomial(self.k)
        self.train_truth = np.vstack([r["neural"] for r in self.train])
        self.stable_true = np.array([p["z"] for p in self.truth["fixed_points"] if p["classification"] == "stable"], float)
        everywhere = np.vstack([r["neural"] for r in self.runs])
        self.visited = [s for s in self.stable_true
                        if (np.linalg.norm(everywhere - s, axis=1) <= WELL_RADIUS).mean() >= 0.01]

    def inputs_of(self, run):
        """The run's condition indicators on the integration grid [N, C]."""
        return condition_matrix(run["events"], np.arange(len(run["y"]) * self.substeps) * self.step, self.conditions)

    def convolved(self, paths):
        """Neural paths [R, N, K] -> BOLD-level paths at the TR [R, T, K] (Glover's HRF)."""
        n = paths.shape[1]
        out = np.empty((paths.shape[0], n // self.substeps, self.k))
        for r in range(paths.shape[0]):
            for j in range(self.k):
                out[r, :, j] = np.convolve(paths[r, :, j], self.kernel)[:n][:: self.substeps]
        return out

    def at_tr(self, paths):
        """Paths on the integration grid (a list or an array of [N, K]) -> stacked states at the TR."""
        return np.vstack([np.asarray(p)[:: self.substeps] for p in paths])

    def alignment(self, train_paths):
        """The affine map w [K+1, K] from the training paths to the truth, and its R^2."""
        states = self.at_tr(train_paths)
        design = np.column_stack([states, np.ones(len(states))])
        w, *_ = np.linalg.lstsq(design, self.train_truth, rcond=None)
        return w, float(r2(design @ w, self.train_truth, affine=False))

    def aligned_r2(self, w, paths, runs):
        """R^2 of `paths`, mapped by w, against the neural truth of `runs`."""
        states = self.at_tr(paths)
        return float(r2(np.column_stack([states, np.ones(len(states))]) @ w,
                        np.vstack([r["neural"] for r in runs]), affine=False))

    def well_scores(self, field, train_paths, w):
        """The field's fixed points (searched from the training paths), mapped by w, against the truth's."""
        found = fixed_points(field, np.vstack([np.asarray(p)[:: self.substeps * 4] for p in train_paths]))
        stable = [np.append(x, 1) @ w for x, is_stable in found if is_stable]
        nearest = [float(np.min(np.linalg.norm(self.stable_true - x, axis=1))) for x in stable]

        def recall(wells):
            if not len(wells):
                return float("nan")
            return float(np.mean([any(np.linalg.norm(x - s) <= WELL_RADIUS for x in stable) for s in wells]))
        return dict(fixed_points=len(found), stable_found=len(stable), recall_of_visited=recall(self.visited),
                    recall_all=recall(self.stable_true),
                    precision=float(np.mean([d <= WELL_RADIUS for d in nearest])) if stable else float("nan"),
                    nearest_true_stable=[round(d, 3) for d in nearest])
