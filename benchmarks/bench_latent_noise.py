"""How the point regressor's latent noise changes the realism of generated curves (issue 12).

For a trained run, refits the ``--regressor`` (default mlp) once per ``--modes`` value of
``RegressorConfig.latent_noise`` in a temporary copy of the run directory, then generates curves
exactly as ``pelsvae evaluate`` does (``evaluate.generation._generate``: the class's physics from a
training star, z from the regressor, magnitudes from the k nearest training stars, 300 random times
over 8 years, noise and intrinsic jitter, min-max scaled) and compares them with the real stars of
``--split`` (default ``val``: the stars that choose the default; the report uses ``test``) by the
report's features and per-class classifier two-sample AUC (``evaluate.distribution``). Prints
per-class AUC, median over ``--seeds`` evaluation seeds, per mode, with the Gaussian ``residual``
mode as the baseline measured in the same run, and a "training posteriors" row: curves decoded from
the posterior means of random training stars of the class (their periods and amplitudes), i.e. a
sampler that returns exactly the latents the regressors are fitted on.

    python benchmarks/bench_latent_noise.py runs/ship1/run                  # ~3-4 min on 2 cores
    python benchmarks/bench_latent_noise.py runs/j0/run --seeds 0 1 2 --split test
    python benchmarks/bench_latent_noise.py runs/ship2/run --modes neighbours --no-posteriors --features --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from common import machine_info  # noqa: E402


def _real_stars(view, split: str) -> dict[str, np.ndarray]:
    """The real (not augmented) stars of ``split``, as the report's distribution match takes them."""
    a = view.dataset.arrays(split)
    held = np.flatnonzero(a["is_real"].astype(bool))
    return {k: a[k][held] for k in ("phase", "mag", "mag_range", "period", "label")}


def c2st_per_class(run_dir: Path, split: str, seeds: list[int], regressor: str) -> tuple[list[str], np.ndarray, dict]:
    """Per-class C2ST AUC [len(seeds), C] of the run's generator against the real stars of ``split``,
    and per-feature statistics of the same curves (the report's features,
    ``evaluate.distribution.COMPARED_FEATURES``): ``names`` [F], ``ks`` [len(seeds), C, F] (KS
    distance generated vs real), ``real_median`` [C, F] and ``gen_median`` [len(seeds), C, F]."""
    from pelsvae_tf.evaluate.config import EvalConfig
    from pelsvae_tf.evaluate.distribution import COMPARED_FEATURES, _distribution_match
    from pelsvae_tf.evaluate.generation import _generate
    from pelsvae_tf.evaluate.runview import _open_run

    view = _open_run(run_dir)
    real = _real_stars(view, split)
    names = list(COMPARED_FEATURES)
    nan = np.full(len(names), np.nan)
    out, ks, real_med, gen_med = [], [], None, []
    for s in seeds:
        cfg = EvalConfig(seed=int(s), regressor=regressor)
        gen = _generate(view, cfg, True)["folded"]
        dist, feats = _distribution_match(gen, real, view.classes, cfg, np.random.default_rng(cfg.seed + 3))
        out.append([dist[c]["c2st"]["auc"] if "c2st" in dist[c] else np.nan for c in view.classes])
        ks.append([[dist[c]["features"][n]["ks"] for n in names] if c in feats else nan for c in view.classes])
        gen_med.append([np.median(feats[c][1], axis=0) if c in feats else nan for c in view.classes])
        real_med = [np.median(feats[c][0], axis=0) if c in feats else nan for c in view.classes]
    features = {
        "names": names,
        "ks": np.asarray(ks),
        "real_median": np.asarray(real_med),
        "gen_median": np.asarray(gen_med),
    }
    return list(view.classes), np.asarray(out, dtype=np.float64), features


def posterior_means(run_dir: Path, split: str, seeds: list[int]) -> tuple[list[str], np.ndarray]:
    """Per-class C2ST AUC [len(seeds), C] of a sampler that draws the latents the regressors are
    fitted on: each curve takes the posterior mean, period and model amplitude of a random training
    star of its class, observed as :func:`c2st_per_class` observes generated curves: what a
    better sampler of these latents could gain (not a bound on the decoder)."""
    from pelsvae_tf.evaluate.config import EvalConfig
    from pelsvae_tf.evaluate.distribution import _distribution_match
    from pelsvae_tf.evaluate.generation import _make_generator
    from pelsvae_tf.evaluate.runview import _open_run
    from pelsvae_tf.generate.augment import scale_like_prepared
    from pelsvae_tf.generate.cadence import Cadence

    view = _open_run(run_dir)
    real = _real_stars(view, split)
    g = _make_generator(view, EvalConfig(), use_regressor=False)
    st = g.train_stats
    lat = view.paths.latents()
    tr = lat["split"] == "train"
    pos = {str(s): i for i, s in enumerate(lat["star_id"][tr])}
    rows = np.asarray([pos.get(str(s), -1) for s in st["star_id"]])
    mm, amp = g._meta_columns()
    ok = (rows >= 0) & np.isfinite(mm) & np.isfinite(amp) & (amp > 0)
    L = int(view.dataset.seq_len)
    out = []
    for s in seeds:
        cfg = EvalConfig(seed=int(s))
        gen: dict[str, list] = {k: [] for k in ("phase", "mag", "mag_range", "period", "label")}
        for c, name in enumerate(view.classes):
            pool = np.flatnonzero(ok & (np.asarray(st["label"]) == c))
            if pool.size == 0:
                continue
            n = cfg.n_generated_per_class
            rng = np.random.default_rng([cfg.seed, 202, c])
            pick = pool[rng.integers(0, pool.size, n)]
            times = Cadence.from_times(np.sort(rng.uniform(0.0, cfg.folded_baseline, size=(n, L)), axis=1), "random")
            res = g.from_latents(
                lat["z_mean"][tr][rows[pick]],
                name,
                np.asarray(st["period"], np.float64)[pick],
                times,
                t0=rng.uniform(0.0, 1000.0, n),
                mag_mean=mm[pick],
                amplitude=amp[pick],
                seed=cfg.seed + 7 * c,
                noise=True,
                jitter=True,
            )
            sc = scale_like_prepared(res.phase, res.mag, res.err)
            gen["phase"].append(sc["phase"])
            gen["mag"].append(sc["mag"])
            gen["mag_range"].append(np.maximum(np.ptp(res.mag, axis=1), 1e-6))
            gen["period"].append(res.period)
            gen["label"].append(np.full(n, c))
        gen_a = {k: np.concatenate(v) for k, v in gen.items()}
        dist, _ = _distribution_match(gen_a, real, view.classes, cfg, np.random.default_rng(cfg.seed + 3))
        out.append([dist[c]["c2st"]["auc"] if "c2st" in dist[c] else np.nan for c in view.classes])
    return list(view.classes), np.asarray(out, dtype=np.float64)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir", type=Path, help="trained run directory (with latents.npz and its prepared data)")
    ap.add_argument("--modes", default="residual,neighbours", help="latent_noise values, comma-separated")
    ap.add_argument("--regressor", default="mlp", choices=("linear", "forest", "mlp"))
    ap.add_argument("--split", default="val", choices=("val", "test"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="evaluation seeds")
    ap.add_argument(
        "--no-posteriors", action="store_true", help="skip the row of the training stars' own posterior means"
    )
    ap.add_argument(
        "--features",
        action="store_true",
        help="also print, per mode, class and report feature: real median, generated median and KS distance",
    )
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    from pelsvae_tf.regress import fit_regressors
    from pelsvae_tf.regress.config import RegressorConfig

    print(json.dumps(machine_info()))
    res: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes.split(","):
            run = Path(tmp) / mode
            shutil.copytree(args.run_dir, run, ignore=shutil.ignore_patterns("report*", "checkpoints", "logs"))
            t = time.perf_counter()
            fit_regressors(run, kinds=(args.regressor,), config=RegressorConfig(latent_noise=mode), force=True)
            fit_s = time.perf_counter() - t
            classes, auc, feats = c2st_per_class(run, args.split, args.seeds, args.regressor)
            res[mode] = {"classes": classes, "auc": auc.tolist(), "fit_seconds": fit_s}
            res[mode]["features"] = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in feats.items()}
        if not args.no_posteriors:
            classes, auc = posterior_means(args.run_dir, args.split, args.seeds)
            res["training posteriors"] = {"classes": classes, "auc": auc.tolist(), "fit_seconds": 0.0}
    base = args.modes.split(",")[0]
    print(
        f"\nC2ST AUC generated ({args.regressor}) vs real {args.split} stars of {args.run_dir}, median over "
        f"evaluation seeds {args.seeds} (0.5 = indistinguishable)\n"
    )
    classes = res[base]["classes"]
    print("| latent_noise | " + " | ".join(classes) + " | mean | worst | classes <= 0.75 |")
    print("|---" * (len(classes) + 4) + "|")
    for mode, r in res.items():
        med = np.nanmedian(np.asarray(r["auc"]), axis=0)
        print(
            f"| {mode} | "
            + " | ".join(f"{x:.3f}" for x in med)
            + f" | {np.nanmean(med):.3f} | {np.nanmax(med):.3f} | {int(np.sum(med <= 0.75))} |"
        )
    for mode, r in res.items():
        if mode != base and mode in args.modes.split(","):
            d = np.nanmedian(np.asarray(r["auc"]), axis=0) - np.nanmedian(np.asarray(res[base]["auc"]), axis=0)
            print(f"\n{mode} - {base}: " + ", ".join(f"{c} {x:+.3f}" for c, x in zip(classes, d)))
    if args.features:
        for mode in args.modes.split(","):
            f = res[mode]["features"]
            ks, gm = np.nanmedian(np.asarray(f["ks"]), axis=0), np.nanmedian(np.asarray(f["gen_median"]), axis=0)
            rm = np.asarray(f["real_median"])
            print(
                f"\n{mode}: per class and feature, median real / median generated (median over seeds) / KS "
                "(median over seeds)\n"
            )
            print("| class | " + " | ".join(f["names"]) + " |")
            print("|---" * (len(f["names"]) + 1) + "|")
            for c, name in enumerate(classes):
                cells = [f"{rm[c, i]:.2f} / {gm[c, i]:.2f} / {ks[c, i]:.2f}" for i in range(len(f["names"]))]
                print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": res}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
