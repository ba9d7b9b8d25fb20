"""How many of the true stable fixed points the simulated latent paths ever occupy: the ceiling
on fixed-point recall for any method that learns a field from the data (a well the state never
visits leaves no trace in the images).

For each system and seed, runs `fmridyn simulate` with the benchmark's shape (4 subjects x 2 runs
x 240 volumes, 4 mm) and counts, over every run's neural-level true latents, the volumes within
0.25 (the benchmark's matching radius) of each true stable point. A point is "occupied" when
at least 1% of the volumes sit there, "touched" when any volume does.

Usage (from the repository root, after `swift build -c release`):
    python3 bench/visited_wells.py [--seeds 1,2,3,11,12,13] [--systems multistable,switching]
Writes bench/results/visited_wells.json.
"""
import argparse
import csv
import glob
import json
import pathlib
import subprocess
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
BINARY = ROOT / ".build" / "release" / "fmridyn"


def occupancy(system, seed, noise, work):
    out = pathlib.Path(work) / f"{system}-{seed}"
    subprocess.run([str(BINARY), "simulate", "--out", str(out), "--system", system, "--volumes", "240", "--grid", "4mm",
                    "--seed", str(seed), "--noise", str(noise)], check=True, cwd=ROOT, capture_output=True)
    truth = json.loads((out / "ground_truth" / "fixed_points.json").read_text())
    stable = np.array([p["z"] for p in truth["fixed_points"] if p["classification"] == "stable"], dtype=float)
    k = stable.shape[1]
    paths = []
    for name in sorted(glob.glob(str(out / "ground_truth" / "*_latents.tsv"))):
        rows = list(csv.DictReader(open(name), delimiter="\t"))
        paths.append(np.array([[float(r[f"z{i + 1}"]) for i in range(k)] for r in rows]))
    z = np.vstack(paths)
    distance = np.linalg.norm(z[:, None, :] - stable[None], axis=2)
    counts = (distance < 0.25).sum(axis=0)
    return {"system": system, "seed": seed, "noise": noise, "stable_points": int(len(stable)), "volumes": int(len(z)),
            "occupied": int((counts >= 0.01 * len(z)).sum()), "touched": int((counts > 0).sum()),
            "recall_ceiling": float((counts >= 0.01 * len(z)).sum() / len(stable))}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="1,2,3,11,12,13")
    parser.add_argument("--systems", default="multistable,switching")
    parser.add_argument("--noise", type=float, default=1.0)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for system in args.systems.split(","):
            for seed in [int(s) for s in args.seeds.split(",")]:
                row = occupancy(system, seed, args.noise, work)
                rows.append(row)
                print(f"{system} seed {seed}: {row['occupied']} of {row['stable_points']} stable points occupied "
                      f"(>= 1% of volumes), {row['touched']} touched")
    target = ROOT / "bench" / "results" / "visited_wells.json"
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(rows, indent=2) + "\n")
    temporary.replace(target)


if __name__ == "__main__":
    main()
