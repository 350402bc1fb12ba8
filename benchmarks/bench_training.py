"""Training throughput of the PELS-VAE: light curves per second, eager vs tf.function vs XLA.

Model: the paper's best architecture (TCN, 9 blocks, 48 filters, kernel 5, latent 4, dense 16,
cVAE-P with 3 physical parameters), batch 128, length 300, paper loss. Data: in-memory
synthetic folded sinusoids of the contract's shape (throughput does not depend on the values).

For each mode the model is built fresh, ``--warmup`` steps are run first (tracing / XLA
compilation excluded), then ``--steps`` timed train steps via ``Model.fit``. Ratios are printed
against the eager baseline measured in the same run (and XLA vs tf.function).

    python benchmarks/bench_training.py                 # default: ~2-3 min on 2 CPU cores
    python benchmarks/bench_training.py --steps 20 --modes function,xla
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODES = {"eager": dict(run_eagerly=True, jit_compile=False),
         "function": dict(run_eagerly=False, jit_compile=False),
         "xla": dict(run_eagerly=False, jit_compile=True)}


def machine_info() -> dict:
    """CPU / accelerator / library versions of this machine."""
    import keras
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "load_avg_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
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


def bench_mode(mode: str, args) -> dict:
    """Curves/s of ``args.steps`` timed train steps in ``mode`` (after ``args.warmup`` steps)."""
    import keras
    import tensorflow as tf

    from pelsvae_tf.model import ModelConfig, build_pelsvae, count_params

    cfg = ModelConfig(arch="tcn", n_blocks=args.n_blocks, hidden=args.hidden, kernel_size=5, latent_dim=4,
                      seq_len=args.seq_len, physics=("teff", "abs_gmag", "period"), seed=0)
    model = build_pelsvae(cfg)
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
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = p.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if bad:
        p.error(f"unknown mode(s) {bad}; use some of {list(MODES)}")

    info = machine_info()
    print("machine:", json.dumps(info))
    print(f"model: TCN {args.n_blocks} blocks x {args.hidden} filters, kernel 5, latent 4, "
          f"batch {args.batch_size}, length {args.seq_len}; {args.steps} timed steps after {args.warmup} warm-up")
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
            print(f"{mode:>9}: {r['curves_per_s']:8.1f} curves/s  ({r['timed_s']:.2f} s for {r['steps']} steps; "
                  f"warm-up {r['warmup_s']:.1f} s; {r['params']} params)")
    ok = {r["mode"]: r for r in results if "error" not in r}
    base = "eager" if "eager" in ok else (next(iter(ok)) if ok else None)
    if base:
        for m, r in ok.items():
            r["ratio_vs_" + base] = r["curves_per_s"] / ok[base]["curves_per_s"]
            print(f"ratio {m} / {base}: {r['ratio_vs_' + base]:.2f}x")
    if "function" in ok and "xla" in ok:
        print(f"ratio xla / function: {ok['xla']['curves_per_s'] / ok['function']['curves_per_s']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "args": vars(args), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
