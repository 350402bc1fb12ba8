"""Metric functions on curves and samples with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from pelsvae_tf.evaluate import metrics as M


def _sawtooth(phase: np.ndarray, n_terms: int = 40) -> np.ndarray:
    """Fourier series of a sawtooth: A_k = 1/k, so R21 = 1/2 and R31 = 1/3 exactly."""
    k = np.arange(1, n_terms + 1)
    return np.sum(np.sin(2 * np.pi * k[None, :] * phase[:, None]) / k[None, :], axis=1)


def test_weighted_rmse_known_values():
    x = np.zeros((2, 4))
    xh = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 2.0]])
    err = np.array([[0.1] * 4, [1.0, 1.0, 1.0, 1e6]])
    out = M.weighted_rmse(x, xh, err)
    assert out[0] == pytest.approx(1.0)  # equal errors -> plain RMSE
    # the only wrong point has a huge error: it hardly counts
    assert out[1] < 1e-5
    assert M.rmse(x, xh)[1] == pytest.approx(1.0)


def test_weighted_rmse_rejects_bad_input():
    with pytest.raises(ValueError, match="mag_hat"):
        M.weighted_rmse(np.zeros(3), np.array([0.0, np.nan, 0.0]), np.ones(3))
    with pytest.raises(ValueError, match="shape mismatch"):
        M.weighted_rmse(np.zeros(3), np.zeros(4), np.ones(3))


def test_fourier_pure_sinusoid_has_r21_zero_and_right_amplitude():
    rng = np.random.default_rng(1)
    phase = rng.uniform(0, 1, (5, 150))
    mag = 3.0 + 0.4 * np.cos(2 * np.pi * phase + 1.1) + rng.normal(0, 0.002, phase.shape)
    f = M.fourier_fit(phase, mag, n_harmonics=3)
    np.testing.assert_allclose(f["A0"], 3.0, atol=1e-3)
    np.testing.assert_allclose(f["A1"], 0.4, atol=2e-3)
    np.testing.assert_allclose(f["phi1"], 1.1, atol=1e-2)
    assert np.all(f["R21"] < 0.02) and np.all(f["R31"] < 0.02)
    np.testing.assert_allclose(f["amplitude"], 0.8, atol=5e-3)


def test_fourier_sawtooth_ratios_and_phase_shift_invariance():
    phase = np.sort(np.random.default_rng(2).uniform(0, 1, 400))
    saw = _sawtooth(phase)
    shifted = _sawtooth(np.mod(phase + 0.37, 1.0))
    f = M.fourier_fit(np.stack([phase, phase]), np.stack([saw, shifted]), n_harmonics=3)
    np.testing.assert_allclose(f["R21"], 0.5, atol=0.02)
    np.testing.assert_allclose(f["R31"], 1 / 3, atol=0.02)
    # phi21, phi31 do not depend on where phase zero is
    d21 = np.angle(np.exp(1j * (f["phi21"][0] - f["phi21"][1])))
    d31 = np.angle(np.exp(1j * (f["phi31"][0] - f["phi31"][1])))
    assert abs(d21) < 0.05 and abs(d31) < 0.05
    # a sawtooth is skewed, a sinusoid is not
    sk = M.skewness(np.stack([saw, np.cos(2 * np.pi * phase)]))
    assert abs(sk[1]) < 0.1


def test_shape_features_finite_for_flat_curve():
    phase = np.linspace(0, 1, 50, endpoint=False)
    feats = M.shape_features(np.stack([phase, phase]), np.stack([np.ones(50), np.cos(2 * np.pi * phase)]))
    assert feats.shape == (2, len(M.SHAPE_FEATURE_NAMES))
    assert np.all(np.isfinite(feats))
    assert feats[0, 0] == pytest.approx(0.0, abs=1e-9)  # flat: zero amplitude
    assert feats[1, 0] == pytest.approx(2.0, abs=1e-3)  # cos: peak-to-peak 2


def test_lomb_scargle_recovers_known_period():
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0, 800, 150))
    period = 0.5734
    mag = 15 + 0.3 * np.sin(2 * np.pi * t / period) + rng.normal(0, 0.02, t.size)
    found = M.lomb_scargle_period(t, mag, np.full(t.size, 0.02), min_period=0.1, max_period=10)
    assert M.period_recovered(found, period, rtol=1e-3)[0]
    found_astropy = M.lomb_scargle_period(
        t, mag, np.full(t.size, 0.02), min_period=0.1, max_period=10, backend="astropy"
    )
    assert abs(found_astropy / found - 1) < 1e-4  # both coarse searches land on the same refined peak
    # a double-wave (ellipsoidal-like) curve: LS finds P/2, accepted only with harmonics
    mag2 = 15 + 0.2 * np.cos(4 * np.pi * t / period) + rng.normal(0, 0.01, t.size)
    f2 = M.lomb_scargle_period(t, mag2, min_period=0.1, max_period=10)
    assert not M.period_recovered(f2, period, rtol=1e-3)[0]
    assert M.period_recovered(f2, period, rtol=1e-3, harmonics=(0.5, 1, 2))[0]
    with pytest.raises(ValueError, match="min_period"):
        M.lomb_scargle_period(t, mag, min_period=5, max_period=1)


def test_distribution_distances_identical_and_shifted():
    rng = np.random.default_rng(4)
    a = rng.normal(0, 1, (500, 2))
    d_same = M.distribution_distances(a, a.copy(), names=["x", "y"])
    assert d_same["x"]["ks"] == pytest.approx(0.0) and d_same["x"]["wasserstein"] == pytest.approx(0.0)
    d_shift = M.distribution_distances(a, a + np.array([3.0, 0.0]), names=["x", "y"])
    assert d_shift["x"]["wasserstein"] == pytest.approx(3.0)
    assert d_shift["x"]["ks"] > 0.8 and d_shift["x"]["ks_pvalue"] < 1e-6
    assert d_shift["y"]["ks"] == pytest.approx(0.0)


def test_c2st_auc_half_for_same_distribution_one_for_separable():
    rng = np.random.default_rng(5)
    a = rng.normal(0, 1, (300, 3))
    b = rng.normal(0, 1, (300, 3))
    same = M.c2st_auc(a, b, seed=0)
    assert 0.4 < same["auc"] < 0.6
    sep = M.c2st_auc(a, b + 6.0, seed=0)
    assert sep["auc"] > 0.99
    with pytest.raises(ValueError, match="n_splits"):
        M.c2st_auc(a[:3], b[:3], n_splits=5)


def test_tstr_detects_wrong_synthetic_labels():
    rng = np.random.default_rng(6)
    centres = np.array([[0.0, 0.0], [5.0, 5.0], [0.0, 8.0]])

    def sample(n):
        y = rng.integers(0, 3, n)
        return centres[y] + rng.normal(0, 0.5, (n, 2)), y

    xs, ys = sample(300)
    xr, yr = sample(300)
    xt, yt = sample(200)
    good = M.tstr_accuracy(xs, ys, xr, yr, xt, yt, n_classes=3)
    assert good["accuracy_tstr"] > 0.95 and good["accuracy_trtr"] > 0.95
    assert np.trace(np.array(good["confusion_tstr"])) == int(round(good["accuracy_tstr"] * 200))
    bad = M.tstr_accuracy(xs, (ys + 1) % 3, xr, yr, xt, yt, n_classes=3)  # synthetic labels permuted
    assert bad["accuracy_tstr"] < 0.1 and bad["ratio"] < 0.1


def test_flat_baseline_is_the_weighted_std_and_any_shape_beats_it():
    ph = np.linspace(0, 1, 200, endpoint=False)
    curve = 0.5 + 0.4 * np.cos(2 * np.pi * ph)
    err = np.full_like(ph, 0.01)
    flat = M.flat_baseline_rmse(curve, err)
    # predicting the mean of a cosine of amplitude A leaves an RMSE of A / sqrt(2)
    assert flat[0] == pytest.approx(0.4 / np.sqrt(2), rel=1e-6)
    # the baseline is the best constant: another constant does worse, the true curve does better
    assert M.weighted_rmse(curve, np.full_like(curve, 0.45), err)[0] > flat[0]
    assert M.weighted_rmse(curve, curve, err)[0] == 0.0 < flat[0]
    # weighted mean: a wild point with a huge error barely moves the baseline
    wild, e2 = curve.copy(), err.copy()
    wild[0], e2[0] = 50.0, 1e4
    assert M.flat_baseline_rmse(wild, e2)[0] == pytest.approx(flat[0], rel=1e-2)
    with pytest.raises(ValueError, match="err_floor"):
        M.flat_baseline_rmse(curve, err, err_floor=0.0)


def test_amplitude_in_magnitudes_undoes_the_minmax_scaling():
    rng = np.random.default_rng(0)
    ph = np.sort(rng.uniform(0, 1, (3, 150)), axis=1)
    amp_true = np.array([0.2, 0.8, 1.5])  # peak-to-peak [mag]
    mag = 15.0 + 0.5 * amp_true[:, None] * np.cos(2 * np.pi * ph)
    lo, hi = mag.min(1, keepdims=True), mag.max(1, keepdims=True)
    scaled = (mag - lo) / (hi - lo)
    f = M.shape_features_with_mag(ph, scaled, (hi - lo)[:, 0])
    assert f.shape == (3, len(M.FEATURE_NAMES_WITH_MAG))
    i_scaled, i_mag = M.FEATURE_NAMES_WITH_MAG.index("amplitude"), M.FEATURE_NAMES_WITH_MAG.index("amplitude_mag")
    np.testing.assert_allclose(f[:, i_scaled], 1.0, rtol=2e-3)  # constant by construction once scaled
    np.testing.assert_allclose(f[:, i_mag], amp_true, rtol=2e-3)  # the real amplitude, in mag
    with pytest.raises(ValueError, match="mag_range: 2 values for 3 curves"):
        M.shape_features_with_mag(ph, scaled, [1.0, 2.0])
    with pytest.raises(ValueError, match="mag_range: every curve's magnitude range must be finite and > 0"):
        M.shape_features_with_mag(ph, scaled, [1.0, 0.0, 2.0])
