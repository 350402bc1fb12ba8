"""Roofline of the decoder: FLOPs per generated light curve vs this machine's measured matmul rate.

Builds the decoder of the paper's best architecture (TCN, 9 blocks, 48 filters, kernel 5,
latent 4, 300 points; untrained weights: the FLOP count and speed do not depend on training),
counts its floating-point operations per light curve

- analytically, from the layer shapes (every Conv1D: ``2 k C_in C_out T`` + bias ``C_out T``;
  every per-time-step Dense: ``2 n_in n_out T`` + bias), and
- with TensorFlow's graph profiler (``tf.compat.v1.profiler``, float_operation) on the traced graph,

then measures decoder throughput (curves/s, ``tf.function``, optionally XLA) and the float32
matmul rate of the same machine in the same run (numpy BLAS and ``tf.linalg.matmul``). It prints
the achieved FLOP rate as a percentage of the measured matmul rate (the roofline ratio), and the
throughput against the paper's figure (100 curves in 1.3 s on a CPU).

Run: ``python benchmarks/bench_roofline.py`` (about a minute on 2 cores; ``--help`` for options).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from common import fmt_si, matmul_flops, print_machine_info, ratio_line, time_call  # noqa: E402

#: Paper, section 4.3: 100 light curves generated in ~1.3 s on a CPU, no parallelism.
PAPER_CURVES_PER_S = 100 / 1.3


def analytic_flops(decoder, seq_len: int) -> dict[str, float]:
    """FLOPs of one decoder call for ONE light curve of ``seq_len`` points, from the layer shapes.

    Counts Conv1D and Dense layers (multiply-add = 2 FLOPs, plus one add per bias); every Conv1D
    and every Dense of the decoder runs at every time step (the decoder repeats [z, class] over
    the T steps before the TCN). Element-wise work (activations, residual adds, the time tag) is
    not counted here; the TF profiler count includes it, so the two differ by about that much.
    """
    import keras

    conv = dense = 0.0
    by_layer = []
    for layer in decoder._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.Conv1D):
            k, cin, cout = layer.kernel.shape
            f = 2.0 * k * cin * cout * seq_len + (cout * seq_len if layer.use_bias else 0)
            conv += f
            by_layer.append((layer.name, f))
        elif isinstance(layer, keras.layers.Dense):
            nin, nout = layer.kernel.shape
            f = 2.0 * nin * nout * seq_len + (nout * seq_len if layer.use_bias else 0)
            dense += f
            by_layer.append((layer.name, f))
    return {"conv": conv, "dense": dense, "matmul_like": conv + dense, "n_conv_dense_layers": len(by_layer)}


def profiler_flops(decoder, latent_dim: int, n_classes: int, seq_len: int, batch: int = 1) -> float | None:
    """FLOPs of one decoder call on ``batch`` curves counted by TF's graph profiler (None if it fails)."""
    import tensorflow as tf

    spec = {
        "z": tf.TensorSpec([batch, latent_dim], tf.float32),
        "class_onehot": tf.TensorSpec([batch, n_classes], tf.float32),
        "phase": tf.TensorSpec([batch, seq_len], tf.float32),
    }
    fn = tf.function(lambda x: decoder(x, training=False))
    graph = fn.get_concrete_function(spec).graph
    try:
        opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
        opts["output"] = "none"
        prof = tf.compat.v1.profiler.profile(graph=graph, run_meta=tf.compat.v1.RunMetadata(), cmd="op", options=opts)
        return float(prof.total_float_ops)
    except Exception as exc:  # profiler API varies across TF builds; report instead of failing
        print(f"  (TF profiler FLOP count unavailable: {type(exc).__name__}: {exc})")
        return None


def main(argv: list[str] | None = None) -> int:
    """Run the roofline benchmark; prints machine info, FLOP counts, rates and ratios. Returns 0."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--batch", type=int, default=256, help="curves per decoder call")
    p.add_argument("--seq-len", type=int, default=300, help="points per generated curve")
    p.add_argument("--repeat", type=int, default=5, help="timed repetitions (best is reported)")
    p.add_argument("--matmul-n", type=int, default=1024, help="side of the square float32 matmul baseline")
    p.add_argument("--no-xla", action="store_true", help="skip the jit_compile (XLA) decoder timing")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = p.parse_args(argv)
    if args.batch < 1 or args.seq_len < 2:
        p.error("--batch must be >= 1 and --seq-len >= 2")

    import tensorflow as tf

    from pelsvae_tf.model import ModelConfig, build_decoder, count_params

    info = print_machine_info()
    cfg = ModelConfig(
        arch="tcn",
        hidden=48,
        n_blocks=9,
        kernel_size=5,
        latent_dim=4,
        seq_len=args.seq_len,
        seed=0,
        receptive_field_check="off",
    )
    decoder = build_decoder(cfg)
    print(
        f"== decoder: TCN 9 blocks x 48 filters, kernel 5, latent 4, T={args.seq_len}; "
        f"{count_params(decoder):,} parameters =="
    )

    fl = analytic_flops(decoder, args.seq_len)
    prof = profiler_flops(decoder, cfg.latent_dim, cfg.n_classes, args.seq_len, batch=1)
    print(
        f"analytic FLOPs per curve: conv {fmt_si(fl['conv'], 'FLOP')}, dense {fmt_si(fl['dense'], 'FLOP')}, "
        f"total matmul-like {fmt_si(fl['matmul_like'], 'FLOP')} ({fl['n_conv_dense_layers']} layers)"
    )
    if prof is not None:
        print(
            ratio_line(
                "TF profiler FLOPs per curve (incl. element-wise ops)",
                prof,
                fl["matmul_like"],
                "analytic conv+dense count",
                "FLOP",
            )
        )
    flops_per_curve = fl["matmul_like"]

    # -- baselines measured now: float32 matmul rate -----------------------------------------
    mm_np = matmul_flops(args.matmul_n, "numpy", repeat=args.repeat)
    mm_tf = matmul_flops(args.matmul_n, "tf", repeat=args.repeat)
    peak = max(mm_np["flops_per_s"], mm_tf["flops_per_s"])
    print(
        f"float32 matmul {args.matmul_n}^2: numpy {fmt_si(mm_np['flops_per_s'], 'FLOP/s')}, "
        f"tf {fmt_si(mm_tf['flops_per_s'], 'FLOP/s')} (roofline peak used: {fmt_si(peak, 'FLOP/s')})"
    )

    # -- decoder throughput --------------------------------------------------------------------
    rng = np.random.default_rng(0)
    b, t = args.batch, args.seq_len
    inputs = {
        "z": tf.constant(rng.standard_normal((b, cfg.latent_dim)).astype(np.float32)),
        "class_onehot": tf.constant(np.eye(cfg.n_classes, dtype=np.float32)[rng.integers(0, cfg.n_classes, b)]),
        "phase": tf.constant(np.sort(rng.uniform(0, 1, (b, t)), axis=1).astype(np.float32)),
    }
    variants = {"tf.function": tf.function(lambda x: decoder(x, training=False))}
    if not args.no_xla:
        variants["tf.function + XLA"] = tf.function(lambda x: decoder(x, training=False), jit_compile=True)
    results = {}
    for name, fn in variants.items():
        try:
            tm = time_call(lambda: {k: v.numpy() for k, v in fn(inputs).items()}, repeat=args.repeat, warmup=2)
        except Exception as exc:  # XLA may be unavailable for some op on some builds
            print(f"{name}: failed ({type(exc).__name__}: {str(exc)[:200]})")
            continue
        cps = b / tm["best"]
        achieved = cps * flops_per_curve
        results[name] = {
            "curves_per_s": cps,
            "seconds_per_batch": tm["best"],
            "achieved_flops_per_s": achieved,
            "percent_of_matmul_peak": 100 * achieved / peak,
        }
        print(f"{name}: {cps:,.0f} curves/s (batch {b}, best of {tm['n']}), achieved {fmt_si(achieved, 'FLOP/s')}")
        print(
            "  "
            + ratio_line("roofline", achieved, peak, "measured matmul peak", "FLOP/s")
            + f" -> {100 * achieved / peak:.1f} %"
        )
        print("  " + ratio_line("throughput", cps, PAPER_CURVES_PER_S, "paper (100 curves / 1.3 s)", "curves/s"))
    if "tf.function + XLA" in results and "tf.function" in results:
        r = results["tf.function + XLA"]["curves_per_s"] / results["tf.function"]["curves_per_s"]
        print(f"XLA / tf.function throughput ratio: {r:.2f}")
    if args.json:
        from pelsvae_tf.atomic import atomic_write_text

        atomic_write_text(
            args.json,
            json.dumps(
                {
                    "machine": info,
                    "flops_per_curve": fl,
                    "profiler_flops_per_curve": prof,
                    "matmul": {"numpy": mm_np, "tf": mm_tf},
                    "decoder": results,
                    "batch": b,
                    "seq_len": t,
                },
                indent=1,
                default=str,
            )
            + "\n",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
