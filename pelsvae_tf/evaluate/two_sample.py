"""Distribution match and classifier metrics between two feature samples: per-feature KS /
Wasserstein distances, the classifier two-sample AUC and train-on-synthetic / test-on-real
accuracy. Re-exported by :mod:`pelsvae_tf.evaluate.metrics`."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy import stats
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def distribution_distances(
    a: np.ndarray,
    b: np.ndarray,
    names: Sequence[str] | None = None,
) -> dict[str, dict[str, float]]:
    """Two-sample distances per feature column: KS statistic + p-value and Wasserstein-1.

    Args:
        a: reference sample [n_a, F] (e.g. held-out real curves' features) or [n_a].
        b: compared sample [n_b, F] (e.g. generated curves' features).
        names: F column names (default ``f0, f1, ...``).

    Returns:
        ``{name: {"ks": D in [0, 1], "ks_pvalue": p, "wasserstein": W (feature unit),
        "wasserstein_rel": W / std(a) (dimensionless; NaN when std(a) = 0)}}``.
    """

    xa = np.asarray(a, dtype=np.float64)
    xb = np.asarray(b, dtype=np.float64)
    if xa.ndim == 1:
        xa = xa[:, None]
    if xb.ndim == 1:
        xb = xb[:, None]
    if xa.shape[1] != xb.shape[1]:
        raise ValueError(f"a has {xa.shape[1]} feature columns but b has {xb.shape[1]}")
    if len(xa) < 2 or len(xb) < 2:
        raise ValueError(f"each sample needs >= 2 rows (got {len(xa)} and {len(xb)})")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(xb))):
        raise ValueError("feature samples contain NaN/inf; compute features on valid curves only")
    names = list(names) if names is not None else [f"f{i}" for i in range(xa.shape[1])]
    if len(names) != xa.shape[1]:
        raise ValueError(f"names has {len(names)} entries for {xa.shape[1]} columns")
    out: dict[str, dict[str, float]] = {}
    for i, n in enumerate(names):
        ks = stats.ks_2samp(xa[:, i], xb[:, i])
        w = float(stats.wasserstein_distance(xa[:, i], xb[:, i]))
        sd = float(np.std(xa[:, i]))
        out[n] = {
            "ks": float(ks.statistic),
            "ks_pvalue": float(ks.pvalue),
            "wasserstein": w,
            "wasserstein_rel": w / sd if sd > 0 else float("nan"),
        }
    return out


def _classifier(kind: str, seed: int):
    if kind == "forest":
        return RandomForestClassifier(n_estimators=100, min_samples_leaf=2, random_state=seed, n_jobs=1)
    if kind == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    raise ValueError(f"classifier must be 'forest' or 'logistic' (got {kind!r})")


def c2st_auc(
    real: np.ndarray,
    generated: np.ndarray,
    classifier: Any = "forest",
    n_splits: int = 5,
    seed: int = 0,
) -> dict[str, float]:
    """Classifier two-sample test: out-of-fold ROC AUC of a classifier telling real from generated.

    0.5 means the classifier cannot tell the two samples apart (perfect generator); 1.0 means
    they are fully separable. Every row is scored by a model that never saw it (stratified K-fold).

    Args:
        real: features of real curves [n_r, F]; generated: features of generated curves [n_g, F].
        classifier: ``"forest"`` (random forest, 100 trees), ``"logistic"`` (standardised logistic)
            or an unfitted scikit-learn classifier (cloned per fold).
        n_splits: folds (2 <= n_splits <= the smaller sample size).
        seed: seeds the folds and the classifier.

    Returns:
        ``{"auc": out-of-fold AUC, "auc_fold_std": spread over folds, "n_real", "n_generated"}``.
    """

    xr = np.asarray(real, dtype=np.float64)
    xg = np.asarray(generated, dtype=np.float64)
    if xr.ndim != 2 or xg.ndim != 2 or xr.shape[1] != xg.shape[1]:
        raise ValueError(f"real {xr.shape} and generated {xg.shape} must be 2-D with the same number of columns")
    if not (np.all(np.isfinite(xr)) and np.all(np.isfinite(xg))):
        raise ValueError("c2st_auc: features contain NaN/inf")
    n_min = min(len(xr), len(xg))
    if n_splits < 2 or n_min < n_splits:
        raise ValueError(
            f"c2st_auc: n_splits={n_splits} needs 2 <= n_splits <= min(n_real, n_generated) = {n_min}; "
            f"use more curves or fewer folds"
        )
    x = np.concatenate([xr, xg])
    y = np.concatenate([np.zeros(len(xr), int), np.ones(len(xg), int)])
    scores = np.zeros(len(y))
    fold_auc = []
    for tr, te in StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(x, y):
        clf = _classifier(classifier, seed) if isinstance(classifier, str) else clone(classifier)
        clf.fit(x[tr], y[tr])
        scores[te] = clf.predict_proba(x[te])[:, 1]
        fold_auc.append(roc_auc_score(y[te], scores[te]))
    return {
        "auc": float(roc_auc_score(y, scores)),
        "auc_fold_std": float(np.std(fold_auc)),
        "n_real": int(len(xr)),
        "n_generated": int(len(xg)),
    }


def tstr_accuracy(
    x_synthetic: np.ndarray,
    y_synthetic: np.ndarray,
    x_real_train: np.ndarray,
    y_real_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    n_classes: int,
    classifier: str = "forest",
    seed: int = 0,
) -> dict[str, object]:
    """Train-on-synthetic/test-on-real (TSTR) against train-on-real/test-on-real (TRTR).

    The same classifier type is trained once on synthetic features and once on real training
    features; both are scored on the same real test features (never seen by either).

    Returns:
        ``{"accuracy_tstr", "accuracy_trtr", "ratio" (tstr / trtr), "balanced_accuracy_tstr",
        "balanced_accuracy_trtr", "confusion_tstr", "confusion_trtr" ([n_classes, n_classes]
        counts, rows = true class), "n_synthetic", "n_real_train", "n_test"}``.
    """

    xs, xr, xt = (np.asarray(v, dtype=np.float64) for v in (x_synthetic, x_real_train, x_test))
    ys, yr, yt = (np.asarray(v, dtype=np.int64).ravel() for v in (y_synthetic, y_real_train, y_test))
    for name, x, y in (("synthetic", xs, ys), ("real_train", xr, yr), ("test", xt, yt)):
        if x.ndim != 2 or len(x) != len(y) or len(x) == 0:
            raise ValueError(
                f"tstr_accuracy: {name} features {x.shape} and labels {y.shape} must be [n, F] and [n], n > 0"
            )
        if not np.all(np.isfinite(x)):
            raise ValueError(f"tstr_accuracy: {name} features contain NaN/inf")
    labels = np.arange(n_classes)
    out: dict[str, object] = {}
    for tag, x, y in (("tstr", xs, ys), ("trtr", xr, yr)):
        clf = _classifier(classifier, seed)
        clf.fit(x, y)
        pred = clf.predict(xt)
        out[f"accuracy_{tag}"] = float(accuracy_score(yt, pred))
        out[f"balanced_accuracy_{tag}"] = float(balanced_accuracy_score(yt, pred))
        out[f"confusion_{tag}"] = confusion_matrix(yt, pred, labels=labels).tolist()
    trtr = out["accuracy_trtr"]
    out["ratio"] = float(out["accuracy_tstr"] / trtr) if trtr > 0 else float("nan")
    out.update(n_synthetic=int(len(xs)), n_real_train=int(len(xr)), n_test=int(len(xt)))
    return out
