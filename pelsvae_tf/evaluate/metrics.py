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
- periods (:mod:`pelsvae_tf.evaluate.periods`): :func:`lomb_scargle_period` and :func:`period_recovered`;
- distribution match (:mod:`pelsvae_tf.evaluate.two_sample`): :func:`distribution_distances` (Kolmogorov-Smirnov and Wasserstein per
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

# periods and two-sample / classifier metrics live in their own modules; ``metrics.X`` keeps working
from pelsvae_tf.evaluate.periods import lomb_scargle_period, period_recovered  # noqa: F401
from pelsvae_tf.evaluate.two_sample import c2st_auc, distribution_distances, tstr_accuracy  # noqa: F401

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
