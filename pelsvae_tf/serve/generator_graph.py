"""The end-to-end ``generator`` SavedModel's graph: physics -> z -> phase function -> magnitudes.

:func:`generator_graph` builds it from a fitted regressor (its graph sampler,
:func:`pelsvae_tf.regress.graph_sampler`), the run's ``PhysicsScaler`` and the shared
:class:`~pelsvae_tf.generate.PhaseFunction`, the same path as the in-process
:class:`~pelsvae_tf.generate.Generator`.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np
import tensorflow as tf

from pelsvae_tf.counter_rng import STREAM_DUMMY, uniform_tf
from pelsvae_tf.generate import class_range
from pelsvae_tf.generate.jitter import jitter_table, sample_jitter_tf
from pelsvae_tf.regress import graph_sampler
from pelsvae_tf.serve.checks import assert_finite, class_index_checks, onehot_checks, phase_checks, positive_checks
from pelsvae_tf.serve.regressor_graph import scale_physics


def cycle_from_times(times, t0, period):
    """Cycle number ``floor((times - t0) / period)`` [B, T] int64 of ``times`` [B, T] (d) for
    ``t0`` and ``period`` [B] (d), in float64 (graph ops; the twin of
    :func:`pelsvae_tf.generate.cadence.cycle_number`)."""
    return tf.cast(tf.floor((times - t0[:, None]) / period[:, None]), tf.int64)


def phase_from_times(times, t0, period, xp=np):
    """Phase in [0, 1) of ``times`` [B, T] (days) for ``t0`` and ``period`` [B] (days), in float64."""
    if xp is np:
        x = (np.asarray(times, np.float64) - np.asarray(t0, np.float64)[:, None]) / np.asarray(period, np.float64)[
            :, None
        ]
        return np.mod(x, 1.0).astype(np.float32)
    x = (times - t0[:, None]) / period[:, None]
    return tf.cast(tf.math.floormod(x, tf.constant(1.0, tf.float64)), tf.float32)


class SamplerGraph:
    """Raw physics (dict name -> [B] float64) + class one-hot + per-curve seed -> z [B, D]: the
    run's ``PhysicsScaler`` affine map (float64) then the regressor's graph sampler
    (:func:`pelsvae_tf.regress.graph.graph_sampler`, the twin of ``PhysicsRegressor.sample``)."""

    def __init__(self, physics: Sequence[str], shift: np.ndarray, scale: np.ndarray, sampler: Callable, dummy: bool):
        self.physics = tuple(physics)
        self.shift = np.asarray(shift, np.float64)
        self.scale = np.asarray(scale, np.float64)
        self.sampler = sampler
        self.dummy = bool(dummy)

    def sample(self, raw: Mapping[str, Any], onehot, seed):
        """z [B, D] float32 (latent units)."""
        return self.sampler(scale_physics(raw, self.physics, self.shift, self.scale), onehot, seed)


class GeneratorGraph:
    """Graph function of the end-to-end ``generator``: physics -> z -> phase function -> magnitudes.

    Each signature validates its own inputs and turns times into phases / indices into one-hot,
    then calls one shared ``tf.function`` (``core``), which calls the shared
    :class:`~pelsvae_tf.generate.phase_function.PhaseFunction` (the same path as the in-process
    :class:`~pelsvae_tf.generate.generator.Generator`), so the SavedModel holds the decoder graph once.
    ``ranges`` [C, P, 2] (per class and physical parameter, min and max of the training stars)
    gives the ``in_training_range`` output; ``jitter`` ``(table [C, M, 3], counts [C])`` holds the
    training stars' intrinsic jitter per class (:func:`pelsvae_tf.generate.jitter.jitter_table`;
    ``None``: none), drawn from the request's seed as the in-process generator draws it.
    """

    def __init__(
        self,
        regressor: "SamplerGraph",
        phase_function,
        n_classes: int,
        ranges: np.ndarray,
        jitter: tuple[np.ndarray, np.ndarray] | None = None,
    ):
        self.regressor = regressor
        self.phase_function = phase_function
        self.n_classes = n_classes
        self.ranges = np.asarray(ranges, np.float64)
        self.jitter = jitter_table(None, n_classes) if jitter is None else jitter
        f32 = tf.float32
        self.core = tf.function(
            self._core,
            input_signature=[
                tf.TensorSpec([None, len(regressor.physics)], tf.float64),
                tf.TensorSpec([None, n_classes], f32),
                tf.TensorSpec([None, None], f32),
                tf.TensorSpec([None], f32),
                tf.TensorSpec([None], f32),
                tf.TensorSpec([None], tf.int64),
                tf.TensorSpec([None, None], tf.int64),
            ],
            autograph=False,
        )

    def _core(self, phys, onehot, phase, mag_mean, amplitude, seed, cycle):
        """Validated inputs -> outputs: raw physics [B, P] float64, one-hot [B, C], phase [B, T]."""
        b = tf.shape(phase)[0]
        reg_in = {n: phys[:, j] for j, n in enumerate(self.regressor.physics)}
        dummy = uniform_tf(seed, STREAM_DUMMY, tf.zeros([b], tf.uint32))
        z = self.regressor.sample(reg_in, onehot, seed)
        lab = tf.argmax(onehot, axis=1)
        jit = sample_jitter_tf(self.jitter[0], self.jitter[1], lab, seed)
        out = self.phase_function.render(z, onehot, phase, mag_mean, amplitude, seed, jit, cycle)
        rng = tf.gather(tf.constant(self.ranges), lab)  # [B, P, 2]
        inside = tf.reduce_all((phys >= rng[:, :, 0]) & (phys <= rng[:, :, 1]), axis=1)
        return {
            "mag": out["mag"],
            "mag_model": out["mag_model"],
            "err": out["err"],
            "phase": phase,
            "mag_min": out["mag_min"],
            "scaled_mag": out["scaled_mag"],
            "scaled_err": out["scaled_err"],
            "dummy": dummy if self.regressor.dummy else tf.fill([b], tf.constant(np.nan, tf.float32)),
            "z": z,
            "in_training_range": tf.cast(inside, tf.int32),
            "jitter": out["jitter"],
        }

    def __call__(self, x: Mapping[str, Any]) -> dict:
        period, seed = x["period"], x["seed"]
        mag_mean, amplitude = x["mag_mean"], x["amplitude"]
        phys_names = self.regressor.physics
        checks = positive_checks(x, list(dict.fromkeys(list(phys_names) + ["period", "amplitude"])))
        checks.append(assert_finite(mag_mean, "mag_mean"))
        if "class_index" in x:
            ci = x["class_index"]
            checks += class_index_checks(ci, self.n_classes)
        else:
            onehot = x["class_onehot"]
            checks += onehot_checks(onehot)
        if "times" in x:
            checks.append(assert_finite(x["times"], "times"))
            checks.append(assert_finite(x["t0"], "t0"))
        else:
            checks += phase_checks(x["phase"])
        with tf.control_dependencies(checks):
            if "times" in x:
                phase = phase_from_times(x["times"], x["t0"], period, xp=tf)
                cycle = cycle_from_times(x["times"], x["t0"], tf.cast(period, tf.float64))
            else:
                phase = tf.identity(x["phase"])
                cycle = tf.zeros(tf.shape(phase), tf.int64)  # phases given: one cycle
            if "class_index" in x:
                onehot = tf.one_hot(x["class_index"], self.n_classes, dtype=tf.float32)
            phys = tf.stack([tf.cast(period if n == "period" else x[n], tf.float64) for n in phys_names], axis=1)
            out = self.core(phys, onehot, phase, mag_mean, amplitude, seed, cycle)
        return {k: tf.identity(v, name=k) for k, v in out.items()}


def training_ranges(
    train_stats: Mapping[str, np.ndarray] | None, scaler, physics: Sequence[str], n_classes: int
) -> np.ndarray:
    """[C, P, 2] min and max of the training stars per class and physical parameter (the
    ``in_training_range`` output; the scaler's ranges without ``train_stats``), infinities clipped."""
    table = np.asarray(
        [[class_range(train_stats, scaler, c, p) for p in physics] for c in range(n_classes)], np.float64
    )
    return np.nan_to_num(table, nan=0.0, posinf=np.finfo(np.float64).max, neginf=-np.finfo(np.float64).max)


def generator_graph(
    regressor,
    scaler,
    phase_function,
    n_classes: int,
    train_stats: Mapping[str, np.ndarray] | None = None,
    temp_dir: str | None = None,
) -> tuple[GeneratorGraph, list]:
    """The generator graph of a fitted regressor (any kind: each samples in-graph) and the TF
    objects the SavedModel must track. ``temp_dir`` holds YDF model files until they are saved."""
    sampler, tracked = graph_sampler(regressor, temp_dir=temp_dir)
    shift, scale = scaler._affine(regressor.physics)
    graph = SamplerGraph(regressor.physics, shift, scale, sampler, bool(regressor.config.dummy))
    table = training_ranges(train_stats, scaler, graph.physics, n_classes)
    jitter = jitter_table(train_stats, n_classes)
    return GeneratorGraph(graph, phase_function, n_classes, table, jitter), list(tracked)
