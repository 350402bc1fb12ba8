"""Band-robust features of the realism yardstick (see :mod:`pelsvae_tf.evaluate.realism`): a
Fourier fit at the known period, light-curve moments and ``log10 P``. Re-exported by
:mod:`pelsvae_tf.evaluate.realism`."""

from __future__ import annotations

import math
from typing import Any

import light_curve as lc
import numpy as np

from pelsvae_tf.data.cleaning import fold_phase
from pelsvae_tf.evaluate import metrics as M
from pelsvae_tf.evaluate.curvesets import CurveSet

#: Harmonics of the Fourier fit at the known period.
FOURIER_ORDER = 4
#: Feature names, in column order (``log10_P`` last; dropped by the "shape only" variants).
FEATURES = (
    "R21",
    "R31",
    "cos_phi21",
    "sin_phi21",
    "cos_phi31",
    "sin_phi31",
    "skew",
    "kurtosis",
    "stetson_k",
    "eta",
    "log10_P",
)
SHAPE_FEATURES = FEATURES[:-1]
MIN_POINTS = 2 * FOURIER_ORDER + 4


def fourier_fit(
    time: np.ndarray, mag: np.ndarray, err: np.ndarray, period: float, order: int = FOURIER_ORDER
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least-squares Fourier series at ``period`` [d] (:func:`pelsvae_tf.evaluate.metrics.fourier_fit`
    of the folded curve, errors floored at 1e-4 mag).

    Returns ``(amplitudes [mag] A_1..A_order, phases [rad] phi_1..phi_order in (-pi, pi], model [mag]
    at the input times)`` for ``m(t) = A0 + sum_k A_k cos(2 pi k t / P + phi_k)``.
    """
    ph = fold_phase(time, period)
    fit = M.fourier_fit(
        ph, np.asarray(mag, np.float64), n_harmonics=order, err=np.maximum(np.asarray(err, np.float64), 1e-4)
    )
    amp = np.array([fit[f"A{k}"][0] for k in range(1, order + 1)])
    phi = np.array([fit[f"phi{k}"][0] for k in range(1, order + 1)])
    phase = np.arctan2(np.sin(phi), np.cos(phi))
    k = np.arange(1, order + 1)
    model = fit["A0"][0] + np.cos(2 * np.pi * k[None, :] * ph[:, None] + phi[None, :]) @ amp
    return amp, phase, model


def _extractor():
    return lc.Extractor(lc.Skew(), lc.Kurtosis(), lc.StetsonK(), lc.Eta())


def curve_features(
    time: np.ndarray, mag: np.ndarray, err: np.ndarray, period: float, extractor: Any = None
) -> np.ndarray:
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
    return (
        np.stack(
            [
                curve_features(curves.time[i], curves.mag[i], curves.err[i], curves.period[i], ext)
                for i in range(len(curves))
            ]
        )
        if len(curves)
        else np.zeros((0, len(FEATURES)))
    )
