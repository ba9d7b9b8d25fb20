"""How well can the neural state be inferred from the regions when the generative model is known?

The field oracle (`fmridyn bench field-oracle`) says the wells come back only from a path within
state R^2 ~0.95 of the truth. This asks the converse: with the *true* latent system (drift,
input gains, diffusion) and an oracle observation model, what does the best path estimate reach?
If even that stays below 0.95, no inference scheme can recover the wells on this grid; if it
reaches it, the SVAEs lose the wells in what they learn, not in what the data hold.

Generative model (the simulator's, on a grid of TR / substeps):
    x_{s+1} = x_s + d (f(x_s) + g u(s d)) + sigma sqrt(d) eps_s           (Euler-Maruyama)
    y_t     = B h_t + c + e_t,   h_t = sum_l k_l x_{t n - l},  e_t ~ N(0, Sigma)
with k the Glover HRF on the same grid (sum 1, as the simulator's), y the Power-264 spheres
(radius 6 mm, detrended, z-scored: the benchmark's extraction, here through nilearn). B, c and
Sigma (Ledoit-Wolf) are fitted on the *other* subjects' runs against their true BOLD-level
latents, so the held-out subject's observation model is estimated, not read off its own data.
The path estimate is the MAP of the joint density (L-BFGS on the exact gradient; `--check`
compares it with central differences), from three starts: the truth, zero, and the noise-free
task-driven rollout. `--field zero` replaces f by 0 (a random walk driven by the known inputs):
what a generic smoothness prior, without the system's field, can infer.

Scores per held-out run, then pooled: state R^2 of the path at the volumes against the neural
truth without any alignment (the path is in the truth's coordinates) and after an affine map
fitted on the same run; R^2 of its HRF-convolved path against the BOLD-level truth; the fraction
of volumes whose path lies in the true well (same sign in every dimension, multistable systems).

Usage:
    FMRIDYN_ATLAS_DIR=atlases fmridyn simulate --out /tmp/oracle/ms1 --subjects 4 --runs 2 \
        --volumes 240 --grid 4mm --seed 1 --noise 1 --system multistable
    python bench/inference_oracle.py /tmp/oracle/ms1 [--field zero] [--substeps 8] [--json OUT]
Needs numpy, scipy, scikit-learn and nilearn.
"""
import argparse
import glob
import json
import os
import re
import sys

import numpy as np
from scipy.optimize import minimize
from sklearn.covariance import LedoitWolf


def glover_kernel(step, length=32.0):
    """The Glover HRF on a grid of `step` seconds, normalised to sum 1 (nilearn's parameters)."""
    from scipy.stats import gamma
    count = int(round(length / step))
    times = np.linspace(0, length, count) - step
    hrf = gamma.pdf(times, 6 / 0.9, scale=0.9) - 0.48 * gamma.pdf(times, 12 / 0.9, scale=0.9)
    return hrf / hrf.sum()


class System:
    """The simulator's drift f and its Jacobian, for the systems this oracle supports."""

    def __init__(self, truth, zero_field):
        description = truth["system"]
        self.kind = truth["kind"]
        self.zero = zero_field
        self.gain = float(re.search(r"\+ ([0-9.]+) u_c", description).group(1))
        self.inputs = {name: np.array(direction, float) for name, direction in truth["condition_inputs"].items()}
        self.pulse = 2.0 if self.kind == "switching" else None
        if self.kind not in ("multistable", "switching", "limit-cycle", "rotation", "vanderpol"):
            sys.exit(f"inference_oracle: system '{self.kind}' is not supported")

    def drift(self, x):
        if self.zero:
            return np.zeros_like(x)
        if self.kind in ("multistable", "switching"):
            return x - x ** 3
        if self.kind == "rotation":
            a, w = 0.15, 2 * np.pi / 16
            return np.column_stack([-a * x[:, 0] - w * x[:, 1], w * x[:, 0] - a * x[:, 1]])
        if self.kind == "vanderpol":
            v = 6.6633 / 20
            return v * np.column_stack([x[:, 1], (1 - x[:, 0] ** 2) * x[:, 1] - x[:, 0]])
        radial = 0.5 * (1 - (x ** 2).sum(1, keepdims=True))
        w = 2 * np.pi / 20
        return radial * x + w * np.column_stack([-x[:, 1], x[:, 0]])

    def jacobian(self, x):
        """[N, K, K]."""
        n, k = x.shape
        if self.zero:
            return np.zeros((n, k, k))
        if self.kind in ("multistable", "switching"):
            jac = np.zeros((n, k, k))
            jac[:, np.arange(k), np.arange(k)] = 1 - 3 * x ** 2
            return jac
        if self.kind == "rotation":
            a, w = 0.15, 2 * np.pi / 16
            return np.broadcast_to(np.array([[-a, -w], [w, -a]]), (n, 2, 2)).copy()
        if self.kind == "vanderpol":
            v = 6.6633 / 20
            jac = np.zeros((n, 2, 2))
            jac[:, 0, 1] = v
            jac[:, 1, 0] = v * (-2 * x[:, 0] * x[:, 1] - 1)
            jac[:, 1, 1] = v * (1 - x[:, 0] ** 2)
            return jac
        w = 2 * np.pi / 20
        r2 = (x ** 2).sum(1)
        jac = np.empty((n, 2, 2))
        jac[:, 0, 0] = 0.5 * (1 - r2) - x[:, 0] ** 2
        jac[:, 1, 1] = 0.5 * (1 - r2) - x[:, 1] ** 2
        jac[:, 0, 1] = -x[:, 0] * x[:, 1] - w
        jac[:, 1, 0] = -x[:, 0] * x[:, 1] + w
        return jac

    def input_series(self, events, times):
        u = np.zeros((len(times), len(next(iter(self.inputs.values())))))
        for onset, duration, condition in events:
            length = duration if self.pulse is None else min(duration, self.pulse)
            active = (times >= onset) & (times < onset + length)
            u[active] += self.gain * self.inputs[condition]
        return u


class Problem:
    """The negative log joint density of a path and its gradient."""

    def __init__(self, system, y, u, kernel, substeps, step, loading, offset, precision, diffusion):
        self.system, self.y, self.u, self.kernel = system, y, u, kernel
        self.n, self.d = substeps, step
        self.loading, self.offset, self.precision = loading, offset, precision
        self.q = diffusion ** 2 * step
        self.volumes = len(y)
        self.fine = self.volumes * substeps

    def convolve(self, x):
        full = np.column_stack([np.convolve(x[:, j], self.kernel)[: self.fine] for j in range(x.shape[1])])
        return full[:: self.n]

    def value_and_gradient(self, flat):
        x = flat.reshape(self.fine, -1)
        h = self.convolve(x)
        r = self.y - h @ self.loading - self.offset
        pr = r @ self.precision
        value = 0.5 * (r * pr).sum()
        gh = -pr @ self.loading.T                       # dJ/dh_t, [T, K]
        g = np.zeros_like(x)
        scattered = np.zeros_like(x)
        scattered[:: self.n] = gh
        for j in range(x.shape[1]):
            g[:, j] = np.convolve(scattered[::-1, j], self.kernel)[: self.fine][::-1]
        e = x[1:] - x[:-1] - self.d * (self.system.drift(x[:-1]) + self.u[:-1])
        value += 0.5 * (e ** 2).sum() / self.q
        scaled = e / self.q
        g[1:] += scaled
        g[:-1] -= scaled + self.d * np.einsum("nij,ni->nj", self.system.jacobian(x[:-1]), scaled)
        value += 0.5 * (x[0] ** 2).sum()
        g[0] += x[0]
        return value, g.ravel()

    def solve(self, start, iterations=20000):
        result = minimize(self.value_and_gradient, start.ravel(), jac=True, method="L-BFGS-B",
                          options={"maxiter": iterations, "maxfun": 2 * iterations})
        return result.x.reshape(self.fine, -1), result.fun

    def hessian(self, x):
        """The Gauss-Newton Hessian of the negative log joint at path x, [N K, N K] (row-major (s, k))."""
        n, k = x.shape
        c = np.zeros((self.volumes, n))
        for t in range(self.volumes):
            lags = np.arange(min(len(self.kernel), t * self.n + 1))
            c[t, t * self.n - lags] = self.kernel[lags]
        m = self.loading @ self.precision @ self.loading.T
        h = np.kron(c.T @ c, m)
        a = np.eye(k)[None] + self.d * self.system.jacobian(x[:-1])   # d(-e_s)/dx_s, [N-1, K, K]
        for s in range(n - 1):
            i, j = s * k, (s + 1) * k
            h[i:j, i:j] += a[s].T @ a[s] / self.q
            h[j:j + k, j:j + k] += np.eye(k) / self.q
            h[i:j, j:j + k] -= a[s].T / self.q
            h[j:j + k, i:j] -= a[s] / self.q
        h[:k, :k] += np.eye(k)
        return h

    def posterior_samples(self, x, count, random):
        """Draws from the Laplace approximation N(x, H^-1) at the MAP path x: [count, N, K]."""
        from scipy.linalg import cholesky, solve_triangular
        upper = cholesky(self.hessian(x), lower=False)
        noise = random.normal(size=(x.size, count))
        draws = solve_triangular(upper, noise, lower=False)
        return x[None] + draws.T.reshape(count, *x.shape)

    def rollout(self, x0):
        x = np.empty((self.fine, len(x0)))
        x[0] = x0
        for s in range(self.fine - 1):
            x[s + 1] = x[s] + self.d * (self.system.drift(x[s:s + 1])[0] + self.u[s])
        return x


def r2(estimate, truth, affine):
    if affine:
        design = np.column_stack([estimate, np.ones(len(estimate))])
        beta, *_ = np.linalg.lstsq(design, truth, rcond=None)
        estimate = design @ beta
    return 1 - ((truth - estimate) ** 2).sum() / ((truth - truth.mean(0)) ** 2).sum()


def load(root, atlas):
    from nilearn.maskers import NiftiSpheresMasker
    coordinates = np.genfromtxt(atlas, delimiter="\t", names=True)
    seeds = np.column_stack([coordinates["x"], coordinates["y"], coordinates["z"]])
    runs = []
    for bold in sorted(glob.glob(root + "/sub-*/func/*_bold.nii.gz")):
        name = os.path.basename(bold).replace("_bold.nii.gz", "")
        masker = NiftiSpheresMasker(seeds, radius=6, allow_overlap=True, detrend=True, standardize="zscore_sample")
        y = masker.fit_transform(bold)
        events = [(float(row["onset"]), float(row["duration"]), str(row["trial_type"]))
                  for row in np.genfromtxt(bold.replace("_bold.nii.gz", "_events.tsv"), delimiter="\t", names=True,
                                           dtype=None, encoding=None)]
        table = np.genfromtxt(f"{root}/ground_truth/{name}_latents.tsv", delimiter="\t", names=True, dtype=None,
                              encoding=None)
        names = table.dtype.names
        neural = np.column_stack([table[n] for n in names if re.fullmatch(r"z\d+", n)]).astype(float)
        boldz = np.column_stack([table[n] for n in names if n.startswith("bold_z")]).astype(float)
        tr = float(table["time_s"][1] - table["time_s"][0])
        runs.append(dict(name=name, subject=name.split("_")[0], y=y, events=events, neural=neural, bold=boldz, tr=tr))
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset")
    parser.add_argument("--atlas", default=os.path.join(os.path.dirname(__file__), "..", "atlases", "power264.tsv"))
    parser.add_argument("--field", choices=["true", "zero"], default="true")
    parser.add_argument("--substeps", type=int, default=8)
    parser.add_argument("--diffusion", type=float, default=None, help="default: the simulator's 0.15")
    parser.add_argument("--check", action="store_true", help="check the gradient by central differences and stop")
    parser.add_argument("--json")
    args = parser.parse_args()

    truth = json.load(open(args.dataset + "/ground_truth/fixed_points.json"))
    system = System(truth, args.field == "zero")
    diffusion = args.diffusion if args.diffusion is not None else 0.15
    runs = load(args.dataset, args.atlas)
    tr = runs[0]["tr"]
    step = tr / args.substeps
    kernel = glover_kernel(step)
    rows = []
    for run in runs:
        others = [r for r in runs if r["subject"] != run["subject"]]
        design = np.column_stack([np.vstack([r["bold"] for r in others]), np.ones(sum(len(r["y"]) for r in others))])
        target = np.vstack([r["y"] for r in others])
        beta, *_ = np.linalg.lstsq(design, target, rcond=None)
        loading, offset = beta[:-1], beta[-1]
        precision = LedoitWolf().fit(target - design @ beta).precision_
        times = np.arange(len(run["y"]) * args.substeps) * step
        u = system.input_series(run["events"], times)
        problem = Problem(system, run["y"], u, kernel, args.substeps, step, loading, offset, precision, diffusion)
        upsampled = np.repeat(run["neural"], args.substeps, axis=0)
        if args.check:
            small = Problem(system, run["y"][:12], u[: 12 * args.substeps], kernel, args.substeps, step, loading, offset,
                            precision, diffusion)
            point = upsampled[: 12 * args.substeps].ravel() + 0.1 * np.random.default_rng(0).normal(size=12 * args.substeps * upsampled.shape[1])
            analytic = small.value_and_gradient(point)[1]
            numeric = np.array([(small.value_and_gradient(point + 1e-5 * e)[0] - small.value_and_gradient(point - 1e-5 * e)[0]) / 2e-5
                                for e in np.eye(len(point))[:64]])
            error = np.abs(analytic[:64] - numeric).max() / np.abs(numeric).max()
            print(f"gradient check: max relative error {error:.2e} over 64 coordinates")
            # The Gauss-Newton Hessian against differences of the gradient: exact for the
            # observation term; the transition term drops e_s * f'' (small near the path).
            numeric = np.array([(small.value_and_gradient(point + 1e-5 * e)[1] - small.value_and_gradient(point - 1e-5 * e)[1]) / 2e-5
                                for e in np.eye(len(point))[:16]])
            analytic = small.hessian(point.reshape(-1, upsampled.shape[1]))[:16]
            print(f"Hessian check: max relative difference {np.abs(analytic - numeric).max() / np.abs(numeric).max():.2e} over 16 rows")
            return
        starts = {"truth": upsampled, "zero": np.zeros_like(upsampled), "rollout": problem.rollout(np.zeros(upsampled.shape[1]))}
        result = dict(run=run["name"])
        best = None
        for label, start in starts.items():
            path, value = problem.solve(start)
            at_volumes = path[:: args.substeps]
            scores = dict(objective=float(value),
                          neural_r2=float(r2(at_volumes, run["neural"], affine=False)),
                          neural_r2_affine=float(r2(at_volumes, run["neural"], affine=True)),
                          bold_r2=float(r2(problem.convolve(path), run["bold"], affine=False)))
            if system.kind in ("multistable", "switching"):
                scores["in_true_well"] = float((np.sign(at_volumes) == np.sign(run["neural"])).all(1).mean())
            result[label] = scores
            if best is None or value < best[1]:
                best = (label, value)
        result["best_start"] = best[0]
        rows.append(result)
        print(f"{run['name']}: " + "; ".join(
            f"{label} J {result[label]['objective']:.0f} neural {result[label]['neural_r2']:.3f} "
            f"(affine {result[label]['neural_r2_affine']:.3f}) bold {result[label]['bold_r2']:.3f}"
            + (f" well {result[label]['in_true_well']:.2f}" if "in_true_well" in result[label] else "")
            for label in starts), flush=True)
    summary = {}
    for label in ("truth", "zero", "rollout"):
        summary[label] = {key: float(np.mean([row[label][key] for row in rows])) for key in rows[0][label] if key != "objective"}
    summary["best"] = {key: float(np.mean([row[row["best_start"]][key] for row in rows])) for key in rows[0]["truth"] if key != "objective"}
    print("mean over runs: " + json.dumps(summary, indent=1))
    if args.json:
        report = dict(dataset=args.dataset, field=args.field, substeps=args.substeps, diffusion=diffusion, runs=rows, mean=summary)
        temporary = args.json + ".tmp"
        with open(temporary, "w") as handle:
            json.dump(report, handle, indent=1)
        os.replace(temporary, args.json)


if __name__ == "__main__":
    main()
