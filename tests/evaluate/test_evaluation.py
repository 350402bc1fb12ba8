"""The evaluation report: every file written with sane numbers, and the realism checks behave."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from pelsvae_tf.evaluate import evaluation as E
from pelsvae_tf.generate.cadence import survey_cadence, to_phase

FIGURES = (
    "loss_curves.png",
    "reconstructions.png",
    "latent_pairs.png",
    "latent_vs_physics.png",
    "feature_distributions.png",
    "confusion_tstr.png",
)


def _sinusoid_set(n_per_class: int, classes, seed: int, period_base: float = 0.5):
    """Noisy sinusoids (class-dependent shape) at a survey-like cadence, in the report's layout."""
    rng = np.random.default_rng(seed)
    out = {k: [] for k in ("phase", "mag", "err", "time", "period", "label", "mag_range")}
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
        out["mag_range"].append(rng.uniform(0.3, 0.9, n_per_class) * (1 + c))  # class-dependent amplitude [mag]
    return {k: np.concatenate(v) for k, v in out.items()}


def test_eval_config_rejects_bad_values():
    with pytest.raises(ValueError, match="generation"):
        E.EvalConfig(generation="magic")
    with pytest.raises(ValueError, match="n_generated_per_class"):
        E.EvalConfig(n_generated_per_class=0)
    with pytest.raises(ValueError, match="folded_baseline must be > 0 days"):
        E.EvalConfig(folded_baseline=0.0)
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
    # the right shape in the wrong magnitudes (amplitudes 3x too large) is invisible to every scaled
    # feature but caught by the amplitude in mag
    loud = dict(same, mag_range=3.0 * same["mag_range"])
    res_loud, feats_loud = E._distribution_match(loud, real, classes, cfg, np.random.default_rng(0))
    col = E.COMPARED_FEATURES.index("amplitude_mag")
    for c in classes:
        f = res_loud[c]["features"]
        assert f["amplitude"]["ks"] < 0.3 and f["R21"]["ks"] < 0.3
        assert f["amplitude_mag"]["ks"] > 0.9
        # W1 between A and ~3A is ~2 mean(A), in magnitudes
        real_amp = feats_loud[c][0][:, col]
        assert f["amplitude_mag"]["wasserstein"] == pytest.approx(2.0 * real_amp.mean(), rel=0.3)
        assert res[c]["features"]["amplitude_mag"]["ks"] < 0.3  # same process: same amplitudes
    # the right shapes at periods 3x too long: the scaled shape features cannot see it (phases are
    # folded), log10 of the period [d] can
    slow = dict(same, period=3.0 * same["period"])
    res_slow, _ = E._distribution_match(slow, real, classes, cfg, np.random.default_rng(0))
    for c in classes:
        assert res_slow[c]["features"]["R21"]["ks"] < 0.3 and res[c]["features"]["log10_period"]["ks"] < 0.3
        assert res_slow[c]["features"]["log10_period"]["ks"] == 1.0
        assert res_slow[c]["c2st"]["auc"] > 0.95


def _file_paths(obj):
    """Every string in a metrics dict that names a file or folder (no spaces; a path or a file name)."""
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _file_paths(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _file_paths(v)
    elif (
        isinstance(obj, str)
        and " " not in obj
        and (obj.startswith("/") or obj.endswith((".png", ".json", ".csv", ".md", ".npz", ".keras", ".parquet")))
    ):
        yield obj


def _report_features(run, cfg):
    """Held-out real vs generated feature matrices per class, as evaluate computes them."""
    view = E._open_run(run)
    gen = E._generate(view, cfg, True)
    test = view.dataset.arrays("test")
    held = np.flatnonzero(test["is_real"].astype(bool))
    real = {k: test[k][held] for k in ("phase", "mag", "mag_range", "period", "label")}
    return E._distribution_match(gen["folded"], real, view.classes, cfg, np.random.default_rng(cfg.seed + 3))


def test_evaluate_tiny_run_writes_every_file(fitted_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(fitted_run, run)  # the report is written into the copy, not the shared fixture
    cfg = E.EvalConfig(
        n_generated_per_class=40,
        max_real_per_class=50,
        n_period_checks_per_class=4,
        c2st_folds=3,
        physics_recovery=True,
        regressor="linear",
        fit_regressors_if_missing=False,
        classifier="logistic",
        n_recon_per_class=2,
    )
    m = E.evaluate(run, config=cfg, progress=False)
    out = run / "report"
    for name in FIGURES + ("metrics.json", "report.md", "physics_recovery.png", "physics_recovery.json"):
        assert (out / name).stat().st_size > 0, name
    for name in FIGURES + ("physics_recovery.png",):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    on_disk = json.loads((out / "metrics.json").read_text())
    # every path metrics.json names exists after the atomic rename (relative ones: inside the report)
    paths = list(_file_paths(on_disk))
    assert on_disk["physics_recovery"]["json"] in paths and on_disk["physics_recovery"]["figure"] in paths
    for p in paths:
        q = Path(p) if Path(p).is_absolute() else out / p
        assert q.exists(), f"metrics.json names {p}, which does not exist"
    assert not list(tmp_path.glob("run/.report*")) and not list(out.parent.glob(".report*"))
    md = (out / "report.md").read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert "physics_recovery.png" in images and set(FIGURES) <= set(images)
    for img in images:
        assert (out / img).exists(), f"report.md shows {img}, which does not exist"
    saved_pr = json.loads((out / on_disk["physics_recovery"]["json"]).read_text())
    assert set(saved_pr["regressors"]) == {"linear", "forest", "mlp"}

    rec = on_disk["reconstruction"]
    assert rec["n_stars"] == m["reconstruction"]["n_stars"] > 0
    classes = on_disk["classes"]
    encoded = [c for c in classes if rec["per_class"][c]["n"] > 0]
    assert len(encoded) >= len(classes) // 2
    # the flat-curve baseline (each star predicted by its own error-weighted mean) is the weighted
    # spread of each real test star with physics, computed here independently of the report
    flat = rec["baseline_flat"]["weighted_rmse_scaled"]
    ds = E._open_run(run).dataset
    te = ds.arrays("test")
    use = te["is_real"].astype(bool) & ds.physics_mask("test", ("teff", "abs_gmag", "period"))
    w = 1.0 / np.maximum(te["err"][use], cfg.err_floor) ** 2
    mean = (w * te["mag"][use]).sum(1, keepdims=True) / w.sum(1, keepdims=True)
    spread = np.sqrt((w * (te["mag"][use] - mean) ** 2).sum(1) / w.sum(1))
    assert rec["n_stars"] == int(use.sum())
    assert flat["median"] == pytest.approx(float(np.median(spread)), rel=1e-5)
    assert rec["baseline_flat"]["weighted_rmse_mag"]["median"] == pytest.approx(
        float(np.median(spread * te["mag_range"][use])), rel=1e-5
    )
    assert rec["ratio_to_flat_median"] == pytest.approx(
        rec["overall"]["weighted_rmse_scaled"]["median"] / flat["median"]
    )
    assert set(on_disk["loss_terms"]) >= {"loss", "recon", "kl"}
    # generation went through Generator.generate with the linear regressor
    assert on_disk["generation"]["path"] == "pelsvae_tf.generate.generator.Generator.generate"
    assert "regressor:linear" in on_disk["generation"]["per_class_source"].values()
    assert "100 random times over 2922 d" in on_disk["generation"]["sampling"]  # the tiny dataset's seq_len
    dm = on_disk["distribution_match"]
    compared = [c for c, d in dm.items() if "features" in d]
    assert len(compared) >= len(classes) // 2
    for c in compared:
        assert set(dm[c]["features"]) == set(E.COMPARED_FEATURES)
    # amplitudes in magnitudes: the generator takes them from the class's training stars, so the
    # classes' generated amplitudes [mag] rank like the held-out real ones (LPV largest)
    _, feats = _report_features(run, cfg)
    col = E.COMPARED_FEATURES.index("amplitude_mag")
    real_amp = np.array([np.median(feats[c][0][:, col]) for c in compared])
    gen_amp = np.array([np.median(feats[c][1][:, col]) for c in compared])
    from scipy.stats import spearmanr

    assert spearmanr(real_amp, gen_amp).statistic > 0.6, (compared, real_amp, gen_amp)
    if "LPV" in compared:
        assert compared[int(np.argmax(gen_amp))] == "LPV"
    t = on_disk["tstr"]
    assert np.array(t["confusion_tstr"]).sum() == t["n_test"]
    assert "amplitude_mag" in t["features"]
    # the real features separate the synthetic fixture's classes: train-on-real beats chance clearly
    assert t["accuracy_trtr"] > 2.0 / len(classes)
    assert on_disk["table3"] and "linear" in {r["kind"] for r in on_disk["table3"]}
    assert "Table 3" in md and "loss_curves.png" in md and "C2ST" in md and "flat baseline" in md.lower()
    # spread of shapes at fixed physics (spread.py): RRLYR / CEP, generated by the residual-mode
    # linear regressor, so the generated spread at one physics vector is not zero
    sp = on_disk["spread"]
    assert set(sp["per_class"]) <= {"RRLYR", "CEP"} and "RRLYR" in sp["per_class"]
    measured = {c: e for c, e in sp["per_class"].items() if "skipped" not in e}
    assert measured, sp["per_class"]
    for c, e in measured.items():
        assert e["median_gen_iqr_R21"] > 0.01 and e["median_ratio_R21"] > 0.05, (c, e)
    assert "Spread of shapes at fixed physics, generated / data" in md
    # deterministic for a seed (numbers that do not depend on wall time)
    m2 = E.evaluate(run, out_dir=tmp_path / "again", config=cfg.replace(physics_recovery=False), progress=False)
    assert m2["reconstruction"] == m["reconstruction"]
    assert m2["tstr"]["accuracy_tstr"] == m["tstr"]["accuracy_tstr"]
    assert m2["distribution_match"] == m["distribution_match"]
    assert m2["spread"] == m["spread"]
    numbers = {
        "model": rec["overall"]["weighted_rmse_scaled"]["median"],
        "flat": flat["median"],
        "fraction_beating_flat": rec["fraction_beating_flat"],
        "generated_over_real_amplitude_mag": dict(zip(compared, np.round(gen_amp / real_amp, 2).tolist())),
    }
    print(
        "EVAL_NUMBERS",
        json.dumps(
            {
                "rec": rec["overall"],
                "flat": rec["baseline_flat"],
                "beat": rec["fraction_beating_flat"],
                "tstr": {k: t[k] for k in ("accuracy_tstr", "accuracy_trtr")},
                "dm": {
                    c: {"amp_mag": dm[c]["features"]["amplitude_mag"], "auc": dm[c].get("c2st", {}).get("auc")}
                    for c in compared
                },
                "period": on_disk["period_recovery"],
                "seconds": on_disk["seconds"],
                "stages": on_disk["stage_seconds"],
            }
        ),
    )
    # a model that learnt light-curve shapes beats the flat baseline (tiny_run, measured: median
    # wRMSE 0.19 against 0.28, ~88 % of the test stars better than flat)
    assert numbers["model"] < 0.85 * numbers["flat"], numbers
    assert numbers["fraction_beating_flat"] > 0.6, numbers


def test_evaluate_bad_run_dir_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        E.evaluate(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="config.json"):
        E.evaluate(tmp_path / "empty")


def test_cli_has_help_for_every_option(capsys):
    from pelsvae_tf.cli.main import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["evaluate", "--help"])
    text = capsys.readouterr().out
    for opt in (
        "--out",
        "--config",
        "--seed",
        "--n-generated-per-class",
        "--generation",
        "--regressor",
        "--classifier",
        "--no-physics-recovery",
        "--quiet",
        "--real-eros1",
    ):
        assert opt in text


@pytest.mark.timeout(1800)  # builds tiny_run + fitted_run when run alone (~10 min on 2 loaded cores)
def test_evaluate_realism_against_eros1(fitted_run, shared_data, tmp_path, monkeypatch):
    """`evaluate` with real_eros1: generated curves of the 4 classes shared with EROS-1, at an
    EROS-1-like cadence and noise, compared with real EROS-1 stars (issue 13)."""
    from pelsvae_tf.evaluate import realism as R

    monkeypatch.setattr(R, "RF_TREES", 60)  # smaller forests: same tests, less CPU
    eros = shared_data / "eros1_lmc_ramp"
    with pytest.raises(FileNotFoundError, match=r"EvalConfig.real_eros1=.*not an EROS-1 RAMP folder"):
        E.evaluate(fitted_run, out_dir=tmp_path / "bad", config=E.EvalConfig(real_eros1=str(tmp_path)))
    cfg = E.EvalConfig(
        real_eros1=eros,
        regressor="linear",
        n_generated_per_class=30,
        max_real_per_class=30,
        max_test_per_class=20,
        n_period_checks_per_class=3,
        physics_recovery=False,
    )
    assert cfg.real_eros1 == str(eros) and E.EvalConfig.from_dict(cfg.to_dict()) == cfg
    m = E.evaluate(fitted_run, out_dir=tmp_path / "report", config=cfg, progress=False)
    r = m["realism"]
    cl = r["classification"]["with_period"]
    print(
        "EVAL_REALISM",
        json.dumps(
            {
                "n_x": r["n_x"],
                "c2st": {c: r["per_class"][c]["c2st_auc"] for c in r["classes"]},
                "tstr": cl,
                "shape": r["classification"]["shape_only"],
                "seconds": m["stage_seconds"].get("realism (EROS-1)"),
            }
        ),
    )
    assert r["classes"] == ["CEP", "ECL", "LPV", "RRLYR"]
    assert r["n_real"] == {c: 30 for c in r["classes"]}
    assert all(25 <= r["n_x"][c] <= 30 for c in r["classes"])  # a few degenerate curves may drop
    # generated periods come from the run's training stars: Miras longest, RR Lyrae shortest, as in EROS-1
    lp_x = {c: r["per_class"][c]["median_x"]["log10_P"] for c in r["classes"]}
    lp_r = {c: r["per_class"][c]["median_real"]["log10_P"] for c in r["classes"]}
    assert max(lp_x, key=lp_x.get) == max(lp_r, key=lp_r.get) == "LPV"
    assert min(lp_x, key=lp_x.get) == min(lp_r, key=lp_r.get) == "RRLYR"
    for c in r["classes"]:
        assert 0.3 <= r["per_class"][c]["c2st_auc"] <= 1.0
    # EROS-1's own classes are separable (real ceiling) and generated curves transfer above chance (0.25)
    assert cl["trtr_cv"] > 0.7 and cl["tstr"] > 0.4, cl
    md = (tmp_path / "report" / "report.md").read_text()
    assert "## Realism against EROS-1" in md and "| RRLYR | " in md and "train on generated" in md
    assert json.loads((tmp_path / "report" / "metrics.json").read_text())["realism"]["classes"] == r["classes"]
    assert "realism (EROS-1)" in m["stage_seconds"]
