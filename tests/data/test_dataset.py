"""Prepared-dataset format: writer, reader, tf.data pipeline, physics scaler."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pelsvae_tf.classes import CLASSES
from pelsvae_tf.data.cleaning import inverse_minmax_scale, minmax_scale
from pelsvae_tf.data.dataset import (
    PHYSICS_COLUMNS,
    SHARD_ARRAYS,
    PhysicsScaler,
    PreparedDataset,
    read_shard,
    write_prepared,
)

L = 16


def make_split(n, rng, real=True, label_offset=0, teff_missing=()):
    rows = {k: [] for k in SHARD_ARRAYS}
    for i in range(n):
        ph = np.sort(rng.uniform(0, 1, L))
        mag = 15 + 0.5 * np.sin(2 * np.pi * ph) + rng.normal(0, 0.01, L)
        err = np.full(L, 0.01)
        sm, se, meta = minmax_scale(mag, err)
        phys = np.array([5000 + 100 * i, 1.0 + i, 0.5 + 0.1 * i, np.nan, np.nan, 0.8])
        if i in teff_missing:
            phys[0] = np.nan
        rec = dict(
            phase=ph,
            mag=sm,
            err=se,
            label=(i + label_offset) % len(CLASSES),
            phys=phys,
            period=phys[2],
            star_id=f"S{label_offset}-{i}",
            is_real=real,
            **meta,
        )
        for k in SHARD_ARRAYS:
            rows[k].append(rec[k])
    return {k: np.asarray(v) for k, v in rows.items()}


@pytest.fixture()
def small(tmp_path):
    rng = np.random.default_rng(0)
    splits = {
        "train": make_split(10, rng, teff_missing=(3,)),
        "val": make_split(4, rng, label_offset=1),
        "test": make_split(3, rng, label_offset=2),
    }
    out = write_prepared(tmp_path / "ds", splits, {"note": "unit"}, None, shard_size=4)
    return PreparedDataset(out), splits


def test_round_trip_and_schema(small):
    ds, splits = small
    assert ds.seq_len == L and ds.classes == CLASSES and ds.physics_columns == PHYSICS_COLUMNS
    assert ds.schema["format"] == "pelsvae-prepared" and ds.schema["version"] == 1 and ds.schema["note"] == "unit"
    assert ds.schema["splits"]["train"]["shards"] == [
        "train/shard-00000.npz",
        "train/shard-00001.npz",
        "train/shard-00002.npz",
    ]
    for split, arrays in splits.items():
        got = ds.arrays(split)
        assert ds.n(split) == len(arrays["label"])
        for k in SHARD_ARRAYS:
            assert got[k].dtype == np.dtype(SHARD_ARRAYS[k][0])
            if got[k].dtype.kind == "f":
                np.testing.assert_allclose(got[k], arrays[k].astype(got[k].dtype), equal_nan=True)
            else:
                np.testing.assert_array_equal(got[k], arrays[k].astype(got[k].dtype))
    # no pickle anywhere: every shard loads with allow_pickle=False
    for shard in ds.path.rglob("shard-*.npz"):
        with np.load(shard, allow_pickle=False) as z:
            assert set(z.files) == set(SHARD_ARRAYS)
    # undoing the scaling gives magnitudes back
    a = ds.arrays("train")
    mag, _ = inverse_minmax_scale(a["mag"], a["err"], {"mag_min": a["mag_min"], "mag_range": a["mag_range"]})
    assert np.all(np.abs(mag - 15) < 0.6) and np.all((a["mag_mean"] > a["mag_min"]))


def test_scaler_fitted_on_real_train(small):
    ds, splits = small
    sc = ds.physics_scaler
    teff = splits["train"]["phys"][:, 0]
    assert sc.range("teff") == (np.nanmin(teff), np.nanmax(teff))
    assert sc.stats["teff"]["n"] == 9  # one training star lacks Teff
    assert np.isnan(sc.range("radius")[0])
    with pytest.raises(ValueError, match="radius"):
        sc.transform(np.ones((2, 1)), ["radius"])


def test_to_tf_elements_and_physics_filter(small, caplog):
    import logging

    import tensorflow as tf

    ds, splits = small
    with caplog.at_level(logging.INFO, logger="pelsvae_tf.data"):
        tfds = ds.to_tf("train", batch_size=4, physics=("teff", "abs_gmag", "period"), shuffle=False)
    assert "dropped 1 of 10" in caplog.text
    assert "Prefetch" in type(tfds).__name__
    batches = list(tfds)
    b = batches[0]
    assert set(b) == {"phase", "mag", "err", "class_onehot", "label", "phys"}
    assert b["phase"].shape == (4, L) and b["class_onehot"].shape == (4, len(CLASSES)) and b["phys"].shape == (4, 3)
    assert b["mag"].dtype == tf.float32 and b["label"].dtype == tf.int32
    np.testing.assert_array_equal(np.argmax(b["class_onehot"], 1), b["label"].numpy())
    phys = np.concatenate([x["phys"].numpy() for x in batches])
    assert phys.shape == (9, 3) and phys.min() == pytest.approx(0) and phys.max() == pytest.approx(1)
    # without physics nothing is dropped and phys is [B, 0]
    n = sum(int(x["label"].shape[0]) for x in ds.to_tf("train", batch_size=3, shuffle=False))
    assert n == 10
    assert next(iter(ds.to_tf("val", batch_size=8)))["phys"].shape == (4, 0)


def test_to_tf_shuffle_is_seeded(small):
    ds, _ = small
    order = lambda seed: [  # noqa: E731
        x.decode() if isinstance(x, bytes) else x
        for b in ds.to_tf("train", batch_size=10, seed=seed)
        for x in b["phase"].numpy()[:, 0].tolist()
    ]
    assert order(1) == order(1)
    assert order(1) != order(2)


def test_physics_scaler_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    raw = np.column_stack([rng.uniform(4000, 8000, 50), rng.normal(1, 1, 50), rng.uniform(0.2, 1, 50)])
    raw[3, 0] = np.nan
    names = ("teff", "abs_gmag", "period")
    for kind in ("minmax", "standard"):
        sc = PhysicsScaler.fit(raw, names, kind=kind)
        z = sc.transform(raw, names)
        assert np.isnan(z[3, 0])
        np.testing.assert_allclose(sc.inverse_transform(z, names), raw, rtol=1e-5, equal_nan=True)
        back = PhysicsScaler.load(sc.save(tmp_path / f"{kind}.json"))
        np.testing.assert_allclose(back.transform(raw, names), z, equal_nan=True)
    assert json.loads((tmp_path / "minmax.json").read_text())["units"]["teff"] == "K"
    with pytest.raises(ValueError, match="kind"):
        PhysicsScaler.fit(raw, names, kind="robust")
    with pytest.raises(ValueError, match="unknown physical parameter"):
        PhysicsScaler.fit(raw, ("teff", "mass", "period"))
    with pytest.raises(ValueError, match="shape"):
        PhysicsScaler.fit(raw[:, :2], names)


def test_writer_rejects_bad_arrays(tmp_path):
    rng = np.random.default_rng(0)
    good = make_split(3, rng)
    with pytest.raises(ValueError, match="missing key"):
        write_prepared(tmp_path / "a", {"train": {k: v for k, v in good.items() if k != "err"}})
    bad = dict(good, mag=good["mag"][:, :5])
    with pytest.raises(ValueError, match="'mag' has 5 points"):
        write_prepared(tmp_path / "a", {"train": bad})
    nan = dict(good, mag=np.where(np.arange(L) == 2, np.nan, good["mag"]))
    with pytest.raises(ValueError, match="NaN"):
        write_prepared(tmp_path / "a", {"train": nan})
    with pytest.raises(ValueError, match="only real"):
        write_prepared(tmp_path / "a", {"train": good, "test": make_split(2, rng, real=False)})
    with pytest.raises(ValueError, match="unknown split"):
        write_prepared(tmp_path / "a", {"train": good, "holdout": good})
    assert not (tmp_path / "a").exists()  # nothing half-written


def test_reader_bad_input(tmp_path, small):
    ds, _ = small
    with pytest.raises(FileNotFoundError, match="pelsvae prepare"):
        PreparedDataset(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="schema.json"):
        PreparedDataset(tmp_path / "empty")
    schema = json.loads((ds.path / "schema.json").read_text())
    (ds.path / "schema.json").write_text(json.dumps(dict(schema, version=99)))
    with pytest.raises(ValueError, match="version 99"):
        PreparedDataset(ds.path)
    (ds.path / "schema.json").write_text(json.dumps(dict(schema, format="other")))
    with pytest.raises(ValueError, match="format"):
        PreparedDataset(ds.path)
    (ds.path / "schema.json").write_text(json.dumps(schema))
    good = PreparedDataset(ds.path)
    with pytest.raises(ValueError, match="unknown split"):
        good.arrays("holdout")
    with pytest.raises(ValueError, match="batch_size"):
        good.to_tf("train", batch_size=0)
    with pytest.raises(ValueError, match="unknown physical parameter"):
        good.to_tf("train", physics=("mass",))
    with pytest.raises(FileNotFoundError):
        read_shard(ds.path / "train" / "shard-09999.npz")


def test_tiny_dataset_contract(tiny_dataset):
    ds = tiny_dataset
    assert ds.seq_len == 100 and ds.classes == CLASSES
    b = next(iter(ds.to_tf("train", batch_size=32, physics=("teff", "abs_gmag", "period"))))
    assert b["mag"].shape == (32, 100)
    m = b["mag"].numpy()
    assert m.min() >= 0 and m.max() <= 1
    assert np.all(np.diff(b["phase"].numpy(), axis=1) >= 0)


def test_star_ids_longer_than_32_characters_are_never_truncated(tmp_path):
    from pelsvae_tf.data.dataset import star_id_array

    rng = np.random.default_rng(1)
    splits = {
        "train": make_split(4, rng),
        "val": make_split(2, rng, label_offset=1),
        "test": make_split(2, rng, label_offset=2),
    }
    base = "OGLE-BLG-RRLYR-FIELD-1234567890-CHIP"  # 36 characters
    splits["train"]["star_id"] = np.asarray([f"{base}-A", f"{base}-B", "short-1", "short-2"])
    ds = PreparedDataset(write_prepared(tmp_path / "ds", splits, {}, None, shard_size=2))
    got = ds.arrays("train")["star_id"]
    assert got.tolist() == [f"{base}-A", f"{base}-B", "short-1", "short-2"]
    assert len(set(got.tolist())) == 4 and got.dtype == np.dtype("<U38")
    assert ds.arrays("val")["star_id"].dtype == np.dtype("<U32")  # short IDs keep the documented width
    assert star_id_array(["x" * 70]).dtype == np.dtype("<U70")
