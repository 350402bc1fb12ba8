"""Missing Teff / absolute G filled from the colour and period (``pelsvae_tf.data.impute``): the
relations are recovered, the imputed stars keep the measured ones' spread, nothing else changes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pelsvae_tf.classes import CLASSES
from pelsvae_tf.data.impute import PhysicsImputer
from pelsvae_tf.data.prepare import PrepareConfig, prepare
from pelsvae_tf.data.shards import PHYSICS_COLUMNS

IT, IA, IP, IB = (PHYSICS_COLUMNS.index(c) for c in ("teff", "abs_gmag", "period", "bp_rp"))


def _stars(n, rng, cls="CEP"):
    """Stars on a known colour-temperature and period-luminosity-colour relation with scatter."""
    bprp = rng.uniform(0.3, 2.0, n)
    logt_mean = 3.95 - 0.25 * bprp + 0.04 * bprp**2
    logp = rng.uniform(-0.3, 1.2, n)
    absg_mean = -1.0 - 2.5 * logp + 0.8 * bprp
    phys = np.full((n, len(PHYSICS_COLUMNS)), np.nan)
    phys[:, IT] = 10 ** (logt_mean + rng.normal(0, 0.02, n))
    phys[:, IA] = absg_mean + rng.normal(0, 0.3, n)
    phys[:, IP] = 10**logp
    phys[:, IB] = bprp
    return phys, logt_mean, absg_mean, np.array([cls] * n)


def test_relations_are_recovered_and_the_spread_kept():
    rng = np.random.default_rng(1)
    phys, _, _, cls = _stars(3000, rng)
    imp = PhysicsImputer.fit(phys[:1500], cls[:1500])
    assert imp.teff_sigma["*"] == pytest.approx(0.02, rel=0.1) and imp.teff_sigma["CEP"] == pytest.approx(0.02, rel=0.1)
    rel = imp.abs_gmag["CEP"]
    np.testing.assert_allclose(rel["colour"], [-1.0, -2.5, 0.8], atol=0.08)
    assert rel["colour_sigma"] == pytest.approx(0.3, rel=0.1)
    # held-out stars with Teff and abs G hidden
    test, logt_mean, absg_mean, tcls = _stars(1500, rng)
    hidden = test.copy()
    hidden[:, [IT, IA]] = np.nan
    filled, mask = imp.apply(hidden, tcls, [f"s{i}" for i in range(1500)], seed=0)
    assert mask[:, IT].all() and mask[:, IA].all() and not mask[:, [IP, IB]].any()
    lt = np.log10(filled[:, IT].astype(np.float64))
    # unbiased about the relation, with the measured stars' scatter (not a conditional-mean line)
    assert abs(np.mean(lt - logt_mean)) < 0.002
    assert np.std(lt - logt_mean) == pytest.approx(0.02, rel=0.1)
    assert np.std(lt) == pytest.approx(np.std(np.log10(test[:, IT])), rel=0.05)
    assert abs(np.mean(filled[:, IA] - absg_mean)) < 0.03
    assert np.std(filled[:, IA]) == pytest.approx(np.std(test[:, IA]), rel=0.05)
    # a star lacking BP-RP too gets abs G from its period alone, and no Teff
    hidden[:5, IB] = np.nan
    f2, m2 = imp.apply(hidden, tcls, [f"s{i}" for i in range(1500)], seed=0)
    assert not m2[:5, IT].any() and np.isnan(f2[:5, IT]).all()
    assert m2[:5, IA].all() and np.all(np.abs(f2[:5, IA] - absg_mean[:5]) < 3.0)


def test_measured_values_are_kept_and_draws_depend_only_on_seed_and_star():
    rng = np.random.default_rng(2)
    phys, _, _, cls = _stars(400, rng)
    imp = PhysicsImputer.fit(phys, cls)
    part = phys.copy()
    part[::3, IT] = np.nan
    ids = np.array([f"OGLE-{i}" for i in range(400)])
    filled, mask = imp.apply(part, cls, ids, seed=7)
    keep = ~mask
    np.testing.assert_array_equal(filled[keep], part[keep])  # NaN where still missing
    assert mask[:, IT].sum() == len(range(0, 400, 3)) and not mask[:, IA].any()
    # the same star, seed -> the same value, whatever else is in the batch and in which order
    order = rng.permutation(400)[:50]
    f2, _ = imp.apply(part[order], cls[order], ids[order], seed=7)
    np.testing.assert_array_equal(f2, filled[order])
    f3, _ = imp.apply(part, cls, ids, seed=8)
    assert not np.array_equal(f3[mask], filled[mask])
    # serialised and back: the same relations
    again = PhysicsImputer.from_dict(json.loads(json.dumps(imp.to_dict())))
    np.testing.assert_array_equal(again.apply(part, cls, ids, seed=7)[0], filled)


def test_a_class_with_too_few_stars_is_not_imputed_and_teff_stays_in_range():
    rng = np.random.default_rng(3)
    a, _, _, ca = _stars(300, rng, "CEP")
    b, _, _, cb = _stars(10, rng, "ACEP")
    imp = PhysicsImputer.fit(np.vstack([a, b]), np.concatenate([ca, cb]), min_stars=20)
    assert "ACEP" not in imp.abs_gmag and "CEP" in imp.abs_gmag
    q = b.copy()
    q[:, IA] = np.nan
    q[:, IB] = 9.0  # far redder than any training star: the colour is clipped, Teff stays in range
    q[:, IT] = np.nan
    f, m = imp.apply(q, cb, [f"a{i}" for i in range(10)], seed=0)
    assert not m[:, IA].any() and np.isnan(f[:, IA]).all()
    assert m[:, IT].all() and np.all((f[:, IT] >= imp.teff_range[0]) & (f[:, IT] <= imp.teff_range[1]))


def test_class_offsets_outliers_and_extrapolation_are_handled():
    rng = np.random.default_rng(4)
    a, _, _, ca = _stars(800, rng, "CEP")
    b, lt_b, ag_b, cb = _stars(800, rng, "T2CEP")
    b[:, IT] *= 10**0.1  # T2CEP 0.1 dex hotter at a given colour than CEP
    out = rng.uniform(size=800) < 0.05
    a[out, IT] *= 10**0.5  # 5 % wild Teff values
    imp = PhysicsImputer.fit(np.vstack([a[:400], b[:400]]), np.concatenate([ca[:400], cb[:400]]))
    assert imp.teff_offset["T2CEP"] - imp.teff_offset["CEP"] == pytest.approx(0.1, abs=0.01)
    q = b[400:].copy()
    q[:, [IT, IA]] = np.nan
    ids = [f"t{i}" for i in range(400)]
    f, m = imp.apply(q, cb[400:], ids, seed=0)
    # unbiased for the hotter class and not pulled by the outliers
    assert abs(np.mean(np.log10(f[:, IT]) - (lt_b[400:] + 0.1))) < 0.004
    assert np.std(np.log10(f[:, IT]) - (lt_b[400:] + 0.1)) == pytest.approx(0.02, rel=0.15)
    # absolute G never leaves the class's measured range, whatever the colour or period
    q[:, IB], q[:, IP] = 25.0, 1e6
    f, m = imp.apply(q, cb[400:], ids, seed=0)
    lo, hi = imp.abs_gmag["T2CEP"]["range"]
    assert m[:, IA].all() and np.all((f[:, IA] >= lo) & (f[:, IA] <= hi))
    # a class with enough stars for the period relation but too few colours uses the period
    c, _, _, cc = _stars(60, rng, "ACEP")
    c[10:, IB] = np.nan
    imp2 = PhysicsImputer.fit(c, cc)
    assert imp2.abs_gmag["ACEP"]["colour"] == [] and len(imp2.abs_gmag["ACEP"]["period"]) == 2
    q2 = c.copy()
    q2[:, IA] = np.nan
    f2, m2 = imp2.apply(q2, cc, [f"c{i}" for i in range(60)], seed=0)
    assert m2[:, IA].all() and np.isfinite(f2[:, IA]).all()


def test_bad_input_names_the_field():
    with pytest.raises(ValueError, match="physics_imputation='mean'"):
        PrepareConfig(physics_imputation="mean")
    with pytest.raises(ValueError, match=r"phys must be \[n, 6\]"):
        PhysicsImputer.fit(np.zeros((5, 3)), ["CEP"] * 5)
    with pytest.raises(ValueError, match="one class name per row"):
        PhysicsImputer.fit(np.zeros((5, 6)), ["CEP"] * 4)
    imp = PhysicsImputer.fit(*_stars(100, np.random.default_rng(0))[::3])
    with pytest.raises(ValueError, match="one class name and one star ID per row"):
        imp.apply(np.zeros((3, 6)), ["CEP"] * 3, ["a", "b"], seed=0)


def test_a_fingerprint_from_before_the_option_reads_as_none():
    from pelsvae_tf.data.fingerprint import fingerprint_differences

    new = {"version": 1, "config": PrepareConfig(physics_imputation="none").to_dict()}
    old = {"version": 1, "config": {k: v for k, v in new["config"].items() if k != "physics_imputation"}}
    assert fingerprint_differences(old, new) == []
    now = {"version": 1, "config": PrepareConfig().to_dict()}
    assert "physics_imputation" in " ".join(fingerprint_differences(old, now))


def test_prepare_without_imputation_drops_the_acep_as_the_paper(tiny_sky, tiny_dataset, tmp_path):
    cfg = PrepareConfig.from_dict({**tiny_dataset.schema["prepare_config"], "physics_imputation": "none"})
    none = prepare(tiny_sky / "photometry", tiny_sky / "catalog.csv", tmp_path / "none", cfg, progress=False)
    acep = CLASSES.index("ACEP")
    for split in ("train", "val", "test"):
        a, b = tiny_dataset.arrays(split), none.arrays(split)
        np.testing.assert_array_equal(a["star_id"], b["star_id"])  # same stars, same curves
        np.testing.assert_array_equal(a["mag"], b["mag"])
    tr = none.arrays("train")
    assert not none.physics_mask("train", ("teff",))[tr["label"] == acep].any()
    assert none.schema["physics_imputation"] is None
    pm = none.schema["physics_missing"]["train"]
    assert pm["imputed"] == {"teff": 0, "abs_gmag": 0} and pm["lacking_selected"] == pm["lacking_selected_measured"]
    # the schema's measured counts do not depend on the setting; the scaler is the measured one
    assert pm["per_parameter"] == tiny_dataset.schema["physics_missing"]["train"]["per_parameter"]
    assert json.loads((tmp_path / "none" / "physics_scaler.json").read_text()) == json.loads(
        (tiny_dataset.path / "physics_scaler.json").read_text()
    )
    # which values were imputed: the file written by prepare, per curve (copies share their star's)
    mask = tiny_dataset.imputed_mask("train")
    a = tiny_dataset.arrays("train")
    assert mask[:, 0].sum() > 0 and not none.imputed_mask("train").any()
    np.testing.assert_array_equal(mask[:, 0], np.isnan(tr["phys"][:, 0]) & np.isfinite(a["phys"][:, 0]))
    assert not mask[:, [2, 3, 4, 5]].any()
    # imputation only adds stars to the physics set: measured physics are the same in both
    sel = ("teff", "abs_gmag", "period")
    mi, mn = tiny_dataset.physics_mask("train", sel), none.physics_mask("train", sel)
    assert mi.sum() > mn.sum() and mi[mn].all()
    np.testing.assert_array_equal(tiny_dataset.arrays("train")["phys"][mn], tr["phys"][mn])
