"""Golden trajectories and gradients from torchdiffeq for a fixed MLP vector field (weights also
written as Tests/Fixtures/dynamics/field.safetensors).

Writes Tests/Fixtures/dynamics/torchdiffeq_golden.json (weights, initial states, outputs at
the requested times, function-evaluation counts, and gradients of a weighted sum of the
trajectory with respect to z0 and every weight, by backpropagation through the solver and by
the adjoint method).
Run from the repository root: python3 bench/golden/dynamics_torchdiffeq.py
"""
import base64
import json
import pathlib

import numpy as np
import safetensors.torch
import torch
import torchdiffeq

OUT = pathlib.Path("Tests/Fixtures/dynamics")
torch.set_default_dtype(torch.float64)


def exact(tensor):
    array = np.ascontiguousarray(np.asarray(tensor.detach().numpy(), dtype="<f8"))
    return {"shape": list(array.shape), "f64": base64.b64encode(array.tobytes()).decode()}


class Field(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(), torch.nn.Linear(16, 4))
        self.nfe = 0

    def forward(self, t, z):
        self.nfe += 1
        return self.net(z)


def run(field, z0, times, weights, method, options, adjoint=False):
    field.zero_grad()
    z0 = z0.detach().clone().requires_grad_(True)
    field.nfe = 0
    solve = torchdiffeq.odeint_adjoint if adjoint else torchdiffeq.odeint
    kwargs = dict(method=method, options=options)
    if method == "dopri5":
        kwargs.update(rtol=1e-7, atol=1e-9)
        if adjoint:
            kwargs.update(adjoint_rtol=1e-7, adjoint_atol=1e-9)
    trajectory = solve(field, z0, times, **kwargs)  # [T, B, D]
    forward_nfe = field.nfe
    loss = (trajectory * weights).sum()
    loss.backward()
    out = {"method": method, "adjoint": adjoint, "options": options or {}, "trajectory": exact(trajectory), "nfe": forward_nfe,
           "loss": loss.item(), "z0_grad": exact(z0.grad)}
    for name, parameter in field.named_parameters():
        out["grad." + name.replace("net.0", "network.layers.0").replace("net.2", "network.layers.1").replace("net.4", "network.layers.2")] = exact(parameter.grad)
    return out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(4)
    field = Field()
    # Larger weights than the default init so the dynamics are not nearly linear.
    with torch.no_grad():
        for parameter in field.parameters():
            parameter.mul_(2.0)
    z0 = torch.randn(3, 4)
    times = torch.linspace(0, 3, 7)
    weights = torch.randn(7, 3, 4)
    golden = {"versions": {"torch": torch.__version__, "torchdiffeq": torchdiffeq.__version__},
              "z0": exact(z0), "times": times.tolist(), "weights": exact(weights), "parameters": {}, "cases": []}
    names = {"net.0": "network.layers.0", "net.2": "network.layers.1", "net.4": "network.layers.2"}
    for name, parameter in field.named_parameters():
        prefix, kind = name.rsplit(".", 1)
        golden["parameters"][names[prefix] + "." + kind] = exact(parameter)
    golden["cases"].append(run(field, z0, times, weights, "rk4", {"step_size": 0.25}))
    golden["cases"].append(run(field, z0, times, weights, "euler", {"step_size": 0.1}))
    golden["cases"].append(run(field, z0, times, weights, "midpoint", {"step_size": 0.1}))
    golden["cases"].append(run(field, z0, times, weights, "dopri5", None))
    golden["cases"].append(run(field, z0, times, weights, "dopri5", None, adjoint=True))
    (OUT / "torchdiffeq_golden.json").write_text(json.dumps(golden))
    # The field's weights also as safetensors, under fmridyn's parameter names.
    safetensors.torch.save_file({names[name.rsplit(".", 1)[0]] + "." + name.rsplit(".", 1)[1]: parameter.detach().contiguous()
                                 for name, parameter in field.named_parameters()}, str(OUT / "field.safetensors"))
    print("wrote", OUT / "torchdiffeq_golden.json", [(c["method"], c["nfe"], c["adjoint"]) for c in golden["cases"]])


if __name__ == "__main__":
    main()
