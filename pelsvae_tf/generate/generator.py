"""Generate light curves in magnitudes at any cadence (paper section 4.3) and ``pelsvae generate``.

Pipeline, vectorised over curves (no per-curve Python loop; the decoder is called in batches):

1. physical parameters (Teff [K], absolute G [mag], period [d], ...; astropy ``Quantity``
   accepted) given per curve or sampled jointly from training stars of the class; checked for
   physical validity (:func:`check_physical`) and against the class's training range (warning,
   or ``ValueError`` with ``strict=True``);
2. scaled with the run's ``PhysicsScaler`` -> regressor -> latent z (:func:`sample_latents`: the
   paper's U(0, 1) dummy, or the regressor's own sampling, from each curve's seed);
3. times from the cadence (days), phases ``((t - t0) / period) mod 1`` in float64;
4. the curve as a function of phase (:mod:`pelsvae_tf.generate.phase_function`): the decoder evaluated
   once on a uniform grid of ``n_grid`` phases (the training ``seq_len``), interpolated at the
   requested phases, so a point's magnitude never depends on the other points asked for;
5. magnitudes: ``mag_model = mag_mean + amplitude * (s - mean_s) / ptp_s`` with ``s`` the scaled
   curve and ``mean_s`` / ``ptp_s`` its grid mean and peak-to-peak: ``amplitude`` is exactly the
   peak-to-peak of the noise-free model curve and ``mag_mean`` exactly its phase average (mean
   magnitude over phase); errors ``err = amplitude * scaled_err / ptp_s`` [mag]; optionally one
   noise draw ``N(0, err)`` (``noise=True``).

Every random number (sampled physics, latent, metadata, noise) is a counter-based draw
(:mod:`pelsvae_tf.counter_rng`) from the curve's own seed ``curve_seeds(seed, n)[i]``: a curve
depends only on its own inputs and seed, and the exported ``generator`` SavedModel (same
regressor, same :class:`~pelsvae_tf.generate.phase_function.PhaseFunction`) returns the same curve.

``mag_mean`` / ``amplitude`` not given are sampled from the training stars of the class, whose
values are measured on their model curves (``train_stats.npz``: ``mag_mean_model``,
``amplitude_model``; see :func:`pelsvae_tf.regress.regressors.write_train_stats`):
``meta_sampling="knn"`` (default) draws from the ``knn`` training stars of the class nearest in
scaled physics (so amplitude follows Teff and period as in the data), ``"class"`` from all the
class's training stars.
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
from pelsvae_tf.generate.cadence import Cadence, _as_days, parse_cadence, phases, to_phase
from pelsvae_tf.classes import CLASSES, PHYSICS_PARAMS, POSITIVE_PARAMS, canonical_class
from pelsvae_tf.counter_rng import STREAM_DUMMY, STREAM_META, STREAM_PHYSICS, curve_seeds, uniform_np

log = logging.getLogger("pelsvae_tf.generate.generator")

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
            if unit == "K":  # deg_C / deg_F convert to K (astropy's temperature equivalency)
                return np.asarray(value.to_value(u.K, equivalencies=u.temperature()), dtype=np.float64)
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


def _check_seed(seed: Any) -> int:
    """Seed of ``generate`` as an int in [0, 2^63): ``seed`` a non-negative integer, or ``None``
    for fresh OS entropy. ``ValueError`` naming ``seed`` otherwise (2.7 is refused, not truncated)."""
    import numbers

    if seed is None:
        lo, hi = np.random.SeedSequence().generate_state(2, np.uint32)
        return (int(hi) << 31) ^ int(lo)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed={seed!r}: give a non-negative integer, or None for fresh random entropy "
                         f"(got {type(seed).__name__})")
    if int(seed) < 0:
        raise ValueError(f"seed={int(seed)}: must be >= 0 (or None for fresh random entropy)")
    if int(seed) >= 2 ** 63:
        raise ValueError(f"seed={int(seed)}: must be < 2**63 (an int64)")
    return int(seed)


def check_physical(values: Mapping[str, np.ndarray]) -> None:
    """``ValueError`` naming the field when a value is physically impossible: not finite, or not
    > 0 for Teff [K], period [d], radius [solRad], luminosity [solLum] and amplitude [mag].
    The same rules are checked in the exported SavedModels (:mod:`pelsvae_tf.serve.export`)."""
    for name, v in values.items():
        v = np.asarray(v, dtype=np.float64)
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name}: NaN/inf given; give finite numbers")
        if name in POSITIVE_PARAMS and np.any(v <= 0):
            unit = PHYSICS_UNITS.get(name, "mag")
            raise ValueError(f"{name} must be positive (> 0 {unit}); got {v[v <= 0][:3].tolist()}"
                             + (" (a temperature in K, e.g. 6500)" if name == "teff" else ""))


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
    [d], ``mag_mean`` [mag] (phase-averaged model magnitude), ``amplitude`` [mag] (peak-to-peak
    of the model curve), ``dummy`` (the paper regressor's U(0, 1) input; NaN when none),
    ``in_training_range`` (bool: every physical parameter inside its class's training range);
    ``physics`` maps parameter name -> [n] values in physical units (K, mag, d, ...); ``z``
    [n, D] the latent vectors.

    ``len(lcs)``, ``lcs[i]`` / ``lcs[2:5]`` / ``lcs[mask]`` (a new object of the selected curves),
    iteration (one-curve objects), :meth:`to_lightkurve`, tables with units.
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
    in_training_range: np.ndarray | None = None

    _PER_POINT = ("time", "phase", "mag", "mag_model", "err", "scaled_mag", "scaled_err")
    _PER_CURVE = ("cls", "label", "period", "t0", "mag_mean", "amplitude", "dummy", "z", "in_training_range")

    def __len__(self) -> int:
        return int(self.mag.shape[0])

    def __getitem__(self, index) -> "GeneratedLightCurves":
        """Curves ``index`` (int, slice, index array or boolean mask) as a new object."""
        if isinstance(index, (int, np.integer)):
            i = int(index)
            if not -len(self) <= i < len(self):
                raise IndexError(f"curve {i} out of range for {len(self)} curves")
            index = slice(i % len(self), i % len(self) + 1)
        elif not isinstance(index, slice):
            index = np.asarray(index)
            if index.dtype == bool and index.shape != (len(self),):
                raise IndexError(f"boolean mask of shape {index.shape} for {len(self)} curves")
        fields = {k: getattr(self, k)[index] for k in self._PER_POINT + self._PER_CURVE
                  if getattr(self, k) is not None}
        return dataclasses.replace(self, physics={k: v[index] for k, v in self.physics.items()}, **fields)

    def __iter__(self):
        """One-curve objects, in order."""
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        classes, counts = np.unique(self.cls, return_counts=True)
        by_class = ", ".join(f"{c}: {k}" for c, k in zip(classes, counts))
        per = np.asarray(self.period, np.float64)
        return (f"<GeneratedLightCurves: {len(self)} curves x {self.n_points} points ({by_class}); "
                f"period {per.min():.4g}-{per.max():.4g} d; regressor {self.meta.get('regressor', '?')}, "
                f"seed {self.meta.get('seed', '?')}, noise {self.meta.get('noise', '?')}>")

    @property
    def n_points(self) -> int:
        """Points per curve (T)."""
        return int(self.mag.shape[1])

    def folded(self) -> "GeneratedLightCurves":
        """Phase-folded view: a new object whose points (every ``[n, T]`` array: ``time`` [d],
        ``phase``, ``mag``, ``mag_model``, ``err`` [mag], ``scaled_mag``, ``scaled_err``) are
        sorted by phase within each curve; per-curve values are shared. ``self`` is unchanged."""
        order = np.argsort(self.phase, axis=1, kind="stable")
        return dataclasses.replace(
            self, **{k: np.take_along_axis(getattr(self, k), order, axis=1) for k in self._PER_POINT},
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

    def column_units(self) -> dict[str, str]:
        """astropy unit string of every table column that has one (time d, mag mag, teff K, ...)."""
        units = {"time": "d", "period": "d", "t0": "d", "mag": "mag", "err": "mag", "mag_model": "mag",
                 "mag_mean": "mag", "amplitude": "mag", "phase": "cycle"}
        for name in self.physics:
            units.setdefault(name, PHYSICS_UNITS[name])
        return units

    def parquet_schema(self, schema, **extra_meta: Any):
        """``schema`` (a pyarrow schema of the :meth:`to_pandas` table) with the column units as
        field ``unit`` metadata and schema metadata ``pelsvae_units`` (JSON column -> unit) and
        ``pelsvae_meta`` (this object's scalar ``meta``, updated with ``extra_meta``)."""
        import pyarrow as pa

        units = {k: v for k, v in self.column_units().items() if k in schema.names}
        meta = dict(schema.metadata or {})
        meta[b"pelsvae_units"] = json.dumps(units).encode()
        scalars = {k: v for k, v in {**self.meta, **extra_meta}.items() if isinstance(v, (str, int, float, bool))}
        meta[b"pelsvae_meta"] = json.dumps(scalars).encode()
        return pa.schema([f.with_metadata({"unit": units[f.name]}) if f.name in units else f for f in schema],
                         metadata=meta)

    def to_parquet(self, path: str | Path) -> Path:
        """Write the long table as Parquet (pyarrow), atomically; column units are kept in the
        schema metadata (``pelsvae_units``: JSON column -> astropy unit string) and as each
        field's ``unit`` metadata."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        table = pa.Table.from_pandas(self.to_pandas(), preserve_index=False)
        table = table.cast(self.parquet_schema(table.schema))
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
        return path

    def to_lightkurve(self, index: int = 0):
        """Curve ``index`` as a ``lightkurve.LightCurve`` (time: astropy ``Time``, MJD-like days of
        this object; flux: ``mag`` with unit mag, flux_err: ``err``; meta: class, period, physics).
        Needs the optional extra ``pip install lightkurve``."""
        try:
            import lightkurve as lk
        except ImportError as exc:
            raise ImportError("to_lightkurve needs lightkurve: pip install lightkurve "
                              "(or pip install 'pelsvae-tf[lightkurve]')") from exc
        import astropy.units as u
        from astropy.time import Time

        one = self[int(index)]
        lc = lk.LightCurve(time=Time(one.time[0], format="mjd"), flux=one.mag[0] * u.mag,
                           flux_err=one.err[0] * u.mag)
        lc.meta.update({"CLASS": str(one.cls[0]), "PERIOD": float(one.period[0]), "T0": float(one.t0[0]),
                        **{k.upper(): float(v[0]) for k, v in one.physics.items()}})
        return lc

    def plot(self, ax=None, index: int | Sequence[int] = 0, folded: bool = True, errorbars: bool = True):
        """Plot curve(s) ``index``: magnitude vs phase (``folded``) or vs time [d]; returns the Axes.

        The magnitude axis is inverted (brighter up). Noise-free model shown as a line in the
        folded view.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")  # saved figures keep their labels
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


#: Regressor used by ``Generator.load()``, ``pelsvae generate``, evaluation and the exported
#: ``generator`` SavedModel alike (so local and served curves are the same for a seed).
DEFAULT_REGRESSOR = "mlp"

#: Above this many curves, :meth:`Generator.generate` shows a tqdm progress bar.
PROGRESS_MIN_CURVES = 20_000


def stats_column(train_stats: Mapping[str, np.ndarray] | None, name: str) -> np.ndarray | None:
    """Training-star values [N] of parameter ``name`` in physical units from ``train_stats.npz``
    (period: its float64 [d] column); ``None`` when there are no statistics or no such column."""
    if train_stats is None:
        return None
    if name == "period" and "period" in train_stats:
        return np.asarray(train_stats["period"], dtype=np.float64)
    cols = [str(c) for c in train_stats["physics_columns"]]
    if name in cols:
        return np.asarray(train_stats["phys"][:, cols.index(name)], dtype=np.float64)
    return None


def class_range(train_stats: Mapping[str, np.ndarray] | None, physics_scaler, label: int,
                name: str) -> tuple[float, float]:
    """Training range ``(min, max)`` of parameter ``name`` [its unit] over the training stars of
    class index ``label`` (``train_stats.npz``); the run-wide ``physics_scaler`` range when the
    class has no such star or there are no statistics; ``(-inf, inf)`` when neither knows it."""
    col = stats_column(train_stats, name)
    if col is not None:
        v = col[(np.asarray(train_stats["label"]) == label) & np.isfinite(col)]
        if v.size:
            return float(v.min()), float(v.max())
    if physics_scaler is not None and name in physics_scaler.stats:
        return physics_scaler.range(name)
    return (-np.inf, np.inf)


def sample_latents(regressor, phys_scaled: np.ndarray, labels: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Latents z [n, D] of a fitted regressor for scaled physics [n, P], class indices [n] and
    per-curve int64 seeds [n]; every random number is the counter-based draw of the curve's seed
    (``counter_rng``), so a curve's z depends only on its own inputs and seed, as in the graph.

    Uses ``regressor.sample`` when the regressor defines it; otherwise the paper's point regressor
    fed its U(0, 1) dummy ``uniform(seed, STREAM_DUMMY, 0)``.
    """
    if hasattr(regressor, "sample"):
        return np.asarray(regressor.sample(phys_scaled, labels, seeds), np.float32)
    dummy = uniform_np(seeds, STREAM_DUMMY, np.zeros(len(seeds), np.uint32)) if regressor.config.dummy else None
    return np.asarray(regressor.predict(phys_scaled, dummy=dummy, labels=labels), np.float32)


def _pick(seeds: np.ndarray, stream: int, size: int) -> np.ndarray:
    """Index in [0, size) per curve from its seed's counter-based uniform (stream ``stream``)."""
    u = uniform_np(seeds, stream, np.zeros(len(seeds), np.uint32)).astype(np.float64)
    return np.minimum((u * size).astype(np.int64), size - 1)


class Generator:
    """Physics + class + cadence -> light curves in magnitudes (see the module docstring).

    Build with :meth:`load` from a run directory, or directly from a decoder (``keras.Model``
    with the contract ``{"z","class_onehot","phase"} -> {"mag","err"}``), a fitted
    :class:`~pelsvae_tf.regress.regressors.PhysicsRegressor` (``None``: only :meth:`from_latents`), the
    class names, the run's ``PhysicsScaler`` and optionally the training statistics
    (``train_stats.npz`` dict).

    Args:
        n_grid: points of the phase grid each curve is decoded on (the decoder's training
            ``seq_len``; see :mod:`pelsvae_tf.generate.phase_function`).
        chunk_points: points per decoder call (``None``: ``phase_function.CHUNK_POINTS``).
        curves_per_call: curves rendered per graph call (bounds the memory of one call).
        knn: training stars of the class nearest in physics drawn from for magnitude metadata.
        jit_compile: XLA-compile the grid decoder in process (the exported graphs never are).
        model_config: the decoder's ``ModelConfig`` (enables the fast direct TCN inference graph).
    """

    def __init__(self, decoder, regressor=None, classes: Sequence[str] = CLASSES, physics_scaler=None,
                 train_stats: Mapping[str, np.ndarray] | None = None, n_grid: int = 300,
                 chunk_points: int | None = None, curves_per_call: int = 4096, knn: int = 20,
                 jit_compile: bool = False, model_config=None):
        from pelsvae_tf.generate.phase_function import CHUNK_POINTS, PhaseFunction  # TensorFlow: not at --help

        self.decoder = decoder
        self.regressor = regressor
        self.classes = tuple(classes)
        self.physics_scaler = physics_scaler
        self.train_stats = dict(train_stats) if train_stats is not None else None
        if int(curves_per_call) < 1:
            raise ValueError(f"curves_per_call={curves_per_call}; must be >= 1")
        self.curves_per_call = int(curves_per_call)
        self.knn = int(knn)
        if self.knn < 1:
            raise ValueError(f"knn={knn}: must be >= 1 (training stars drawn from for magnitudes)")
        self.phase_function = PhaseFunction(decoder, n_grid=n_grid, chunk_points=chunk_points or CHUNK_POINTS,
                                            jit_compile=jit_compile, model_config=model_config)
        if self.phase_function.n_classes != len(self.classes):
            raise ValueError(f"{len(self.classes)} class names given but the decoder takes a "
                             f"{self.phase_function.n_classes}-class one-hot")
        self._check_regressor(regressor)
        if self.train_stats is not None and "amplitude_model" not in self.train_stats:
            warnings.warn("train_stats.npz predates model-curve amplitudes (noisy min-max instead); re-run "
                          "`pelsvae regress RUN_DIR` so sampled amplitudes are model peak-to-peak values",
                          stacklevel=2)

    def _check_regressor(self, regressor) -> None:
        if regressor is not None and tuple(regressor.classes) != self.classes:
            raise ValueError(f"regressor classes {regressor.classes} differ from the decoder's {self.classes}")

    def with_regressor(self, regressor) -> "Generator":
        """A copy of this generator with another fitted regressor (``None``: latents given only),
        sharing its decoder, phase function (no new trace) and training statistics."""
        import copy

        self._check_regressor(regressor)
        other = copy.copy(self)
        other.regressor = regressor
        return other

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def load(cls, run_dir: str | Path | None = None, regressor: str = DEFAULT_REGRESSOR, **kwargs) -> "Generator":
        """Load the decoder, physics scaler and fitted regressor ``regressor`` (a kind, a name
        such as ``forest@radius+lum``, or a path) of ``run_dir``.

        ``run_dir=None`` loads the small pretrained run shipped with the package
        (:func:`pelsvae_tf.pretrained.pretrained_run_dir`, trained on the built-in sky)."""
        from pelsvae_tf.regress import load_physics_scaler, load_regressor

        if run_dir is None:
            from pelsvae_tf.pretrained import pretrained_run_dir

            run_dir = pretrained_run_dir()
        run_dir = Path(run_dir)
        if not (run_dir / "config.json").exists():
            raise FileNotFoundError(f"{run_dir} is not a run directory (no config.json); train one first")
        reg_path = Path(regressor) if Path(regressor).is_dir() else run_dir / "regressors" / regressor
        if not reg_path.is_dir():
            avail = sorted(p.name for p in (run_dir / "regressors").glob("*") if (p / "regressor.json").exists())
            raise ValueError(f"regressor={regressor!r}: no such fitted regressor in {run_dir / 'regressors'}; "
                             f"available: {avail} (fit more with `pelsvae regress {run_dir} --kinds KIND`)")
        reg = load_regressor(reg_path)
        decoder, classes, seq_len, model_config = _load_decoder(run_dir)
        stats_path = run_dir / "regressors" / "train_stats.npz"
        stats = None
        if stats_path.exists():
            with np.load(stats_path, allow_pickle=False) as z:
                stats = {k: z[k] for k in z.files}
        kwargs.setdefault("n_grid", seq_len)
        kwargs.setdefault("model_config", model_config)
        return cls(decoder, reg, classes, load_physics_scaler(run_dir), stats, **kwargs)

    # -- helpers ----------------------------------------------------------------------------------
    @property
    def physics(self) -> tuple[str, ...]:
        """Physical parameters the regressor takes (period is always needed for times)."""
        return tuple(self.regressor.physics) if self.regressor is not None else ()

    @property
    def n_grid(self) -> int:
        """Points of the phase grid every curve is decoded on."""
        return self.phase_function.n_grid

    def _stats_column(self, name: str) -> np.ndarray | None:
        """Training-star values [N] of ``name`` in physical units (:func:`stats_column`)."""
        return stats_column(self.train_stats, name)

    def _stat_cols(self) -> list[str]:
        return [str(c) for c in self.train_stats["physics_columns"]] if self.train_stats is not None else []

    def _meta_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """Training stars' phase-averaged model magnitude and model peak-to-peak amplitude [mag]."""
        s = self.train_stats
        if "amplitude_model" in s:
            return np.asarray(s["mag_mean_model"], np.float64), np.asarray(s["amplitude_model"], np.float64)
        return np.asarray(s["mag_mean"], np.float64), np.asarray(s["mag_range"], np.float64)

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
        return class_range(self.train_stats, self.physics_scaler, self.classes.index(canonical_class(cls)), name)

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

    def _sample_rows(self, labels: np.ndarray, need: Sequence[str], seeds: np.ndarray) -> np.ndarray:
        """Index [n] of a training star of each curve's class having every parameter in ``need``,
        picked with each curve's counter-based draw (stream ``STREAM_PHYSICS``)."""
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
            idx[m] = pool[_pick(seeds[m], STREAM_PHYSICS, pool.size)]
        return idx

    def in_training_range(self, labels: np.ndarray, raw: Mapping[str, np.ndarray]) -> np.ndarray:
        """Per curve: True when every given physical parameter lies inside its class's training range."""
        inside = np.ones(len(labels), dtype=bool)
        for name, vals in raw.items():
            for lab in np.unique(labels):
                lo, hi = self.class_range(self.classes[lab], name)
                m = labels == lab
                inside[m] &= (vals[m] >= lo) & (vals[m] <= hi)
        return inside

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

    def _onehot(self, labels: np.ndarray) -> np.ndarray:
        return np.eye(len(self.classes), dtype=np.float32)[np.asarray(labels, np.int64)]

    def decode(self, z: np.ndarray, labels: np.ndarray, phase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scaled magnitude and error [n, T] (decoder units, [0, 1]) of latents z [n, D] and class
        indices [n] at ``phase`` [n, T] (cycles, any order): the curve's phase function (decoded
        once on the grid, interpolated), so a point does not depend on the other points asked for."""
        out = self.render(z, labels, phase, np.zeros(len(z)), np.ones(len(z)), np.zeros(len(z), np.int64))
        return out["scaled_mag"], out["scaled_err"]

    def render(self, z: np.ndarray, labels: np.ndarray, phase: np.ndarray, mag_mean: np.ndarray,
               amplitude: np.ndarray, seeds: np.ndarray) -> dict[str, np.ndarray]:
        """The one path z, class, phases -> magnitudes (:meth:`PhaseFunction.render`) over ``n``
        curves in graph calls of ``curves_per_call`` curves (tqdm bar past
        :data:`PROGRESS_MIN_CURVES`). ``phase`` [n, T] cycles, ``mag_mean``/``amplitude`` [n] mag,
        ``seeds`` [n] int64. Returns float arrays ``mag``, ``mag_model``, ``err`` [n, T] (mag),
        ``scaled_mag``, ``scaled_err`` [n, T], ``mag_min`` [n] (mag)."""
        n = len(z)
        z = np.asarray(z, np.float32)
        phase = np.asarray(phase, np.float32)
        onehot = self._onehot(labels)
        mag_mean = np.asarray(mag_mean, np.float32)
        amplitude = np.asarray(amplitude, np.float32)
        seeds = np.asarray(seeds, np.int64)
        step = self.curves_per_call
        starts = range(0, n, step)
        if n > PROGRESS_MIN_CURVES:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="generate", unit="chunk", total=(n + step - 1) // step)
        out: dict[str, np.ndarray] = {}
        for s in starts:
            sl = slice(s, s + step)
            part = self.phase_function.render_np(z[sl], onehot[sl], phase[sl], mag_mean[sl], amplitude[sl], seeds[sl])
            if not out:
                out = {k: np.empty((n,) + v.shape[1:], v.dtype) for k, v in part.items()}
            for k, v in part.items():
                out[k][sl] = v
        return out

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
            teff, abs_gmag, period: effective temperature [K] (> 0; a Celsius Quantity converts),
                absolute G magnitude [mag], period [d] (> 0): scalar or [n], floats or astropy
                Quantity; ``None`` samples them jointly from training stars of the class. Other
                parameters (radius [solRad], lum [solLum], bp_rp [mag]) as keywords when the
                regressor uses them.
            cadence: :class:`~pelsvae_tf.generate.cadence.Cadence`, times in days (floats, astropy
                ``Time``/``Quantity``); ``None`` = 100 evenly spaced phases.
            seed: non-negative integer seeding every random draw (parameters, latent, metadata,
                noise): curve i uses ``counter_rng.curve_seeds(seed, n)[i]`` (curve 0: ``seed``), so
                ``n=1, seed=s`` is the served generator's curve with ``seed=[s]``. ``None`` draws
                fresh entropy from the OS; the value used is kept in ``meta["seed"]``.
            n: number of curves, a positive integer (``2.7`` or ``True`` are refused).
            mag_mean, amplitude: phase-averaged magnitude (mean of the model magnitude over phase)
                and peak-to-peak of the noise-free model curve [mag] (scalar or [n]); ``None``
                samples them from training stars' model curves (``meta_sampling``).
            t0: zero time [d] of phase 0 (scalar or [n]).
            strict: raise ``ValueError`` (instead of a ``PhysicsRangeWarning``) for parameters
                outside the class's training range.
            noise: add one draw of N(0, err) to the magnitudes.
            meta_sampling: ``"knn"`` or ``"class"`` (see module docstring).
        """
        if self.regressor is None:
            raise ValueError("this Generator has no regressor: build it with one, or use from_latents(z, ...)")
        n = _check_count(n)
        seed_int = _check_seed(seed)
        if meta_sampling not in ("knn", "class"):
            raise ValueError(f"meta_sampling={meta_sampling!r}; expected 'knn' or 'class'")
        unknown = sorted(set(physics) - set(PHYSICS_PARAMS))
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown}; physical parameters are {list(PHYSICS_PARAMS)}")
        seeds = curve_seeds(seed_int, n)
        labels = self._labels(cls, n)
        values = dict(physics, teff=teff, abs_gmag=abs_gmag, period=period)
        need = list(dict.fromkeys(list(self.physics) + ["period"]))
        given = {k: _broadcast(values[k], n, k) for k in need if values.get(k) is not None}
        for k, v in physics.items():
            if k not in need and v is not None:
                warnings.warn(f"{k} is not an input of this regressor ({list(self.physics)}); ignored",
                              stacklevel=2)
        check_physical(given)
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
            idx = self._sample_rows(labels, missing, seeds)
            for k in missing:
                raw[k] = self._stats_column(k)[idx]
        phys_raw = np.stack([raw[k] for k in self.physics], axis=1)
        scaled = self.physics_scaler.transform(phys_raw, self.physics)
        z = sample_latents(self.regressor, scaled, labels, seeds)
        mmean, amp = self._magnitude_meta(labels, scaled, mag_mean, amplitude, n, seeds, meta_sampling)
        res = self._curves(z, labels, cadence, raw["period"], t0, mmean, amp, seeds, noise)
        res.physics = {k: raw[k] for k in need}
        res.in_training_range = self.in_training_range(labels, {k: raw[k] for k in need})
        if getattr(self.regressor.config, "dummy", False):  # the paper's U(0, 1) input, from the seed
            res.dummy = uniform_np(seeds, STREAM_DUMMY, np.zeros(n, np.uint32)).astype(np.float64)
        res.meta.update(seed=seed_int, regressor=self.regressor.kind)
        return res

    #: Bytes an in-memory result may take before :meth:`generate` refuses (use :meth:`generate_to`).
    max_result_bytes: int = 8 * 2**30

    def _check_memory(self, n: int, n_points: int) -> None:
        """``MemoryError`` with the estimate when ``n`` curves x ``n_points`` would not fit."""
        est = n * n_points * 8 * 8  # 7 float [n, T] arrays + the noise draw, float64 worst case
        if est > self.max_result_bytes:
            raise MemoryError(
                f"n={n} curves x {n_points} points would take ~{est / 2**30:.1f} GiB in memory (limit "
                f"{self.max_result_bytes / 2**30:.0f} GiB, Generator.max_result_bytes); write them chunk by "
                f"chunk with Generator.generate_to(path, ...) or `pelsvae generate --out FILE`")
        if est > 2**30:
            warnings.warn(f"n={n} curves x {n_points} points take ~{est / 2**30:.1f} GiB in memory; "
                          f"Generator.generate_to(path, ...) streams them to a file instead", stacklevel=3)

    def generate_to(self, path: str | Path, cls: str | Sequence[str], n: int = 1, cadence: Cadence | Any = None,
                    seed: int | None = 0, chunk_curves: int = 10_000, progress: bool | None = None,
                    **kwargs: Any) -> Path:
        """Generate ``n`` curves and write them to ``path`` (``.parquet`` or ``.csv``) chunk by
        chunk, in bounded memory (about ``chunk_curves`` curves at a time), atomically (an
        interrupted call leaves no partial file). The file is the :meth:`GeneratedLightCurves.to_pandas`
        table of ``generate(cls, n=n, cadence=cadence, seed=seed, **kwargs)``: curve i is the same
        curve in both (its seed is ``curve_seeds(seed, n)[i]``), ``curve`` runs 0 .. n-1.

        Per-curve arguments (``cls``, physics, ``mag_mean``, ``amplitude``, ``t0``) may be scalars
        or [n] arrays; a cadence may be [T] or [n, T]. A tqdm bar shows the chunks (``progress``:
        ``None`` = when more than one chunk). Returns ``path``.
        """
        n = _check_count(n)
        seed_int = _check_seed(seed)
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".parquet", ".csv"):
            raise ValueError(f"generate_to: {path} must end in .parquet or .csv")
        if int(chunk_curves) < 1:
            raise ValueError(f"chunk_curves={chunk_curves}: must be >= 1")
        step = int(chunk_curves)
        all_seeds = curve_seeds(seed_int, n)
        if cadence is not None and not isinstance(cadence, Cadence):
            cadence = Cadence.from_times(cadence)

        def rows(value, c0, c1):
            if isinstance(value, str) or value is None:
                return value
            arr = value
            if hasattr(value, "unit") or isinstance(value, (list, tuple, np.ndarray)):
                if np.ndim(value) >= 1 and np.shape(value)[0] == n and n > 1:
                    arr = value[c0:c1]
            return arr

        starts = range(0, n, step)
        if progress or (progress is None and n > step):
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=f"generate -> {path.name}", unit="chunk", total=(n + step - 1) // step)
        import pyarrow as pa
        import pyarrow.parquet as pq

        with atomic_path(path) as tmp:
            writer = None
            try:
                for c0 in starts:
                    c1 = min(n, c0 + step)
                    cad = cadence
                    if cad is not None and cad.values.ndim == 2 and cad.values.shape[0] == n and n > 1:
                        cad = Cadence(cad.kind, cad.values[c0:c1], cad.description)
                    part = self.generate(rows(cls, c0, c1), n=c1 - c0, cadence=cad, seed=int(all_seeds[c0]),
                                         **{k: rows(v, c0, c1) for k, v in kwargs.items()})
                    df = part.to_pandas()
                    df["curve"] += c0
                    if suffix == ".csv":
                        df.to_csv(tmp, index=False, mode="w" if c0 == 0 else "a", header=c0 == 0)
                        continue
                    table = pa.Table.from_pandas(df, preserve_index=False)
                    if writer is None:
                        writer = pq.ParquetWriter(tmp, part.parquet_schema(table.schema, seed=seed_int, n=n))
                    writer.write_table(table.cast(writer.schema))
            finally:
                if writer is not None:
                    writer.close()
        return path

    def from_latents(self, z: np.ndarray, cls: str | Sequence[str], period: Any, cadence: Cadence | Any = None,
                     t0: Any = 0.0, mag_mean: Any = 15.0, amplitude: Any = 1.0, seed: int | None = 0,
                     noise: bool = True) -> GeneratedLightCurves:
        """Light curves from given latents ``z`` [n, D] (e.g. draws from the N(0, I) prior or an
        encoder's posterior) of class ``cls``, period [d] and cadence, in magnitudes: the same path
        as :meth:`generate` without the regressor. ``mag_mean`` / ``amplitude`` [mag] scalar or [n];
        ``seed`` seeds the noise draws (curve i: ``curve_seeds(seed, n)[i]``)."""
        z = np.atleast_2d(np.asarray(z, np.float32))
        n = len(z)
        if z.shape[1] != self.phase_function.latent_dim or not np.all(np.isfinite(z)):
            raise ValueError(f"z: give finite latents of shape [n, {self.phase_function.latent_dim}], "
                             f"got {z.shape}")
        seed_int = _check_seed(seed)
        seeds = curve_seeds(seed_int, n)
        labels = self._labels(cls, n)
        per = _broadcast(period, n, "period")
        check_physical({"period": per})
        mm = _broadcast(mag_mean, n, "mag_mean")
        amp = _broadcast(amplitude, n, "amplitude")
        check_physical({"amplitude": amp})
        res = self._curves(z, labels, cadence, per, t0, mm, amp, seeds, noise)
        res.physics = {"period": per}
        res.meta.update(seed=seed_int, regressor="latents given")
        return res

    def _curves(self, z, labels, cadence, per, t0, mmean, amp, seeds, noise) -> GeneratedLightCurves:
        n = len(z)
        t0a = np.atleast_1d(_as_days(t0, "t0")).reshape(-1)
        t0a = np.repeat(t0a, n) if t0a.size == 1 else t0a
        if t0a.size != n or not np.all(np.isfinite(t0a)):
            raise ValueError(f"t0: give one finite time [d] or n={n} of them")
        if cadence is None:
            cadence = phases(100)
        elif not isinstance(cadence, Cadence):
            cadence = Cadence.from_times(cadence)
        self._check_memory(n, cadence.values.shape[-1])
        times = cadence.times_for(n, per, t0a)
        phase = to_phase(times, per, t0a).astype(np.float32)
        out = self.render(z, labels, phase, mmean, amp, seeds)
        mag = out["mag"] if noise else out["mag_model"].copy()
        return GeneratedLightCurves(
            time=times, phase=phase.astype(np.float64), mag=mag, mag_model=out["mag_model"], err=out["err"],
            scaled_mag=out["scaled_mag"], scaled_err=out["scaled_err"], cls=np.asarray(self.classes)[labels],
            label=labels, period=np.asarray(per, np.float64), t0=t0a, mag_mean=np.asarray(mmean, np.float64),
            amplitude=np.asarray(amp, np.float64), dummy=np.full(n, np.nan), physics={}, z=z,
            meta={"cadence": cadence.description, "noise": bool(noise), "n_grid": self.n_grid},
        )

    def _magnitude_meta(self, labels, scaled, mag_mean, amplitude, n, seeds, how):
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
            mm, mr = self._meta_columns()
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
                        choice = _pick(seeds[m], STREAM_META, k)
                        # chunks keep the [chunk, n_pool] distance matrix small for 10^4+ curves;
                        # a stable sort makes the k nearest (and so each curve's pick) well defined
                        for c0 in range(0, m.size, 1024):
                            mc = m[c0:c0 + 1024]
                            d = ((scaled[mc][:, None, :] - tr_scaled[pk][None, :, :]) ** 2).sum(-1)
                            near = np.argsort(d, axis=1, kind="stable")[:, :k]
                            idx[mc] = pk[near[np.arange(mc.size), choice[c0:c0 + 1024]]]
                        continue
                if pool.size == 0:
                    raise ValueError(f"class {self.classes[lab]}: no training star with magnitude statistics; "
                                     f"pass mag_mean= and amplitude=")
                idx[m] = pool[_pick(seeds[m], STREAM_META, pool.size)]
            if "mag_mean" not in out:
                out["mag_mean"] = mm[idx]
            if "amplitude" not in out:
                out["amplitude"] = mr[idx]
        check_physical({"amplitude": out["amplitude"]})
        return out["mag_mean"], out["amplitude"]


def _load_decoder(run_dir: Path):
    """Decoder, class names, training sequence length and ``ModelConfig`` of a run."""
    from pelsvae_tf.train import load_run

    run = load_run(run_dir)
    seq_len = int(getattr(run.model_config, "seq_len", 300) or 300)
    return run.decoder, tuple(run.classes), seq_len, run.model_config


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------
def _run_cli(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise ValueError(f"--out {out}: use a .csv or .parquet file name")
    if not out.parent.exists():
        if not args.parents:
            raise FileNotFoundError(f"--out {out}: folder {out.parent} does not exist; create it or add --parents")
        out.parent.mkdir(parents=True, exist_ok=True)
    gen = Generator.load(args.run_dir, regressor=args.regressor)
    cadence = parse_cadence(args.cadence, seed=args.seed) if args.cadence else None
    extra = {}
    for name in ("radius", "lum", "bp_rp"):
        v = getattr(args, name)
        if v is not None:
            extra[name] = v
    kw = dict(teff=args.teff, abs_gmag=args.abs_gmag, period=args.period, cadence=cadence, seed=args.seed,
              mag_mean=args.mag_mean, amplitude=args.amplitude, t0=args.t0, strict=args.strict,
              noise=not args.no_noise, **extra)
    gen.generate_to(out, args.cls, n=args.n, **kw)  # streamed in chunks: any n in bounded memory
    n_points = (cadence or parse_cadence("phases:100")).values.shape[-1]
    print(f"wrote {args.n} light curves x {n_points} points to {out}")
    res = gen.generate(args.cls, n=min(3, args.n), **kw) if args.plot else None
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


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show each default once: not for options whose help already says it, nor for ``None``."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or action.default is None or action.default is False \
                or action.default is argparse.SUPPRESS:
            return text
        return super()._get_help_string(action)


def register(subparsers) -> None:
    """Add ``pelsvae generate RUN_DIR``."""
    p = subparsers.add_parser(
        "generate", help="generate light curves (magnitudes, any cadence) from class + physics",
        description="Generate light curves in magnitudes from a class, physical parameters and a cadence "
                    "with a trained run and its fitted regressor.",
        formatter_class=_HelpFormatter,
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
    p.add_argument("--mag-mean", type=float, default=None,
                   help="phase-averaged model magnitude [mag] (default: sampled)")
    p.add_argument("--amplitude", type=float, default=None,
                   help="peak-to-peak amplitude of the noise-free model curve [mag] (default: sampled)")
    p.add_argument("--regressor", default=DEFAULT_REGRESSOR,
                   help="regressor kind or name under RUN_DIR/regressors/ (default: %(default)s, the exported "
                        "generator's)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same curves)")
    p.add_argument("--strict", action="store_true", help="error (not warning) for out-of-training-range physics")
    p.add_argument("--no-noise", action="store_true", help="do not add an N(0, err) noise draw")
    p.add_argument("--out", required=True, help="output table, .csv or .parquet (written chunk by chunk)")
    p.add_argument("--parents", action="store_true", help="create the folder of --out if it does not exist")
    p.add_argument("--plot", default=None, help="optional PNG of the first curves (time and folded)")
    p.set_defaults(func=_run_cli)
