"""The multiple-shooting objective of issue 16's rollout diagnostics, shared by the scripts that fit it.

Each training run is cut into W windows of L volumes; window w is the deterministic rollout of the
polynomial field from its own initial state under the known events, and the gaps between a
window's next state and the following window's start are charged as transition noise:

    x^w_{s+1} = x^w_s + d (phi(x^w_s) Theta + G c(s d)),   s within window w,
    misfit = sum_t |h_t - h_hat_t|^2_M + sum_w |x^w_end+ - x^{w+1}_0|^2 / (sigma^2 L TR),

h the HRF-convolved concatenation of the windows, h_hat the regions' sufficient statistic under the
known observation model (`diagnostic_cell.KnownObservation`). W = 1 is the whole-run rollout fit of
`rollout_fit.py`. `Shooting.fit` runs one stage (scipy's trust-region least squares with the
Jacobian's sparsity); `Shooting.held_out` scores a learned field on the held-out subject.
"""
import time

import numpy as np
from scipy.optimize import least_squares
from scipy.sparse import lil_matrix

from diagnostic_cell import KnownObservation
from em_polynomial import LearnedField
from inference_oracle import Problem


class Shooting:
    """The objective on one cell's training runs (every run of the same length)."""

    def __init__(self, cell, diffusion, observation=None):
        """`observation`: the misfit's observation model (default: read off the truth)."""
        self.cell, self.diffusion = cell, diffusion
        self.k, self.step = cell.k, cell.step
        self.volumes = len(cell.train[0]["y"])
        if any(len(r["y"]) != self.volumes for r in cell.runs):
            raise ValueError("shooting: every run must have the same number of volumes")
        self.reach = int(np.ceil(len(cell.kernel) / cell.substeps)) + 1
        self.m_terms, self.c_count, self.r_count = len(cell.basis.exponents), len(cell.conditions), len(cell.train)
        self.set_observation(KnownObservation(cell.train) if observation is None else observation)
        self.inputs = np.stack([cell.inputs_of(r) for r in cell.train])  # [R, N, C]

    def set_observation(self, observation):
        """Replaces the observation model and the training runs' statistics under it."""
        self.observation = observation
        self.stats = np.stack([observation.statistic(r) for r in self.cell.train])

    def windowed_rollout(self, theta, gain, starts, drive_inputs):
        """starts [R, W, K] -> the windows' rollouts [R, W, S, K] and each window's next state [R, W, K]."""
        k, step, features = self.k, self.step, self.cell.basis.features
        rc, w_count = starts.shape[:2]
        s_count = drive_inputs.shape[1] // w_count
        drive = (drive_inputs @ gain).reshape(rc * w_count, s_count, k)
        x = np.empty((rc * w_count, s_count, k))
        x[:, 0] = starts.reshape(-1, k)
        for s in range(s_count - 1):
            x[:, s + 1] = np.clip(x[:, s] + step * (features(x[:, s]) @ theta + drive[:, s]), -6, 6)
        following = np.clip(x[:, -1] + step * (features(x[:, -1]) @ theta + drive[:, -1]), -6, 6)
        return x.reshape(rc, w_count, s_count, k), following.reshape(rc, w_count, k)

    def pack(self, theta, gain, starts):
        return np.concatenate([theta.ravel(), gain.ravel(), starts.ravel()])

    def unpack(self, v, w_count):
        k, m, c = self.k, self.m_terms, self.c_count
        theta = v[: m * k].reshape(m, k)
        gain = v[m * k: (m + c) * k].reshape(c, k)
        starts = v[(m + c) * k:].reshape(self.r_count, w_count, k)
        return theta, gain, starts

    def residuals(self, w_count, length, scale=1.0):
        gap_weight = scale / (self.diffusion * np.sqrt(length * self.cell.tr))
        root_metric, r_count, k = self.observation.root_metric, self.r_count, self.k

        def residuals(v):
            theta, gain, starts = self.unpack(v, w_count)
            x, following = self.windowed_rollout(theta, gain, starts, self.inputs)
            h = self.cell.convolved(x.reshape(r_count, -1, k))
            observed = ((h - self.stats) @ root_metric).reshape(r_count, -1)
            gaps = ((following[:, :-1] - starts[:, 1:]) * gap_weight).reshape(r_count, -1)
            return np.concatenate([observed, gaps], axis=1).ravel()
        return residuals

    def sparsity(self, w_count, length):
        """Which residuals each parameter can move: the field and gains all; a window's start its
        run's volumes from the window to an HRF's reach past it, and the two gaps it touches."""
        k, volumes = self.k, self.volumes
        per_run = volumes * k + (w_count - 1) * k
        dense = (self.m_terms + self.c_count) * k
        pattern = lil_matrix((self.r_count * per_run, dense + self.r_count * w_count * k), dtype=np.int8)
        pattern[:, :dense] = 1
        for r in range(self.r_count):
            base = r * per_run
            for w in range(w_count):
                columns = slice(dense + (r * w_count + w) * k, dense + (r * w_count + w + 1) * k)
                first, last = w * length, min(volumes, (w + 1) * length + self.reach)
                pattern[base + first * k: base + last * k, columns] = 1
                for gap in (w - 1, w):
                    if 0 <= gap < w_count - 1:
                        row = base + volumes * k + gap * k
                        pattern[row: row + k, columns] = 1
        return pattern

    def fit(self, theta, gain, path, length, evaluations, scale=1.0, began=None):
        """One stage from (theta, gain) and window starts read off `path` [R, N, K]; returns the
        fitted (theta, gain, starts), the stage's windows stitched into a path, and its record."""
        began = time.time() if began is None else began
        w_count = self.volumes // length
        s_count = length * self.cell.substeps
        starts = path[:, ::s_count][:, :w_count]
        v0 = self.pack(theta, gain, starts)
        residuals = self.residuals(w_count, length, scale)
        start_cost = 0.5 * float((residuals(v0) ** 2).sum())
        result = least_squares(residuals, v0, jac_sparsity=self.sparsity(w_count, length), method="trf",
                               max_nfev=evaluations, x_scale="jac")
        theta, gain, starts = self.unpack(result.x, w_count)
        x, following = self.windowed_rollout(theta, gain, starts, self.inputs)
        path = x.reshape(self.r_count, -1, self.k)
        w, state_r2 = self.cell.alignment(list(path))
        gap_sd = float(np.sqrt(np.mean((following[:, :-1] - starts[:, 1:]) ** 2))) if w_count > 1 else 0.0
        record = dict(window=length, gap_scale=scale, windows_per_run=w_count, evaluations=int(result.nfev),
                      misfit_start=start_cost, misfit=float(result.cost), gap_rms=gap_sd, state_r2_train=float(state_r2),
                      seconds=round(time.time() - began),
                      **self.cell.well_scores(LearnedField(self.cell.basis, theta), list(path), w))
        return (theta, gain, starts), path, record

    def held_out(self, theta, gain, path):
        """The held-out subject under the learned field: the state R^2 (training alignment of
        `path`) of its rollout from a fitted initial state, and of the MAP path started there;
        and that rollout [R_test, N, K] (for scores at other levels)."""
        cell, k, obs = self.cell, self.k, self.observation
        test = cell.test
        w, _ = cell.alignment(list(path))
        test_inputs = np.stack([cell.inputs_of(r) for r in test])
        test_stats = np.stack([obs.statistic(r) for r in test])

        def test_residuals(s0):
            x, _ = self.windowed_rollout(theta, gain, s0.reshape(len(test), 1, k), test_inputs)
            return ((cell.convolved(x.reshape(len(test), -1, k)) - test_stats) @ obs.root_metric).ravel()
        test_starts = least_squares(test_residuals, np.zeros(len(test) * k), method="trf").x
        rolled, _ = self.windowed_rollout(theta, gain, test_starts.reshape(len(test), 1, k), test_inputs)
        rolled = rolled.reshape(len(test), -1, k)
        field = LearnedField(cell.basis, theta)
        smoothed = []
        for i, run in enumerate(test):
            problem = Problem(field, run["y"], test_inputs[i] @ gain, cell.kernel, cell.substeps, self.step, obs.loading,
                              obs.offset, obs.precision, self.diffusion)
            smoothed.append(problem.solve(rolled[i])[0])
        scores = dict(state_r2_test_rollout=cell.aligned_r2(w, list(rolled), test),
                      state_r2_test_smoothed=cell.aligned_r2(w, smoothed, test))
        return scores, rolled

    def random_walk_paths(self):
        """Each training run's MAP path with no field (a random walk driven by nothing)."""
        cell, obs, k = self.cell, self.observation, self.k
        still = LearnedField(cell.basis, np.zeros((self.m_terms, k)))
        n = self.volumes * cell.substeps
        paths = []
        for run in cell.train:
            problem = Problem(still, run["y"], np.zeros((n, k)), cell.kernel, cell.substeps, self.step,
                              obs.loading, obs.offset, obs.precision, self.diffusion)
            paths.append(problem.solve(np.zeros((n, k)))[0])
        return paths
