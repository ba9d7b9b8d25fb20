"""Is the deterministic skeleton of the system identifiable from the regions? (a diagnostic)

The iterations of `bench/em_polynomial.py` lose the wells even when started at the truth: a
field refitted to an inferred path, however good, is flattened by the path's error. This fits
the field the other way round, with no inferred path at all: each training run's state is the
*rollout* of the field from a fitted initial state under the known events,

    x_{s+1} = x_s + d (phi(x_s) Theta + G c(s d)),   h_t = sum_l k_l x_{t n - l},

and Theta, G and the initial states minimise the observation misfit sum_t |y_t - B h_t - c|^2
in the metric Sigma^-1, with B, c and Sigma those of the inference oracle (read off the training
subjects' true BOLD-level latents). The simulated system is almost deterministic given the task
(diffusion 0.15 against wells 2 apart), so if the data identify the wells at all, this fit should
find them. The start is the field refitted to the random-walk MAP path (as `em_polynomial.py
--known-observation` starts). Scores as in `em_polynomial.py`: the rollout's state R^2 on the
training runs and the held-out subject's (its initial state fitted with the field kept), and the
fixed points of the fitted field against the visited true wells.

Usage: python bench/rollout_fit.py DATASET [--substeps 4] [--json OUT]
"""
import argparse
import json
import os
import sys

import numpy as np
from scipy.optimize import least_squares
from sklearn.covariance import LedoitWolf

sys.path.insert(0, os.path.dirname(__file__))
from em_polynomial import LearnedField, Polynomial, condition_matrix, field_step, fixed_points  # noqa: E402
from inference_oracle import Problem, glover_kernel, load, r2  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset")
    parser.add_argument("--atlas", default=os.path.join(os.path.dirname(__file__), "..", "atlases", "power264.tsv"))
    parser.add_argument("--substeps", type=int, default=4)
    parser.add_argument("--test-subject", default="sub-04")
    parser.add_argument("--max-evaluations", type=int, default=60)
    parser.add_argument("--start-at-truth", action="store_true",
                        help="diagnostic: start from the field fitted to the true path and the true initial states")
    parser.add_argument("--json")
    args = parser.parse_args()

    truth = json.load(open(args.dataset + "/ground_truth/fixed_points.json"))
    k = truth["dimension"]
    conditions = sorted(truth["condition_inputs"])
    runs = load(args.dataset, args.atlas)
    train = [r for r in runs if r["subject"] != args.test_subject]
    test = [r for r in runs if r["subject"] == args.test_subject]
    step = runs[0]["tr"] / args.substeps
    kernel = glover_kernel(step)
    basis = Polynomial(k)
    m_terms = len(basis.exponents)

    design = np.column_stack([np.vstack([r["bold"] for r in train]), np.ones(sum(len(r["y"]) for r in train))])
    target = np.vstack([r["y"] for r in train])
    beta, *_ = np.linalg.lstsq(design, target, rcond=None)
    loading, offset = beta[:-1], beta[-1]
    precision = LedoitWolf().fit(target - design @ beta).precision_
    # The misfit depends on h only through the K-dimensional statistic h_hat_t:
    # |y - B h - c|^2_P = |h - h_hat|^2_M + const, M = L P L^T, h_hat = M^-1 L P (y - c).
    metric = loading @ precision @ loading.T
    root_metric = np.linalg.cholesky(metric)
    def statistic(run):
        return np.linalg.solve(metric, loading @ precision @ (run["y"] - offset).T).T

    def inputs_of(run):
        return condition_matrix(run["events"], np.arange(len(run["y"]) * args.substeps) * step, conditions)

    def rollout(theta, gain, starts, inputs):
        """Batched over runs: [R, N, K]."""
        x = np.empty((len(starts), inputs[0].shape[0], k))
        x[:, 0] = starts
        drive = np.stack([u @ gain for u in inputs])
        for s in range(x.shape[1] - 1):
            x[:, s + 1] = np.clip(x[:, s] + step * (basis.features(x[:, s]) @ theta + drive[:, s]), -6, 6)
        return x

    def convolved(x):
        n = x.shape[1]
        out = np.empty((x.shape[0], n // args.substeps, k))
        for r in range(x.shape[0]):
            for j in range(k):
                out[r, :, j] = np.convolve(x[r, :, j], kernel)[:n][:: args.substeps]
        return out

    def unpack(v, count):
        theta = v[: m_terms * k].reshape(m_terms, k)
        gain = v[m_terms * k: (m_terms + len(conditions)) * k].reshape(len(conditions), k)
        starts = v[(m_terms + len(conditions)) * k:].reshape(count, k)
        return theta, gain, starts

    stats = [statistic(r) for r in train]
    inputs = [inputs_of(r) for r in train]

    def residuals(v):
        theta, gain, starts = unpack(v, len(train))
        h = convolved(rollout(theta, gain, starts, inputs))
        return np.concatenate([((h[i] - stats[i]) @ root_metric).ravel() for i in range(len(train))])

    # Start: the field refitted to each run's random-walk MAP path (or, as a diagnostic, to the
    # true path: is the truth near an optimum of this objective?).
    still = LearnedField(basis, np.zeros((m_terms, k)))
    walks = []
    for run in train:
        problem = Problem(still, run["y"], np.zeros((len(run["y"]) * args.substeps, k)), kernel, args.substeps, step,
                          loading, offset, precision, 0.15)
        walks.append(problem.solve(np.zeros((len(run["y"]) * args.substeps, k)))[0])
    if args.start_at_truth:
        truths = [np.repeat(r["neural"], args.substeps, axis=0) for r in train]
        theta0, gain0 = field_step(basis, truths, inputs, step)
        v0 = np.concatenate([theta0.ravel(), gain0.ravel(), np.vstack([t[0] for t in truths]).ravel()])
    else:
        theta0, gain0 = field_step(basis, walks, inputs, step)
        v0 = np.concatenate([theta0.ravel(), gain0.ravel(), np.vstack([w[0] for w in walks]).ravel()])
    print(f"start: misfit {0.5 * (residuals(v0) ** 2).sum():.0f}", flush=True)
    fit = least_squares(residuals, v0, method="trf", max_nfev=args.max_evaluations, verbose=1)
    theta, gain, starts = unpack(fit.x, len(train))
    field = LearnedField(basis, theta)
    paths = rollout(theta, gain, starts, inputs)

    # Held-out subject: only its initial states are fitted.
    test_stats = [statistic(r) for r in test]
    test_inputs = [inputs_of(r) for r in test]
    def test_residuals(s0):
        h = convolved(rollout(theta, gain, s0.reshape(len(test), k), test_inputs))
        return np.concatenate([((h[i] - test_stats[i]) @ root_metric).ravel() for i in range(len(test))])
    test_starts = least_squares(test_residuals, np.zeros(len(test) * k), method="trf").x.reshape(len(test), k)
    test_paths = rollout(theta, gain, test_starts, test_inputs)

    at = lambda x: x[:: args.substeps]
    train_truth = np.vstack([r["neural"] for r in train])
    design = np.column_stack([np.vstack([at(p) for p in paths]), np.ones(len(train_truth))])
    w, *_ = np.linalg.lstsq(design, train_truth, rcond=None)
    held = np.column_stack([np.vstack([at(p) for p in test_paths]), np.ones(sum(len(r["y"]) for r in test))])
    stable_true = np.array([p["z"] for p in truth["fixed_points"] if p["classification"] == "stable"], float)
    all_truth = np.vstack([r["neural"] for r in runs])
    visited = [s for s in stable_true if (np.linalg.norm(all_truth - s, axis=1) <= 0.25).mean() >= 0.01]
    found = fixed_points(field, np.vstack([p[:: args.substeps * 4] for p in paths]))
    stable_aligned = [np.append(x, 1) @ w for x, stable in found if stable]
    hit = lambda wells: float(np.mean([any(np.linalg.norm(x - s) <= 0.25 for x in stable_aligned) for s in wells]))
    report = dict(dataset=args.dataset, start_at_truth=args.start_at_truth, substeps=args.substeps, evaluations=int(fit.nfev), misfit=float(fit.cost),
                  state_r2_train=float(r2(design @ w, train_truth, affine=False)),
                  state_r2_test=float(r2(held @ w, np.vstack([r["neural"] for r in test]), affine=False)),
                  state_r2_train_unaligned=float(r2(np.vstack([at(p) for p in paths]), train_truth, affine=False)),
                  fixed_points=len(found), stable_found=len(stable_aligned), visited_wells=len(visited),
                  recall_of_visited=hit(visited), recall_all=hit(stable_true),
                  precision=float(np.mean([np.min(np.linalg.norm(stable_true - x, axis=1)) <= 0.25 for x in stable_aligned])) if stable_aligned else float("nan"),
                  nearest_true_stable=[float(np.min(np.linalg.norm(stable_true - x, axis=1))) for x in stable_aligned])
    print(json.dumps(report, indent=1))
    if args.json:
        with open(args.json + ".tmp", "w") as handle:
            json.dump(report, handle, indent=1)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
