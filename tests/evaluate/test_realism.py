"""The realism yardstick: features recover known shapes, C2ST separates what differs, and the
train-on-X / test-on-real accuracies behave on real data."""

from __future__ import annotations

import numpy as np
import pytest

from pelsvae_tf.evaluate import realism as R


def _curve(rng, n, period, amps, phases, noise, span=800.0):
    t = np.sort(rng.uniform(0, span, n))
    ph = 2 * np.pi * t / period
    m = 15 + sum(a * np.cos((k + 1) * ph + p) for k, (a, p) in enumerate(zip(amps, phases)))
    e = np.full(n, noise)
    return t, m + rng.normal(0, noise, n), e


def test_fourier_features_recover_known_shape():
    rng = np.random.default_rng(0)
    t, m, e = _curve(rng, 400, 0.61, [0.30, 0.15, 0.09], [0.4, 1.3, 2.9], 0.01)
    amp, phi, _ = R.fourier_fit(t, m, e, 0.61)
    np.testing.assert_allclose(amp[:3], [0.30, 0.15, 0.09], atol=0.005)
    f = dict(zip(R.FEATURES, R.curve_features(t, m, e, 0.61)))
    assert f["R21"] == pytest.approx(0.5, abs=0.03) and f["R31"] == pytest.approx(0.3, abs=0.03)
    d21, d31 = 1.3 - 2 * 0.4, 2.9 - 3 * 0.4
    assert f["cos_phi21"] == pytest.approx(np.cos(d21), abs=0.05) and f["sin_phi21"] == pytest.approx(
        np.sin(d21), abs=0.05
    )
    assert f["cos_phi31"] == pytest.approx(np.cos(d31), abs=0.1)
    assert f["log10_P"] == pytest.approx(np.log10(0.61))


def test_sinusoid_moments_and_outlier_clipping():
    rng = np.random.default_rng(1)
    t, m, e = _curve(rng, 600, 3.3, [0.5], [0.0], 0.005)
    f = dict(zip(R.FEATURES, R.curve_features(t, m, e, 3.3)))
    # a pure sinusoid: kurtosis -1.5, no skew, R21 ~ 0, Stetson K = sqrt(8)/pi = 0.90
    assert f["kurtosis"] == pytest.approx(-1.5, abs=0.1) and abs(f["skew"]) < 0.1
    assert f["R21"] < 0.03 and f["stetson_k"] == pytest.approx(np.sqrt(8) / np.pi, abs=0.03)
    m2 = m.copy()
    m2[::60] += 3.0  # ten 3-mag outliers are clipped before the moments
    f2 = dict(zip(R.FEATURES, R.curve_features(t, m2, e, 3.3)))
    assert f2["kurtosis"] == pytest.approx(f["kurtosis"], abs=0.1)
    # white noise (no signal at the period): eta ~ 2, sinusoid well sampled in time: eta << 2
    tn, mn, en = _curve(rng, 600, 3.3, [0.0], [0.0], 0.05)
    assert R.curve_features(tn, mn, en, 3.3)[R.FEATURES.index("eta")] == pytest.approx(2.0, abs=0.3)


def test_c2st_same_vs_different_distributions():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(200, 3)), rng.normal(size=(200, 3))
    assert R.c2st_auc(a, b, n_trees=50) < 0.62
    assert R.c2st_auc(a, b + [1.5, 0, 0], n_trees=50) > 0.8


def test_compare_sky_against_itself_and_eros(shared_data):
    from pelsvae_tf.sky import SkyConfig

    cfg = dict(n_per_class={"RRLYR": 40, "ECL": 40}, epochs=(100, 200))
    a = R.curves_from_sky(SkyConfig(seed=0, **cfg), name="sky0")
    b = R.curves_from_sky(SkyConfig(seed=1, **cfg), name="sky1")
    res, md = R.realism_section(a, b, n_trees=50)
    # two seeds of the same sky: hard to tell apart, and a classifier trained on one transfers
    for c in ("ECL", "RRLYR"):
        assert res["per_class"][c]["c2st_auc"] < 0.75
    assert res["classification"]["with_period"]["tstr"] > 0.9
    assert md.startswith("## Realism") and "| RRLYR | 40 | 40 |" in md
    eros = R.curves_from_eros1(
        shared_data / "eros1_lmc_ramp", splits=("test",), classes=["RRLYR", "ECL"], max_per_class=60
    )
    assert set(eros.cls) == {"RRLYR", "ECL"} and len(eros) == 120
    res2 = R.compare(a, eros, n_trees=50)
    assert res2["n_real"] == {"ECL": 60, "RRLYR": 60}
    cl = res2["classification"]["with_period"]
    # real-vs-real cross-validation separates RR Lyrae from binaries on EROS-1 far above chance
    assert cl["trtr_cv"] > 0.8 and 0 <= cl["tstr"] <= 1
    with pytest.raises(ValueError, match=r"class\(es\) \['LPV'\] absent"):
        R.compare(a, eros, classes=["LPV"], n_trees=50)


def test_sdss_reader_and_curveset_errors(shared_data):
    s = R.curves_from_sdss_rrlyrae(shared_data / "sdss_s82_rrlyrae", band="g", max_stars=5)
    assert len(s) == 5 and set(s.cls) == {"RRLYR"} and all(0.2 < p < 1.0 for p in s.period)
    with pytest.raises(ValueError, match="band='I'"):
        R.curves_from_sdss_rrlyrae(shared_data / "sdss_s82_rrlyrae", band="I")
    t = [np.arange(20.0)]
    with pytest.raises(ValueError, match="CurveSet.period"):
        R.CurveSet(t, [np.ones(20)], [np.ones(20)], ["RRLYR"], [0.0])
    with pytest.raises(ValueError, match="CurveSet.cls"):
        R.CurveSet(t, [np.ones(20)], [np.ones(20)], [], [1.0])
    with pytest.raises(ValueError, match="lengths 20/19/20"):
        R.CurveSet(t, [np.ones(19)], [np.ones(20)], ["RRLYR"], [1.0])


def test_curves_from_generated_duck_type():
    from types import SimpleNamespace

    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0, 50, (4, 200)), axis=1)
    period = np.array([0.5, 0.7, 2.0, 3.0])
    mag = 15 + 0.3 * np.cos(2 * np.pi * t / period[:, None]) + rng.normal(0, 0.005, t.shape)
    g = SimpleNamespace(
        time=t, mag=mag, err=np.full(t.shape, 0.005), cls=np.array(["RRLYR"] * 2 + ["CEP"] * 2), period=period
    )
    cs = R.curves_from_generated(g)
    F = R.feature_matrix(cs)
    assert len(cs) == 4 and cs.classes() == ["CEP", "RRLYR"]
    assert np.all(F[:, R.FEATURES.index("R21")] < 0.05)  # sinusoids: no second harmonic
    with pytest.raises(ValueError, match="no 'period'"):
        R.curves_from_generated(SimpleNamespace(time=t, mag=mag, err=mag, cls=g.cls))
