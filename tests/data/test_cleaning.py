"""Cleaning steps with physics-aware assertions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pelsvae_tf.data.cleaning import (
    augment_folded,
    fold_phase,
    inverse_minmax_scale,
    minmax_scale,
    resample_to_length,
    sigma_clip,
    snr,
    undersample,
)
from pelsvae_tf.data.lightcurve import FoldedLightCurve, LightCurve
from pelsvae_tf.sky import ogle_cadence


def fourier_fit(phase, mag, n=3):
    """Least-squares Fourier fit: returns (amplitudes A_k, phases phi_k) in the cosine convention."""
    cols = [np.ones_like(phase)]
    for k in range(1, n + 1):
        cols += [np.cos(2 * np.pi * k * phase), np.sin(2 * np.pi * k * phase)]
    coef, *_ = np.linalg.lstsq(np.column_stack(cols), mag, rcond=None)
    a, b = coef[1::2], coef[2::2]
    return np.hypot(a, b), np.arctan2(-b, a)


@pytest.fixture()
def sinusoid():
    rng = np.random.default_rng(1)
    t = ogle_cadence(rng, 600, 8, "bulge")
    period, amp = 0.6123, 0.3
    err = np.full(t.size, 0.01)
    mag = 16 + amp * np.sin(2 * np.pi * t / period) + rng.normal(0, err)
    return t, mag, err, period, amp


def test_folded_sinusoid_stays_a_sinusoid(sinusoid):
    t, mag, err, period, amp = sinusoid
    ph = fold_phase(t, period, t0=t[0])
    assert ph.min() >= 0 and ph.max() < 1
    A, _ = fourier_fit(ph, mag)
    assert A[0] == pytest.approx(amp, rel=0.02)
    assert A[1] / A[0] < 0.02 and A[2] / A[0] < 0.02  # no harmonics: still a pure sinusoid
    # folding with a 0.1 % wrong period over 8 years smears the curve: the test can fail
    A_bad, _ = fourier_fit(fold_phase(t, period * 1.001, t[0]), mag)
    assert A_bad[0] < 0.5 * amp


def test_lightcurve_fold_and_plot(sinusoid):
    import matplotlib

    matplotlib.use("Agg")
    t, mag, err, period, amp = sinusoid
    lc = LightCurve(t, mag, err, {"id": "SIN"})
    f = lc.fold(period)
    assert isinstance(f, FoldedLightCurve) and f is not lc and len(f) == len(lc)
    assert np.all(np.diff(f.phase) >= 0)
    # t0=None puts maximum light (smallest magnitude) at phase 0
    assert f.mag[np.argmin(np.abs(f.phase - 0.0))] < 16 - 0.8 * amp
    ax = f.plot()
    assert ax.yaxis_inverted() and ax.get_xlabel() == "phase"
    ax2 = lc.plot(ax=None)
    assert ax2 is not ax and ax2.yaxis_inverted()
    with pytest.raises(ValueError, match="period"):
        lc.fold(-1.0)
    with pytest.raises(ValueError, match="period"):
        fold_phase(t, 0.0)


def test_lomb_scargle_recovers_sky_periods(tiny_sky):
    from astropy.timeseries import LombScargle

    from pelsvae_tf.data.readers import read_ogle_dat

    truth = pd.read_csv(tiny_sky / "truth.csv")
    picks = truth[truth["Type"].isin(["RRLYR", "CEP", "DSCT", "ELL", "T2CEP"])].groupby("Type").head(1)
    for _, row in picks.iterrows():
        lc = read_ogle_dat(tiny_sky / "photometry" / f"{row['OGLE-ID']}.dat").clipped()
        P = row["Period"]
        # 5 samples per peak width (1 / baseline): a coarser grid can step over the true peak
        freq, power = LombScargle(lc.time, lc.mag, lc.err).autopower(
            minimum_frequency=0.45 / P, maximum_frequency=2.5 / P, samples_per_peak=5, method="fast"
        )
        best = 1 / freq[np.argmax(power)]
        # ellipsoidal variables are double waves: the periodogram peaks at P/2
        expected = P / 2 if row["Type"] == "ELL" else P
        assert best == pytest.approx(expected, rel=2e-3), row["OGLE-ID"]


def test_sigma_clip_removes_injected_outliers(sinusoid):
    t, mag, err, period, amp = sinusoid
    rng = np.random.default_rng(2)
    bad = rng.choice(t.size, 12, replace=False)
    mag = mag.copy()
    mag[bad] += rng.choice([-1, 1], 12) * rng.uniform(0.8, 1.5, 12)
    err = err * rng.lognormal(0, 0.05, t.size)
    bad_err = rng.choice(np.setdiff1d(np.arange(t.size), bad), 5, replace=False)
    err[bad_err] *= 8
    for phase in (None, fold_phase(t, period)):
        keep = sigma_clip(mag, err, 3, 3.0, phase=phase)
        assert not keep[bad].any() and not keep[bad_err].any()
        good = np.ones(t.size, bool)
        good[bad] = good[bad_err] = False
        assert keep[good].mean() > 0.96  # the real points survive


def test_folded_clipping_keeps_eclipses():
    from pelsvae_tf.sky import eclipses, ogle_error

    rng = np.random.default_rng(3)
    t = ogle_cadence(rng, 900, 8, "mc")
    P = 2.345
    ph = fold_phase(t, P, 0.0)
    true = 17 + eclipses(ph, 1.0, 0.3, 0.05)
    err = ogle_error(true) * 10 ** rng.normal(0, 0.1, t.size)  # OGLE-like scatter of the errors
    mag = true + rng.normal(0, err)
    in_eclipse = np.abs(((ph + 0.5) % 1) - 0.5) < 0.03
    raw = sigma_clip(mag, err, 3, 3.0)
    folded = sigma_clip(mag, err, 3, 3.0, phase=ph)
    # raw-magnitude clipping mistakes the primary eclipse for outliers; folded clipping keeps it
    assert (~raw[in_eclipse]).mean() > 0.5
    assert (~folded[in_eclipse]).mean() < 0.1


def test_snr_paper_and_reference(sinusoid):
    t, mag, err, period, amp = sinusoid
    paper = snr(mag, err, "paper")
    ref = snr(mag, err, "reference")
    # robust peak-to-peak of a sinusoid ~ 1.98 A (5-95 %: 2 A sin(0.45 pi)); std = A / sqrt(2)
    assert paper == pytest.approx(2 * amp * np.sin(0.45 * np.pi) / 0.01, rel=0.05)
    assert ref == pytest.approx(amp / np.sqrt(2) / 0.01, rel=0.05)
    rng = np.random.default_rng(0)
    noise = 16 + rng.normal(0, 0.02, 500)
    assert snr(noise, np.full(500, 0.02)) < 5  # pure noise fails the paper's cut
    with pytest.raises(ValueError, match="method"):
        snr(mag, err, "magic")
    with pytest.raises(ValueError, match="lengths"):
        snr(mag, err[:-1])


def test_undersample_policies():
    rng = np.random.default_rng(0)
    idx = undersample(1000, 300, rng)
    assert idx.size == 300 and np.unique(idx).size == 300 and np.all(np.diff(idx) > 0)
    assert undersample(200, 300, rng, "drop") is None
    pad = undersample(200, 300, rng, "pad")
    assert pad.size == 300 and set(range(200)) <= set(pad.tolist())
    with pytest.raises(ValueError, match="short"):
        undersample(10, 5, rng, "keep")


def test_resample_pad_redraws_duplicates():
    rng = np.random.default_rng(0)
    ph = np.sort(rng.uniform(0, 1, 50))
    mag = 15 + np.sin(2 * np.pi * ph)
    err = np.full(50, 0.05)
    out = resample_to_length(ph, mag, err, 120, rng, "pad")
    p2, m2, e2 = out
    assert p2.size == 120 and np.all(np.diff(p2) >= 0)
    # padded points are new N(mag, err) draws, not exact copies
    assert np.unique(m2).size > 100
    assert np.std(m2 - (15 + np.sin(2 * np.pi * p2))) == pytest.approx(0.05 * np.sqrt(70 / 120), rel=0.5)
    assert resample_to_length(ph, mag, err, 120, rng, "drop") is None


def test_minmax_scale_round_trip():
    rng = np.random.default_rng(0)
    mag = 17 + 0.4 * rng.random(300)
    err = rng.uniform(0.01, 0.03, 300)
    sm, se, meta = minmax_scale(mag, err)
    assert sm.min() == 0 and sm.max() == 1
    assert sm[np.argmax(mag)] == 1  # 1 = faintest: magnitudes stay magnitudes
    assert meta["mag_mean"] == pytest.approx(mag.mean()) and meta["err_median"] == pytest.approx(np.median(err))
    np.testing.assert_allclose(se, err / np.ptp(mag))
    m2, e2 = inverse_minmax_scale(sm, se, meta)
    np.testing.assert_allclose(m2, mag, atol=1e-12)
    np.testing.assert_allclose(e2, err, atol=1e-12)
    # batched metadata [N] broadcasts over [N, L]
    mb, _ = inverse_minmax_scale(
        np.stack([sm, sm]),
        np.stack([se, se]),
        {"mag_min": np.array([meta["mag_min"], 10.0]), "mag_range": np.array([meta["mag_range"], 1.0])},
    )
    np.testing.assert_allclose(mb[0], mag)
    assert mb[1].min() == 10.0 and mb[1].max() == 11.0
    with pytest.raises(ValueError, match="constant"):
        minmax_scale(np.ones(5), np.ones(5))


def test_augmentation_preserves_shape_and_amplitude():
    rng = np.random.default_rng(0)
    ph = np.sort(rng.uniform(0, 1, 800))
    mag = 15 + 0.3 * np.cos(2 * np.pi * ph) + 0.12 * np.cos(4 * np.pi * ph + 1.0)
    err = np.full(800, 0.02)
    A0, phi0 = fourier_fit(ph, mag)
    shifts = []
    for _ in range(5):
        p2, m2, e2 = augment_folded(ph, mag, err, 300, rng)
        assert p2.size == 300 and np.all(np.diff(p2) >= 0) and p2.min() >= 0 and p2.max() < 1
        A, phi = fourier_fit(p2, m2)
        assert A[0] == pytest.approx(A0[0], abs=0.01) and A[1] / A[0] == pytest.approx(A0[1] / A0[0], abs=0.04)
        # phi21 is invariant under a phase shift: the shape is the same curve, shifted
        d21 = np.angle(np.exp(1j * ((phi[1] - 2 * phi[0]) - (phi0[1] - 2 * phi0[0]))))
        assert abs(d21) < 0.2
        shifts.append(np.angle(np.exp(1j * (phi[0] - phi0[0]))))
    assert np.ptp(shifts) > 0.5  # random U(0, 1) phase shifts


def test_lightcurve_rejects_bad_arrays():
    with pytest.raises(ValueError, match="empty"):
        LightCurve([], [], [])
    with pytest.raises(ValueError, match="lengths"):
        LightCurve([1, 2], [1], [1])
    with pytest.raises(ValueError, match="NaN"):
        LightCurve([1, 2], [1, np.nan], [0.1, 0.1])
    with pytest.raises(ValueError, match="non-positive"):
        LightCurve([1, 2], [1, 2], [0.1, 0])


# -- every class of the built-in sky: periods recovered, injected outliers removed by prepare ---------
from pelsvae_tf.classes import CLASSES  # noqa: E402

N_PER_CLASS_CHECKED = 4


def _measurable(sky, truth: "pd.DataFrame") -> "pd.DataFrame":
    """Rows of stars that pass prepare's paper S/N cut (>= 5) on their raw photometry: the sky's
    physical binaries include some with eclipses too shallow or narrow for the survey's errors,
    which prepare rightly drops (and whose periodogram no test should expect to find)."""
    from pelsvae_tf.data.cleaning import snr
    from pelsvae_tf.data.readers import read_ogle_dat

    ok = [
        snr(lc.mag, lc.err) >= 5
        for lc in (read_ogle_dat(sky / "photometry" / f"{sid}.dat") for sid in truth["OGLE-ID"])
    ]
    return truth[np.asarray(ok, dtype=bool)]


def test_lomb_scargle_recovers_the_catalogue_period_of_every_class(tiny_sky):
    """Several stars of each of the 8 classes: the periodogram peak lies within half a peak width
    (0.5 / baseline in frequency) of 1/P, or of 2/P for the double-wave binaries (ECL, ELL)."""
    from astropy.timeseries import LombScargle

    from pelsvae_tf.data.readers import read_ogle_dat

    truth = _measurable(tiny_sky, pd.read_csv(tiny_sky / "truth.csv"))
    picks = truth.groupby("Type").head(N_PER_CLASS_CHECKED)
    assert sorted(picks["Type"].unique()) == sorted(CLASSES)
    failures = []
    for _, row in picks.iterrows():
        lc = read_ogle_dat(tiny_sky / "photometry" / f"{row['OGLE-ID']}.dat").clipped()
        P = float(row["Period"])
        freq, power = LombScargle(lc.time, lc.mag, lc.err).autopower(
            minimum_frequency=0.45 / P, maximum_frequency=2.5 / P, samples_per_peak=5, method="fast"
        )
        f_best = freq[np.argmax(power)]
        half_width = 0.5 / np.ptp(lc.time)  # 1/day
        allowed = (1 / P, 2 / P) if row["Type"] in ("ECL", "ELL") else (1 / P,)
        if min(abs(f_best - f) for f in allowed) > half_width:
            failures.append((row["OGLE-ID"], P, 1 / f_best))
    assert not failures, failures


def test_prepare_removes_the_injected_outliers_of_every_class(tiny_sky, tmp_path):
    """The sky injects +-0.3-1.5 mag jumps; no jumped point may survive prepare's cleaning (except for the
    stochastic LPVs, whose irregularity hides jumps), and nearly all other points must: checked on the
    cleaned curves prepare keeps in OUT/.work."""
    import shutil

    from pelsvae_tf.data.prepare import PrepareConfig, prepare
    from pelsvae_tf.data.readers import read_ogle_dat
    from pelsvae_tf.sky import SkyConfig, simulate_star

    truth = _measurable(tiny_sky, pd.read_csv(tiny_sky / "truth.csv"))
    picks = truth[truth["n_outliers"] > 0].groupby("Type").head(3)
    assert sorted(picks["Type"].unique()) == sorted(CLASSES)
    phot = tmp_path / "phot"
    phot.mkdir()
    for sid in picks["OGLE-ID"]:
        shutil.copy(tiny_sky / "photometry" / f"{sid}.dat", phot)
    cat = pd.read_csv(tiny_sky / "catalog.csv")
    cat[cat["OGLE-ID"].isin(picks["OGLE-ID"])].to_csv(tmp_path / "cat.csv", index=False)
    out = tmp_path / "out"
    prepare(
        phot,
        tmp_path / "cat.csv",
        out,
        PrepareConfig(seq_len=100, aug_targets={c: 3 for c in CLASSES}),
        progress=False,
        keep_work=True,
    )
    kept = {}
    for chunk in sorted((out / ".work").glob("clean-*.npz")):
        with np.load(chunk, allow_pickle=False) as z:
            off = z["offsets"]
            for i, sid in enumerate(z["star_id"].tolist()):
                kept[sid] = (z["mag"][off[i] : off[i + 1]], z["err"][off[i] : off[i + 1]])
    assert set(kept) == set(picks["OGLE-ID"])  # every star survived cleaning
    no_outliers = SkyConfig(n_per_class=35, seed=0, outlier_frac_max=0.0)  # the fixture's sky, minus jumps
    n_jumps = 0
    for _, row in picks.iterrows():
        lc = read_ogle_dat(phot / f"{row['OGLE-ID']}.dat")
        index = int(row["OGLE-ID"].rsplit("-", 1)[1])
        _, clean_mag, _, _, _ = simulate_star(row["Type"], index, no_outliers)
        jumped = np.abs(lc.mag - np.round(clean_mag, 3)) > 5e-4
        assert jumped.sum() == row["n_outliers"]
        n_jumps += int(jumped.sum())
        # multiset check on (mag, err) rows: every kept row must be accounted for by a good row
        key = lambda m, e: (round(float(m), 3), round(float(e), 3))  # noqa: E731
        # LPVs wander in period and amplitude (stochastic_phase, issue 13): around their folded
        # median profile a jump hides in the real irregularity (measured: +0.66-1.5 mag jumps kept on
        # 2-4 mag LPVs), so for them only the good points' survival is asserted, not the jumps' removal
        small = jumped & (row["Type"] == "LPV")
        good = pd.Series([key(m, e) for m, e in zip(lc.mag[~jumped | small], lc.err[~jumped | small])]).value_counts()
        mags, errs = kept[row["OGLE-ID"]]
        have = pd.Series([key(m, e) for m, e in zip(mags, errs)]).value_counts()
        surplus = [k for k, n in have.items() if n > good.get(k, 0)]
        assert not surplus, (row["OGLE-ID"], surplus)
        assert mags.size >= 0.93 * (~jumped).sum(), row["OGLE-ID"]  # the clipping spares good points
    assert n_jumps >= 24


def test_minmax_range_is_the_one_rule_for_curves_and_the_physics_scaler():
    from pelsvae_tf.data.cleaning import minmax_range
    from pelsvae_tf.data.scaler import PhysicsScaler

    assert minmax_range(1.0, 3.0) == 2.0 and minmax_range(2.0, 2.0, constant="unit") == 1.0
    with pytest.raises(ValueError, match="constant"):
        minmax_range(2.0, 2.0)
    with pytest.raises(ValueError, match="constant"):
        minmax_scale(np.ones(5), np.ones(5))
    # a parameter with one training value is only shifted (scale 1), as before
    sc = PhysicsScaler.fit(np.array([[5000.0], [5000.0]]), ("teff",))
    assert np.allclose(sc.transform(np.array([[5001.0]]), ("teff",)), [[1.0]])
