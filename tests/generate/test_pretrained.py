"""The pretrained run shipped in the package: loads with no arguments and generates physical curves."""

from __future__ import annotations

import numpy as np
import pytest

from pelsvae_tf.pretrained import PRETRAINED_DIR

pytestmark = pytest.mark.skipif(
    not (PRETRAINED_DIR / "config.json").exists(), reason="package installed without the pretrained run"
)


def test_default_generator_recovers_requested_periods_and_class_shapes_differ():
    from astropy.timeseries import LombScargle

    from pelsvae_tf.generate.cadence import survey_cadence
    from pelsvae_tf.generate.generator import Generator

    gen = Generator.load()  # the shipped run
    cad = survey_cadence(n_epochs=300, baseline=1500.0, seed=2)
    rr = gen.generate("RRLYR", teff=6300.0, abs_gmag=0.7, period=0.57, n=4, cadence=cad, seed=1, noise=False)
    recovered = 0
    for i in range(4):
        t, m = rr.time[i], rr.mag[i]
        freq = np.linspace(0.05, 5.0, 60000)
        power = LombScargle(t, m).power(freq)
        best = 1.0 / freq[np.argmax(power)]
        # the strongest peak is the period or one of its harmonics (P/2, P/3)
        recovered += any(abs(best - 0.57 / k) / (0.57 / k) < 0.01 for k in (1, 2, 3))
    assert recovered >= 3
    assert np.all(np.isfinite(rr.mag)) and np.all(rr.err > 0)

    # two classes with the same cadence: different shapes (an eclipsing binary is not a pulsator)
    ph = np.linspace(0.0, 1.0, 200, endpoint=False)
    from pelsvae_tf.generate.cadence import Cadence

    cyc = Cadence.from_phases(ph)
    a = gen.generate("RRLYR", teff=6300.0, abs_gmag=0.7, period=0.57, n=1, cadence=cyc, seed=0, noise=False)
    b = gen.generate("ECL", n=1, cadence=cyc, seed=0, noise=False, period=2.0)
    sa, sb = a.scaled_mag[0], b.scaled_mag[0]
    assert np.sqrt(np.mean((sa - sb) ** 2)) > 0.05


def test_shipped_run_r21_falls_with_teff_for_the_default_regressor(tmp_path):
    """README: on the shipped run, generated RR Lyrae R21 falls with Teff for the default (MLP)
    regressor, as the built-in sky's injected truth does. Teff sweep over the 5-95 % RRLYR training
    range, other parameters fixed at the class's training medians. (The linear regressor carries
    ~3 % of the trend, so with residual sampling the sign of its sweep is noise: not asserted.)"""
    from pelsvae_tf.evaluate.physics_recovery import physics_recovery
    from pelsvae_tf.generate.generator import Generator
    from pelsvae_tf.pretrained import pretrained_run_dir

    res = physics_recovery(pretrained_run_dir(), tmp_path, regressors=("mlp",), n_teff=6, n_per_teff=32)
    teff = np.asarray(res["teff"])
    g = Generator.load()
    lo, hi = g.class_range("RRLYR", "teff")
    assert lo <= teff[0] < teff[-1] <= hi  # a sweep inside the training range, in K
    for p in ("abs_gmag", "period"):  # the other parameters are held at one value
        assert np.isfinite(res["fixed"][p])
    for kind in ("mlp",):
        r21 = res["regressors"][kind]["vs_truth"]["R21"]
        med = res["regressors"][kind]["median"]["R21"]
        assert r21["spearman_ref_vs_teff"] == pytest.approx(-1.0)  # the injected truth falls
        assert r21["spearman_gen_vs_teff"] < 0, (kind, med)
        assert med[-1] < med[0], (kind, med)
        assert r21["slope_ratio"] > 0  # same sign as the truth's slope
        print(
            f"R21 vs Teff [{kind}]: spearman {r21['spearman_gen_vs_teff']:.2f}, slope ratio "
            f"{r21['slope_ratio']:.3f}, medians {np.round(med, 3).tolist()}"
        )
    assert (tmp_path / "physics_recovery.json").exists()


def test_generation_runs_under_op_determinism_by_default_and_restores_the_process_setting():
    """Issue 15 item 5: generation with TensorFlow op determinism on (flag to turn it off); the
    caller's process setting is put back; on or off, the same seed gives bit-identical curves."""
    from pelsvae_tf import determinism
    from pelsvae_tf.generate import Generator

    seen = []
    gens = {flag: Generator.load(deterministic=flag) for flag in (True, False)}
    for gen in gens.values():
        render_np = gen.phase_function.render_np

        def spy(*args, _render_np=render_np, **kwargs):
            seen.append(determinism.is_enabled())
            return _render_np(*args, **kwargs)

        gen.phase_function.render_np = spy
    assert not determinism.is_enabled()
    on = gens[True].generate("RRLYR", teff=6500.0, abs_gmag=0.6, period=0.55, n=8, seed=3)
    assert seen == [True] and not determinism.is_enabled()
    on_again = gens[True].generate("RRLYR", teff=6500.0, abs_gmag=0.6, period=0.55, n=8, seed=3)
    off = gens[False].generate("RRLYR", teff=6500.0, abs_gmag=0.6, period=0.55, n=8, seed=3)
    assert seen == [True, True, False] and not determinism.is_enabled()
    np.testing.assert_array_equal(on.mag, on_again.mag)
    np.testing.assert_array_equal(on.mag, off.mag)
    with pytest.raises(ValueError, match="deterministic"):
        Generator.load(deterministic="yes")
