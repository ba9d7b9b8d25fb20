"""Analysis speed side by side: cross-validated decoding against scikit-learn, and the
fixed-point search's wall time.

Decoding: 10,000 samples x 8 features, 5 classes, 10 groups, GroupKFold(5), standardise on the
training fold, multinomial L2 logistic regression (scikit-learn's defaults: lbfgs, C 1,
tol 1e-4, max_iter 100), balanced accuracy. Both tools read the same CSV; the median of 5
runs after 3 warm-up runs (scikit-learn) or of 5 runs (fmridyn, in-process) is reported.
Fixed points: 1024 starts, latent 8, hidden 64 (`fmridyn bench fixed-points`); the issue's
target is under 2 s.

Usage (from the repository root, after `swift build -c release`):
    python3 bench/analysis_bench.py [--threads 2]
Writes bench/results/analysis.json.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from timing import median_time  # noqa: E402
BINARY = ROOT / ".build" / "release" / "fmridyn"


def make_data(path, samples=10_000, features=8, classes=5, groups=10, seed=5):
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(classes, features))
    y = np.arange(samples) % classes
    x = means[y] + rng.normal(size=(samples, features))
    g = (np.arange(samples) // classes) % groups
    with open(path, "w") as handle:
        handle.write("label,group," + ",".join(f"f{i + 1}" for i in range(features)) + "\n")
        for label, group, row in zip(y, g, x):
            handle.write(f"c{label},g{group}," + ",".join(repr(float(v)) for v in row) + "\n")
    return x, y, g


def ours(*arguments):
    output = subprocess.run([str(BINARY), "bench", *arguments, "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(output)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    results = {"sklearn": sklearn.__version__, "threads": args.threads}
    with tempfile.TemporaryDirectory() as scratch:
        path = pathlib.Path(scratch) / "decoding.csv"
        x, y, g = make_data(path)
        pipeline = make_pipeline(StandardScaler(), LogisticRegression())
        scores = []
        seconds = median_time(lambda: scores.append(
            cross_val_score(pipeline, x, y, groups=g, cv=GroupKFold(5), scoring="balanced_accuracy").mean()), repeats=5)
        results["sklearn_decoding_ms"] = round(seconds * 1e3, 2)
        results["sklearn_balanced_accuracy"] = round(float(scores[-1]), 4)
        decode = ours("decode", "--data", str(path), "--folds", "5", "--repeats", "5")
        results["fmridyn_decoding_ms"] = round(decode["seconds"] * 1e3, 2)
        results["fmridyn_balanced_accuracy"] = round(decode["balanced_accuracy"], 4)
        results["decoding_speedup"] = round(results["sklearn_decoding_ms"] / results["fmridyn_decoding_ms"], 2)
    fixed = ours("fixed-points", "--starts", "1024", "--latent", "8", "--hidden", "64", "--threads", str(args.threads))
    results["fmridyn_fixed_points_s"] = round(fixed["seconds"], 3)
    results["fixed_points_found"] = fixed["fixed_points"]
    out = ROOT / "bench" / "results" / "analysis.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
