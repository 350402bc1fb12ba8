"""Issue 12 measurement. Fit every kind on the pretrained run's TRAIN split (3 seeds, default config) and score on
VAL (what fit_regressors' table reports) and TEST. Run on a copy of the run."""

import shutil
import sys
from pathlib import Path

import pandas as pd

from pelsvae_tf.regress import (
    ALL_KINDS,
    RegressorConfig,
    fit_regressors,
    load_regressor,
    regression_arrays,
    rmse,
)
from pelsvae_tf.regress.density import density_scores

src = Path("pelsvae_tf/resources/pretrained")
out = []
kinds = tuple(sys.argv[1].split(",")) if len(sys.argv) > 1 else ALL_KINDS
for seed in (0, 1, 2):
    run = Path(f"/tmp/dens/pre_s{seed}")
    if run.exists():
        shutil.rmtree(run)
    shutil.copytree(src, run, ignore=shutil.ignore_patterns("regressors"))
    res = fit_regressors(run, kinds, RegressorConfig(seed=seed), force=True)
    P = ("teff", "abs_gmag", "period")
    tr = regression_arrays(run, P, "train")
    te = regression_arrays(run, P, "test")
    for r in res["rows"]:
        reg = load_regressor(run / "regressors" / r["name"])
        t = density_scores(reg, tr, te, 8, seed=seed + 4)
        r.update({k.replace("_val", "_test"): v for k, v in t.items()})
        r["rmse_test"] = rmse(reg.predict(te["phys_scaled"], seed=seed + 2, labels=te["label"]), te["z_mean"])
        r["seed"] = seed
        out.append(r)
        print(
            {
                k: (round(v, 3) if isinstance(v, float) else v)
                for k, v in r.items()
                if k not in ("model", "physics", "name")
            },
            flush=True,
        )
pd.DataFrame(out).to_csv("/tmp/dens/eval_pretrained.csv", index=False)
