"""Median and range over seeds of the main job's quoted numbers (README "What the quick main job reaches").

    for s in 0 1 2; do pelsvae run --out runs/seed$s --seed $s; done
    python scripts/main_job_summary.py runs/seed0 runs/seed1 runs/seed2

Reads each job's ``run/history.csv``, ``run/report/metrics.json``, ``run/report/physics_recovery.json``
and ``run/regressors/table3.csv`` and prints one markdown table: median [min, max] over the jobs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def _numbers(job: Path) -> dict[str, float]:
    import pandas as pd

    run = job / "run"
    m = json.loads((run / "report" / "metrics.json").read_text())
    out: dict[str, float] = {}
    hist = pd.read_csv(run / "history.csv")
    out["val_recon at the last epoch"] = float(hist["val_recon"].iloc[-1])
    rec = m["reconstruction"]
    out["test wRMSE (fraction of range), median over stars"] = rec["overall"]["weighted_rmse_scaled"]["median"]
    out["test wRMSE [mag]"] = rec["overall"]["weighted_rmse_mag"]["median"]
    out["flat-curve wRMSE (fraction of range)"] = rec["baseline_flat"]["weighted_rmse_scaled"]["median"]
    out["share of test stars beating flat"] = rec["fraction_beating_flat"]
    t = m["tstr"]
    out["train-on-synthetic accuracy"] = t["accuracy_tstr"]
    out["train-on-real accuracy"] = t["accuracy_trtr"]
    out["TSTR / TRTR"] = t["accuracy_tstr"] / t["accuracy_trtr"]
    aucs = [v["c2st"]["auc"] for v in m["distribution_match"].values() if isinstance(v, dict) and "c2st" in v]
    if aucs:
        out["C2ST AUC, best class"] = float(np.min(aucs))
        out["C2ST AUC, worst class"] = float(np.max(aucs))
    pr = m.get("period_recovery", {})
    rates = [v["rate_with_half_double"] for v in pr.values() if isinstance(v, dict) and "rate_with_half_double" in v]
    if rates:
        out["LS period recovery (P, P/2, 2P), mean over classes"] = float(np.mean(rates))
    prj = run / "report" / "physics_recovery.json"
    if prj.exists():
        p = json.loads(prj.read_text())
        for kind, v in p.get("regressors", {}).items():
            out[f"Teff sweep R21 slope / truth, {kind}"] = v["vs_truth"]["R21"]["slope_ratio"]
    t3 = pd.read_csv(run / "regressors" / "table3.csv")
    for _, row in t3.iterrows():
        out[f"Table 3 out-of-sample RMSE, {row['kind']}"] = float(row["rmse_val"])
        # NLL is NaN for a point regressor sampling among neighbours' residuals (no density);
        # its coverage is still measured
        if "nll_val" in row and np.isfinite(row["nll_val"]):
            out[f"latent NLL (val), {row['kind']}"] = float(row["nll_val"])
        if "cover68_val" in row and np.isfinite(row["cover68_val"]):
            out["latent NLL (val), per-class Gaussian"] = float(row["nll_val_baseline"])
            out["68 % coverage (val), per-class Gaussian"] = float(row["cover68_val_baseline"])
            out["95 % coverage (val), per-class Gaussian"] = float(row["cover95_val_baseline"])
            out[f"68 % coverage (val), {row['kind']}"] = float(row["cover68_val"])
            out[f"95 % coverage (val), {row['kind']}"] = float(row["cover95_val"])
    sp = (m.get("spread") or {}).get("per_class", {})
    for cls, v in sp.items():
        for q in ("R21", "phi31"):
            r = v.get(f"median_ratio_{q}") if isinstance(v, dict) else None
            if isinstance(r, (int, float)):
                out[f"spread at fixed physics {cls} {q}, generated / data"] = float(r)
    out["evaluation seconds"] = float(m.get("seconds", np.nan))
    return out


def main(argv=None) -> int:
    jobs = [Path(a) for a in (argv if argv is not None else sys.argv[1:])]
    if not jobs:
        print(__doc__)
        return 2
    per = [_numbers(j) for j in jobs]
    keys = list(dict.fromkeys(k for p in per for k in p))
    print(f"| quantity | median [min, max] over {len(jobs)} seeds |")
    print("|---|---|")
    for k in keys:
        v = np.asarray([p.get(k, np.nan) for p in per], dtype=float)
        v = v[np.isfinite(v)]
        if v.size:
            print(f"| {k} | {np.median(v):.3f} [{v.min():.3f}, {v.max():.3f}] |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
