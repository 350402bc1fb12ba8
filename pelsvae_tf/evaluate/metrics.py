"""Fidelity and realism metrics for light curves (pure numpy / scipy / astropy / scikit-learn).

Everything here works on plain arrays so it can be tested on curves with known answers and
reused outside the evaluation report:

- reconstruction error: :func:`weighted_rmse` (error-weighted RMSE, in the units of the curve;
  for the package's scaled curves that is "scaled magnitude", a fraction of the curve's range)
  and its flat-curve baseline :func:`flat_baseline_rmse`;
- light-curve shape: :func:`fourier_fit` (A_k, phi_k, R21, phi21, R31, phi31 of
  ``mag(phi) = A0 + sum_k A_k cos(2 pi k phi + phi_k)``, the OGLE convention) and
  :func:`shape_features` (a phase-shift-invariant feature matrix; :func:`shape_features_with_mag`
  adds the amplitude in magnitudes to the features of min-max scaled curves);
- periods: :func:`lomb_scargle_period` and :func:`period_recovered`;
- distribution match: :func:`distribution_distances` (Kolmogorov-Smirnov and Wasserstein per
  feature) and :func:`c2st_auc` (classifier two-sample test, 0.5 = indistinguishable);
- train-on-synthetic / test-on-real: :func:`tstr_accuracy`.

Units: phases are cycles in [0, 1); times and periods are days; magnitudes are whatever the caller
passes (mag, or the package's min-max scaled magnitude where 1 = faintest); phases of Fourier
terms are radians in [0, 2 pi).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

#: Names of the columns returned by :func:`shape_features`, in order.
SHAPE_FEATURE_NAMES: tuple[str, ...] = (
    "amplitude",  # peak-to-peak of the fitted Fourier series [same unit as mag; ~1 by construction for min-max scaled curves]
    "A1",  # first Fourier amplitude [same unit as mag]
    "R21",
    "R31",
    "cos_phi21",
    "sin_phi21",
    "cos_phi31",
    "sin_phi31",
    "skewness",  # of the magnitudes (dimensionless; > 0 for a sawtooth that lingers near maximum light)
)

#: :data:`SHAPE_FEATURE_NAMES` plus the peak-to-peak Fourier amplitude in magnitudes
#: (:func:`shape_features_with_mag`): the only column that is not ~constant on min-max scaled curves.
FEATURE_NAMES_WITH_MAG: tuple[str, ...] = SHAPE_FEATURE_NAMES + ("amplitude_mag",)


def _as_2d(name: str, x: np.ndarray | Sequence[float]) -> np.ndarray:
    """Return ``x`` as float64 [N, L]; a 1-D array becomes one row. Rejects NaN/inf with a clear message."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 1-D curve or a 2-D [n_curves, n_points] array, got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError(f"{name}: curves have no points (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or infinite values; drop or interpolate those points first")
    return arr


def _same_shape(names: Sequence[str], arrays: Sequence[np.ndarray]) -> None:
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        detail = ", ".join(f"{n} {a.shape}" for n, a in zip(names, arrays))
        raise ValueError(f"shape mismatch: {detail}; all must have the same [n_curves, n_points] shape")


# --------------------------------------------------------------------------------------------
# Reconstruction error
# --------------------------------------------------------------------------------------------


def weighted_rmse(
    mag: np.ndarray,
    mag_hat: np.ndarray,
    err: np.ndarray,
    err_floor: float = 1e-3,
) -> np.ndarray:
    """Error-weighted RMSE of each curve: ``sqrt(sum w (x - x_hat)^2 / sum w)`` with ``w = 1/sigma^2``.

    Args:
        mag: observed magnitudes [n, L] or [L] (any unit; the result has the same unit).
        mag_hat: reconstructed magnitudes, same shape.
        err: 1-sigma photometric errors, same shape and unit; floored at ``err_floor`` so a point
            with a zero error cannot dominate.
        err_floor: smallest error used in the weights (same unit as ``err``), > 0.

    Returns:
        float64 [n]: one RMSE per curve, in the unit of ``mag``. With equal errors it equals the
        plain RMSE.
    """
    if not err_floor > 0:
        raise ValueError(f"err_floor must be > 0 (got {err_floor}); it keeps zero errors from dominating")
    x, xh, e = _as_2d("mag", mag), _as_2d("mag_hat", mag_hat), _as_2d("err", err)
    _same_shape(("mag", "mag_hat", "err"), (x, xh, e))
    if np.any(e < 0):
        raise ValueError("err: photometric errors must be >= 0")
    w = 1.0 / np.maximum(e, err_floor) ** 2
    return np.sqrt(np.sum(w * (x - xh) ** 2, axis=1) / np.sum(w, axis=1))


def flat_baseline_rmse(mag: np.ndarray, err: np.ndarray, err_floor: float = 1e-3) -> np.ndarray:
    """Error-weighted RMSE [n] of the flat-curve baseline: each curve predicted by its own mean.

    The mean is the error-weighted one (``sum w x / sum w``, ``w = 1 / max(err, err_floor)^2``), the
    best constant under :func:`weighted_rmse`, so a reconstruction that does not beat this
    baseline has learnt nothing about the curve's shape. Same unit as ``mag``.
    """
    if not err_floor > 0:
        raise ValueError(f"err_floor must be > 0 (got {err_floor}); it keeps zero errors from dominating")
    x, e = _as_2d("mag", mag), _as_2d("err", err)
    _same_shape(("mag", "err"), (x, e))
    w = 1.0 / np.maximum(e, err_floor) ** 2
    mean = np.sum(w * x, axis=1, keepdims=True) / np.sum(w, axis=1, keepdims=True)
    return weighted_rmse(x, np.broadcast_to(mean, x.shape), e, err_floor=err_floor)


def rmse(mag: np.ndarray, mag_hat: np.ndarray) -> np.ndarray:
    """Plain RMSE of each curve [n] (unit of ``mag``)."""
    x, xh = _as_2d("mag", mag), _as_2d("mag_hat", mag_hat)
    _same_shape(("mag", "mag_hat"), (x, xh))
    return np.sqrt(np.mean((x - xh) ** 2, axis=1))


# --------------------------------------------------------------------------------------------
# Fourier decomposition
# --------------------------------------------------------------------------------------------


def fourier_fit(
    phase: np.ndarray,
    mag: np.ndarray,
    n_harmonics: int = 3,
    err: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Least-squares Fourier series of phase-folded curves, vectorised over curves.

    Fits ``mag(phi) = A0 + sum_{k=1..n} A_k cos(2 pi k phi + phi_k)`` (the OGLE-III convention) to
    every row independently (each row may have its own phases).

    Args:
        phase: phases in cycles [n, L] or [L] (any real numbers; only phase mod 1 matters).
        mag: magnitudes [n, L] (any unit).
        n_harmonics: number of harmonics, >= 1 (R31/phi31 need >= 3; with fewer they are NaN).
        err: optional 1-sigma errors for weighted least squares (same shape, > 0).

    Returns:
        dict of float64 arrays [n]: ``A0``; ``A1..An`` (amplitudes, unit of mag, >= 0);
        ``phi1..phin`` (radians in [0, 2 pi)); ``R21 = A2/A1``, ``R31 = A3/A1`` (dimensionless);
        ``phi21 = phi2 - 2 phi1`` and ``phi31 = phi3 - 3 phi1`` wrapped to [0, 2 pi) (invariant
        under a phase shift of the curve); ``amplitude`` = peak-to-peak of the fitted series on a
        fine grid (unit of mag).
    """
    if int(n_harmonics) < 1:
        raise ValueError(f"n_harmonics must be >= 1 (got {n_harmonics})")
    n_h = int(n_harmonics)
    ph, y = _as_2d("phase", phase), _as_2d("mag", mag)
    _same_shape(("phase", "mag"), (ph, y))
    n_par = 2 * n_h + 1
    if ph.shape[1] < n_par:
        raise ValueError(
            f"mag: {ph.shape[1]} points cannot constrain {n_h} harmonics ({n_par} parameters); "
            f"lower n_harmonics or pass longer curves"
        )
    k = np.arange(1, n_h + 1, dtype=np.float64)
    arg = 2.0 * np.pi * ph[:, :, None] * k[None, None, :]  # [n, L, H]
    design = np.concatenate([np.ones_like(ph)[:, :, None], np.cos(arg), np.sin(arg)], axis=2)  # [n, L, 2H+1]
    if err is not None:
        e = _as_2d("err", err)
        _same_shape(("phase", "err"), (ph, e))
        if np.any(e <= 0):
            raise ValueError("err: weights need strictly positive errors; floor them first")
        w = 1.0 / e**2
    else:
        w = np.ones_like(ph)
    dtw = np.transpose(design * w[:, :, None], (0, 2, 1))  # [n, P, L]
    normal = dtw @ design  # [n, P, P]
    rhs = dtw @ y[:, :, None]  # [n, P, 1]
    normal = normal + 1e-12 * np.eye(n_par)[None] * np.trace(normal, axis1=1, axis2=2)[:, None, None] / n_par
    coef = np.linalg.solve(normal, rhs)[:, :, 0]  # [n, P]
    a = coef[:, 1 : n_h + 1]
    b = coef[:, n_h + 1 :]
    amp = np.hypot(a, b)
    # A cos(x + phi) = A cos(phi) cos(x) - A sin(phi) sin(x)  =>  a = A cos phi, b = -A sin phi
    phi = np.mod(np.arctan2(-b, a), 2.0 * np.pi)
    out: dict[str, np.ndarray] = {"A0": coef[:, 0]}
    for i in range(n_h):
        out[f"A{i + 1}"] = amp[:, i]
        out[f"phi{i + 1}"] = phi[:, i]
    with np.errstate(divide="ignore", invalid="ignore"):
        a1 = np.where(amp[:, 0] > 0, amp[:, 0], np.nan)
        nan = np.full(len(ph), np.nan)
        out["R21"] = amp[:, 1] / a1 if n_h >= 2 else nan
        out["R31"] = amp[:, 2] / a1 if n_h >= 3 else nan
        out["phi21"] = np.mod(phi[:, 1] - 2 * phi[:, 0], 2 * np.pi) if n_h >= 2 else nan
        out["phi31"] = np.mod(phi[:, 2] - 3 * phi[:, 0], 2 * np.pi) if n_h >= 3 else nan
    grid = np.linspace(0.0, 1.0, 200, endpoint=False)
    g_arg = 2.0 * np.pi * grid[:, None] * k[None, :]  # [G, H]
    model = coef[:, :1] + a @ np.cos(g_arg).T + b @ np.sin(g_arg).T  # [n, G]
    out["amplitude"] = model.max(axis=1) - model.min(axis=1)
    return out


def skewness(mag: np.ndarray) -> np.ndarray:
    """Sample skewness of each curve's magnitudes [n] (dimensionless, bias-uncorrected)."""
    y = _as_2d("mag", mag)
    d = y - y.mean(axis=1, keepdims=True)
    m2 = np.mean(d**2, axis=1)
    m3 = np.mean(d**3, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(m2 > 0, m3 / np.maximum(m2, 1e-300) ** 1.5, 0.0)


def shape_features(phase: np.ndarray, mag: np.ndarray, n_harmonics: int = 3) -> np.ndarray:
    """Phase-shift-invariant shape features of folded curves, columns :data:`SHAPE_FEATURE_NAMES`.

    Args:
        phase: phases in cycles [n, L]; mag: magnitudes [n, L] (any unit; amplitude and A1 carry it).
        n_harmonics: harmonics of the Fourier fit (>= 3).

    Returns:
        float64 [n, 9]. A curve with no variation gets R21 = R31 = 0 and phases 0 (not NaN), so the
        matrix is always finite.
    """
    if int(n_harmonics) < 3:
        raise ValueError(f"shape_features needs n_harmonics >= 3 for R31/phi31 (got {n_harmonics})")
    f = fourier_fit(phase, mag, n_harmonics=n_harmonics)
    cols = [
        f["amplitude"],
        f["A1"],
        f["R21"],
        f["R31"],
        np.cos(f["phi21"]),
        np.sin(f["phi21"]),
        np.cos(f["phi31"]),
        np.sin(f["phi31"]),
        skewness(mag),
    ]
    return np.nan_to_num(np.stack(cols, axis=1), nan=0.0, posinf=0.0, neginf=0.0)


def shape_features_with_mag(
    phase: np.ndarray,
    scaled_mag: np.ndarray,
    mag_range: np.ndarray,
    n_harmonics: int = 3,
) -> np.ndarray:
    """:func:`shape_features` of min-max scaled curves plus their amplitude in magnitudes.

    Args:
        phase: phases in cycles [n, L].
        scaled_mag: magnitudes min-max scaled per curve [n, L] (``(mag - min) / range``).
        mag_range: each curve's ``max - min`` of the observed magnitudes [n] in mag (> 0), the
            factor that turns the scaled curve back into magnitudes.
        n_harmonics: harmonics of the Fourier fit (>= 3).

    Returns:
        float64 [n, 10], columns :data:`FEATURE_NAMES_WITH_MAG`; the last, ``amplitude_mag``, is the
        scaled Fourier peak-to-peak amplitude times ``mag_range`` (mag): the fitted amplitude of
        the curve in magnitudes.
    """
    f = shape_features(phase, scaled_mag, n_harmonics)
    r = np.asarray(mag_range, dtype=np.float64).reshape(-1)
    if r.shape[0] != f.shape[0]:
        raise ValueError(f"mag_range: {r.shape[0]} values for {f.shape[0]} curves; give one range (mag) per curve")
    if not (np.all(np.isfinite(r)) and np.all(r > 0)):
        raise ValueError("mag_range: every curve's magnitude range must be finite and > 0 (mag)")
    amp_mag = f[:, SHAPE_FEATURE_NAMES.index("amplitude")] * r
    return np.concatenate([f, amp_mag[:, None]], axis=1)


# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------


def lomb_scargle_period(
    time: np.ndarray,
    mag: np.ndarray,
    err: np.ndarray | None = None,
    min_period: float = 0.05,
    max_period: float = 1000.0,
    samples_per_peak: int = 5,
    backend: str = "light-curve",
) -> float:
    """Best period of one light curve by the Lomb-Scargle periodogram.

    A coarse search over frequencies 1/max_period..1/min_period (grid step
    ``1 / (samples_per_peak * baseline)``) is followed by a fine search (64 frequencies over
    +-1 coarse step around the highest peak, astropy's generalised Lomb-Scargle with ``err``),
    so the period is precise to a small fraction of the peak width.

    Args:
        time: observation times [L] in days (any zero point).
        mag: magnitudes [L]; err: optional 1-sigma errors [L] (same unit, > 0), used by the fine search.
        min_period, max_period: search range in days, 0 < min < max.
        samples_per_peak: coarse-grid oversampling.
        backend: coarse search with ``"light-curve"`` (the light-curve package's FFT periodogram,
            unweighted; fast) or ``"astropy"`` (``LombScargle.autopower(method="fast")``, slower).

    Returns:
        The period in days at the highest periodogram peak.
    """
    from astropy.timeseries import LombScargle

    t = np.asarray(time, dtype=np.float64).ravel()
    y = np.asarray(mag, dtype=np.float64).ravel()
    if t.shape != y.shape:
        raise ValueError(f"time {t.shape} and mag {y.shape} must have the same length")
    if len(t) < 3:
        raise ValueError(f"time: a periodogram needs at least 3 points (got {len(t)})")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(y))):
        raise ValueError("time/mag contain NaN or infinite values; drop those points first")
    if not (0 < min_period < max_period):
        raise ValueError(f"period search range must satisfy 0 < min_period < max_period (got {min_period}, {max_period})")
    if backend not in ("light-curve", "astropy"):
        raise ValueError(f"backend must be 'light-curve' or 'astropy' (got {backend!r})")
    dy = None
    if err is not None:
        dy = np.asarray(err, dtype=np.float64).ravel()
        if dy.shape != t.shape or np.any(~np.isfinite(dy)) or np.any(dy <= 0):
            raise ValueError("err: must match time's length and be finite and > 0")
    order = np.argsort(t, kind="stable")
    t, y = t[order], y[order]
    dy = None if dy is None else dy[order]
    baseline = max(float(t[-1] - t[0]), 1e-9)
    f_lo, f_hi = 1.0 / max_period, 1.0 / min_period
    step = 1.0 / (samples_per_peak * baseline)
    if backend == "light-curve":
        import light_curve

        k = int(np.ceil(np.log2(max(f_hi / step, 16.0))))
        freqs = np.linspace(0.0, f_hi, 2**k + 1)  # cycles / day
        pg = light_curve.Periodogram(peaks=1, freqs=2 * np.pi * freqs, fast=True)  # angular grid
        power = np.asarray(pg.power(t, y), dtype=np.float64)
        sel = (freqs >= f_lo) & (freqs <= f_hi)
        f_best = float(freqs[sel][np.argmax(power[sel])]) if np.any(sel) else f_lo
        step = float(freqs[1] - freqs[0])
    else:
        freq, power = LombScargle(t, y, dy).autopower(
            minimum_frequency=f_lo, maximum_frequency=f_hi, samples_per_peak=samples_per_peak, method="fast")
        f_best = float(freq[int(np.argmax(power))])
    fine = np.linspace(max(f_best - step, f_lo), min(f_best + step, f_hi), 64)
    fine_power = LombScargle(t, y, dy).power(fine, method="cython")
    return float(1.0 / fine[int(np.argmax(fine_power))])


def period_recovered(
    found: np.ndarray | float,
    true: np.ndarray | float,
    rtol: float = 0.01,
    harmonics: Sequence[float] = (1.0,),
) -> np.ndarray:
    """True where a found period matches ``h * true`` within relative tolerance ``rtol`` for some ``h``.

    ``harmonics=(1,)`` is strict recovery; ``(0.5, 1, 2)`` also accepts the half / double period
    that Lomb-Scargle picks for eclipsing and ellipsoidal (double-wave) curves. Periods in days.
    """
    f = np.atleast_1d(np.asarray(found, dtype=np.float64))
    p = np.atleast_1d(np.asarray(true, dtype=np.float64))
    if np.any(p <= 0):
        raise ValueError("true periods must be > 0 days")
    ok = np.zeros(np.broadcast(f, p).shape, dtype=bool)
    for h in harmonics:
        ok |= np.abs(f / (h * p) - 1.0) < rtol
    return ok


# --------------------------------------------------------------------------------------------
# Distribution match
# --------------------------------------------------------------------------------------------


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
    from scipy import stats

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
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=100, min_samples_leaf=2, random_state=seed, n_jobs=1)
    if kind == "logistic":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    raise ValueError(f"classifier must be 'forest' or 'logistic' (got {kind!r})")


def c2st_auc(
    real: np.ndarray,
    generated: np.ndarray,
    classifier: str = "forest",
    n_splits: int = 5,
    seed: int = 0,
) -> dict[str, float]:
    """Classifier two-sample test: out-of-fold ROC AUC of a classifier telling real from generated.

    0.5 means the classifier cannot tell the two samples apart (perfect generator); 1.0 means
    they are fully separable. Every row is scored by a model that never saw it (stratified K-fold).

    Args:
        real: features of real curves [n_r, F]; generated: features of generated curves [n_g, F].
        classifier: ``"forest"`` (random forest, 100 trees) or ``"logistic"`` (standardised logistic).
        n_splits: folds (2 <= n_splits <= the smaller sample size).
        seed: seeds the folds and the classifier.

    Returns:
        ``{"auc": out-of-fold AUC, "auc_fold_std": spread over folds, "n_real", "n_generated"}``.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

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
        clf = _classifier(classifier, seed)
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
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix

    xs, xr, xt = (np.asarray(v, dtype=np.float64) for v in (x_synthetic, x_real_train, x_test))
    ys, yr, yt = (np.asarray(v, dtype=np.int64).ravel() for v in (y_synthetic, y_real_train, y_test))
    for name, x, y in (("synthetic", xs, ys), ("real_train", xr, yr), ("test", xt, yt)):
        if x.ndim != 2 or len(x) != len(y) or len(x) == 0:
            raise ValueError(f"tstr_accuracy: {name} features {x.shape} and labels {y.shape} must be [n, F] and [n], n > 0")
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


def summarize(values: np.ndarray) -> dict[str, float]:
    """``{"mean", "median", "p90", "n"}`` of finite values (NaN entries ignored); empty -> NaNs and n = 0."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return {"mean": math.nan, "median": math.nan, "p90": math.nan, "n": 0}
    return {
        "mean": float(v.mean()),
        "median": float(np.median(v)),
        "p90": float(np.percentile(v, 90)),
        "n": int(len(v)),
    }
