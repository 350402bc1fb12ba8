"""Model, layers and loss tests (issue 3): behaviour on hand-computed inputs, serialisation
across processes, variable-length decoding and bad configurations."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.model import tiny_model_config

ROOT = Path(__file__).resolve().parents[2]


def _batch(n=6, length=100, physics=3, seed=0):
    rng = np.random.default_rng(seed)
    phase = np.sort(rng.random((n, length)), axis=1).astype("float32")
    mag = (0.5 + 0.4 * np.sin(2 * np.pi * phase)).astype("float32")
    return {
        "phase": phase,
        "mag": mag,
        "err": np.full((n, length), 0.03, "float32"),
        "class_onehot": np.eye(8, dtype="float32")[rng.integers(0, 8, n)],
        "phys": rng.random((n, physics)).astype("float32"),
        "label": np.zeros(n, "int32"),
    }


# -- losses ------------------------------------------------------------------------------------
def test_weighted_mse_matches_hand_computation():
    from pelsvae_tf.model.losses import weighted_mse

    x = np.array([[0.0, 1.0]], "float32")
    x_hat = np.array([[0.1, 0.8]], "float32")
    sigma = np.array([[0.1, 0.2]], "float32")
    floor = 0.01
    expected = 0.5 * (0.1**2 / (0.1**2 + floor**2) + 0.2**2 / (0.2**2 + floor**2))
    got = float(weighted_mse(x, x_hat, sigma, floor)[0])
    assert got == pytest.approx(expected, rel=1e-5)
    # a zero quoted error is bounded by the floor, not infinite
    zero = float(weighted_mse(x, x_hat, np.zeros_like(sigma), floor)[0])
    assert zero == pytest.approx(0.5 * (0.01 + 0.04) / floor**2, rel=1e-5)


def test_error_kl_is_zero_iff_errors_match_and_follows_formula():
    from pelsvae_tf.model.losses import error_kl

    s = np.array([[0.05, 0.1, 0.2]], "float32")
    assert float(error_kl(s, s, 1e-6)[0]) == pytest.approx(0.0, abs=1e-6)
    s_hat = np.array([[0.1, 0.1, 0.1]], "float32")
    manual = np.mean(np.log(s_hat / s) + s**2 / (2 * s_hat**2) - 0.5)
    assert float(error_kl(s, s_hat, 1e-6)[0]) == pytest.approx(manual, rel=1e-4)
    assert manual > 0


def test_gaussian_kl_matches_closed_form():
    from pelsvae_tf.model.layers import gaussian_kl

    mu = np.array([[0.0, 0.0], [1.0, 2.0]], "float32")
    logvar = np.array([[0.0, 0.0], [math.log(4.0), 0.0]], "float32")
    kl = gaussian_kl(mu, logvar).numpy()
    assert kl[0] == pytest.approx(0.0, abs=1e-6)
    expected = 0.5 * (4 + 1 - math.log(4) - 1) + 0.5 * (1 + 4 - 0 - 1)
    assert kl[1] == pytest.approx(expected, rel=1e-5)


def test_loss_terms_paper_and_reference_combine_as_documented():
    from pelsvae_tf.model.layers import gaussian_kl
    from pelsvae_tf.model.losses import error_kl, loss_terms, mse, weighted_mse

    b = _batch(n=3, length=10)
    rng = np.random.default_rng(1)
    out = {
        "mag": np.clip(b["mag"] + rng.normal(0, 0.05, b["mag"].shape), 0, 1).astype("float32"),
        "err": np.full_like(b["err"], 0.05),
        "z_mean": rng.normal(size=(3, 4)).astype("float32"),
        "z_log_var": rng.normal(size=(3, 4)).astype("float32"),
    }
    p = {k: float(v) for k, v in loss_terms(b, out, kind="paper", beta=0.5, err_floor=0.01).items()}
    recon = float(np.mean(weighted_mse(b["mag"], out["mag"], b["err"], 0.01)))
    kl = float(np.mean(gaussian_kl(out["z_mean"], out["z_log_var"])))
    ekl = float(np.mean(error_kl(b["err"], out["err"], 0.01)))
    assert p["recon"] == pytest.approx(recon, rel=1e-5)
    assert p["loss"] == pytest.approx(recon + 0.5 * kl + ekl, rel=1e-5)
    r = {k: float(v) for k, v in loss_terms(b, out, kind="reference", beta=0.5).items()}
    plain = float(np.mean(mse(b["mag"], out["mag"])))
    assert r["recon"] == pytest.approx(plain, rel=1e-5)
    assert r["loss"] == pytest.approx(plain + 0.5 * kl / 1e4, rel=1e-5)
    # per-point ELBO weighting: the curve's KL shared over its T = 10 points (x 2: chi^2 = -2 log p)
    e = {k: float(v) for k, v in loss_terms(b, out, kind="elbo", beta=0.5, err_floor=0.01).items()}
    assert e["recon"] == pytest.approx(recon, rel=1e-5) and e["kl"] == pytest.approx(kl, rel=1e-5)
    assert e["loss"] == pytest.approx(recon + 0.5 * kl * 2 / 10 + ekl, rel=1e-5)
    # a point mask thins the reconstruction average, not the curve: T stays 10
    masked = {**b, "point_mask": (np.arange(10) % 2).astype("float32")}
    em = {k: float(v) for k, v in loss_terms(masked, out, kind="elbo", beta=0.5, err_floor=0.01).items()}
    assert em["loss"] - em["recon"] - em["err_kl"] == pytest.approx(0.5 * kl * 2 / 10, rel=1e-4)
    # 10 points that are a subset of a 40-point curve: the KL is shared over 40
    sub = {k: float(v) for k, v in loss_terms({**b, "n_points": 40}, out, kind="elbo", beta=0.5).items()}
    assert sub["loss"] - sub["recon"] - sub["err_kl"] == pytest.approx(0.5 * kl * 2 / 40, rel=1e-4)
    with pytest.raises(ValueError, match="loss kind"):
        loss_terms(b, out, kind="mse")


# -- layers ------------------------------------------------------------------------------------
def test_gaussian_latent_samples_are_seeded_reparameterised_and_right_moments():
    import tensorflow as tf

    from pelsvae_tf.model.layers import GaussianLatent

    mu = tf.fill([20000, 2], 2.0)
    logvar = tf.fill([20000, 2], math.log(0.25))
    a = GaussianLatent(seed=7)([mu, logvar], training=True).numpy()
    b = GaussianLatent(seed=7)([mu, logvar], training=True).numpy()
    np.testing.assert_array_equal(a, b)
    assert a.mean() == pytest.approx(2.0, abs=0.02)
    assert a.std() == pytest.approx(0.5, abs=0.02)
    # inference returns the mean; training gradients flow through mu (dz/dmu = 1)
    layer = GaussianLatent(seed=1)
    np.testing.assert_array_equal(layer([mu[:3], logvar[:3]], training=False).numpy(), mu[:3].numpy())
    m = tf.Variable(tf.zeros([5, 2]))
    with tf.GradientTape() as tape:
        z = layer([m, tf.zeros([5, 2])], training=True)
        s = tf.reduce_sum(z)
    np.testing.assert_allclose(tape.gradient(s, m).numpy(), 1.0)


def test_time_tagged_repeat_repeats_condition_and_tags_each_step():
    from pelsvae_tf.model.layers import TimeTaggedRepeat

    cond = np.array([[1.0, 2.0, 3.0]], "float32")
    phase = np.array([[0.1, 0.4, 0.9, 0.95]], "float32")
    out = TimeTaggedRepeat("phase")([cond, phase]).numpy()
    assert out.shape == (1, 4, 4)
    np.testing.assert_allclose(out[0, :, :3], np.repeat(cond, 4, axis=0))
    np.testing.assert_allclose(out[0, :, 3], phase[0])
    dt = TimeTaggedRepeat("dt")([cond, phase]).numpy()[0, :, 3]
    np.testing.assert_allclose(dt, [0.1, 0.3, 0.5, 0.05], atol=1e-6)


def test_layer_configs_round_trip():
    import keras

    from pelsvae_tf.model import layers as L

    for layer in (
        L.GaussianLatent(seed=3, sample_at_inference=True),
        L.TimeTaggedRepeat("dt"),
        L.SequenceFeatures("dt"),
        L.SqueezeLast(),
    ):
        clone = layer.__class__.from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
        name = keras.saving.get_registered_name(layer.__class__)
        assert name.startswith("pelsvae>")


# -- model -------------------------------------------------------------------------------------
def test_receptive_field_formula_matches_keras_tcn():
    from tcn import TCN

    cfg = tiny_model_config()
    assert cfg.receptive_field() == 1 + 2 * 4 * (1 + 2 + 4 + 8) == 121
    layer = TCN(nb_filters=4, kernel_size=cfg.kernel_size, dilations=list(cfg.dilations))
    assert layer.receptive_field == cfg.receptive_field()
    from pelsvae_tf.model import ModelConfig

    assert ModelConfig().receptive_field() == 4089  # paper's best model: k=5, 9 blocks


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"latent_dim": 0}, "latent_dim"),
        ({"arch": "transformer"}, "arch"),
        ({"n_blocks": 2, "kernel_size": 3}, "n_blocks"),
        ({"physics": ("teff", "mass")}, "physics"),
        ({"dropout": 1.0}, "dropout"),
        ({"dilation_base": 3}, "dilation_base"),
        ({"loss": "mae"}, "loss"),
    ],
)
def test_bad_model_configs_fail_with_field_name(changes, field):
    with pytest.raises(ValueError, match=f"ModelConfig.{field}"):
        tiny_model_config(**changes)


def test_short_receptive_field_error_says_how_many_blocks():
    with pytest.raises(ValueError, match=r"n_blocks >= 5"):
        tiny_model_config(n_blocks=2, kernel_size=3)
    with pytest.warns(UserWarning, match="receptive field"):
        tiny_model_config(n_blocks=2, kernel_size=3, receptive_field_check="warn")


def test_model_outputs_contract_and_missing_physics_is_clear():
    from pelsvae_tf.model import build_pelsvae

    model = build_pelsvae(tiny_model_config())
    out = model(_batch())
    assert set(out) == {"mag", "err", "z_mean", "z_log_var"}
    assert out["mag"].shape == (6, 100) and out["z_mean"].shape == (6, 4)
    for k in ("mag", "err"):
        v = out[k].numpy()
        assert v.min() >= 0.0 and v.max() <= 1.0
    b = _batch()
    del b["phys"]
    with pytest.raises(ValueError, match="phys"):
        model(b)
    # cVAE (no physics) ignores the phys key
    cvae = build_pelsvae(tiny_model_config(physics=()))
    assert "phys" not in cvae.encoder.input
    assert cvae(_batch())["mag"].shape == (6, 100)


@pytest.mark.parametrize("arch", ["gru", "lstm"])
def test_rnn_models_build_and_decode(arch):
    from pelsvae_tf.model import build_pelsvae

    model = build_pelsvae(tiny_model_config(arch=arch, hidden=4, rnn_layers=2))
    out = model(_batch(n=2, length=20))
    assert out["mag"].shape == (2, 20)


@pytest.mark.parametrize("time_encoding", ["phase", "dt"])
def test_decoder_accepts_any_number_of_steps(time_encoding):
    from pelsvae_tf.model import build_pelsvae

    model = build_pelsvae(tiny_model_config(time_encoding=time_encoding))
    z = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
    onehot = np.eye(8, dtype="float32")[[2, 5]]
    lengths = {}
    for t in (7, 100, 457):
        phase = np.sort(np.random.default_rng(t).random((2, t)), axis=1).astype("float32")
        out = model.decode(z, onehot, phase)
        lengths[t] = out["mag"].shape
        assert np.all(np.isfinite(out["mag"])) and np.all((out["err"].numpy() > 0) & (out["err"].numpy() < 1))
    assert lengths == {7: (2, 7), 100: (2, 100), 457: (2, 457)}
    # causal decoder: the prefix of a longer request equals the shorter request
    phase = np.sort(np.random.default_rng(9).random((2, 120)), axis=1).astype("float32")
    long = model.decode(z, onehot, phase)["mag"].numpy()
    short = model.decode(z, onehot, phase[:, :50])["mag"].numpy()
    np.testing.assert_allclose(short, long[:, :50], atol=1e-5)


def test_keras_file_round_trip_in_fresh_process(tmp_path):
    import keras

    from pelsvae_tf.model import build_pelsvae

    model = build_pelsvae(tiny_model_config(seed=3))
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    batch = _batch(n=8)
    model.fit(dict(batch), epochs=1, batch_size=4, verbose=0)  # weights and optimizer state non-trivial
    model.beta.assign(0.3)
    path = tmp_path / "m.keras"
    model.save(path)
    np.savez(tmp_path / "batch.npz", **batch)
    mine = model.predict(batch, verbose=0)
    script = textwrap.dedent(
        f"""
        import json, numpy as np, keras
        import pelsvae_tf.model.vae  # registers the classes
        m = keras.saving.load_model({str(path)!r})
        b = dict(np.load({str(tmp_path / "batch.npz")!r}))
        out = m.predict(b, verbose=0)
        np.savez({str(tmp_path / "out.npz")!r}, **out)
        print(json.dumps({{"cls": type(m).__name__, "beta": float(m.beta.numpy()),
                          "iters": int(m.optimizer.iterations.numpy()),
                          "phys": list(m.model_config.physics)}}))
        """
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    info = json.loads(res.stdout.strip().splitlines()[-1])
    assert info == {"cls": "PELSVAE", "beta": pytest.approx(0.3), "iters": 2, "phys": ["teff", "abs_gmag", "period"]}
    theirs = np.load(tmp_path / "out.npz")
    for k in ("mag", "err", "z_mean", "z_log_var"):
        np.testing.assert_array_equal(theirs[k], mine[k])


def test_same_seed_same_initial_model_and_samples():
    from pelsvae_tf.model import build_pelsvae

    b = _batch(n=4)
    a1 = build_pelsvae(tiny_model_config(seed=11))(b, training=True)["z_mean"].numpy()
    a2 = build_pelsvae(tiny_model_config(seed=11))(b, training=True)["z_mean"].numpy()
    a3 = build_pelsvae(tiny_model_config(seed=12))(b, training=True)["z_mean"].numpy()
    np.testing.assert_array_equal(a1, a2)
    assert not np.allclose(a1, a3)


def test_decoder_targets_are_sorted_random_subsets_of_the_points():
    """Training decodes a random phase-sorted subset (>= decoder_subsample of the points)."""
    import numpy as np
    import tensorflow as tf

    from pelsvae_tf.model import ModelConfig, build_pelsvae

    cfg = ModelConfig(hidden=4, n_blocks=3, kernel_size=7, seq_len=64, latent_dim=2, decoder_subsample=0.25)
    model = build_pelsvae(cfg)
    phase = np.sort(np.random.default_rng(0).uniform(0, 1, (3, 64)), axis=1).astype("float32")
    mag = (0.5 + 0.5 * np.sin(2 * np.pi * phase)).astype("float32")
    batch = {"phase": tf.constant(phase), "mag": tf.constant(mag), "err": tf.constant(mag * 0 + 0.01)}
    sizes = set()
    for _ in range(8):
        t = model._decoder_targets(batch)
        p = t["phase"].numpy()
        n = p.shape[1]
        sizes.add(n)
        assert 16 <= n <= 64 and int(t["n_points"]) == 64  # a subset of a 64-point curve
        assert np.all(np.diff(p, axis=1) > 0)  # still phase-sorted
        # the same points of every curve, with their own magnitudes
        np.testing.assert_allclose(t["mag"].numpy(), 0.5 + 0.5 * np.sin(2 * np.pi * p), atol=1e-5)
    assert len(sizes) > 1  # the length varies from batch to batch
    full = build_pelsvae(cfg.replace(decoder_subsample=1.0))._decoder_targets(batch)
    assert full["phase"].shape[1] == 64


# -- review fixes: input checks, rnn_layers, RNN dropout, err_floor=0, KL owned by the latent ------
def _broken(key, value_fn):
    b = _batch()
    b[key] = value_fn(b)
    return b


@pytest.mark.parametrize(
    "key, value_fn, pattern",
    [
        (
            "mag",
            lambda b: b["mag"][:, :90],
            r"'phase', 'mag' and 'err' must have the same number of time steps T.*mag: 90",
        ),
        ("err", lambda b: b["err"][:, :50], r"same number of time steps T.*err: 50"),
        (
            "phys",
            lambda b: np.zeros((6, 5), "float32"),
            r"'phys' has width 5.*physics=\('teff', 'abs_gmag', 'period'\) \(3 columns\)",
        ),
        ("class_onehot", lambda b: np.zeros((6, 7), "float32"), r"'class_onehot' has width 7.*n_classes=8"),
        ("phase", lambda b: b["phase"][0], r"'phase' has shape \(100,\) \(rank 1\); expected rank 2.*x\[None, :\]"),
        ("mag", lambda b: b["mag"][..., None], r"'mag' has shape \(6, 100, 1\) \(rank 3\)"),
        ("err", lambda b: b["err"][:4], r"disagree on the batch size.*err: 4"),
    ],
)
def test_bad_input_shapes_name_the_key_and_the_fix(key, value_fn, pattern):
    from pelsvae_tf.model import build_pelsvae

    model = build_pelsvae(tiny_model_config())
    with pytest.raises(ValueError, match=pattern):
        model(_broken(key, value_fn))
    with pytest.raises(ValueError, match=pattern):  # the same check guards encode()
        model.encode(_broken(key, value_fn))


def test_rnn_layers_is_checked_only_for_recurrent_architectures():
    assert tiny_model_config(rnn_layers=0).rnn_layers == 0  # TCN: the field is unused
    for arch in ("gru", "lstm"):
        with pytest.raises(ValueError, match=rf"ModelConfig.rnn_layers=0: a {arch.upper()} model needs"):
            tiny_model_config(arch=arch, rnn_layers=0)
        assert tiny_model_config(arch=arch, rnn_layers=2).rnn_layers == 2


@pytest.mark.parametrize("arch", ["gru", "lstm"])
def test_rnn_dropout_is_used_and_models_fit_and_round_trip(arch, tmp_path):
    import keras

    from pelsvae_tf.model import build_pelsvae

    cfg = tiny_model_config(arch=arch, hidden=4, rnn_layers=2, dropout=0.25, seq_len=20, seed=5)
    model = build_pelsvae(cfg)
    rnns = [
        layer
        for part in (model.encoder, model.decoder)
        for layer in part.layers
        if isinstance(layer, (keras.layers.GRU, keras.layers.LSTM))
    ]
    assert len(rnns) == 4 and all(layer.dropout == 0.25 for layer in rnns)
    assert all(layer.get_config()["dropout"] == 0.25 for layer in rnns)
    batch = _batch(n=8, length=20)
    # dropout is active in training: two training passes differ, inference passes agree
    a = model.encoder({k: batch[k] for k in model.encoder_input_names}, training=True)["z_mean"].numpy()
    b = model.encoder({k: batch[k] for k in model.encoder_input_names}, training=True)["z_mean"].numpy()
    assert not np.allclose(a, b)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    hist = model.fit(dict(batch), epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(hist.history["loss"][-1])
    _assert_reload_predicts_the_same(model, cfg, batch, tmp_path / f"{arch}.keras")


def _assert_reload_predicts_the_same(model, cfg, batch, path) -> None:
    """``model`` saved to ``path`` (.keras) and reloaded has config ``cfg`` and predicts the same."""
    import keras

    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.model_config == cfg
    mine, theirs = model.predict(batch, verbose=0), loaded.predict(batch, verbose=0)
    for k in ("mag", "err", "z_mean", "z_log_var"):
        np.testing.assert_array_equal(theirs[k], mine[k])


def test_err_floor_zero_is_the_plain_error_weighted_mse():
    from pelsvae_tf.model.losses import VARIANCE_EPS, error_kl, loss_terms, weighted_mse

    x = np.array([[0.2, 0.5, 0.9]], "float32")
    x_hat = np.array([[0.3, 0.5, 0.7]], "float32")
    sigma = np.array([[0.1, 0.05, 0.2]], "float32")
    # (0.1/0.1)^2 = 1, 0, (0.2/0.2)^2 = 1 -> mean 2/3 exactly; a floor would lower it
    assert float(weighted_mse(x, x_hat, sigma, floor=0.0)[0]) == pytest.approx(2.0 / 3.0, rel=1e-6)
    assert float(weighted_mse(x, x_hat, sigma, floor=0.01)[0]) < 2.0 / 3.0
    assert float(error_kl(sigma, sigma, floor=0.0)[0]) == pytest.approx(0.0, abs=1e-7)
    # a zero error is guarded: finite, (dx)^2 / VARIANCE_EPS
    zero = np.array([[0.0, 0.05, 0.2]], "float32")
    v = float(weighted_mse(x, x_hat, zero, floor=0.0)[0])
    assert np.isfinite(v) and v == pytest.approx((0.01 / VARIANCE_EPS + 1.0) / 3.0, rel=1e-3)
    out = {"mag": x_hat, "err": sigma, "z_mean": np.zeros((1, 2), "float32"), "z_log_var": np.zeros((1, 2), "float32")}
    terms = loss_terms({"mag": x, "err": sigma}, out, kind="paper", beta=0.75, err_floor=0.0)
    assert float(terms["recon"]) == pytest.approx(2.0 / 3.0, rel=1e-6)
    assert float(terms["loss"]) == pytest.approx(2.0 / 3.0, rel=1e-6)  # kl = err_kl = 0 here
    # the model accepts the paper's exact loss; a negative floor is refused with the field name
    assert tiny_model_config(err_floor=0.0).err_floor == 0.0
    with pytest.raises(ValueError, match=r"ModelConfig.err_floor=-0.1: must be a number >= 0"):
        tiny_model_config(err_floor=-0.1)


def test_loss_takes_the_kl_term_from_the_latent_layer(monkeypatch):
    from pelsvae_tf.model import build_pelsvae
    from pelsvae_tf.model.layers import gaussian_kl

    model = build_pelsvae(tiny_model_config())
    batch = _batch()
    out = model(batch)
    before = {k: float(v) for k, v in model.compute_loss_terms(batch, out).items()}
    mu, lv = out["z_mean"].numpy(), out["z_log_var"].numpy()
    closed = 0.5 * np.sum(np.exp(lv) + mu**2 - lv - 1.0, axis=-1)
    assert before["kl"] == pytest.approx(float(closed.mean()), rel=1e-5)
    np.testing.assert_allclose(model.latent.kl(mu, lv).numpy(), closed, rtol=1e-5)
    np.testing.assert_allclose(gaussian_kl(mu, lv).numpy(), closed, rtol=1e-5)
    calls = []
    original = model.latent.kl

    def spy(z_mean, z_log_var):
        calls.append(1)
        return 2.0 * original(z_mean, z_log_var)

    monkeypatch.setattr(model.latent, "kl", spy)
    after = {k: float(v) for k, v in model.compute_loss_terms(batch, out).items()}
    assert calls and after["kl"] == pytest.approx(2.0 * before["kl"], rel=1e-6)


def test_xla_subsample_path_scores_the_same_points_with_the_same_loss_and_trains():
    """Under jit_compile the decoder subset is kept at static length T (kept points first, the
    rest masked out of the loss). For the causal decoder this gives the same subset, the same
    decoded values and the same loss terms as the variable-length path; and XLA training runs."""
    import keras
    import tensorflow as tf

    from pelsvae_tf.model import build_pelsvae
    from pelsvae_tf.model.losses import loss_terms

    cfg = tiny_model_config(seq_len=100, decoder_subsample=0.3, dropout=0.0)
    model = build_pelsvae(cfg)
    batch = {k: tf.constant(v) for k, v in _batch().items()}
    z = model.encode(batch)["z_mean"]
    start = model.subsample_seed.state.numpy()
    terms, targets = {}, {}
    for jit in (False, True):
        model.subsample_seed.state.assign(start)  # the same random draw for both paths
        model.jit_compile = jit
        t = model._decoder_targets(batch)
        dec = model.decode(z, batch["class_onehot"], t["phase"])
        out = {"mag": dec["mag"], "err": dec["err"], "z_mean": z, "z_log_var": tf.zeros_like(z)}
        targets[jit], terms[jit] = t, loss_terms({**batch, **t}, out, latent=model.latent)
        terms[jit, "elbo"] = loss_terms({**batch, **t}, out, kind="elbo", latent=model.latent)
        targets[jit]["decoded"] = dec["mag"]
    dyn, static = targets[False], targets[True]
    n = dyn["phase"].shape[1]
    assert 30 <= n < 100 and static["phase"].shape[1] == 100  # static: every point, in a new order
    assert float(tf.reduce_sum(static["point_mask"])) == n
    for k in ("phase", "mag", "err", "decoded"):  # the kept points first, and the causal decoder
        np.testing.assert_allclose(static[k].numpy()[:, :n], dyn[k].numpy(), rtol=1e-5, atol=1e-6)
    assert np.all(np.diff(static["phase"].numpy()[:, :n], axis=1) > 0)
    for name in ("loss", "recon", "err_kl"):
        assert float(terms[True][name]) == pytest.approx(float(terms[False][name]), rel=1e-5)
    # "elbo" shares the KL over the whole 100-point curve on both paths, not over the n kept points
    assert int(dyn["n_points"]) == int(static["n_points"]) == 100
    for jit in (False, True):
        e = {k: float(v) for k, v in terms[jit, "elbo"].items()}
        assert e["loss"] - e["recon"] - e["err_kl"] == pytest.approx(0.75 * e["kl"] * 2 / 100, rel=1e-4)

    xla = build_pelsvae(cfg.replace(loss="elbo"))  # the KL weight with n_points under XLA
    xla.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=True)
    data = tf.data.Dataset.from_tensor_slices({k: v for k, v in _batch(n=16).items() if k != "label"}).batch(8)
    hist = xla.fit(data, epochs=2, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))


def test_jit_compile_with_a_same_padded_subsampled_decoder_is_refused_before_training(tiny_dataset, tmp_path):
    from pelsvae_tf.model import static_subsample_problem
    from pelsvae_tf.train.trainer import train
    from tests.fixtures.model import tiny_train_config

    with pytest.raises(ValueError, match="decoder_padding='causal'.*--decoder-subsample 1.*--jit-compile"):
        train(
            tiny_dataset.path,
            tmp_path / "r",
            tiny_model_config(decoder_padding="same"),
            tiny_train_config(jit_compile=True),
        )
    assert not (tmp_path / "r" / "checkpoints").exists()
    with pytest.raises(ValueError, match="tcn_norm='batch'.*batch statistics"):
        train(
            tiny_dataset.path, tmp_path / "r", tiny_model_config(tcn_norm="batch"), tiny_train_config(jit_compile=True)
        )
    # recurrent decoders are causal whatever decoder_padding says; no subset, nothing to check
    assert static_subsample_problem(tiny_model_config(arch="gru", decoder_padding="same")) is None
    assert static_subsample_problem(tiny_model_config(decoder_padding="same", decoder_subsample=1.0)) is None


# -- tapered ("reference") TCN and the inference decoder recipe (issue 14) ----------------------
def test_reference_tcn_channels_build_train_and_round_trip(tmp_path):
    import keras

    from pelsvae_tf.model import build_pelsvae

    cfg = tiny_model_config(tcn_channels="reference", hidden=12, n_blocks=4, seed=7)
    assert cfg.channels() == [8, 16, 32, 12] and cfg.channels(decoder=True) == [12, 32, 16, 8]
    model = build_pelsvae(cfg)
    for part, widths in ((model.encoder, [8, 16, 32, 12]), (model.decoder, [12, 32, 16, 8])):
        tcn = part.get_layer(f"{part.name}_tcn")
        assert tcn.get_config()["nb_filters"] == widths and tcn.get_config()["use_skip_connections"] is False
        assert [blk.nb_filters for blk in tcn.residual_blocks] == widths
    batch = _batch(n=8)
    out = model(batch)
    assert out["mag"].shape == (8, 100) and out["z_mean"].shape == (8, 4)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = [w.numpy().copy() for w in model.decoder.trainable_weights]
    hist = model.fit(dict(batch), epochs=2, batch_size=4, verbose=0)
    assert all(np.isfinite(v) for v in hist.history["loss"])
    assert any(not np.array_equal(a, w.numpy()) for a, w in zip(before, model.decoder.trainable_weights))
    _assert_reload_predicts_the_same(model, cfg, batch, tmp_path / "tapered.keras")


def test_constant_tcn_default_keeps_keras_tcn_skip_connections():
    from pelsvae_tf.model import build_pelsvae

    model = build_pelsvae(tiny_model_config())
    conf = model.decoder.get_layer("decoder_tcn").get_config()
    assert conf["nb_filters"] == 8 and conf["use_skip_connections"] is True


@pytest.mark.parametrize("channels", ["constant", "reference"])
def test_inference_decoder_fn_and_chunks_equal_the_plain_keras_call(channels):
    from pelsvae_tf.model import build_pelsvae, decode_chunked, inference_decoder_fn

    model = build_pelsvae(tiny_model_config(tcn_channels=channels, hidden=12, seed=1))
    rng = np.random.default_rng(3)
    n, t = 11, 57
    z = rng.standard_normal((n, 4)).astype("float32")
    onehot = np.eye(8, dtype="float32")[rng.integers(0, 8, n)]
    phase = np.sort(rng.random((n, t)), axis=1).astype("float32")
    ref = model.decoder({"z": z, "class_onehot": onehot, "phase": phase}, training=False)
    for jit, graph in ((False, "keras"), (True, "keras"), (False, "direct"), (True, "direct")):
        fn = inference_decoder_fn(model.decoder, jit_compile=jit, graph=graph, config=model.model_config)
        mag, err = fn(z, onehot, phase)
        np.testing.assert_allclose(mag.numpy(), ref["mag"].numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(err.numpy(), ref["err"].numpy(), rtol=1e-5, atol=1e-6)
        # chunked with a padded last chunk (11 = 4 + 4 + 3): same curves, same order
        cm, ce = decode_chunked(fn, z, onehot, phase, chunk_size=4)
        assert cm.shape == (n, t) and cm.dtype == np.float32
        np.testing.assert_allclose(cm, ref["mag"].numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ce, ref["err"].numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="chunk_size"):
        decode_chunked(fn, z, onehot, phase, chunk_size=0)
    with pytest.raises(ValueError, match="graph"):
        inference_decoder_fn(model.decoder, graph="fast")


@pytest.mark.parametrize("channels", ["constant", "reference"])
def test_direct_graph_equals_keras_with_trained_like_weights(channels):
    """Every weight moved off its initial value (layer-norm gamma / beta included, conv biases not
    zero): the direct graph's centred kernels and one-pass layer norm still give the Keras output."""
    from pelsvae_tf.model import build_pelsvae, inference_decoder_fn

    model = build_pelsvae(tiny_model_config(tcn_channels=channels, hidden=12, seed=5))
    rng = np.random.default_rng(9)
    for w in model.decoder.weights:
        v = w.numpy()
        scale = 0.3 if ("gamma" in w.path or "beta" in w.path or "bias" in w.path) else 0.5 * np.std(v) + 0.05
        w.assign((v + rng.normal(0.0, scale, v.shape)).astype("float32"))
    n, t = 6, 80
    z = rng.standard_normal((n, 4)).astype("float32")
    onehot = np.eye(8, dtype="float32")[rng.integers(0, 8, n)]
    phase = np.sort(rng.random((n, t)), axis=1).astype("float32")
    ref = model.decoder({"z": z, "class_onehot": onehot, "phase": phase}, training=False)
    assert float(np.std(ref["mag"].numpy())) > 1e-3  # not a saturated, constant output
    mag, err = inference_decoder_fn(model.decoder, config=model.model_config)(z, onehot, phase)
    np.testing.assert_allclose(mag.numpy(), ref["mag"].numpy(), rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(err.numpy(), ref["err"].numpy(), rtol=1e-5, atol=2e-6)


def test_direct_graph_refuses_layers_it_does_not_compute():
    """A decoder whose layers differ from what the direct graph computes (another dense
    activation, a config with another dense stack) runs its Keras layers: same output."""
    import dataclasses

    import keras

    from pelsvae_tf.model import build_pelsvae, inference_decoder_fn
    from pelsvae_tf.model.inference import _direct_layers

    model = build_pelsvae(tiny_model_config(seed=3))
    dec = model.decoder
    assert _direct_layers(dec, model.model_config) is not None
    other = dataclasses.replace(model.model_config, dense_units=(*model.model_config.dense_units, 8))
    assert _direct_layers(dec, other) is None  # the config says another dense stack
    dec.get_layer("decoder_dense_0").activation = keras.activations.tanh
    assert _direct_layers(dec) is None
    rng = np.random.default_rng(5)
    z = rng.standard_normal((3, 4)).astype("float32")
    onehot = np.eye(8, dtype="float32")[[1, 2, 5]]
    phase = np.sort(rng.random((3, 30)), axis=1).astype("float32")
    ref = dec({"z": z, "class_onehot": onehot, "phase": phase}, training=False)
    mag, _ = inference_decoder_fn(dec)(z, onehot, phase)
    np.testing.assert_allclose(mag.numpy(), ref["mag"].numpy(), rtol=1e-5, atol=1e-6)


def test_direct_inference_graph_follows_time_encoding_and_falls_back_for_same_padding():
    from pelsvae_tf.model import build_pelsvae, direct_graph_supported, inference_decoder_fn
    from pelsvae_tf.model.inference import _direct_layers

    rng = np.random.default_rng(4)
    for changes, direct in (
        ({"time_encoding": "fourier"}, True),
        ({"time_encoding": "dt"}, True),
        ({"tcn_norm": "none"}, True),
        ({"decoder_padding": "same"}, False),
        ({"tcn_norm": "batch"}, False),
        ({"arch": "gru"}, False),
    ):
        model = build_pelsvae(tiny_model_config(seed=2, **changes))
        assert direct_graph_supported(model.model_config) is direct
        z = rng.standard_normal((3, 4)).astype("float32")
        onehot = np.eye(8, dtype="float32")[[0, 3, 7]]
        phase = np.sort(rng.random((3, 40)), axis=1).astype("float32")
        ref = model.decoder({"z": z, "class_onehot": onehot, "phase": phase}, training=False)
        for config in (model.model_config, None):  # the graph is chosen from the layers without config
            mag, err = inference_decoder_fn(model.decoder, config=config)(z, onehot, phase)
            np.testing.assert_allclose(mag.numpy(), ref["mag"].numpy(), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(err.numpy(), ref["err"].numpy(), rtol=1e-5, atol=1e-6)
        assert (_direct_layers(model.decoder) is not None) is direct
