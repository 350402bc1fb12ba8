"""Observing cadences for generated light curves: explicit times, survey-like, or phases.

A :class:`Cadence` says *when* a generated star is observed. All times are in days (floats,
e.g. HJD - 2450000 or MJD; any zero point works because only ``(t - t0) / period`` matters),
and all phases are in cycles, in [0, 1).

Three kinds:

- explicit times: ``Cadence.from_times(t)`` with a 1-D array of days, an astropy ``Time``
  (converted to MJD days) or an astropy ``Quantity`` with a time unit; one row per curve
  ``[n, T]`` is also accepted.
- survey-like: :func:`survey_cadence` draws ``n_epochs`` times over ``baseline`` days with
  seasonal gaps (observable ``season_length`` days of every 365.25 d year), seeded.
- phases: :func:`phases` gives ``n`` evenly spaced phases in [0, 1); the generator turns them
  into times with ``t = t0 + phase * period``.

:func:`to_phase` converts times to phases with a period and a zero time; :func:`parse_cadence`
reads the command-line spelling (``survey:200,3000``, ``phases:100``, ``times:FILE``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

#: Length of a year in days (Julian year), used for seasonal gaps.
YEAR_DAYS = 365.25


def _as_days(times: Any, name: str = "times") -> np.ndarray:
    """Convert floats [d], astropy ``Time`` (to MJD) or a time ``Quantity`` to float64 days.

    Booleans (``True`` or a bool array) are refused with a ``ValueError`` naming ``name``.
    """
    if isinstance(times, (bool, np.bool_)) or (isinstance(times, np.ndarray) and times.dtype.kind == "b"):
        raise ValueError(
            f"{name}: {times!r} is a bool, not a time; give floats in days, an astropy Time or a Quantity in days"
        )
    try:
        import astropy.units as u
        from astropy.time import Time
    except ImportError:  # pragma: no cover - astropy is a dependency
        Time = u = None
    if Time is not None and isinstance(times, Time):
        return np.asarray(times.mjd, dtype=np.float64)
    if u is not None and isinstance(times, u.Quantity):
        try:
            return np.asarray(times.to_value(u.day), dtype=np.float64)
        except u.UnitConversionError:
            raise ValueError(f"{name}: Quantity has unit {times.unit}; expected a time unit (e.g. d)") from None
    try:
        arr = np.asarray(times, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name}: cannot read {type(times).__name__} as times; give floats in days, "
            f"an astropy Time or a Quantity in days"
        ) from None
    return arr


def _cycles(times: Any, period: Any, t0: Any) -> np.ndarray:
    """``(times - t0) / period`` [cycles, float64], broadcast and checked as :func:`to_phase` says."""
    t = _as_days(times)
    p = np.asarray(_as_days(period, "period"), dtype=np.float64)
    t0 = np.asarray(_as_days(t0, "t0"), dtype=np.float64)
    if not np.all(np.isfinite(p)) or np.any(p <= 0):
        raise ValueError(f"period must be positive and finite (days); got {p.ravel()[:5]}")
    if p.ndim == 1 and t.ndim == 2:
        p = p[:, None]
    if t0.ndim == 1 and t.ndim == 2:
        t0 = t0[:, None]
    return (t - t0) / p


def to_phase(times: Any, period: Any, t0: Any = 0.0) -> np.ndarray:
    """Phase in [0, 1) of ``times`` [d] for ``period`` [d] and zero time ``t0`` [d].

    Broadcasts: ``times`` [T] or [n, T], ``period``/``t0`` scalars or [n] (one per curve).
    Raises ``ValueError`` for a non-positive or non-finite period.
    """
    return np.mod(_cycles(times, period, t0), 1.0)


def cycle_number(times: Any, period: Any, t0: Any = 0.0) -> np.ndarray:
    """Cycle number ``floor((times - t0) / period)`` (int64) of ``times`` [d], broadcast and
    checked as :func:`to_phase`: the counter of a star's per-cycle jitter draws. Its graph twin is
    :func:`pelsvae_tf.serve.generator_graph.cycle_from_times`."""
    return np.floor(_cycles(times, period, t0)).astype(np.int64)


@dataclasses.dataclass(frozen=True)
class Cadence:
    """When a generated light curve is observed.

    Attributes:
        kind: ``"times"`` (``values`` are times in days) or ``"phases"`` (``values`` are
            phases in cycles, [0, 1); times follow as ``t0 + phase * period``).
        values: float64 array [T] (same cadence for every curve) or [n, T] (one row per curve).
        description: human-readable origin (e.g. ``survey(n_epochs=200, baseline=3000 d)``).
    """

    kind: str
    values: np.ndarray
    description: str = ""

    def __post_init__(self):
        if self.kind not in ("times", "phases"):
            raise ValueError(f"Cadence.kind={self.kind!r}; expected 'times' or 'phases'")
        v = np.asarray(self.values, dtype=np.float64)
        if v.ndim not in (1, 2) or v.shape[-1] < 1:
            raise ValueError(f"Cadence values must be [T] or [n, T] with T >= 1; got shape {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ValueError("Cadence values contain NaN/inf; give finite times (days) or phases")
        if self.kind == "phases" and (v.min() < 0 or v.max() >= 1):
            raise ValueError("Cadence phases must lie in [0, 1) (cycles)")
        object.__setattr__(self, "values", v)

    # -- constructors -----------------------------------------------------------------------
    @classmethod
    def from_times(cls, times: Any, description: str = "explicit times") -> "Cadence":
        """Explicit observation times: floats in days, astropy ``Time`` (MJD) or a time Quantity."""
        return cls("times", _as_days(times), description)

    @classmethod
    def from_phases(cls, phases_: Any, description: str = "explicit phases") -> "Cadence":
        """Explicit phases in cycles, [0, 1)."""
        return cls("phases", np.asarray(phases_, dtype=np.float64), description)

    # -- queries ----------------------------------------------------------------------------
    @property
    def n_points(self) -> int:
        """Number of observations per curve (T)."""
        return int(self.values.shape[-1])

    def times_for(self, n: int, period: np.ndarray, t0: np.ndarray) -> np.ndarray:
        """Times [n, T] in days for ``n`` curves with ``period`` [n] (d) and ``t0`` [n] (d)."""
        period = np.broadcast_to(np.asarray(period, dtype=np.float64), (n,))
        t0 = np.broadcast_to(np.asarray(t0, dtype=np.float64), (n,))
        v = self.values
        if v.ndim == 2 and v.shape[0] != n:
            raise ValueError(f"Cadence has {v.shape[0]} rows of times; {n} curves were requested")
        v = np.broadcast_to(v, (n, v.shape[-1]))
        if self.kind == "times":
            return np.array(v, dtype=np.float64)
        return t0[:, None] + v * period[:, None]

    def __repr__(self) -> str:
        return f"Cadence(kind={self.kind!r}, shape={self.values.shape}, {self.description})"


def phases(n: int, offset: float = 0.0) -> Cadence:
    """``n`` evenly spaced phases ``(k + offset) / n`` in [0, 1) (cycles)."""
    if int(n) < 1:
        raise ValueError(f"phases: n={n}; need at least 1 phase")
    if not 0.0 <= offset < 1.0:
        raise ValueError(f"phases: offset={offset}; must lie in [0, 1)")
    return Cadence("phases", (np.arange(int(n)) + offset) / int(n), f"phases(n={int(n)})")


def survey_cadence(
    n_epochs: int,
    baseline: float,
    season_length: float = 240.0,
    seed: int = 0,
    start: float = 0.0,
    n_curves: int | None = None,
) -> Cadence:
    """Survey-like cadence: ``n_epochs`` random times over ``baseline`` days with seasonal gaps.

    Each 365.25 d year the field is observable for ``season_length`` days (the first
    ``season_length`` days of every year after ``start``), unobservable for the rest; epochs are
    drawn uniformly over the observable days and sorted. ``n_curves`` given draws an independent
    cadence per curve ([n_curves, n_epochs]); otherwise one shared row [n_epochs]. Times in days
    from ``start`` [d]. Deterministic for a ``seed``.
    """
    n_epochs = int(n_epochs)
    if n_epochs < 1:
        raise ValueError(f"survey_cadence: n_epochs={n_epochs}; need at least 1 epoch")
    if not np.isfinite(baseline) or baseline <= 0:
        raise ValueError(f"survey_cadence: baseline={baseline} d; must be positive")
    if not np.isfinite(season_length) or season_length <= 0:
        raise ValueError(f"survey_cadence: season_length={season_length} d; must be positive")
    season = min(float(season_length), YEAR_DAYS)
    # Observable windows [k*year, k*year + season) clipped to the baseline.
    starts = np.arange(0.0, baseline, YEAR_DAYS)
    ends = np.minimum(starts + season, baseline)
    lengths = ends - starts
    total = lengths.sum()
    cum = np.concatenate([[0.0], np.cumsum(lengths)])
    rng = np.random.default_rng(seed)
    rows = 1 if n_curves is None else int(n_curves)
    u = rng.uniform(0.0, total, size=(rows, n_epochs))
    u.sort(axis=1)
    k = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, len(lengths) - 1)
    t = start + starts[k] + (u - cum[k])
    desc = f"survey(n_epochs={n_epochs}, baseline={baseline:g} d, season={season:g} d, seed={seed})"
    return Cadence("times", t[0] if n_curves is None else t, desc)


def parse_cadence(spec: str, seed: int = 0) -> Cadence:
    """Parse the command-line spelling of a cadence.

    - ``survey:N,BASELINE[,SEASON]`` -> :func:`survey_cadence` (days)
    - ``phases:N`` -> :func:`phases`
    - ``times:t1,t2,...`` (days) or ``times:FILE`` (one time in days per line, or a CSV whose
      first column / ``time`` column holds days)
    """
    if not isinstance(spec, str) or ":" not in spec:
        raise ValueError(f"cadence {spec!r}: expected survey:N,BASELINE[,SEASON], phases:N or times:FILE|t1,t2,...")
    kind, _, rest = spec.partition(":")
    kind = kind.strip().lower()
    try:
        if kind == "survey":
            parts = [float(x) for x in rest.split(",") if x.strip()]
            if len(parts) not in (2, 3):
                raise ValueError
            season = parts[2] if len(parts) == 3 else 240.0
            return survey_cadence(int(parts[0]), parts[1], season, seed=seed)
        if kind == "phases":
            return phases(int(rest))
    except ValueError as exc:
        if str(exc) and "could not convert" not in str(exc) and "invalid literal" not in str(exc):
            raise
        want = "N,BASELINE_D[,SEASON_D] (e.g. survey:200,3000)" if kind == "survey" else "N (e.g. phases:100)"
        raise ValueError(
            f"--cadence {spec!r}: could not read the numbers after '{kind}:'; give {kind}:{want}"
        ) from None
    if kind == "times":
        try:
            vals = np.asarray([float(x) for x in rest.split(",") if x.strip()])
        except ValueError:
            vals = None
        if vals is not None and vals.size:
            return Cadence.from_times(vals, "explicit times")
        fix = "give times:FILE (one time in days per line) or times:t1,t2,... in days"
        if not rest.strip():
            raise ValueError(f"cadence {spec!r}: nothing after 'times:'; {fix}")
        path = Path(rest)
        if not path.exists():
            raise FileNotFoundError(
                f"cadence {spec!r}: times file {path} does not exist (or give comma-separated times in days)"
            )
        if not path.is_file():
            raise ValueError(f"cadence {spec!r}: {path} is not a file; {fix}")
        import pandas as pd

        try:
            df = pd.read_csv(path, sep=None, engine="python", header=None, comment="#")
            first = df.iloc[0].astype(str).tolist()
            if any(c.strip().lower() in ("time", "t", "hjd", "mjd") for c in first):
                df = pd.read_csv(path, sep=None, engine="python", comment="#")
                col = [c for c in df.columns if str(c).strip().lower() in ("time", "t", "hjd", "mjd")][0]
                vals = df[col].to_numpy(dtype=np.float64)
            else:
                vals = df.iloc[:, 0].to_numpy(dtype=np.float64)
        except (ValueError, IndexError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise ValueError(f"cadence {spec!r}: cannot read times in days from {path} ({exc}); {fix}") from None
        return Cadence.from_times(vals, f"times from {path}")
    raise ValueError(f"cadence {spec!r}: unknown kind {kind!r}; expected survey, phases or times")


def cadence_phases(cadence: "Cadence | Any", n: int, period: np.ndarray, t0: Any = 0.0):
    """Times and phases of ``n`` curves at ``cadence`` (``None``: 100 evenly spaced phases; a
    :class:`Cadence` or times in days). ``period`` [n] d, ``t0`` one time or [n] [d].

    Returns ``(cadence, times [n, T] d, phase [n, T] float32 cycles, t0 [n] d)``.
    """
    t0a = np.atleast_1d(_as_days(t0, "t0")).reshape(-1)
    t0a = np.repeat(t0a, n) if t0a.size == 1 else t0a
    if t0a.size != n or not np.all(np.isfinite(t0a)):
        raise ValueError(f"t0: give one finite time [d] or n={n} of them")
    if cadence is None:
        cadence = phases(100)
    elif not isinstance(cadence, Cadence):
        cadence = Cadence.from_times(cadence)
    times = cadence.times_for(n, period, t0a)
    return cadence, times, to_phase(times, period, t0a).astype(np.float32), t0a
