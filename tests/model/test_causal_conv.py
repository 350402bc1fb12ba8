"""The fast TCN kernels (issue 14): ``dilated_causal_conv1d`` and ``causal_conv.TCN`` compute keras-tcn's
arithmetic, forward and backward, to float tolerance, use the dropout layers' own masks, and give
the same training step as the plain keras-tcn layers."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from tests.fixtures.model import tiny_model_config

DILATIONS = [1, 2, 4, 8, 16, 32, 64]


@contextlib.contextmanager
def _floatx(name):
    import keras

    old, old_policy = keras.config.floatx(), keras.config.dtype_policy().name
    keras.config.set_floatx(name)
    keras.config.set_dtype_policy(name)  # Keras caches the global policy of the first layer built
    try:
        yield
    finally:
        keras.config.set_floatx(old)
        keras.config.set_dtype_policy(old_policy)


def _forward_and_grads(layer, x, g, training=True):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=training)
        loss = tf.reduce_sum(y * g[..., : y.shape[-1]] if y.shape.rank == 3 else y * g[:, -1, : y.shape[-1]])
    grads = tape.gradient(loss, [x] + layer.trainable_weights)
    return [y.numpy()] + [v.numpy() for v in grads]


def _rel(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def _twin_tcns(args, channels_in, seed=None):
    """keras-tcn's TCN and the package's with ``args``, built for ``channels_in`` inputs, the
    second holding the first's weights (``seed``: Keras' seed before each, for equal dropout
    seed generators)."""
    import keras
    from tcn import TCN

    from pelsvae_tf.model.causal_conv import TCN as FastTCN

    pair = []
    for cls in (TCN, FastTCN):
        if seed is not None:
            keras.utils.set_random_seed(seed)
        layer = cls(**args)
        layer.build((None, None, channels_in))
        pair.append(layer)
    for a, b in zip(pair[0].weights, pair[1].weights):
        b.assign(a)
    return pair


def _compare(plain, fast, x, g, tol, training=True):
    """Outputs and every gradient of the two TCNs on ``x`` agree to ``tol`` (relative to the
    largest entry)."""
    want = _forward_and_grads(plain, x, g, training=training)
    got = _forward_and_grads(fast, x, g, training=training)
    assert len(got) == len(want) > 5
    for i, (a, b) in enumerate(zip(got, want)):
        assert _rel(a, b) < tol, i
    return got


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("dilation", [1, 2, 3, 16, 40, 100])
def test_dilated_causal_conv_equals_keras_conv1d_with_gradients(dilation, dtype):
    """Forward, input, kernel and bias gradients equal Keras' causal Conv1D (1e-12 in float64,
    1e-5 in float32), for dilations whose taps reach before the first step entirely (40 x 4 > 50
    and 100 > 50: taps that see only padding), at a time length the graph learns at run time; in
    float32 with oneDNN the kernel gradient takes the whole-sequence route for dilations 2 and 3
    (taps see >= 65 % of the steps) and the per-tap route for the others."""
    import keras
    import tensorflow as tf

    from pelsvae_tf.model.causal_conv import dilated_causal_conv1d

    with _floatx(dtype):
        conv = keras.layers.Conv1D(5, 5, dilation_rate=dilation, padding="causal")
        conv.build((None, None, 3))
    rng = np.random.default_rng(dilation)
    conv.kernel.assign(rng.standard_normal(conv.kernel.shape))
    conv.bias.assign(rng.standard_normal(conv.bias.shape))
    x = tf.constant(rng.standard_normal((4, 50, 3)), dtype)
    g = tf.constant(rng.standard_normal((4, 50, 5)), dtype)
    tol = 1e-12 if dtype == "float64" else 1e-5

    @tf.function(input_signature=[tf.TensorSpec([None, None, 3], dtype)])
    def fast(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = dilated_causal_conv1d(x, conv.kernel, conv.bias, dilation)
            loss = tf.reduce_sum(y * g)
        return [y] + tape.gradient(loss, [x, conv.kernel, conv.bias])

    with tf.GradientTape() as tape:
        tape.watch(x)
        y = conv(x)
        loss = tf.reduce_sum(y * g)
    want = [y] + tape.gradient(loss, [x, conv.kernel, conv.bias])
    got = fast(x)
    for name, a, b in zip(("output", "d/dx", "d/dkernel", "d/dbias"), got, want):
        assert _rel(a.numpy(), b.numpy()) < tol, name
    # causality: the output at step t does not depend on later inputs
    x2 = tf.concat([x[:, :30], tf.zeros_like(x[:, 30:])], axis=1)
    np.testing.assert_allclose(
        dilated_causal_conv1d(x2, conv.kernel, conv.bias, dilation).numpy()[:, :30], got[0].numpy()[:, :30], atol=tol
    )


def test_dilated_causal_conv_refuses_a_bad_dilation():
    import tensorflow as tf

    from pelsvae_tf.model.causal_conv import dilated_causal_conv1d

    with pytest.raises(ValueError, match="dilation=0"):
        dilated_causal_conv1d(tf.zeros([1, 4, 2]), tf.zeros([3, 2, 2]), None, 0)


@pytest.mark.parametrize(
    "kw",
    [
        dict(nb_filters=6, use_skip_connections=True, return_sequences=True, use_layer_norm=True),
        dict(nb_filters=6, use_skip_connections=True, return_sequences=False, use_layer_norm=True),
        dict(nb_filters=[3, 4, 6, 6, 6, 6, 6], use_skip_connections=False, return_sequences=True, use_layer_norm=True),
        dict(nb_filters=6, use_skip_connections=True, return_sequences=True, use_layer_norm=False),
        dict(nb_filters=[3, 4, 6, 6, 6, 6, 6], use_skip_connections=False, return_sequences=False, use_layer_norm=True),
        dict(nb_filters=6, use_skip_connections=True, return_sequences=False, use_layer_norm=False),
    ],
    ids=["skip-sum", "last-step", "tapered", "no-norm", "tapered-last-step", "no-norm-last-step"],
)
def test_fast_tcn_equals_keras_tcn_forward_and_backward_in_float64(kw):
    """causal_conv.TCN and keras-tcn's TCN with the same weights: outputs and every gradient agree to
    1e-10 in float64 (the centred kernel + one-reduction layer norm and the hand-written gradients
    are the same function, not an approximation of it)."""
    import tensorflow as tf
    from tcn import TCN

    from pelsvae_tf.model.causal_conv import TCN as FastTCN

    args = dict(kernel_size=3, dilations=DILATIONS, padding="causal", dropout_rate=0.0, **kw)
    with _floatx("float64"):
        plain, fast = TCN(**args), FastTCN(**args)
        plain.build((None, None, 3))
        fast.build((None, None, 3))
        for i, (a, b) in enumerate(zip(plain.weights, fast.weights)):
            assert a.shape == b.shape
            v = np.random.default_rng(i).standard_normal(a.shape) * 0.3 + (1.0 if "gamma" in a.path else 0.0)
            a.assign(v)
            b.assign(v)
        rng = np.random.default_rng(7)
        for steps in (90, 77, 5):  # odd lengths: the last-step decimation aligns to the last step
            x = tf.constant(rng.standard_normal((4, steps, 3)))
            g = tf.constant(rng.standard_normal((4, steps, 6)))
            want = _forward_and_grads(plain, x, g)
            got = _forward_and_grads(fast, x, g)
            assert len(got) == len(want) > 20
            for i, (a, b) in enumerate(zip(got, want)):
                assert _rel(a, b) < 1e-10, (steps, i)
    # the encoder-like TCN takes the decimated route, the sequence-returning ones do not
    assert (fast._last_step_strides() is not None) == (not kw["return_sequences"])


def test_fast_tcn_draws_the_dropout_layers_own_masks():
    """With dropout in training, causal_conv.TCN multiplies by the masks keras-tcn's SpatialDropout1D
    layers would draw (same seed generators, same stream): equal outputs and gradients to a
    plain TCN seeded the same; and a second call draws new masks."""
    import tensorflow as tf

    args = dict(nb_filters=8, kernel_size=3, dilations=[1, 2, 4, 8], dropout_rate=0.4, use_layer_norm=True)
    plain, fast = _twin_tcns(args, 2, seed=3)
    rng = np.random.default_rng(1)
    x = tf.constant(rng.standard_normal((5, 40, 2)).astype("float32"))
    g = tf.constant(rng.standard_normal((5, 40, 8)).astype("float32"))
    got = _compare(plain, fast, x, g, 1e-4)
    # dropout really acted: whole channels are zero in the skip sum's inputs of the first block...
    again = fast(x, training=True).numpy()
    assert np.abs(again - got[0]).max() > 1e-3  # ...and the next call draws new masks
    np.testing.assert_allclose(fast(x, training=False).numpy(), plain(x, training=False).numpy(), atol=1e-5)


def test_fast_tcn_same_padding_runs_keras_tcn_code():
    import tensorflow as tf

    args = dict(nb_filters=4, kernel_size=3, dilations=[1, 2], padding="same", use_layer_norm=True)
    plain, fast = _twin_tcns(args, 2)
    x = tf.constant(np.random.default_rng(0).standard_normal((2, 20, 2)).astype("float32"))
    np.testing.assert_array_equal(fast(x).numpy(), plain(x).numpy())


def test_training_step_with_fast_and_keras_tcn_is_the_same_and_weights_interchange():
    """One training step of the cVAE-P (decoder subsample 1, dropout 0) from the same weights
    with tcn_impl='fast' and 'keras' gives the same loss and updated weights (float32 tolerance);
    a model built with either implementation takes the other's weights and predicts the same."""
    import keras

    from pelsvae_tf.model import build_pelsvae

    rng = np.random.default_rng(0)
    n, t = 8, 60
    phase = np.sort(rng.random((n, t)), axis=1).astype("float32")
    batch = {
        "phase": phase,
        "mag": (0.5 + 0.3 * np.sin(2 * np.pi * phase)).astype("float32"),
        "err": np.full((n, t), 0.03, "float32"),
        "class_onehot": np.eye(8, dtype="float32")[rng.integers(0, 8, n)],
        "phys": rng.random((n, 3)).astype("float32"),
    }
    models = {}
    for impl in ("fast", "keras"):
        cfg = tiny_model_config(
            physics=("teff", "abs_gmag", "period"), seq_len=t, dropout=0.0, decoder_subsample=1.0, tcn_impl=impl
        )
        models[impl] = build_pelsvae(cfg)
        models[impl](batch)
    for a, b in zip(models["keras"].weights, models["fast"].weights):
        b.assign(a)
    np.testing.assert_allclose(
        models["fast"](batch)["mag"].numpy(), models["keras"](batch)["mag"].numpy(), rtol=0, atol=1e-5
    )
    before = [w.numpy() for w in models["keras"].trainable_weights]
    logs = {}
    for impl, model in models.items():
        keras.utils.set_random_seed(0)  # same latent draw in both steps
        model.compile(optimizer=keras.optimizers.SGD(0.05))
        logs[impl] = model.train_on_batch(batch, return_dict=True)
    assert logs["fast"]["loss"] == pytest.approx(logs["keras"]["loss"], rel=1e-4)
    for a, b in zip(models["keras"].trainable_weights, models["fast"].trainable_weights):
        scale = max(float(np.abs(a.numpy()).max()), 1e-3)
        assert float(np.abs(a.numpy() - b.numpy()).max()) < 1e-4 * scale + 1e-6, a.path
    moved = sum(not np.array_equal(w.numpy(), v) for w, v in zip(models["keras"].trainable_weights, before))
    assert moved > len(before) // 2  # the step did change the weights


def test_bad_tcn_impl_is_named():
    from pelsvae_tf.model import ModelConfig

    with pytest.raises(ValueError, match=r"ModelConfig\.tcn_impl='torch'.*fast"):
        ModelConfig(tcn_impl="torch")


def test_weights_files_load_across_tcn_implementations(tmp_path):
    """A model saved with keras-tcn's layers (every model made before tcn_impl existed, the shipped
    one included) loads into the fast implementation and back: the weights file names the layer
    ``tcn`` either way."""
    from pelsvae_tf.model import build_pelsvae

    rng = np.random.default_rng(0)
    phase = np.sort(rng.random((3, 40)), axis=1).astype("float32")
    batch = {
        "phase": phase,
        "mag": phase,
        "err": np.full((3, 40), 0.03, "float32"),
        "class_onehot": np.eye(8, dtype="float32")[[0, 1, 2]],
        "phys": rng.random((3, 3)).astype("float32"),
    }
    models = {
        impl: build_pelsvae(tiny_model_config(physics=("teff", "abs_gmag", "period"), seq_len=40, tcn_impl=impl))
        for impl in ("keras", "fast")
    }
    for m in models.values():
        m(batch)
    for w in models["keras"].weights:  # weights unlike the other model's initial ones
        w.assign(w.numpy() + 0.01)
    path = tmp_path / "keras_impl.weights.h5"
    models["keras"].save_weights(path)
    models["fast"].load_weights(path)
    np.testing.assert_allclose(
        models["fast"](batch)["mag"].numpy(), models["keras"](batch)["mag"].numpy(), rtol=0, atol=1e-5
    )


@pytest.mark.parametrize("share", [0.0, 1.01])
def test_both_kernel_gradient_routes_equal_keras(share, monkeypatch):
    """The kernel gradient's two routes (tap by tap; oneDNN's whole-sequence filter gradient,
    float32 only) each equal Keras' gradient, whichever the sequence length would pick."""
    import keras
    import tensorflow as tf

    from pelsvae_tf.model import causal_conv

    if share > 1 and not causal_conv._dilated_filter_gradient(tf.float32):
        pytest.skip("no oneDNN here: the whole-sequence route is never taken")
    monkeypatch.setattr(causal_conv, "PER_TAP_BELOW", share)  # 0: never per tap; 1.01: always
    rng = np.random.default_rng(4)
    for dilation in (2, 8, 32):
        conv = keras.layers.Conv1D(6, 5, dilation_rate=dilation, padding="causal")
        conv.build((None, None, 4))
        x = tf.constant(rng.standard_normal((3, 70, 4)).astype("float32"))
        g = tf.constant(rng.standard_normal((3, 70, 6)).astype("float32"))
        grads = []
        for fn in (lambda x: conv(x), lambda x: causal_conv.dilated_causal_conv1d(x, conv.kernel, conv.bias, dilation)):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(fn(x) * g)
            grads.append(tape.gradient(loss, conv.kernel).numpy())
        assert _rel(grads[1], grads[0]) < 1e-5, dilation


@pytest.mark.parametrize(
    "kw",
    [
        dict(go_backwards=True),
        dict(use_batch_norm=True, use_layer_norm=False),
        dict(activation="tanh"),
        dict(nb_stacks=2, return_sequences=False),
        dict(dilations=[1, 3, 4], return_sequences=False),
    ],
    ids=["go-backwards", "batch-norm", "tanh", "two-stacks", "first-dilation-2"],
)
def test_configurations_the_fast_path_does_not_cover_equal_keras_tcn(kw):
    """What the fast code does not cover falls back to keras-tcn's arithmetic (go_backwards: its
    call; batch norm, tanh: its layers block by block; two stacks: no last-step decimation), and
    dilations keras-tcn rewrites ([1, 3, 4] -> [2, 8, 16]: the encoder decimates by 2 before the
    first block): outputs and gradients equal keras-tcn's (inference mode, no dropout)."""
    import tensorflow as tf

    args = dict(nb_filters=5, kernel_size=3, dilations=[1, 2, 4], dropout_rate=0.0, use_layer_norm=True)
    args.update(kw)
    plain, fast = _twin_tcns(args, 2)
    rng = np.random.default_rng(2)
    x = tf.constant(rng.standard_normal((3, 30, 2)).astype("float32"))
    g = tf.constant(rng.standard_normal((3, 30, 5)).astype("float32"))
    _compare(plain, fast, x, g, 1e-5, training=False)


def test_under_op_determinism_the_keras_layer_norm_route_equals_keras_tcn():
    """Under op determinism (training's default) the blocks use Keras' layer norm on the centred
    convolution instead of the fused gradient: still keras-tcn's function to 1e-10 in float64,
    with dropout on (same masks), returning every step and only the last."""
    import tensorflow as tf

    from pelsvae_tf.determinism import op_determinism

    for return_sequences in (True, False):
        args = dict(
            nb_filters=6,
            kernel_size=3,
            dilations=DILATIONS,
            dropout_rate=0.3,
            use_layer_norm=True,
            return_sequences=return_sequences,
        )
        with _floatx("float64"), op_determinism(True):
            plain, fast = _twin_tcns(args, 3, seed=5)
            rng = np.random.default_rng(9)
            x = tf.constant(rng.standard_normal((4, 77, 3)))
            g = tf.constant(rng.standard_normal((4, 77, 6)))
            _compare(plain, fast, x, g, 1e-10)
