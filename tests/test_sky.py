"""The built-in sky: determinism, realism grounded in the real catalogues, the RR Lyrae truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from pelsvae_tf.classes import CLASSES
from pelsvae_tf.data.readers import read_ogle_dat, read_xmatch
from pelsvae_tf.data.sky import (
    CATALOG_COLUMNS, SkyConfig, build_sky, double_wave, eclipses, ogle_error, rrlyrae_shape_truth, simulate_star,
    sky_samples,
)


def fourier_fit(phase, mag, n=3):
    cols = [np.ones_like(phase)]
    for k in range(1, n + 1):
        cols += [np.cos(2 * np.pi * k * phase), np.sin(2 * np.pi * k * phase)]
    coef, *_ = np.linalg.lstsq(np.column_stack(cols), mag, rcond=None)
    a, b = coef[1::2], coef[2::2]
    return np.hypot(a, b), np.arctan2(-b, a)


def test_rrlyrae_truth_is_monotonic_in_teff():
    teff = np.linspace(5900, 7600, 50)
    tr = rrlyrae_shape_truth(teff)
    for key in ("period", "amplitude", "R21", "R31", "w_ab"):
        assert np.all(np.diff(tr[key]) < 0), key  # all fall smoothly as the star gets hotter
    assert np.all(np.diff(tr["phi21"]) > 0)
    assert tr["bailey_type"][0] == "RRab" and tr["bailey_type"][-1] == "RRc"
    cool, hot = rrlyrae_shape_truth(5900.0), rrlyrae_shape_truth(7600.0)
    assert 0.5 < cool["period"] < 0.6 and 0.3 < hot["period"] < 0.35  # RRab ~0.57 d, RRc ~0.32 d
    assert cool["R21"] > 0.45 and hot["R21"] < 0.15  # sawtooth vs near-sinusoid
    with pytest.raises(ValueError, match="teff"):
        rrlyrae_shape_truth([6000, np.nan])


def test_sky_samples_are_real_and_sane():
    s = sky_samples()
    assert set(s["cls"]) == set(CLASSES)
    four = s[s["cls"].isin(["ACEP", "CEP", "DSCT", "RRLYR", "T2CEP"])]
    assert four["R21"].between(0, 1.5).all(), "R21 outside [0, 1.5]: catalogue columns mixed up?"
    assert (s["period"] > 0).all() and s["I"].between(8, 23).all()
    assert s.loc[s["cls"] == "LPV", "period"].median() > 100  # Miras
    assert s.loc[s["cls"] == "DSCT", "period"].median() < 0.3
    # real physics: cepheids (yellow supergiants) are hotter than Miras (red giants)
    assert s.loc[s["cls"] == "CEP", "teff"].median() > s.loc[s["cls"] == "LPV", "teff"].median() + 1500


def test_simulate_star_deterministic():
    cfg = SkyConfig(n_per_class=1, seed=3)
    a = simulate_star("CEP", 5, cfg)
    b = simulate_star("CEP", 5, cfg)
    for x, y in zip(a[:3], b[:3]):
        np.testing.assert_array_equal(x, y)
    pd.testing.assert_series_equal(pd.Series(a[3]), pd.Series(b[3]))  # NaN-aware
    c = simulate_star("CEP", 5, SkyConfig(n_per_class=1, seed=4))
    assert c[0].size != a[0].size or not np.array_equal(c[1], a[1])


def test_build_sky_deterministic_and_resumable(tmp_path):
    cfg = SkyConfig(n_per_class={"RRLYR": 3, "ECL": 2}, seed=7, epochs=(100, 150))
    a = build_sky(cfg, tmp_path / "a", progress=False)
    b = build_sky(cfg, tmp_path / "b", progress=False)
    files = sorted(p.name for p in (a / "photometry").iterdir())
    assert len(files) == 5 and files == sorted(p.name for p in (b / "photometry").iterdir())
    for f in files:
        assert (a / "photometry" / f).read_bytes() == (b / "photometry" / f).read_bytes()
    assert (a / "catalog.csv").read_text() == (b / "catalog.csv").read_text()
    # resume: a lost file is regenerated identically; no temporary files left behind
    lost = a / "photometry" / files[0]
    ref = lost.read_bytes()
    lost.unlink()
    (a / "catalog.csv").unlink()  # catalog.csv is written last: without it the sky is incomplete
    build_sky(cfg, a, progress=False)
    assert lost.read_bytes() == ref
    assert not [p for p in a.rglob("*") if ".tmp" in p.name]
    with pytest.raises(ValueError, match="another configuration"):
        build_sky(cfg.replace(seed=8), a, progress=False)


def test_sky_config_validation_and_json(tmp_path):
    cfg = SkyConfig(n_per_class={"RRLyr": 5, "cep": 2})
    assert cfg.counts()["RRLYR"] == 5 and cfg.counts()["CEP"] == 2 and cfg.counts()["ECL"] == 0
    assert SkyConfig.load(cfg.save(tmp_path / "c.json")) == cfg
    for bad in (dict(n_per_class=-1), dict(epochs=(5, 3)), dict(years=0), dict(outlier_frac_max=0.7),
                dict(rr_teff_range=(8000, 7000)), dict(n_per_class={"QSO": 3})):
        with pytest.raises(ValueError):
            SkyConfig(**bad)


def test_tiny_sky_catalog_in_xmatch_layout(tiny_sky):
    cat = pd.read_csv(tiny_sky / "catalog.csv")
    assert list(cat.columns) == list(CATALOG_COLUMNS)
    xm = read_xmatch(tiny_sky / "catalog.csv")  # same reader as the real cross-match
    assert len(xm) == 35 * 8 and set(xm["cls"]) == set(CLASSES)
    assert (xm["period"] > 0).all()
    for sid in xm["ogle_id"]:
        assert (tiny_sky / "photometry" / f"{sid}.dat").exists()


def test_tiny_sky_photometry_is_ogle_like(tiny_sky):
    cat = pd.read_csv(tiny_sky / "catalog.csv")
    med_err, mean_mag = [], []
    for sid in cat["OGLE-ID"][::7]:
        lc = read_ogle_dat(tiny_sky / "photometry" / f"{sid}.dat")
        assert 400 <= len(lc) <= 1000
        assert np.all(np.diff(lc.time) > 0)
        gaps = np.diff(lc.time)
        assert (gaps > 60).sum() >= 6 and lc.baseline > 7 * 365  # 8 seasons with yearly gaps
        assert 2001 <= lc.time_astropy[0].datetime.year <= 2002
        med_err.append(np.median(lc.err))
        mean_mag.append(np.median(lc.mag))
    # fainter stars have larger errors
    assert spearmanr(mean_mag, med_err)[0] > 0.8



def test_error_model_matches_real_ogle_samples(shared_data):
    for name in ("OGLE-LMC-DSCT-00310", "OGLE-LMC-DSCT-00344"):
        lc = read_ogle_dat(shared_data / "ogle3_samples" / f"{name}.dat")
        assert ogle_error(np.median(lc.mag)) == pytest.approx(np.median(lc.err), rel=0.15)
    assert ogle_error(15.0) < 0.01 < ogle_error(18.0) < ogle_error(20.0)


def test_tiny_sky_rrlyrae_follow_the_truth(tiny_sky):
    truth = pd.read_csv(tiny_sky / "truth.csv")
    rr = truth[truth["Type"] == "RRLYR"]
    assert spearmanr(rr["teff_true"], rr["R21"])[0] < -0.7
    assert spearmanr(rr["teff_true"], rr["amplitude"])[0] < -0.5
    ab, c = rr[rr["bailey_type"] == "RRab"], rr[rr["bailey_type"] == "RRc"]
    assert len(ab) > 5 and len(c) > 5
    assert ab["teff_true"].max() < c["teff_true"].min()
    assert ab["Period"].median() > c["Period"].median()
    cat = pd.read_csv(tiny_sky / "catalog.csv").set_index("OGLE-ID")
    np.testing.assert_allclose(cat.loc[rr["OGLE-ID"], "teff_val"], rr["teff_true"])
    # the light curves carry the shape: a Fourier fit of the folded photometry recovers R21
    for _, row in pd.concat([ab.head(2), c.head(2)]).iterrows():
        lc = read_ogle_dat(tiny_sky / "photometry" / f"{row['OGLE-ID']}.dat").clipped(period=row["Period"])
        f = lc.fold(row["Period"], row["t0"])
        A, _ = fourier_fit(f.phase, f.mag)
        assert A[1] / A[0] == pytest.approx(row["R21"], abs=0.06)


def test_binary_models_have_unequal_minima():
    ph = np.linspace(0, 1, 1000, endpoint=False)
    e = eclipses(ph, 0.8, 0.3, 0.05)
    assert e[0] == pytest.approx(0.8) and e[500] == pytest.approx(0.3)
    assert np.all(e[(ph > 0.1) & (ph < 0.4)] == 0)  # flat out of eclipse
    d = double_wave(ph, 0.2, 0.15)
    assert d[0] == pytest.approx(0.2) and d[500] == pytest.approx(0.15)
    assert d[250] == pytest.approx(0.0, abs=1e-12) and d[750] == pytest.approx(0.0, abs=1e-12)


def test_tiny_sky_binaries_have_two_minima(tiny_sky):
    truth = pd.read_csv(tiny_sky / "truth.csv")
    for _, row in truth[truth["model"].isin(["eclipses", "ellipsoidal"])].head(4).iterrows():
        lc = read_ogle_dat(tiny_sky / "photometry" / f"{row['OGLE-ID']}.dat").clipped(period=row["Period"])
        f = lc.fold(row["Period"], row["t0"])
        near = lambda c, w: np.median(f.mag[np.abs(((f.phase - c + 0.5) % 1) - 0.5) < w])  # noqa: E731
        w = 0.3 * row["width"] if row["model"] == "eclipses" else 0.03
        quad = near(0.25, 0.03)
        # both minima (phase 0 and ~0.5) are fainter than quadrature, the primary the deepest
        assert near(0.0, w) > near(0.5, w) > quad - 0.01


def test_sky_cli(tmp_path, capsys):
    from pelsvae_tf.cli import main

    with pytest.raises(SystemExit):
        main(["sky", "--help"])
    out = capsys.readouterr().out
    for opt in ("--out", "--n-per-class", "--seed", "--years", "--epochs-min", "--outlier-frac-max", "--config"):
        assert opt in out
    rc = main(["sky", "--out", str(tmp_path / "s"), "--n-per-class", "ELL=2,RRLyr=1", "--no-progress",
               "--epochs-min", "50", "--epochs-max", "60"])
    assert rc == 0 and len(list((tmp_path / "s" / "photometry").glob("*.dat"))) == 3
    assert main(["sky", "--out", str(tmp_path / "t"), "--n-per-class", "QSO=3"]) == 2
