"""Cost of TensorFlow op determinism (on by default) for training and generation, in one run.

Training: the model is built fresh for each measurement, compiled in ``tf.function`` mode and
fitted ``--steps`` timed steps after ``--warmup`` untimed ones on in-memory synthetic batches
(``bench_training.synthetic_batches``), once inside :func:`pelsvae_tf.determinism.op_determinism`
and once outside it, alternating on / off ``--repeat`` times (the median is reported, so a drift
of the machine's load hits both arms). Two architectures: the main job's quick preset (TCN 6 blocks
x 16 filters, batch 32) and the paper's best (9 blocks x 48 filters, batch 128), 300 points.

Generation: the shipped pretrained model (``Generator.load()``, default regressor) with
``deterministic=True`` and ``False``, ``--curves`` curves of 300 points, alternating, median of
``--repeat``; the two arms' curves are compared bit for bit (the draws are counter-based either way).

Ratios are on / off measured in the same run (> 1 = determinism is slower): the ratio of the
medians, and the median and range of the per-pair ratios (each pair runs back to back).

    python benchmarks/bench_determinism.py --repeat 5      # ~6 min on 2 CPU cores
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_training import synthetic_batches  # noqa: E402
from common import machine_info  # noqa: E402

ARCHS = {
    "quick (6 x 16, batch 32)": dict(n_blocks=6, hidden=16, batch=32),
    "paper-best (9 x 48, batch 128)": dict(n_blocks=9, hidden=48, batch=128),
}


def train_seconds(arch: dict, deterministic: bool, steps: int, warmup: int, seq_len: int = 300) -> float:
    """Seconds of ``steps`` train steps (after ``warmup``) of a fresh model, determinism on or off."""
    import keras
    import tensorflow as tf

    from pelsvae_tf.determinism import op_determinism
    from pelsvae_tf.model import ModelConfig, build_pelsvae

    with op_determinism(deterministic):
        cfg = ModelConfig(
            n_blocks=arch["n_blocks"],
            hidden=arch["hidden"],
            kernel_size=5,
            latent_dim=4,
            seq_len=seq_len,
            physics=("teff", "abs_gmag", "period"),
            seed=0,
        )
        model = build_pelsvae(cfg)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
        data = synthetic_batches(arch["batch"] * 4, seq_len, 3)
        ds = tf.data.Dataset.from_tensor_slices(data).batch(arch["batch"], drop_remainder=True).repeat()
        model.fit(ds, epochs=1, steps_per_epoch=warmup, verbose=0, shuffle=False)
        t0 = time.perf_counter()
        model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
        return time.perf_counter() - t0


def pair_ratios(times: dict) -> list[float]:
    """On / off time of each alternated pair (``times[True][i] / times[False][i]``): a load spike
    hits one pair, not the median, and the spread of these ratios shows the machine's noise."""
    return [a / b for a, b in zip(times[True], times[False])]


def main(argv=None) -> int:
    """Run the benchmark; print a table of on / off ratios and one JSON line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=8, help="timed train steps per measurement")
    p.add_argument("--warmup", type=int, default=2, help="untimed train steps (tracing) per measurement")
    p.add_argument("--curves", type=int, default=1000, help="curves per generation call")
    p.add_argument("--repeat", type=int, default=3, help="on / off pairs per measurement (median)")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = p.parse_args(argv)

    import numpy as np

    from pelsvae_tf.generate import Generator
    from pelsvae_tf.generate.cadence import phases

    info = machine_info()
    print("machine:", json.dumps(info))
    results = {"machine": info, "train": {}, "generate": {}}
    for name, arch in ARCHS.items():
        times = {True: [], False: []}
        for _ in range(args.repeat):
            for flag in (True, False):
                times[flag].append(train_seconds(arch, flag, args.steps, args.warmup))
        on, off = statistics.median(times[True]), statistics.median(times[False])
        rate = lambda s: args.steps * arch["batch"] / s  # noqa: E731
        pairs = pair_ratios(times)
        results["train"][name] = {
            "on_curves_per_s": rate(on),
            "off_curves_per_s": rate(off),
            "on_over_off_time": on / off,
            "pair_ratios": pairs,
            "seconds": {"on": times[True], "off": times[False]},
        }
        print(
            f"train {name}: on {rate(on):.1f} curves/s, off {rate(off):.1f} curves/s, time on / off {on / off:.3f} "
            f"(per pair: median {statistics.median(pairs):.3f} [{min(pairs):.3f}, {max(pairs):.3f}])"
        )

    gens = {flag: Generator.load(deterministic=flag) for flag in (True, False)}
    kw = dict(teff=6500.0, abs_gmag=0.6, period=0.55, n=args.curves, cadence=phases(300), seed=0)
    out = {flag: gens[flag].generate("RRLYR", **kw) for flag in (True, False)}  # warm-up (tracing)
    same = bool(np.array_equal(out[True].mag, out[False].mag))
    times = {True: [], False: []}
    for _ in range(args.repeat):
        for flag in (True, False):
            t0 = time.perf_counter()
            gens[flag].generate("RRLYR", **kw)
            times[flag].append(time.perf_counter() - t0)
    on, off = statistics.median(times[True]), statistics.median(times[False])
    pairs = pair_ratios(times)
    results["generate"] = {
        "curves": args.curves,
        "on_curves_per_s": args.curves / on,
        "off_curves_per_s": args.curves / off,
        "on_over_off_time": on / off,
        "pair_ratios": pairs,
        "seconds": {"on": times[True], "off": times[False]},
        "bit_identical": same,
    }
    print(
        f"generate {args.curves} x 300: on {args.curves / on:.1f} curves/s, off {args.curves / off:.1f} curves/s, "
        f"time on / off {on / off:.3f} (per pair: median {statistics.median(pairs):.3f} "
        f"[{min(pairs):.3f}, {max(pairs):.3f}]); curves bit-identical on vs off: {same}"
    )
    print(json.dumps(results, default=str))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
