"""Stochastic long-period variables: damped random walks of the period and the amplitude."""

from __future__ import annotations

import numpy as np


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
