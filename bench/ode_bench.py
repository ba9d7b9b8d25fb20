"""Neural ODE forward + backward: fmridyn vs torchdiffeq, side by side, with the same weights.

A 2-hidden-layer tanh MLP field (8-64-64-8), batch 32, outputs at t = 1...32, loss = sum of the
outputs, gradients by backpropagation through the solver; rk4 with step 1 and dopri5 at
torchdiffeq's default tolerances (rtol 1e-7, atol 1e-9), float32, 2 threads. The weights and z0
are PyTorch's default initialisation (seed 0), written to a safetensors file fmridyn reads.

Usage (after `swift build -c release`): python3 bench/ode_bench.py
Writes bench/results/ode.json.
"""
import json
import pathlib
import subprocess
import sys
import tempfile

import safetensors.torch
import torch
import torchdiffeq

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from timing import median_time  # noqa: E402
BINARY = ROOT / ".build" / "release" / "fmridyn"


class Field(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(8, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 8))
        self.nfe = 0

    def forward(self, t, z):
        self.nfe += 1
        return self.net(z)


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    field = Field()
    z0 = torch.randn(32, 8)
    times = torch.arange(0, 33, dtype=torch.float32)
    results = {"torch": torch.__version__, "torchdiffeq": torchdiffeq.__version__}
    with tempfile.TemporaryDirectory() as directory:
        weights = pathlib.Path(directory) / "field.safetensors"
        tensors = {"z0": z0.contiguous()}
        for index, layer in enumerate([0, 2, 4]):
            tensors[f"network.layers.{index}.weight"] = field.net[layer].weight.detach().contiguous()
            tensors[f"network.layers.{index}.bias"] = field.net[layer].bias.detach().contiguous()
        safetensors.torch.save_file(tensors, str(weights))
        for solver, options in [("rk4", {"step_size": 1.0}), ("dopri5", None)]:
            counts = []

            def step():
                field.zero_grad()
                field.nfe = 0
                kwargs = {"method": solver, "options": options}
                if solver == "dopri5":
                    kwargs.update(rtol=1e-7, atol=1e-9)
                trajectory = torchdiffeq.odeint(field, z0, times, **kwargs)
                counts.append(field.nfe)
                trajectory[1:].sum().backward()

            results[f"torchdiffeq_{solver}_ms"] = round(median_time(step, repeats=10, warmup=2) * 1e3, 2)
            results[f"torchdiffeq_{solver}_nfe"] = counts[-1]
            output = subprocess.run([str(BINARY), "bench", "ode", "--solver", solver, "--weights", str(weights),
                                     "--repeats", "10", "--threads", "2", "--json"], check=True, capture_output=True, text=True).stdout
            ours = json.loads(output)
            results[f"fmridyn_{solver}_ms"] = round(ours["ms_per_step"], 2)
            results[f"fmridyn_{solver}_nfe"] = ours["nfe"]
            results[f"{solver}_speedup"] = round(results[f"torchdiffeq_{solver}_ms"] / results[f"fmridyn_{solver}_ms"], 2)
    out = ROOT / "bench" / "results" / "ode.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
