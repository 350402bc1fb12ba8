"""Light-curve containers: :class:`LightCurve` (time series) and :class:`FoldedLightCurve`.

Times are plain float days (``time`` as stored in the file, e.g. OGLE ``HJD - 2450000``);
``meta["time_offset"]`` (days) and ``meta["time_format"]`` ("jd" or "mjd") say how to turn them
into absolute times (:attr:`LightCurve.time_astropy`). Magnitudes and errors are in mag;
``*_q`` properties return astropy Quantities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pelsvae_tf.data.cleaning import check_curve, fold_phase, sigma_clip, snr


@dataclass
class LightCurve:
    """One star's photometry: ``time`` [d], ``mag`` [mag], ``err`` [mag] (1-D, equal length).

    ``meta`` holds at least ``id`` (star identifier), ``time_offset`` [d] added to ``time`` to
    get absolute dates, ``time_format`` ("jd" or "mjd", the astropy format of the absolute
    date), ``time_scale`` (astropy scale, default "utc") and ``band``. Construction validates
    the arrays (same length, non-empty, finite, err > 0) and raises ``ValueError`` otherwise.
    """

    time: np.ndarray
    mag: np.ndarray
    err: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.time, self.mag, self.err = check_curve(self.time, self.mag, self.err)
        self.meta = dict(self.meta)
        self.meta.setdefault("id", "unknown")
        self.meta.setdefault("time_offset", 0.0)
        self.meta.setdefault("time_format", "jd")
        self.meta.setdefault("time_scale", "utc")
        self.meta.setdefault("band", None)

    def __len__(self) -> int:
        return int(self.time.size)

    @property
    def id(self) -> str:
        """Star identifier (``meta["id"]``)."""
        return str(self.meta["id"])

    @property
    def time_astropy(self):
        """Absolute times as ``astropy.time.Time`` (``time + time_offset`` in ``time_format``)."""
        from astropy.time import Time

        return Time(
            self.time + float(self.meta["time_offset"]), format=self.meta["time_format"], scale=self.meta["time_scale"]
        )

    @property
    def time_q(self):
        """Times as an astropy Quantity in days (relative to ``time_offset``)."""
        import astropy.units as u

        return self.time * u.day

    @property
    def mag_q(self):
        """Magnitudes as an astropy Quantity (u.mag)."""
        import astropy.units as u

        return self.mag * u.mag

    @property
    def err_q(self):
        """Errors as an astropy Quantity (u.mag)."""
        import astropy.units as u

        return self.err * u.mag

    @property
    def baseline(self) -> float:
        """Time span of the observations [d]."""
        return float(self.time.max() - self.time.min())

    def snr(self, method: str = "paper") -> float:
        """Variability S/N (see :func:`pelsvae_tf.data.cleaning.snr`)."""
        return snr(self.mag, self.err, method)

    def select(self, mask: np.ndarray) -> "LightCurve":
        """New LightCurve with the points where ``mask`` is True."""
        mask = np.asarray(mask, dtype=bool)
        return LightCurve(self.time[mask], self.mag[mask], self.err[mask], dict(self.meta))

    def clipped(self, n_iter: int = 3, nsigma: float = 3.0, period: float | None = None) -> "LightCurve":
        """Sigma-clipped copy (see :func:`~pelsvae_tf.data.cleaning.sigma_clip`); with ``period``
        [d] the clipping is done around the phase-folded median profile."""
        phase = None if period is None else fold_phase(self.time, period, self.time[0])
        return self.select(sigma_clip(self.mag, self.err, n_iter, nsigma, phase=phase))

    def fold(self, period: float, t0: float | None = None) -> "FoldedLightCurve":
        """Phase-fold with ``period`` [d]. ``t0`` [d, same zero point as ``time``]: epoch of phase
        0; ``None`` uses the time of the brightest point (smallest magnitude), so maximum light
        sits at phase 0. Returns a new :class:`FoldedLightCurve` sorted by phase."""
        period = float(period) if period is not None else float("nan")
        if not np.isfinite(period) or period <= 0:
            raise ValueError(f"fold: period must be a positive number of days; got {period!r}")
        if t0 is None:
            t0 = float(self.time[int(np.argmin(self.mag))])
        phase = fold_phase(self.time, period, t0)
        order = np.argsort(phase, kind="stable")
        meta = dict(self.meta, period=period, t0=float(t0))
        return FoldedLightCurve(phase[order], self.mag[order], self.err[order], period, float(t0), meta)

    def plot(self, ax=None, **kwargs):
        """Error-bar plot of magnitude [mag] against time [d] (magnitude axis inverted).
        Returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 3))
        kw = dict(fmt=".", ms=3, elinewidth=0.5, alpha=0.8)
        kw.update(kwargs)
        ax.errorbar(self.time, self.mag, yerr=self.err, **kw)
        if not ax.yaxis_inverted():
            ax.invert_yaxis()
        off = float(self.meta.get("time_offset", 0.0))
        ax.set_xlabel(f"time - {off:g} [d]" if off else "time [d]")
        ax.set_ylabel("magnitude [mag]")
        ax.set_title(self.id)
        return ax


@dataclass
class FoldedLightCurve:
    """Phase-folded light curve: ``phase`` in [0, 1) (sorted), ``mag``/``err`` [mag],
    ``period`` [d], ``t0`` [d] (epoch of phase 0) and ``meta``."""

    phase: np.ndarray
    mag: np.ndarray
    err: np.ndarray
    period: float
    t0: float
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.phase.size)

    def plot(self, ax=None, n_cycles: int = 2, **kwargs):
        """Plot magnitude [mag] against phase, repeated over ``n_cycles`` cycles. Returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3))
        kw = dict(fmt=".", ms=3, elinewidth=0.5, alpha=0.8)
        kw.update(kwargs)
        for c in range(max(1, int(n_cycles))):
            ax.errorbar(self.phase + c, self.mag, yerr=self.err, **kw)
            kw.pop("label", None)
        if not ax.yaxis_inverted():
            ax.invert_yaxis()
        ax.set_xlabel("phase")
        ax.set_ylabel("magnitude [mag]")
        ax.set_title(f"{self.meta.get('id', '')}  P = {self.period:.6g} d")
        return ax
