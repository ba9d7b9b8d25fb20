"""The sparse SVAE against the dense one on simulated data: validation ELBO and task decoding at
50/80/90/95% sparsity (SNIP at initialisation, global scope), and the mask overhead of a
training step.

Usage (from the repository root, after `swift build -c release`):
    python3 bench/sparsity_table.py [--epochs 100] [--method snip]
Writes bench/results/sparsity.json and prints the markdown table kept in docs/sparse.md.
Everything runs through the fmridyn command line; Python only orchestrates and tabulates.
"""
import argparse
import csv
import json
import pathlib
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
BINARY = ROOT / ".build" / "release" / "fmridyn"


def fmridyn(*arguments, capture=False):
    result = subprocess.run([str(BINARY), *map(str, arguments)], check=True, capture_output=True, text=True)
    return result.stdout if capture else None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--method", default="snip")
    parser.add_argument("--sparsities", default="0,0.5,0.8,0.9,0.95")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        work = pathlib.Path(scratch)
        # The walkthrough's dataset: 4 subjects x 2 runs of 240 volumes, 4 mm grid, seed 7.
        fmridyn("simulate", "--out", work / "sim", "--subjects", 4, "--runs", 2, "--volumes", 240, "--grid", "4mm", "--seed", 7, "-q")
        fmridyn("bids", work / "sim", work / "out", "participant", "--atlas", "power264", "--radius", 6, "--allow-overlap",
                "--confound-strategy", "motion6,global", "--detrend", "--high-pass", 0.01, "--standardize", "zscore", "-q")
        manifest = work / "runs.tsv"
        with open(manifest, "w") as handle:
            handle.write("timeseries\ttr\tevents\tsubject\trun\n")
            for tsv in sorted((work / "out").glob("sub-*/func/*_atlas-power264_timeseries.tsv")):
                name = tsv.name.split("_atlas-")[0]
                subject = name.split("_")[0][4:]
                run = name.split("run-")[1]
                events = work / "sim" / f"sub-{subject}" / "func" / f"{name}_events.tsv"
                handle.write(f"{tsv}\t0.72\t{events}\t{subject}\t{run}\n")
        for sparsity in [float(s) for s in args.sparsities.split(",")]:
            model = work / f"model-{sparsity}"
            fit = ["fit", manifest, "--manifest", "--out", model, "--latent-dim", 4, "--hidden", 32, "--window", 32, "--stride", 8,
                   "--epochs", args.epochs, "--batch-size", 16, "--lr", 0.005, "--kl-warmup", 3, "--patience", 20, "-q"]
            if sparsity > 0:
                fit += ["--sparsity", sparsity, "--prune", args.method, "--prune-scope", "global"]
            fmridyn(*fit)
            with open(model / "training_log.csv") as handle:
                elbo = max(float(row["val_elbo"]) for row in csv.DictReader(handle))
            fmridyn("compare", "--model", f"SVAE={model}", manifest, "--manifest", "--hrf-shift", "--exclude", "rest", "--baselines", "none",
                    "--folds", 4, "--out", model / "comparison.json", "-q")
            accuracy = json.loads((model / "comparison.json").read_text())["methods"][0]["balanced_accuracy_mean"]
            achieved = json.loads((model / "sparsity.json").read_text())["achieved_sparsity"] if sparsity > 0 else 0.0
            rows.append({"sparsity": sparsity, "achieved_sparsity": achieved, "val_elbo": elbo, "balanced_accuracy": accuracy})
            print(f"sparsity {sparsity}: validation ELBO {elbo:.1f}, balanced accuracy {accuracy:.3f}", flush=True)
    dense = rows[0]
    for row in rows:
        row["elbo_change"] = (row["val_elbo"] - dense["val_elbo"]) / abs(dense["val_elbo"])
        row["accuracy_ratio"] = row["balanced_accuracy"] / dense["balanced_accuracy"]
    overhead = json.loads(fmridyn("bench", "train", "--sparsity", 0.9, "--steps", 30, "--json", capture=True))
    results = {"method": args.method, "epochs": args.epochs, "rows": rows, "bench_train_sparsity_0.9": overhead}
    out = ROOT / "bench" / "results" / "sparsity.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print("\n| sparsity | validation ELBO | change vs dense | balanced accuracy | share of dense |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['sparsity']:.0%} | {row['val_elbo']:.1f} | {row['elbo_change']:+.1%} | {row['balanced_accuracy']:.3f} | {row['accuracy_ratio']:.1%} |")
    print(f"\nmask overhead of a training step at 90%: {overhead['mask_overhead']:+.1%} "
          f"({overhead['ms_per_step']:.2f} ms dense, {overhead['ms_per_step_masked']:.2f} ms masked)")


if __name__ == "__main__":
    main()
