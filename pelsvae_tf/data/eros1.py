"""Reader of the EROS-1 LMC light curves in the layout of the RAMP variable-star challenge.

``train.csv`` / ``test.csv`` (``type``, ``period``, ``div_period``, ``quality``) and
``*_varlength_features.csv.gz`` (per-band lists written as strings): :func:`read_eros1`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from pelsvae_tf.data.lightcurve import LightCurve
from pelsvae_tf.data.readers import LightCurveError, _check_file

log = logging.getLogger("pelsvae_tf.data")


#: EROS-1 (RAMP) ``type`` code -> class name of this package (Miras are LPV).
EROS1_TYPES = {1: "ECL", 2: "CEP", 3: "RRLYR", 4: "LPV"}
#: EROS-1 fill value of ``light_points_*`` [mag].
EROS1_FILL = 25.0


def _parse_list_cell(text, where: str) -> np.ndarray:
    if isinstance(text, float) and not np.isfinite(text):
        return np.zeros(0)
    s = str(text).strip()
    if not (s.startswith("[") and s.endswith("]")):
        raise LightCurveError(f"{where}: expected a list written as a string '[..]', got {s[:40]!r}", "bad_format")
    body = s[1:-1].strip()
    if not body:
        return np.zeros(0)
    try:
        return np.array([float(x) for x in body.replace(",", " ").split()], dtype=np.float64)
    except ValueError:
        raise LightCurveError(f"{where}: non-numeric entry in {s[:60]!r}...", "bad_format") from None


def read_eros1(
    directory: str | Path,
    splits: Sequence[str] = ("train", "test"),
    band: str = "r",
    min_points: int = 10,
    min_quality: int | None = None,
) -> tuple[pd.DataFrame, list[LightCurve]]:
    """Read EROS-1 LMC light curves in the RAMP variable-star layout.

    ``directory`` holds ``<split>.csv`` (index ``patch_starid``; ``type`` 1 = binary, 2 = Cepheid,
    3 = RR Lyrae, 4 = Mira; ``period`` [d] and ``div_period``, **true period = period / div_period**;
    ``quality`` 0-3) and ``<split>_varlength_features.csv.gz`` (same index; ``time_points_<band>`` [d,
    undocumented zero point], ``light_points_<band>`` [mag, 25.0 = fill value],
    ``error_points_<band>`` [mag]; each cell a list written as ``"[..]"``). ``band`` is ``"b"`` (blue)
    or ``"r"`` (red). Fill values, non-finite values and non-positive errors are dropped; stars left
    with fewer than ``min_points`` points (or ``quality < min_quality`` when given) are skipped.

    Returns ``(catalog, curves)``: ``catalog`` has one row per kept star with ``id``, ``cls``
    (ECL / CEP / RRLYR / LPV), ``eros_type``, ``period`` [d, true period], ``quality``, ``split``,
    ``n_points``; ``curves`` the matching :class:`LightCurve` list (times sorted, ``meta["band"]``
    is ``"EROS-" + band``). ``catalog.attrs["n_skipped"]`` counts the skipped stars.
    Raises ``FileNotFoundError`` naming a missing file, ``ValueError`` for a bad ``band``/``splits``
    or a table without the needed columns.
    """
    directory = Path(directory)
    if band not in ("b", "r"):
        raise ValueError(f"read_eros1: band={band!r}; EROS-1 has bands 'b' (blue) and 'r' (red)")
    if isinstance(splits, str):
        splits = (splits,)
    if not splits:
        raise ValueError("read_eros1: splits is empty; use ('train',), ('test',) or ('train', 'test')")
    rows, curves, skipped = [], [], 0
    for split in splits:
        cat_path = _check_file(directory / f"{split}.csv", "EROS-1 catalogue")
        cat = pd.read_csv(cat_path, index_col=0)
        need = ("type", "period", "div_period")
        miss = [c for c in need if c not in cat.columns]
        if miss:
            raise ValueError(f"{cat_path}: column(s) {miss} missing; an EROS-1 RAMP catalogue has {list(need)}")
        lc_path = _check_file(directory / f"{split}_varlength_features.csv.gz", "EROS-1 light-curve table")
        cols = [f"time_points_{band}", f"light_points_{band}", f"error_points_{band}"]
        lcs = pd.read_csv(lc_path, index_col=0)
        miss = [c for c in cols if c not in lcs.columns]
        if miss:
            raise ValueError(
                f"{lc_path}: column(s) {miss} missing; an EROS-1 light-curve table has "
                f"time_points_b/r, light_points_b/r, error_points_b/r"
            )
        lcs = lcs.reindex(cat.index)
        for sid, c in cat.iterrows():
            code = c["type"]
            if not np.isfinite(code) or int(code) not in EROS1_TYPES:
                skipped += 1
                continue
            div = float(c["div_period"])
            if not (np.isfinite(div) and div > 0 and np.isfinite(c["period"]) and c["period"] > 0):
                skipped += 1
                continue
            q = float(c["quality"]) if "quality" in cat.columns else np.nan
            if min_quality is not None and not (q >= min_quality):
                skipped += 1
                continue
            where = f"{lc_path} star {sid}"
            r = lcs.loc[sid]
            t = _parse_list_cell(r[cols[0]], where + " " + cols[0])
            m = _parse_list_cell(r[cols[1]], where + " " + cols[1])
            e = _parse_list_cell(r[cols[2]], where + " " + cols[2])
            if not (t.size == m.size == e.size):
                raise LightCurveError(
                    f"{where}: time/mag/err lists differ in length ({t.size}, {m.size}, {e.size})", "bad_format"
                )
            ok = np.isfinite(t) & np.isfinite(m) & np.isfinite(e) & (e > 0) & (np.abs(m - EROS1_FILL) > 1e-6)
            if ok.sum() < min_points:
                skipped += 1
                continue
            order = np.argsort(t[ok], kind="stable")
            t, m, e = t[ok][order], m[ok][order], e[ok][order]
            cls = EROS1_TYPES[int(code)]
            period = float(c["period"]) / div
            meta = {
                "id": str(sid),
                "time_offset": 0.0,
                "time_format": "jd",
                "band": "EROS-" + band,
                "source": str(lc_path),
                "cls": cls,
                "period": period,
            }
            curves.append(LightCurve(t, m, e, meta))
            rows.append(
                {
                    "id": str(sid),
                    "cls": cls,
                    "eros_type": int(code),
                    "period": period,
                    "quality": q,
                    "split": split,
                    "n_points": int(t.size),
                }
            )
    out = pd.DataFrame(rows, columns=["id", "cls", "eros_type", "period", "quality", "split", "n_points"])
    out.attrs["n_skipped"] = skipped
    return out, curves


__all__ = ["read_eros1", "EROS1_TYPES", "EROS1_FILL"]
