"""The Generator: determinism, cadences, periodicity (Lomb-Scargle), magnitudes, ranges, errors."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

from pelsvae_tf.evaluate.metrics import lomb_scargle_period
from pelsvae_tf.generate.cadence import Cadence, phases, survey_cadence
from pelsvae_tf.generate.generator import Generator, PhysicsRangeWarning


def _mid(gen, cls, name):
    lo, hi = gen.class_range(cls, name)
    return 0.5 * (lo + hi)


def _params(gen, cls="RRLYR"):
    return {p: _mid(gen, cls, p) for p in ("teff", "abs_gmag", "period")}


def test_deterministic_for_a_seed(forest_generator):
    g = forest_generator
    kw = dict(n=5, cadence=survey_cadence(60, 500.0, seed=1), **_params(g))
    a = g.generate("RRLYR", seed=7, **kw)
    b = g.generate("RRLYR", seed=7, **kw)
    c = g.generate("RRLYR", seed=8, **kw)
    np.testing.assert_array_equal(a.mag, b.mag)
    np.testing.assert_array_equal(a.z, b.z)
    assert not np.array_equal(a.mag, c.mag)


def test_explicit_cadence_gives_the_requested_times(forest_generator):
    from astropy.time import Time

    g = forest_generator
    t = np.sort(np.random.default_rng(0).uniform(0, 300, 80))
    res = g.generate("CEP", n=3, cadence=t, seed=0, **_params(g, "CEP"))
    assert res.time.shape == (3, 80)
    np.testing.assert_array_equal(res.time, np.broadcast_to(t, (3, 80)))
    np.testing.assert_allclose(res.phase, np.mod((t - 0.0) / res.period[:, None], 1.0))
    # astropy Time is taken as MJD days
    tt = Time(59000.0 + t, format="mjd")
    res2 = g.generate("CEP", n=1, cadence=Cadence.from_times(tt), seed=0, t0=59000.0, **_params(g, "CEP"))
    np.testing.assert_allclose(res2.time[0], 59000.0 + t)
    np.testing.assert_allclose(res2.phase[0], res.phase[0], atol=1e-6)


def _fold_dispersion(t, m, period):
    """Mean squared difference of phase-adjacent points over twice the variance (PDM-like:
    ~0 for a smooth folded curve, ~1 for a scrambled one)."""
    o = np.argsort(np.mod(t / period, 1.0))
    return np.mean(np.diff(m[o]) ** 2) / (2 * np.var(m))


def test_generated_curves_are_periodic_at_the_requested_period(forest_generator):
    """The decoder works in phase, so generated curves at a survey cadence fold smoothly at P only."""
    g = forest_generator
    params = _params(g, "RRLYR")
    res = g.generate("RRLYR", n=4, cadence=survey_cadence(300, 1500.0, seed=2), seed=1, noise=False, **params)
    P = params["period"]
    for i in range(len(res)):
        t, m = res.time[i], res.mag[i]
        assert np.ptp(m) > 1e-3 * res.amplitude[i]  # not a constant
        # Lomb-Scargle over 0.1-10 d finds the requested period (the tiny model learnt the shape)
        found = lomb_scargle_period(t, m, min_period=0.1, max_period=10.0)
        assert found == pytest.approx(P, rel=0.01), (found, P)
        # and the curve folds smoothly at exactly P, not at a period 1% away
        assert _fold_dispersion(t, m, P) < 0.3
        assert _fold_dispersion(t, m, 1.01 * P) > 2 * _fold_dispersion(t, m, P)


def test_magnitudes_follow_mean_and_amplitude(forest_generator):
    from pelsvae_tf.generate.phase_function import grid_phases

    g = forest_generator
    grid = Cadence.from_phases(grid_phases(g.n_grid).astype(np.float64))
    res = g.generate("ECL", n=3, cadence=grid, seed=0, mag_mean=15.0, amplitude=0.8, noise=False, **_params(g, "ECL"))
    # on the decoding grid: the phase average is exactly mag_mean and the peak-to-peak exactly the
    # amplitude (the model curve is the grid, linearly interpolated in between)
    np.testing.assert_allclose(res.mag_model.mean(axis=1), 15.0, atol=1e-4)
    np.testing.assert_allclose(np.ptp(res.mag_model, axis=1), 0.8, atol=1e-4)
    k = 0.8 / np.ptp(res.scaled_mag, axis=1, keepdims=True)  # mag per decoder unit
    np.testing.assert_allclose(
        res.mag_model, 15.0 + k * (res.scaled_mag - res.scaled_mag.mean(1, keepdims=True)), atol=1e-4
    )
    np.testing.assert_allclose(res.err, k * res.scaled_err, rtol=1e-4)
    # any other cadence samples the same curve: never outside [min, max] of the model
    other = g.generate(
        "ECL", n=3, cadence=phases(256), seed=0, mag_mean=15.0, amplitude=0.8, noise=False, **_params(g, "ECL")
    )
    assert np.all(other.mag_model.min(1) >= res.mag_model.min(1) - 1e-5)
    assert np.all(other.mag_model.max(1) <= res.mag_model.max(1) + 1e-5)
    # noise draw: residuals scale with the generated errors
    noisy = g.generate("ECL", n=3, cadence=phases(256), seed=0, mag_mean=15.0, amplitude=0.8, **_params(g, "ECL"))
    pull = (noisy.mag - noisy.mag_model) / noisy.err
    assert 0.8 < pull.std() < 1.2


def test_parameters_and_magnitudes_sampled_from_the_class(forest_generator):
    g = forest_generator
    res = g.generate("LPV", n=50, seed=0)
    for p in ("teff", "abs_gmag", "period"):
        lo, hi = g.class_range("LPV", p)
        assert np.all((res.physics[p] >= lo) & (res.physics[p] <= hi))
    stats = g.train_stats
    lpv = np.asarray(stats["label"]) == g.classes.index("LPV")
    # amplitudes are training stars' model peak-to-peak values (not their noisy min-max ranges)
    assert set(np.round(res.amplitude, 5)) <= set(np.round(stats["amplitude_model"][lpv].astype(np.float64), 5))
    assert np.all(res.in_training_range)


def test_quantities_are_converted(forest_generator):
    import astropy.units as u

    g = forest_generator
    p = _params(g)
    a = g.generate("RRLYR", teff=p["teff"], abs_gmag=p["abs_gmag"], period=p["period"], seed=0)
    b = g.generate(
        "RRLYR", teff=p["teff"] * u.K, abs_gmag=p["abs_gmag"] * u.mag, period=(p["period"] * 24) * u.hour, seed=0
    )
    np.testing.assert_allclose(a.mag, b.mag, rtol=1e-6)
    with pytest.raises(ValueError, match="teff"):
        g.generate("RRLYR", teff=6500 * u.m, abs_gmag=p["abs_gmag"], period=p["period"])


def test_out_of_range_warns_or_raises_with_the_range(forest_generator):
    g = forest_generator
    p = _params(g)
    lo, hi = g.class_range("RRLYR", "teff")
    with pytest.warns(PhysicsRangeWarning, match=r"teff .* outside the training range of RRLYR: \["):
        g.generate("RRLYR", teff=hi + 5000, abs_gmag=p["abs_gmag"], period=p["period"])
    with pytest.raises(ValueError, match="strict"):
        g.generate("RRLYR", teff=hi + 5000, abs_gmag=p["abs_gmag"], period=p["period"], strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g.generate("RRLYR", strict=True, **p)  # in range: silent


def test_bad_inputs_raise_clear_errors(forest_generator, tmp_path):
    g = forest_generator
    p = _params(g)
    with pytest.raises(ValueError, match="unknown variability class"):
        g.generate("QSO", **p)
    with pytest.raises(ValueError, match="period must be positive"):
        g.generate("RRLYR", teff=p["teff"], abs_gmag=p["abs_gmag"], period=-0.5)
    with pytest.raises(ValueError, match="NaN"):
        g.generate("RRLYR", teff=np.nan, abs_gmag=p["abs_gmag"], period=p["period"])
    with pytest.raises(ValueError, match="n=0"):
        g.generate("RRLYR", n=0, **p)
    with pytest.raises(ValueError, match="3 values for n=2"):
        g.generate("RRLYR", n=2, teff=[1, 2, 3], abs_gmag=p["abs_gmag"], period=p["period"])
    with pytest.raises(ValueError, match="unknown parameter"):
        g.generate("RRLYR", mass=1.0, **p)
    # a class none of whose training stars has the physics (ACEP with physics_imputation="none":
    # Gaia DR2 has a Teff for 1 of 89): its physics cannot be sampled, and explicit ones warn
    hidden = copy.copy(g)
    hidden.train_stats = dict(g.train_stats)
    phys = np.array(g.train_stats["phys"], dtype=np.float32, copy=True)
    teff = [str(c) for c in g.train_stats["physics_columns"]].index("teff")
    phys[np.asarray(g.train_stats["label"]) == g.classes.index("ACEP"), teff] = np.nan
    hidden.train_stats["phys"] = phys
    assert "ACEP" in g.classes_with_physics and "ACEP" not in hidden.classes_with_physics
    with pytest.raises(ValueError, match="no training star has"):
        hidden.generate("ACEP")
    with pytest.warns(PhysicsRangeWarning, match="never saw"):
        hidden.generate("ACEP", **p)
    with pytest.raises(FileNotFoundError, match="run directory"):
        Generator.load(tmp_path)


def test_types_are_validated_naming_the_field(forest_generator):
    g = forest_generator
    p = _params(g)
    # the number of curves: a positive integer, never truncated or taken from a bool
    with pytest.raises(ValueError, match=r"n=2\.7: the number of curves must be a positive integer \(got float\)"):
        g.generate("RRLYR", n=2.7, **p)
    with pytest.raises(ValueError, match=r"n=True: .* positive integer \(got bool\)"):
        g.generate("RRLYR", n=True, **p)
    assert len(g.generate("RRLYR", n=np.int64(3), **p)) == 3  # numpy integers are integers
    # seed: a non-negative integer, or None for fresh entropy
    with pytest.raises(ValueError, match=r"seed=2\.5: give a non-negative integer, or None"):
        g.generate("RRLYR", seed=2.5, **p)
    with pytest.raises(ValueError, match=r"seed=-1: must be >= 0"):
        g.generate("RRLYR", seed=-1, **p)
    with pytest.raises(ValueError, match=r"seed='7'"):
        g.generate("RRLYR", seed="7", **p)
    a = g.generate("RRLYR", n=4, seed=None, **p)
    b = g.generate("RRLYR", n=4, seed=None, **p)
    assert not np.array_equal(a.mag, b.mag)  # fresh entropy: different noise and dummy draws
    again = g.generate("RRLYR", n=4, seed=a.meta["seed"], **p)  # ... but the entropy used is kept
    np.testing.assert_array_equal(again.mag, a.mag)
    # physical parameters, magnitudes and t0: real numbers, not bools or strings
    with pytest.raises(ValueError, match=r"period: True is a bool, not a number; give a real number in d"):
        g.generate("RRLYR", teff=p["teff"], abs_gmag=p["abs_gmag"], period=True)
    with pytest.raises(ValueError, match=r"teff: values of type bool are not numbers; give a real number in K"):
        g.generate("RRLYR", n=2, teff=np.array([True, False]), abs_gmag=p["abs_gmag"], period=p["period"])
    with pytest.raises(ValueError, match=r"abs_gmag: '0.7' is a str"):
        g.generate("RRLYR", teff=p["teff"], abs_gmag="0.7", period=p["period"])
    with pytest.raises(ValueError, match=r"amplitude: True is a bool.*in mag"):
        g.generate("RRLYR", amplitude=True, **p)
    with pytest.raises(ValueError, match=r"t0: True is a bool, not a time"):
        g.generate("RRLYR", t0=True, **p)


def test_vectorised_batched_decoder_calls(forest_generator):
    """1,000 curves of mixed classes in one call: one graph call (grid decode + interpolation +
    magnitudes), no per-curve loop; the cost does not depend on the number of requested phases."""
    g = forest_generator
    calls = []
    orig = g.phase_function.render_np

    def counting(z, *rest):
        calls.append(int(len(z)))
        return orig(z, *rest)

    g.phase_function.render_np = counting
    try:
        cls = np.asarray(g.classes_with_physics)[np.arange(1000) % len(g.classes_with_physics)]
        res = g.generate(cls, n=1000, cadence=phases(50), seed=0)
    finally:
        g.phase_function.render_np = orig
    assert res.mag.shape == (1000, 50) and calls == [1000]
    assert set(res.cls) == set(g.classes_with_physics) and len(set(res.cls)) >= 5


def test_outputs_tables_files_and_plot(forest_generator, tmp_path):
    import matplotlib
    import pandas as pd

    matplotlib.use("Agg")
    g = forest_generator
    res = g.generate("RRLYR", n=2, cadence=phases(30), seed=0, **_params(g))
    df = res.to_pandas()
    assert len(df) == 60 and {"time", "phase", "mag", "err", "cls", "teff", "period"} <= set(df.columns)
    tab = res.to_table()
    assert str(tab["time"].unit) == "d" and str(tab["teff"].unit) == "K"
    back = pd.read_csv(res.to_csv(tmp_path / "c.csv"))
    np.testing.assert_allclose(back["mag"], df["mag"])
    backp = pd.read_parquet(res.to_parquet(tmp_path / "c.parquet"))
    np.testing.assert_array_equal(backp["mag"], df["mag"])
    ax = res.plot()
    assert ax.yaxis_inverted() and len(ax.lines) >= 1
    timed = g.generate("RRLYR", n=2, cadence=survey_cadence(40, 500.0, seed=0), seed=0, **_params(g))
    fold = timed.folded()  # a new object, points sorted by phase, the same points per curve
    assert isinstance(fold, type(timed)) and len(fold) == len(timed)
    assert np.all(np.diff(fold.phase, axis=1) >= 0) and not np.all(np.diff(timed.phase, axis=1) >= 0)
    for i in range(len(timed)):
        order = np.argsort(timed.phase[i], kind="stable")
        np.testing.assert_array_equal(fold.mag[i], timed.mag[i][order])
        np.testing.assert_array_equal(fold.time[i], timed.time[i][order])
    assert fold.plot(folded=False) is not None


def test_cli_generate_writes_table_and_plot(fitted_run, tmp_path):
    import argparse

    import pandas as pd

    from pelsvae_tf.cli.generate import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    out, png = tmp_path / "out.parquet", tmp_path / "out.png"
    gen = Generator.load(fitted_run)
    p = _params(gen)
    args = parser.parse_args(
        [
            "generate",
            str(fitted_run),
            "--class",
            "RRLYR",
            "--teff",
            str(p["teff"]),
            "--abs-gmag",
            str(p["abs_gmag"]),
            "--period",
            str(p["period"]),
            "--n",
            "3",
            "--cadence",
            "survey:40,800",
            "--out",
            str(out),
            "--plot",
            str(png),
        ]
    )
    assert args.func(args) == 0
    df = pd.read_parquet(out)
    assert df["curve"].nunique() == 3 and len(df) == 120 and png.stat().st_size > 0
