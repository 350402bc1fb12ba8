"""Counter-based random numbers that are identical in NumPy and in a TensorFlow graph.

The exported ``generator`` SavedModel draws its random numbers (the regressor's U(0, 1) dummy
dimension and the photometric noise) from a per-curve ``seed`` input, so that

* a curve depends only on its own inputs and seed, never on which other curves share the
  request (TF Serving may split or merge batches);
* the served numbers can be reproduced exactly outside the graph (NumPy twin below), which the
  contract tests use to compare the SavedModel with the in-process Keras path.

The generator is a stateless hash: ``u = hash(seed, stream, counter)`` built from the
"lowbias32" integer mixer (C. Wellons), using only uint32 multiply / xor / shift ops that every
TensorFlow build (and TF Serving) has. Uniforms lie in the open interval (0, 1) with 24-bit
resolution; normals come from the Box-Muller transform. Dimensionless.
"""

from __future__ import annotations

import numpy as np

_M1 = 0x7FEB352D
_M2 = 0x846CA68B
_GOLDEN = 0x9E3779B9
_MASK32 = 0xFFFFFFFF

#: Stream ids: independent random sequences derived from the same seed.
STREAM_DUMMY = 1
STREAM_NOISE = 2
#: Draws of the intrinsic jitter (:mod:`pelsvae_tf.generate.jitter`): the donor training star
#: (counter 0), the phase and amplitude terms per cycle (counter: the cycle number mod 2^32) and
#: the white term per point (counter: the point's position); 3 and 4 are the regressors'
#: (``pelsvae_tf.regress.config``).
STREAM_JITTER_DONOR = 5
STREAM_JITTER_PHASE = 6
STREAM_JITTER_AMP = 7
STREAM_JITTER_WHITE = 8
#: Streams of the in-process generator's draws from training stars (physics and magnitude metadata).
STREAM_PHYSICS = 101
STREAM_META = 102

#: Odd 64-bit constant (2^64 / golden ratio) spacing the per-curve seeds of one call.
_SEED_STEP = 0x9E3779B97F4A7C15
_MASK63 = (1 << 63) - 1


def curve_seeds(seed: int, n: int) -> np.ndarray:
    """Per-curve int64 seeds of a call with one ``seed``: curve i gets ``(seed + i * K) mod 2^63``
    with K = 0x9E3779B97F4A7C15 (dimensionless).

    Curve 0 gets ``seed`` itself, so ``Generator.generate(..., n=1, seed=s)`` is the served
    generator's curve with ``seed=[s]``; calls with nearby seeds (0, 1, 2, ...) share no curve.
    Used by the in-process generator and the REST / gRPC clients alike.
    """
    seed, n = int(seed), int(n)
    if seed < 0 or n < 0:
        raise ValueError(f"curve_seeds: seed={seed} and n={n} must be >= 0")
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps mod 2^64; 2^63 divides it
        s = np.uint64(seed) + np.arange(n, dtype=np.uint64) * np.uint64(_SEED_STEP)
    return (s & np.uint64(_MASK63)).astype(np.int64)


def _mix_np(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.uint32)
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint32(16))
        x = (x * np.uint32(_M1)).astype(np.uint32)
        x = x ^ (x >> np.uint32(15))
        x = (x * np.uint32(_M2)).astype(np.uint32)
        x = x ^ (x >> np.uint32(16))
    return x


def _seed_words_np(seed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    seed = np.asarray(seed, dtype=np.int64)
    lo = (seed & _MASK32).astype(np.uint32)
    hi = ((seed >> 32) & _MASK32).astype(np.uint32)
    return lo, hi


def hash_uint32_np(seed: np.ndarray, stream: int, counter: np.ndarray) -> np.ndarray:
    """32-bit hash of (int64 ``seed``, ``stream``, uint32 ``counter``), broadcast; NumPy twin of the graph op."""
    lo, hi = _seed_words_np(seed)
    counter = np.asarray(counter).astype(np.uint32)
    with np.errstate(over="ignore"):
        h = _mix_np(hi ^ np.uint32((_GOLDEN * stream) & _MASK32))
        h = _mix_np(h ^ lo)
        h = _mix_np(h ^ counter)
    return h


def uniform_np(seed: np.ndarray, stream: int, counter: np.ndarray) -> np.ndarray:
    """Uniform float32 in (0, 1) for each broadcast (seed, counter) pair (dimensionless)."""
    h = hash_uint32_np(seed, stream, counter)
    return (((h >> np.uint32(8)).astype(np.float64) + 0.5) / 16777216.0).astype(np.float32)


def normal_np(seed: np.ndarray, stream: int, counter: np.ndarray) -> np.ndarray:
    """Standard normal float32 (Box-Muller on counters 2c and 2c+1) for each broadcast pair."""
    counter = np.asarray(counter).astype(np.uint32)
    u1 = uniform_np(seed, stream, counter * np.uint32(2)).astype(np.float64)
    u2 = uniform_np(seed, stream, counter * np.uint32(2) + np.uint32(1)).astype(np.float64)
    return (np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# TensorFlow graph versions (imported lazily so NumPy users do not pay for TensorFlow).


def _mix_tf(x):
    import tensorflow as tf

    s16 = tf.constant(16, tf.uint32)
    s15 = tf.constant(15, tf.uint32)
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, s16))
    x = x * tf.constant(_M1, tf.uint32)
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, s15))
    x = x * tf.constant(_M2, tf.uint32)
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, s16))
    return x


def hash_uint32_tf(seed, stream: int, counter):
    """Graph version of :func:`hash_uint32_np`: ``seed`` int64 tensor, ``counter`` uint32 tensor (broadcast)."""
    import tensorflow as tf

    seed = tf.cast(seed, tf.int64)
    mask = tf.constant(_MASK32, tf.int64)
    lo = tf.cast(tf.bitwise.bitwise_and(seed, mask), tf.uint32)
    hi = tf.cast(tf.bitwise.bitwise_and(tf.bitwise.right_shift(seed, tf.constant(32, tf.int64)), mask), tf.uint32)
    h = _mix_tf(tf.bitwise.bitwise_xor(hi, tf.constant((_GOLDEN * stream) & _MASK32, tf.uint32)))
    h = _mix_tf(tf.bitwise.bitwise_xor(h, lo))
    h = _mix_tf(tf.bitwise.bitwise_xor(h, tf.cast(counter, tf.uint32)))
    return h


def uniform_tf(seed, stream: int, counter):
    """Graph version of :func:`uniform_np` (float32 in (0, 1))."""
    import tensorflow as tf

    h = hash_uint32_tf(seed, stream, counter)
    top = tf.cast(tf.bitwise.right_shift(h, tf.constant(8, tf.uint32)), tf.float64)
    return tf.cast((top + 0.5) / 16777216.0, tf.float32)


def normal_tf(seed, stream: int, counter):
    """Graph version of :func:`normal_np` (float32 standard normal)."""
    import tensorflow as tf

    counter = tf.cast(counter, tf.uint32)
    two = tf.constant(2, tf.uint32)
    u1 = tf.cast(uniform_tf(seed, stream, counter * two), tf.float64)
    u2 = tf.cast(uniform_tf(seed, stream, counter * two + tf.constant(1, tf.uint32)), tf.float64)
    return tf.cast(tf.sqrt(-2.0 * tf.math.log(u1)) * tf.cos(2.0 * np.pi * u2), tf.float32)
