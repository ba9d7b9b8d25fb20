"""Can the rollout objective be optimised from a random start? Multiple shooting with continuation.

`bench/rollout_fit.py` fits the polynomial field by deterministic rollouts over whole runs and
finds that a field near the system's has a *lower* misfit than the one it reaches from a random
start: the objective is right, its optimisation is not (a 240-volume rollout of a multistable
field is a rugged function of its coefficients). The classical remedy (Bock's multiple shooting,
as in parameter estimation for ODEs) cuts each run into windows of L volumes, each rolled out
from its own fitted initial state, and charges the gaps between a window's end and the next
window's start:

    x^w_{s+1} = x^w_s + d (phi(x^w_s) Theta + G c(s d)),   s within window w,
    misfit = sum_t |h_t - h_hat_t|^2_M + sum_w |x^w_end+ - x^{w+1}_0|^2 / (sigma^2 L TR),

h the HRF-convolved concatenation of the windows, h_hat the regions' sufficient statistic under
the known observation model (as in `rollout_fit.py`), sigma the diffusion (the gap variance is
the noise a window's determinism ignores). Short windows make the fit nearly a smoothing problem
(many free states, a locally determined field); the schedule of window lengths (`--windows`,
default 8,24,60,120,240 volumes) then lengthens them, each stage warm-started from the last,
until one window covers the run and the objective is `rollout_fit.py`'s. `--gap-scales` multiplies
each stage's gap weight, so that gaps can be closed at a fixed window length before the windows
merge (a second continuation, on the penalty instead of the length).

Scores per stage: misfit, the training rollouts' state R^2 (affine), the fitted field's stable
points against the visited true wells (aligned by the same affine map). At the end the held-out
subject's runs are inferred under the learned field (initial state fitted to its rollout, then
the MAP path of `inference_oracle.py`'s objective) and scored with the training map.

Usage: python bench/shooting_continuation.py DATASET [--windows 8,24,60,120,240] [--gap-scales 1,1,1,1,1]
       [--evaluations 40] [--start-at-truth] [--json OUT]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
from scipy.optimize import least_squares
from scipy.sparse import lil_matrix

sys.path.insert(0, os.path.dirname(__file__))
from diagnostic_cell import Cell, KnownObservation, add_cell_arguments, write_json  # noqa: E402
from em_polynomial import LearnedField, field_step  # noqa: E402
from inference_oracle import Problem  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_cell_arguments(parser)
    parser.add_argument("--diffusion", type=float, default=0.15)
    parser.add_argument("--windows", default="8,24,60,120,240", help="window lengths in volumes, each dividing the run")
    parser.add_argument("--gap-scales", help="per stage, a factor on the gap weight (default 1 for each window length);"
                        " e.g. --windows 8,8,8,240 --gap-scales 1,10,100,1 closes the gaps before the windows merge")
    parser.add_argument("--evaluations", type=int, default=40, help="least-squares evaluations per stage")
    parser.add_argument("--start-at-truth", action="store_true",
                        help="diagnostic: start from the field fitted to the true path and the true window states")
    parser.add_argument("--json")
    args = parser.parse_args()
    began = time.time()

    cell = Cell(args)
    k, step, tr, kernel, basis, train, test = cell.k, cell.step, cell.tr, cell.kernel, cell.basis, cell.train, cell.test
    volumes = len(train[0]["y"])
    if any(len(r["y"]) != volumes for r in cell.runs):
        sys.exit("shooting_continuation: every run must have the same number of volumes")
    lengths = [int(v) for v in args.windows.split(",")]
    if any(volumes % length for length in lengths):
        sys.exit(f"shooting_continuation: --windows {args.windows}: each length must divide the run's {volumes} volumes")
    scales = [float(v) for v in args.gap_scales.split(",")] if args.gap_scales else [1.0] * len(lengths)
    if len(scales) != len(lengths):
        sys.exit(f"shooting_continuation: --gap-scales needs one factor per window length ({len(lengths)}), got {len(scales)}")
    reach = int(np.ceil(len(kernel) / args.substeps)) + 1
    m_terms, c_count, r_count = len(basis.exponents), len(cell.conditions), len(train)

    # The known observation model: regions on the true BOLD-level latents of the training runs.
    observation = KnownObservation(train)
    loading, offset, precision = observation.loading, observation.offset, observation.precision
    root_metric = observation.root_metric
    statistic, inputs_of, convolved = observation.statistic, cell.inputs_of, cell.convolved

    stats = np.stack([statistic(r) for r in train])
    inputs = np.stack([inputs_of(r) for r in train])  # [R, N, C]

    def windowed_rollout(theta, gain, starts, drive_inputs):
        """starts [R, W, K] -> the windows' rollouts [R, W, S, K] and each window's next state [R, W, K]."""
        rc, w_count = starts.shape[:2]
        s_count = drive_inputs.shape[1] // w_count
        drive = (drive_inputs @ gain).reshape(rc * w_count, s_count, k)
        x = np.empty((rc * w_count, s_count, k))
        x[:, 0] = starts.reshape(-1, k)
        for s in range(s_count - 1):
            x[:, s + 1] = np.clip(x[:, s] + step * (basis.features(x[:, s]) @ theta + drive[:, s]), -6, 6)
        following = np.clip(x[:, -1] + step * (basis.features(x[:, -1]) @ theta + drive[:, -1]), -6, 6)
        return x.reshape(rc, w_count, s_count, k), following.reshape(rc, w_count, k)

    def unpack(v, w_count):
        theta = v[: m_terms * k].reshape(m_terms, k)
        gain = v[m_terms * k: (m_terms + c_count) * k].reshape(c_count, k)
        starts = v[(m_terms + c_count) * k:].reshape(r_count, w_count, k)
        return theta, gain, starts

    def make_residuals(w_count, length, scale):
        gap_weight = scale / (args.diffusion * np.sqrt(length * tr))

        def residuals(v):
            theta, gain, starts = unpack(v, w_count)
            x, following = windowed_rollout(theta, gain, starts, inputs)
            h = convolved(x.reshape(r_count, -1, k))
            observed = ((h - stats) @ root_metric).reshape(r_count, -1)
            gaps = ((following[:, :-1] - starts[:, 1:]) * gap_weight).reshape(r_count, -1)
            return np.concatenate([observed, gaps], axis=1).ravel()
        return residuals

    def sparsity(w_count, length):
        """Which residuals each parameter can move: the field and gains all; a window's start its
        run's volumes from the window to an HRF's reach past it, and the two gaps it touches."""
        per_run = volumes * k + (w_count - 1) * k
        dense = (m_terms + c_count) * k
        pattern = lil_matrix((r_count * per_run, dense + r_count * w_count * k), dtype=np.int8)
        pattern[:, :dense] = 1
        for r in range(r_count):
            base = r * per_run
            for w in range(w_count):
                columns = slice(dense + (r * w_count + w) * k, dense + (r * w_count + w + 1) * k)
                first, last = w * length, min(volumes, (w + 1) * length + reach)
                pattern[base + first * k: base + last * k, columns] = 1
                for gap in (w - 1, w):
                    if 0 <= gap < w_count - 1:
                        row = base + volumes * k + gap * k
                        pattern[row: row + k, columns] = 1
        return pattern

    # Start: the field refitted to each run's random-walk MAP path, window states on that path.
    if args.start_at_truth:
        paths = [np.repeat(r["neural"], args.substeps, axis=0) for r in train]
    else:
        still = LearnedField(basis, np.zeros((m_terms, k)))
        paths = []
        for run in train:
            problem = Problem(still, run["y"], np.zeros((volumes * args.substeps, k)), kernel, args.substeps, step,
                              loading, offset, precision, args.diffusion)
            paths.append(problem.solve(np.zeros((volumes * args.substeps, k)))[0])
    theta, gain = field_step(basis, paths, list(inputs), step)
    path = np.stack(paths)

    def alignment(path):
        return cell.alignment(list(path))

    def wells(theta, path, w):
        return cell.well_scores(LearnedField(basis, theta), list(path), w)

    stages = []
    for length, scale in zip(lengths, scales):
        w_count = volumes // length
        s_count = length * args.substeps
        starts = path[:, ::s_count][:, :w_count]
        v0 = np.concatenate([theta.ravel(), gain.ravel(), starts.ravel()])
        residuals = make_residuals(w_count, length, scale)
        start_cost = 0.5 * float((residuals(v0) ** 2).sum())
        fit = least_squares(residuals, v0, jac_sparsity=sparsity(w_count, length), method="trf",
                            max_nfev=args.evaluations, x_scale="jac")
        theta, gain, starts = unpack(fit.x, w_count)
        x, following = windowed_rollout(theta, gain, starts, inputs)
        path = x.reshape(r_count, -1, k)
        w, state_r2 = alignment(path)
        gap_sd = float(np.sqrt(np.mean((following[:, :-1] - starts[:, 1:]) ** 2))) if w_count > 1 else 0.0
        stage = dict(window=length, gap_scale=scale, windows_per_run=w_count, evaluations=int(fit.nfev), misfit_start=start_cost,
                     misfit=float(fit.cost), gap_rms=gap_sd, state_r2_train=float(state_r2), seconds=round(time.time() - began),
                     **wells(theta, path, w))
        stages.append(stage)
        print(json.dumps({key: value for key, value in stage.items() if key != "nearest_true_stable"}), flush=True)

    # Held-out subject: initial state fitted to the rollout, then the MAP path under the learned field.
    field = LearnedField(basis, theta)
    w, _ = alignment(path)
    test_inputs = np.stack([inputs_of(r) for r in test])
    test_stats = np.stack([statistic(r) for r in test])

    def test_residuals(s0):
        x, _ = windowed_rollout(theta, gain, s0.reshape(len(test), 1, k), test_inputs)
        return ((convolved(x.reshape(len(test), -1, k)) - test_stats) @ root_metric).ravel()
    test_starts = least_squares(test_residuals, np.zeros(len(test) * k), method="trf").x
    rolled, _ = windowed_rollout(theta, gain, test_starts.reshape(len(test), 1, k), test_inputs)
    rolled = rolled.reshape(len(test), -1, k)
    smoothed = []
    for i, run in enumerate(test):
        problem = Problem(field, run["y"], test_inputs[i] @ gain, kernel, args.substeps, step, loading, offset, precision,
                          args.diffusion)
        smoothed.append(problem.solve(rolled[i])[0])
    score = lambda paths: cell.aligned_r2(w, list(paths), test)
    report = dict(dataset=args.dataset, start_at_truth=args.start_at_truth, substeps=args.substeps, windows=lengths,
                  gap_scales=scales,
                  diffusion=args.diffusion, visited_wells=len(cell.visited), stages=stages,
                  state_r2_test_rollout=score(rolled), state_r2_test_smoothed=score(np.stack(smoothed)),
                  seconds=round(time.time() - began))
    print(json.dumps({key: value for key, value in report.items() if key != "stages"}, indent=1))
    if args.json:
        write_json(args.json, report)

if __name__ == "__main__":
    main()
