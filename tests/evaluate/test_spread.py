"""Spread of shapes at fixed physics (issue 12): the arithmetic on curves of known spread, and the
shipped generator is not one curve per physics vector."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pelsvae_tf.classes import CLASSES
from pelsvae_tf.data.dataset import PHYSICS_COLUMNS
from pelsvae_tf.evaluate.spread import circular_iqr, iqr, spread_at_fixed_physics
from pelsvae_tf.generate.generator import GeneratedLightCurves
from pelsvae_tf.sky import fourier_shape

#: Two physics clusters of RR Lyrae, 15 stars each (= k_near, so an anchor's neighbours are its
#: cluster): (Teff [K], abs G [mag], period [d]), the data's R21 / phi31 [rad] spread, and the
#: spread the fake generator puts at that Teff.
CLUSTERS = {
    # teff: (abs_g, period, data R21 IQR, data phi31 IQR, generated / data factor)
    6100.0: (0.6, 0.62, 0.10, 0.40, 0.5),
    7300.0: (0.5, 0.35, 0.04, 0.20, 2.0),
}
K = 15


def _u(n: int) -> np.ndarray:
    """n evenly spaced values in [-1, 1]: their 25th / 75th percentiles are exactly -0.5 / 0.5,
    so ``c + s * _u(n)`` has IQR ``s``."""
    return np.linspace(-1.0, 1.0, n)


def _curves(phase: np.ndarray, r21: np.ndarray, phi31: np.ndarray) -> np.ndarray:
    return np.stack([0.4 * fourier_shape(p, a, 4.0, 0.2, b) for p, a, b in zip(phase, r21, phi31)])


class _KnownSpreadGenerator:
    """Generator-like: at Teff t, ``n`` noise-free curves whose R21 / phi31 IQR are the cluster's
    data IQR times its factor (phi31 centred on 0.05 rad, so it straddles 0 = 2 pi)."""

    classes = CLASSES
    physics = ("teff", "abs_gmag", "period")

    def __init__(self):
        self.calls = []

    def generate(self, cls, n=1, cadence=None, seed=0, noise=True, **phys):
        self.calls.append(dict(cls=cls, n=n, seed=seed, noise=noise, **phys))
        _, _, s_r21, s_phi, f = CLUSTERS[min(CLUSTERS, key=lambda t: abs(t - phys["teff"]))]
        ph = np.broadcast_to(np.linspace(0, 1, 300, endpoint=False), (n, 300))
        # shuffle so the order of curves carries nothing
        order = np.random.default_rng(seed).permutation(n)
        r21 = (0.3 + f * s_r21 * _u(n))[order]
        phi = np.mod(0.05 + f * s_phi * _u(n), 2 * np.pi)[order]
        m = _curves(ph, r21, phi)
        z = np.zeros(n)
        return GeneratedLightCurves(
            time=ph.copy(),
            phase=ph.copy(),
            mag=m,
            mag_model=m,
            err=np.zeros_like(m),
            scaled_mag=m,
            scaled_err=np.zeros_like(m),
            cls=np.full(n, cls),
            label=np.full(n, CLASSES.index(cls)),
            period=np.full(n, phys["period"]),
            t0=z,
            mag_mean=z,
            amplitude=z + 0.4,
            dummy=z,
            physics={},
            z=np.zeros((n, 2)),
        )


def _dataset(extra_cep: int = 0) -> dict[str, np.ndarray]:
    """Real stars of the two clusters (+ ``extra_cep`` CEP stars), 120 random phases each, exact
    Fourier curves; physics jittered within a cluster far less than between clusters."""
    rng = np.random.default_rng(5)
    phase, mag, phys, label = [], [], [], []
    for teff, (abs_g, period, s_r21, s_phi, _) in CLUSTERS.items():
        ph = np.sort(rng.uniform(0, 1, (K, 120)), axis=1)
        r21 = 0.35 + s_r21 * rng.permutation(_u(K))
        phi = np.mod(6.2 + s_phi * rng.permutation(_u(K)), 2 * np.pi)  # around -0.08 rad
        phase.append(ph)
        mag.append(_curves(ph, r21, phi))
        p = np.full((K, len(PHYSICS_COLUMNS)), np.nan)
        p[:, PHYSICS_COLUMNS.index("teff")] = teff + rng.normal(0, 10, K)
        p[:, PHYSICS_COLUMNS.index("abs_gmag")] = abs_g + rng.normal(0, 0.01, K)
        p[:, PHYSICS_COLUMNS.index("period")] = period * (1 + rng.normal(0, 0.005, K))
        phys.append(p)
        label.append(np.full(K, CLASSES.index("RRLYR")))
    if extra_cep:
        ph = np.sort(rng.uniform(0, 1, (extra_cep, 120)), axis=1)
        phase.append(ph)
        mag.append(_curves(ph, np.full(extra_cep, 0.4), np.full(extra_cep, 3.0)))
        p = np.full((extra_cep, len(PHYSICS_COLUMNS)), np.nan)
        for name, v in (("teff", 5500.0), ("abs_gmag", -3.0), ("period", 8.0)):
            p[:, PHYSICS_COLUMNS.index(name)] = v
        phys.append(p)
        label.append(np.full(extra_cep, CLASSES.index("CEP")))
    return {
        "phase": np.concatenate(phase),
        "mag": np.concatenate(mag),
        "phys": np.concatenate(phys),
        "label": np.concatenate(label),
        "is_real": np.ones(sum(len(x) for x in label), bool),
    }


def test_iqr_and_circular_iqr():
    assert iqr(3.0 + 0.2 * _u(41)) == pytest.approx(0.2)
    # angles straddling 0 = 2 pi: the plain IQR is ~2 pi wide, the circular one is the true 0.3 rad
    a = np.mod(0.3 * _u(41), 2 * np.pi)
    assert iqr(a) > 3.0
    assert circular_iqr(a) == pytest.approx(0.3, abs=1e-9)
    assert np.isnan(iqr(np.array([1.0, np.nan])))


def test_ratio_comes_out_as_constructed():
    gen = _KnownSpreadGenerator()
    data = _dataset()
    res = spread_at_fixed_physics(
        gen, data, PHYSICS_COLUMNS, classes=("RRLYR",), n_anchors=6, k_near=K, n_gen=41, seed=3
    )
    e = res["per_class"]["RRLYR"]
    assert e["n_stars"] == 2 * K and len(e["anchors"]) == 6
    seen = set()
    for a, call in zip(e["anchors"], gen.calls):
        teff = min(CLUSTERS, key=lambda t: abs(t - a["physics"]["teff"]))
        seen.add(teff)
        _, _, s_r21, s_phi, f = CLUSTERS[teff]
        # data spread = the anchor's cluster (15 nearest stars), generated = the constructed factor
        assert a["data_iqr_R21"] == pytest.approx(s_r21, rel=1e-4)
        assert a["data_iqr_phi31"] == pytest.approx(s_phi, rel=1e-4)
        assert a["gen_iqr_R21"] == pytest.approx(f * s_r21, rel=1e-4)
        assert a["gen_iqr_phi31"] == pytest.approx(f * s_phi, rel=1e-4)
        assert a["ratio_R21"] == pytest.approx(f, rel=1e-3) and a["ratio_phi31"] == pytest.approx(f, rel=1e-3)
        # generated noise-free at exactly the anchor star's physics
        assert call["noise"] is False and call["n"] == 41 and call["cls"] == "RRLYR"
        assert {k: call[k] for k in ("teff", "abs_gmag", "period")} == a["physics"]
    assert seen == set(CLUSTERS)  # both clusters were anchors: the ratio differs per anchor
    ratios = [a["ratio_R21"] for a in e["anchors"]]
    assert e["median_ratio_R21"] == pytest.approx(float(np.median(ratios)))


def test_deterministic_for_a_seed_and_skips_small_classes():
    data = _dataset(extra_cep=5)
    kw = dict(classes=("RRLYR", "cep"), n_anchors=4, k_near=K, n_gen=16)
    a = spread_at_fixed_physics(_KnownSpreadGenerator(), data, PHYSICS_COLUMNS, seed=1, **kw)
    b = spread_at_fixed_physics(_KnownSpreadGenerator(), data, PHYSICS_COLUMNS, seed=1, **kw)
    c = spread_at_fixed_physics(_KnownSpreadGenerator(), data, PHYSICS_COLUMNS, seed=2, **kw)
    assert a == b
    anchors = lambda r: [x["physics"]["teff"] for x in r["per_class"]["RRLYR"]["anchors"]]  # noqa: E731
    assert anchors(a) != anchors(c)
    assert a["per_class"]["CEP"]["n_stars"] == 5 and "k_near" in a["per_class"]["CEP"]["skipped"]


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(dataset_arrays={"phase": np.zeros((2, 3))}), "lacks"),
        (dict(classes=("NOTACLASS",)), "NOTACLASS"),
        (dict(classes=()), "at least one"),
        (dict(n_gen=2), "n_gen"),
        (dict(k_near=2.5), "k_near"),
        (dict(seed=-1), "seed"),
        (dict(physics_columns=PHYSICS_COLUMNS[:2]), "columns"),
    ],
)
def test_bad_input_is_named(change, match):
    kw = dict(generator=_KnownSpreadGenerator(), dataset_arrays=_dataset(), physics_columns=PHYSICS_COLUMNS)
    kw.update(change)
    with pytest.raises(ValueError, match=match):
        spread_at_fixed_physics(**kw)


def test_physics_column_the_generator_needs_must_exist():
    data = _dataset()
    cols = tuple("x" if c == "abs_gmag" else c for c in PHYSICS_COLUMNS)
    with pytest.raises(ValueError, match="abs_gmag"):
        spread_at_fixed_physics(_KnownSpreadGenerator(), data, cols)


def _rrlyr_r21_iqr_at_fixed_physics(g, n_anchors: int = 3) -> list[float]:
    """R21 IQR of 64 noise-free RR Lyrae generated at each of ``n_anchors`` training stars' physics."""
    from pelsvae_tf.evaluate.physics_recovery import shape_numbers
    from pelsvae_tf.generate.cadence import phases

    st = g.train_stats
    names = ("teff", "abs_gmag", "period")
    cols = [list(st["physics_columns"]).index(n) for n in names]
    sel = np.flatnonzero((st["label"] == g.classes.index("RRLYR")) & np.all(np.isfinite(st["phys"][:, cols]), 1))
    assert len(sel) >= n_anchors
    out = []
    for j in sel[:: len(sel) // n_anchors][:n_anchors]:
        phys = dict(zip(names, map(float, st["phys"][j, cols])))
        gen = g.generate("RRLYR", n=64, cadence=phases(300), seed=0, noise=False, **phys)
        out.append(iqr(shape_numbers(gen.phase, gen.scaled_mag)["R21"]))
    return out


def test_shipped_generator_is_not_one_curve_per_physics_vector():
    """The shipped run's default regressor (residual mode) spreads shapes at fixed physics (the
    paper-mode regressors it replaced: R21 IQR 0.0008-0.0019)."""
    from pelsvae_tf.generate.generator import Generator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spreads = _rrlyr_r21_iqr_at_fixed_physics(Generator.load())
    assert min(spreads) > 0.01, spreads


def test_residual_mode_refit_on_the_shipped_run_spreads_at_fixed_physics(tmp_path):
    """The shipped run's latents with the neighbours mode (the RegressorConfig default): 64 curves
    at one RR Lyrae's physics differ in R21 (IQR > 0.01; the point regressor gives ~0.001)."""
    import shutil

    from pelsvae_tf.generate.generator import Generator
    from pelsvae_tf.pretrained import pretrained_run_dir
    from pelsvae_tf.regress import fit_regressors

    run = tmp_path / "run"
    shutil.copytree(pretrained_run_dir(), run)
    stats = run / "regressors" / "train_stats.npz"
    shipped_stats = stats.read_bytes()  # carries the magnitude metadata the shipped run has no dataset for
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_regressors(run, kinds=("linear",), force=True)
        stats.write_bytes(shipped_stats)
        g = Generator.load(run, regressor="linear")
        assert g.regressor.config.latent_noise == "neighbours"
        spreads = _rrlyr_r21_iqr_at_fixed_physics(g)
    assert min(spreads) > 0.01, spreads
