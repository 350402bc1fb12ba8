"""The built-in sky: determinism, realism grounded in the real catalogues, the RR Lyrae truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from pelsvae_tf.classes import CLASSES
from pelsvae_tf.data.readers import read_ogle_dat, read_xmatch
from pelsvae_tf.sky import (
    CATALOG_COLUMNS,
    SkyConfig,
    build_sky,
    double_wave,
    eclipses,
    ogle_error,
    rrlyrae_shape_truth,
    simulate_star,
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
    for bad in (
        dict(n_per_class=-1),
        dict(epochs=(5, 3)),
        dict(years=0),
        dict(outlier_frac_max=0.7),
        dict(rr_teff_range=(8000, 7000)),
        dict(n_per_class={"QSO": 3}),
    ):
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
    # eclipses wide enough to hold points within 0.3 half-widths of each minimum
    pick = (truth["model"] == "ellipsoidal") | ((truth["model"] == "eclipses") & (truth["width"] > 0.02))
    for _, row in truth[pick].head(4).iterrows():
        # unclipped: sigma clipping of the folded curve may remove the few points of a deep, narrow
        # eclipse; the medians below are robust to the sky's outliers
        lc = read_ogle_dat(tiny_sky / "photometry" / f"{row['OGLE-ID']}.dat")
        f = lc.fold(row["Period"], row["t0"])
        near = lambda c, w: np.median(f.mag[np.abs(((f.phase - c + 0.5) % 1) - 0.5) < w])  # noqa: E731
        w = 0.3 * row["width"] if row["model"] == "eclipses" else 0.03
        quad = near(0.25, 0.03)
        # both minima (phase 0 and ~0.5) are fainter than quadrature, the primary the deepest
        assert near(0.0, w) > near(0.5, w) > quad - 0.01


def test_sky_cli(tmp_path, capsys):
    from pelsvae_tf.cli.main import main

    with pytest.raises(SystemExit):
        main(["sky", "--help"])
    out = capsys.readouterr().out
    for opt in ("--out", "--n-per-class", "--seed", "--years", "--epochs-min", "--outlier-frac-max", "--config"):
        assert opt in out
    rc = main(
        [
            "sky",
            "--out",
            str(tmp_path / "s"),
            "--n-per-class",
            "ELL=2,RRLyr=1",
            "--no-progress",
            "--epochs-min",
            "50",
            "--epochs-max",
            "60",
        ]
    )
    assert rc == 0 and len(list((tmp_path / "s" / "photometry").glob("*.dat"))) == 3
    assert main(["sky", "--out", str(tmp_path / "t"), "--n-per-class", "QSO=3"]) == 2


# ---------------------------------------------------------------- the physics of the richer sky
def test_binary_total_eclipse_flat_bottom_and_depth_ratio():
    from pelsvae_tf.sky import binary_flux

    ph = np.linspace(0, 1, 4000, endpoint=False)
    r1, r2, J = 0.2, 0.1, 0.4
    f = binary_flux(ph, r1, r2, J, 90.0, u1=0.0, u2=0.0, proximity=False)
    L1, L2 = np.pi * r1**2, J * np.pi * r2**2
    # phase 0.5: the small star 2 is wholly behind star 1: total, flat-bottomed, loses exactly L2
    total = np.abs(ph - 0.5) < 0.5 * np.arcsin(r1 - r2) / (2 * np.pi)
    assert np.ptp(f[total]) < 1e-12 and 1 - f[2000] == pytest.approx(L2 / (L1 + L2), rel=1e-9)
    # phase 0: transit of star 2 across star 1 (uniform discs): loss = S1 pi r2^2
    assert 1 - f[0] == pytest.approx(np.pi * r2**2 / (L1 + L2), rel=1e-9)
    # same hidden area at both minima -> depth ratio (flux loss) = surface-brightness ratio J
    assert (1 - f[2000]) / (1 - f[0]) == pytest.approx(J, rel=1e-9)
    # limb darkening deepens a central transit: the hidden centre is brighter than the disc mean
    fl = binary_flux(ph, r1, r2, J, 90.0, u1=0.6, u2=0.6, proximity=False)
    assert 1 - fl[0] > 1 - f[0]
    # ellipsoidal + reflection: brightest at quadrature, both minima still at phases 0 and 0.5
    fp = binary_flux(ph, 0.3, 0.25, 0.5, 85.0, mass_ratio=0.7)
    lo = np.argmin(np.where((ph > 0.25) & (ph < 0.75), fp, np.inf))
    assert abs(ph[lo] - 0.5) < 1e-3 and fp[0] < fp[2000] < fp[1000]
    with pytest.raises(ValueError, match="r1 \\+ r2 < 1"):
        binary_flux(ph, 0.6, 0.5, 1.0, 90.0)


def test_sky_binary_two_eclipses_with_model_depths():
    cfg = SkyConfig(n_per_class=1, seed=0, epochs=(3000, 3000), outlier_frac_max=0.0)
    checked = 0
    for i in range(40):
        time, mag, err, cat, tr = simulate_star("ECL", i, cfg)
        if tr["model"] != "eclipses" or tr["width"] < 0.03 or tr["depth2"] < 0.05:
            continue
        ph = np.mod((time - tr["t0"]) / tr["period_true"], 1.0)
        near = lambda c, w: np.median(mag[np.abs(((ph - c + 0.5) % 1) - 0.5) < w])  # noqa: E731
        top = np.percentile(mag, 2)  # brightest
        w = 0.15 * tr["width"]
        d1, d2 = near(0.0, w) - top, near(0.5, w) - top
        # two eclipses at phases 0 and 0.5 with the model's depths (primary the deeper)
        assert d1 == pytest.approx(tr["depth1"], abs=0.08 + 0.15 * tr["depth1"])
        assert d2 == pytest.approx(tr["depth2"], abs=0.08 + 0.15 * tr["depth2"])
        assert d1 > d2 > near(0.25, 0.02) - top
        checked += 1
        if checked == 3:
            break
    assert checked == 3


def test_sky_binary_depth_ratios_by_kind():
    """Detached / semi-detached secondaries are much shallower than primaries (EROS-1 LMC binaries:
    unequal eclipses), contact binaries' minima stay near-equal (common envelope)."""
    cfg = SkyConfig(n_per_class=1, seed=0, epochs=(50, 50))
    tr = pd.DataFrame([simulate_star("ECL", i, cfg)[4] for i in range(120)])
    ratio = tr["depth2"] / tr["depth1"]
    det, con = ratio[tr["model"] == "eclipses"], ratio[tr["model"] == "contact"]
    assert len(det) > 60 and len(con) > 10
    # measured (120 stars, seeds 0-2): eclipses median 0.18-0.20, contact 0.86-0.92; former priors (300
    # stars, seed 0): detached 0.59, semi-detached 0.35, contact 0.96
    assert 0.08 < det.median() < 0.35, det.describe()
    assert con.median() > 0.75 and con.median() > 2.5 * det.median()
    assert (det < 1.0).all() and (con < 1.1).all()  # primary (phase 0) the deeper, up to proximity effects


def test_blazhko_modulation_period_recovered():
    from astropy.timeseries import LombScargle

    cfg = SkyConfig(n_per_class=1, seed=0, epochs=(4000, 4000), rr_blazhko_frac=1.0, outlier_frac_max=0.0)
    for i in range(30):
        time, mag, err, cat, tr = simulate_star("RRLYR", i, cfg)
        if tr["blazhko_amp"] > 0.15 and tr["bailey_type"] == "RRab":
            break
    f0 = 1.0 / tr["period_true"]
    fb = 1.0 / tr["blazhko_period"]
    # prewhiten the pulsation (8 harmonics at f0), then the strongest side peak of the residuals
    # within f0 +- (1/300 ... 1/15) c/d is the modulation (f0 +- f_Blazhko)
    x = 2 * np.pi * f0 * time
    X = np.column_stack([np.ones_like(x)] + [g(k * x) for k in range(1, 9) for g in (np.cos, np.sin)])
    resid = mag - X @ np.linalg.lstsq(X, mag, rcond=None)[0]
    df = np.linspace(1 / 300, 1 / 15, 4000)
    side = np.concatenate([f0 + df, f0 - df])
    ls = LombScargle(time, resid, err)
    pw = ls.power(side)
    got = abs(side[np.argmax(pw)] - f0)
    assert 1 / got == pytest.approx(tr["blazhko_period"], rel=0.05)
    # without modulation: no truth period and no such side peak
    cfg0 = SkyConfig(n_per_class=1, seed=0, epochs=(4000, 4000), rr_blazhko_frac=0.0, outlier_frac_max=0.0)
    _, _, _, _, tr0 = simulate_star("RRLYR", i, cfg0)
    assert np.isnan(tr0["blazhko_period"]) and fb > 0


def test_lpv_period_drifts():
    def season_phases(cfg, i):
        # the star's mean light curve (4 harmonics at the catalogue period, all seasons), then the
        # phase shift that best matches each season to it: a Mira whose period wanders drifts
        # against its mean curve from season to season, a strictly periodic one does not
        time, mag, err, cat, tr = simulate_star("LPV", i, cfg)
        P = tr["Period"]
        x = 2 * np.pi * time / P
        X = np.column_stack([np.ones_like(x)] + [f(k * x) for k in range(1, 5) for f in (np.cos, np.sin)])
        c, *_ = np.linalg.lstsq(X, mag, rcond=None)

        def template(xx):
            return sum(c[2 * k - 1] * np.cos(k * xx) + c[2 * k] * np.sin(k * xx) for k in range(1, 5))

        shifts = np.linspace(-0.25, 0.25, 501)
        out = []
        for s in np.unique(np.floor((time - time[0]) / 365.25)):
            k = np.floor((time - time[0]) / 365.25) == s
            chi2 = []
            for d in shifts:
                r = mag[k] - template(x[k] + 2 * np.pi * d)
                chi2.append(np.sum((r - r.mean()) ** 2))
            out.append(shifts[int(np.argmin(chi2))])
        return np.asarray(out), np.diff(out)

    base = dict(n_per_class=1, seed=1, outlier_frac_max=0.0, epochs=(800, 800))
    drift = SkyConfig(**base, lpv_period_jitter=0.1, lpv_amp_jitter=0.0)
    steady = SkyConfig(**base, lpv_period_jitter=0.0, lpv_amp_jitter=0.0)
    jit, stay = [], []
    for i in range(5):
        jit.append(np.std(season_phases(drift, i)[1]))
        stay.append(np.std(season_phases(steady, i)[1]))
    # a strictly periodic Mira keeps its phase season after season; a wandering period does not
    assert np.median(stay) < 0.02 and np.median(jit) > 0.03 and np.median(jit) > 3 * np.median(stay)


def test_stochastic_phase_reduces_to_periodic():
    from pelsvae_tf.sky import stochastic_phase

    t = np.sort(np.random.default_rng(0).uniform(0, 3000, 300))
    cyc, amp = stochastic_phase(np.random.default_rng(1), t, 250.0, 100.0, 0.0, 0.0)
    np.testing.assert_allclose(cyc, (t - 100.0) / 250.0, atol=1e-9)
    np.testing.assert_allclose(amp, 1.0)


def test_pulsator_template_harmonics():
    from pelsvae_tf.sky import fourier_series, fourier_shape, pulsator_template

    ph = np.linspace(0, 1, 200, endpoint=False)
    R, P = pulsator_template(0.47, 4.33, 0.32, 2.58, order=3)
    np.testing.assert_allclose(fourier_series(ph, R, P), fourier_shape(ph, 0.47, 4.33, 0.32, 2.58), atol=1e-12)
    R6, _ = pulsator_template(0.47, 4.33, 0.32, 2.58, order=6)
    assert np.all(np.diff(R6[1:]) < 0) and R6[3] == pytest.approx(0.32 * 0.32 / 0.47)
    # a near-sinusoid (RRc-like R31 ~ 0) gets no higher harmonics
    assert np.all(pulsator_template(0.1, 4.8, 0.0, 0.0, order=6)[0][3:] == 0)


def test_eros1_survey_errors_and_cadence():
    cfg = SkyConfig(n_per_class=1, seed=0, survey="eros1", years=3, epochs=(100, 125))
    time, mag, err, cat, tr = simulate_star("RRLYR", 0, cfg)
    assert 100 <= len(time) <= 125 and tr["survey"] == "eros1"
    assert 0.1 < np.median(err) < 0.4 and np.ptp(time) < 3 * 365.25
    o = simulate_star("RRLYR", 0, SkyConfig(n_per_class=1, seed=0))
    assert np.median(o[2]) < 0.5 * np.median(err)  # OGLE photometry is far more precise than plates


@pytest.mark.parametrize(
    "bad, field",
    [
        (dict(survey="sdss"), "SkyConfig.survey"),
        (dict(harmonics=2), "SkyConfig.harmonics"),
        (dict(rr_blazhko_frac=1.5), "SkyConfig.rr_blazhko_frac"),
        (dict(lpv_period_jitter=-0.1), "SkyConfig.lpv_period_jitter"),
        (dict(lpv_amp_jitter=0.9), "SkyConfig.lpv_amp_jitter"),
        (dict(period_noise=0.1), "SkyConfig.period_noise"),
        (dict(detect_snr=-1.0), "SkyConfig.detect_snr"),
        (dict(lpv_shape="sawtooth"), "SkyConfig.lpv_shape"),
        (dict(lpv_srv_fraction=1.5), "SkyConfig.lpv_srv_fraction"),
        (dict(lpv_srv_fraction="many"), "SkyConfig.lpv_srv_fraction"),
    ],
)
def test_sky_config_named_errors(bad, field):
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        SkyConfig(**bad)


def test_mira_flux_model_shape():
    from pelsvae_tf.sky.lpv import mira_magnitudes

    ph = np.linspace(0, 1, 4000, endpoint=False)
    for amp, rise in ((0.8, 0.45), (2.5, 0.4)):
        m = mira_magnitudes(ph, amp, rise)
        assert np.ptp(m) == pytest.approx(amp, rel=1e-4) and abs(m.mean()) < 1e-3 * amp
        # maximum light (smallest magnitude) at phase 0, minimum after the decline: 1 - rise
        assert ph[np.argmin(m)] == pytest.approx(0.0, abs=1e-3)
        assert ph[np.argmax(m)] == pytest.approx(1 - rise, abs=1e-3)
        # a cosine in flux: broad bright maxima, sharp faint minima (positive skewness) that grow
        # with the amplitude, and the 2nd harmonic in phase with the 1st (OGLE phi21 ~ 0)
        skew = np.mean((m - m.mean()) ** 3) / np.std(m) ** 3
        assert skew > 0.1 * amp
        A, phi = fourier_fit(ph, m, n=2)
        assert np.cos(phi[1] - 2 * phi[0]) > 0.8  # (the earlier invented series: cos(3.6-4.6) < -0.1)
    flux = 10 ** (-0.4 * mira_magnitudes(ph, 1.5, 0.5))
    c = np.polyfit(np.cos(2 * np.pi * ph), flux, 1)  # symmetric rise: exactly a cosine in flux
    assert np.allclose(np.polyval(c, np.cos(2 * np.pi * ph)), flux, rtol=1e-9)
    assert np.ptp(mira_magnitudes(ph, 1.0, 0.45, amp_factor=0.5)) == pytest.approx(0.5, rel=1e-4)
    with pytest.raises(ValueError, match="rise_frac"):
        mira_magnitudes(ph, 1.0, 1.2)


def test_sky_miras_follow_the_flux_model():
    cfg = SkyConfig(n_per_class=1, seed=0, outlier_frac_max=0.0, lpv_period_jitter=0.0, lpv_amp_jitter=0.0)
    skews = []
    for i in range(6):
        time, mag, err, cat, tr = simulate_star("LPV", i, cfg)
        assert tr["model"] == "mira_flux" and 0.4 <= tr["rise_frac"] <= 0.5
        m = mag - np.median(mag)
        skews.append(np.mean((m - m.mean()) ** 3) / np.std(m) ** 3)
    assert np.median(skews) > 0.2  # the earlier invented magnitude series had skew ~ -0.1
    old = simulate_star("LPV", 0, SkyConfig(n_per_class=1, seed=0, lpv_shape="fourier"))[4]
    assert old["model"] == "fourier" and np.isnan(old["rise_frac"])


def test_detection_cut_redraws_only_undetectable_stars():
    from pelsvae_tf.sky.build import MAX_DETECTION_DRAWS

    eros = dict(n_per_class=1, seed=3, survey="eros1", years=3, epochs=(100, 125))
    cut, keep = SkyConfig(**eros, detect_snr=6.0), SkyConfig(**eros, detect_snr=0.0)
    redrawn = 0
    for i in range(40):
        a, b = simulate_star("ECL", i, cut)[4], simulate_star("ECL", i, keep)[4]
        assert b["draws"] == 1
        assert a["detect_snr"] >= 6.0 or a["draws"] == MAX_DETECTION_DRAWS
        if a["draws"] == 1:  # a star the cut keeps is the same star as without the cut
            assert a["detect_snr"] == b["detect_snr"] and a["incl"] == b["incl"]
        else:
            redrawn += 1
            assert b["detect_snr"] < 6.0
    assert redrawn > 0  # EROS-1's 0.1-0.3 mag errors hide some grazing eclipses
    # OGLE precision: the main job's sky keeps every first draw
    assert all(simulate_star(c, i, SkyConfig(n_per_class=1))[4]["draws"] == 1 for c in CLASSES for i in range(3))


def test_eros1_survey_observes_the_lmc():
    from pelsvae_tf.sky.survey import field_of, has_field_distance, survey_magnitude_shift

    assert field_of("OGLE-BLG-RRLYR-01234") == "BLG" and field_of("weird") == ""
    assert has_field_distance("OGLE-BLG-RRLYR-1", "RRLYR") and not has_field_distance("OGLE-BLG-ECL-1", "ECL")
    assert not has_field_distance("OGLE-GD-ECL-1", "ECL") and has_field_distance("OGLE-LMC-ECL-1", "ECL")
    assert survey_magnitude_shift("OGLE-LMC-CEP-1", "eros1", "CEP") == 0.0
    assert survey_magnitude_shift("OGLE-BLG-RRLYR-1", "ogle", "RRLYR") == 0.0
    # bulge Miras and Cepheids: extinction / distance unknown, not moved
    assert survey_magnitude_shift("OGLE-BLG-LPV-1", "eros1", "LPV") == 0.0
    assert survey_magnitude_shift("OGLE-BLG-CEP-1", "eros1", "CEP") == 0.0
    assert survey_magnitude_shift("OGLE-SMC-CEP-1", "eros1", "CEP") == pytest.approx(18.58 - 19.04)
    eros = SkyConfig(n_per_class=1, seed=0, survey="eros1", years=3, epochs=(100, 125))
    rr = [simulate_star("RRLYR", i, eros)[3]["I"] for i in range(30)]
    bulge = [simulate_star("RRLYR", i, SkyConfig(n_per_class=1, seed=0))[3]["I"] for i in range(30)]
    # RR Lyrae are standard candles: M_I ~ 0.2 at the LMC's 18.48 mag distance modulus -> I ~ 18.8;
    # the OGLE sky's mostly bulge RR Lyrae are ~2.5 mag brighter
    assert 18.4 < np.median(rr) < 19.1 and np.median(bulge) < np.median(rr) - 1.5
    ecl = [simulate_star("ECL", i, eros)[4]["shape_source"] for i in range(20)]
    assert all(has_field_distance(s, "ECL") for s in ecl)
    # the same magnitudes for generated curves checked against EROS-1 (evaluate's realism section)
    from pelsvae_tf.sky import survey_magnitudes

    rng = np.random.default_rng(0)
    assert 18.4 < np.median(survey_magnitudes("RRLYR", "eros1", 400, rng)) < 19.1
    assert np.median(survey_magnitudes("RRLYR", "ogle", 400, rng)) < 17.5
    with pytest.raises(ValueError, match="no real"):
        survey_magnitudes("XYZ", "eros1", 3, rng)
