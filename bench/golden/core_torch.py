"""Golden values for the numerical core, from PyTorch (and a safetensors file written by the
`safetensors` package).

Writes Tests/Fixtures/core/torch_golden.json and Tests/Fixtures/core/reference.safetensors.
Run from the repository root: python3 bench/golden/core_torch.py
"""
import base64
import json
import pathlib

import numpy as np
import safetensors.torch
import torch

OUT = pathlib.Path("Tests/Fixtures/core")
torch.set_default_dtype(torch.float64)


def exact(tensor):
    array = np.ascontiguousarray(np.asarray(tensor.detach().numpy() if torch.is_tensor(tensor) else tensor, dtype="<f8"))
    return {"shape": list(array.shape), "f64": base64.b64encode(array.tobytes()).decode()}


def mlp_case():
    torch.manual_seed(0)
    layers = [torch.nn.Linear(5, 8), torch.nn.Linear(8, 6), torch.nn.Linear(6, 3)]
    x = torch.randn(4, 5, requires_grad=True)
    h = x
    for index, layer in enumerate(layers):
        h = layer(h)
        if index < len(layers) - 1:
            h = torch.tanh(h)
    loss = (h ** 2).mean()
    loss.backward()
    out = {"input": exact(x), "output": exact(h), "loss": loss.item(), "input_grad": exact(x.grad)}
    for index, layer in enumerate(layers):
        out[f"layers.{index}.weight"] = exact(layer.weight)
        out[f"layers.{index}.bias"] = exact(layer.bias)
        out[f"grad.layers.{index}.weight"] = exact(layer.weight.grad)
        out[f"grad.layers.{index}.bias"] = exact(layer.bias.grad)
    return out


def gru_case(bidirectional):
    torch.manual_seed(1)
    gru = torch.nn.GRU(6, 5, batch_first=True, bidirectional=bidirectional)
    x = torch.randn(3, 7, 6, requires_grad=True)
    directions = 2 if bidirectional else 1
    h0 = torch.randn(directions, 3, 5, requires_grad=True)
    weights = torch.randn(3, 7, 5 * directions)
    output, _ = gru(x, h0)
    loss = (output * weights).sum()
    loss.backward()
    out = {"input": exact(x), "h0": exact(h0), "weights": exact(weights), "output": exact(output), "loss": loss.item(),
           "input_grad": exact(x.grad), "h0_grad": exact(h0.grad)}
    for name, parameter in gru.named_parameters():
        out[name] = exact(parameter)
        out["grad." + name] = exact(parameter.grad)
    return out


def gradient_of(p, target, w):
    return 2 * (p - target) * w


def optimizer_cases():
    torch.manual_seed(2)
    p0 = torch.randn(4, 3)
    target = torch.randn(4, 3)
    w = torch.rand(4, 3) + 0.5
    cases = []
    configs = [
        ("sgd", lambda p: torch.optim.SGD([p], lr=0.1)),
        ("sgd_momentum", lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.9, weight_decay=0.01)),
        ("sgd_nesterov", lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.9, nesterov=True)),
        ("adam", lambda p: torch.optim.Adam([p], lr=0.01)),
        ("adam_l2", lambda p: torch.optim.Adam([p], lr=0.01, weight_decay=0.05)),
        ("adamw", lambda p: torch.optim.AdamW([p], lr=0.01, weight_decay=0.1)),
    ]
    for name, make in configs:
        p = p0.clone().requires_grad_(True)
        optimizer = make(p)
        trajectory = []
        for _ in range(10):
            optimizer.zero_grad()
            p.grad = gradient_of(p.detach(), target, w)
            optimizer.step()
            trajectory.append(p.detach().clone())
        cases.append({"name": name, "trajectory": exact(torch.stack(trajectory))})
    return {"p0": exact(p0), "target": exact(target), "w": exact(w), "cases": cases}


def clipping_case():
    torch.manual_seed(3)
    a = torch.nn.Parameter(torch.randn(3, 4))
    b = torch.nn.Parameter(torch.randn(5))
    a.grad = torch.randn(3, 4) * 3
    b.grad = torch.randn(5) * 3
    before = (a.grad.clone(), b.grad.clone())
    norm = torch.nn.utils.clip_grad_norm_([a, b], max_norm=1.5)
    return {"a": exact(before[0]), "b": exact(before[1]), "norm": norm.item(), "a_clipped": exact(a.grad), "b_clipped": exact(b.grad)}


def schedule_cases():
    out = {}
    for name, make in [("step", lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
                       ("cosine", lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001))]:
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        scheduler = make(optimizer)
        rates = []
        for _ in range(12):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
        out[name] = rates
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=2, cooldown=1)
    metrics = [1.0, 0.9, 0.95, 0.93, 0.92, 0.91, 0.8, 0.85, 0.84, 0.83, 0.86, 0.7, 0.71, 0.72, 0.73]
    rates = []
    for metric in metrics:
        plateau.step(metric)
        rates.append(optimizer.param_groups[0]["lr"])
    out["plateau"] = {"metrics": metrics, "rates": rates}
    return out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    golden = {"versions": {"torch": torch.__version__}, "mlp": mlp_case(), "gru": gru_case(False),
              "bigru": gru_case(True), "optimizers": optimizer_cases(), "clipping": clipping_case(),
              "schedules": schedule_cases()}
    (OUT / "torch_golden.json").write_text(json.dumps(golden))
    safetensors.torch.save_file({"weight": torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4,
                                 "bias": torch.tensor([1.5, -2.25], dtype=torch.float64)},
                                str(OUT / "reference.safetensors"), metadata={"origin": "safetensors.torch"})
    print(f"wrote {OUT}/torch_golden.json and reference.safetensors (torch {torch.__version__})")


if __name__ == "__main__":
    main()
