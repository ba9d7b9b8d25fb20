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

sys.path.insert(0, os.path.dirname(__file__))
from diagnostic_cell import Cell, KnownObservation, add_cell_arguments, write_json  # noqa: E402
from em_polynomial import LearnedField, field_step  # noqa: E402
from inference_oracle import Problem, r2  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_cell_arguments(parser)
    parser.add_argument("--max-evaluations", type=int, default=60)
    parser.add_argument("--start-at-truth", action="store_true",
                        help="diagnostic: start from the field fitted to the true path and the true initial states")
    parser.add_argument("--json")
    args = parser.parse_args()

    cell = Cell(args)
    k, step, basis, train, test = cell.k, cell.step, cell.basis, cell.train, cell.test
    m_terms = len(basis.exponents)
    observation = KnownObservation(train)

    def rollout(theta, gain, starts, inputs):
        """Batched over runs: [R, N, K]."""
        x = np.empty((len(starts), inputs[0].shape[0], k))
        x[:, 0] = starts
        drive = np.stack([u @ gain for u in inputs])
        for s in range(x.shape[1] - 1):
            x[:, s + 1] = np.clip(x[:, s] + step * (basis.features(x[:, s]) @ theta + drive[:, s]), -6, 6)
        return x

    def unpack(v, count):
        theta = v[: m_terms * k].reshape(m_terms, k)
        gain = v[m_terms * k: (m_terms + len(cell.conditions)) * k].reshape(len(cell.conditions), k)
        starts = v[(m_terms + len(cell.conditions)) * k:].reshape(count, k)
        return theta, gain, starts

    def misfit_residuals(theta, gain, starts, runs, inputs):
        h = cell.convolved(rollout(theta, gain, starts, inputs))
        return np.concatenate([((h[i] - observation.statistic(run)) @ observation.root_metric).ravel()
                               for i, run in enumerate(runs)])

    inputs = [cell.inputs_of(r) for r in train]

    def residuals(v):
        theta, gain, starts = unpack(v, len(train))
        return misfit_residuals(theta, gain, starts, train, inputs)

    # Start: the field refitted to each run's random-walk MAP path (or, as a diagnostic, to the
    # true path: is the truth near an optimum of this objective?).
    still = LearnedField(basis, np.zeros((m_terms, k)))
    walks = []
    for run in train:
        problem = Problem(still, run["y"], np.zeros((len(run["y"]) * args.substeps, k)), cell.kernel, args.substeps, step,
                          observation.loading, observation.offset, observation.precision, 0.15)
        walks.append(problem.solve(np.zeros((len(run["y"]) * args.substeps, k)))[0])
    starting = [np.repeat(r["neural"], args.substeps, axis=0) for r in train] if args.start_at_truth else walks
    theta0, gain0 = field_step(basis, starting, inputs, step)
    v0 = np.concatenate([theta0.ravel(), gain0.ravel(), np.vstack([p[0] for p in starting]).ravel()])
    print(f"start: misfit {0.5 * (residuals(v0) ** 2).sum():.0f}", flush=True)
    fit = least_squares(residuals, v0, method="trf", max_nfev=args.max_evaluations, verbose=1)
    theta, gain, starts = unpack(fit.x, len(train))
    field = LearnedField(basis, theta)
    paths = rollout(theta, gain, starts, inputs)

    # Held-out subject: only its initial states are fitted.
    test_inputs = [cell.inputs_of(r) for r in test]
    test_starts = least_squares(lambda s0: misfit_residuals(theta, gain, s0.reshape(len(test), k), test, test_inputs),
                                np.zeros(len(test) * k), method="trf").x.reshape(len(test), k)
    test_paths = rollout(theta, gain, test_starts, test_inputs)

    w, train_r2 = cell.alignment(paths)
    report = dict(dataset=args.dataset, start_at_truth=args.start_at_truth, substeps=args.substeps, evaluations=int(fit.nfev),
                  misfit=float(fit.cost), state_r2_train=train_r2, state_r2_test=cell.aligned_r2(w, test_paths, test),
                  state_r2_train_unaligned=float(r2(cell.at_tr(paths), cell.train_truth, affine=False)),
                  visited_wells=len(cell.visited), **cell.well_scores(field, paths, w))
    print(json.dumps(report, indent=1))
    if args.json:
        write_json(args.json, report)


if __name__ == "__main__":
    main()
