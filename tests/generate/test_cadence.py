"""Cadences: survey-like seasonal gaps, phases, explicit times, time -> phase."""

from __future__ import annotations

import numpy as np
import pytest

from pelsvae_tf.generate.cadence import (
    YEAR_DAYS,
    Cadence,
    cycle_number,
    parse_cadence,
    phases,
    survey_cadence,
    to_phase,
)


def test_survey_cadence_respects_baseline_and_seasonal_gaps():
    cad = survey_cadence(500, baseline=3000.0, season_length=200.0, seed=3)
    t = cad.values
    assert t.shape == (500,) and cad.kind == "times"
    assert np.all(np.diff(t) >= 0) and t.min() >= 0 and t.max() <= 3000.0
    # every epoch falls in the observable part of its year; the gaps are empty
    assert np.all(np.mod(t, YEAR_DAYS) < 200.0)
    # epochs spread over every season inside the baseline (8 full seasons + a partial one)
    assert len(np.unique(np.floor(t / YEAR_DAYS))) == int(np.ceil(3000.0 / YEAR_DAYS))


def test_survey_cadence_deterministic_and_per_curve():
    a = survey_cadence(50, 1000.0, seed=1).values
    b = survey_cadence(50, 1000.0, seed=1).values
    c = survey_cadence(50, 1000.0, seed=2).values
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    many = survey_cadence(50, 1000.0, seed=1, n_curves=4).values
    assert many.shape == (4, 50) and not np.array_equal(many[0], many[1])


def test_to_phase_folds_times_with_period_and_t0():
    period, t0 = 0.7, 0.3
    k = np.arange(10)
    t = t0 + period * (k + 0.25)
    np.testing.assert_allclose(to_phase(t, period, t0), 0.25, atol=1e-9)
    # per-curve periods broadcast over rows
    ph = to_phase(np.stack([t, t]), np.array([period, 2 * period]), np.array([t0, t0]))
    np.testing.assert_allclose(ph[0], 0.25, atol=1e-9)
    assert np.all((ph >= 0) & (ph < 1))
    with pytest.raises(ValueError, match="period"):
        to_phase(t, 0.0)


def test_cycle_number_counts_whole_periods_from_t0():
    period, t0 = 0.7, 0.3
    k = np.arange(-3, 10)
    t = t0 + period * (k + 0.25)
    np.testing.assert_array_equal(cycle_number(t, period, t0), k)  # before t0: negative cycles
    rows = cycle_number(np.stack([t, t]), np.array([period, 2 * period]), np.array([t0, t0]))
    np.testing.assert_array_equal(rows[0], k)
    np.testing.assert_array_equal(rows[1], np.floor((k + 0.25) / 2))
    # the cycle and the phase together give back the time
    np.testing.assert_allclose(t0 + period * (cycle_number(t, period, t0) + to_phase(t, period, t0)), t)
    with pytest.raises(ValueError, match="period must be positive"):
        cycle_number(t, -1.0)


def test_phases_cadence_turns_into_times_with_period():
    cad = phases(4)
    np.testing.assert_allclose(cad.values, [0, 0.25, 0.5, 0.75])
    times = cad.times_for(2, period=np.array([1.0, 2.0]), t0=np.array([10.0, 0.0]))
    np.testing.assert_allclose(times, [[10, 10.25, 10.5, 10.75], [0, 0.5, 1.0, 1.5]])


def test_explicit_times_accept_astropy_time_and_quantity():
    import astropy.units as u
    from astropy.time import Time

    t = Time([59000.0, 59001.5], format="mjd")
    np.testing.assert_allclose(Cadence.from_times(t).values, [59000.0, 59001.5])
    np.testing.assert_allclose(Cadence.from_times([1, 2] * u.hour).values, [1 / 24, 2 / 24])
    with pytest.raises(ValueError, match="time unit"):
        Cadence.from_times([1, 2] * u.m)


def test_parse_cadence_spellings(tmp_path):
    assert parse_cadence("survey:120,2000").n_points == 120
    assert parse_cadence("phases:64").kind == "phases"
    np.testing.assert_allclose(parse_cadence("times:1,2.5,4").values, [1, 2.5, 4])
    f = tmp_path / "t.csv"
    f.write_text("time,foo\n1.0,0\n3.0,0\n")
    np.testing.assert_allclose(parse_cadence(f"times:{f}").values, [1.0, 3.0])
    for bad in ("survey:abc", "weekly:3", "phases", "survey:1"):
        with pytest.raises(ValueError):
            parse_cadence(bad)
    with pytest.raises(FileNotFoundError):
        parse_cadence(f"times:{tmp_path / 'missing.csv'}")


def test_bad_cadences_raise_clear_errors():
    with pytest.raises(ValueError, match="n_epochs"):
        survey_cadence(0, 100.0)
    with pytest.raises(ValueError, match="baseline"):
        survey_cadence(10, -1.0)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        Cadence.from_phases([0.2, 1.2])
    with pytest.raises(ValueError, match="NaN"):
        Cadence.from_times([1.0, np.nan])
