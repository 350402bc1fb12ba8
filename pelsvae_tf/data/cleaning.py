"""Light-curve cleaning steps of the paper (section 2.1), each a small pure numpy function.

Units: times in days, magnitudes and errors in mag, periods in days, phases in [0, 1).

- :func:`snr`: signal-to-noise of the variability (paper: amplitude / mean error;
  reference code: std(mag) / median(err)); stars below 5 are dropped.
- :func:`sigma_clip`: three iterations of 3-sigma clipping on magnitude and error.
- :func:`fold_phase`: phase-folding with the catalogue period.
- :func:`undersample` / :func:`resample_to_length`: random undersampling to ``length`` points
  (default 300) with a documented policy for shorter curves.
- :func:`minmax_scale` / :func:`inverse_minmax_scale`: per-star min-max scaling that keeps the
  mean magnitude, amplitude and error scale so curves can be turned back into magnitudes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pelsvae_tf import options

SNR_METHODS = options.SNR_METHODS
CLIP_MODES = options.CLIP_MODES
SHORT_POLICIES = options.SHORT_POLICIES


def _as_1d(name: str, x: Any) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array; got shape {a.shape}")
    return a


def check_curve(time: Any, mag: Any, err: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate one light curve (time [d], mag [mag], err [mag]) and return float64 arrays.

    Raises ``ValueError`` naming the problem: different lengths, empty, NaN/inf, or
    non-positive errors.
    """
    t, m, e = _as_1d("time", time), _as_1d("mag", mag), _as_1d("err", err)
    if not (t.size == m.size == e.size):
        raise ValueError(f"time, mag, err have different lengths ({t.size}, {m.size}, {e.size})")
    if t.size == 0:
        raise ValueError("light curve is empty (no observations)")
    for name, a in (("time", t), ("mag", m), ("err", e)):
        bad = ~np.isfinite(a)
        if bad.any():
            raise ValueError(f"{name} has {int(bad.sum())} NaN/inf value(s); drop or fix those rows")
    if np.any(e <= 0):
        raise ValueError(f"err has {int((e <= 0).sum())} non-positive value(s); errors must be > 0 mag")
    return t, m, e


def variability_amplitude(mag: Any, lower: float = 5.0, upper: float = 95.0) -> float:
    """Robust peak-to-peak amplitude [mag]: ``percentile(mag, upper) - percentile(mag, lower)``.

    Percentiles instead of min/max so one outlier cannot fake variability (S/N is computed
    before clipping, as in the paper). For a sinusoid of semi-amplitude A this is ~1.98 A.
    """
    m = _as_1d("mag", mag)
    if m.size == 0:
        raise ValueError("mag is empty")
    lo, hi = np.percentile(m, [lower, upper])
    return float(hi - lo)


def snr(mag: Any, err: Any, method: str = "paper") -> float:
    """Signal-to-noise ratio of the variability (dimensionless).

    ``method="paper"``: variability amplitude (:func:`variability_amplitude`, robust
    peak-to-peak, mag) / mean photometric error (mag). ``method="reference"`` (PyTorch reference
    code): std(mag) / median(err). The paper keeps stars with S/N >= 5.
    """
    m, e = _as_1d("mag", mag), _as_1d("err", err)
    if m.size != e.size:
        raise ValueError(f"mag and err have different lengths ({m.size}, {e.size})")
    if m.size < 2:
        raise ValueError("S/N needs at least 2 observations")
    if method == "paper":
        noise = float(np.mean(e))
        signal = variability_amplitude(m)
    elif method == "reference":
        noise = float(np.median(e))
        signal = float(np.std(m))
    else:
        raise ValueError(f"snr: method={method!r}; expected one of {SNR_METHODS}")
    if not noise > 0:
        raise ValueError("S/N undefined: photometric errors are zero or negative")
    return signal / noise


def fold_phase(time: Any, period: float, t0: float = 0.0) -> np.ndarray:
    """Phase in [0, 1) of each time [d] for ``period`` [d] and reference epoch ``t0`` [d]."""
    t = _as_1d("time", time)
    period = float(period)
    if not np.isfinite(period) or period <= 0:
        raise ValueError(f"period must be a positive number of days; got {period!r}")
    if not np.isfinite(t0):
        raise ValueError(f"t0 must be finite; got {t0!r}")
    ph = np.mod((t - float(t0)) / period, 1.0)
    ph[ph >= 1.0] = 0.0  # float rounding of values just below 1
    return ph


def phase_running_median(phase: np.ndarray, y: np.ndarray, window: int) -> np.ndarray:
    """Running median of ``y`` over the ``window`` nearest points in phase (wrapping around
    phase 1 -> 0), returned in the input order: a robust model of a folded light curve that
    follows steep features such as eclipses (units of ``y``)."""
    phase = np.asarray(phase)
    y = np.asarray(y, dtype=np.float64)
    n = y.size
    window = int(max(1, min(window, n)))
    if window % 2 == 0:
        window -= 1
    order = np.argsort(phase, kind="stable")
    ys = y[order]
    h = window // 2
    padded = np.concatenate([ys[n - h :], ys, ys[:h]]) if h else ys
    med = np.median(np.lib.stride_tricks.sliding_window_view(padded, window), axis=1)
    out = np.empty(n)
    out[order] = med
    return out


def sigma_clip(
    mag: Any,
    err: Any,
    n_iter: int = 3,
    nsigma: float = 3.0,
    phase: Any = None,
    window: int | None = None,
) -> np.ndarray:
    """Boolean mask of points kept after ``n_iter`` rounds of ``nsigma`` clipping on mag and err.

    Each round computes, over the points still kept, the median and standard deviation of the
    magnitude residual and of the error residual, and drops points farther than ``nsigma``
    standard deviations in either. Without ``phase`` the residuals are ``mag - median(mag)`` and
    ``err - median(err)`` [mag] (clipping on the raw values, the literal reading of the paper).
    With ``phase`` (the folded phase in [0, 1)) the magnitude residual is taken from a running
    median over the ``window`` nearest points in phase (default n/60, 5-15 points) and divided
    by each point's error, and the error residual from the running median of the errors: deep,
    narrow eclipses, steep RRab rises and the larger errors at faint phases are then not
    mistaken for outliers (a 1-mag detached eclipse loses over half of its points to raw
    clipping, a few per cent to folded clipping; see tests/test_cleaning.py).
    """
    m, e = _as_1d("mag", mag), _as_1d("err", err)
    if m.size != e.size:
        raise ValueError(f"mag and err have different lengths ({m.size}, {e.size})")
    if n_iter < 0 or nsigma <= 0:
        raise ValueError(f"sigma_clip: n_iter={n_iter} must be >= 0 and nsigma={nsigma} > 0")
    ph = None if phase is None else _as_1d("phase", phase)
    if ph is not None and ph.size != m.size:
        raise ValueError(f"phase has {ph.size} points; mag has {m.size}")
    keep = np.isfinite(m) & np.isfinite(e)
    if window is None:
        window = int(np.clip(m.size // 60, 5, 15))

    def _model(y: np.ndarray) -> np.ndarray:
        if ph is None:
            return np.full_like(y, np.median(y[keep]))
        model = np.empty_like(y)
        model[keep] = phase_running_median(ph[keep], y[keep], window)
        if (~keep).any():
            o = np.argsort(ph[keep])
            model[~keep] = np.interp(ph[~keep], ph[keep][o], model[keep][o], period=1.0)
        return model

    for _ in range(int(n_iter)):
        if keep.sum() < 3:
            break
        resid = m - _model(m)
        if ph is not None:
            resid = resid / e  # folded: residuals in units of each point's error
        e_resid = e - _model(e)
        new = keep.copy()
        for r in (resid, e_resid):
            sd = np.std(r[keep])
            if sd > 0:
                new &= np.abs(r - np.median(r[keep])) <= nsigma * sd
        if new.sum() == keep.sum():
            break
        keep = new
    return keep


def undersample(n: int, length: int, rng: np.random.Generator, short: str = "drop") -> np.ndarray | None:
    """Sorted indices of ``length`` points drawn at random from ``n`` observations.

    ``n >= length``: drawn without replacement (the paper's random undersampling).
    ``n < length``: the policy ``short`` decides. ``"drop"`` (default, the paper: every training
    curve has exactly ``length`` real observations) returns ``None`` and the caller skips the
    star (counted as ``too_few_points``). ``"pad"`` (reference code) returns all ``n`` indices
    plus ``length - n`` drawn with replacement; :func:`resample_to_length` then redraws the
    duplicated points from N(mag, err) so they are new measurements, not copies.
    """
    if length < 1:
        raise ValueError(f"undersample: length={length}; must be >= 1")
    if n < 1:
        raise ValueError("undersample: the light curve has no points")
    if short not in SHORT_POLICIES:
        raise ValueError(f"undersample: short={short!r}; expected one of {SHORT_POLICIES}")
    if n >= length:
        return np.sort(rng.choice(n, size=length, replace=False))
    if short == "drop":
        return None
    extra = rng.choice(n, size=length - n, replace=True)
    return np.sort(np.concatenate([np.arange(n), extra]))


def resample_to_length(
    phase: Any, mag: Any, err: Any, length: int, rng: np.random.Generator, short: str = "drop"
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Undersample a folded curve to ``length`` points, returned sorted by phase.

    Returns ``(phase, mag, err)`` or ``None`` when the curve is shorter than ``length`` and
    ``short="drop"`` (see :func:`undersample`). With ``short="pad"`` repeated points get a new
    magnitude drawn from N(mag, err).
    """
    ph, m, e = _as_1d("phase", phase), _as_1d("mag", mag), _as_1d("err", err)
    idx = undersample(ph.size, length, rng, short)
    if idx is None:
        return None
    ph, m, e = ph[idx], m[idx].copy(), e[idx]
    if ph.size and idx.size > np.unique(idx).size:
        dup = np.zeros(idx.size, dtype=bool)
        dup[1:] = idx[1:] == idx[:-1]
        m[dup] = rng.normal(m[dup], e[dup])
    order = np.argsort(ph, kind="stable")
    return ph[order], m[order], e[order]


def minmax_range(lo: float, hi: float, constant: str = "error", what: str = "minmax_scale") -> float:
    """``hi - lo``, the divisor of min-max scaling ``(x - lo) / (hi - lo)``.

    The one place that decides what a zero (or NaN) range means: ``constant="error"`` raises
    ``ValueError`` (a light curve that is constant cannot be scaled), ``constant="unit"`` returns
    1.0 (a physical parameter with a single training value is only shifted).
    """
    span = float(hi) - float(lo)
    if span > 0:
        return span
    if constant == "unit":
        return 1.0
    raise ValueError(f"{what}: the light curve is constant (max == min); cannot scale")


def minmax_scale(mag: Any, err: Any) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Scale a curve to [0, 1]: ``(mag - min) / (max - min)``; errors divided by the same range.

    Magnitudes stay magnitudes (1 = faintest point). ``meta`` keeps ``mag_min``, ``mag_range``
    (max - min), ``mag_mean`` and ``err_median`` (all mag) so :func:`inverse_minmax_scale`
    turns scaled curves back into magnitudes. A constant curve raises ``ValueError``.
    """
    m, e = _as_1d("mag", mag), _as_1d("err", err)
    if m.size == 0 or m.size != e.size:
        raise ValueError(f"minmax_scale: need equal, non-zero lengths; got {m.size} and {e.size}")
    lo, hi = float(np.min(m)), float(np.max(m))
    rng_ = minmax_range(lo, hi)
    meta = {
        "mag_min": lo,
        "mag_range": rng_,
        "mag_mean": float(np.mean(m)),
        "err_median": float(np.median(e)),
    }
    return (m - lo) / rng_, e / rng_, meta


def inverse_minmax_scale(scaled_mag: Any, scaled_err: Any, meta: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Undo :func:`minmax_scale`: returns (mag, err) in mag; works on [..., L] arrays with
    per-curve ``meta`` values broadcast over the last axis."""
    for k in ("mag_min", "mag_range"):
        if k not in meta:
            raise ValueError(f"inverse_minmax_scale: meta lacks {k!r}")
    lo = np.asarray(meta["mag_min"], dtype=np.float64)
    rg = np.asarray(meta["mag_range"], dtype=np.float64)
    if lo.ndim:
        lo, rg = lo[..., None], rg[..., None]
    sm = np.asarray(scaled_mag, dtype=np.float64)
    se = np.asarray(scaled_err, dtype=np.float64)
    return lo + rg * sm, rg * se


def augment_folded(
    phase: Any, mag: Any, err: Any, length: int, rng: np.random.Generator, short: str = "drop"
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """One augmented copy of a folded, cleaned, untrimmed curve (paper section 2.2).

    Steps: each magnitude redrawn from N(mag, err) [mag]; phases shifted by one U(0, 1) draw
    (mod 1); random undersampling to ``length`` points (:func:`resample_to_length`). Returns
    ``(phase, mag, err)`` sorted by phase, or ``None`` if too short under ``short="drop"``.
    """
    ph, m, e = _as_1d("phase", phase), _as_1d("mag", mag), _as_1d("err", err)
    m2 = rng.normal(m, e)
    ph2 = np.mod(ph + rng.uniform(0.0, 1.0), 1.0)
    ph2[ph2 >= 1.0] = 0.0
    return resample_to_length(ph2, m2, e, length, rng, short)
