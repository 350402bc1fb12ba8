"""A faster dilated causal convolution for training, and a keras-tcn ``TCN`` that uses it.

Why: on CPU, TensorFlow has no gradient kernel for a dilated convolution
(``Conv2DBackpropInput`` fails with "Current CPU implementations do not yet support dilation rates
larger than 1"), so a Keras ``Conv1D`` with ``dilation_rate > 1`` runs through
``SpaceToBatchND`` / ``BatchToSpaceND``: the sequence, with its causal padding, is cut into
``dilation`` interleaved copies, convolved and put back. Those copies cost memory passes, and
at dilations near the sequence length the padded zeros dominate: on [128, 600, 48], a forward +
gradient pass of one kernel-5 convolution + layer norm took 46 ms at dilation 1 and 108 ms at
dilation 256 (``benchmarks/bench_torch_baseline.py --conv-micro``).

:func:`dilated_causal_conv1d` computes the same convolution with a hand-written gradient whose
every part has a fast CPU kernel:

- forward: one ``tf.nn.conv2d`` with ``dilations`` and *explicit* left padding (no padded copy,
  no SpaceToBatch; the kernel the inference graph already uses);
- input gradient: the transposed convolution is itself a forward dilated convolution, with the
  kernel reversed in time and transposed in channels and the padding on the right
  (``dx[t] = sum_k dy[t + (K-1-k) d] W_k^T``);
- kernel gradient: TensorFlow's ``Conv2DBackpropFilter`` (which does take dilations on CPU) on a
  padded copy, or, where the causal padding fills much of the taps' view (dilations near the
  sequence length), one matrix product per tap over the steps where that tap sees data
  (``dW_k = sum_t x[t - (K-1-k) d]^T dy[t]``), so the padding's zeros are never multiplied (at
  dilation 256 of a 600-step sequence, 2 of the 5 taps see none); chosen at run time from the
  sequence length (:data:`PER_TAP_BELOW`); without oneDNN (or in float64) always tap by tap;
- bias gradient: a sum.

:class:`TCN` (this module's) is a subclass of keras-tcn's ``TCN`` (same arguments, weights, weight
names and ``get_config``) whose ``call`` computes keras-tcn's residual-block arithmetic from the
blocks' own layers with three changes, none of which changes the function: the convolutions above;
a layer norm after a convolution as one reduction on the output of the convolution's weights
centred over its output channels, with ReLU and spatial dropout in one hand-written gradient
(:func:`centred_norm_relu_dropout`, masks drawn by the dropout layers themselves; under op
determinism Keras' layer norm on the centred output instead); and, for a TCN
that returns only its last step (the encoder), only the steps that step depends on
(:meth:`TCN._last_step_strides`: about 4 T convolution outputs instead of 18 T for 9 blocks).
Outputs and gradients equal keras-tcn's to 1e-10 in float64 (``tests/model/test_causal_conv.py``);
configurations it does not cover (``'same'`` padding, ``go_backwards``, a non-TensorFlow backend)
run keras-tcn's own ``call``. ``ModelConfig(tcn_impl="keras")`` builds the plain keras-tcn ``TCN``.
"""

from __future__ import annotations

import inspect

import keras
import tensorflow as tf
from tcn import TCN as KerasTCN

from pelsvae_tf import determinism

#: below this share of (tap, step) pairs that see data rather than causal padding, the kernel gradient
#: is computed tap by tap; above it, by TensorFlow's Conv2DBackpropFilter on a padded copy (measured
#: on [128, 600, 48], 2 AMD EPYC cores: 10-15 ms for the latter whatever the dilation; 19 ms for all
#: five taps at a full share, 11 ms at a 57 % share, 6 ms at 34 %)
PER_TAP_BELOW = 0.65


def _dilated_filter_gradient(dtype) -> bool:
    """Whether TensorFlow's CPU ``Conv2DBackpropFilter`` takes dilations here: only its oneDNN
    kernel does (float32, oneDNN on: ``TF_ENABLE_ONEDNN_OPTS`` not 0); the Eigen fallback refuses
    them ("Current CPU implementations do not yet support dilation rates larger than 1")."""
    if tf.as_dtype(dtype) != tf.float32:
        return False
    try:
        from tensorflow.python.util import _pywrap_util_port

        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):  # private API moved: the per-tap route always works
        return False


def causal_conv_forward(x, kernel, bias, dilation: int):
    """Forward pass of a causal dilated 1-D convolution: one ``tf.nn.conv2d`` with ``dilations`` and
    explicit left padding (no padded copy, no SpaceToBatch) and a ``bias_add`` the oneDNN remapper
    fuses into it. Used by the inference graph (:mod:`pelsvae_tf.model.inference`) and as the
    forward of :func:`dilated_causal_conv1d`; TensorFlow's CPU kernels have no gradient for it at
    ``dilation > 1``. Shapes and units as :func:`dilated_causal_conv1d`."""
    span = (int(kernel.shape[0]) - 1) * int(dilation)
    y = tf.nn.conv2d(
        x[:, None],
        kernel[None],
        strides=1,
        padding=[[0, 0], [0, 0], [span, 0], [0, 0]],
        dilations=[1, 1, int(dilation), 1],
    )
    return (y if bias is None else tf.nn.bias_add(y, bias))[:, 0]


def centred_conv_weights(kernel, bias):
    """``(kernel - mean_o kernel, bias - mean_o bias)``: a convolution's weights centred over its
    output channels. Its output is the original output minus its channel mean (the channel mean of
    a convolution is the convolution with the mean kernel), exactly what a layer norm subtracts
    first: a layer norm after the centred convolution needs no mean pass."""
    kernel = tf.convert_to_tensor(kernel)
    bias = tf.convert_to_tensor(bias)
    return kernel - tf.reduce_mean(kernel, axis=-1, keepdims=True), bias - tf.reduce_mean(bias)


def dilated_causal_conv1d(x, kernel, bias, dilation: int):
    """Causal dilated 1-D convolution with a fast CPU gradient (see the module docstring).

    Args:
        x: [B, T, C_in] float inputs (channels last; T may be dynamic).
        kernel: [K, C_in, C_out] kernel, as a Keras ``Conv1D`` stores it (tap k multiplies the
            input ``(K - 1 - k) * dilation`` steps back).
        bias: [C_out] bias, or None.
        dilation: dilation rate in time steps (int >= 1).

    Returns:
        [B, T, C_out]: ``y[t] = sum_k x[t - (K-1-k) * dilation] @ kernel[k] + bias`` with zeros
        before the first step; equal to ``keras.layers.Conv1D(padding="causal")`` to float
        tolerance, and so are its gradients with respect to ``x``, ``kernel`` and ``bias``.
    """
    dilation = int(dilation)
    if dilation < 1:
        raise ValueError(f"dilated_causal_conv1d: dilation={dilation!r} must be an int >= 1")
    kernel = tf.convert_to_tensor(kernel)
    x = tf.convert_to_tensor(x, dtype=kernel.dtype)
    taps = int(kernel.shape[0])
    span = (taps - 1) * dilation
    if bias is None:
        bias = tf.zeros([tf.shape(kernel)[2]], kernel.dtype)
    bias = tf.convert_to_tensor(bias, dtype=kernel.dtype)

    @tf.custom_gradient
    def conv(x, kernel, bias):
        y = causal_conv_forward(x, kernel, bias, dilation)

        def grad(dy):
            # the transposed causal convolution: an anti-causal one with the reversed, transposed kernel
            back = tf.transpose(tf.reverse(kernel, [0]), [0, 2, 1])
            dx = tf.nn.conv2d(
                dy[:, None],
                back[None],
                strides=1,
                padding=[[0, 0], [0, 0], [0, span], [0, 0]],
                dilations=[1, 1, dilation, 1],
            )[:, 0]
            steps = tf.shape(x)[1]
            shifts = [(taps - 1 - k) * dilation for k in range(taps)]  # tap k multiplies x[t - shift]
            seen = [tf.maximum(steps - shift, 0) for shift in shifts]  # steps where a tap sees data

            def per_tap():  # one product per tap over the steps it sees: padding never multiplied
                return tf.stack([tf.einsum("btc,bto->co", x[:, :n], dy[:, s:]) for n, s in zip(seen, shifts)])

            def whole():  # TF's oneDNN filter-gradient kernel (it takes dilations) on a padded copy
                padded = tf.pad(x, [[0, 0], [span, 0], [0, 0]])[:, None]
                return tf.raw_ops.Conv2DBackpropFilter(
                    input=padded,
                    filter_sizes=tf.concat([[1], tf.shape(kernel)], axis=0),
                    out_backprop=dy[:, None],
                    strides=[1, 1, 1, 1],
                    padding="VALID",
                    dilations=[1, 1, dilation, 1],
                )[0]

            # the whole-sequence kernel ran in 0.55-0.75x the per-tap products' time when every
            # tap sees (nearly) every step ([128, 600, 48]); per tap wins once the taps see under
            # ~65 % of the steps in all (dilation >= 128 at 600 steps)
            if not _dilated_filter_gradient(x.dtype):
                return dx, per_tap(), tf.reduce_sum(dy, axis=[0, 1])
            seen_share = tf.cast(tf.add_n(seen), tf.float32) / tf.cast(taps * steps, tf.float32)
            d_kernel = tf.cond(seen_share < PER_TAP_BELOW, per_tap, whole)
            return dx, d_kernel, tf.reduce_sum(dy, axis=[0, 1])

        return y, grad

    return conv(x, kernel, bias)


def causal_conv1d(x, kernel, bias, dilation: int):
    """Causal 1-D convolution (``Conv1D(padding="causal")`` arithmetic) by the fastest measured route:
    :func:`dilated_causal_conv1d` for ``dilation > 1``; for ``dilation == 1`` Keras' own route (a
    padded copy and a plain convolution, which has a direct CPU gradient and measured as fast).
    Shapes and units as :func:`dilated_causal_conv1d`."""
    if int(dilation) > 1:
        return dilated_causal_conv1d(x, kernel, bias, dilation)
    taps = int(kernel.shape[0])
    y = tf.nn.conv1d(tf.pad(x, [[0, 0], [taps - 1, 0], [0, 0]]), kernel, stride=1, padding="VALID")
    return y if bias is None else tf.nn.bias_add(y, bias)


def centred_norm_relu_dropout(h, gamma, beta, epsilon: float, mask=None):
    """``relu(layer_norm(h)) * mask`` for the output ``h`` of a convolution with centred weights.

    A convolution whose kernel and bias are centred over the output channels
    (``W - mean_o W``, ``b - mean_o b``) gives exactly the mean-subtracted output of the uncentred
    one (the channel mean of a convolution is the convolution with the mean kernel), so Keras'
    ``LayerNormalization`` of the uncentred output equals ``h * rsqrt(mean(h^2) + epsilon) * gamma
    + beta`` here: one reduction instead of two, and a hand-written gradient with fewer passes over
    the activations than TensorFlow's generated one (the layer-norm chain is memory-bound: every
    pass over a [128, 600, 48] float32 tensor costs ~0.5-1 ms on 2 cores).

    Args:
        h: [B, T, C] float, zero mean over the last axis.
        gamma, beta: [C] layer-norm scale and offset.
        epsilon: layer-norm epsilon (variance units).
        mask: None or a [B, 1, C] spatial-dropout mask (0 or ``1 / (1 - rate)``).

    Returns:
        [B, T, C], ``h``'s dtype. Gradients with respect to ``gamma`` and ``beta`` are exact; the
        gradient with respect to ``h`` leaves out the layer norm's ``-mean_c(dL/dxhat) * r`` term,
        which is the same for every channel of a step: exact for ``h`` from
        :func:`centred_conv_weights` (whose backward removes any such term on its way to the
        kernel, bias and input; the float64 tests check the whole chain to 1e-10), not for an
        arbitrary zero-mean ``h``. No gradient for the mask.
    """
    eps = float(epsilon)
    has_mask = mask is not None
    h = tf.convert_to_tensor(h)
    gamma = tf.convert_to_tensor(gamma, dtype=h.dtype)  # variables are read here, outside the custom gradient
    beta = tf.convert_to_tensor(beta, dtype=h.dtype)

    @tf.custom_gradient
    def unit(h, gamma, beta, *maybe_mask):
        r = tf.math.rsqrt(tf.reduce_mean(tf.square(h), axis=-1, keepdims=True) + eps)
        xhat = h * r
        y = tf.nn.relu(xhat * gamma + beta)
        if has_mask:
            y = y * maybe_mask[0]

        def grad(dy):
            dz = tf.where(y > 0, dy * maybe_mask[0] if has_mask else dy, tf.zeros_like(dy))
            d_gamma = tf.reduce_sum(dz * xhat, axis=[0, 1])
            d_beta = tf.reduce_sum(dz, axis=[0, 1])
            dxh = dz * gamma
            dh = r * (dxh - xhat * tf.reduce_mean(dxh * xhat, axis=-1, keepdims=True))
            return (dh, d_gamma, d_beta) + ((tf.zeros_like(maybe_mask[0]),) if has_mask else ())

        return y, grad

    return unit(h, gamma, beta, *([mask] if has_mask else []))


def _linear_causal_conv(layer) -> bool:
    return (
        isinstance(layer, keras.layers.Conv1D)
        and layer.padding == "causal"
        and tuple(layer.strides) == (1,)
        and layer.data_format == "channels_last"
        and layer.use_bias
        and getattr(layer.activation, "__name__", "") == "linear"
    )


def _plain_layer_norm(layer) -> bool:
    return (
        isinstance(layer, keras.layers.LayerNormalization)
        and list(layer.axis) in ([-1], [2])
        and layer.center
        and layer.scale
        and not layer.rms_scaling
    )


def _is_relu(layer) -> bool:
    return isinstance(layer, keras.layers.Activation) and getattr(layer.activation, "__name__", "") == "relu"


def _block_units(block):
    """keras-tcn residual block layers as ``[(conv, norm or None, dropout)] * n`` when they are
    ``[Conv1D causal linear, (LayerNormalization), Activation relu, SpatialDropout1D] * n`` followed
    by ``Activation relu`` (what :class:`TCN` fuses), else None."""
    layers = list(block.layers)
    if not layers or not _is_relu(layers[-1]) or not _is_relu(block.final_activation):
        return None
    units, i = [], 0
    body = layers[:-1]
    while i < len(body):
        conv = body[i]
        if not _linear_causal_conv(conv):
            return None
        i += 1
        norm = None
        if i < len(body) and isinstance(body[i], keras.layers.LayerNormalization):
            if not _plain_layer_norm(body[i]):
                return None
            norm, i = body[i], i + 1
        if i + 1 >= len(body) or not _is_relu(body[i]) or not isinstance(body[i + 1], keras.layers.SpatialDropout1D):
            return None
        units.append((conv, norm, body[i + 1]))
        i += 2
    return units or None


def _dropout_mask(dropout, h, training):
    """The [B, 1, C] mask ``dropout`` (a ``SpatialDropout1D``) would multiply ``h`` by, drawn
    from the layer's own seed generator (the same stream as calling it on ``h``), or None when
    it would pass ``h`` through."""
    if not training or float(dropout.rate) <= 0.0:
        return None
    shape = tf.shape(h)
    return dropout(tf.ones([shape[0], 1, shape[2]], h.dtype), training=True)


def _accepts_training(layer) -> bool:
    return "training" in inspect.signature(layer.call).parameters


@keras.saving.register_keras_serializable(package="pelsvae")
class TCN(KerasTCN):
    """keras-tcn's ``TCN`` computing its residual blocks with fewer, faster kernels.

    Same constructor arguments, weights and configuration as ``tcn.TCN`` (a drop-in subclass). It
    keeps the class name ``TCN`` on purpose: Keras names a layer's entry in a weights file after
    its class, so models saved with either class load into the other.
    ``call`` runs keras-tcn's residual-block arithmetic from the blocks' own layers and weights:
    each ``conv -> layer norm -> ReLU -> spatial dropout`` unit is :func:`causal_conv1d` with the
    kernel and bias centred over the output channels, then :func:`centred_norm_relu_dropout`
    with the layer norm's weights and the dropout layer's own mask (same seed stream; under op
    determinism the layer norm layer itself, see ``_block``); a block without layer norm uses the
    plain kernel and ``relu(h) * mask``. The ReLU after the units
    (keras-tcn's ``Act_Conv_Blocks``) is the identity on their non-negative output and is
    skipped. A TCN that returns only its last step (the encoder's) computes only the steps that
    step depends on (:meth:`_last_step_strides`). Blocks of another layout, ``'same'`` padding,
    ``go_backwards`` and non-TensorFlow backends run keras-tcn's own code. Outputs and gradients
    equal the plain ``TCN``'s to float tolerance (``tests/model/test_causal_conv.py``); the
    speed-up is in BENCHMARKS.md.
    """

    def _fast_path(self) -> bool:
        return (
            keras.backend.backend() == "tensorflow"
            and self.padding == "causal"
            and not getattr(self, "go_backwards", False)
            # mixed precision: Keras' layer norm computes in float32 with float32 weights; the
            # fused kernels here assume one dtype throughout
            and self.compute_dtype in ("float32", "float64")
        )

    def _block(self, block, x, training, stride: int = 1):
        """One residual block: ``(block output, skip output)``. ``stride``: the block sees every
        ``stride``-th step of its input sequence (aligned to the last one), so its convolutions run
        at ``dilation / stride`` (see :meth:`_last_step_strides`)."""
        units = _block_units(block)
        if units is None:  # keras-tcn's ResidualBlock.call, layer by layer
            h = x
            for layer in block.layers:
                h = layer(h, training=training) if _accepts_training(layer) else layer(h)
        else:
            h = x
            for conv, norm, dropout in units:
                kernel, bias = tf.convert_to_tensor(conv.kernel), tf.convert_to_tensor(conv.bias)
                if norm is not None:  # centred: the conv output has zero channel mean
                    kernel, bias = centred_conv_weights(kernel, bias)
                h = causal_conv1d(h, kernel, bias, int(conv.dilation_rate[0]) // stride)
                mask = _dropout_mask(dropout, h, training)
                if norm is not None and not determinism.is_enabled():
                    h = centred_norm_relu_dropout(h, norm.gamma, norm.beta, norm.epsilon, mask)
                else:
                    # Keras' layer norm (on the centred output: the same numbers) under op
                    # determinism (`pelsvae train`'s default): with the fused gradient, two
                    # trainings beside other work on 2 cores (one interrupted and resumed) differed
                    # in the weights' last bits; with this they did not (test_reproducibility.py)
                    h = tf.nn.relu(h if norm is None else norm(h))
                    h = h if mask is None else h * mask
        return block.final_activation(block.shape_match_conv(x) + h), h

    def _last_step_strides(self) -> list[int] | None:
        """For a TCN that returns only its last step: each block's decimation of its input, or None.

        The last step of a causal TCN depends on block ``b``'s input only at the steps
        ``T - 1 - m * d_b`` (``d_b`` its dilation): its convolutions read their input ``d_b``
        steps apart, and the next block (dilation ``d_{b+1}``, a multiple of ``d_b``) needs its
        output only at multiples of ``d_{b+1}`` from the end. So block ``b`` can run on every
        ``d_b``-th step (aligned to the last) at dilation 1, the next on every second of those,
        and so on: the same numbers at the last step, and about ``4 T`` convolution outputs for the
        whole stack instead of ``2 T`` per block (18 T for 9 blocks). Needs every block in the
        fused layout and each dilation a multiple of the previous one (keras-tcn's powers of two
        in one stack); returns the decimation before each block (``d_1, d_2 / d_1, ...``).
        """
        if self.return_sequences or getattr(self, "nb_stacks", 1) != 1:
            return None
        strides, previous = [], 1
        for block in self.residual_blocks:
            units = _block_units(block)
            d = int(block.dilation_rate)
            if units is None or d % previous or any(int(c.dilation_rate[0]) != d for c, _, _ in units):
                return None
            strides.append(d // previous)
            previous = d
        return strides

    def call(self, inputs, training=None, **kwargs):
        if not self._fast_path():
            return super().call(inputs, training=training, **kwargs)
        strides = self._last_step_strides()
        x = inputs
        self.layers_outputs = [x]  # with strides: the decimated sequences each block saw
        self.skip_connections = []
        dilation = 1
        for i, block in enumerate(self.residual_blocks):
            if strides is not None and strides[i] > 1:
                # keep every strides[i]-th step, aligned to the last one
                first = tf.math.floormod(tf.shape(x)[1] - 1, strides[i])
                x = x[:, first :: strides[i]]
                dilation *= strides[i]
            x, skip = self._block(block, x, training, stride=dilation)
            self.skip_connections.append(skip[:, -1:] if strides is not None else skip)
            self.layers_outputs.append(x)
        if self.use_skip_connections:
            x = tf.add_n(self.skip_connections) if len(self.skip_connections) > 1 else self.skip_connections[0]
            self.layers_outputs.append(x)
        if not self.return_sequences:
            x = x[:, -1, :]  # causal: the last step
            self.layers_outputs.append(x)
        return x
