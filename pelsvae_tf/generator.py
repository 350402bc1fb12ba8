"""Generate light curves in magnitudes at any cadence (paper section 4.3) and ``pelsvae generate``.

Pipeline, vectorised over curves (no per-curve Python loop; the decoder is called in batches):

1. physical parameters (Teff [K], absolute G [mag], period [d], ...; astropy ``Quantity``
   accepted) given per curve or sampled jointly from training stars of the class; checked
   against the class's training range (warning, or ``ValueError`` with ``strict=True``);
2. scaled with the run's ``PhysicsScaler`` + a U(0, 1) dummy -> regressor -> latent z;
3. times from the cadence (days), phases ``((t - t0) / period) mod 1``, sorted per curve (the
   decoder was trained on phase-sorted sequences; outputs are put back in time order);
4. decoder (z, one-hot class, phases) -> scaled magnitude and error in [0, 1];
5. back to magnitudes: ``mag = mag_min + amplitude * scaled`` with ``amplitude`` the curve's
   peak-to-peak range [mag] (the prepared data's ``mag_range``) and ``mag_min`` chosen so the
   phase-averaged magnitude (mean over a uniform grid of ``n_ref_phases`` phases) equals
   ``mag_mean`` [mag]; errors ``err = amplitude * scaled_err`` [mag]; optionally one noise draw
   ``N(0, err)`` is added (``noise=True``).

``mag_mean`` / ``amplitude`` not given are sampled from the training stars of the class:
``meta_sampling="knn"`` (default) draws from the ``knn`` training stars of the class nearest in
scaled physics (so amplitude follows Teff and period as in the data), ``"class"`` from all the
class's training stars. Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from pelsvae_tf.atomic import atomic_path
from pelsvae_tf.cadence import Cadence, _as_days, parse_cadence, phases, to_phase
from pelsvae_tf.classes import CLASSES, PHYSICS_PARAMS, canonical_class

log = logging.getLogger("pelsvae_tf.generator")

#: astropy unit string of every physical parameter (for Quantity inputs and table columns).
PHYSICS_UNITS = {name: unit for name, (_, unit, _) in PHYSICS_PARAMS.items()}


class PhysicsRangeWarning(UserWarning):
    """A requested physical parameter lies outside the training range of its class."""


def _to_value(value: Any, name: str) -> np.ndarray:
    """Physical parameter as float64 array in its canonical unit (K, mag, d, solRad, solLum).

    Booleans (``True``/``False`` or a bool array) and strings are refused with a ``ValueError``
    naming ``name``: ``period=True`` would otherwise silently become 1 d.
    """
    import astropy.units as u

    unit = PHYSICS_UNITS.get(name, "mag" if name in ("mag_mean", "amplitude") else None)
    _reject_non_numeric(value, name, unit)
    if isinstance(value, u.Quantity):
        try:
            if unit == "mag":
                return np.asarray(value.to_value(u.mag), dtype=np.float64)
            return np.asarray(value.to_value(u.Unit(unit)), dtype=np.float64)
        except (u.UnitConversionError, u.UnitsError, ValueError):
            raise ValueError(f"{name}: Quantity in {value.unit} cannot be converted to {unit}") from None
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {value!r} is not a number (expected {unit})") from None


def _reject_non_numeric(value: Any, name: str, unit: str | None) -> None:
    """``ValueError`` naming ``name`` when ``value`` is a bool, a string or an array of either."""
    expected = f"a real number in {unit}" if unit else "a real number"
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise ValueError(f"{name}: {value!r} is a {type(value).__name__}, not a number; give {expected}")
    if isinstance(value, np.ndarray) or (isinstance(value, (list, tuple)) and len(value)):
        arr = np.asarray(value)
        kind = arr.dtype.kind
        if kind in "bUS" or (kind == "O" and any(isinstance(v, (bool, np.bool_, str, bytes)) for v in arr.ravel())):
            raise ValueError(f"{name}: values of type {np.asarray(value).dtype} are not numbers; give {expected} "
                             f"per curve")


def _check_count(n: Any) -> int:
    """``n`` as a positive ``int``; ``ValueError`` naming ``n`` for bools, non-integers or n < 1."""
    import numbers

    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise ValueError(f"n={n!r}: the number of curves must be a positive integer (got {type(n).__name__})")
    if int(n) < 1:
        raise ValueError(f"n={int(n)}; must be >= 1 curves")
    return int(n)


def _check_seed(seed: Any) -> np.random.SeedSequence:
    """Seed sequence of ``generate``: ``seed`` a non-negative integer, or ``None`` for fresh OS entropy.

    ``ValueError`` naming ``seed`` otherwise (a float such as 2.7 is refused, not truncated).
    """
    import numbers

    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed={seed!r}: give a non-negative integer, or None for fresh random entropy "
                         f"(got {type(seed).__name__})")
    if int(seed) < 0:
        raise ValueError(f"seed={int(seed)}: must be >= 0 (or None for fresh random entropy)")
    return np.random.SeedSequence(int(seed))


def _broadcast(value: Any, n: int, name: str) -> np.ndarray:
    arr = np.atleast_1d(_to_value(value, name)).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, n)
    if arr.size != n:
        raise ValueError(f"{name}: got {arr.size} values for n={n} curves; give one value or n values")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: NaN/inf given; physical parameters must be finite numbers")
    return arr


@dataclasses.dataclass
class GeneratedLightCurves:
    """A batch of ``n`` generated light curves of ``T`` points each.

    Arrays (``[n, T]`` unless noted): ``time`` [d], ``phase`` [cycles, 0-1], ``mag`` [mag] (with
    the noise draw if requested), ``mag_model`` [mag] (noise-free decoder output), ``err`` [mag]
    (generated photometric errors), ``scaled_mag``/``scaled_err`` (decoder outputs in [0, 1]);
    per curve ``[n]``: ``cls`` (class names), ``label`` (class indices), ``period`` [d], ``t0``
    [d], ``mag_mean`` [mag], ``amplitude`` [mag], ``dummy``; ``physics`` maps parameter name ->
    [n] values in physical units (K, mag, d, ...); ``z`` [n, D] the latent vectors.
    """

    time: np.ndarray
    phase: np.ndarray
    mag: np.ndarray
    mag_model: np.ndarray
    err: np.ndarray
    scaled_mag: np.ndarray
    scaled_err: np.ndarray
    cls: np.ndarray
    label: np.ndarray
    period: np.ndarray
    t0: np.ndarray
    mag_mean: np.ndarray
    amplitude: np.ndarray
    dummy: np.ndarray
    physics: dict[str, np.ndarray]
    z: np.ndarray
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.mag.shape[0])

    @property
    def n_points(self) -> int:
        """Points per curve (T)."""
        return int(self.mag.shape[1])

    def folded(self) -> "GeneratedLightCurves":
        """Phase-folded view: a new object whose points (every ``[n, T]`` array: ``time`` [d],
        ``phase``, ``mag``, ``mag_model``, ``err`` [mag], ``scaled_mag``, ``scaled_err``) are
        sorted by phase within each curve; per-curve values are shared. ``self`` is unchanged."""
        order = np.argsort(self.phase, axis=1, kind="stable")
        per_point = ("time", "phase", "mag", "mag_model", "err", "scaled_mag", "scaled_err")
        return dataclasses.replace(
            self, **{k: np.take_along_axis(getattr(self, k), order, axis=1) for k in per_point},
            meta=dict(self.meta, folded=True),
        )

    def to_pandas(self):
        """Long table: one row per point with ``curve``, ``cls``, ``time`` [d], ``phase``, ``mag``,
        ``err``, ``mag_model`` [mag] and the curve's period [d], t0 [d], physics, mag_mean, amplitude."""
        import pandas as pd

        n, T = self.mag.shape
        cols: dict[str, Any] = {
            "curve": np.repeat(np.arange(n), T),
            "cls": np.repeat(self.cls, T),
            "time": self.time.reshape(-1),
            "phase": self.phase.reshape(-1),
            "mag": self.mag.reshape(-1),
            "err": self.err.reshape(-1),
            "mag_model": self.mag_model.reshape(-1),
            "period": np.repeat(self.period, T),
            "t0": np.repeat(self.t0, T),
        }
        for name, v in self.physics.items():
            if name != "period":
                cols[name] = np.repeat(v, T)
        cols["mag_mean"] = np.repeat(self.mag_mean, T)
        cols["amplitude"] = np.repeat(self.amplitude, T)
        return pd.DataFrame(cols)

    def to_table(self):
        """The :meth:`to_pandas` table as an astropy ``Table`` with units (d, mag, K, ...)."""
        import astropy.units as u
        from astropy.table import Table

        tab = Table.from_pandas(self.to_pandas())
        units = {"time": u.day, "period": u.day, "t0": u.day, "mag": u.mag, "err": u.mag,
                 "mag_model": u.mag, "mag_mean": u.mag, "amplitude": u.mag}
        for name in self.physics:
            if name in tab.colnames and name not in units:
                units[name] = u.mag if PHYSICS_UNITS[name] == "mag" else u.Unit(PHYSICS_UNITS[name])
        for col, unit in units.items():
            if col in tab.colnames:
                tab[col].unit = unit
        tab.meta.update({k: v for k, v in self.meta.items() if isinstance(v, (str, int, float))})
        return tab

    def to_csv(self, path: str | Path) -> Path:
        """Write the long table as CSV, atomically."""
        path = Path(path)
        with atomic_path(path) as tmp:
            self.to_pandas().to_csv(tmp, index=False)
        return path

    def to_parquet(self, path: str | Path) -> Path:
        """Write the long table as Parquet (pyarrow), atomically."""
        path = Path(path)
        with atomic_path(path) as tmp:
            self.to_pandas().to_parquet(tmp, index=False)
        return path

    def plot(self, ax=None, index: int | Sequence[int] = 0, folded: bool = True, errorbars: bool = True):
        """Plot curve(s) ``index``: magnitude vs phase (``folded``) or vs time [d]; returns the Axes.

        The magnitude axis is inverted (brighter up). Noise-free model shown as a line in the
        folded view.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        idx = [index] if np.isscalar(index) else list(index)
        for i in idx:
            if not 0 <= int(i) < len(self):
                raise ValueError(f"plot: index {i} out of range for {len(self)} curves")
            x = self.phase[i] if folded else self.time[i]
            label = f"{self.cls[i]} P={self.period[i]:.3g} d"
            if errorbars:
                ax.errorbar(x, self.mag[i], yerr=self.err[i], fmt=".", ms=3, alpha=0.7, label=label)
            else:
                ax.plot(x, self.mag[i], ".", ms=3, label=label)
            if folded:
                o = np.argsort(x)
                ax.plot(x[o], self.mag_model[i][o], "-", lw=1, color="k", alpha=0.6)
        ax.set_xlabel("phase" if folded else "time [d]")
        ax.set_ylabel("magnitude [mag]")
        if not ax.yaxis_inverted():
            ax.invert_yaxis()
        ax.legend(fontsize="small")
        return ax


class Generator:
    """Physics + class + cadence -> light curves in magnitudes (see module docstring).

    Build with :meth:`load` from a run directory, or directly from a decoder (``keras.Model``
    with the contract ``{"z","class_onehot","phase"} -> {"mag","err"}``), a fitted
    :class:`~pelsvae_tf.regressors.PhysicsRegressor`, the class names, the run's
    ``PhysicsScaler`` and optionally the training statistics (``train_stats.npz`` dict).
    """

    def __init__(self, decoder, regressor, classes: Sequence[str] = CLASSES, physics_scaler=None,
                 train_stats: Mapping[str, np.ndarray] | None = None, points_per_batch: int = 262_144,
                 n_ref_phases: int = 64, knn: int = 20):
        import tensorflow as tf

        self.decoder = decoder
        self.regressor = regressor
        self.classes = tuple(classes)
        self.physics_scaler = physics_scaler
        self.train_stats = dict(train_stats) if train_stats is not None else None
        if int(points_per_batch) < 1:
            raise ValueError(f"points_per_batch={points_per_batch}; must be >= 1")
        self.points_per_batch = int(points_per_batch)
        self.n_ref_phases = int(n_ref_phases)
        self.knn = int(knn)
        if self.n_ref_phases < 1:
            raise ValueError(f"n_ref_phases={n_ref_phases}: must be >= 1 (phases averaged for mag_mean)")
        if self.knn < 1:
            raise ValueError(f"knn={knn}: must be >= 1 (training stars drawn from for magnitudes)")
        latent_dim = regressor.latent_dim
        n_cls = len(self.classes)
        if tuple(regressor.classes) != self.classes:
            raise ValueError(f"regressor classes {regressor.classes} differ from the decoder's {self.classes}")
        self._decode = tf.function(
            lambda z, oh, ph: decoder({"z": z, "class_onehot": oh, "phase": ph}, training=False),
            input_signature=[tf.TensorSpec([None, latent_dim], tf.float32),
                             tf.TensorSpec([None, n_cls], tf.float32),
                             tf.TensorSpec([None, None], tf.float32)],
        )

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def load(cls, run_dir: str | Path | None = None, regressor: str = "forest", **kwargs) -> "Generator":
        """Load the decoder, physics scaler and fitted regressor ``regressor`` (a kind, a name
        such as ``forest@radius+lum``, or a path) of ``run_dir``.

        ``run_dir=None`` loads the small pretrained run shipped with the package
        (:func:`pelsvae_tf.pretrained.pretrained_run_dir`, trained on the built-in sky)."""
        from pelsvae_tf.regressors import load_physics_scaler, load_regressor

        if run_dir is None:
            from pelsvae_tf.pretrained import pretrained_run_dir

            run_dir = pretrained_run_dir()
        run_dir = Path(run_dir)
        if not (run_dir / "config.json").exists():
            raise FileNotFoundError(f"{run_dir} is not a run directory (no config.json); train one first")
        reg_path = Path(regressor) if Path(regressor).is_dir() else run_dir / "regressors" / regressor
        reg = load_regressor(reg_path)
        decoder, classes = _load_decoder(run_dir)
        stats_path = run_dir / "regressors" / "train_stats.npz"
        stats = None
        if stats_path.exists():
            with np.load(stats_path, allow_pickle=False) as z:
                stats = {k: z[k] for k in z.files}
        return cls(decoder, reg, classes, load_physics_scaler(run_dir), stats, **kwargs)

    # -- helpers ----------------------------------------------------------------------------------
    @property
    def physics(self) -> tuple[str, ...]:
        """Physical parameters the regressor takes (period is always needed for times)."""
        return tuple(self.regressor.physics)

    def _stats_column(self, name: str) -> np.ndarray | None:
        """Training-star values [N] of ``name`` in physical units (period: the float64 [d] column)."""
        if self.train_stats is None:
            return None
        if name == "period" and "period" in self.train_stats:
            return np.asarray(self.train_stats["period"], dtype=np.float64)
        cols = self._stat_cols()
        if name in cols:
            return np.asarray(self.train_stats["phys"][:, cols.index(name)], dtype=np.float64)
        return None

    def _stat_cols(self) -> list[str]:
        return [str(c) for c in self.train_stats["physics_columns"]] if self.train_stats is not None else []

    @property
    def classes_with_physics(self) -> tuple[str, ...]:
        """Classes with at least one training star having every regressor input (and a period):
        the classes the regressor was fitted on (all classes when no statistics are loaded)."""
        if self.train_stats is None:
            return self.classes
        ok = np.ones(len(self.train_stats["label"]), dtype=bool)
        for name in dict.fromkeys(list(self.physics) + ["period"]):
            col = self._stats_column(name)
            if col is None:
                return ()
            ok &= np.isfinite(col)
        present = set(np.asarray(self.train_stats["label"])[ok].tolist())
        return tuple(c for i, c in enumerate(self.classes) if i in present)

    def class_range(self, cls: str, name: str) -> tuple[float, float]:
        """Training range ``(min, max)`` of parameter ``name`` for class ``cls`` (physical units);
        the run-wide scaler range when per-class statistics are unavailable."""
        label = self.classes.index(canonical_class(cls))
        col = self._stats_column(name)
        if col is not None:
            v = col[(np.asarray(self.train_stats["label"]) == label) & np.isfinite(col)]
            if v.size:
                return float(v.min()), float(v.max())
        if self.physics_scaler is not None and name in self.physics_scaler.stats:
            return self.physics_scaler.range(name)
        return (-np.inf, np.inf)

    def _labels(self, cls: Any, n: int) -> np.ndarray:
        names = [cls] if isinstance(cls, str) else list(np.asarray(cls).reshape(-1))
        if not names:
            raise ValueError("cls: give a class name (e.g. 'RRLYR') or n class names")
        labels = []
        for c in names:
            canon = canonical_class(str(c))
            if canon not in self.classes:
                raise ValueError(f"class {c!r} is not among the model's classes {list(self.classes)}")
            labels.append(self.classes.index(canon))
        labels = np.asarray(labels, dtype=np.int64)
        if labels.size == 1:
            labels = np.repeat(labels, n)
        if labels.size != n:
            raise ValueError(f"cls: {labels.size} class names for n={n} curves; give one or n")
        return labels

    def _sample_rows(self, labels: np.ndarray, need: Sequence[str], rng) -> np.ndarray:
        """Index [n] of a training star of each curve's class having every parameter in ``need``."""
        if self.train_stats is None:
            raise ValueError(f"parameters {list(need)} not given and no training statistics to sample "
                             f"them from (run `pelsvae regress` to write train_stats.npz)")
        ok = np.ones(len(self.train_stats["label"]), dtype=bool)
        for name in need:
            col = self._stats_column(name)
            if col is None:
                raise ValueError(f"{name}: not given and not in the training statistics; give it explicitly")
            ok &= np.isfinite(col)
        tl = np.asarray(self.train_stats["label"])
        idx = np.empty(len(labels), dtype=np.int64)
        for lab in np.unique(labels):
            pool = np.flatnonzero(ok & (tl == lab))
            if pool.size == 0:
                raise ValueError(f"class {self.classes[lab]}: no training star has {list(need)}; give them explicitly")
            m = labels == lab
            idx[m] = pool[rng.integers(0, pool.size, size=int(m.sum()))]
        return idx

    def _check_ranges(self, labels: np.ndarray, given: Mapping[str, np.ndarray], strict: bool) -> None:
        for name, vals in given.items():
            for lab in np.unique(labels):
                lo, hi = self.class_range(self.classes[lab], name)
                v = vals[labels == lab]
                bad = (v < lo) | (v > hi)
                if bad.any():
                    msg = (f"{name} = {v[bad][:3].tolist()} {PHYSICS_UNITS[name]} ({int(bad.sum())} value(s)) "
                           f"outside the training range of {self.classes[lab]}: [{lo:.4g}, {hi:.4g}] "
                           f"{PHYSICS_UNITS[name]}; the regressor extrapolates")
                    if strict:
                        raise ValueError(msg + " (strict=True)")
                    warnings.warn(msg, PhysicsRangeWarning, stacklevel=3)

    def decode(self, z: np.ndarray, labels: np.ndarray, phase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Batched decoder: z [n, D], labels [n], phases [n, T] (any order) -> scaled mag, err [n, T].

        Phases are sorted per curve before decoding and the outputs returned in the input order.
        """
        import tensorflow as tf

        n, T = phase.shape
        order = np.argsort(phase, axis=1, kind="stable")
        ph_sorted = np.take_along_axis(phase, order, axis=1).astype(np.float32)
        onehot = np.eye(len(self.classes), dtype=np.float32)[labels]
        z = np.asarray(z, dtype=np.float32)
        step = max(1, self.points_per_batch // max(T, 1))
        mag_s = np.empty((n, T), dtype=np.float32)
        err_s = np.empty((n, T), dtype=np.float32)
        for s in range(0, n, step):
            out = self._decode(tf.constant(z[s:s + step]), tf.constant(onehot[s:s + step]),
                               tf.constant(ph_sorted[s:s + step]))
            mag_s[s:s + step] = out["mag"].numpy()
            err_s[s:s + step] = out["err"].numpy()
        mag = np.empty_like(mag_s)
        err = np.empty_like(err_s)
        rows = np.arange(n)[:, None]
        mag[rows, order] = mag_s
        err[rows, order] = err_s
        return mag, err

    # -- main entry -------------------------------------------------------------------------------
    def generate(
        self,
        cls: str | Sequence[str],
        teff: Any = None,
        abs_gmag: Any = None,
        period: Any = None,
        n: int = 1,
        cadence: Cadence | Any = None,
        seed: int | None = 0,
        mag_mean: Any = None,
        amplitude: Any = None,
        t0: Any = 0.0,
        strict: bool = False,
        noise: bool = True,
        meta_sampling: str = "knn",
        **physics: Any,
    ) -> GeneratedLightCurves:
        """Generate ``n`` light curves of class ``cls`` (one name, or ``n`` names).

        Args:
            teff, abs_gmag, period: effective temperature [K], absolute G magnitude [mag],
                period [d]: scalar or [n], floats or astropy Quantity; ``None`` samples them
                jointly from training stars of the class. Other parameters (radius [solRad],
                lum [solLum], bp_rp [mag]) as keywords when the regressor uses them.
            cadence: :class:`~pelsvae_tf.cadence.Cadence`, times in days (floats, astropy
                ``Time``/``Quantity``); ``None`` = 100 evenly spaced phases.
            seed: non-negative integer seeding every random draw (parameters, dummy, metadata,
                noise): same seed, same curves. ``None`` draws fresh entropy from the OS (different
                curves every call); the entropy used is kept in ``meta["seed"]`` so a call can be
                repeated with ``seed=result.meta["seed"]``.
            n: number of curves, a positive integer (``2.7`` or ``True`` are refused).
            mag_mean, amplitude: phase-averaged magnitude and peak-to-peak range [mag]
                (scalar or [n]); ``None`` samples them from training stars (``meta_sampling``).
            t0: zero time [d] of phase 0 (scalar or [n]).
            strict: raise ``ValueError`` (instead of a ``PhysicsRangeWarning``) for parameters
                outside the class's training range.
            noise: add one draw of N(0, err) to the magnitudes.
            meta_sampling: ``"knn"`` or ``"class"`` (see module docstring).
        """
        n = _check_count(n)
        seq = _check_seed(seed)
        if meta_sampling not in ("knn", "class"):
            raise ValueError(f"meta_sampling={meta_sampling!r}; expected 'knn' or 'class'")
        unknown = sorted(set(physics) - set(PHYSICS_PARAMS))
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown}; physical parameters are {list(PHYSICS_PARAMS)}")
        ss = seq.spawn(5)
        rng_phys, rng_dummy, rng_meta, rng_noise, _ = (np.random.default_rng(s) for s in ss)
        labels = self._labels(cls, n)
        values = dict(physics, teff=teff, abs_gmag=abs_gmag, period=period)
        need = list(dict.fromkeys(list(self.physics) + ["period"]))
        given = {k: _broadcast(values[k], n, k) for k in need if values.get(k) is not None}
        for k, v in physics.items():
            if k not in need and v is not None:
                warnings.warn(f"{k} is not an input of this regressor ({list(self.physics)}); ignored",
                              stacklevel=2)
        if "period" in given and np.any(given["period"] <= 0):
            raise ValueError(f"period must be positive (days); got {given['period'][given['period'] <= 0][:3]}")
        self._check_ranges(labels, given, strict)
        unseen = sorted(set(self.classes[i] for i in np.unique(labels)) - set(self.classes_with_physics))
        if unseen:
            msg = (f"class(es) {unseen}: no training star has all of {list(self.physics)}, so the regressor "
                   f"never saw them; generated curves are extrapolations")
            if strict:
                raise ValueError(msg + " (strict=True)")
            warnings.warn(msg, PhysicsRangeWarning, stacklevel=2)
        missing = [k for k in need if k not in given]
        raw = dict(given)
        if missing:
            idx = self._sample_rows(labels, missing, rng_phys)
            for k in missing:
                raw[k] = self._stats_column(k)[idx]
        phys_raw = np.stack([raw[k] for k in self.physics], axis=1)
        scaled = self.physics_scaler.transform(phys_raw, self.physics)
        dummy = rng_dummy.uniform(0.0, 1.0, size=n)
        z = self.regressor.predict(scaled, dummy=dummy, labels=labels)
        per = raw["period"]
        t0a = np.atleast_1d(_as_days(t0, "t0")).reshape(-1)
        t0a = np.repeat(t0a, n) if t0a.size == 1 else t0a
        if t0a.size != n or not np.all(np.isfinite(t0a)):
            raise ValueError(f"t0: give one finite time [d] or n={n} of them")
        if cadence is None:
            cadence = phases(100)
        elif not isinstance(cadence, Cadence):
            cadence = Cadence.from_times(cadence)
        times = cadence.times_for(n, per, t0a)
        phase = to_phase(times, per, t0a)
        smag, serr = self.decode(z, labels, phase)
        ref = np.broadcast_to(((np.arange(self.n_ref_phases) + 0.5) / self.n_ref_phases)[None, :],
                              (n, self.n_ref_phases))
        ref_mag, _ = self.decode(z, labels, np.ascontiguousarray(ref))
        mmean, amp = self._magnitude_meta(labels, scaled, mag_mean, amplitude, n, rng_meta, meta_sampling)
        mag_min = mmean - amp * ref_mag.mean(axis=1)
        mag_model = mag_min[:, None] + amp[:, None] * smag
        err = amp[:, None] * serr
        mag = mag_model + err * rng_noise.standard_normal(size=err.shape) if noise else mag_model.copy()
        return GeneratedLightCurves(
            time=times, phase=phase, mag=mag, mag_model=mag_model, err=err, scaled_mag=smag, scaled_err=serr,
            cls=np.asarray(self.classes)[labels], label=labels, period=per, t0=t0a, mag_mean=mmean,
            amplitude=amp, dummy=dummy, physics={k: raw[k] for k in need}, z=z,
            meta={"seed": int(seq.entropy), "cadence": cadence.description, "regressor": self.regressor.kind,
                  "noise": bool(noise)},
        )

    def _magnitude_meta(self, labels, scaled, mag_mean, amplitude, n, rng, how):
        out = {}
        for name, value in (("mag_mean", mag_mean), ("amplitude", amplitude)):
            if value is not None:
                out[name] = _broadcast(value, n, name)
        if name_missing := [k for k in ("mag_mean", "amplitude") if k not in out]:
            stats = self.train_stats
            if stats is None or not np.isfinite(np.asarray(stats["mag_range"], dtype=np.float64)).any():
                raise ValueError(f"{name_missing} not given and no training magnitude statistics to sample "
                                 f"them from; pass mag_mean= and amplitude= in mag")
            tl = np.asarray(stats["label"])
            mm = np.asarray(stats["mag_mean"], dtype=np.float64)
            mr = np.asarray(stats["mag_range"], dtype=np.float64)
            ok = np.isfinite(mm) & np.isfinite(mr) & (mr > 0)
            tr_scaled = None
            if how == "knn":
                cols = self._stat_cols()
                if all(p in cols or p == "period" for p in self.physics):
                    tr_raw = np.stack([self._stats_column(p) for p in self.physics], axis=1)
                    ok_knn = ok & np.all(np.isfinite(tr_raw), axis=1)
                    tr_scaled = np.full(tr_raw.shape, np.nan)
                    tr_scaled[ok_knn] = self.physics_scaler.transform(tr_raw[ok_knn], self.physics)
            idx = np.empty(n, dtype=np.int64)
            for lab in np.unique(labels):
                m = np.flatnonzero(labels == lab)
                pool = np.flatnonzero(ok & (tl == lab))
                if tr_scaled is not None:
                    pk = pool[np.all(np.isfinite(tr_scaled[pool]), axis=1)]
                    if pk.size:
                        k = min(self.knn, pk.size)
                        choice = rng.integers(0, k, size=m.size)
                        # chunks keep the [chunk, n_pool] distance matrix small for 10^4+ curves
                        for c0 in range(0, m.size, 1024):
                            mc = m[c0:c0 + 1024]
                            d = ((scaled[mc][:, None, :] - tr_scaled[pk][None, :, :]) ** 2).sum(-1)
                            near = np.argpartition(d, k - 1, axis=1)[:, :k]
                            idx[mc] = pk[near[np.arange(mc.size), choice[c0:c0 + 1024]]]
                        continue
                if pool.size == 0:
                    raise ValueError(f"class {self.classes[lab]}: no training star with magnitude statistics; "
                                     f"pass mag_mean= and amplitude=")
                idx[m] = pool[rng.integers(0, pool.size, size=m.size)]
            if "mag_mean" not in out:
                out["mag_mean"] = mm[idx]
            if "amplitude" not in out:
                out["amplitude"] = mr[idx]
        if np.any(out["amplitude"] <= 0):
            raise ValueError("amplitude must be positive (peak-to-peak, mag)")
        return out["mag_mean"], out["amplitude"]


def _load_decoder(run_dir: Path):
    """Decoder and class names of a run (``load_run`` if available, else ``model.keras``)."""
    try:
        from pelsvae_tf.training import load_run
    except ImportError:  # training module not available
        load_run = None
    if load_run is not None:
        run = load_run(run_dir)
        return run.decoder, tuple(run.classes)
    import keras

    import pelsvae_tf.model  # noqa: F401  (registers the serializable classes)

    path = run_dir / "model.keras"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; the run has not finished training")
    model = keras.models.load_model(path, compile=False)
    cfg = json.loads((run_dir / "config.json").read_text())
    classes = tuple(cfg.get("dataset_schema", {}).get("classes", CLASSES))
    return model.decoder, classes


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------
def _run_cli(args: argparse.Namespace) -> int:
    gen = Generator.load(args.run_dir, regressor=args.regressor)
    cadence = parse_cadence(args.cadence, seed=args.seed) if args.cadence else None
    extra = {}
    for name in ("radius", "lum", "bp_rp"):
        v = getattr(args, name)
        if v is not None:
            extra[name] = v
    res = gen.generate(
        args.cls, teff=args.teff, abs_gmag=args.abs_gmag, period=args.period, n=args.n, cadence=cadence,
        seed=args.seed, mag_mean=args.mag_mean, amplitude=args.amplitude, t0=args.t0, strict=args.strict,
        noise=not args.no_noise, **extra,
    )
    out = Path(args.out)
    if out.suffix.lower() == ".parquet":
        res.to_parquet(out)
    elif out.suffix.lower() == ".csv":
        res.to_csv(out)
    else:
        raise ValueError(f"--out {out}: use a .csv or .parquet file name")
    print(f"wrote {len(res)} light curves x {res.n_points} points to {out}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
        res.plot(ax=axes[0], index=range(min(3, len(res))), folded=False)
        res.plot(ax=axes[1], index=range(min(3, len(res))), folded=True)
        fig.tight_layout()
        with atomic_path(Path(args.plot)) as tmp:
            fig.savefig(tmp, dpi=120)
        plt.close(fig)
        print(f"wrote {args.plot}")
    return 0


def register(subparsers) -> None:
    """Add ``pelsvae generate RUN_DIR``."""
    p = subparsers.add_parser(
        "generate", help="generate light curves (magnitudes, any cadence) from class + physics",
        description="Generate light curves in magnitudes from a class, physical parameters and a cadence "
                    "with a trained run and its fitted regressor.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("run_dir", nargs="?", default=None,
                   help="trained run directory with regressors/ (see `pelsvae regress`); "
                        "default: the small pretrained run shipped with the package")
    p.add_argument("--class", dest="cls", required=True, help="variability class, e.g. RRLYR, CEP, ECL")
    p.add_argument("--teff", type=float, default=None, help="effective temperature [K] (default: sampled)")
    p.add_argument("--abs-gmag", type=float, default=None, help="absolute Gaia G magnitude [mag] (default: sampled)")
    p.add_argument("--period", type=float, default=None, help="period [d] (default: sampled)")
    p.add_argument("--radius", type=float, default=None, help="radius [solRad] (post-hoc regressors only)")
    p.add_argument("--lum", type=float, default=None, help="luminosity [solLum] (post-hoc regressors only)")
    p.add_argument("--bp-rp", dest="bp_rp", type=float, default=None, help="BP-RP colour [mag] (post-hoc only)")
    p.add_argument("--n", type=int, default=10, help="number of light curves")
    p.add_argument("--cadence", default="phases:100",
                   help="survey:N,BASELINE_D[,SEASON_D] | phases:N | times:FILE | times:t1,t2,... (days)")
    p.add_argument("--t0", type=float, default=0.0, help="time of phase zero [d]")
    p.add_argument("--mag-mean", type=float, default=None, help="mean magnitude [mag] (default: sampled)")
    p.add_argument("--amplitude", type=float, default=None, help="peak-to-peak amplitude [mag] (default: sampled)")
    p.add_argument("--regressor", default="forest", help="regressor kind or name under RUN_DIR/regressors/")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same curves)")
    p.add_argument("--strict", action="store_true", help="error (not warning) for out-of-training-range physics")
    p.add_argument("--no-noise", action="store_true", help="do not add an N(0, err) noise draw")
    p.add_argument("--out", required=True, help="output table, .csv or .parquet")
    p.add_argument("--plot", default=None, help="optional PNG of the first curves (time and folded)")
    p.set_defaults(func=_run_cli)
