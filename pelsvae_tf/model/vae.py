"""The PELS-VAE model: configuration, encoder, decoder and the ``PELSVAE`` Keras model.

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

Causality choice: both temporal networks are causal, as in the paper (Bai et al. 2018 TCN).
In the decoder this costs nothing: every step already receives the whole latent code and class,
and its own time tag, so the output at phase ``phi_j`` can depend on ``phi_j`` and ``z`` without
seeing later steps. In the encoder the last step summarises the curve, so the TCN receptive
field must cover the sequence: ``ModelConfig`` checks it (see :meth:`ModelConfig.receptive_field`).

TCN channels: ``tcn_channels="constant"`` (default) uses ``hidden`` filters in every block and
keras-tcn's summed skip connections; ``"reference"`` uses the reference code's ramp
``[8, 16, 32, H, ..., H]`` in the encoder and the mirrored ramp in the decoder, laid out as the
reference's TemporalConvNet (Bai et al. 2018): every block's residual output feeds the next and the
network returns the last block's output (no skip sum: the blocks' widths differ), with a 1x1
convolution on the residual path wherever the width changes.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from pelsvae_tf.model.layers import GaussianLatent, SequenceFeatures, SqueezeLast, TimeTaggedRepeat
from pelsvae_tf.model.config import ModelConfig
from pelsvae_tf.model.losses import loss_terms

METRIC_NAMES = ("loss", "recon", "kl", "err_kl")


# -- builders -------------------------------------------------------------------------------
def _temporal(config: ModelConfig, return_sequences: bool, prefix: str, decoder: bool):
    """The temporal network as a list of layers applied in sequence."""
    if config.arch == "tcn":
        from tcn import TCN

        channels = config.channels(decoder=decoder)
        tapered = config.tcn_channels == "reference"
        return [
            TCN(
                # the tapered ramp is Bai et al.'s TemporalConvNet (the reference code): each block
                # feeds the next and the TCN returns the last block's output; keras-tcn's skip sum
                # needs equal widths, so it is used only for the constant-channel default
                nb_filters=list(channels) if tapered else config.hidden,
                kernel_size=config.kernel_size,
                nb_stacks=1,
                dilations=list(config.dilations),
                padding=config.decoder_padding if decoder else "causal",
                use_skip_connections=not tapered,
                dropout_rate=float(config.dropout),
                return_sequences=return_sequences,
                use_layer_norm=config.tcn_norm == "layer",
                use_batch_norm=config.tcn_norm == "batch",
                name=f"{prefix}_tcn",
            )
        ]
    rnn_cls = keras.layers.GRU if config.arch == "gru" else keras.layers.LSTM
    layers = []
    for i in range(config.rnn_layers):
        last = i == config.rnn_layers - 1
        layers.append(
            rnn_cls(
                config.hidden,
                dropout=float(config.dropout),
                return_sequences=return_sequences or not last,
                seed=None if config.seed is None else config.seed + 10 + i,
                name=f"{prefix}_{config.arch}_{i}",
            )
        )
    return layers


def _seed(config: ModelConfig, offset: int):
    return None if config.seed is None else int(config.seed) + offset


def build_encoder(config: ModelConfig) -> keras.Model:
    """Functional encoder ``{"phase","mag","err","class_onehot"[,"phys"]} -> {"z_mean","z_log_var"}``.

    Shapes: phase/mag/err [B, T] (T dynamic), class_onehot [B, C], phys [B, P] (scaled);
    outputs [B, D].
    """
    phase = keras.Input(shape=(None,), name="phase")
    mag = keras.Input(shape=(None,), name="mag")
    err = keras.Input(shape=(None,), name="err")
    onehot = keras.Input(shape=(config.n_classes,), name="class_onehot")
    inputs = {"phase": phase, "mag": mag, "err": err, "class_onehot": onehot}
    x = SequenceFeatures(config.time_encoding, name="sequence_features")([phase, mag, err])
    for layer in _temporal(config, return_sequences=False, prefix="encoder", decoder=False):
        x = layer(x)
    parts = [x, onehot]
    if config.n_physics:
        phys = keras.Input(shape=(config.n_physics,), name="phys")
        inputs["phys"] = phys
        parts.append(phys)
    h = keras.layers.Concatenate(name="encoder_condition")(parts)
    for i, units in enumerate(config.dense_units):
        h = keras.layers.Dense(units, activation="relu", name=f"encoder_dense_{i}")(h)
        h = keras.layers.Dropout(config.dropout, seed=_seed(config, 100 + i), name=f"encoder_dropout_{i}")(h)
    z_mean = keras.layers.Dense(config.latent_dim, name="z_mean")(h)
    z_log_var = keras.layers.Dense(config.latent_dim, name="z_log_var")(h)
    return keras.Model(inputs, {"z_mean": z_mean, "z_log_var": z_log_var}, name="encoder")


def build_decoder(config: ModelConfig) -> keras.Model:
    """Functional decoder ``{"z","class_onehot","phase"} -> {"mag","err"}``.

    Shapes: z [B, D], class_onehot [B, C], phase [B, T] in cycles with T dynamic; outputs
    [B, T] scaled magnitude and scaled error in [0, 1] (sigmoid).
    """
    z = keras.Input(shape=(config.latent_dim,), name="z")
    onehot = keras.Input(shape=(config.n_classes,), name="class_onehot")
    phase = keras.Input(shape=(None,), name="phase")
    cond = keras.layers.Concatenate(name="decoder_condition")([z, onehot])
    x = TimeTaggedRepeat(config.time_encoding, name="time_tagged_repeat")([cond, phase])
    for layer in _temporal(config, return_sequences=True, prefix="decoder", decoder=True):
        x = layer(x)
    for i, units in enumerate(reversed(config.dense_units)):
        x = keras.layers.Dense(units, activation="relu", name=f"decoder_dense_{i}")(x)
        x = keras.layers.Dropout(config.dropout, seed=_seed(config, 200 + i), name=f"decoder_dropout_{i}")(x)
    mag = keras.layers.Dense(1, activation="sigmoid", name="mag_head")(x)
    err = keras.layers.Dense(1, activation="sigmoid", name="err_head")(x)
    outputs = {"mag": SqueezeLast(name="mag")(mag), "err": SqueezeLast(name="err")(err)}
    return keras.Model({"z": z, "class_onehot": onehot, "phase": phase}, outputs, name="decoder")


def static_subsample_problem(config: "ModelConfig") -> str | None:
    """Why the XLA (static-length) decoder subset would differ from the variable-length one, or None.

    Under ``jit_compile`` the unscored points are kept after the scored ones (see
    ``PELSVAE._decoder_targets``). A causal TCN or a (unidirectional) GRU/LSTM decoder never lets
    them reach the scored outputs; a ``'same'``-padded TCN sees them through its right-hand
    context, and batch normalisation would put them into its batch statistics.
    """
    if config.decoder_subsample >= 1.0 or config.arch != "tcn":
        return None
    fix = "use decoder_subsample=1 (--decoder-subsample 1) or drop jit_compile (--jit-compile)"
    if config.decoder_padding != "causal":
        return ("ModelConfig.decoder_subsample < 1 needs decoder_padding='causal': a 'same'-padded decoder "
                f"would see the unscored points XLA keeps at the end of each sequence; {fix}")
    if config.tcn_norm == "batch":
        return ("ModelConfig.decoder_subsample < 1 with tcn_norm='batch': the unscored points XLA keeps would "
                f"enter the batch statistics; use tcn_norm='layer', or {fix}")
    return None


#: Recommended curves per inference decoder call (the chunk size of :func:`decode_chunked`), measured
#: with ``benchmarks/bench_torch_baseline.py`` (paper-best TCN, 300 and 600 points, 2 shared cores;
#: BENCHMARKS.md, "PyTorch side-by-side"): with the direct graph and plain ``tf.function``, chunks of
#: 32 curves were the fastest of 8 / 32 at N = 1,000 (300 points) and N = 100 (600 points); with the
#: Keras graph, 512-curve chunks (153,600 points) were 2.6x slower than 8-curve chunks (300 points).
INFERENCE_CHUNK = 32


def _direct_tcn_decoder(decoder: keras.Model, config: "ModelConfig"):
    """``fn(z, onehot, phase) -> (mag, err)`` computing the TCN decoder's inference pass from its weights.

    The same arithmetic as the Keras layers (keras-tcn residual blocks, layer norm, skip sum or
    chained blocks, dense stack, sigmoid heads), written as plain TF ops: every dilated causal
    convolution is one ``tf.nn.conv1d`` with ``dilations`` on the left-padded input (the Keras
    ``Conv1D`` runs dilated convolutions through ``SpaceToBatchND`` / ``BatchToSpaceND``), and no
    training-only op (dropout) is in the graph. Weights are read at call time (variables).
    """
    from pelsvae_tf.model.layers import _time_features

    tcn = decoder.get_layer("decoder_tcn")
    k = int(tcn.kernel_size)
    blocks = []
    for blk in tcn.residual_blocks:
        convs = [layer for layer in blk.layers if isinstance(layer, keras.layers.Conv1D)]
        norms = [layer for layer in blk.layers if isinstance(layer, keras.layers.LayerNormalization)]
        match = blk.shape_match_conv if isinstance(blk.shape_match_conv, keras.layers.Conv1D) else None
        blocks.append((int(blk.dilation_rate), convs, norms or [None, None], match))
    dense = [decoder.get_layer(f"decoder_dense_{i}") for i in range(len(config.dense_units))]
    mag_head, err_head = decoder.get_layer("mag_head"), decoder.get_layer("err_head")
    skip_sum = bool(tcn.use_skip_connections)
    time_encoding = config.time_encoding

    def per_step(x, layer):
        return tf.einsum("btc,co->bto", x, layer.kernel) + layer.bias

    def fn(z, onehot, phase):
        steps = tf.shape(phase)[1]
        cond = tf.concat([z, onehot], axis=-1)
        x = tf.concat([tf.repeat(cond[:, None, :], steps, axis=1), _time_features(phase, time_encoding)], axis=-1)
        skips = None
        for dilation, convs, norms, match in blocks:
            h = x
            for conv, norm in zip(convs, norms):
                h = tf.pad(h, [[0, 0], [(k - 1) * dilation, 0], [0, 0]])
                h = tf.nn.conv1d(h, conv.kernel, stride=1, padding="VALID", dilations=dilation) + conv.bias
                if norm is not None:
                    mean, var = tf.nn.moments(h, axes=[-1], keepdims=True)
                    h = (h - mean) * tf.math.rsqrt(var + norm.epsilon) * norm.gamma + norm.beta
                h = tf.nn.relu(h)
            res = x if match is None else tf.einsum("btc,co->bto", x, match.kernel[0]) + match.bias
            x = tf.nn.relu(h + res)
            if skip_sum:
                skips = h if skips is None else skips + h
        x = skips if skip_sum else x
        for layer in dense:
            x = tf.nn.relu(per_step(x, layer))
        return tf.sigmoid(per_step(x, mag_head))[..., 0], tf.sigmoid(per_step(x, err_head))[..., 0]

    return fn


def direct_graph_supported(config: "ModelConfig") -> bool:
    """Whether :func:`inference_decoder_fn` can use the direct graph: a causal TCN decoder with
    layer norm or no norm (otherwise it runs the Keras layers, with the same results)."""
    return config.arch == "tcn" and config.decoder_padding == "causal" and config.tcn_norm in ("layer", "none")


def inference_decoder_fn(decoder: keras.Model, jit_compile: bool = False, graph: str = "direct",
                         config: "ModelConfig | None" = None):
    """The fastest measured way to run a decoder for generation: one inference graph.

    Args:
        decoder: a decoder built by :func:`build_decoder` (e.g. ``PELSVAE.decoder``).
        jit_compile: compile the graph with XLA. XLA compiles once per input shape: feed
            fixed-size chunks (:func:`decode_chunked` pads the last one). See BENCHMARKS.md for
            which is faster on which machine.
        graph: ``"direct"`` (default): the TCN decoder's inference pass written as plain TF ops
            from the decoder's weights (:func:`_direct_tcn_decoder`: one ``tf.nn.conv1d`` per
            dilated convolution instead of Keras' SpaceToBatchND path, no dropout ops), used
            when :func:`direct_graph_supported` (causal TCN, layer or no norm); ``"keras"``: the
            decoder's own layers (``decoder(..., training=False)``).
        config: the decoder's :class:`ModelConfig` (needed for ``graph="direct"``; e.g.
            ``PELSVAE.model_config``); without it the Keras layers are used.

    Returns:
        A ``tf.function`` ``fn(z, onehot, phase) -> (mag, err)``: ``z`` [B, D] float32 latents
        (units of the N(0, I) prior), ``onehot`` [B, C] float32 one-hot classes, ``phase`` [B, T]
        float32 phases in cycles; ``mag`` and ``err`` [B, T] float32 scaled magnitude and scaled
        error in [0, 1], equal to ``decoder(..., training=False)`` to float tolerance.
    """
    if graph not in ("direct", "keras"):
        raise ValueError(f"inference_decoder_fn: graph={graph!r}; use 'direct' or 'keras'")
    if graph == "direct" and config is not None and direct_graph_supported(config):
        fn = _direct_tcn_decoder(decoder, config)
    else:
        def fn(z, onehot, phase):
            out = decoder({"z": z, "class_onehot": onehot, "phase": phase}, training=False)
            return out["mag"], out["err"]

    spec = [tf.TensorSpec([None, None], tf.float32)] * 3
    return tf.function(fn, jit_compile=bool(jit_compile), input_signature=spec)


def decode_chunked(decode_fn, z, onehot, phase, chunk_size: int = INFERENCE_CHUNK):
    """Decode many curves in fixed-size chunks with ``decode_fn`` (from :func:`inference_decoder_fn`).

    Args:
        decode_fn: ``fn(z, onehot, phase) -> (mag, err)``.
        z: [N, D] latents (prior units); onehot: [N, C] one-hot classes; phase: [N, T] phases in
            cycles (array-likes, cast to float32).
        chunk_size: curves per call; the last chunk is padded (by repeating its last curve) to the
            same size so an XLA-compiled ``decode_fn`` is compiled once per ``(chunk_size, T)``.

    Returns:
        ``(mag, err)``: NumPy float32 [N, T] scaled magnitude and scaled error.
    """
    z = np.asarray(z, np.float32)
    onehot = np.asarray(onehot, np.float32)
    phase = np.asarray(phase, np.float32)
    n = z.shape[0]
    if chunk_size < 1:
        raise ValueError(f"decode_chunked: chunk_size={chunk_size!r} must be >= 1")
    mags, errs = [], []
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        parts = [a[start:stop] for a in (z, onehot, phase)]
        if stop - start < chunk_size and n > chunk_size:
            pad = chunk_size - (stop - start)
            parts = [np.concatenate([a, np.repeat(a[-1:], pad, axis=0)]) for a in parts]
        mag, err = decode_fn(*(tf.constant(a) for a in parts))
        mags.append(mag.numpy()[: stop - start])
        errs.append(err.numpy()[: stop - start])
    if not mags:
        t = phase.shape[1] if phase.ndim == 2 else 0
        return np.zeros((0, t), np.float32), np.zeros((0, t), np.float32)
    return np.concatenate(mags), np.concatenate(errs)


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
            seed=_seed(model_config, 1),
            sample_at_inference=model_config.sample_at_inference,
            name="latent",
        )
        self.beta = keras.Variable(float(model_config.beta), trainable=False, name="beta", dtype="float32")
        self.subsample_seed = keras.random.SeedGenerator(_seed(model_config, 2), name="subsample_seed")
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
            hint = (
                " (this is a cVAE-P: build the dataset with physics="
                f"{cfg.physics})"
                if "phys" in missing
                else ""
            )
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
        this decodes the same subset with the same numbers as the variable-length path.
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
            return {k: tf.gather(batch[k], idx, axis=1) for k in keys}
        problem = static_subsample_problem(self.model_config)
        if problem:
            raise ValueError(f"jit_compile: {problem}")
        # static shapes for XLA: the n best-scored points (the same subset as top_k above) first,
        # in time order, then the rest; only the first n are scored
        best_first = tf.math.top_k(scores, k=steps).indices
        rank = tf.math.invert_permutation(best_first)
        position = tf.range(steps)
        key = tf.where(rank < n, position, position + steps)
        perm = tf.argsort(key)
        out = {k: tf.gather(batch[k], perm, axis=1) for k in keys}
        out["point_mask"] = tf.cast(position < n, batch["mag"].dtype)
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


__all__ = [
    "ModelConfig",
    "build_encoder",
    "build_decoder",
    "PELSVAE",
    "build_pelsvae",
    "count_params",
    "INFERENCE_CHUNK",
    "inference_decoder_fn",
    "direct_graph_supported",
    "decode_chunked",
]
