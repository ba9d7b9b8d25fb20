"""Multiple shooting whose windows merge only where the merge costs nothing (a diagnostic).

`shooting_continuation.py` lengthens every window on a fixed schedule (8, 24, 60, 120, 240
volumes); on seeds 2 and 11 each lengthening restarts the fit far from the last stage, because a
stage's windows, joined end to end, are not a rollout of its own field where the path passes
between wells. Here each window keeps its own length. After a stage is fitted, every second
interior boundary of a run is tried for removal in one rollout (removing non-adjacent boundaries
changes only the merged windows): boundary j goes when

    misfit(merged window) + gap(j + 1) - misfit(windows j - 1 and j) - gap(j + 1) - gap(j) <= tolerance,

misfits and gaps as in `shooting_continuation.py` (cost 0.5 |r|^2; a gap after a window of L
volumes weighted 1 / (sigma sqrt(L TR))). Stages alternate between the even and the odd
boundaries, each refitted from the last (`--evaluations` least-squares evaluations), until
neither parity has a boundary to remove or `--stages` is reached. What is left is the shooting
version of the SDE's MAP path: a deterministic rollout wherever the field can carry the data, a
kick of transition noise where it cannot.

Scores as in `shooting_continuation.py`, per stage and for the held-out subject (a single
rollout from a fitted initial state, then the MAP path under the learned field).

Usage: python bench/adaptive_shooting.py DATASET [--initial-window 8] [--tolerance K]
       [--evaluations 20] [--stages 12] [--json OUT]
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


class Layout:
    """Per run, the volumes at which a window starts (the first is 0), and the flat index of each window."""

    def __init__(self, boundaries, volumes):
        self.boundaries = [list(b) for b in boundaries]
        self.volumes = volumes
        self.first = np.cumsum([0] + [len(b) for b in self.boundaries])[:-1]
        self.count = int(sum(len(b) for b in self.boundaries))

    def lengths(self, r):
        b = self.boundaries[r]
        return np.diff(b + [self.volumes])

    def without(self, removed):
        """removed: set of (run, window index) -> the layout without those boundaries."""
        return Layout([[v for j, v in enumerate(b) if (r, j) not in removed] for r, b in enumerate(self.boundaries)],
                      self.volumes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_cell_arguments(parser)
    parser.add_argument("--diffusion", type=float, default=0.15)
    parser.add_argument("--initial-window", type=int, default=8, help="volumes per window at the start")
    parser.add_argument("--tolerance", type=float, help="largest cost increase a merge may bring (default: K)")
    parser.add_argument("--evaluations", type=int, default=20, help="least-squares evaluations per stage")
    parser.add_argument("--stages", type=int, default=12, help="merge stages after the first fit, at the most")
    parser.add_argument("--json")
    args = parser.parse_args()
    began = time.time()

    cell = Cell(args)
    k, step, tr, basis, train, test = cell.k, cell.step, cell.tr, cell.basis, cell.train, cell.test
    volumes = len(train[0]["y"])
    if any(len(r["y"]) != volumes for r in cell.runs):
        sys.exit("adaptive_shooting: every run must have the same number of volumes")
    if volumes % args.initial_window:
        sys.exit(f"adaptive_shooting: --initial-window {args.initial_window} must divide the run's {volumes} volumes")
    tolerance = float(k) if args.tolerance is None else args.tolerance
    reach = int(np.ceil(len(cell.kernel) / args.substeps)) + 1
    m_terms, c_count, r_count = len(basis.exponents), len(cell.conditions), len(train)
    dense = (m_terms + c_count) * k

    observation = KnownObservation(train)
    stats = np.stack([observation.statistic(r) for r in train])  # [R, T, K]
    inputs = np.stack([cell.inputs_of(r) for r in train])  # [R, N, C]

    def rollout(theta, gain, starts, layout, drive_inputs):
        """starts [W, K] (flat over runs) -> paths [R, N, K] and, per window, the state the previous
        window's rollout reaches at its first point (rows of first windows unused)."""
        rc, n = drive_inputs.shape[:2]
        drive = drive_inputs @ gain
        resets = {}
        for r, b in enumerate(layout.boundaries):
            for j, v in enumerate(b[1:], start=1):
                resets.setdefault(v * args.substeps, []).append((r, layout.first[r] + j))
        resets = {s: (np.array([a for a, _ in pairs]), np.array([i for _, i in pairs])) for s, pairs in resets.items()}
        x = np.empty((rc, n, k))
        following = np.zeros((layout.count, k))
        x[:, 0] = starts[layout.first]
        for s in range(n - 1):
            nxt = np.clip(x[:, s] + step * (basis.features(x[:, s]) @ theta + drive[:, s]), -6, 6)
            if s + 1 in resets:
                runs_, windows = resets[s + 1]
                following[windows] = nxt[runs_]
                nxt[runs_] = starts[windows]
            x[:, s + 1] = nxt
        return x, following

    def unpack(v, layout):
        theta = v[: m_terms * k].reshape(m_terms, k)
        gain = v[m_terms * k: dense].reshape(c_count, k)
        return theta, gain, v[dense:].reshape(layout.count, k)

    def gap_weights(layout):
        """Per window: the weight of the gap at its start (0 for a run's first window)."""
        weights = np.zeros(layout.count)
        for r in range(r_count):
            lengths = layout.lengths(r)
            for j in range(1, len(lengths)):
                weights[layout.first[r] + j] = 1.0 / (args.diffusion * np.sqrt(lengths[j - 1] * tr))
        return weights

    def pieces(v, layout):
        """Observed residuals [R, T, K] and gap residuals [W, K] (zero rows for first windows)."""
        theta, gain, starts = unpack(v, layout)
        x, following = rollout(theta, gain, starts, layout, inputs)
        observed = (cell.convolved(x) - stats) @ observation.root_metric
        gaps = (following - starts) * gap_weights(layout)[:, None]
        return observed, gaps, x

    def interior(layout):
        return np.array([i for i in range(layout.count) if i not in set(layout.first)], int)

    def residuals_for(layout):
        rows = interior(layout)

        def residuals(v):
            observed, gaps, _ = pieces(v, layout)
            return np.concatenate([observed.ravel(), gaps[rows].ravel()])
        return residuals

    def sparsity(layout):
        rows = interior(layout)
        gap_row = {int(i): r_count * volumes * k + n * k for n, i in enumerate(rows)}
        pattern = lil_matrix((r_count * volumes * k + len(rows) * k, dense + layout.count * k), dtype=np.int8)
        pattern[:, :dense] = 1
        for r, b in enumerate(layout.boundaries):
            ends = b[1:] + [volumes]
            for j, (first, end) in enumerate(zip(b, ends)):
                i = layout.first[r] + j
                columns = slice(dense + i * k, dense + (i + 1) * k)
                base = r * volumes * k
                pattern[base + first * k: base + min(volumes, end + reach) * k, columns] = 1
                for touched in (i, i + 1):
                    if touched in gap_row and (touched == i or j + 1 < len(b)):
                        pattern[gap_row[touched]: gap_row[touched] + k, columns] = 1
        return pattern

    def window_costs(observed, gaps, layout):
        """Per window: 0.5 |observed residuals over its volumes|^2 and 0.5 |gap at its start|^2."""
        per_volume = 0.5 * (observed ** 2).sum(axis=2)  # [R, T]
        misfit = np.zeros(layout.count)
        for r, b in enumerate(layout.boundaries):
            for j, (first, end) in enumerate(zip(b, b[1:] + [volumes])):
                misfit[layout.first[r] + j] = per_volume[r, first:end].sum()
        return misfit, 0.5 * (gaps ** 2).sum(axis=1)

    def merges(v, layout, parity):
        """Boundaries of the given parity whose removal raises the cost by at most the tolerance."""
        candidates = {(r, j) for r, b in enumerate(layout.boundaries) for j in range(1, len(b)) if j % 2 == parity}
        if not candidates:
            return set()
        observed, gaps, _ = pieces(v, layout)
        misfit, gap_cost = window_costs(observed, gaps, layout)
        trial = layout.without(candidates)
        theta, gain, starts = unpack(v, layout)
        kept = [layout.first[r] + j for r, b in enumerate(layout.boundaries) for j in range(len(b)) if (r, j) not in candidates]
        v_trial = np.concatenate([v[:dense], starts[kept].ravel()])
        observed_t, gaps_t, _ = pieces(v_trial, trial)
        misfit_t, gap_cost_t = window_costs(observed_t, gaps_t, trial)
        new_index = {(r, j): trial.first[r] + n for r, b in enumerate(layout.boundaries)
                     for n, j in enumerate([j for j in range(len(b)) if (r, j) not in candidates])}
        accepted = set()
        for r, j in candidates:
            old = layout.first[r] + j
            before = misfit[old - 1] + misfit[old] + gap_cost[old]
            merged = new_index[(r, j - 1)]
            after = misfit_t[merged]
            if j + 1 < len(layout.boundaries[r]):
                before += gap_cost[old + 1]
                after += gap_cost_t[new_index[(r, j + 1)]]
            if after - before <= tolerance:
                accepted.add((r, j))
        return accepted

    def stage_record(v, layout, fit, start_cost, merged):
        theta, gain, starts = unpack(v, layout)
        _, gaps, x = pieces(v, layout)
        w, state_r2 = cell.alignment(list(x))
        counts = [len(b) for b in layout.boundaries]
        return dict(windows_per_run=counts, evaluations=int(fit.nfev), merged=merged, misfit_start=start_cost,
                    misfit=float(fit.cost), gap_cost=float(0.5 * (gaps ** 2).sum()), state_r2_train=state_r2,
                    seconds=round(time.time() - began), **cell.well_scores(LearnedField(basis, theta), list(x), w)), x

    # Start: the field refitted to each run's random-walk MAP path, window states on that path.
    still = LearnedField(basis, np.zeros((m_terms, k)))
    paths = []
    for run in train:
        problem = Problem(still, run["y"], np.zeros((volumes * args.substeps, k)), cell.kernel, args.substeps, step,
                          observation.loading, observation.offset, observation.precision, args.diffusion)
        paths.append(problem.solve(np.zeros((volumes * args.substeps, k)))[0])
    theta, gain = field_step(basis, paths, list(inputs), step)
    layout = Layout([list(range(0, volumes, args.initial_window))] * r_count, volumes)
    starts = np.vstack([paths[r][np.array(b) * args.substeps] for r, b in enumerate(layout.boundaries)])
    v = np.concatenate([theta.ravel(), gain.ravel(), starts.ravel()])

    stages, merged, parity = [], 0, 1
    for stage in range(args.stages + 1):
        residuals = residuals_for(layout)
        start_cost = 0.5 * float((residuals(v) ** 2).sum())
        fit = least_squares(residuals, v, jac_sparsity=sparsity(layout), method="trf", max_nfev=args.evaluations,
                            x_scale="jac")
        v = fit.x
        record, x = stage_record(v, layout, fit, start_cost, merged)
        stages.append(record)
        print(json.dumps({key: value for key, value in record.items() if key not in ("nearest_true_stable", "windows_per_run")}
                         | dict(windows=sum(record["windows_per_run"])), default=float), flush=True)
        if stage == args.stages or layout.count == r_count:
            break
        accepted = merges(v, layout, parity)
        if not accepted:
            parity = 1 - parity
            accepted = merges(v, layout, parity)
        if not accepted:
            break
        parity = 1 - parity
        _, _, starts = unpack(v, layout)
        kept = [layout.first[r] + j for r, b in enumerate(layout.boundaries) for j in range(len(b)) if (r, j) not in accepted]
        layout = layout.without(accepted)
        v = np.concatenate([v[:dense], starts[kept].ravel()])
        merged = len(accepted)

    # Held-out subject: one window per run (initial state fitted), then the MAP path under the learned field.
    theta, gain, _ = unpack(v, layout)
    field = LearnedField(basis, theta)
    w, _ = cell.alignment(list(x))
    test_layout = Layout([[0]] * len(test), volumes)
    test_inputs = np.stack([cell.inputs_of(r) for r in test])
    test_stats = np.stack([observation.statistic(r) for r in test])

    def test_residuals(s0):
        rolled, _ = rollout(theta, gain, s0.reshape(len(test), k), test_layout, test_inputs)
        return ((cell.convolved(rolled) - test_stats) @ observation.root_metric).ravel()
    test_starts = least_squares(test_residuals, np.zeros(len(test) * k), method="trf").x.reshape(len(test), k)
    rolled, _ = rollout(theta, gain, test_starts, test_layout, test_inputs)
    smoothed = [Problem(field, run["y"], test_inputs[i] @ gain, cell.kernel, args.substeps, step, observation.loading,
                        observation.offset, observation.precision, args.diffusion).solve(rolled[i])[0]
                for i, run in enumerate(test)]
    report = dict(dataset=args.dataset, substeps=args.substeps, initial_window=args.initial_window, tolerance=tolerance,
                  evaluations_per_stage=args.evaluations, diffusion=args.diffusion, visited_wells=len(cell.visited),
                  stages=stages, state_r2_test_rollout=cell.aligned_r2(w, list(rolled), test),
                  state_r2_test_smoothed=cell.aligned_r2(w, smoothed, test), seconds=round(time.time() - began))
    print(json.dumps({key: value for key, value in report.items() if key != "stages"}, indent=1, default=float))
    if args.json:
        write_json(args.json, json.loads(json.dumps(report, default=float)))


if __name__ == "__main__":
    main()
