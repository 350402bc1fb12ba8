"""Long-period variables: the Miras' flux-cosine light curve, the semi-regular variables' wandering
sinusoids, and damped random walks of the period and amplitude."""

from __future__ import annotations

from typing import Any

import numpy as np

#: Range of the Miras' rise time as a fraction of the period (uniform draw): Miras rise from minimum
#: to maximum light faster than they decline, rise fractions ~0.4-0.5 (e.g. Vardya 1988, AAVSO curves).
MIRA_RISE_FRAC = (0.40, 0.50)


def damped_random_walk(rng: np.random.Generator, t: np.ndarray, sigma: float, tau: float) -> np.ndarray:
    """Ornstein-Uhlenbeck process (damped random walk) of stationary rms ``sigma`` and correlation
    time ``tau`` [d], sampled exactly at sorted times ``t`` [d]."""
    t = np.asarray(t, dtype=np.float64)
    out = np.empty_like(t)
    if t.size == 0:
        return out
    out[0] = rng.normal(0, sigma)
    a = np.exp(-np.diff(t) / tau)
    z = rng.normal(size=t.size - 1)
    for i in range(1, t.size):
        out[i] = a[i - 1] * out[i - 1] + sigma * np.sqrt(1 - a[i - 1] ** 2) * z[i - 1]
    return out


def stochastic_phase(
    rng: np.random.Generator,
    t: np.ndarray,
    period: float,
    t0: float,
    sigma_p: float,
    sigma_a: float,
    tau_cycles: float = 3.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Pulsation phase [cycles] and amplitude factor of a star whose period and amplitude wander.

    The relative period change ``dP/P`` and the log amplitude are damped random walks of rms
    ``sigma_p`` and ``sigma_a`` with a correlation time of ``tau_cycles`` periods; the phase is
    the integral of ``1 / P(t)`` from ``t0`` on a grid of 1/20 period, evaluated at ``t`` [d].
    """
    t = np.asarray(t, dtype=np.float64)
    lo, hi = min(t0, float(t.min())), max(t0, float(t.max()))
    step = period / 20.0
    grid = np.arange(lo - step, hi + 2 * step, step)
    tau = tau_cycles * period
    dp = damped_random_walk(rng, grid, sigma_p, tau)
    la = damped_random_walk(rng, grid, sigma_a, tau)
    freq = 1.0 / (period * (1.0 + dp))
    cyc = np.concatenate([[0.0], np.cumsum(0.5 * (freq[1:] + freq[:-1]) * step)])
    cyc -= np.interp(t0, grid, cyc)
    return np.interp(t, grid, cyc), np.exp(np.interp(t, grid, la))


def mira_magnitudes(cycles: np.ndarray, amplitude: float, rise_frac: float, amp_factor: Any = 1.0) -> np.ndarray:
    """Light curve [mag, relative to the time-averaged magnitude; positive = fainter] of a Mira whose
    *flux* varies as a cosine: ``F = 1 + a cos(2 pi psi)`` with ``a`` set so the peak-to-peak
    amplitude is ``amplitude * amp_factor`` [mag], and the phase ``psi`` warped so the rise from
    minimum to maximum light takes ``rise_frac`` of the cycle (Miras rise faster than they decline).

    In magnitudes such a curve has broad bright maxima and sharp faint minima (positive skewness, a
    second harmonic in phase with the first: OGLE's ``phi21 = 0`` at ``rise_frac = 0.5``, near 0 for
    0.4-0.5), which grows with the amplitude. ``cycles``:
    pulsation phase [cycles] (any real, maximum light at integers); ``amp_factor``: scalar or one
    factor per point (the amplitude walk of :func:`stochastic_phase`). The mean subtracted is exact
    per point: ``<-2.5 log10(1 + a cos x)> = -2.5 log10((1 + sqrt(1 - a^2)) / 2)``.
    """
    if not 0 < rise_frac < 1:
        raise ValueError(f"rise_frac={rise_frac}: a fraction of the cycle, must be in (0, 1)")
    ph = np.mod(np.asarray(cycles, dtype=np.float64), 1.0)
    decline = 1.0 - rise_frac
    psi = np.where(ph < decline, 0.5 * ph / decline, 0.5 + 0.5 * (ph - decline) / rise_frac)
    ratio = 10 ** (0.4 * amplitude * np.asarray(amp_factor, dtype=np.float64))
    a = (ratio - 1.0) / (ratio + 1.0)
    mag = -2.5 * np.log10(1.0 + a * np.cos(2 * np.pi * psi))
    return mag + 2.5 * np.log10(0.5 * (1.0 + np.sqrt(1.0 - a * a)))


#: Semi-regular variables' cycle-to-cycle irregularity: rms of the damped random walks of dP/P and of
#: the log amplitude, and their correlation time [cycles]. Semi-regulars are the irregular LPVs
#: (OGLE-III: SRV, below the Miras' 0.8 mag I-band amplitude); the values were chosen on the EROS-1
#: train split, and 0.10 / 0.40 / 1 cycle gives the same realism there (C2ST within 0.01).
SRV_PERIOD_JITTER = 0.05
SRV_AMP_JITTER = 0.3
SRV_TAU_CYCLES = 2.0


def srv_magnitudes(
    rng: np.random.Generator,
    t: np.ndarray,
    t0: float,
    periods: tuple[float, ...],
    amplitudes: tuple[float, ...],
    sigma_p: float = SRV_PERIOD_JITTER,
    sigma_a: float = SRV_AMP_JITTER,
    tau_cycles: float = SRV_TAU_CYCLES,
) -> np.ndarray:
    """Light curve [mag, relative to the mean; positive = fainter] of a semi-regular variable at
    times ``t`` [d]: one sinusoid per period ``periods`` [d] of peak-to-peak amplitude
    ``amplitudes`` [mag] (OGLE-III lists a primary and a secondary period, often of comparable
    amplitude), each with its own period and amplitude wandering (:func:`stochastic_phase` with
    ``sigma_p``, ``sigma_a``, ``tau_cycles``) and its own random phase: phase zero at ``t0`` [d]
    minus a uniform fraction of its period (a common zero phase would start a long secondary period
    at the same point of its cycle in every star, i.e. a shared brightening or fading trend).
    Non-finite or non-positive periods / amplitudes are skipped."""
    t = np.asarray(t, dtype=np.float64)
    out = np.zeros_like(t)
    for p, a in zip(periods, amplitudes):
        if not (np.isfinite(p) and np.isfinite(a) and p > 0 and a > 0):
            continue
        start = float(t0) - float(rng.uniform(0.0, 1.0)) * float(p)
        cycles, factor = stochastic_phase(rng, t, float(p), start, sigma_p, sigma_a, tau_cycles)
        out += 0.5 * float(a) * factor * np.cos(2 * np.pi * cycles)
    return out
