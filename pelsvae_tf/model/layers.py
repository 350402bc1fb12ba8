"""Custom Keras layers of the PELS-VAE model (all registered serializable, no ``Lambda``).

Units: every tensor here is dimensionless. Phases are in cycles ([0, 1)), magnitudes and
errors are min-max scaled per light curve (see ``docs/ARCHITECTURE.md``), latent vectors are in
units of the N(0, I) prior.

- :class:`SequenceFeatures` stacks ``[time tag, mag, err]`` per time step (encoder input); the
  time tag is the phase, the phase difference dt, or a Fourier embedding of the phase.
- :class:`TimeTaggedRepeat` repeats a conditioning vector for every requested time and tags
  each step with its time (decoder input); the number of steps is dynamic.
- :class:`GaussianLatent` samples ``z = mu + sigma * eps`` through
  ``tfp.distributions.Normal`` (reparameterised, seeded) and owns the KL term to N(0, I).
- :class:`SqueezeLast` drops a trailing channel axis of size 1.
"""

from __future__ import annotations

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from pelsvae_tf.options import TIME_ENCODINGS

tfd = tfp.distributions

#: harmonics of the ``"fourier"`` time tag: sin/cos(2 pi k phase) for k = 1..FOURIER_HARMONICS
FOURIER_HARMONICS = 4


def time_tag_width(time_encoding: str) -> int:
    """Number of per-step channels of a time tag: 1 (phase, dt) or 1 + 2K (fourier)."""
    return 1 + 2 * FOURIER_HARMONICS if time_encoding == "fourier" else 1


def _time_features(phase: tf.Tensor, time_encoding: str) -> tf.Tensor:
    """Per-step time tag [B, T, F] from phases [B, T] (cycles).

    ``"phase"``: the phase itself (F = 1, the paper's time tag of a folded curve); ``"dt"``:
    ``dt_i = phase_i - phase_{i-1}`` with ``dt_0 = phase_0`` (F = 1, the paper's dt encoding);
    ``"fourier"``: the phase plus ``sin, cos(2 pi k phase)`` for k = 1..4 (F = 9), a periodic
    embedding in which the Fourier series of a pulsator is linear in the inputs.
    """
    phase = tf.convert_to_tensor(phase)
    if time_encoding == "phase":
        return phase[..., None]
    if time_encoding == "dt":
        previous = tf.pad(phase[:, :-1], [[0, 0], [1, 0]])
        return (phase - previous)[..., None]
    k = tf.range(1, FOURIER_HARMONICS + 1, dtype=phase.dtype)
    angle = 2.0 * 3.141592653589793 * phase[..., None] * k
    return tf.concat([phase[..., None], tf.sin(angle), tf.cos(angle)], axis=-1)


@keras.saving.register_keras_serializable(package="pelsvae")
class SequenceFeatures(keras.layers.Layer):
    """Stack ``[time tag, mag, err]`` into the encoder's per-step features [B, T, 3].

    Inputs: a list ``[phase, mag, err]`` of [B, T] tensors (phase in cycles; mag and err scaled).
    """

    def __init__(self, time_encoding: str = "phase", **kwargs):
        super().__init__(**kwargs)
        if time_encoding not in TIME_ENCODINGS:
            raise ValueError(f"time_encoding={time_encoding!r} is not supported; use one of {TIME_ENCODINGS}")
        self.time_encoding = time_encoding

    def call(self, inputs):
        phase, mag, err = inputs
        tag = _time_features(phase, self.time_encoding)
        return tf.concat([tag, tf.cast(mag, tag.dtype)[..., None], tf.cast(err, tag.dtype)[..., None]], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0]) + (time_tag_width(self.time_encoding) + 2,)

    def get_config(self):
        config = super().get_config()
        config.update({"time_encoding": self.time_encoding})
        return config


@keras.saving.register_keras_serializable(package="pelsvae")
class TimeTaggedRepeat(keras.layers.Layer):
    """Repeat a conditioning vector for every requested time and append the time tag.

    Inputs: ``[cond, phase]`` with ``cond`` [B, K] (e.g. ``[z, one-hot class]``) and ``phase``
    [B, T] in cycles; output [B, T, K + 1]. ``T`` is read from ``tf.shape(phase)`` at run time,
    so the decoder accepts any number of time steps (any cadence).
    """

    def __init__(self, time_encoding: str = "phase", **kwargs):
        super().__init__(**kwargs)
        if time_encoding not in TIME_ENCODINGS:
            raise ValueError(f"time_encoding={time_encoding!r} is not supported; use one of {TIME_ENCODINGS}")
        self.time_encoding = time_encoding

    def call(self, inputs):
        cond, phase = inputs
        phase = tf.cast(phase, cond.dtype)
        steps = tf.shape(phase)[1]
        repeated = tf.repeat(cond[:, None, :], steps, axis=1)
        tag = _time_features(phase, self.time_encoding)
        return tf.concat([repeated, tag], axis=-1)

    def compute_output_shape(self, input_shape):
        cond_shape, phase_shape = input_shape
        k = cond_shape[-1]
        return (cond_shape[0], phase_shape[1], None if k is None else k + time_tag_width(self.time_encoding))

    def get_config(self):
        config = super().get_config()
        config.update({"time_encoding": self.time_encoding})
        return config


@keras.saving.register_keras_serializable(package="pelsvae")
class SqueezeLast(keras.layers.Layer):
    """Drop a trailing axis of size 1: [B, T, 1] -> [B, T]."""

    def call(self, inputs):
        return tf.squeeze(inputs, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1])


def gaussian_kl(z_mean: tf.Tensor, z_log_var: tf.Tensor) -> tf.Tensor:
    """Per-sample KL( N(mu, sigma^2) || N(0, I) ) summed over latent dimensions, [B] (nats).

    Computed with ``tfp.distributions.kl_divergence``; equals
    ``0.5 * sum(sigma^2 + mu^2 - log sigma^2 - 1)``. The model's loss takes it through its
    latent layer (:meth:`GaussianLatent.kl`), which owns the term.
    """
    z_mean = tf.convert_to_tensor(z_mean)
    z_log_var = tf.cast(z_log_var, z_mean.dtype)
    posterior = tfd.Normal(loc=z_mean, scale=tf.exp(0.5 * z_log_var))
    prior = tfd.Normal(loc=tf.zeros_like(z_mean), scale=tf.ones_like(z_mean))
    return tf.reduce_sum(tfd.kl_divergence(posterior, prior), axis=-1)


@keras.saving.register_keras_serializable(package="pelsvae")
class GaussianLatent(keras.layers.Layer):
    """Diagonal Gaussian latent: reparameterised sample and KL to the N(0, I) prior.

    Inputs ``[z_mean, z_log_var]`` [B, D] (log-variance in natural log of latent units^2).
    In training (or with ``sample_at_inference=True``) returns
    ``z ~ tfp.distributions.Normal(mu, exp(log_var / 2))`` sampled with a stateless seed drawn
    from this layer's ``keras.random.SeedGenerator`` (deterministic for ``seed``; the generator
    state is saved with the model); otherwise returns ``mu``. ``Normal`` is fully
    reparameterised, so gradients flow to ``mu`` and ``log_var``.

    :meth:`kl` gives the per-sample KL divergence [B] in nats.
    """

    def __init__(self, seed: int | None = None, sample_at_inference: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.sample_at_inference = bool(sample_at_inference)
        self.seed_generator = keras.random.SeedGenerator(seed, name="latent_seed")

    def call(self, inputs, training=None):
        z_mean, z_log_var = inputs
        if not (training or self.sample_at_inference):
            return z_mean
        seed = tf.cast(self.seed_generator.next(), tf.int32)
        dist = tfd.Normal(loc=z_mean, scale=tf.exp(0.5 * tf.cast(z_log_var, z_mean.dtype)))
        return dist.sample(seed=seed)

    def kl(self, z_mean, z_log_var) -> tf.Tensor:
        """Per-sample KL( q(z|x) || N(0, I) ) [B] in nats: the KL term of the PELS-VAE loss.

        ``z_mean``, ``z_log_var`` [B, D] are this layer's inputs (the encoder heads);
        :func:`pelsvae_tf.model.losses.loss_terms` calls this method of the model's latent layer.
        """
        return gaussian_kl(z_mean, z_log_var)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed, "sample_at_inference": self.sample_at_inference})
        return config
