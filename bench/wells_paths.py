"""Which step of the wells start loses the wells? (issue 16, session 32 diagnostic)

`WellsInitialisation` (the `node-wells-soft` start) reads its wells as the means of a Gaussian
mixture on a field-free neural path: the regions projected on the task GLM's K axes,
standardised, deconvolved by the model's kernel (first-difference penalty lambda: 0.3 in the
benchmark's variants; `--smoothing`, 1 in the recorded run). The
session 31 diagnostic found that these means never lie within 0.25 of a true well. This script
replaces one step at a time, from the truth down to what the start does, and scores the
mixture means of each path the way the benchmark scores stable points (mapped to the neural
truth by the path's affine alignment, recall of the visited wells within 0.25):

- `truth`: the neural-level truth itself (the mixture's ceiling);
- `bold-truth`: the true BOLD-level latents, standardised and deconvolved (the deconvolution alone);
- `known-gls`: the regions' GLS statistic under the observation read off the truth (loading B,
  Ledoit-Wolf residual precision P), deconvolved (noise weighted optimally);
- `glm-gls`: the same statistic with B and P estimated without the truth: B regressed from the
  regions on the task GLM's states, P from that regression's residuals;
- `glm-axes`: the start as it is (orthogonal projection on the GLM's axes);
- with `--alternations N`, also `glm-gls-N`: the `glm-gls` path with the observation re-estimated
  N times from the path's own convolution (deconvolution penalty `--alternation-smoothing`).

All 8 runs of the cell are used, as the start uses its training runs.

Usage: FMRIDYN_ATLAS_DIR=atlases fmridyn simulate --out D --subjects 4 --runs 2 --volumes 240 \
           --grid 4mm --seed S --noise 1 --system multistable
       python bench/wells_paths.py D [D ...] [--smoothing L] [--alternations N] [--json OUT]
Needs numpy, scipy, scikit-learn and nilearn.
"""
import argparse
import json
import os
import sys

import numpy as np
from sklearn.mixture import GaussianMixture

sys.path.insert(0, os.path.dirname(__file__))
from diagnostic_cell import WELL_RADIUS, KnownObservation, write_json  # noqa: E402
from em_polynomial import condition_matrix  # noqa: E402
from inference_oracle import glover_kernel, load  # noqa: E402

CONDITION_SPAN = 22.0  # seconds of FIR lags, as TaskGLM


def fir_design(onehot, lags):
    rows = np.zeros((len(onehot), onehot.shape[1] * lags))
    for lag in range(lags):
        rows[lag:, lag * onehot.shape[1]:(lag + 1) * onehot.shape[1]] = onehot[: len(onehot) - lag]
    return rows


def task_glm(runs, conditions, k, ridge=1.0):
    """The task GLM of TaskGLM.swift: FIR ridge fit, top-k axes of the centred fitted part, states."""
    lags = int(round(CONDITION_SPAN / runs[0]["tr"])) + 1
    designs = [fir_design(condition_matrix(r["events"], np.arange(len(r["y"])) * r["tr"], conditions), lags) for r in runs]
    a, x = np.vstack(designs), np.vstack([r["y"] for r in runs])
    w = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ x)
    fitted = a @ w
    _, _, vt = np.linalg.svd(fitted - fitted.mean(0), full_matrices=False)
    axes = vt[:k]
    return axes, [d @ w @ axes.T for d in designs]


def standardise(paths):
    stacked = np.vstack(paths)
    mean, sd = stacked.mean(0), stacked.std(0)
    return [(p - mean) / np.maximum(sd, 1e-12) for p in paths]


def deconvolve(scores, kernel, smoothing=1.0):
    """argmin_z |H z - s|^2 + lambda |D z|^2, H the causal convolution (steps before 0 take z_0)."""
    n = len(scores)
    h = np.zeros((n, n))
    for t in range(n):
        for j, weight in enumerate(kernel):
            h[t, max(t - j, 0)] += weight
    d = np.diff(np.eye(n), axis=0)
    return np.linalg.solve(h.T @ h + smoothing * d.T @ d + 1e-9 * np.eye(n), h.T @ scores)


def convolve(path, kernel):
    """(H z)_t = sum_j kernel_j z_{max(t - j, 0)}, the model's causal convolution."""
    out = np.zeros_like(path)
    for j, weight in enumerate(kernel):
        out += weight * path[np.maximum(np.arange(len(path)) - j, 0)]
    return out


def gls_statistic(runs, targets):
    """Each run's GLS statistic under the observation regressed from the regions on `targets`."""
    observation = KnownObservation(runs, targets)
    return [observation.statistic(r) for r in runs]


def late_rest(run, settle):
    """Volumes at the neural level's rest at least `settle` seconds after the last event ended,
    and the index of that event's condition (-1 before the first event)."""
    t = np.arange(len(run["y"])) * run["tr"]
    keep, previous = np.zeros(len(t), bool), np.full(len(t), -1)
    events = sorted(run["events"])
    for i, time in enumerate(t):
        active = any(onset <= time < onset + duration for onset, duration, _ in events)
        ended = [(onset + duration, name) for onset, duration, name in events if onset + duration <= time]
        if not active and ended and time - ended[-1][0] >= settle:
            keep[i] = True
            previous[i] = sorted(set(n for _, _, n in events)).index(ended[-1][1])
    return keep, previous


def score_points(points, w, wells, visited):
    """Points mapped by w: a [K+1, K] affine matrix, or a function of the points."""
    aligned = w(points) if callable(w) else np.column_stack([points, np.ones(len(points))]) @ w
    nearest = [float(np.min(np.linalg.norm(wells - m, axis=1))) for m in aligned]
    recalled = [any(np.linalg.norm(m - s) <= WELL_RADIUS for m in aligned) for s in visited]
    return dict(recall_visited=round(float(np.mean(recalled)), 3), within=int(sum(d <= WELL_RADIUS for d in nearest)),
                points=len(points), median_nearest=round(float(np.median(nearest)), 3))


def score(path_runs, runs, wells, visited, components, settle=6.0):
    states, truth = np.vstack(path_runs), np.vstack([r["neural"] for r in runs])
    design = np.column_stack([states, np.ones(len(states))])
    w, *_ = np.linalg.lstsq(design, truth, rcond=None)
    residual = truth - design @ w
    r2 = 1 - (residual ** 2).sum() / ((truth - truth.mean(0)) ** 2).sum()
    out = dict(state_r2=round(float(r2), 4))
    mixture_means = {n: GaussianMixture(n, covariance_type="full", n_init=3, random_state=0).fit(states).means_
                     for n in sorted(set(components) | {8})}
    for n in components:
        out[f"n{n}"] = score_points(mixture_means[n], w, wells, visited)
    marks = [late_rest(r, settle) for r in runs]
    rest = np.vstack([p[keep] for p, (keep, _) in zip(path_runs, marks)])
    previous = np.concatenate([before[keep] for keep, before in marks])
    for n in components:
        means = GaussianMixture(n, covariance_type="full", n_init=3, random_state=0).fit(rest).means_
        out[f"rest-n{n}"] = score_points(means, w, wells, visited)
    by_condition = np.array([rest[previous == c].mean(0) for c in sorted(set(previous))])
    out["rest-by-condition"] = score_points(by_condition, w, wells, visited)
    # The calibration map (Recovery.calibrationMap): the states regressed on the truth, inverted.
    forward, *_ = np.linalg.lstsq(np.column_stack([truth, np.ones(len(truth))]), states, rcond=None)
    calibrated = lambda p: np.linalg.lstsq(forward[:-1].T, (p - forward[-1]).T, rcond=None)[0].T  # noqa: E731
    out["rest-by-condition-calibrated"] = score_points(by_condition, calibrated, wells, visited)
    out["n8-calibrated"] = score_points(mixture_means[8], calibrated, wells, visited)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--atlas", default=os.path.join(os.path.dirname(__file__), "..", "atlases", "power264.tsv"))
    parser.add_argument("--components", default="4,8")
    parser.add_argument("--smoothing", type=float, default=1.0,
                        help="first-difference penalty of the deconvolutions (the recorded run: 1; the benchmark's start: 0.3)")
    parser.add_argument("--alternations", type=int, default=0)
    parser.add_argument("--alternation-smoothing", type=float, default=0.3)
    parser.add_argument("--json")
    args = parser.parse_args()
    components = [int(v) for v in args.components.split(",")]
    report = dict(script="bench/wells_paths.py", cells=[])
    for dataset in args.datasets:
        truth = json.load(open(os.path.join(dataset, "ground_truth", "fixed_points.json")))
        k, conditions = truth["dimension"], sorted(truth["condition_inputs"])
        runs = load(dataset, args.atlas)
        kernel = glover_kernel(runs[0]["tr"])
        wells = np.array([p["z"] for p in truth["fixed_points"] if p["classification"] == "stable"], float)
        everywhere = np.vstack([r["neural"] for r in runs])
        visited = [s for s in wells if (np.linalg.norm(everywhere - s, axis=1) <= WELL_RADIUS).mean() >= 0.01]
        axes, glm_states = task_glm(runs, conditions, k)
        deconvolved = lambda paths: [deconvolve(p, kernel, args.smoothing) for p in standardise(paths)]  # noqa: E731
        paths = {
            "truth": [r["neural"] for r in runs],
            "bold-truth": deconvolved([r["bold"] for r in runs]),
            "known-gls": deconvolved(gls_statistic(runs, [r["bold"] for r in runs])),
            "glm-gls": deconvolved(gls_statistic(runs, glm_states)),
            "glm-axes": deconvolved([r["y"] @ axes.T for r in runs]),
        }
        if args.alternations > 0:
            targets = glm_states
            for _ in range(args.alternations):
                path = [deconvolve(p, kernel, args.alternation_smoothing) for p in standardise(gls_statistic(runs, targets))]
                targets = [convolve(p, kernel) for p in path]
            paths[f"glm-gls-{args.alternations}"] = [deconvolve(p, kernel, args.alternation_smoothing)
                                                     for p in standardise(gls_statistic(runs, targets))]
        cell = dict(dataset=dataset, visited=len(visited), paths={name: score(p, runs, wells, visited, components)
                                                                   for name, p in paths.items()})
        print(json.dumps(cell), flush=True)
        report["cells"].append(cell)
    if args.json:
        write_json(args.json, report)


if __name__ == "__main__":
    main()
