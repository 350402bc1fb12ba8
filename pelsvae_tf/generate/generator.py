"""Generate light curves in magnitudes at any cadence (paper section 4.3) (the ``Generator``).

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
   noise draw ``N(0, err)`` (``noise=True``), with the intrinsic jitter about the phase function
   (phase, amplitude and white terms) of a training star of the class
   (:mod:`pelsvae_tf.generate.jitter`: a Mira's cycle-to-cycle wandering, a Blazhko modulation).

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

The pieces live in their own modules: :mod:`~pelsvae_tf.generate.checks` (input and range
checks), :mod:`~pelsvae_tf.generate.conditions` (sampled physics, latents, magnitudes),
:mod:`~pelsvae_tf.generate.curves` (the result), :mod:`~pelsvae_tf.generate.stream` (writing to
a file); ``pelsvae generate`` is :mod:`pelsvae_tf.cli.generate`.
"""

from __future__ import annotations

import copy
import logging
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from tqdm.auto import tqdm

from pelsvae_tf.classes import CLASSES, PHYSICS_PARAMS, canonical_class
from pelsvae_tf.counter_rng import STREAM_DUMMY, curve_seeds, uniform_np
from pelsvae_tf.determinism import under_op_determinism
from pelsvae_tf.generate import stream
from pelsvae_tf.generate.cadence import Cadence, cadence_phases, cycle_number
from pelsvae_tf.generate.checks import (
    PhysicsRangeWarning,
    _broadcast,
    _check_count,
    _check_seed,
    check_physical,
    check_ranges,
    class_range,
    classes_with_physics,
    in_training_range,
    stats_column,
)
from pelsvae_tf.generate.conditions import (
    DEFAULT_REGRESSOR,
    class_labels,
    magnitude_meta,
    meta_columns,
    sample_latents,
    sample_rows,
)
from pelsvae_tf.generate.curves import GeneratedLightCurves
from pelsvae_tf.generate.jitter import jitter_table, sample_jitter_np
from pelsvae_tf.generate.phase_function import CHUNK_POINTS, PhaseFunction
from pelsvae_tf.pretrained import pretrained_run_dir
from pelsvae_tf.rundir import RunDir

log = logging.getLogger("pelsvae_tf.generate.generator")

#: Above this many curves, :meth:`Generator.generate` shows a tqdm progress bar.
PROGRESS_MIN_CURVES = 20_000


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
        model_config: the decoder's ``ModelConfig`` (optional: the fast direct TCN inference
            graph is chosen from the decoder's layers without it).
        deterministic: run every generation call with TensorFlow op determinism on (default; the
            process setting is put back after each call). ``False`` skips it (``pelsvae generate
            --no-deterministic``); the random draws are counter-based either way, so the same
            seed gives the same curves (cost: ``benchmarks/bench_determinism.py``).
    """

    def __init__(
        self,
        decoder,
        regressor=None,
        classes: Sequence[str] = CLASSES,
        physics_scaler=None,
        train_stats: Mapping[str, np.ndarray] | None = None,
        n_grid: int = 300,
        chunk_points: int | None = None,
        curves_per_call: int = 4096,
        knn: int = 20,
        jit_compile: bool = False,
        model_config=None,
        deterministic: bool = True,
    ):
        if not isinstance(deterministic, bool):
            raise ValueError(f"deterministic={deterministic!r}: give True or False")
        self.deterministic = deterministic
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
        self.phase_function = PhaseFunction(
            decoder,
            n_grid=n_grid,
            chunk_points=chunk_points or CHUNK_POINTS,
            jit_compile=jit_compile,
            model_config=model_config,
        )
        if self.phase_function.n_classes != len(self.classes):
            raise ValueError(
                f"{len(self.classes)} class names given but the decoder takes a "
                f"{self.phase_function.n_classes}-class one-hot"
            )
        self._check_regressor(regressor)
        #: per class, the intrinsic jitter of its training stars ([C, M, 3], counts [C]; zeros: none)
        self.jitter_table, self.jitter_counts = jitter_table(self.train_stats, len(self.classes))
        if self.train_stats is not None and "jitter_model" not in self.train_stats:
            warnings.warn(
                "train_stats.npz predates the intrinsic jitter (no jitter_model): generated stars are "
                "strictly periodic; re-run `pelsvae regress RUN_DIR` to measure it",
                stacklevel=2,
            )
        if self.train_stats is not None and "amplitude_model" not in self.train_stats:
            warnings.warn(
                "train_stats.npz predates model-curve amplitudes (noisy min-max instead); re-run "
                "`pelsvae regress RUN_DIR` so sampled amplitudes are model peak-to-peak values",
                stacklevel=2,
            )

    def _check_regressor(self, regressor) -> None:
        if regressor is not None and tuple(regressor.classes) != self.classes:
            raise ValueError(f"regressor classes {regressor.classes} differ from the decoder's {self.classes}")

    def with_regressor(self, regressor) -> "Generator":
        """A copy of this generator with another fitted regressor (``None``: latents given only),
        sharing its decoder, phase function (no new trace) and training statistics."""
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
        if run_dir is None:
            run_dir = pretrained_run_dir()
        rd = RunDir(run_dir).require()
        reg = rd.regressor(regressor)  # ValueError listing the fitted regressors when there is none
        run = rd.run()
        kwargs.setdefault("n_grid", int(getattr(run.model_config, "seq_len", 300) or 300))
        kwargs.setdefault("model_config", run.model_config)
        return cls(run.decoder, reg, tuple(run.classes), rd.physics_scaler(), rd.train_stats(), **kwargs)

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

    def _meta_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """Training stars' phase-averaged model magnitude and model peak-to-peak amplitude [mag]."""
        return meta_columns(self.train_stats)

    @property
    def classes_with_physics(self) -> tuple[str, ...]:
        """Classes with at least one training star having every regressor input (and a period):
        the classes the regressor was fitted on (all classes when no statistics are loaded)."""
        return classes_with_physics(self.train_stats, self.classes, self.physics)

    def class_range(self, cls: str, name: str) -> tuple[float, float]:
        """Training range ``(min, max)`` of parameter ``name`` for class ``cls`` (physical units);
        the run-wide scaler range when per-class statistics are unavailable."""
        return class_range(self.train_stats, self.physics_scaler, self.classes.index(canonical_class(cls)), name)

    def _labels(self, cls: Any, n: int) -> np.ndarray:
        return class_labels(self.classes, cls, n)

    def _sample_rows(self, labels: np.ndarray, need: Sequence[str], seeds: np.ndarray) -> np.ndarray:
        """Index [n] of a training star of each curve's class having every parameter in ``need``
        (:func:`~pelsvae_tf.generate.conditions.sample_rows`)."""
        return sample_rows(self.train_stats, self.classes, labels, need, seeds)

    def in_training_range(self, labels: np.ndarray, raw: Mapping[str, np.ndarray]) -> np.ndarray:
        """Per curve: True when every given physical parameter lies inside its class's training range."""
        return in_training_range(self.train_stats, self.physics_scaler, labels, raw)

    def _onehot(self, labels: np.ndarray) -> np.ndarray:
        return np.eye(len(self.classes), dtype=np.float32)[np.asarray(labels, np.int64)]

    def decode(self, z: np.ndarray, labels: np.ndarray, phase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scaled magnitude and error [n, T] (decoder units, [0, 1]) of latents z [n, D] and class
        indices [n] at ``phase`` [n, T] (cycles, any order): the curve's phase function (decoded
        once on the grid, interpolated), so a point does not depend on the other points asked for."""
        out = self.render(z, labels, phase, np.zeros(len(z)), np.ones(len(z)), np.zeros(len(z), np.int64))
        return out["scaled_mag"], out["scaled_err"]

    @under_op_determinism
    def render(
        self,
        z: np.ndarray,
        labels: np.ndarray,
        phase: np.ndarray,
        mag_mean: np.ndarray,
        amplitude: np.ndarray,
        seeds: np.ndarray,
        jitter: np.ndarray | None = None,
        cycle: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """The one path z, class, phases -> magnitudes (:meth:`PhaseFunction.render`) over ``n``
        curves in graph calls of ``curves_per_call`` curves (tqdm bar past
        :data:`PROGRESS_MIN_CURVES`). ``phase`` [n, T] cycles, ``mag_mean``/``amplitude`` [n] mag,
        ``seeds`` [n] int64, ``jitter`` [n, 3] intrinsic jitter (phase [cycles], amplitude
        [fraction], white [fraction of the amplitude]; ``None``: none) and ``cycle`` [n, T] int64
        (each point's cycle number, ``floor((t - t0) / period)``; ``None``: 0). Returns float arrays
        ``mag``, ``mag_model``, ``err`` [n, T] (mag), ``scaled_mag``, ``scaled_err`` [n, T],
        ``mag_min`` [n] (mag) and ``jitter`` [n, 3]."""
        n = len(z)
        z = np.asarray(z, np.float32)
        phase = np.asarray(phase, np.float32)
        onehot = self._onehot(labels)
        mag_mean = np.asarray(mag_mean, np.float32)
        amplitude = np.asarray(amplitude, np.float32)
        seeds = np.asarray(seeds, np.int64)
        jitter = np.zeros((n, 3), np.float32) if jitter is None else np.asarray(jitter, np.float32)
        cycle = np.zeros(phase.shape, np.int64) if cycle is None else np.asarray(cycle, np.int64)
        step = self.curves_per_call
        starts = range(0, n, step)
        if n > PROGRESS_MIN_CURVES:
            starts = tqdm(starts, desc="generate", unit="chunk", total=(n + step - 1) // step)
        out: dict[str, np.ndarray] = {}
        for s in starts:
            sl = slice(s, s + step)
            part = self.phase_function.render_np(
                z[sl], onehot[sl], phase[sl], mag_mean[sl], amplitude[sl], seeds[sl], jitter[sl], cycle[sl]
            )
            if not out:
                out = {k: np.empty((n,) + v.shape[1:], v.dtype) for k, v in part.items()}
            for k, v in part.items():
                out[k][sl] = v
        return out

    # -- main entry -------------------------------------------------------------------------------
    @under_op_determinism
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
        jitter: bool = True,
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
            noise: add one noise draw to the magnitudes: N(0, err) and, with ``jitter``, the
                star's intrinsic jitter.
            meta_sampling: ``"knn"`` or ``"class"`` (see module docstring).
            jitter: with ``noise``, give each curve the intrinsic jitter about its phase function
                (phase, amplitude and white terms) of one training star of its class
                (:mod:`pelsvae_tf.generate.jitter`: a Mira's cycle-to-cycle wandering, a Blazhko
                modulation), as the served ``generator`` does; ``False``: a strictly periodic
                star with photometric noise only.
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
                warnings.warn(f"{k} is not an input of this regressor ({list(self.physics)}); ignored", stacklevel=2)
        check_physical(given)
        check_ranges(self.train_stats, self.physics_scaler, self.classes, labels, given, strict)
        unseen = sorted(set(self.classes[i] for i in np.unique(labels)) - set(self.classes_with_physics))
        if unseen:
            msg = (
                f"class(es) {unseen}: no training star has all of {list(self.physics)}, so the regressor "
                f"never saw them; generated curves are extrapolations"
            )
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
        mmean, amp = magnitude_meta(
            self.train_stats,
            self.physics_scaler,
            self.physics,
            self.classes,
            self.knn,
            labels,
            scaled,
            mag_mean,
            amplitude,
            n,
            seeds,
            meta_sampling,
        )
        jit = self._jitter(jitter, labels, seeds)
        res = self._curves(z, labels, cadence, raw["period"], t0, mmean, amp, seeds, noise, jit)
        res.physics = {k: raw[k] for k in need}
        res.in_training_range = self.in_training_range(labels, {k: raw[k] for k in need})
        if getattr(self.regressor.config, "dummy", False):  # the paper's U(0, 1) input, from the seed
            res.dummy = uniform_np(seeds, STREAM_DUMMY, np.zeros(n, np.uint32)).astype(np.float64)
        res.meta.update(seed=seed_int, regressor=self.regressor.kind, jitter=bool(jitter and noise))
        return res

    #: Bytes an in-memory result may take before :meth:`generate` refuses (use :meth:`generate_to`).
    max_result_bytes: int = stream.MAX_RESULT_BYTES

    def generate_to(
        self,
        path: str | Path,
        cls: str | Sequence[str],
        n: int = 1,
        cadence: Cadence | Any = None,
        seed: int | None = 0,
        chunk_curves: int = 10_000,
        progress: bool | None = None,
        **kwargs: Any,
    ) -> Path:
        """Generate ``n`` curves and write them to ``path`` (``.parquet`` or ``.csv``) chunk by
        chunk, in bounded memory (about ``chunk_curves`` curves at a time), atomically (an
        interrupted call leaves no partial file). The file is the :meth:`GeneratedLightCurves.to_pandas`
        table of ``generate(cls, n=n, cadence=cadence, seed=seed, **kwargs)``: curve i is the same
        curve in both (its seed is ``curve_seeds(seed, n)[i]``), ``curve`` runs 0 .. n-1.

        Per-curve arguments (``cls``, physics, ``mag_mean``, ``amplitude``, ``t0``) may be scalars
        or [n] arrays; a cadence may be [T] or [n, T]. A tqdm bar shows the chunks (``progress``:
        ``None`` = when more than one chunk). Returns ``path``.
        """
        return stream.generate_to(
            self, path, cls, n=n, cadence=cadence, seed=seed, chunk_curves=chunk_curves, progress=progress, **kwargs
        )

    @under_op_determinism
    def from_latents(
        self,
        z: np.ndarray,
        cls: str | Sequence[str],
        period: Any,
        cadence: Cadence | Any = None,
        t0: Any = 0.0,
        mag_mean: Any = 15.0,
        amplitude: Any = 1.0,
        seed: int | None = 0,
        noise: bool = True,
        jitter: bool = False,
    ) -> GeneratedLightCurves:
        """Light curves from given latents ``z`` [n, D] (e.g. draws from the N(0, I) prior or an
        encoder's posterior) of class ``cls``, period [d] and cadence, in magnitudes: the same path
        as :meth:`generate` without the regressor. ``mag_mean`` / ``amplitude`` [mag] scalar or [n];
        ``seed`` seeds the noise draws (curve i: ``curve_seeds(seed, n)[i]``); ``jitter=True`` adds the
        intrinsic jitter of a training star of the class as :meth:`generate` does (default: none,
        the latents alone set the curve)."""
        z = np.atleast_2d(np.asarray(z, np.float32))
        n = len(z)
        if z.shape[1] != self.phase_function.latent_dim or not np.all(np.isfinite(z)):
            raise ValueError(f"z: give finite latents of shape [n, {self.phase_function.latent_dim}], got {z.shape}")
        seed_int = _check_seed(seed)
        seeds = curve_seeds(seed_int, n)
        labels = self._labels(cls, n)
        per = _broadcast(period, n, "period")
        check_physical({"period": per})
        mm = _broadcast(mag_mean, n, "mag_mean")
        amp = _broadcast(amplitude, n, "amplitude")
        check_physical({"amplitude": amp})
        res = self._curves(z, labels, cadence, per, t0, mm, amp, seeds, noise, self._jitter(jitter, labels, seeds))
        res.physics = {"period": per}
        res.meta.update(seed=seed_int, regressor="latents given")
        return res

    def _jitter(self, jitter: Any, labels: np.ndarray, seeds: np.ndarray) -> np.ndarray | None:
        """Per-curve intrinsic jitter [n, 3] drawn from the class's training stars (``jitter``
        True) or ``None`` (``False``); anything else is refused by name."""
        if not isinstance(jitter, (bool, np.bool_)):
            raise ValueError(f"jitter={jitter!r}: give True (the class's intrinsic jitter) or False (none)")
        return sample_jitter_np(self.jitter_table, self.jitter_counts, labels, seeds) if jitter else None

    def _curves(self, z, labels, cadence, per, t0, mmean, amp, seeds, noise, jitter) -> GeneratedLightCurves:
        n = len(z)
        cadence, times, phase, t0a = cadence_phases(cadence, n, per, t0)
        stream.check_memory(n, cadence.values.shape[-1], self.max_result_bytes)
        cycle = cycle_number(times, per, t0a)
        out = self.render(z, labels, phase, mmean, amp, seeds, jitter, cycle)
        mag = out["mag"] if noise else out["mag_model"].copy()
        return GeneratedLightCurves(
            time=times,
            phase=phase.astype(np.float64),
            mag=mag,
            mag_model=out["mag_model"],
            err=out["err"],
            scaled_mag=out["scaled_mag"],
            scaled_err=out["scaled_err"],
            cls=np.asarray(self.classes)[labels],
            label=labels,
            period=np.asarray(per, np.float64),
            t0=t0a,
            mag_mean=np.asarray(mmean, np.float64),
            amplitude=np.asarray(amp, np.float64),
            dummy=np.full(n, np.nan),
            physics={},
            z=z,
            meta={"cadence": cadence.description, "noise": bool(noise), "n_grid": self.n_grid},
            jitter=out["jitter"].astype(np.float64) if noise else np.zeros((n, 3)),
        )
