"""Training throughput of the PELS-VAE: light curves per second, eager vs tf.function vs XLA,
TCN vs GRU vs LSTM, and the TCN's training FLOP rate against the measured matmul peak.

Model: the paper's best architecture (TCN, 9 blocks, 48 filters, kernel 5, latent 4, dense 16,
cVAE-P with 3 physical parameters), batch 128, length 300, paper loss. Data: in-memory
synthetic folded sinusoids of the contract's shape (throughput does not depend on the values).

For each mode the model is built fresh, ``--warmup`` steps are run first (tracing / XLA
compilation excluded), then ``--steps`` timed train steps via ``Model.fit``. Ratios are printed
against the eager baseline measured in the same run (and XLA vs tf.function).

Architecture comparison (``--archs``): each recurrent model (GRU / LSTM, ``--hidden`` units,
``--rnn-layers`` layers) is timed in ``tf.function`` mode next to the TCN in the same run; the
paper reports the TCN trained at least 3x faster than the GRU with similar quality.

Roofline: training FLOPs per curve = 3 x the analytic forward FLOPs of the TCN encoder and decoder
(conv and per-step dense layers; backward ~ 2 x forward), compared with the float32 matmul rate
(``tf.linalg.matmul`` 1024^2) measured in the same run.

    python benchmarks/bench_training.py                 # default: ~3-4 min on 2 CPU cores
    python benchmarks/bench_training.py --steps 20 --modes function,xla --archs tcn
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine_info, matmul_flops  # noqa: E402

MODES = {
    "eager": dict(run_eagerly=True, jit_compile=False),
    "function": dict(run_eagerly=False, jit_compile=False),
    "xla": dict(run_eagerly=False, jit_compile=True),
}


def synthetic_batches(n: int, seq_len: int, n_phys: int, seed: int = 0) -> dict:
    """``n`` folded sinusoids [n, seq_len] in the prepared-dataset batch layout (scaled units)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    phase = np.sort(rng.random((n, seq_len)), axis=1).astype("float32")
    amp = rng.uniform(0.3, 0.5, (n, 1))
    mag = (0.5 + amp * np.sin(2 * np.pi * (phase + rng.random((n, 1))))).astype("float32")
    return {
        "phase": phase,
        "mag": mag,
        "err": rng.uniform(0.01, 0.05, (n, seq_len)).astype("float32"),
        "class_onehot": np.eye(8, dtype="float32")[rng.integers(0, 8, n)],
        "phys": rng.random((n, n_phys)).astype("float32"),
    }


def model_config(arch: str, args):
    """The benchmarked ``ModelConfig``: paper-best TCN, or a GRU / LSTM of the same width."""
    from pelsvae_tf.model import ModelConfig

    return ModelConfig(
        arch=arch,
        n_blocks=args.n_blocks,
        hidden=args.hidden,
        kernel_size=5,
        latent_dim=4,
        rnn_layers=args.rnn_layers,
        seq_len=args.seq_len,
        physics=("teff", "abs_gmag", "period"),
        seed=0,
    )


def forward_flops_per_curve(model, seq_len: int) -> float:
    """Analytic forward FLOPs of one curve through encoder + decoder (multiply-add = 2 FLOPs).

    Every Conv1D runs at every one of the ``seq_len`` steps; Dense layers run per step in the
    decoder (after the repeat) and once in the encoder (after the last time step). Element-wise
    work is not counted (bench_roofline.py compares this count with TF's profiler).
    """
    import keras

    total = 0.0
    for part, per_step_dense in ((model.encoder, False), (model.decoder, True)):
        for layer in part._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, keras.layers.Conv1D):
                k, cin, cout = layer.kernel.shape
                total += (2.0 * k * cin * cout + (cout if layer.use_bias else 0)) * seq_len
            elif isinstance(layer, keras.layers.Dense):
                nin, nout = layer.kernel.shape
                total += (2.0 * nin * nout + nout) * (seq_len if per_step_dense else 1)
    return total


def bench_mode(mode: str, args, arch: str = "tcn") -> dict:
    """Curves/s of ``args.steps`` timed train steps of ``arch`` in ``mode`` (after ``args.warmup`` steps)."""
    import keras
    import tensorflow as tf

    from pelsvae_tf.model import build_pelsvae, count_params

    model = build_pelsvae(model_config(arch, args))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), **MODES[mode])
    data = synthetic_batches(args.batch_size * 4, args.seq_len, 3)
    ds = tf.data.Dataset.from_tensor_slices(data).batch(args.batch_size, drop_remainder=True).repeat().prefetch(2)
    t0 = time.perf_counter()
    model.fit(ds, epochs=1, steps_per_epoch=args.warmup, verbose=0, shuffle=False)
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    hist = model.fit(ds, epochs=1, steps_per_epoch=args.steps, verbose=0, shuffle=False)
    dt = time.perf_counter() - t0
    return {
        "mode": mode,
        "arch": arch,
        "train_flops_per_curve": 3.0 * forward_flops_per_curve(model, args.seq_len) if arch == "tcn" else None,
        "params": count_params(model),
        "warmup_s": round(warm, 2),
        "timed_s": round(dt, 3),
        "steps": args.steps,
        "curves_per_s": args.steps * args.batch_size / dt,
        "loss": float(hist.history["loss"][-1]),
    }


def main(argv=None) -> int:
    """Run the benchmark and print a table, ratios and a JSON line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--modes", default="eager,function,xla", help="comma list of eager, function, xla")
    p.add_argument("--steps", type=int, default=3, help="timed train steps per mode")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps per mode (tracing/compilation)")
    p.add_argument("--batch-size", type=int, default=128, help="curves per batch")
    p.add_argument("--seq-len", type=int, default=300, help="points per curve")
    p.add_argument("--n-blocks", type=int, default=9, help="TCN blocks")
    p.add_argument("--hidden", type=int, default=48, help="TCN filters")
    p.add_argument("--archs", default="tcn,gru", help="comma list of tcn, gru, lstm (recurrent ones: function mode)")
    p.add_argument("--rnn-layers", type=int, default=1, help="GRU/LSTM layers in the comparison")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = p.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if bad:
        p.error(f"unknown mode(s) {bad}; use some of {list(MODES)}")

    archs = [a.strip() for a in args.archs.split(",") if a.strip()]
    if [a for a in archs if a not in ("tcn", "gru", "lstm")]:
        p.error(f"--archs takes tcn, gru, lstm (got {args.archs!r})")

    info = machine_info()
    print("machine:", json.dumps(info))
    print(
        f"model: TCN {args.n_blocks} blocks x {args.hidden} filters, kernel 5, latent 4, "
        f"batch {args.batch_size}, length {args.seq_len}; {args.steps} timed steps after {args.warmup} warm-up"
    )
    results = []
    for mode in modes:
        try:
            r = bench_mode(mode, args)
        except Exception as exc:  # report a mode that does not work (e.g. XLA) instead of dying
            r = {"mode": mode, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
        results.append(r)
        if "error" in r:
            print(f"{mode:>9}: FAILED {r['error']}")
        else:
            print(
                f"{mode:>9}: {r['curves_per_s']:8.1f} curves/s  ({r['timed_s']:.2f} s for {r['steps']} steps; "
                f"warm-up {r['warmup_s']:.1f} s; {r['params']} params)"
            )
    ok = {r["mode"]: r for r in results if "error" not in r}
    base = "eager" if "eager" in ok else (next(iter(ok)) if ok else None)
    if base:
        for m, r in ok.items():
            r["ratio_vs_" + base] = r["curves_per_s"] / ok[base]["curves_per_s"]
            print(f"ratio {m} / {base}: {r['ratio_vs_' + base]:.2f}x")
    if "function" in ok and "xla" in ok:
        print(f"ratio xla / function: {ok['xla']['curves_per_s'] / ok['function']['curves_per_s']:.2f}x")

    # Architecture comparison: recurrent encoders/decoders next to the TCN, tf.function mode.
    arch_results = []
    tcn_fn = ok.get("function")
    for arch in [a for a in archs if a != "tcn"]:
        try:
            r = bench_mode("function", args, arch=arch)
        except Exception as exc:
            r = {"mode": "function", "arch": arch, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
        arch_results.append(r)
        if "error" in r:
            print(f"{arch:>9}: FAILED {r['error']}")
            continue
        line = (
            f"{arch:>9}: {r['curves_per_s']:8.1f} curves/s  ({args.rnn_layers} layer(s) x {args.hidden} units, "
            f"{r['params']} params, function mode)"
        )
        if tcn_fn:
            r["tcn_speedup"] = tcn_fn["curves_per_s"] / r["curves_per_s"]
            line += f"; TCN / {arch} = {r['tcn_speedup']:.2f}x (paper: TCN >= 3x faster than GRU)"
        print(line)

    # Roofline: TCN training FLOP rate against the matmul peak measured now.
    peak = matmul_flops(1024, backend="tf")["flops_per_s"]
    print(f"float32 matmul 1024^2 (tf): {peak / 1e9:.1f} GFLOP/s")
    for r in ok.values():
        rate = r["train_flops_per_curve"] * r["curves_per_s"]
        r["train_gflops_per_s"] = rate / 1e9
        r["pct_of_matmul_peak"] = 100.0 * rate / peak
        print(
            f"roofline {r['mode']:>8}: {r['train_flops_per_curve'] / 1e6:.0f} MFLOP per curve (fwd+bwd) x "
            f"{r['curves_per_s']:.1f} curves/s = {rate / 1e9:.2f} GFLOP/s = {r['pct_of_matmul_peak']:.1f} % of peak"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": info,
                    "args": vars(args),
                    "matmul_peak_flops": peak,
                    "results": results,
                    "archs": arch_results,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
