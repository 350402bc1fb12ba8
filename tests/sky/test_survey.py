"""The sky's survey models (``pelsvae_tf/sky/survey.py``) and semi-regular variables: EROS-1's plate
schedule, its correlated photometric systematics, its eclipsing binaries' magnitudes, and the LMC
semi-regulars that EROS-1's LPV class holds."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.timeseries import LombScargle

from pelsvae_tf.sky import (
    EROS1_ECL_MEAN_MAG_DECILES,
    EROS1_SEASONS,
    SkyConfig,
    eros1_cadence,
    moon_distance,
    reported_errors,
    simulate_star,
    srv_magnitudes,
    survey_class_magnitude,
    survey_errors,
    survey_noise,
)
from pelsvae_tf.sky.survey import EROS1_MOON_HALF_WIDTH, EROS1_RED_NOISE, EROS1_SEASON_OFFSET, SEASON_GAP, ogle_cadence


def _seasons(t):
    return np.concatenate([[0], np.cumsum(np.diff(t) > SEASON_GAP)])


def test_eros1_cadence_seasons_moon_and_runs():
    rng = np.random.default_rng(0)
    one_night = []
    for n in (100, 113, 125) * 20:
        t = eros1_cadence(rng, n, 3)
        assert t.size == n and np.all(np.diff(np.floor(t)) >= 1)  # one epoch per night
        # no plate within the moon half-width of full moon
        assert moon_distance(np.floor(t)).min() > EROS1_MOON_HALF_WIDTH
        # three seasons holding their measured share of the epochs
        season = _seasons(t)
        assert season.max() == 2
        share = np.array([s[2] for s in EROS1_SEASONS])
        assert np.abs(np.bincount(season) - n * share / share.sum()).max() <= 1
        one_night.append(np.mean(np.diff(t) < 1.5))
    # runs of consecutive nights: the real EROS-1 schedule has 51 % of successive epochs one night
    # apart (benchmarks/bench_eros1_noise.py); random nights in the same seasons give far fewer
    assert 0.45 < np.mean(one_night) < 0.6
    # more epochs than dark nights: every night is used, the rest double up; more seasons than the
    # three measured, one a year; a handful of epochs; nonsense named
    t = eros1_cadence(rng, 1000, 8)
    assert t.size == 1000 and _seasons(t).max() == 7 and np.all(np.diff(t) >= 0)
    for n, years in ((10, 1), (10, 3), (0, 2)):
        t = eros1_cadence(rng, n, years)
        assert t.size == n and np.all(moon_distance(np.floor(t)) > EROS1_MOON_HALF_WIDTH)
    with pytest.raises(ValueError, match="n=-1"):
        eros1_cadence(rng, -1, 3)
    with pytest.raises(ValueError, match="years=0"):
        eros1_cadence(rng, 10, 0)
    # the OGLE cadence is unchanged and refuses an unknown survey
    assert ogle_cadence(np.random.default_rng(1), 50, 2, "mc").size == 50
    with pytest.raises(ValueError, match="survey='sdss'"):
        ogle_cadence(rng, 50, 2, "mc", "sdss")


def _next_night_correlation(cls, n_stars):
    """Next-night correlation of the residuals about a 4-harmonic fit at the catalogue period, season
    means removed, of ``n_stars`` simulated EROS-1 stars of class ``cls`` (the statistic measured on
    the real EROS-1 train split), and their median magnitude."""
    cfg = SkyConfig(n_per_class={cls: n_stars}, seed=0, survey="eros1", years=3, epochs=(100, 125))
    a, b, level = [], [], []
    for i in range(n_stars):
        t, m, e, cat, _ = simulate_star(cls, i, cfg)
        ph = np.mod(t / cat["Period"], 1.0)
        cols = [np.ones_like(ph)]
        for k in range(1, 5):
            cols += [np.cos(2 * np.pi * k * ph), np.sin(2 * np.pi * k * ph)]
        X = np.column_stack(cols) / e[:, None]
        r = m - np.column_stack(cols) @ np.linalg.lstsq(X, m / e, rcond=None)[0]
        keep = np.abs(r) < 4 * 1.4826 * np.median(np.abs(r))
        t, r = t[keep], r[keep]
        season = _seasons(t)
        for j in np.unique(season):
            r[season == j] -= r[season == j].mean()
        pair = np.diff(t) < 1.5
        a += list(r[:-1][pair])
        b += list(r[1:][pair])
        level.append(np.median(m))
    return np.corrcoef(a, b)[0, 1], np.median(level)


def test_eros1_noise_is_correlated_for_bright_stars_only():
    # the real EROS-1 train split, pooled by magnitude (benchmarks/bench_eros1_noise.py): 0.26 for
    # r < 16, 0.14 at 16-17, ~0 fainter (RR Lyrae at r ~ 18.8); white noise alone gives ~0
    corr, level = _next_night_correlation("CEP", 80)
    assert level < 16.5 and 0.15 < corr < 0.4
    corr, level = _next_night_correlation("RRLYR", 80)
    assert level > 18 and abs(corr) < 0.08
    # constant stars: per-star season offsets of the model's rms, and a total scatter the errors describe
    rng = np.random.default_rng(3)
    for level, err0 in ((15.5, 0.11), (19.0, 0.25)):
        offs, ratio = [], []
        for _ in range(100):
            t = eros1_cadence(rng, 120, 3)
            err = np.full(t.size, err0)
            r = survey_noise(rng, t, np.full(t.size, level), err, "eros1")
            ratio.append(np.mean(r**2) / err0**2)
            offs += [r[_seasons(t) == j].mean() for j in range(3)]
        assert ratio and np.mean(ratio) == pytest.approx(1.0, abs=0.15)
        expected = np.hypot(np.interp(level, *EROS1_SEASON_OFFSET), np.interp(level, *EROS1_RED_NOISE) * 0.5)
        assert np.std(offs) == pytest.approx(expected, rel=0.35)
    # the per-star error level scatters by 0.10 dex about the error model (real: 0.101 dex)
    lv = [np.log10(np.median(survey_errors(rng, np.full(120, 17.0), "eros1"))) for _ in range(400)]
    assert np.std(lv) == pytest.approx(0.10, abs=0.02)
    # the white noise is Gaussian in flux: a faint tail in magnitudes, growing as the signal-to-noise
    # drops (real residuals: skewness +0.15..+0.61, largest for faint stars); the reported errors
    # come from the measured magnitude, so points that came out faint report larger errors
    skews = []
    for level, err0 in ((15.5, 0.11), (18.9, 0.22)):
        t = eros1_cadence(rng, 4000, 30)
        true = np.full(t.size, level)
        err = np.full(t.size, err0)
        r = survey_noise(rng, t, true, err, "eros1")
        skews.append(np.mean(((r - r.mean()) / r.std()) ** 3))
        rep = reported_errors(err, true, true + r, "eros1")
        assert np.corrcoef(r, rep)[0, 1] > 0.5 and np.median(rep) == pytest.approx(err0, rel=0.05)
    assert -0.05 < skews[0] < skews[1] and skews[1] > 0.3  # bright: the white part is small
    assert np.array_equal(reported_errors(err, true, true + r, "ogle"), err)
    with pytest.raises(ValueError, match="time must be sorted"):
        survey_noise(rng, np.array([100.0, 500.0, 110.0]), np.zeros(3), np.full(3, 0.1), "eros1")
    with pytest.raises(ValueError, match="one length"):
        survey_noise(rng, np.arange(3.0), np.zeros(3), np.full(4, 0.1), "eros1")
    # OGLE: white noise, the same draws as N(0, err)
    err = np.full(40, 0.02)
    t = np.arange(40.0)
    got = survey_noise(np.random.default_rng(5), t, np.zeros(40), err, "ogle")
    assert np.array_equal(got, np.random.default_rng(5).normal(0, err))


def test_eros1_eclipsing_binaries_take_the_surveys_magnitudes():
    rng = np.random.default_rng(0)
    m = np.array([survey_class_magnitude(rng, "ECL", "eros1") for _ in range(4000)])
    lo, hi = EROS1_ECL_MEAN_MAG_DECILES[0], EROS1_ECL_MEAN_MAG_DECILES[-1]
    assert m.min() >= lo and m.max() <= hi
    assert np.median(m) == pytest.approx(EROS1_ECL_MEAN_MAG_DECILES[5], abs=0.1)
    assert survey_class_magnitude(rng, "ECL", "ogle") is None
    assert survey_class_magnitude(rng, "CEP", "eros1") is None
    # the simulated binaries: faint ones that the plates cannot detect are drawn again, so the sky's
    # median (17.5 for these 100 stars) is a little brighter than the catalogue's 17.9, and far
    # fainter than the Magellanic donors' own 16.2
    cfg = SkyConfig(n_per_class={"ECL": 100}, seed=0, survey="eros1", years=3, epochs=(100, 125))
    mags = [simulate_star("ECL", i, cfg)[3]["I"] for i in range(100)]
    assert 16.9 < np.median(mags) < 18.2


def test_semi_regular_variable_wanders_about_its_period():
    t = np.sort(np.random.default_rng(0).uniform(0, 3000, 800))
    # strict: no wandering -> a sinusoid of the given amplitude
    strict = srv_magnitudes(np.random.default_rng(1), t, 0.0, (120.0,), (0.4,), sigma_p=0.0, sigma_a=0.0)
    X = np.column_stack([np.cos(2 * np.pi * t / 120.0), np.sin(2 * np.pi * t / 120.0)])
    coef = np.linalg.lstsq(X, strict, rcond=None)[0]
    np.testing.assert_allclose(X @ coef, strict, atol=1e-9)
    assert np.hypot(*coef) == pytest.approx(0.2, rel=1e-9)
    m = srv_magnitudes(np.random.default_rng(1), t, 0.0, (120.0, np.nan), (0.4, 0.3))
    freq, power = LombScargle(t, m).autopower(minimum_frequency=1 / 1000, maximum_frequency=1 / 20)
    assert 1 / freq[np.argmax(power)] == pytest.approx(120.0, rel=0.05)
    # the amplitude changes from cycle to cycle (semi-regular), the strict one does not
    cyc = np.floor(t / 120.0)

    def cycle_ranges(x):
        return np.array([np.ptp(x[cyc == c]) for c in np.unique(cyc) if (cyc == c).sum() >= 20])

    assert np.std(cycle_ranges(m)) / np.mean(cycle_ranges(m)) > 0.15
    assert np.std(cycle_ranges(strict)) / np.mean(cycle_ranges(strict)) < 0.05
    # each period starts at its own random phase: a long secondary period brightens some stars over
    # three years and fades others (a common zero phase made 400 of 400 brighten)
    tt = np.linspace(0, 1000, 120)
    slopes = [
        np.polyfit(tt, srv_magnitudes(np.random.default_rng(s), tt, 0.0, (3000.0,), (0.5,), sigma_p=0, sigma_a=0), 1)[0]
        for s in range(400)
    ]
    assert 0.35 < np.mean(np.asarray(slopes) > 0) < 0.65


def test_lpv_class_holds_semi_regulars_only_where_the_survey_does():
    assert SkyConfig().srv_fraction() == 0.0  # the paper's LPV class: Miras only
    eros = SkyConfig(n_per_class={"LPV": 120}, seed=0, survey="eros1", years=3, epochs=(100, 125))
    assert eros.srv_fraction() == pytest.approx(0.674)
    subs = [simulate_star("LPV", i, eros)[3]["subType"] for i in range(120)]
    assert 0.55 < np.mean(np.asarray(subs) == "SRV") < 0.8
    srv = [i for i, s in enumerate(subs) if s == "SRV"]
    t, m, e, cat, tr = simulate_star("LPV", srv[0], eros)
    assert cat["OGLE-ID"].startswith("OGLE-SKY-LPV") and tr["shape_source"].startswith("OGLE-LMC-LPV")
    assert tr["model"] == "srv" and np.isnan(cat["teff_val"])
    # semi-regulars vary less than Miras (I amplitude >= 0.2 mag vs the Miras' >= 0.8)
    mira = [i for i, s in enumerate(subs) if s == "Mira"]
    amp = lambda i: np.ptp(np.percentile(simulate_star("LPV", i, eros)[1], [5, 95]))  # noqa: E731
    assert np.median([amp(i) for i in srv[:15]]) < np.median([amp(i) for i in mira[:15]])
    ogle = SkyConfig(n_per_class={"LPV": 20}, seed=0)
    assert all(simulate_star("LPV", i, ogle)[3]["subType"] == "Mira" for i in range(20))
    forced = SkyConfig(n_per_class={"LPV": 5}, seed=0, lpv_srv_fraction=1.0)
    assert all(simulate_star("LPV", i, forced)[3]["subType"] == "SRV" for i in range(5))
