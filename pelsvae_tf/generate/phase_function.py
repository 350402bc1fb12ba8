"""A generated light curve is a function of phase: the one path ``z, class, phases -> magnitudes``.

The decoder is a sequence model (a causal TCN, a GRU or an LSTM): its output at a point depends on
the other points of the sequence it is given. Fed the requested observation phases directly, the
same star would come out differently at 10 and at 400 epochs, and five identical times would get
five different magnitudes. So every curve is decoded **once, on a fixed uniform phase grid** of
``n_grid`` points (default: the ``seq_len`` the decoder was trained on, the cadence it knows best),
``phi_k = (k + 0.5) / n_grid``, and any requested phase is evaluated by periodic linear
interpolation of that grid. The model magnitude at a phase then depends only on the phase, the
latent and the class; the cost per curve no longer grows with the number of requested times.

Magnitudes (the convention of the package, local and served alike)::

    s(phi), e(phi)            scaled magnitude and error of the decoder (interpolated grid)
    mean_s, ptp_s             mean and peak-to-peak of s over the grid
    mag_model(phi) = mag_mean + amplitude * (s(phi) - mean_s) / ptp_s      [mag]
    err(phi)       = amplitude * e(phi) / ptp_s                             [mag]
    mag(phi)       = mag_model(phi) + err(phi) * N(0, 1)                    [mag]

plus, when the curve has intrinsic jitter (:mod:`pelsvae_tf.generate.jitter`: phase, amplitude
and white terms drawn from its class's training stars), ``mag`` evaluated at a jittered phase with
a jittered amplitude and a white term added. So ``amplitude`` is exactly the peak-to-peak of the noise-free model curve (the interpolant's
extrema are grid points) and ``mag_mean`` exactly its phase-averaged magnitude (the mean of the
magnitude over a uniform phase grid: a magnitude average, not a flux average). ``ptp_s`` is
floored at :data:`MIN_PTP` so a flat decoded curve cannot blow up its errors. The noise draw of
point ``j`` of a curve with seed ``s`` is ``counter_rng.normal(s, STREAM_NOISE, j)``: it depends
only on the curve's seed and the point's position in the request.

This module is the only implementation of the path. :class:`pelsvae_tf.generate.generator.Generator`
(in process), :mod:`pelsvae_tf.evaluate.evaluation` (through the generator) and every exported SavedModel
(:mod:`pelsvae_tf.serve.export`: ``decoder`` and ``generator``) call :class:`PhaseFunction`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from pelsvae_tf.counter_rng import (
    STREAM_JITTER_AMP,
    STREAM_JITTER_PHASE,
    STREAM_JITTER_WHITE,
    STREAM_NOISE,
    normal_tf,
)
from pelsvae_tf.model import inference_decoder_fn

#: Floor of the decoded grid's peak-to-peak (scaled units) used as the magnitude scale.
MIN_PTP = 1e-3

#: Points per decoder call when decoding grids: small enough that the activations of one call
#: stay in the CPU caches (8,192 points per call ran 1.9x faster than 262,144 in the issue-14
#: measurement). With the direct graph's explicit-padding convolutions, 64 curves of 300 points
#: (19,200 points) ran 1.16x faster than 32 and within 3 % of 128; at 600 points, 32 curves ran
#: within 3 % of 64 (2-core AMD EPYC, 2026-12-04, BENCHMARKS.md "PyTorch side-by-side").
CHUNK_POINTS = 19200


def grid_phases(n_grid: int) -> np.ndarray:
    """The decoding grid ``(k + 0.5) / n_grid`` for k = 0 .. n_grid - 1 [cycles], float32 [n_grid]."""
    n_grid = int(n_grid)
    if n_grid < 2:
        raise ValueError(f"n_grid={n_grid}: the phase grid needs at least 2 points")
    return ((np.arange(n_grid, dtype=np.float64) + 0.5) / n_grid).astype(np.float32)


def interpolate_periodic(values, phase):
    """Periodic linear interpolation of grid ``values`` [B, G] (at :func:`grid_phases`) at ``phase``
    [B, T] (cycles, any real number: taken modulo 1). TensorFlow ops; returns [B, T] float32."""
    g = tf.shape(values)[1]
    gf = tf.cast(g, tf.float32)
    x = tf.math.floormod(phase, 1.0) * gf - 0.5  # grid coordinate; grid point k sits at x = k
    x0 = tf.floor(x)
    w = x - x0
    i0 = tf.math.floormod(tf.cast(x0, tf.int32), g)
    i1 = tf.math.floormod(i0 + 1, g)
    v0 = tf.gather(values, i0, batch_dims=1)
    v1 = tf.gather(values, i1, batch_dims=1)
    return v0 + w * (v1 - v0)


class PhaseFunction:
    """Decoder -> light curves as functions of phase, in magnitudes (see the module docstring).

    Args:
        decoder: the Keras decoder (dict inputs ``z`` [B, D], ``class_onehot`` [B, C], ``phase``
            [B, T] -> ``mag``, ``err`` [B, T] scaled).
        n_grid: points of the uniform decoding grid (the decoder's training ``seq_len``).
        chunk_points: points per decoder call (``chunk_points // n_grid`` curves).
        jit_compile: XLA-compile the grid decoder. Off by default: stock TF Serving runs XLA only
            with ``--xla_cpu_compilation_enabled``, and on 2 CPU cores the XLA-compiled direct graph
            ran 0.83-1.15x the plain one (BENCHMARKS.md, 2026-12-04).
        model_config: the decoder's :class:`~pelsvae_tf.model.vae.ModelConfig` (optional). A causal
            TCN decoder with layer or no norm runs as
            :func:`pelsvae_tf.model.inference.inference_decoder_fn`'s direct graph (explicitly
            padded dilated ``conv2d``, one-pass layer norm, no SpaceToBatchND, no dropout ops;
            equal to the Keras layers to float tolerance), read from the decoder's layers when no
            config is given; other decoders (GRU, LSTM, 'same' padding, batch norm) run their
            Keras layers.

    All methods take and return TensorFlow tensors and are traceable inside a ``tf.function``
    (the exported SavedModels call them); :meth:`render_np` is the NumPy convenience wrapper.
    """

    def __init__(
        self, decoder, n_grid: int = 300, chunk_points: int = CHUNK_POINTS, jit_compile: bool = False, model_config=None
    ):
        inp = getattr(decoder, "input", None)
        if not isinstance(inp, dict) or not {"z", "class_onehot", "phase"} <= set(inp):
            raise ValueError(
                "decoder must be the functional Keras decoder with dict inputs "
                "{'z', 'class_onehot', 'phase'} (pelsvae_tf.model.build.build_decoder / load_run(...).decoder)"
            )
        if int(chunk_points) < 1:
            raise ValueError(f"chunk_points={chunk_points}: must be >= 1 (points per decoder call)")
        self.decoder = decoder
        self.latent_dim = int(inp["z"].shape[-1])
        self.n_classes = int(inp["class_onehot"].shape[-1])
        self.n_grid = int(n_grid)
        self.grid = grid_phases(self.n_grid)
        self.chunk_curves = max(1, int(chunk_points) // self.n_grid)
        self.jit_compile = bool(jit_compile)
        self.model_config = model_config
        self._infer = inference_decoder_fn(decoder, jit_compile=False, graph="direct", config=model_config)
        f32 = tf.float32
        self._decode_chunk = tf.function(
            self._decode_chunk_py,
            input_signature=[tf.TensorSpec([None, self.latent_dim], f32), tf.TensorSpec([None, self.n_classes], f32)],
            jit_compile=self.jit_compile,
            autograph=False,
        )
        self._render = tf.function(
            self.render,
            input_signature=[
                tf.TensorSpec([None, self.latent_dim], f32),
                tf.TensorSpec([None, self.n_classes], f32),
                tf.TensorSpec([None, None], f32),
                tf.TensorSpec([None], f32),
                tf.TensorSpec([None], f32),
                tf.TensorSpec([None], tf.int64),
                tf.TensorSpec([None, 3], f32),
                tf.TensorSpec([None, None], tf.int64),
            ],
            autograph=False,
        )
        self._scaled = tf.function(
            self.scaled_at,
            input_signature=[
                tf.TensorSpec([None, self.latent_dim], f32),
                tf.TensorSpec([None, self.n_classes], f32),
                tf.TensorSpec([None, None], f32),
            ],
            autograph=False,
        )

    # -- grid ---------------------------------------------------------------------------------
    def _decode_chunk_py(self, z, onehot):
        b = tf.shape(z)[0]
        ph = tf.broadcast_to(tf.constant(self.grid)[None, :], tf.stack([b, self.n_grid]))
        return self._infer(z, onehot, ph)

    def decode_grid(self, z, onehot):
        """Scaled magnitude and error on the grid, ``([B, G], [B, G])``, decoded in chunks of
        ``chunk_curves`` curves (a ``tf.map_fn`` loop: one chunk's activations alive at a time).
        A request smaller than a chunk is decoded as one chunk of its own size (a single curve
        costs one curve, not ``chunk_curves``); a larger one in full chunks, the last padded.
        With ``jit_compile`` every chunk is padded to ``chunk_curves`` (one XLA compilation)."""
        b = tf.shape(z)[0]
        per = self.chunk_curves if self.jit_compile else tf.maximum(1, tf.minimum(self.chunk_curves, b))
        n_chunks = tf.maximum(1, (b + per - 1) // per)
        pad = n_chunks * per - b

        def split(x):
            x = tf.pad(x, [[0, pad], [0, 0]])
            return tf.reshape(x, tf.stack([n_chunks, per, tf.shape(x)[1]]))

        spec = tf.TensorSpec([None, self.n_grid], tf.float32)
        mag, err = tf.map_fn(
            lambda a: self._decode_chunk(a[0], a[1]),
            (split(z), split(onehot)),
            fn_output_signature=(spec, spec),
            parallel_iterations=1,
        )
        return tf.reshape(mag, [-1, self.n_grid])[:b], tf.reshape(err, [-1, self.n_grid])[:b]

    # -- evaluation at phases -------------------------------------------------------------------
    def scaled_at(self, z, onehot, phase):
        """Scaled decoder output (``mag``, ``err`` in the prepared data's [0, 1] units) at ``phase``
        [B, T] cycles: the grid decode interpolated. Returns ``{"mag", "err"}`` [B, T]."""
        s_grid, e_grid = self.decode_grid(z, onehot)
        return {"mag": interpolate_periodic(s_grid, phase), "err": interpolate_periodic(e_grid, phase)}

    def render(self, z, onehot, phase, mag_mean, amplitude, seed, jitter=None, cycle=None):
        """Light curves in magnitudes at ``phase`` [B, T] (cycles) for latents ``z`` [B, D], class
        one-hot [B, C], ``mag_mean`` / ``amplitude`` [B] (mag), per-curve ``seed`` [B] int64 and
        intrinsic ``jitter`` [B, 3] (phase rms [cycles], amplitude rms [fraction], white rms
        [fraction of ``amplitude``]; :mod:`pelsvae_tf.generate.jitter`; ``None``: none) with the
        cycle number of each point ``cycle`` [B, T] int64 (``floor((t - t0) / period)``; ``None``:
        0): the phase and amplitude jitter are drawn once per cycle (a cycle's points move
        together, as a Mira's cycle does), the white term per point.

        Returns ``mag`` (the noise draw: jitter and photometric noise), ``mag_model`` (the
        noise-free curve), ``err`` [B, T] in mag (photometric), ``scaled_mag``, ``scaled_err``
        [B, T] (decoder units), ``mag_min`` [B] (the model curve's brightest magnitude, mag) and
        ``jitter`` [B, 3] (as given; zeros for ``None``)."""
        s_grid, e_grid = self.decode_grid(z, onehot)
        s = interpolate_periodic(s_grid, phase)
        e = interpolate_periodic(e_grid, phase)
        mean_s = tf.reduce_mean(s_grid, axis=1)
        lo_s = tf.reduce_min(s_grid, axis=1)
        ptp = tf.maximum(tf.reduce_max(s_grid, axis=1) - lo_s, MIN_PTP)
        k = amplitude / ptp  # mag per scaled unit
        mag_model = mag_mean[:, None] + k[:, None] * (s - mean_s[:, None])
        err = k[:, None] * e
        n_t = tf.shape(phase)[1]
        counter = tf.cast(tf.range(n_t)[None, :], tf.uint32) + tf.zeros([tf.shape(phase)[0], 1], tf.uint32)
        noise = normal_tf(seed[:, None], STREAM_NOISE, counter)
        if jitter is None:
            jitter = tf.zeros([tf.shape(phase)[0], 3], tf.float32)
            mag = mag_model + err * noise
        else:
            sd = seed[:, None]
            if cycle is None:
                cyc = tf.zeros_like(counter)
            else:
                cyc = tf.cast(
                    tf.bitwise.bitwise_and(tf.cast(cycle, tf.int64), tf.constant(0xFFFFFFFF, tf.int64)), tf.uint32
                )
            s_j = interpolate_periodic(s_grid, phase + jitter[:, 0:1] * normal_tf(sd, STREAM_JITTER_PHASE, cyc))
            amp_f = tf.maximum(1.0 + jitter[:, 1:2] * normal_tf(sd, STREAM_JITTER_AMP, cyc), 0.0)
            white = (amplitude[:, None] * jitter[:, 2:3]) * normal_tf(sd, STREAM_JITTER_WHITE, counter)
            mag = mag_mean[:, None] + k[:, None] * amp_f * (s_j - mean_s[:, None]) + white + err * noise
        return {
            "mag": mag,
            "mag_model": mag_model,
            "err": err,
            "scaled_mag": s,
            "scaled_err": e,
            "mag_min": mag_mean + k * (lo_s - mean_s),
            "jitter": jitter,
        }

    # -- NumPy wrappers (in-process callers) ----------------------------------------------------
    def render_np(
        self,
        z: np.ndarray,
        onehot: np.ndarray,
        phase: np.ndarray,
        mag_mean: np.ndarray,
        amplitude: np.ndarray,
        seed: np.ndarray,
        jitter: np.ndarray | None = None,
        cycle: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """:meth:`render` on NumPy arrays (one traced graph for any batch); returns NumPy arrays.
        ``jitter`` [B, 3] and ``cycle`` [B, T] (see :meth:`render`; ``None``: zeros, i.e.
        photometric noise only, all points in cycle 0)."""
        if jitter is None:
            jitter = np.zeros((len(np.atleast_1d(amplitude)), 3), np.float32)
        if cycle is None:
            cycle = np.zeros(np.shape(phase), np.int64)
        out = self._render(
            tf.constant(np.asarray(z, np.float32)),
            tf.constant(np.asarray(onehot, np.float32)),
            tf.constant(np.asarray(phase, np.float32)),
            tf.constant(np.asarray(mag_mean, np.float32)),
            tf.constant(np.asarray(amplitude, np.float32)),
            tf.constant(np.asarray(seed, np.int64)),
            tf.constant(np.asarray(jitter, np.float32)),
            tf.constant(np.asarray(cycle, np.int64)),
        )
        return {k: v.numpy() for k, v in out.items()}

    def scaled_np(self, z: np.ndarray, onehot: np.ndarray, phase: np.ndarray) -> dict[str, np.ndarray]:
        """:meth:`scaled_at` on NumPy arrays: scaled ``mag``, ``err`` [B, T] at ``phase`` (cycles)."""
        out = self._scaled(
            tf.constant(np.asarray(z, np.float32)),
            tf.constant(np.asarray(onehot, np.float32)),
            tf.constant(np.asarray(phase, np.float32)),
        )
        return {k: v.numpy() for k, v in out.items()}

    def grid_np(self, z: np.ndarray, onehot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The decoded grid (scaled mag, err [B, n_grid]) as NumPy arrays."""
        s, e = self.decode_grid(tf.constant(np.asarray(z, np.float32)), tf.constant(np.asarray(onehot, np.float32)))
        return s.numpy(), e.numpy()


def curve_model_stats(s_grid: np.ndarray) -> dict[str, np.ndarray]:
    """Mean and peak-to-peak (``mean_s``, ``ptp_s``, floored at :data:`MIN_PTP`) of decoded grids
    ``s_grid`` [B, G] in scaled units: what turns a star's decoded curve into its model magnitude
    statistics (``amplitude = mag_range * ptp_s``, ``mag_mean = mag_min + mag_range * mean_s``)."""
    s = np.asarray(s_grid, np.float64)
    return {"mean_s": s.mean(axis=1), "ptp_s": np.maximum(np.ptp(s, axis=1), MIN_PTP)}
