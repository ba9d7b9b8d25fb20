"""Golden values for FastICA from scikit-learn: parallel algorithm, logcosh contrast,
unit-variance whitening, solved tightly (tol 1e-12) so that the converged sources can be
compared with fmridyn's up to order and sign regardless of the random initial matrix.

Run from the repository root: python3 bench/golden/fastica_sklearn.py
Writes Tests/Fixtures/analysis/fastica_golden.json.
"""
import json
import pathlib

import numpy as np
import sklearn
from sklearn.decomposition import FastICA

OUT = pathlib.Path("Tests/Fixtures/analysis/fastica_golden.json")


def main():
    rng = np.random.default_rng(5)
    n = 400
    sources = np.column_stack([rng.laplace(size=n), rng.uniform(-1, 1, n), np.sign(np.sin(np.arange(n) / 7.0))])
    mixing = rng.normal(size=(4, 3))
    x = sources @ mixing.T + 0.05 * rng.normal(size=(n, 4))
    ica = FastICA(n_components=3, whiten="unit-variance", algorithm="parallel", fun="logcosh",
                  tol=1e-12, max_iter=100000, random_state=0).fit(x)
    out = {"versions": {"sklearn": sklearn.__version__}, "x": x.tolist(),
           "sources": ica.transform(x).tolist(), "iterations": int(ica.n_iter_)}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
