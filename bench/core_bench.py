"""The numerical core against PyTorch, side by side: GEMM GFLOP/s and GRU forward + backward.

Usage (from the repository root, after `swift build -c release`):
    python3 bench/core_bench.py [--threads 2]
Writes bench/results/core.json.
"""
import argparse
import json
import pathlib
import subprocess
import sys

import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from timing import median_time  # noqa: E402
BINARY = ROOT / ".build" / "release" / "fmridyn"


def torch_gemm(size):
    a, b = torch.randn(size, size), torch.randn(size, size)
    seconds = median_time(lambda: torch.mm(a, b))
    return 2 * size ** 3 / seconds / 1e9


def torch_gru(batch, steps, inputs, hidden):
    gru = torch.nn.GRU(inputs, hidden, batch_first=True)
    x = torch.randn(batch, steps, inputs)

    def step():
        gru.zero_grad()
        output, _ = gru(x)
        output.sum().backward()

    return median_time(step) * 1e3


def ours(*arguments):
    output = subprocess.run([str(BINARY), "bench", *arguments, "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(output)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = {"torch": torch.__version__, "threads": args.threads}
    results["torch_gemm_gflops"] = round(torch_gemm(1024), 1)
    results["fmridyn_gemm_gflops"] = round(ours("gemm", "--size", "1024", "--threads", str(args.threads))["gflops"], 1)
    results["torch_gru_ms"] = round(torch_gru(32, 32, 400, 64), 3)
    gru = ours("gru", "--batch", "32", "--time", "32", "--input", "400", "--hidden", "64", "--threads", str(args.threads))
    results["fmridyn_gru_ms"] = round(gru["ms_per_step"], 3)
    results["fmridyn_op_overhead_us"] = round(gru["op_overhead_us"], 3)
    results["gru_speedup"] = round(results["torch_gru_ms"] / results["fmridyn_gru_ms"], 2)
    results["gemm_ratio"] = round(results["fmridyn_gemm_gflops"] / results["torch_gemm_gflops"], 2)
    out = ROOT / "bench" / "results" / "core.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
