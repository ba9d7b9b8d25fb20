"""SVAE training steps: fmridyn vs a PyTorch + torchdiffeq implementation of the same model.

Reference configuration (fmridyn bench train's default): windows [32, 32, 400] of random data;
bidirectional GRU encoder (hidden 64); q(z0) from the forward GRU's last and the backward
GRU's first state; NODE MLP 8-64-64-8 tanh integrated with rk4 (step 1) over 32 output times,
or a GRU cell (hidden 64) latent update z' = z + W h'; linear decoder 8 -> 400 with a learned
per-region log-variance; Gaussian NLL + KL(q(z0) || N(0, I)); Adam lr 1e-3. The sequential
variant uses the deep-Markov-model combiner and a learned transition variance, as fmridyn.

Usage (after `swift build -c release`): python3 bench/train_bench.py [--steps 20]
Writes bench/results/train.json.
"""
import argparse
import json
import math
import pathlib
import subprocess
import time

import torch
import torchdiffeq

ROOT = pathlib.Path(__file__).resolve().parent.parent
BINARY = ROOT / ".build" / "release" / "fmridyn"
R, W, B, K, H = 400, 32, 32, 8, 64


class Field(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(K, H), torch.nn.Tanh(), torch.nn.Linear(H, H), torch.nn.Tanh(), torch.nn.Linear(H, K))

    def forward(self, t, z):
        return self.net(z)


class SVAE(torch.nn.Module):
    def __init__(self, dynamics, solver, inference):
        super().__init__()
        self.dynamics, self.solver, self.inference = dynamics, solver, inference
        self.encoder = torch.nn.GRU(R, H, batch_first=True, bidirectional=True)
        self.posterior = torch.nn.Linear(2 * H, 2 * K)
        self.combiner = torch.nn.Linear(K, 2 * H)
        if dynamics == "node":
            self.field = Field()
        else:
            self.cell = torch.nn.GRUCell(K, H)
            self.readout = torch.nn.Linear(H, K, bias=False)
        self.decoder = torch.nn.Linear(K, R)
        self.log_variance = torch.nn.Parameter(torch.zeros(R))
        self.transition_log_variance = torch.nn.Parameter(torch.full((K,), math.log(0.25)))

    def step(self, z, h):
        if self.dynamics == "node":
            return torchdiffeq.odeint(self.field, z, torch.tensor([0.0, 1.0]), method=self.solver,
                                      options={"step_size": 1.0} if self.solver != "dopri5" else None)[1], None
        h = self.cell(z, h)
        return z + self.readout(h), h

    def loss(self, x):
        states, _ = self.encoder(x)
        if self.inference == "initial":
            summary = torch.cat([states[:, -1, :H], states[:, 0, H:]], dim=-1)
            mean, log_var = self.posterior(summary).chunk(2, dim=-1)
            z0 = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
            if self.dynamics == "node":
                kwargs = {"method": self.solver}
                if self.solver != "dopri5":
                    kwargs["options"] = {"step_size": 1.0}
                z = torchdiffeq.odeint(self.field, z0, torch.arange(W, dtype=torch.float32), **kwargs).transpose(0, 1)
            else:
                path, h, zt = [z0], torch.zeros(B, H), z0
                for _ in range(W - 1):
                    zt, h = self.step(zt, h)
                    path.append(zt)
                z = torch.stack(path, dim=1)
            kl = 0.5 * (mean ** 2 + log_var.exp() - 1 - log_var).sum() / B
        else:
            previous, h, path, kl = torch.zeros(B, K), None, [], 0.0
            for t in range(W):
                combined = 0.5 * (torch.tanh(self.combiner(previous)) + states[:, t])
                mean, log_var = self.posterior(combined).chunk(2, dim=-1)
                zt = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
                if t == 0:
                    kl = kl + 0.5 * (mean ** 2 + log_var.exp() - 1 - log_var).sum()
                else:
                    prior, h = self.step(previous, h)
                    lv = self.transition_log_variance
                    kl = kl + 0.5 * ((log_var.exp() + (mean - prior) ** 2) * torch.exp(-lv) - log_var + lv - 1).sum()
                path.append(zt)
                previous = zt
            z = torch.stack(path, dim=1)
            kl = kl / B
        reconstruction = self.decoder(z)
        nll = 0.5 * (((x - reconstruction) ** 2) * torch.exp(-self.log_variance) + self.log_variance + math.log(2 * math.pi)).sum() / B
        return nll + kl


def torch_ms(dynamics, solver, inference, steps):
    torch.manual_seed(0)
    model = SVAE(dynamics, solver, inference)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(B, W, R)

    def step():
        optimizer.zero_grad()
        model.loss(x).backward()
        optimizer.step()

    for _ in range(3):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2] * 1e3


def ours_ms(dynamics, solver, inference, steps):
    output = subprocess.run([str(BINARY), "bench", "train", "--dynamics", dynamics, "--solver", solver, "--inference", inference,
                             "--steps", str(steps), "--threads", "2", "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(output)["ms_per_step"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(2)
    results = {"torch": torch.__version__, "torchdiffeq": torchdiffeq.__version__, "cases": []}
    for dynamics, solver, inference in [("node", "rk4", "initial"), ("rnn", "rk4", "initial"), ("node", "dopri5", "initial"),
                                        ("node", "rk4", "sequential"), ("rnn", "rk4", "sequential")]:
        steps = args.steps if solver != "dopri5" else max(5, args.steps // 4)
        peer = torch_ms(dynamics, solver, inference, steps)
        # PyTorch's idle OpenMP threads spin for a while after its last step; let them settle
        # so they do not take a core from the next measurement.
        time.sleep(1.0)
        ours = ours_ms(dynamics, solver, inference, steps)
        time.sleep(1.0)
        results["cases"].append({"dynamics": dynamics, "solver": solver, "inference": inference, "pytorch_ms": round(peer, 2),
                                 "fmridyn_ms": round(ours, 2), "speedup": round(peer / ours, 2)})
        print(results["cases"][-1], flush=True)
    out = ROOT / "bench" / "results" / "train.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
