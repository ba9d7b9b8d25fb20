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

sys.path.insert(0, os.path.dirname(__file__))
from diagnostic_cell import Cell, add_cell_arguments, write_json  # noqa: E402
from em_polynomial import field_step  # noqa: E402
from shooting_objective import Shooting  # noqa: E402


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
    try:
        shooting = Shooting(cell, args.diffusion)
    except ValueError as error:
        sys.exit(f"shooting_continuation: {error}")
    volumes = shooting.volumes
    lengths = [int(v) for v in args.windows.split(",")]
    if any(volumes % length for length in lengths):
        sys.exit(f"shooting_continuation: --windows {args.windows}: each length must divide the run's {volumes} volumes")
    scales = [float(v) for v in args.gap_scales.split(",")] if args.gap_scales else [1.0] * len(lengths)
    if len(scales) != len(lengths):
        sys.exit(f"shooting_continuation: --gap-scales needs one factor per window length ({len(lengths)}), got {len(scales)}")

    # Start: the field refitted to each run's random-walk MAP path, window states on that path.
    if args.start_at_truth:
        paths = [np.repeat(r["neural"], args.substeps, axis=0) for r in cell.train]
    else:
        paths = shooting.random_walk_paths()
    theta, gain = field_step(cell.basis, paths, list(shooting.inputs), cell.step)
    path = np.stack(paths)

    stages = []
    for length, scale in zip(lengths, scales):
        (theta, gain, _), path, stage = shooting.fit(theta, gain, path, length, args.evaluations, scale, began)
        stages.append(stage)
        print(json.dumps({key: value for key, value in stage.items() if key != "nearest_true_stable"}), flush=True)

    # Held-out subject: initial state fitted to the rollout, then the MAP path under the learned field.
    report = dict(dataset=args.dataset, start_at_truth=args.start_at_truth, substeps=args.substeps, windows=lengths,
                  gap_scales=scales,
                  diffusion=args.diffusion, visited_wells=len(cell.visited), stages=stages,
                  **shooting.held_out(theta, gain, path)[0],
                  seconds=round(time.time() - began))
    print(json.dumps({key: value for key, value in report.items() if key != "stages"}, indent=1))
    if args.json:
        write_json(args.json, report)


if __name__ == "__main__":
    main()
