"""RR Lyrae Teff sweep: shape numbers, comparison with the ground truth, figure + JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pelsvae_tf.evaluate.physics_recovery import _compare, physics_recovery, shape_numbers, truth_numbers


def test_shape_numbers_recover_a_known_fourier_curve():
    from pelsvae_tf.sky import fourier_shape

    ph = np.sort(np.random.default_rng(0).uniform(0, 1, (2, 150)), axis=1)
    saw = 0.3 * fourier_shape(ph[0], 0.45, 4.3, 0.3, 2.6)
    sine = 0.2 * np.cos(2 * np.pi * ph[1])
    out = shape_numbers(ph, np.stack([saw, sine]))
    assert out["R21"][0] == pytest.approx(0.45, abs=1e-6) and out["phi31"][0] == pytest.approx(2.6, abs=1e-6)
    assert out["R21"][1] == pytest.approx(0.0, abs=1e-6) and abs(out["skewness"][1]) < 1e-6
    assert abs(out["skewness"][0]) > 0.3  # the sawtooth is asymmetric
    assert out["amplitude"][1] == pytest.approx(0.4, rel=1e-3)


def test_truth_turns_sinusoidal_as_teff_rises():
    t = truth_numbers(np.array([6000.0, 6850.0, 7600.0]))
    assert np.all(np.diff(t["R21"]) < 0) and np.all(np.diff(t["amplitude"]) < 0)
    assert abs(t["skewness"][-1]) < abs(t["skewness"][0])


def test_compare_scores_a_perfect_and_a_flat_recovery():
    teff = np.linspace(6000, 7500, 6)
    ref = np.linspace(0.5, 0.1, 6)
    perfect = _compare("R21", teff, ref.copy(), ref)
    assert perfect["slope_ratio"] == pytest.approx(1.0) and perfect["rmse"] == pytest.approx(0.0)
    assert perfect["spearman_gen_vs_teff"] == pytest.approx(-1.0)
    flat = _compare("R21", teff, np.full(6, 0.3) + 1e-3 * np.sin(teff), ref)
    assert abs(flat["slope_ratio"]) < 0.05
    # phi31 is compared on the circle: 0.05 and 2 pi - 0.05 are 0.1 rad apart
    circ = _compare("phi31", teff, np.full(6, 0.05), np.full(6, 2 * np.pi - 0.05))
    assert circ["rmse"] == pytest.approx(0.1, abs=1e-9)


def test_physics_recovery_writes_figure_and_numbers(fitted_run, tmp_path):
    res = physics_recovery(fitted_run, tmp_path, n_teff=4, n_per_teff=6, n_points=80)
    saved = json.loads((tmp_path / "physics_recovery.json").read_text())
    assert (tmp_path / "physics_recovery.png").stat().st_size > 10_000
    assert set(saved["regressors"]) == {"linear", "forest", "mlp"} == set(res["regressors"])
    assert len(saved["teff"]) == 4 and np.all(np.diff(saved["teff"]) > 0)
    for name, entry in saved["regressors"].items():
        for q in ("R21", "phi31", "skewness", "amplitude"):
            assert len(entry["median"][q]) == 4 and np.all(np.isfinite(entry["median"][q]))
            assert set(entry["vs_truth"][q]) >= {"slope_ratio", "rmse", "pearson_gen_vs_ref"}
        # the built-in sky truth: R21 falls with Teff
        assert entry["vs_truth"]["R21"]["spearman_ref_vs_teff"] == pytest.approx(-1.0)
    # fixed parameters are the RRLYR training medians, inside the class range
    from pelsvae_tf.generate.generator import Generator

    g = Generator.load(fitted_run)
    lo, hi = g.class_range("RRLYR", "period")
    assert lo <= saved["fixed"]["period"] <= hi
