"""Period metrics: Lomb-Scargle period of a light curve and whether a found period matches the
true one (times and periods in days). Re-exported by :mod:`pelsvae_tf.evaluate.metrics`."""

from __future__ import annotations

from typing import Sequence

import light_curve
import numpy as np
from astropy.timeseries import LombScargle


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
    t = np.asarray(time, dtype=np.float64).ravel()
    y = np.asarray(mag, dtype=np.float64).ravel()
    if t.shape != y.shape:
        raise ValueError(f"time {t.shape} and mag {y.shape} must have the same length")
    if len(t) < 3:
        raise ValueError(f"time: a periodogram needs at least 3 points (got {len(t)})")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(y))):
        raise ValueError("time/mag contain NaN or infinite values; drop those points first")
    if not (0 < min_period < max_period):
        raise ValueError(
            f"period search range must satisfy 0 < min_period < max_period (got {min_period}, {max_period})"
        )
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
        k = int(np.ceil(np.log2(max(f_hi / step, 16.0))))
        freqs = np.linspace(0.0, f_hi, 2**k + 1)  # cycles / day
        pg = light_curve.Periodogram(peaks=1, freqs=2 * np.pi * freqs, fast=True)  # angular grid
        power = np.asarray(pg.power(t, y), dtype=np.float64)
        sel = (freqs >= f_lo) & (freqs <= f_hi)
        f_best = float(freqs[sel][np.argmax(power[sel])]) if np.any(sel) else f_lo
        step = float(freqs[1] - freqs[0])
    else:
        freq, power = LombScargle(t, y, dy).autopower(
            minimum_frequency=f_lo, maximum_frequency=f_hi, samples_per_peak=samples_per_peak, method="fast"
        )
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
