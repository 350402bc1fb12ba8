"""Streaming prepare: leakage-free split-then-augment, skips, strict mode, atomic + resumable writes."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from pelsvae_tf.classes import CLASSES
from pelsvae_tf.data import dataset as dataset_mod
from pelsvae_tf.data.dataset import SHARD_ARRAYS, PreparedDataset
from pelsvae_tf.data.prepare import (
    STRICT_REASONS,
    PrepareConfig,
    apply_caps,
    augmentation_plan,
    prepare,
    split_stars,
)
from pelsvae_tf.data.readers import read_ogle_dat


def test_no_leakage_and_test_only_real(tiny_dataset):
    tr, va, te = (tiny_dataset.arrays(s) for s in ("train", "val", "test"))
    train_ids = set(tr["star_id"])
    assert not train_ids & set(va["star_id"]) and not train_ids & set(te["star_id"])
    assert not set(va["star_id"]) & set(te["star_id"])
    assert te["is_real"].all() and va["is_real"].all()
    # augmented copies descend from real training stars only
    assert set(tr["star_id"][~tr["is_real"]]) <= set(tr["star_id"][tr["is_real"]])
    # one real curve per star in each split
    for a in (tr, va, te):
        ids = a["star_id"][a["is_real"]]
        assert len(ids) == len(set(ids))


def test_split_is_stratified_and_balanced(tiny_dataset):
    s = tiny_dataset.schema
    for cls in CLASSES:
        n_tr = s["splits"]["train"]["per_class"][cls]["n_real"]
        n_va, n_te = s["counts"]["val"][cls], s["counts"]["test"][cls]
        n = n_tr + n_va + n_te
        assert n > 20, cls
        assert abs(n_tr / n - 0.6) < 0.05 and abs(n_va / n - 0.2) < 0.05, cls
        assert s["counts"]["train"][cls] == 60  # the augmentation target
    assert s["splits"]["train"]["n_augmented"] == 480 - s["splits"]["train"]["n_real"]


def test_real_curves_are_the_observed_magnitudes(tiny_dataset, tiny_sky):
    te = tiny_dataset.arrays("test")
    for i in range(0, len(te["label"]), 9):
        raw = read_ogle_dat(tiny_sky / "photometry" / f"{te['star_id'][i]}.dat")
        mag = te["mag_min"][i] + te["mag_range"][i] * te["mag"][i].astype(np.float64)
        err = te["err"][i].astype(np.float64) * te["mag_range"][i]
        # every point is one of the star's own observations (after the inverse scaling)
        d = np.abs(mag[:, None] - raw.mag[None, :]).min(axis=1)
        assert d.max() < 2e-4 * max(1.0, te["mag_range"][i])
        assert np.median(err) == pytest.approx(te["err_median"][i], rel=0.2)
        assert te["mag_min"][i] <= te["mag_mean"][i] <= te["mag_min"][i] + te["mag_range"][i]


def test_physics_and_scaler(tiny_dataset, tiny_sky):
    tr = tiny_dataset.arrays("train")
    real = tr["is_real"]
    sc = tiny_dataset.physics_scaler
    cat = pd.read_csv(tiny_sky / "catalog.csv").set_index("OGLE-ID")
    sid = tr["star_id"][real][:20]
    np.testing.assert_allclose(tr["phys"][real][:20, 2], cat.loc[sid, "Period"], rtol=1e-6)
    # the scaler is fitted on the measured values of the training stars
    measured_teff = cat.loc[tr["star_id"][real], "teff_val"].to_numpy()
    assert sc.range("teff") == pytest.approx((np.nanmin(measured_teff), np.nanmax(measured_teff)))
    pm = tiny_dataset.schema["physics_missing"]["train"]
    assert pm["lacking_selected"] == int(
        (~tiny_dataset.physics_mask("train", ("teff", "abs_gmag", "period"))[real]).sum()
    )
    # ACEP has no Gaia Teff in the real cross-match: the default imputation fills it from BP-RP
    # (measured values are the catalogue's, imputed ones were missing there and lie in the
    # training range); with physics_imputation="none" ACEP drops out of the physics set
    acep = tr["label"] == CLASSES.index("ACEP")
    assert tiny_dataset.physics_mask("train", ("teff",))[acep & real].mean() > 0.7
    allreal = tr["star_id"][real]
    measured = cat.loc[allreal, "teff_val"].to_numpy()
    teff_all = tr["phys"][real, 0]
    has = np.isfinite(measured)
    np.testing.assert_allclose(teff_all[has], measured[has], rtol=1e-6)
    imputed = ~has & np.isfinite(teff_all)
    assert imputed.sum() == pm["imputed"]["teff"] > 0
    imp = tiny_dataset.schema["physics_imputation"]
    assert imp["teff_range"][0] <= teff_all[imputed].min() and teff_all[imputed].max() <= imp["teff_range"][1]
    assert pm["lacking_selected_measured"] > pm["lacking_selected"]
    # imputed absolute G stays inside the measured range of its class
    absg, meas_absg = tr["phys"][real, 1], cat.loc[allreal, "abs_Gmag"].to_numpy()
    for c in np.unique(tr["label"][real]):
        cm = tr["label"][real] == c
        got = absg[cm & ~np.isfinite(meas_absg) & np.isfinite(absg)]
        if got.size:
            assert np.nanmin(meas_absg[cm]) <= got.min() and got.max() <= np.nanmax(meas_absg[cm])


def test_split_plan_units():
    cfg = PrepareConfig(seed=0, aug_targets={"RRLYR": 25, "CEP": 3})
    summary = pd.DataFrame(
        {"cls": ["RRLYR"] * 10 + ["CEP"] * 5 + ["ACEP"], "phys": [np.array([6000, 1, 0.5, np.nan, np.nan, 0.5])] * 16}
    )
    summary["split"] = split_stars(summary, cfg)
    assert summary[summary.cls == "RRLYR"]["split"].value_counts().to_dict() == {"train": 6, "val": 2, "test": 2}
    assert (summary[summary.cls == "ACEP"]["split"] == "train").all()  # a lone star trains
    copies = augmentation_plan(summary, cfg)
    assert copies[summary.split != "train"].sum() == 0
    assert copies[(summary.cls == "RRLYR")].sum() == 25 - 6
    assert copies[(summary.cls == "CEP")].sum() == 0  # 3 real training stars already meet the target
    c2 = augmentation_plan(summary, cfg)
    pd.testing.assert_series_equal(copies, c2)


def test_class_cap_prefers_physics():
    cfg = PrepareConfig(class_caps={"ECL": 4}, aug_targets={})
    phys_yes = np.array([5000, 2, 1, np.nan, np.nan, 1.0])
    phys_no = np.array([np.nan, 2, 1, np.nan, np.nan, 1.0])
    summary = pd.DataFrame({"cls": ["ECL"] * 10, "phys": [phys_yes] * 3 + [phys_no] * 7})
    keep = apply_caps(summary, cfg)
    assert keep.sum() == 4 and keep.iloc[:3].all()


def test_paper_targets_scale(tmp_path):
    cfg = PrepareConfig(aug_scale=0.1)
    # paper: > 2000 clean stars -> 10,000 curves, else 5,000; the training split gets 60 %
    assert cfg.train_target("RRLYR", 9000) == 600 and cfg.train_target("DSCT", 44) == 300
    assert cfg.cap("ECL") == 1000 and cfg.cap("RRLYR") is None
    c2 = PrepareConfig(aug_targets={"RRLyr": 5}, physics=("teff",))
    assert PrepareConfig.load(c2.save(tmp_path / "p.json")) == c2 and c2.aug_targets == {"RRLYR": 5}
    with pytest.raises(ValueError, match="unknown field"):
        PrepareConfig.from_dict({"seq_len": 100, "seqlen": 3})


# ------------------------------ skips and strict mode --------------------------------------
@pytest.fixture()
def messy(tmp_path, tiny_sky):
    """A photometry dir with one example of every skip reason plus 24 good sky stars."""
    phot = tmp_path / "phot"
    phot.mkdir()
    cat = pd.read_csv(tiny_sky / "catalog.csv")
    truth = pd.read_csv(tiny_sky / "truth.csv").set_index("OGLE-ID")
    # well-measured stars only: a detached binary whose eclipses last < 3 % of the orbit has only a
    # few points in eclipse and may (rightly) fail the S/N cut (sky ECL-000002: width 0.021, snr 4.3)
    narrow = (truth["model"] == "eclipses") & (truth["width"] < 0.03)
    cat = cat[~cat["OGLE-ID"].isin(truth.index[narrow])]
    good = cat[cat["Type"].isin(["RRLYR", "CEP", "ECL"])].groupby("Type").head(8)
    for sid in good["OGLE-ID"]:
        shutil.copy(tiny_sky / "photometry" / f"{sid}.dat", phot)
    src = (tiny_sky / "photometry" / f"{good['OGLE-ID'].iloc[0]}.dat").read_text()
    rows = []

    def add(sid, text, **cat_row):
        if text is not None:
            (phot / f"{sid}.dat").write_text(text)
        if cat_row:
            rows.append(dict({"OGLE-ID": sid, "Type": "RRLYR", "subType": "RRab", "Period": 0.55}, **cat_row))

    add("X-EMPTY", "", Type="RRLYR")
    lines = src.splitlines()
    add("X-NAN", "\n".join(lines[:5] + ["5000.1 nan 0.01"] + lines[5:]) + "\n", Type="RRLYR")
    add("X-FORMAT", "1 2\n3 4\n", Type="RRLYR")
    add("X-BADERR", "\n".join(lines[:5] + ["5000.1 15.0 -0.01"] + lines[5:]) + "\n", Type="RRLYR")
    add("X-PERIOD", src, Period=0.0)
    add("X-NOPERIOD", src, Period=np.nan)
    add("X-CLASS", src, Type="QSO")
    add("X-NOTINCAT", src)  # no catalogue row
    add("X-SUBTYPE", src, subType="RRd")
    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(2000, 5000, 500))
    noise = "".join(f"{a:.5f} {15 + rng.normal(0, 0.02):.3f} 0.020\n" for a in t)
    add("X-LOWSNR", noise, Type="CEP", subType="F", Period=3.3)
    add("X-SHORT", "\n".join(lines[:150]) + "\n", Type="RRLYR")  # 150 epochs < seq_len 200
    rows.append({"OGLE-ID": "X-NOFILE", "Type": "RRLYR", "subType": "RRab", "Period": 0.55})
    catalog = pd.concat([good, pd.DataFrame(rows)], ignore_index=True)
    catalog.to_csv(tmp_path / "catalog.csv", index=False)
    return phot, tmp_path / "catalog.csv"


EXPECTED_SKIPS = {
    "empty": 1,
    "nan_inf": 1,
    "bad_format": 1,
    "bad_error": 1,
    "bad_period": 2,
    "unknown_class": 1,
    "id_not_in_catalog": 1,
    "dropped_subtype": 1,
    "low_snr": 1,
    "too_few_points": 1,
}


def test_every_skip_reason_is_counted_and_logged(messy, tmp_path, caplog):
    import logging

    phot, catalog = messy
    cfg = PrepareConfig(seq_len=200, aug_targets={c: 6 for c in CLASSES}, seed=1)
    with caplog.at_level(logging.WARNING, logger="pelsvae_tf.data"):
        ds = prepare(phot, catalog, tmp_path / "out", cfg, progress=False)
    assert ds.schema["skipped"] == EXPECTED_SKIPS
    assert ds.schema["catalog_stars_without_file"] == 1
    for reason in EXPECTED_SKIPS:
        assert reason in caplog.text
    assert ds.schema["n_clean_stars"] == 24 and sum(ds.n(s) for s in ("val", "test")) > 0
    assert "X-" not in "".join(ds.arrays("train")["star_id"])


@pytest.mark.parametrize("reason", ["empty", "nan_inf", "bad_period", "unknown_class", "id_not_in_catalog"])
def test_strict_turns_bad_input_into_errors(messy, tmp_path, reason):
    phot, catalog = messy
    keepers = {
        "empty": "X-EMPTY",
        "nan_inf": "X-NAN",
        "bad_period": "X-PERIOD",
        "unknown_class": "X-CLASS",
        "id_not_in_catalog": "X-NOTINCAT",
    }
    for p in phot.glob("X-*.dat"):
        if p.stem not in (keepers[reason], "X-NOPERIOD") or (reason != "bad_period" and p.stem == "X-NOPERIOD"):
            p.unlink()
    cfg = PrepareConfig(seq_len=200, aug_targets={c: 6 for c in CLASSES}, strict=True)
    with pytest.raises(ValueError, match=reason) as info:
        prepare(phot, catalog, tmp_path / "out", cfg, progress=False)
    assert "X-" in str(info.value) and "--strict" in str(info.value)
    assert reason in STRICT_REASONS


def test_missing_inputs(tmp_path, tiny_sky):
    with pytest.raises(FileNotFoundError, match="photometry directory"):
        prepare(tmp_path / "nope", tiny_sky / "catalog.csv", tmp_path / "o", progress=False)
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(FileNotFoundError, match="no \\*.dat"):
        prepare(tmp_path / "emptydir", tiny_sky / "catalog.csv", tmp_path / "o", progress=False)
    with pytest.raises(FileNotFoundError, match="catalogue"):
        prepare(tiny_sky / "photometry", tmp_path / "nope.csv", tmp_path / "o", progress=False)
    for bad in (
        dict(split=(0.5, 0.2, 0.2)),
        dict(snr_method="x"),
        dict(clip_mode="y"),
        dict(short_policy="z"),
        dict(seq_len=2),
        dict(physics=("mass",)),
        dict(aug_targets={"QSO": 3}),
    ):
        with pytest.raises(ValueError):
            PrepareConfig(**bad)


# ------------------------------ atomic writes and resume -----------------------------------
def _small_inputs(tmp_path, tiny_sky, n=6):
    phot = tmp_path / "phot"
    phot.mkdir()
    cat = pd.read_csv(tiny_sky / "catalog.csv")
    sub = cat[cat["Type"].isin(["RRLYR", "ELL"])].groupby("Type").head(n)
    for sid in sub["OGLE-ID"]:
        shutil.copy(tiny_sky / "photometry" / f"{sid}.dat", phot)
    sub.to_csv(tmp_path / "cat.csv", index=False)
    return phot, tmp_path / "cat.csv"


def test_interrupted_prepare_leaves_no_partial_shard_and_resumes(tmp_path, tiny_sky, monkeypatch):
    phot, cat = _small_inputs(tmp_path, tiny_sky)
    cfg = PrepareConfig(seq_len=64, aug_targets={"RRLYR": 20, "ELL": 20}, shard_size=5, clean_chunk=4)
    ref = prepare(phot, cat, tmp_path / "ref", cfg, progress=False)

    real_savez = np.savez_compressed
    calls = {"n": 0}

    def dying_savez(fh, **arrays):
        calls["n"] += 1
        if calls["n"] == 4:
            fh.write(b"partial garbage")
            raise KeyboardInterrupt("simulated crash while writing a shard")
        return real_savez(fh, **arrays)

    monkeypatch.setattr(dataset_mod.np, "savez_compressed", dying_savez)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        prepare(phot, cat, out, cfg, progress=False)
    monkeypatch.setattr(dataset_mod.np, "savez_compressed", real_savez)
    assert not (out / "schema.json").exists()
    done = sorted(out.rglob("shard-*.npz"))
    assert len(done) == 3 and not [p for p in out.rglob("*") if ".tmp" in p.name]
    for shard in done:  # every shard under a final name is complete
        with np.load(shard, allow_pickle=False) as z:
            assert set(z.files) == set(SHARD_ARRAYS)
    stamps = {p: p.stat().st_mtime_ns for p in done}
    with pytest.raises(FileNotFoundError, match="interrupted"):
        PreparedDataset(out)
    ds = prepare(phot, cat, out, cfg, progress=False)  # resume
    assert all(p.stat().st_mtime_ns == stamps[p] for p in done)  # finished shards were reused
    assert not (out / ".work").exists()
    for split in ("train", "val", "test"):
        a, b = ds.arrays(split), ref.arrays(split)
        for k in SHARD_ARRAYS:
            np.testing.assert_array_equal(a[k], b[k])
    # a finished dataset is returned as is; other settings into the same folder are refused
    assert prepare(phot, cat, out, cfg, progress=False).schema == ds.schema
    with pytest.raises(ValueError, match="another --out"):
        prepare(phot, cat, out, cfg.replace(seed=5), progress=False)


def test_reference_options_and_pad_policy(tmp_path, tiny_sky):
    phot, cat = _small_inputs(tmp_path, tiny_sky, n=5)
    cfg = PrepareConfig(
        seq_len=1500,
        short_policy="pad",
        snr_method="reference",
        clip_mode="raw",
        phase_zero="none",
        aug_targets={"RRLYR": 8, "ELL": 8},
    )
    ds = prepare(phot, cat, tmp_path / "o", cfg, progress=False)
    a = ds.arrays("train")
    assert a["phase"].shape[1] == 1500  # every sky curve has < 1000 epochs: padded
    assert ds.schema["prepare_config"]["short_policy"] == "pad"
    assert np.all(np.diff(a["phase"], axis=1) >= 0)


def test_generic_csv_light_curves(shared_data, tmp_path):
    """Real SDSS Stripe 82 RR Lyrae (CSV, MJD, multi-band) through the same prepare path."""
    d = shared_data / "sdss_s82_rrlyrae"
    per = pd.read_csv(d / "periods.csv").head(12)
    phot = tmp_path / "csv"
    phot.mkdir()
    for num in per["Num"]:
        shutil.copy(d / "light-curves" / f"{num}.csv", phot)
    cat = pd.DataFrame(
        {"ID": per["Num"].astype(str), "Type": "RRLyr", "subType": "RR" + per["Type"], "Period": per["Per"]}
    )
    cat.to_csv(tmp_path / "cat.csv", index=False)
    cfg = PrepareConfig(seq_len=40, band="g", aug_targets={"RRLYR": 20}, snr_min=3)
    ds = prepare(phot, tmp_path / "cat.csv", tmp_path / "o", cfg, progress=False)
    assert ds.schema["n_clean_stars"] >= 10
    assert ds.schema["counts"]["train"]["RRLYR"] == 20
    te = ds.arrays("test")
    assert te["is_real"].all() and (te["label"] == CLASSES.index("RRLYR")).all()
    # g-band RR Lyrae amplitudes are large: ~0.5-1.3 mag peak to peak
    assert 0.3 < np.median(ds.arrays("train")["mag_range"]) < 2.0


def test_prepare_cli(tmp_path, tiny_sky, capsys):
    from pelsvae_tf.cli.main import main

    with pytest.raises(SystemExit):
        main(["prepare", "--help"])
    out = capsys.readouterr().out
    for opt in (
        "--photometry",
        "--catalog",
        "--out",
        "--seq-len",
        "--snr-min",
        "--clip-mode",
        "--short-policy",
        "--split",
        "--aug-scale",
        "--aug-targets",
        "--strict",
        "--physics",
        "--band",
        "--xmatch",
    ):
        assert opt in out
    assert "id_not_in_catalog" in out and "low_snr" in out  # --strict says which skips become errors
    phot, cat = _small_inputs(tmp_path, tiny_sky, n=4)
    rc = main(
        [
            "prepare",
            "--photometry",
            str(phot),
            "--catalog",
            str(cat),
            "--out",
            str(tmp_path / "o"),
            "--seq-len",
            "50",
            "--aug-targets",
            "RRLYR=6,ELL=6",
            "--no-progress",
        ]
    )
    assert rc == 0
    ds = PreparedDataset(tmp_path / "o")
    assert ds.seq_len == 50 and ds.schema["counts"]["train"]["ELL"] == 6
    assert json.loads((tmp_path / "o" / "schema.json").read_text())["prepare_config"]["seed"] == 0
    assert (
        main(
            [
                "prepare",
                "--photometry",
                str(phot),
                "--catalog",
                str(cat),
                "--out",
                str(tmp_path / "p"),
                "--aug-targets",
                "QSO=3",
            ]
        )
        == 2
    )


# ------------------------------ review fixes: fingerprint, duplicates, long IDs ---------------------
def test_changed_middle_file_or_catalogue_is_refused_not_reused(tmp_path, tiny_sky):
    import os

    phot, cat = _small_inputs(tmp_path, tiny_sky)
    cfg = PrepareConfig(seq_len=64, aug_targets={"RRLYR": 20, "ELL": 20}, shard_size=50)
    out = tmp_path / "out"
    ds = prepare(phot, cat, out, cfg, progress=False)
    fp = ds.schema["prepare_fingerprint"]
    assert fp["n_files"] == 12 and len(fp["files_sha256"]) == 64 and len(fp["catalog_sha256"]) == 64
    assert prepare(phot, cat, out, cfg, progress=False).schema == ds.schema  # same inputs: reused
    files = sorted(phot.glob("*.dat"))
    middle = files[len(files) // 2]
    assert middle not in (files[0], files[-1])
    original = middle.read_text()
    lines = original.splitlines()
    middle.write_text("\n".join(lines[:-1]) + "\n")  # drop one epoch of a middle star
    with pytest.raises(ValueError, match=r"light-curve files changed .*not reused; delete .*to re-prepare"):
        prepare(phot, cat, out, cfg, progress=False)
    # same content and size but touched (e.g. re-downloaded): also not trusted
    middle.write_text(original)
    st = middle.stat()
    os.utime(middle, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    with pytest.raises(ValueError, match="light-curve files changed"):
        prepare(phot, cat, out, cfg, progress=False)
    # a changed catalogue (same path, same size) is refused too
    cat_text = cat.read_text()
    fresh = tmp_path / "fresh"
    prepare(phot, cat, fresh, cfg, progress=False)
    df = pd.read_csv(cat)
    df.loc[0, "Period"] = round(df.loc[0, "Period"] * 1.5, 6)
    df.to_csv(cat, index=False)
    assert cat.read_text() != cat_text
    with pytest.raises(ValueError, match=r"catalogue content changed \(then .*cat.csv, now .*cat.csv\)"):
        prepare(phot, cat, fresh, cfg, progress=False)
    # after a fresh prepare the changed period is what the dataset holds
    redo = prepare(phot, cat, tmp_path / "redo", cfg, progress=False)
    sid = df.loc[0, "OGLE-ID"]
    got = {
        s: p
        for split in ("train", "val", "test")
        for s, p in zip(redo.arrays(split)["star_id"], redo.arrays(split)["period"])
    }
    assert got[sid] == pytest.approx(df.loc[0, "Period"])


def test_interrupted_run_with_changed_inputs_is_refused(tmp_path, tiny_sky, monkeypatch):
    from pelsvae_tf.data import prepare as prepare_mod

    phot, cat = _small_inputs(tmp_path, tiny_sky)
    cfg = PrepareConfig(seq_len=64, aug_targets={"RRLYR": 20, "ELL": 20}, clean_chunk=4)
    real = prepare_mod._clean_chunk
    calls = {"n": 0}

    def dying(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("simulated crash while cleaning")
        return real(*a, **k)

    monkeypatch.setattr(prepare_mod, "_clean_chunk", dying)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        prepare(phot, cat, out, cfg, progress=False)
    monkeypatch.setattr(prepare_mod, "_clean_chunk", real)
    assert (out / ".work" / "clean-00000.npz").exists()
    middle = sorted(phot.glob("*.dat"))[6]
    middle.write_text("\n".join(middle.read_text().splitlines()[:-3]) + "\n")
    with pytest.raises(ValueError, match=r"interrupted run with other inputs/config: the light-curve files changed"):
        prepare(phot, cat, out, cfg, progress=False)


def test_duplicate_catalogue_ids_are_counted_and_strict_raises(tmp_path, tiny_sky):
    phot, cat = _small_inputs(tmp_path, tiny_sky)
    df = pd.read_csv(cat)
    twin = df.iloc[[0]].copy()
    twin["teff_val"] = np.nan  # fewer physics: the original row wins
    pd.concat([df, twin], ignore_index=True).to_csv(cat, index=False)
    cfg = PrepareConfig(seq_len=64, aug_targets={"RRLYR": 20, "ELL": 20})
    ds = prepare(phot, cat, tmp_path / "out", cfg, progress=False)
    sid = df.loc[0, "OGLE-ID"]
    assert ds.schema["skipped"] == {"duplicate_id": 1}
    assert sid in ds.schema["skip_examples"]["duplicate_id"]
    ids = np.concatenate([ds.arrays(s)["star_id"][ds.arrays(s)["is_real"]] for s in ("train", "val", "test")])
    assert sorted(ids.tolist()) == sorted(df["OGLE-ID"].tolist())  # the star itself is kept once
    with pytest.raises(
        ValueError, match=rf"1 duplicated row\(s\) of 1 ID\(s\), e.g. \['{sid}'\] \[duplicate_id\].*--strict"
    ):
        prepare(phot, cat, tmp_path / "strict", cfg.replace(strict=True), progress=False)
    # duplicates in the physics x-match are reported the same way
    xm = tmp_path / "xm.csv"
    pd.concat([df, df.iloc[[1, 2]]], ignore_index=True).to_csv(xm, index=False)
    ds2 = prepare(phot, cat, tmp_path / "out2", cfg, xmatch=xm, progress=False)
    assert ds2.schema["skipped"]["duplicate_id"] == 3  # 1 in the catalogue + 2 in the x-match
    assert "x-match" in ds2.schema["skip_examples"]["duplicate_id"]


def test_long_star_ids_are_kept_whole_and_distinct(tmp_path, tiny_sky):
    phot, cat = _small_inputs(tmp_path, tiny_sky)
    df = pd.read_csv(cat)
    prefix = "OGLE-LONG-SURVEY-FIELD-0001-CHIP-07-"  # 36 characters: longer than the old 32
    new_ids = {}
    for i, sid in enumerate(df["OGLE-ID"].iloc[:2]):
        new_ids[sid] = f"{prefix}STAR-{i:04d}"
        (phot / f"{sid}.dat").rename(phot / f"{new_ids[sid]}.dat")
    df["OGLE-ID"] = df["OGLE-ID"].map(lambda s: new_ids.get(s, s))
    df.to_csv(cat, index=False)
    ds = prepare(
        phot, cat, tmp_path / "out", PrepareConfig(seq_len=64, aug_targets={"RRLYR": 20, "ELL": 20}), progress=False
    )
    ids = set()
    for s in ("train", "val", "test"):
        ids |= set(ds.arrays(s)["star_id"].tolist())
    assert set(new_ids.values()) <= ids  # full 45-character IDs, two distinct stars
    assert ids == set(df["OGLE-ID"])


def test_the_catalogue_is_identified_by_its_content_not_its_path(tmp_path, tiny_sky, monkeypatch):
    """The same catalogue bytes given through another path (a copy, or a relative spelling) reuse the
    finished dataset; the fingerprint still records the path given."""
    import shutil

    phot, cat = _small_inputs(tmp_path, tiny_sky)
    cfg = PrepareConfig(seq_len=64, aug_targets={"RRLYR": 20, "ELL": 20}, shard_size=50)
    out = tmp_path / "out"
    ds = prepare(phot, cat, out, cfg, progress=False)
    copy = tmp_path / "elsewhere" / "catalog_copy.csv"
    copy.parent.mkdir()
    shutil.copy(cat, copy)
    again = prepare(phot, copy, out, cfg, progress=False)
    assert again.schema == ds.schema  # reused: nothing re-prepared
    monkeypatch.chdir(cat.parent)
    assert prepare(phot, cat.name, out, cfg, progress=False).schema == ds.schema
