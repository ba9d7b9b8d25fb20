"""Golden values for the Gaussian mixture from scikit-learn: full covariances, k-means
initialisation, three well-separated clusters in 3-D (so every start of either implementation
reaches the same optimum, and the converged parameters can be compared up to component order).

Run from the repository root: python3 bench/golden/gaussian_mixture_sklearn.py
Writes Tests/Fixtures/analysis/gaussian_mixture_golden.json.
"""
import json
import pathlib

import numpy as np
import sklearn
from sklearn.mixture import GaussianMixture

OUT = pathlib.Path("Tests/Fixtures/analysis/gaussian_mixture_golden.json")


def main():
    rng = np.random.default_rng(7)
    centres = np.array([[2.0, 0.0, -1.0], [-2.0, 1.0, 0.5], [0.0, -2.5, 1.5]])
    shapes = [np.array([[0.5, 0.2, 0.0], [0.0, 0.3, 0.1], [0.0, 0.0, 0.4]]),
              np.array([[0.3, 0.0, 0.0], [0.1, 0.6, 0.0], [0.0, -0.2, 0.2]]),
              np.array([[0.4, 0.0, 0.1], [0.0, 0.2, 0.0], [0.0, 0.1, 0.5]])]
    sizes = [150, 100, 50]
    x = np.vstack([rng.standard_normal((size, 3)) @ shape.T + centre
                   for size, shape, centre in zip(sizes, shapes, centres)])
    mixture = GaussianMixture(3, covariance_type="full", n_init=3, tol=1e-10, max_iter=1000, random_state=0).fit(x)
    order = np.argsort(-mixture.weights_)
    out = {"versions": {"sklearn": sklearn.__version__}, "x": x.tolist(),
           "weights": mixture.weights_[order].tolist(), "means": mixture.means_[order].tolist(),
           "covariances": mixture.covariances_[order].reshape(3, 9).tolist(),
           "mean_log_likelihood": float(mixture.score(x)),
           "responsibilities_first5": mixture.predict_proba(x[:5])[:, order].tolist()}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
