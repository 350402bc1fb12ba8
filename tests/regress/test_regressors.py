"""Physics -> latent regressors: paper's repeated rows, nonlinearity, dummy spread, save/load,
the out-of-sample Table 3 and post-hoc physics on a trained run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pelsvae_tf.regress import (
    ALL_KINDS,
    POINT_KINDS,
    RegressorConfig,
    expand_rows,
    fit_regressors,
    load_latents,
    load_regressor,
    make_regressor,
    rmse,
)

PHYS = ("teff", "abs_gmag", "period")


def _toy(n, seed):
    """Latent means that depend nonlinearly on physics and on class; small latent sigma."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 1, (n, 3)).astype(np.float32)
    lab = rng.integers(0, 8, n)
    zm = np.stack(
        [np.where(p[:, 0] > 0.5, 1.0, -1.0), np.sin(6 * p[:, 1]), p[:, 2] + 0.2 * lab, np.zeros(n)], axis=1
    ).astype(np.float32)
    return p, zm, np.full_like(zm, np.log(0.05**2)), lab


def test_expand_rows_repeats_stars_and_samples_latents_from_posterior():
    zm = np.array([[0.0, 5.0]], np.float32)
    zl = np.log(np.array([[1.0, 0.25]], np.float32) ** 2)
    phys, dummy, lab, z = expand_rows(np.zeros((1, 3), np.float32), zm, zl, np.array([2]), 4000, 1, seed=0)
    assert phys.shape == (4000, 3) and z.shape == (4000, 2) and np.all(lab == 2)
    np.testing.assert_allclose(z.mean(0), [0.0, 5.0], atol=0.05)
    np.testing.assert_allclose(z.std(0), [1.0, 0.25], rtol=0.05)
    assert 0 <= dummy.min() and dummy.max() <= 1 and abs(dummy.mean() - 0.5) < 0.02


def test_forest_captures_nonlinear_relation_out_of_sample():
    p, zm, zl, lab = _toy(400, 0)
    pv, zv, _, lv = _toy(200, 1)  # unseen stars
    errs = {}
    for kind in ("linear", "forest"):
        reg = make_regressor(RegressorConfig(kind=kind, n_repeats=10, num_trees=30, latent_noise="none"), PHYS, 4)
        reg.fit(p, zm, zl, lab)
        errs[kind] = rmse(reg.predict(pv, seed=0, labels=lv), zv)
    # the step in z0 and the sine in z1 are not linear in physics: the forest must win clearly
    assert errs["forest"] < 0.6 * errs["linear"], errs


def test_mlp_fits_and_uses_standardised_inputs():
    p, zm, zl, lab = _toy(300, 0)
    raw_teff = p.copy()
    raw_teff[:, 0] = 5000 + 3000 * p[:, 0]  # unscaled Teff in K, as the reference fed its MLP
    reg = make_regressor(RegressorConfig(kind="mlp", n_repeats=5, mlp_epochs=10, mlp_learning_rate=3e-3), PHYS, 4)
    reg.fit(raw_teff, zm, zl, lab)
    base = rmse(np.broadcast_to(zm.mean(0), zm.shape), zm)
    assert rmse(reg.predict(raw_teff, seed=0, labels=lab), zm) < 0.6 * base


def test_dummy_gives_forest_a_spread_but_not_linear():
    p, zm, _, lab = _toy(200, 0)
    zl = np.full_like(zm, np.log(0.5**2))  # broad posteriors: the dummy can reproduce the spread
    x = np.repeat(p[:1], 200, axis=0)
    spreads = {}
    for kind in ("linear", "forest"):
        reg = make_regressor(
            RegressorConfig(kind=kind, n_repeats=20, num_trees=20, min_examples=2, latent_noise="none"), PHYS, 4
        )
        reg.fit(p, zm, zl, lab)
        spreads[kind] = reg.predict(x, seed=1, labels=np.repeat(lab[:1], 200)).std(0).mean()
    assert spreads["forest"] > 0.1 and spreads["linear"] < 0.05, spreads


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_save_load_round_trip_predicts_identically(kind, tmp_path):
    p, zm, zl, lab = _toy(120, 0)
    reg = make_regressor(
        RegressorConfig(kind=kind, n_repeats=5, num_trees=10, mlp_epochs=2, residual_folds=3, density_epochs=20),
        PHYS,
        4,
    )
    reg.fit(p, zm, zl, lab)
    a = reg.predict(p, seed=3, labels=lab)
    seeds = np.arange(len(lab), dtype=np.int64) + 11
    s = reg.sample(p, lab, seeds)
    reg.save(tmp_path / kind)
    back = load_regressor(tmp_path / kind)
    np.testing.assert_allclose(back.predict(p, seed=3, labels=lab), a, rtol=1e-6, atol=1e-6)
    # the sampling distribution (residual covariance / mixture) survives the round trip too
    np.testing.assert_allclose(back.sample(p, lab, seeds), s, rtol=1e-6, atol=1e-6)
    assert np.abs(s - a).max() > 1e-3  # sample() is not the point prediction: it carries noise
    dummy = [] if kind == "density" else ["dummy"]
    assert back.input_names == list(PHYS) + dummy + [f"class_{c}" for c in back.classes]
    if kind == "forest":
        assert len(back.models) == 4  # one YDF model per latent dimension (for TF export)


def test_bad_inputs_raise_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        RegressorConfig(kind="svm")
    with pytest.raises(ValueError, match="n_repeats"):
        RegressorConfig(n_repeats=0)
    with pytest.raises(ValueError, match="unknown physical parameter"):
        RegressorConfig(physics=("mass",))
    p, zm, zl, lab = _toy(20, 0)
    reg = make_regressor(RegressorConfig(kind="linear", n_repeats=2), PHYS, 4)
    with pytest.raises(ValueError, match="fit"):
        reg.predict(p, labels=lab)
    with pytest.raises(ValueError, match=r"expected \[N, 3\]"):
        reg.fit(p[:, :2], zm, zl, lab)
    with pytest.raises(ValueError, match="labels are required"):
        reg.fit(p, zm, zl, None)
    bad = p.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        reg.fit(bad, zm, zl, lab)
    with pytest.raises(FileNotFoundError, match="pelsvae regress"):
        load_regressor(tmp_path / "nothing")


def test_table3_is_out_of_sample_on_disjoint_stars(fitted_run):
    table = pd.read_csv(fitted_run / "regressors" / "table3.csv")
    assert set(table["kind"]) == set(POINT_KINDS)
    assert np.all(np.isfinite(table[["rmse_val", "rmse_train", "rmse_val_mean_baseline"]].to_numpy()))
    md = (fitted_run / "regressors" / "table3.md").read_text()
    assert "out of sample" in md and "| forest |" in md
    # the validation stars used for rmse_val were never fitted on
    lat = load_latents(fitted_run)
    tr_ids = set(lat["star_id"][lat["split"] == "train"].tolist())
    va_ids = set(lat["star_id"][lat["split"] == "val"].tolist())
    assert va_ids and tr_ids and not (tr_ids & va_ids)
    row = table[table["kind"] == "linear"].iloc[0]
    assert row["n_val_stars"] > 0 and row["n_train_stars"] > row["n_val_stars"]
    for kind in POINT_KINDS:
        meta = json.loads((fitted_run / "regressors" / kind / "regressor.json").read_text())
        assert meta["physics"] == list(PHYS)


def test_post_hoc_physics_and_resume(fitted_run):
    """A new regressor on another parameter set, fitted without retraining; existing ones reused."""
    from pelsvae_tf.regress import RegressorConfig as RC

    res = fit_regressors(fitted_run, ("linear",), RC(physics=("teff", "period"), n_repeats=5))
    assert res["rows"][0]["name"] == "linear@teff+period"
    reg = load_regressor(fitted_run / "regressors" / "linear@teff+period")
    assert reg.physics == ("teff", "period")
    assert not set(res["train_ids"].tolist()) & set(res["val_ids"].tolist())
    table = pd.read_csv(fitted_run / "regressors" / "table3.csv")
    assert {"linear", "forest", "mlp", "linear@teff+period"} <= set(table["name"])
    # same config again: loaded from disk, not refitted (fit_seconds NaN marks reuse)
    again = fit_regressors(fitted_run, ("linear",), RC(physics=("teff", "period"), n_repeats=5))
    assert np.isnan(again["rows"][0]["fit_seconds"])
    assert again["rows"][0]["rmse_val"] == pytest.approx(res["rows"][0]["rmse_val"])


def test_cli_regress_prints_and_writes_table(fitted_run, capsys):
    import argparse

    from pelsvae_tf.cli.regress import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(
        ["regress", str(fitted_run), "--kinds", "linear", "--physics", "teff,abs_gmag", "--n-repeats", "3"]
    )
    assert args.func(args) == 0
    assert "| linear |" in capsys.readouterr().out
    assert (fitted_run / "regressors" / "linear@teff+abs_gmag" / "regressor.json").exists()
    with pytest.raises(ValueError, match="unknown physical parameter"):
        args = parser.parse_args(["regress", str(fitted_run), "--physics", "mass"])
        args.func(args)


def test_cli_regress_flags_are_the_config_fields_with_its_defaults(tmp_path):
    """`pelsvae regress` fits what `pelsvae run` fits: every RegressorConfig field but ``kind`` is a
    flag whose shown default is the dataclass default (--num-trees was 100 by hand, 50 in the config)."""
    import argparse
    import dataclasses

    from pelsvae_tf.cli.regress import register, regressor_config
    from pelsvae_tf.regress.config import RegressorConfig

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    register(sub)
    text = sub.choices["regress"].format_help()
    for f in dataclasses.fields(RegressorConfig):
        if f.name != "kind":
            flag = "--" + {"use_class": "class"}.get(f.name, f.name).replace("_", "-")
            assert flag in text, flag
    assert "--kind " not in text and "--num-trees NUM_TREES" in text
    block = text.rsplit("--num-trees NUM_TREES", 1)[1].split("--max-depth", 1)[0]  # the options section
    assert f"(default: {RegressorConfig().num_trees})" in " ".join(block.split())
    args = parser.parse_args(["regress", str(tmp_path), "--no-class", "--no-dummy", "--num-trees", "7"])
    cfg = regressor_config(args)
    assert (cfg.use_class, cfg.dummy, cfg.num_trees, cfg.n_repeats) == (False, False, 7, RegressorConfig().n_repeats)
    assert regressor_config(parser.parse_args(["regress", str(tmp_path)])) == RegressorConfig()
    (tmp_path / "reg.json").write_text('{"num_trees": 9, "seed": 4}')
    args = parser.parse_args(["regress", str(tmp_path), "--config", str(tmp_path / "reg.json"), "--seed", "5"])
    cfg = regressor_config(args)
    assert (cfg.num_trees, cfg.seed) == (9, 5)


def test_regressor_saved_before_residual_mode_loads_as_paper_mode(tmp_path):
    """An on-disk regressor without ``latent_noise`` (no residual covariance) samples as the paper."""
    p, zm, zl, lab = _toy(60, 0)
    reg = make_regressor(RegressorConfig(kind="linear", n_repeats=2, latent_noise="none"), PHYS, 4).fit(p, zm, zl, lab)
    reg.save(tmp_path / "old")
    meta = json.loads((tmp_path / "old" / "regressor.json").read_text())
    del meta["config"]["latent_noise"]
    (tmp_path / "old" / "regressor.json").write_text(json.dumps(meta))
    back = load_regressor(tmp_path / "old")
    assert back.config.latent_noise == "none"
    x = np.repeat(p[:1], 500, axis=0)
    z = back.sample(x, np.repeat(lab[:1], 500), np.arange(500, dtype=np.int64))
    assert z.std(axis=0).max() < 0.05  # one latent per physics vector, as before
