"""End-to-end generation throughput (regressor + decoder), light curves per second.

Measures :meth:`pelsvae_tf.generate.generator.Generator.generate` for 100, 1,000 and 10,000 curves
(batched: vectorised regressor, batched tf.function decoder calls) against

- the paper: 100 light curves in ~1.3 s on a CPU without parallelism (77 curves/s), and
- a naive per-curve baseline measured in the same run: one regressor call and one eager decoder
  call per curve, as a loop over curves would do, and
- the pre-phase-function path (``--old-path``, measured in the same run): the Keras decoder fed
  each curve's requested phases, sorted, in chunks of 262,144 points, plus the 64-phase decode
  that fixed the magnitude zero point (what ``Generator.generate`` did before a curve became a
  function of phase). Today's path decodes every curve once on its ``n_grid`` grid with the
  direct TCN inference graph and interpolates, so its cost does not grow with the cadence.

Without ``--run-dir`` a freshly built, untrained model of the paper's best architecture (TCN,
9 blocks, 48 filters, kernel 5, latent 4) is used with a YDF forest regressor fitted on random
latents: throughput does not depend on the weights' values.

Usage::

    python benchmarks/bench_generation.py [--run-dir RUN] [--sizes 100,1000,10000] [--n-points 300]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import print_machine_info  # noqa: E402

PAPER_CURVES_PER_S = 100 / 1.3


def untrained_generator(n_points: int, seed: int = 0):
    """Generator from a freshly built paper-best PELS-VAE and a forest fitted on random latents."""
    from pelsvae_tf.classes import CLASSES
    from pelsvae_tf.data.dataset import PHYSICS_COLUMNS, PhysicsScaler
    from pelsvae_tf.generate.generator import Generator
    from pelsvae_tf.model import ModelConfig, build_pelsvae
    from pelsvae_tf.regress import RegressorConfig, make_regressor

    physics = ("teff", "abs_gmag", "period")
    cfg = ModelConfig(
        arch="tcn", hidden=48, n_blocks=9, kernel_size=5, latent_dim=4, physics=physics, seq_len=n_points, seed=seed
    )
    model = build_pelsvae(cfg)
    rng = np.random.default_rng(seed)
    n = 800
    label = np.arange(n) % len(CLASSES)
    phys = np.full((n, len(PHYSICS_COLUMNS)), np.nan)
    phys[:, 0] = rng.uniform(4000, 8000, n)
    phys[:, 1] = rng.uniform(-3, 4, n)
    phys[:, 2] = 10 ** rng.uniform(-1.3, 2.5, n)
    scaler = PhysicsScaler.fit(phys, PHYSICS_COLUMNS)
    reg = make_regressor(RegressorConfig(kind="forest", n_repeats=10, num_trees=100, seed=seed), physics, 4)
    reg.fit(scaler.transform(phys[:, :3], physics), rng.normal(size=(n, 4)), np.full((n, 4), -2.0), label)
    stats = {
        "label": label,
        "phys": phys.astype(np.float32),
        "period": phys[:, 2],
        "mag_mean": rng.uniform(13, 19, n),
        "mag_range": rng.uniform(0.1, 1.5, n),
        "err_median": np.full(n, 0.02),
        "star_id": np.asarray([f"s{i}" for i in range(n)]),
        "physics_columns": np.asarray(PHYSICS_COLUMNS),
        "classes": np.asarray(CLASSES),
    }
    stats["amplitude_model"] = stats["mag_range"]
    stats["mag_mean_model"] = stats["mag_mean"]
    return Generator(model.decoder, reg, CLASSES, scaler, stats, n_grid=n_points, model_config=cfg)


def old_path_seconds(gen, n: int, cadence, seed: int = 0) -> float:
    """Seconds of the pre-phase-function decode of ``n`` curves at ``cadence`` (decoder fed the
    sorted requested phases in 262,144-point chunks + a 64-phase reference decode per curve)."""
    import tensorflow as tf

    from pelsvae_tf.generate.cadence import to_phase

    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, gen.phase_function.latent_dim)).astype(np.float32)
    oh = np.eye(len(gen.classes), dtype=np.float32)[np.arange(n) % len(gen.classes)]
    per = 10 ** rng.uniform(-1, 1, n)
    times = cadence.times_for(n, per, np.zeros(n))
    ph = np.sort(to_phase(times, per, np.zeros(n)).astype(np.float32), axis=1)
    ref = np.tile(((np.arange(64) + 0.5) / 64).astype(np.float32), (n, 1))
    dec = gen.decoder
    fn = tf.function(
        lambda a, b, c: dec({"z": a, "class_onehot": b, "phase": c}, training=False),
        input_signature=[
            tf.TensorSpec([None, z.shape[1]]),
            tf.TensorSpec([None, oh.shape[1]]),
            tf.TensorSpec([None, None]),
        ],
    )
    fn(z[:2], oh[:2], ph[:2])
    fn(z[:2], oh[:2], ref[:2])
    t0 = time.perf_counter()
    for arr in (ph, ref):
        step = max(1, 262_144 // arr.shape[1])
        for s in range(0, n, step):
            out = fn(z[s : s + step], oh[s : s + step], arr[s : s + step])
            out["mag"].numpy()
    return time.perf_counter() - t0


def naive_per_curve(gen, n: int, cadence, seed: int = 0) -> float:
    """Seconds for ``n`` curves generated one by one (regressor + eager decoder per curve)."""
    from pelsvae_tf.generate.cadence import to_phase

    cls_idx = np.asarray([gen.classes.index(c) for c in gen.classes_with_physics])
    t0 = time.perf_counter()
    for i in range(n):
        lab = np.asarray([cls_idx[i % len(cls_idx)]])
        row = gen._sample_rows(lab, list(gen.physics), np.asarray([seed + i], np.int64))
        raw = np.stack([gen._stats_column(p)[row] for p in gen.physics], axis=1)
        z = gen.regressor.predict(gen.physics_scaler.transform(raw, gen.physics), seed=i, labels=lab)
        period = gen._stats_column("period")[row]
        times = cadence.times_for(1, period, np.zeros(1))
        ph = np.sort(to_phase(times, period, 0.0), axis=1).astype(np.float32)
        out = gen.decoder(
            {"z": z, "class_onehot": np.eye(len(gen.classes), dtype=np.float32)[lab], "phase": ph}, training=False
        )
        _ = np.asarray(out["mag"]) * 1.0 + 15.0
    return time.perf_counter() - t0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run-dir", default=None, help="trained run with regressors (default: untrained paper model)")
    p.add_argument("--regressor", default="forest", help="regressor kind of the run")
    p.add_argument("--sizes", default="100,1000,10000", help="comma-separated numbers of curves")
    p.add_argument("--n-points", type=int, default=300, help="points per light curve (paper: 300)")
    p.add_argument("--naive-n", type=int, default=50, help="curves in the naive per-curve baseline")
    p.add_argument("--repeats", type=int, default=2, help="timed repeats per size (best is reported)")
    p.add_argument("--old-path", action="store_true", help="also time the pre-phase-function decode per size")
    args = p.parse_args(argv)

    from pelsvae_tf.generate.cadence import survey_cadence
    from pelsvae_tf.generate.generator import Generator

    print_machine_info()
    if args.run_dir:
        gen = Generator.load(args.run_dir, regressor=args.regressor)
        what = f"run {args.run_dir} ({args.regressor})"
    else:
        gen = untrained_generator(args.n_points)
        what = "untrained paper-best model (TCN 9x48, k5, latent 4) + YDF forest (100 trees)"
    print(f"model: {what}; {args.n_points} points per curve, survey cadence over 3000 d")
    cad = survey_cadence(args.n_points, 3000.0, seed=0)
    classes = list(gen.classes_with_physics)
    gen.generate(classes[0], n=8, cadence=cad, seed=0)  # warm-up: trace the tf.function
    rows = []
    for n in [int(s) for s in args.sizes.split(",") if s.strip()]:
        cls = np.asarray(classes)[np.arange(n) % len(classes)]
        best = np.inf
        for r in range(max(1, args.repeats if n <= 1000 else 1)):
            t0 = time.perf_counter()
            gen.generate(cls, n=n, cadence=cad, seed=r)
            best = min(best, time.perf_counter() - t0)
        old = old_path_seconds(gen, n, cad) if args.old_path else float("nan")
        rows.append((n, best, n / best, old))
        print(
            f"batched  n={n:>6}: {best:8.3f} s  {n / best:10.1f} curves/s"
            + (f"; old path (decoder only) {old:.3f} s, {n / old:.1f} curves/s" if args.old_path else ""),
            flush=True,
        )
    naive_n = int(args.naive_n)
    naive_per_curve(gen, 2, cad)  # warm-up
    t_naive = naive_per_curve(gen, naive_n, cad)
    naive_rate = naive_n / t_naive
    print(f"naive per-curve loop n={naive_n}: {t_naive:.3f} s  {naive_rate:.1f} curves/s")
    print()
    print(
        "| curves | seconds | curves/s | x paper (77/s) | x naive loop | old path decode only: curves/s | end to end vs old decode |"
    )
    print("|---|---|---|---|---|---|---|")
    for n, t, rate, old in rows:
        print(
            f"| {n} | {t:.3f} | {rate:.1f} | {rate / PAPER_CURVES_PER_S:.2f} | {rate / naive_rate:.1f} | "
            f"{n / old:.1f} | {old / t:.2f}x |"
        )
    print(
        f"| naive loop ({naive_n}) | {t_naive:.3f} | {naive_rate:.1f} | {naive_rate / PAPER_CURVES_PER_S:.2f} | 1.0 | | |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
