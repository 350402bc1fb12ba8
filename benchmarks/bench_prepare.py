#!/usr/bin/env python
"""Benchmark: streaming ``prepare`` vs a naive in-memory baseline on N raw built-in-sky curves.

Both variants run the same cleaning, split and augmentation code on the same raw files; they
differ only in how data flows:

- ``streaming`` -- :func:`pelsvae_tf.data.prepare.prepare`: star by star, cleaned curves in
  on-disk chunks, shards written as they fill;
- ``naive`` (baseline) -- read every light curve into memory first, clean them all, keep every
  output curve in memory and write once with ``write_prepared``.

Each variant runs in its own subprocess so its peak resident memory (``ru_maxrss``) is its own.
Prints raw curves per second, peak RSS, and the ratios streaming / naive.

    python benchmarks/bench_prepare.py                 # 20,000 raw curves (2,500 per class)
    python benchmarks/bench_prepare.py --n 2000        # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def run_naive(sky: Path, out: Path, cfg) -> int:
    """The non-streaming baseline; returns the number of curves written."""
    import numpy as np
    import pandas as pd

    from pelsvae_tf.classes import CLASSES
    from pelsvae_tf.data import cleaning
    from pelsvae_tf.data.dataset import PHYSICS_COLUMNS, SHARD_ARRAYS, write_prepared
    from pelsvae_tf.data.prepare import _stable_hash, augmentation_plan, clean_curve, load_catalog, split_stars
    from pelsvae_tf.data.readers import list_photometry, read_lightcurve

    cat = load_catalog(sky / "catalog.csv").set_index("ogle_id", drop=False)
    curves = [read_lightcurve(f) for f in list_photometry(sky / "photometry")]  # everything in memory
    kept, rows = [], []
    for lc in curves:
        row = cat.loc[lc.id]
        reason, res = clean_curve(lc.time, lc.mag, lc.err, float(row["period"]), cfg)
        if reason is None:
            kept.append(res)
            rows.append(
                {
                    "star_id": lc.id,
                    "cls": row["cls"],
                    "period": float(row["period"]),
                    "phys": np.array([row[c] for c in PHYSICS_COLUMNS], dtype=float),
                }
            )
    summary = pd.DataFrame(rows)
    summary["split"] = split_stars(summary, cfg)
    summary["copies"] = augmentation_plan(summary, cfg)
    out_rows = {s: {k: [] for k in SHARD_ARRAYS} for s in ("train", "val", "test")}
    label = {c: i for i, c in enumerate(CLASSES)}

    def add(split, ph, m, e, s, real):
        sm, se, meta = cleaning.minmax_scale(m, e)
        rec = dict(
            phase=ph,
            mag=sm,
            err=se,
            label=label[s["cls"]],
            phys=s["phys"],
            period=s["period"],
            star_id=s["star_id"],
            is_real=real,
            **meta,
        )
        for k in SHARD_ARRAYS:
            out_rows[split][k].append(rec[k])

    for res, (_, s) in zip(kept, summary.iterrows()):
        rng = np.random.default_rng([cfg.seed, 4, _stable_hash(s["star_id"])])
        add(
            s["split"],
            *cleaning.resample_to_length(res["phase"], res["mag"], res["err"], cfg.seq_len, rng, cfg.short_policy),
            s,
            True,
        )
        for _ in range(int(s["copies"])):
            add(
                "train",
                *cleaning.augment_folded(res["phase"], res["mag"], res["err"], cfg.seq_len, rng, cfg.short_policy),
                s,
                False,
            )
    splits = {s: {k: np.asarray(v) for k, v in d.items()} for s, d in out_rows.items()}
    write_prepared(out, splits, {"prepare_config": cfg.to_dict()}, None, shard_size=cfg.shard_size)
    return sum(len(d["label"]) for d in splits.values())


def child(variant: str, sky: Path, out: Path, aug_scale: float) -> dict:
    from pelsvae_tf.data.prepare import PrepareConfig, prepare

    cfg = PrepareConfig(aug_scale=aug_scale)
    t0 = time.perf_counter()
    if variant == "streaming":
        ds = prepare(sky / "photometry", sky / "catalog.csv", out, cfg, progress=False)
        n_out = sum(ds.n(s) for s in ds.splits)
    else:
        n_out = run_naive(sky, out, cfg)
    wall = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"variant": variant, "wall_s": wall, "peak_rss_mb": rss_kb / 1024, "n_out": n_out}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20000, help="raw light curves (split evenly over the 8 classes)")
    ap.add_argument(
        "--aug-scale",
        type=float,
        default=1.0,
        help="PrepareConfig.aug_scale for both variants (1 = the paper's targets)",
    )
    ap.add_argument("--workdir", default=None, help="where the sky and outputs go (default: a temp dir)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--sky", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(child(a.child, Path(a.sky), Path(a.out), a.aug_scale)))
        return 0

    from common import machine_info, print_machine_info

    from pelsvae_tf.sky import SkyConfig, build_sky

    print_machine_info(machine_info(with_tensorflow=False))
    work = Path(a.workdir or tempfile.mkdtemp(prefix="bench_prepare_"))
    sky = work / f"sky-{a.n}"
    t0 = time.perf_counter()
    build_sky(SkyConfig(n_per_class=a.n // 8, seed=0), sky, progress=True)
    t_sky = time.perf_counter() - t0
    n_raw = len(list((sky / "photometry").glob("*.dat")))
    if t_sky > 1.0:
        print(f"built-in sky: {n_raw} raw curves in {t_sky:.1f} s ({n_raw / t_sky * 60:.0f} stars/min)")
    else:
        print(f"built-in sky: reusing {n_raw} raw curves in {sky}")
    results = {}
    for variant in ("naive", "streaming"):
        out = work / f"out-{variant}"
        cmd = [
            sys.executable,
            __file__,
            "--child",
            variant,
            "--sky",
            str(sky),
            "--out",
            str(out),
            "--aug-scale",
            str(a.aug_scale),
        ]
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        res = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
        r = json.loads(res.stdout.strip().splitlines()[-1])
        r["raw_per_s"] = n_raw / r["wall_s"]
        results[variant] = r
        print(
            f"{variant:9s}: {r['wall_s']:7.1f} s  {r['raw_per_s']:7.1f} raw curves/s  "
            f"peak RSS {r['peak_rss_mb']:7.1f} MB  ({r['n_out']} prepared curves)"
        )
    s, n = results["streaming"], results["naive"]
    print(
        f"ratio streaming/naive: throughput x{s['raw_per_s'] / n['raw_per_s']:.2f}, "
        f"peak memory x{s['peak_rss_mb'] / n['peak_rss_mb']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
