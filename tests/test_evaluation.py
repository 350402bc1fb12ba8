"""The evaluation report: every file written with sane numbers, and the realism checks behave."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from pelsvae_tf import evaluation as E
from pelsvae_tf.cadence import survey_cadence, to_phase

FIGURES = ("loss_curves.png", "reconstructions.png", "latent_pairs.png", "latent_vs_physics.png",
           "feature_distributions.png", "confusion_tstr.png")


def _sinusoid_set(n_per_class: int, classes, seed: int, period_base: float = 0.5):
    """Noisy sinusoids (class-dependent shape) at a survey-like cadence, in the report's layout."""
    rng = np.random.default_rng(seed)
    out = {k: [] for k in ("phase", "mag", "err", "time", "period", "label")}
    for c in range(len(classes)):
        period = period_base * (1 + c) * rng.uniform(0.9, 1.1, n_per_class)
        times = survey_cadence(120, 800.0, seed=seed + c, n_curves=n_per_class).values
        ph = to_phase(times, period, 0.0)
        r21 = 0.1 + 0.1 * c
        mag = 0.5 + 0.3 * (np.cos(2 * np.pi * ph) + r21 * np.cos(4 * np.pi * ph + 0.3 * c))
        err = np.full_like(mag, 0.02)
        out["phase"].append(ph)
        out["mag"].append(mag + rng.normal(0, 0.02, mag.shape))
        out["err"].append(err)
        out["time"].append(times)
        out["period"].append(period)
        out["label"].append(np.full(n_per_class, c))
    return {k: np.concatenate(v) for k, v in out.items()}


def test_eval_config_rejects_bad_values():
    with pytest.raises(ValueError, match="generation"):
        E.EvalConfig(generation="magic")
    with pytest.raises(ValueError, match="n_generated_per_class"):
        E.EvalConfig(n_generated_per_class=0)
    cfg = E.EvalConfig(seed=3, n_generated_per_class=7)
    assert E.EvalConfig.from_dict(cfg.to_dict()) == cfg


def test_period_recovery_finds_periods_of_periodic_curves():
    classes = ("A", "B")
    gen = _sinusoid_set(10, classes, seed=1)
    cfg = E.EvalConfig(n_period_checks_per_class=10)
    train_periods = {0: np.array([0.4, 0.6]), 1: np.array([0.9, 1.1])}
    res = E._period_recovery(gen, classes, train_periods, cfg, np.random.default_rng(0))
    assert res["A"]["rate"] == 1.0 and res["B"]["rate"] == 1.0
    # scrambling the magnitudes destroys the periodicity: recovery collapses
    rng = np.random.default_rng(2)
    scrambled = dict(gen, mag=rng.permuted(gen["mag"], axis=1))
    bad = E._period_recovery(scrambled, classes, train_periods, cfg, np.random.default_rng(0))
    assert bad["A"]["rate"] <= 0.2 and bad["B"]["rate"] <= 0.2


def test_distribution_match_same_source_is_indistinguishable():
    classes = ("A", "B")
    cfg = E.EvalConfig(classifier="logistic")
    real = _sinusoid_set(80, classes, seed=3)
    same = _sinusoid_set(80, classes, seed=4)  # same process, other draws
    res, feats = E._distribution_match(same, real, classes, cfg, np.random.default_rng(0))
    for c in classes:
        assert 0.3 < res[c]["c2st"]["auc"] < 0.7
        assert res[c]["features"]["R21"]["ks"] < 0.3
        assert set(feats) == set(classes)
    # a generator that lost the shape (flat curve + noise) is caught
    flat = dict(same, mag=0.5 + np.random.default_rng(5).normal(0, 0.02, same["mag"].shape))
    res_flat, _ = E._distribution_match(flat, real, classes, cfg, np.random.default_rng(0))
    for c in classes:
        assert res_flat[c]["c2st"]["auc"] > 0.95
        assert res_flat[c]["features"]["amplitude"]["ks"] > 0.9


def test_evaluate_tiny_run_writes_every_file(tiny_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)  # regressors get fitted into the copy, not the shared fixture
    from pelsvae_tf.regressors import fit_regressors

    fit_regressors(run, kinds=("linear",))  # the fast one; the forest is exercised by the regressor tests
    cfg = E.EvalConfig(n_generated_per_class=20, max_real_per_class=50, n_period_checks_per_class=4,
                       c2st_folds=3, physics_recovery=False, regressor="linear", fit_regressors_if_missing=False,
                       classifier="logistic", n_recon_per_class=2)
    m = E.evaluate(run, config=cfg, progress=False)
    out = run / "report"
    for name in FIGURES + ("metrics.json", "report.md"):
        assert (out / name).stat().st_size > 0, name
    for name in FIGURES:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["reconstruction"]["n_stars"] == m["reconstruction"]["n_stars"] > 0
    classes = on_disk["classes"]
    # every class the model can encode has a reconstruction RMSE in the scaled range [0, 1]
    encoded = [c for c in classes if on_disk["reconstruction"]["per_class"][c]["n"] > 0]
    assert len(encoded) >= len(classes) // 2
    for c in encoded:
        w = on_disk["reconstruction"]["per_class"][c]["weighted_rmse_scaled"]
        assert 0.0 <= w["median"] <= 1.0
    assert set(on_disk["loss_terms"]) >= {"loss", "recon", "kl"}
    for c, d in on_disk["distribution_match"].items():
        assert 0.0 <= d["c2st"]["auc"] <= 1.0
        assert all(0.0 <= f["ks"] <= 1.0 for f in d["features"].values())
    for c, p in on_disk["period_recovery"].items():
        assert 0.0 <= p["rate"] <= p["rate_with_half_double"] <= 1.0
    t = on_disk["tstr"]
    assert 0.0 <= t["accuracy_tstr"] <= 1.0 and 0.0 <= t["accuracy_trtr"] <= 1.0
    assert np.array(t["confusion_tstr"]).sum() == t["n_test"]
    # the real features separate the synthetic fixture's classes: train-on-real beats chance clearly
    assert t["accuracy_trtr"] > 2.0 / len(classes)
    assert on_disk["table3"] and "linear" in {r["kind"] for r in on_disk["table3"]}
    assert "regressor:linear" in on_disk["generation"]["per_class_source"].values()
    md = (out / "report.md").read_text()
    assert "Table 3" in md and "loss_curves.png" in md and "C2ST" in md
    # deterministic for a seed (numbers that do not depend on wall time)
    m2 = E.evaluate(run, out_dir=tmp_path / "again", config=cfg, progress=False)
    assert m2["reconstruction"] == m["reconstruction"]
    assert m2["tstr"]["accuracy_tstr"] == m["tstr"]["accuracy_tstr"]


def test_evaluate_bad_run_dir_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        E.evaluate(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="config.json"):
        E.evaluate(tmp_path / "empty")


def test_cli_has_help_for_every_option(capsys):
    from pelsvae_tf.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["evaluate", "--help"])
    text = capsys.readouterr().out
    for opt in ("--out", "--config", "--seed", "--n-generated-per-class", "--generation", "--regressor",
                "--classifier", "--no-physics-recovery", "--quiet"):
        assert opt in text
