"""Eclipsing-binary shape statistics of the built-in sky against real EROS-1 LMC binaries.

Per sky seed: 150 sky ECL simulated with the EROS-1 survey setting (``survey="eros1"``, 3 seasons,
100-125 epochs) and the 439 EROS-1 binaries (red band) get the :mod:`pelsvae_tf.evaluate.realism` features;
printed: medians of R21, R31, skewness, excess kurtosis and their KS statistics against EROS-1, and
the eclipse depth ratio of the 4-harmonic Fourier model (model on a 400-point phase grid; ratio =
(model half a cycle after the faintest phase - brightest) / (faintest - brightest), dimensionless;
the same estimator on both sets). Run: ``python benchmarks/bench_realism_ecl.py`` (~1-2 min).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402
from scipy.stats import ks_2samp  # noqa: E402

SHARED = HERE.parent.parent / "shared" / "data"
STATS = ("R21", "R31", "skew", "kurtosis")


def ecl_stats(cs):
    """``([n, 4] features STATS, [n] depth ratio)`` of a :class:`~pelsvae_tf.evaluate.realism.CurveSet`."""
    from pelsvae_tf.evaluate import realism as R

    F = R.feature_matrix(cs)[:, [R.FEATURES.index(f) for f in STATS]]
    g = np.linspace(0, 1, 400, endpoint=False)
    ratio = []
    for i in range(len(cs)):
        amp, ph, _ = R.fourier_fit(cs.time[i], cs.mag[i], cs.err[i], cs.period[i])
        m = sum(a * np.cos(2 * np.pi * (k + 1) * g + p) for k, (a, p) in enumerate(zip(amp, ph)))
        j = int(np.argmax(m))
        d1, d2 = m[j] - m.min(), m[(j + 200) % 400] - m.min()
        ratio.append(d2 / d1 if d1 > 0 else np.nan)
    return F, np.asarray(ratio)


def _ks(a, b):
    return float(ks_2samp(a[np.isfinite(a)], b[np.isfinite(b)]).statistic)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eros", default=str(SHARED / "eros1_lmc_ramp"), help="EROS-1 RAMP folder")
    ap.add_argument("--n", type=int, default=150, help="sky binaries per seed")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args(argv)
    from pelsvae_tf.evaluate import realism as R
    from pelsvae_tf.sky import SkyConfig

    eros = R.curves_from_eros1(args.eros, classes=["ECL"])
    Fe, re_ = ecl_stats(eros)
    print(
        json.dumps(
            {
                "eros1": {
                    "n": len(eros),
                    "median " + ",".join(STATS): np.nanmedian(Fe, 0).round(3).tolist(),
                    "depth ratio q10,50,90": np.nanpercentile(re_, [10, 50, 90]).round(3).tolist(),
                }
            }
        )
    )
    for seed in args.seeds:
        sky = R.curves_from_sky(
            SkyConfig(n_per_class={"ECL": args.n}, seed=seed, survey="eros1", years=3, epochs=(100, 125))
        )
        Fs, rs = ecl_stats(sky)
        print(
            json.dumps(
                {
                    "seed": seed,
                    "median " + ",".join(STATS): np.nanmedian(Fs, 0).round(3).tolist(),
                    "KS " + ",".join(STATS): [round(_ks(Fs[:, j], Fe[:, j]), 3) for j in range(len(STATS))],
                    "depth ratio q10,50,90": np.nanpercentile(rs, [10, 50, 90]).round(3).tolist(),
                    "KS depth ratio": round(_ks(rs, re_), 3),
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
