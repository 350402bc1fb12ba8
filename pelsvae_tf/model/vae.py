"""The ``PELSVAE`` Keras model (encoder + latent + decoder, train / test steps, metric trackers).

Units: inputs are phase-folded light curves with phase in cycles ([0, 1)), magnitudes and
errors min-max scaled per curve (dimensionless), one-hot classes, and (cVAE-P) physical
parameters scaled by the dataset's ``PhysicsScaler``. Latents are in units of the N(0, I) prior.

Architecture (paper section 3.1, Fig. 3):

- encoder: ``[time tag, mag, err]`` per step -> temporal network (keras-tcn ``TCN``, causal,
  dilations ``dilation_base**i``; or stacked GRU / LSTM) -> last step -> concat one-hot class
  (+ scaled physics for cVAE-P) -> Dense ReLU + Dropout stack -> ``z_mean``, ``z_log_var``.
- latent: :class:`~pelsvae_tf.model.layers.GaussianLatent` (TFP Normal, reparameterised, seeded).
- decoder: ``[z, one-hot]`` repeated for every requested time and tagged with its time ->
  same temporal family (``return_sequences=True``) -> Dense ReLU stack -> two sigmoid heads:
  scaled magnitude and scaled error per step, in [0, 1]. ``T`` is dynamic (any cadence).

The builders live in :mod:`pelsvae_tf.model.build` (encoder, decoder) and
:mod:`pelsvae_tf.model.temporal` (TCN / GRU / LSTM stacks); fast inference in
:mod:`pelsvae_tf.model.inference`.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from pelsvae_tf.model.build import build_decoder, build_encoder
from pelsvae_tf.model.config import ModelConfig
from pelsvae_tf.model.inference import static_subsample_problem
from pelsvae_tf.model.layers import GaussianLatent
from pelsvae_tf.model.losses import loss_terms
from pelsvae_tf.model.temporal import seed_offset

METRIC_NAMES = ("loss", "recon", "kl", "err_kl")


@keras.saving.register_keras_serializable(package="pelsvae")
class PELSVAE(keras.Model):
    """Conditional VAE for phase-folded light curves (cVAE, or cVAE-P with ``physics``).

    ``call(inputs)`` takes the batch dict of ``PreparedDataset.to_tf`` (extra keys such as
    ``label`` are ignored) and returns ``{"mag","err"}`` [B, T] (scaled reconstructions) and
    ``{"z_mean","z_log_var"}`` [B, D]. In training the latent is sampled; at inference its mean
    is used (unless ``sample_at_inference``). ``train_step``/``test_step`` minimise
    :func:`pelsvae_tf.model.losses.loss_terms` and track ``loss``, ``recon``, ``kl``, ``err_kl``.
    ``beta`` is a non-trainable variable so callbacks can schedule it.
    """

    def __init__(self, model_config: ModelConfig | dict, **kwargs):
        super().__init__(**kwargs)
        if isinstance(model_config, dict):
            model_config = ModelConfig.from_dict(model_config)
        self.model_config = model_config
        self.encoder = build_encoder(model_config)
        self.decoder = build_decoder(model_config)
        self.latent = GaussianLatent(
            seed=seed_offset(model_config, 1),
            sample_at_inference=model_config.sample_at_inference,
            name="latent",
        )
        self.beta = keras.Variable(float(model_config.beta), trainable=False, name="beta", dtype="float32")
        self.subsample_seed = keras.random.SeedGenerator(seed_offset(model_config, 2), name="subsample_seed")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in METRIC_NAMES}
        self.encoder_input_names = ("phase", "mag", "err", "class_onehot") + (
            ("phys",) if model_config.n_physics else ()
        )
        self.built = True

    # -- forward ------------------------------------------------------------------------------
    def _check_inputs(self, inputs) -> None:
        """Check a batch dict before the encoder sees it; ``ValueError`` naming the key and fix.

        Checked (on the static shapes, i.e. always for NumPy / eager inputs and whenever the
        ``tf.data`` element spec knows them): the required keys, rank 2 for every input,
        equal ``[B, T]`` shapes of ``phase``, ``mag`` and ``err`` (T time steps), ``class_onehot``
        of width ``n_classes``, ``phys`` of width ``len(physics)`` (cVAE-P), one batch size.
        """
        names = self.encoder_input_names
        cfg = self.model_config
        if not isinstance(inputs, dict):
            raise ValueError(
                "PELSVAE expects a dict batch with keys "
                f"{names} (as yielded by PreparedDataset.to_tf), got {type(inputs).__name__}"
            )
        missing = [k for k in names if k not in inputs]
        if missing:
            hint = f" (this is a cVAE-P: build the dataset with physics={cfg.physics})" if "phys" in missing else ""
            raise ValueError(f"PELSVAE input batch lacks key(s) {missing}{hint}")

        def shape_of(key):
            value = inputs[key]
            shape = getattr(value, "shape", None)
            if shape is None:
                try:
                    shape = np.shape(value)
                except Exception:  # ragged nested lists
                    raise ValueError(
                        f"PELSVAE input {key!r}: not an array (got {type(value).__name__} of unequal "
                        f"lengths?); pass a rectangular float32 array"
                    ) from None
            shape = tf.TensorShape(shape)
            return None if shape.rank is None else [None if d is None else int(d) for d in shape]

        shapes = {k: shape_of(k) for k in names}
        what = {
            "phase": "[batch, T] phases in cycles",
            "mag": "[batch, T] scaled magnitudes",
            "err": "[batch, T] scaled errors",
            "class_onehot": f"[batch, {cfg.n_classes}] one-hot classes",
            "phys": f"[batch, {cfg.n_physics}] scaled {', '.join(cfg.physics)}",
        }
        for k, shape in shapes.items():
            if shape is not None and len(shape) != 2:
                raise ValueError(
                    f"PELSVAE input {k!r} has shape {tuple(shape)} (rank {len(shape)}); expected rank 2, "
                    f"{what[k]} (add a batch axis for a single curve, e.g. x[None, :])"
                )
        seq = {k: shapes[k] for k in ("phase", "mag", "err") if shapes[k] is not None}
        lengths = {k: v[1] for k, v in seq.items() if v[1] is not None}
        if len(set(lengths.values())) > 1:
            raise ValueError(
                "PELSVAE inputs 'phase', 'mag' and 'err' must have the same number of time steps T; got "
                + ", ".join(f"{k}: {t}" for k, t in lengths.items())
                + " (give every point its phase, scaled magnitude and scaled error)"
            )
        width = shapes["class_onehot"][1] if shapes["class_onehot"] is not None else None
        if width is not None and width != cfg.n_classes:
            raise ValueError(
                f"PELSVAE input 'class_onehot' has width {width}; this model has n_classes={cfg.n_classes}: "
                f"one-hot encode the labels with {cfg.n_classes} columns (the dataset's class list)"
            )
        if cfg.n_physics:
            width = shapes["phys"][1] if shapes["phys"] is not None else None
            if width is not None and width != cfg.n_physics:
                raise ValueError(
                    f"PELSVAE input 'phys' has width {width}; this cVAE-P was built with physics="
                    f"{cfg.physics} ({cfg.n_physics} columns): pass exactly those scaled parameters "
                    f"in that order (PreparedDataset.to_tf(physics={cfg.physics}))"
                )
        batch = {k: v[0] for k, v in shapes.items() if v is not None and v[0] is not None}
        if len(set(batch.values())) > 1:
            raise ValueError(
                "PELSVAE inputs disagree on the batch size: "
                + ", ".join(f"{k}: {b}" for k, b in batch.items())
                + " (every key needs one row per light curve)"
            )

    def encode(self, inputs, training=False):
        """Encoder outputs ``{"z_mean","z_log_var"}`` [B, D] for a batch dict."""
        self._check_inputs(inputs)
        return self.encoder({k: inputs[k] for k in self.encoder_input_names}, training=training)

    def decode(self, z, class_onehot, phase, training=False):
        """Decoder outputs ``{"mag","err"}`` [B, T] (scaled) for latents, classes and phases."""
        return self.decoder({"z": z, "class_onehot": class_onehot, "phase": phase}, training=training)

    def call(self, inputs, training=None):
        enc = self.encode(inputs, training=training)
        z = self.latent([enc["z_mean"], enc["z_log_var"]], training=training)
        dec = self.decode(z, inputs["class_onehot"], inputs["phase"], training=training)
        return {"mag": dec["mag"], "err": dec["err"], "z_mean": enc["z_mean"], "z_log_var": enc["z_log_var"]}

    # -- training -----------------------------------------------------------------------------
    @property
    def metrics(self):
        return list(self.trackers.values())

    def compute_loss_terms(self, batch, outputs) -> dict:
        """Batch-mean loss terms with this model's loss kind, beta variable and error floor;
        the KL term comes from the latent layer (:meth:`GaussianLatent.kl`)."""
        return loss_terms(
            batch,
            outputs,
            kind=self.model_config.loss,
            beta=self.beta,
            err_floor=self.model_config.err_floor,
            latent=self.latent,
        )

    @staticmethod
    def _unpack(data):
        if isinstance(data, (tuple, list)):
            data = data[0]
        return data

    def _decoder_targets(self, batch) -> dict:
        """Random phase-sorted subset of the batch's points for the decoder (training only).

        Keeps between ``decoder_subsample`` x T and T points (the same subset for the whole
        batch), so the decoder must read each step's phase tag instead of its position.

        When the train step is XLA-compiled (``jit_compile``), shapes must be static: the kept
        points then come first (in time order), the others after them, and ``"point_mask"``
        scores only the kept ones. A causal decoder's first n outputs never see the tail, so
        this decodes the same subset with the same numbers as the variable-length path. Both
        paths return ``"n_points"`` = T, the length of the whole curve, over which the
        ``"elbo"`` loss shares the curve's KL.
        """
        keys = ("phase", "mag", "err")
        frac = float(self.model_config.decoder_subsample)
        if frac >= 1.0:
            return {k: batch[k] for k in keys}
        steps = tf.shape(batch["phase"])[1]
        n_min = tf.maximum(2, tf.cast(tf.math.ceil(frac * tf.cast(steps, tf.float32)), tf.int32))
        n_min = tf.minimum(n_min, steps)
        seed_n = tf.cast(self.subsample_seed.next(), tf.int32)
        seed_i = tf.cast(self.subsample_seed.next(), tf.int32)
        n = tf.random.stateless_uniform((), seed=seed_n, minval=n_min, maxval=steps + 1, dtype=tf.int32)
        scores = tf.random.stateless_uniform(tf.reshape(steps, [1]), seed=seed_i)
        if not getattr(self, "jit_compile", False):
            idx = tf.sort(tf.math.top_k(scores, k=n).indices)
            out = {k: tf.gather(batch[k], idx, axis=1) for k in keys}
        else:
            problem = static_subsample_problem(self.model_config)
            if problem:
                raise ValueError(f"jit_compile: {problem}")
            # static shapes for XLA: the n best-scored points (the same subset as top_k above)
            # first, in time order, then the rest; only the first n are scored
            best_first = tf.math.top_k(scores, k=steps).indices
            rank = tf.math.invert_permutation(best_first)
            position = tf.range(steps)
            key = tf.where(rank < n, position, position + steps)
            perm = tf.argsort(key)
            out = {k: tf.gather(batch[k], perm, axis=1) for k in keys}
            out["point_mask"] = tf.cast(position < n, batch["mag"].dtype)
        # the curve is still T points long: the "elbo" loss shares its KL over T, not over n
        out["n_points"] = steps
        return out

    def train_step(self, data):
        batch = self._unpack(data)
        with tf.GradientTape() as tape:
            enc = self.encode(batch, training=True)
            z = self.latent([enc["z_mean"], enc["z_log_var"]], training=True)
            target = self._decoder_targets(batch)
            dec = self.decode(z, batch["class_onehot"], target["phase"], training=True)
            outputs = {"mag": dec["mag"], "err": dec["err"], "z_mean": enc["z_mean"], "z_log_var": enc["z_log_var"]}
            terms = self.compute_loss_terms({**batch, **target}, outputs)
            loss = terms["loss"]
            if self.losses:
                loss = loss + tf.add_n(self.losses)
            # gradients are summed over replicas under tf.distribute: scale per replica
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            scaled = loss / tf.cast(replicas, loss.dtype)
            scaled = self.optimizer.scale_loss(scaled)
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return self._update_trackers(terms)

    def test_step(self, data):
        batch = self._unpack(data)
        outputs = self(batch, training=False)
        return self._update_trackers(self.compute_loss_terms(batch, outputs))

    def _update_trackers(self, terms):
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name])
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    # -- serialisation ------------------------------------------------------------------------
    def get_config(self):
        base = super().get_config()
        base = {k: v for k, v in base.items() if k in ("name", "trainable", "dtype")}
        base["model_config"] = self.model_config.to_dict()
        return base

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        model_config = ModelConfig.from_dict(config.pop("model_config"))
        return cls(model_config=model_config, **config)


def build_pelsvae(config: ModelConfig) -> PELSVAE:
    """Build an (uncompiled) :class:`PELSVAE` from ``config`` (validated first).

    With ``config.seed`` set, Keras' global seed is set to it first
    (``keras.utils.set_random_seed``: Python, NumPy and TF generators), so the initial weights
    are the same for the same config. Loading a saved model does not touch global seeds.
    """
    if not isinstance(config, ModelConfig):
        raise ValueError(f"build_pelsvae needs a ModelConfig, got {type(config).__name__}")
    config.validate()
    if config.seed is not None:
        keras.utils.set_random_seed(int(config.seed))
    return PELSVAE(config, name="pelsvae")


def count_params(model: keras.Model) -> int:
    """Total number of weights (trainable + non-trainable)."""
    return int(sum(int(tf.size(v)) for v in model.weights))
