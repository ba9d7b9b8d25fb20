"""Beyond one machine: sharded (data-parallel) and federated fits on Open MPI ranks.

Side by side in one run, on one simulated dataset (fmridyn simulate: SUBJECTS subjects, one run
each, Power-264 regions extracted once to TSVs):

1. Data-parallel: ms per training step, and the shares of it spent waiting for the slowest rank and in the gradient exchange, for N = 1, 2, 4
   ranks (`mpirun -n N fmridyn fit --shards 4 --threads 1`; every N computes the same fit, bit
   for bit), and the efficiency t(1) / (N t(N)). This machine has 2 cores: N = 4 is
   oversubscribed.
2. Communication: bytes each rank sends per round, dense FedAvg against SSFL at sparsity 0.5,
   0.8 and 0.9, from federated.json (counted from the buffers handed to MPI).
3. Quality: best validation ELBO and five-condition decoding accuracy (fmridyn decode, by
   subject) of the federated models against the pooled one-process fit of the same data and
   epochs.

Usage (after `swift build -c release`): python3 bench/scale_bench.py [--subjects 6] [--rounds 10]
Writes bench/results/scale-rROUNDS-lLOCAL.json and prints the tables. The pooled fit runs
ROUNDS x LOCAL epochs: the same passes over the data as every site makes.
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
BINARY = ROOT / ".build" / "release" / "fmridyn"
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe"]


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(map(str, command))}\n{result.stderr[-2000:]}")
    return result


def prepare(work, subjects, volumes):
    """Simulates a dataset and extracts its runs once; returns the manifest."""
    sim = work / "sim"
    run([BINARY, "simulate", "--out", sim, "--subjects", str(subjects), "--runs", "1", "--volumes", str(volumes), "--grid", "4mm"])
    rows = ["timeseries\tsubject\ttr\tevents"]
    for bold in sorted(sim.glob("sub-*/func/*_bold.nii.gz")):
        subject = bold.name.split("_")[0][4:]
        tsv = work / bold.name.replace("_bold.nii.gz", "_timeseries.tsv")
        run([BINARY, "extract", bold, "--atlas", "power264", "--detrend", "--standardize", "zscore", "--out", tsv, "-q"])
        events = str(bold).replace("_bold.nii.gz", "_events.tsv")
        rows.append(f"{tsv}\t{subject}\t0.72\t{events}")
    manifest = work / "runs.tsv"
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


def step_timing(stderr):
    match = re.search(r"(\d+) sharded steps on (\d+) ranks: ([\d.]+) ms per step, waiting for the slowest rank ([\d.]+)% of it, "
                      r"gradient exchange ([\d.]+)%, (\d+) bytes", stderr)
    if not match:
        sys.exit("no step timing in the fit's output:\n" + stderr[-2000:])
    return {"steps": int(match[1]), "ms_per_step": float(match[3]), "wait_share": float(match[4]) / 100,
            "exchange_share": float(match[5]) / 100, "bytes_per_step": int(match[6])}


def decoding(work, model, manifest):
    latents = model / "latents.csv"
    run([BINARY, "latents", "--model", model, manifest, "--manifest", "--hrf-shift", "--out", latents, "-q"])
    out = model / "decoding.json"
    run([BINARY, "decode", latents, "--groups", "subject", "--exclude", "rest", "--out", out, "-q"])
    report = json.loads(out.read_text())
    return report["balanced_accuracy_mean"]


def best_validation(model):
    lines = (model / "training_log.csv").read_text().strip().split("\n")[1:]
    return max(float(line.split(",")[5]) for line in lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=6)
    parser.add_argument("--volumes", type=int, default=284)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--local-epochs", type=int, default=1)
    parser.add_argument("--epochs-parallel", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("FMRIDYN_ATLAS_DIR", str(ROOT / "atlases"))
    work = pathlib.Path(tempfile.mkdtemp(prefix="fmridyn-scale-"))
    try:
        manifest = prepare(work, args.subjects, args.volumes)
        common = [manifest, "--manifest", "--window", "32", "--stride", "8", "--batch-size", "32", "--seed", "1"]

        parallel = []
        for ranks in (1, 2, 4):
            out = work / f"parallel-{ranks}"
            result = run(MPIRUN + ["-n", str(ranks), BINARY, "fit"] + common
                         + ["--out", out, "--shards", "4", "--threads", "1", "--epochs", str(args.epochs_parallel)])
            timing = step_timing(result.stderr)
            timing["ranks"] = ranks
            timing["model_sha"] = subprocess.run(["sha256sum", out / "model.safetensors"], capture_output=True, text=True).stdout.split()[0]
            parallel.append(timing)
        for entry in parallel:
            entry["efficiency"] = parallel[0]["ms_per_step"] / (entry["ranks"] * entry["ms_per_step"])
            entry["same_model_as_one_rank"] = entry["model_sha"] == parallel[0]["model_sha"]

        pooled = work / "pooled"
        pooled_epochs = args.rounds * args.local_epochs  # the same passes over the data as every site makes
        run([BINARY, "fit"] + common + ["--out", pooled, "--epochs", str(pooled_epochs), "--patience", str(pooled_epochs)])
        quality = [{"method": "pooled", "sparsity": 0.0, "best_validation_elbo": best_validation(pooled), "decoding": decoding(work, pooled, manifest)}]
        communication = []
        for method, sparsity, exchange in (("fedavg", 0.0, "weights"), ("ssfl", 0.5, "weights"), ("ssfl", 0.8, "weights"),
                                           ("ssfl", 0.9, "weights"), ("salientgrads", 0.9, "gradients")):
            out = work / f"{method}-{sparsity}"
            extra = ["--sparsity", str(sparsity)] if sparsity > 0 else []
            run(MPIRUN + ["-n", "3", BINARY, "fit"] + common
                + ["--out", out, "--federated", "--rounds", str(args.rounds), "--local-epochs", str(args.local_epochs), "--exchange", exchange,
                   "--threads", "1"] + extra)
            record = json.loads((out / "federated.json").read_text())
            sent = sum(sum(r["bytes_sent"]) for r in record["rounds"]) / (len(record["rounds"]) * len(record["rounds"][0]["bytes_sent"]))
            communication.append({"method": method, "sparsity": sparsity, "exchanged_scalars": record["exchanged_scalars"],
                                  "parameters": record["parameters"], "bytes_sent_per_rank_round": sent,
                                  "dense_fedavg_bytes_per_rank_round": 4 + 4 * record["parameters"] + 12,
                                  "fewer_than_dense_fedavg": (4 + 4 * record["parameters"] + 12) / sent,
                                  "fewer_than_same_method_dense": record["dense_bytes_per_round"] / sent,
                                  "mask_bytes_once": record["mask_bytes_sent"][0]})
            quality.append({"method": method, "sparsity": sparsity, "best_validation_elbo": record["best_validation_elbo"],
                            "decoding": decoding(work, out, manifest)})
        for entry in quality:
            entry["elbo_gap_vs_pooled"] = (quality[0]["best_validation_elbo"] - entry["best_validation_elbo"]) / abs(quality[0]["best_validation_elbo"])
            entry["decoding_gap_vs_pooled"] = quality[0]["decoding"] - entry["decoding"]
        results = {"subjects": args.subjects, "volumes": args.volumes, "rounds": args.rounds, "local_epochs": args.local_epochs,
                   "pooled_epochs": pooled_epochs, "cores": os.cpu_count(),
                   "parallel": parallel, "communication": communication, "quality": quality}
        target = ROOT / "bench" / "results" / f"scale-r{args.rounds}-l{args.local_epochs}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(results, indent=2) + "\n")
        print("ranks  ms/step  waiting  exchange  efficiency  same model")
        for entry in parallel:
            print(f"{entry['ranks']:5d}  {entry['ms_per_step']:7.1f}  {100 * entry['wait_share']:6.1f}%  {100 * entry['exchange_share']:7.1f}%  {entry['efficiency']:10.2f}  {entry['same_model_as_one_rank']}")
        print("\nmethod        sparsity  bytes/rank/round  vs dense FedAvg  vs same method dense")
        for entry in communication:
            print(f"{entry['method']:12s}  {entry['sparsity']:8.1f}  {entry['bytes_sent_per_rank_round']:16.0f}  {entry['fewer_than_dense_fedavg']:14.1f}x  {entry['fewer_than_same_method_dense']:19.1f}x")
        print("\nmethod        sparsity  best val ELBO  gap     decoding  gap")
        for entry in quality:
            print(f"{entry['method']:12s}  {entry['sparsity']:8.1f}  {entry['best_validation_elbo']:13.1f}  {100 * entry['elbo_gap_vs_pooled']:5.2f}%  {entry['decoding']:8.3f}  {entry['decoding_gap_vs_pooled']:+.3f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
