"""A generated light curve is a function of phase (issue 10): the interpolation, and on the shipped
model: cadence independence, identical times, amplitude / mean definitions, batch independence."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pelsvae_tf.pretrained import PRETRAINED_DIR


def test_periodic_interpolation_keeps_a_folded_sinusoid_a_sinusoid():
    import tensorflow as tf

    from pelsvae_tf.generate.phase_function import grid_phases, interpolate_periodic

    g = grid_phases(300)
    assert np.allclose(np.diff(g), 1 / 300, atol=1e-6) and g[0] == pytest.approx(0.5 / 300)
    truth = lambda p: 0.5 + 0.3 * np.sin(2 * np.pi * p) + 0.1 * np.cos(4 * np.pi * p + 1.0)  # noqa: E731
    values = np.stack([truth(g), truth(g + 0.25)]).astype(np.float32)
    rng = np.random.default_rng(0)
    ph = rng.uniform(-2.0, 3.0, size=(2, 500)).astype(np.float32)  # any real phase: taken mod 1
    got = interpolate_periodic(tf.constant(values), tf.constant(ph)).numpy()
    want = np.stack([truth(ph[0]), truth(ph[1] + 0.25)])
    # linear interpolation error of a 300-point grid: (1/300)^2 / 8 * max|f''| ~ 2e-5
    np.testing.assert_allclose(got, want, atol=5e-5)
    # at the grid points it is the grid; across the wrap (phase 0 and 1) it is continuous
    np.testing.assert_allclose(
        interpolate_periodic(tf.constant(values), tf.constant(np.tile(g, (2, 1)))).numpy(), values, atol=1e-6
    )
    edge = interpolate_periodic(tf.constant(values), tf.constant([[0.0, 1.0 - 1e-7], [0.0, 1.0 - 1e-7]])).numpy()
    np.testing.assert_allclose(edge[:, 0], edge[:, 1], atol=1e-4)


shipped = pytest.mark.skipif(
    not (PRETRAINED_DIR / "config.json").exists(), reason="package installed without the pretrained run"
)


@pytest.fixture(scope="module")
def shipped_gen():
    from pelsvae_tf.generate.generator import Generator

    return Generator.load()


def _mid(gen, cls):
    return {
        p: float(
            np.median(
                gen._stats_column(p)[
                    (gen.train_stats["label"] == gen.classes.index(cls)) & np.isfinite(gen._stats_column(p))
                ]
            )
        )
        for p in ("teff", "abs_gmag", "period")
    }


@shipped
def test_shipped_model_is_a_function_of_phase_at_any_cadence(shipped_gen):
    """Sparse survey times (10, 30, 100 random times over 3,000 d) give exactly the magnitudes the
    same times get inside a dense request; identical times give identical magnitudes."""
    g = shipped_gen
    rng = np.random.default_rng(5)
    for cls in g.classes_with_physics:
        phys = _mid(g, cls)
        kw = dict(n=1, seed=3, mag_mean=15.0, amplitude=0.8, noise=False, **phys)
        dense_t = np.linspace(0.0, phys["period"], 400, endpoint=False)
        for n_t in (10, 30, 100):
            t = np.sort(rng.uniform(0.0, 3000.0, n_t))
            sparse = g.generate(cls, cadence=t, **kw)
            both = g.generate(cls, cadence=np.concatenate([dense_t, t]), **kw)
            diff = np.abs(sparse.mag_model[0] - both.mag_model[0, 400:]).max()
            assert diff <= 1e-4, (cls, n_t, diff)  # the goal: <= 0.01 mag
        same = g.generate(cls, cadence=np.full(5, 1.0), **kw)
        assert np.ptp(same.mag_model) == 0.0, cls


@shipped
def test_amplitude_is_the_model_peak_to_peak_and_mag_mean_its_phase_average(shipped_gen):
    from pelsvae_tf.generate.cadence import Cadence
    from pelsvae_tf.generate.phase_function import grid_phases

    g = shipped_gen
    dense = Cadence.from_phases(np.linspace(0.0, 1.0, 2000, endpoint=False))
    grid = Cadence.from_phases(grid_phases(g.n_grid).astype(np.float64))
    for cls in g.classes_with_physics:
        kw = dict(n=4, seed=1, mag_mean=15.0, amplitude=0.8, noise=False, **_mid(g, cls))
        res = g.generate(cls, cadence=dense, **kw)
        np.testing.assert_allclose(np.ptp(res.mag_model, axis=1), 0.8, atol=0.02, err_msg=cls)
        on_grid = g.generate(cls, cadence=grid, **kw)
        np.testing.assert_allclose(np.ptp(on_grid.mag_model, axis=1), 0.8, atol=1e-4, err_msg=cls)
        np.testing.assert_allclose(on_grid.mag_model.mean(axis=1), 15.0, atol=1e-4, err_msg=cls)
        # errors in mag are the decoder's scaled errors on the same magnitude scale
        k = (res.mag_model - 15.0) / (res.scaled_mag - on_grid.scaled_mag.mean(axis=1, keepdims=True))
        np.testing.assert_allclose(res.err, np.nanmedian(k, axis=1, keepdims=True) * res.scaled_err, rtol=1e-3)


@shipped
def test_sampled_amplitudes_are_training_stars_model_amplitudes(shipped_gen):
    """Without amplitude / mag_mean, they are drawn from the class's training stars' model curves
    (peak-to-peak of the decoded posterior mean, not the noisy min-max of the data)."""
    g = shipped_gen
    st = g.train_stats
    assert {"amplitude_model", "mag_mean_model"} <= set(st)
    lab = np.asarray(st["label"])
    ratio = np.asarray(st["amplitude_model"], np.float64) / np.asarray(st["mag_range"], np.float64)
    # (a quick model that misses a narrow eclipse has a much smaller model than min-max range:
    # measured down to 0.09 for 5 ECL of the 2026-12-04 shipped run; 0.049 and 0.055 for two ECL
    # of the 2026-12-07 one, whose other 1,408 stars lie in 0.17-0.96)
    assert np.all((ratio > 0.03) & (ratio <= 1.2))
    assert np.median(ratio) < 1.0  # noise inflates a min-max range: the model's is smaller
    for cls in g.classes_with_physics:
        res = g.generate(cls, n=40, seed=2, noise=False)
        pool = np.round(np.asarray(st["amplitude_model"], np.float64)[lab == g.classes.index(cls)], 4)
        assert set(np.round(res.amplitude, 4)) <= set(pool), cls


@shipped
def test_a_curve_depends_only_on_its_own_inputs_and_seed(shipped_gen):
    from pelsvae_tf.counter_rng import curve_seeds

    g = shipped_gen
    cls = ["RRLYR", "CEP", "ECL", "LPV", "RRLYR"]
    t = np.sort(np.random.default_rng(0).uniform(0, 800, 60))
    batch = g.generate(cls, n=5, cadence=t, seed=9)  # physics, metadata, latent, noise all sampled
    seeds = curve_seeds(9, 5)
    assert seeds[0] == 9 and len(set(seeds.tolist())) == 5
    for i in range(5):
        phys = {p: batch.physics[p][i] for p in ("teff", "abs_gmag", "period")}
        one = g.generate(cls[i], n=1, cadence=t, seed=int(seeds[i]), **phys)
        np.testing.assert_array_equal(one.amplitude, batch.amplitude[i : i + 1])
        np.testing.assert_allclose(one.mag, batch.mag[i : i + 1], atol=1e-5)
    # chunking of a big call changes nothing
    small = type(g)(
        g.decoder, g.regressor, g.classes, g.physics_scaler, g.train_stats, n_grid=g.n_grid, curves_per_call=2
    )
    np.testing.assert_allclose(small.generate(cls, n=5, cadence=t, seed=9).mag, batch.mag, atol=1e-5)


@shipped
def test_physically_impossible_input_is_refused_naming_the_field(shipped_gen):
    import astropy.units as u

    g = shipped_gen
    p = _mid(g, "RRLYR")
    for bad in (-100.0, 0.0):
        with pytest.raises(ValueError, match=r"teff must be positive \(> 0 K\)"):
            g.generate("RRLYR", **dict(p, teff=bad))
    with pytest.raises(ValueError, match=r"amplitude must be positive"):
        g.generate("RRLYR", amplitude=-0.1, **p)
    # a Celsius temperature converts (astropy temperature equivalency)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = g.generate("RRLYR", n=1, seed=0, **dict(p, teff=6500.0))
        b = g.generate("RRLYR", n=1, seed=0, **dict(p, teff=(6500.0 - 273.15) * u.deg_C))
    np.testing.assert_allclose(a.mag, b.mag, atol=1e-5)
    with pytest.raises(ValueError, match=r"regressor='xgb'.*available: \["):
        type(g).load(regressor="xgb")


@shipped
def test_light_curve_objects_index_iterate_and_convert(shipped_gen, tmp_path):
    import pyarrow.parquet as pq

    g = shipped_gen
    res = g.generate("RRLYR", n=6, seed=0, **_mid(g, "RRLYR"))
    text = repr(res)
    assert text.startswith("<GeneratedLightCurves: 6 curves x 100 points (RRLYR: 6)") and len(text) < 300
    one = res[2]
    assert type(one) is type(res) and len(one) == 1
    np.testing.assert_array_equal(one.mag, res.mag[2:3])
    np.testing.assert_array_equal(res[1:4].period, res.period[1:4])
    assert len(res[res.amplitude > np.median(res.amplitude)]) == 3
    assert [len(c) for c in res] == [1] * 6
    with pytest.raises(IndexError, match="out of range"):
        res[6]
    schema = pq.read_schema(res.to_parquet(tmp_path / "x.parquet"))
    assert schema.field("time").metadata[b"unit"] == b"d" and schema.field("teff").metadata[b"unit"] == b"K"


@shipped
def test_to_lightkurve_keeps_times_magnitudes_units_and_metadata(shipped_gen, monkeypatch):
    import sys

    import astropy.units as u

    g = shipped_gen
    res = g.generate("CEP", n=3, seed=5, **_mid(g, "CEP"))
    lk = pytest.importorskip("lightkurve")  # in the test extra; optional for users
    lc = res.to_lightkurve(1)
    assert isinstance(lc, lk.LightCurve) and len(lc) == res.mag.shape[1]
    np.testing.assert_allclose(lc.time.mjd, res.time[1], atol=1e-9)
    assert lc.flux.unit == u.mag and lc.flux_err.unit == u.mag
    np.testing.assert_allclose(lc.flux.value, res.mag[1], atol=1e-6)
    np.testing.assert_allclose(lc.flux_err.value, res.err[1], atol=1e-6)
    assert lc.meta["CLASS"] == "CEP" and lc.meta["PERIOD"] == pytest.approx(float(res.period[1]))
    # folding the LightCurve on the generator's period keeps the generated shape (peak-to-peak)
    folded = lc.fold(period=float(res.period[1]))
    assert np.ptp(folded.flux.value) == pytest.approx(np.ptp(res.mag[1]), rel=1e-6)
    monkeypatch.setitem(sys.modules, "lightkurve", None)  # as if lightkurve were not installed
    with pytest.raises(ImportError, match=r"pip install lightkurve \(or pip install 'pelsvae-tf\[lightkurve\]'\)"):
        res.to_lightkurve(0)


@shipped
def test_generate_to_streams_the_same_curves_in_bounded_memory(shipped_gen, tmp_path):
    import pandas as pd

    from pelsvae_tf.generate.cadence import survey_cadence

    g = shipped_gen
    kw = dict(n=25, cadence=survey_cadence(40, 900.0, seed=3), seed=4, **_mid(g, "CEP"))
    whole = g.generate("CEP", **kw).to_pandas()
    for suffix, read in ((".parquet", pd.read_parquet), (".csv", pd.read_csv)):
        path = g.generate_to(tmp_path / f"lcs{suffix}", "CEP", chunk_curves=7, progress=False, **kw)
        back = read(path)
        assert back["curve"].tolist() == whole["curve"].tolist()
        np.testing.assert_allclose(back["mag"], whole["mag"], atol=1e-6)
        np.testing.assert_allclose(back["amplitude"], whole["amplitude"], atol=1e-6)
    assert not list(tmp_path.glob("*.tmp*"))  # atomic: no temporary left behind
    small = type(g)(g.decoder, g.regressor, g.classes, g.physics_scaler, g.train_stats, n_grid=g.n_grid)
    small.max_result_bytes = 2**20
    with pytest.raises(MemoryError, match=r"n=5000 curves x 100 points would take ~0.0 GiB.*generate_to"):
        small.generate("CEP", n=5000, **_mid(g, "CEP"))


@shipped
def test_cli_generate_names_bad_options_and_refuses_missing_folders(tmp_path, capsys):
    from pelsvae_tf.cli.main import main

    out = tmp_path / "missing" / "x.csv"
    assert main(["generate", "--class", "RRLYR", "--n", "2", "--out", str(out)]) == 2
    assert "folder" in capsys.readouterr().err and not out.parent.exists()
    assert main(["generate", "--class", "RRLYR", "--n", "2", "--out", str(out), "--parents"]) == 0
    assert out.exists()
    for spec, want in (
        ("times:", "nothing after 'times:'"),
        ("survey:abc", "--cadence 'survey:abc'"),
        (f"times:{tmp_path}", "is not a file"),
    ):
        assert main(["generate", "--class", "RRLYR", "--cadence", spec, "--out", str(tmp_path / "y.csv")]) == 2
        assert want in capsys.readouterr().err


def test_every_shipped_saved_model_loads_with_the_forest_ops_registered():
    """serving/README's first example: every shipped model loads with load_saved_model, the forest
    one included (its SimpleML ops are registered by the helper)."""
    from pathlib import Path

    from pelsvae_tf.serve.export import SIMPLEML_OPS, load_saved_model, saved_model_ops

    root = Path(__file__).resolve().parents[2] / "saved_models"
    if not (root / "generator" / "1").exists():
        pytest.skip("no shipped saved_models/")
    assert saved_model_ops(root / "regressor_forest" / "1") & SIMPLEML_OPS
    for name in ("decoder", "regressor_mlp", "regressor_forest", "generator"):
        assert "serving_default" in load_saved_model(root / name / "1").signatures, name


def test_load_saved_model_names_the_package_when_the_forest_ops_are_missing(monkeypatch):
    """Without ydf-tf, loading the forest SavedModel is one ImportError naming the pip package,
    not TensorFlow's "Op type not registered 'SimpleMLLoadModelFromPathWithHandle'"."""
    import sys
    from pathlib import Path

    from pelsvae_tf.serve.export import load_saved_model

    root = Path(__file__).resolve().parents[2] / "saved_models"
    if not (root / "regressor_forest" / "1").exists():
        pytest.skip("no shipped saved_models/")
    monkeypatch.setitem(sys.modules, "ydf_tf", None)  # as if ydf-tf were not installed
    with pytest.raises(ImportError, match=r"regressor_forest/1 uses YDF decision-forest ops: pip install ydf-tf=="):
        load_saved_model(root / "regressor_forest" / "1")
    assert "serving_default" in load_saved_model(root / "decoder" / "1").signatures  # no forest: no ydf-tf needed


def test_grid_decode_is_the_same_in_chunks_of_any_size_and_under_xla():
    """Requests below, at and above one chunk, plain and XLA-compiled (every chunk padded to full
    size under XLA): the same grid decode as the decoder called on the whole batch at once."""
    import tensorflow as tf

    from pelsvae_tf.generate.phase_function import PhaseFunction, grid_phases
    from pelsvae_tf.model import build_pelsvae
    from tests.fixtures.model import tiny_model_config

    model = build_pelsvae(tiny_model_config(seed=4))
    n_grid = 40
    rng = np.random.default_rng(2)
    plain = PhaseFunction(model.decoder, n_grid=n_grid, chunk_points=3 * n_grid, model_config=model.model_config)
    xla = PhaseFunction(model.decoder, n_grid=n_grid, chunk_points=3 * n_grid, jit_compile=True)
    assert plain.chunk_curves == 3
    for b in (1, 2, 3, 7):
        z = rng.standard_normal((b, 4)).astype("float32")
        onehot = np.eye(8, dtype="float32")[rng.integers(0, 8, b)]
        phase = np.broadcast_to(grid_phases(n_grid), (b, n_grid))
        ref = model.decoder({"z": z, "class_onehot": onehot, "phase": phase}, training=False)["mag"].numpy()
        for pf in (plain, xla):
            mag, _ = pf.decode_grid(tf.constant(z), tf.constant(onehot))
            assert mag.shape == (b, n_grid)
            np.testing.assert_allclose(mag.numpy(), ref, rtol=1e-5, atol=1e-6)
