"""Golden values for decoding from scikit-learn: multinomial L2 logistic regression (C = 1,
solved tightly: tol 1e-12, max_iter 100000), GroupKFold folds with unequal and tied group sizes,
balanced accuracy, PCA components / explained variance, LDA (none, fixed and Ledoit-Wolf
'auto' shrinkage) and the Ledoit-Wolf estimator itself.

Run from the repository root: python3 bench/golden/decoding_sklearn.py
Writes Tests/Fixtures/analysis/sklearn_golden.json.
"""
import json
import pathlib

import numpy as np
import sklearn
from sklearn.covariance import ledoit_wolf, ledoit_wolf_shrinkage
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GroupKFold

OUT = pathlib.Path("Tests/Fixtures/analysis/sklearn_golden.json")


def main():
    rng = np.random.default_rng(3)
    classes = np.array(["left_hand", "rest", "tongue"])
    y = rng.integers(0, 3, 120)
    x = rng.normal(size=(120, 4)) + np.array([[1.5, 0, 0, 0.5], [0, 0, 0, 0], [0, -1.5, 1, 0]])[y]
    labels = classes[y]
    model = LogisticRegression(C=1.0, tol=1e-12, max_iter=100000).fit(x, labels)
    groups = np.array([f"sub-{g:02d}" for g in rng.choice([1, 2, 3, 4, 5, 6, 7], 120, p=[.25, .2, .15, .15, .1, .1, .05])])
    folds = [test.tolist() for _, test in GroupKFold(n_splits=3).split(x, labels, groups)]
    tied = np.repeat(["a", "b", "c", "d"], 10)
    tied_folds = [test.tolist() for _, test in GroupKFold(n_splits=3).split(np.zeros(40), np.zeros(40), tied)]
    predicted = model.predict(x)
    pca = PCA(n_components=3).fit(x)
    lda = LinearDiscriminantAnalysis(solver="lsqr").fit(x, labels)
    lda_shrunk = LinearDiscriminantAnalysis(solver="lsqr", shrinkage=0.3).fit(x, labels)
    # Ledoit-Wolf: few samples per feature so the shrinkage is far from 0 (drawn after the
    # values above so those stay as they were).
    lw_x = rng.normal(size=(15, 10)) @ rng.normal(size=(10, 10))
    lda_auto = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(x[:40], labels[:40])
    out = {"lda_coef": lda.coef_.tolist(), "lda_intercept": lda.intercept_.tolist(), "lda_predicted": lda.predict(x).tolist(),
           "lda_shrunk_coef": lda_shrunk.coef_.tolist(), "lda_shrunk_intercept": lda_shrunk.intercept_.tolist(),
           "lw_x": lw_x.tolist(), "lw_shrinkage": float(ledoit_wolf_shrinkage(lw_x)),
           "lw_covariance": ledoit_wolf(lw_x)[0].tolist(),
           "lda_auto_coef": lda_auto.coef_.tolist(), "lda_auto_intercept": lda_auto.intercept_.tolist(),
           "versions": {"sklearn": sklearn.__version__}, "x": x.tolist(), "labels": labels.tolist(), "groups": groups.tolist(),
           "coef": model.coef_.tolist(), "intercept": model.intercept_.tolist(), "classes": model.classes_.tolist(),
           "predicted": predicted.tolist(), "balanced_accuracy": balanced_accuracy_score(labels, predicted),
           "group_folds": folds, "tied_groups": tied.tolist(), "tied_folds": tied_folds,
           "pca_components": pca.components_.tolist(), "pca_explained_variance": pca.explained_variance_.tolist()}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out))
    print("wrote", OUT, "balanced accuracy", out["balanced_accuracy"])


if __name__ == "__main__":
    main()
