"""Fast inference with a trained decoder: the direct TCN graph, ``inference_decoder_fn``, chunked decoding.

Also :func:`static_subsample_problem`: whether the XLA-compiled train step's static-length decoder
subset would differ from the variable-length one (a property of the decoder's graph).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from pelsvae_tf.model.causal_conv import causal_conv_forward, centred_conv_weights
from pelsvae_tf.model.config import ModelConfig
from pelsvae_tf.model.layers import _time_features


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
        return (
            "ModelConfig.decoder_subsample < 1 needs decoder_padding='causal': a 'same'-padded decoder "
            f"would see the unscored points XLA keeps at the end of each sequence; {fix}"
        )
    if config.tcn_norm == "batch":
        return (
            "ModelConfig.decoder_subsample < 1 with tcn_norm='batch': the unscored points XLA keeps would "
            f"enter the batch statistics; use tcn_norm='layer', or {fix}"
        )
    return None


#: Recommended curves per inference decoder call (the chunk size of :func:`decode_chunked`), measured
#: with ``benchmarks/bench_torch_baseline.py`` (paper-best TCN, 2 AMD EPYC cores; BENCHMARKS.md,
#: "PyTorch side-by-side"): with the direct graph and plain ``tf.function``, 64-curve chunks ran
#: 1.16x faster than 32 and within 3 % of 128 at 300 points, within 3 % of 32 at 600 points
#: (2026-12-04, idle machine); with the Keras graph, 512-curve chunks (153,600 points) were 2.6x
#: slower than 8-curve chunks (300 points).
INFERENCE_CHUNK = 64


def _activation_name(layer) -> str | None:
    return getattr(getattr(layer, "activation", None), "__name__", None)


def _direct_layers(decoder: keras.Model, config: "ModelConfig | None" = None):
    """``(tcn, time_encoding, dense layers)`` when the decoder's own layers are what the direct
    graph computes (a forward causal keras-tcn TCN with layer norm or no norm and ReLU, ReLU dense
    layers ``decoder_dense_i``, sigmoid heads; with ``config``, as many dense layers as
    ``config.dense_units``), else ``None``. Read from the layers, so a decoder built without its
    ``ModelConfig`` at hand qualifies too."""
    names = {layer.name for layer in decoder.layers}
    if not {"decoder_tcn", "time_tagged_repeat", "mag_head", "err_head"} <= names:
        return None
    tcn = decoder.get_layer("decoder_tcn")
    if (
        tcn.padding != "causal"
        or tcn.use_batch_norm
        or getattr(tcn, "go_backwards", False)
        or getattr(tcn, "activation_name", None) != "relu"
    ):
        return None
    dense = []
    while f"decoder_dense_{len(dense)}" in names:
        dense.append(decoder.get_layer(f"decoder_dense_{len(dense)}"))
    if config is not None and len(dense) != len(config.dense_units):
        return None
    if any(_activation_name(layer) != "relu" for layer in dense) or any(
        _activation_name(decoder.get_layer(h)) != "sigmoid" for h in ("mag_head", "err_head")
    ):
        return None
    return tcn, decoder.get_layer("time_tagged_repeat").time_encoding, dense


def _direct_tcn_decoder(decoder: keras.Model, layers):
    """``fn(z, onehot, phase) -> (mag, err)`` computing the TCN decoder's inference pass from its weights.

    The same arithmetic as the Keras layers (keras-tcn residual blocks, layer norm, skip sum or
    chained blocks, dense stack, sigmoid heads), written as plain TF ops, equal to float tolerance:

    - every dilated causal convolution is one ``tf.nn.conv2d`` with ``dilations`` and *explicit*
      left padding (no ``tf.pad`` copy of the activations; the Keras ``Conv1D`` runs dilated
      convolutions through ``SpaceToBatchND`` / ``BatchToSpaceND``) and a ``bias_add`` the
      oneDNN remapper fuses into it;
    - a convolution followed by a layer norm uses its kernel and bias centred over the output
      channels (``W - mean_o W``, ``b - mean b``): its output then already has zero mean over the
      channels (the channel mean of a convolution is the convolution with the mean kernel), so
      the layer norm is ``h * rsqrt(mean(h^2) + eps) * gamma + beta``, one reduction instead of
      two and no subtraction pass;
    - no training-only op (dropout) is in the graph.

    Measured on 2 AMD EPYC cores (``benchmarks/bench_torch_baseline.py``, BENCHMARKS.md): 1.5x the
    previous direct graph (``conv1d`` on a padded copy, two-pass ``moments``). Weights are read at
    call time (variables), so the graph follows later weight updates.
    """
    tcn, time_encoding, dense = layers  # _direct_layers(decoder, ...)
    blocks = []
    for blk in tcn.residual_blocks:
        convs = [layer for layer in blk.layers if isinstance(layer, keras.layers.Conv1D)]
        norms = [layer for layer in blk.layers if isinstance(layer, keras.layers.LayerNormalization)]
        match = blk.shape_match_conv if isinstance(blk.shape_match_conv, keras.layers.Conv1D) else None
        blocks.append((int(blk.dilation_rate), convs, norms or [None, None], match))
    mag_head, err_head = decoder.get_layer("mag_head"), decoder.get_layer("err_head")
    skip_sum = bool(tcn.use_skip_connections)

    def per_step(x, layer):
        return tf.einsum("btc,co->bto", x, layer.kernel) + layer.bias

    def causal_conv(h, conv, dilation, centred):
        kernel, bias = tf.convert_to_tensor(conv.kernel), tf.convert_to_tensor(conv.bias)
        if centred:  # zero channel mean of the output: the layer norm needs no mean pass
            kernel, bias = centred_conv_weights(kernel, bias)
        return causal_conv_forward(h, kernel, bias, dilation)

    def fn(z, onehot, phase):
        steps = tf.shape(phase)[1]
        cond = tf.concat([z, onehot], axis=-1)
        x = tf.concat([tf.repeat(cond[:, None, :], steps, axis=1), _time_features(phase, time_encoding)], axis=-1)
        skips = None
        for dilation, convs, norms, match in blocks:
            h = x
            for conv, norm in zip(convs, norms):
                h = causal_conv(h, conv, dilation, centred=norm is not None)
                if norm is not None:  # h has zero mean over the channels (centred kernel)
                    var = tf.reduce_mean(tf.square(h), axis=-1, keepdims=True)
                    h = h * tf.math.rsqrt(var + norm.epsilon) * norm.gamma + norm.beta
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


def inference_decoder_fn(
    decoder: keras.Model, jit_compile: bool = False, graph: str = "direct", config: "ModelConfig | None" = None
):
    """The fastest measured way to run a decoder for generation: one inference graph.

    Args:
        decoder: a decoder built by :func:`build_decoder` (e.g. ``PELSVAE.decoder``).
        jit_compile: compile the graph with XLA. XLA compiles once per input shape: feed
            fixed-size chunks (:func:`decode_chunked` pads the last one). See BENCHMARKS.md for
            which is faster on which machine.
        graph: ``"direct"`` (default): the TCN decoder's inference pass written as plain TF ops
            from the decoder's weights (:func:`_direct_tcn_decoder`: one explicitly padded
            ``conv2d`` per dilated convolution instead of Keras' SpaceToBatchND path, centred
            kernels and a one-pass layer norm, no dropout ops), used for a causal TCN with layer
            or no norm; ``"keras"``: the decoder's own layers (``decoder(..., training=False)``).
        config: the decoder's :class:`ModelConfig` (optional, e.g. ``PELSVAE.model_config``):
            when given and :func:`direct_graph_supported` says no, the Keras layers are used;
            otherwise the direct graph is used whenever the decoder's own layers are a causal TCN
            with layer norm or no norm (read from the layers, so a decoder passed without its
            config gets the fast graph too).

    Returns:
        A ``tf.function`` ``fn(z, onehot, phase) -> (mag, err)``: ``z`` [B, D] float32 latents
        (units of the N(0, I) prior), ``onehot`` [B, C] float32 one-hot classes, ``phase`` [B, T]
        float32 phases in cycles; ``mag`` and ``err`` [B, T] float32 scaled magnitude and scaled
        error in [0, 1], equal to ``decoder(..., training=False)`` to float tolerance.
    """
    if graph not in ("direct", "keras"):
        raise ValueError(f"inference_decoder_fn: graph={graph!r}; use 'direct' or 'keras'")
    layers = _direct_layers(decoder, config) if graph == "direct" else None
    if layers is not None and (config is None or direct_graph_supported(config)):
        fn = _direct_tcn_decoder(decoder, layers)
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
