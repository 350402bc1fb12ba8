"""Benchmark: the exported ``generator`` SavedModel vs the in-process Keras ``Generator``.

For 1, 100 and 10,000 light curves per request (``--points`` points each), measures the latency
(p50 / p99 over the timed calls, in ms) and the throughput (curves/s) of

* ``savedmodel``: ``tf.saved_model.load(saved_models/generator/N).signatures["serving_default"]``,
  the graph TF Serving runs (without network or (de)serialisation);
* ``keras``: :meth:`pelsvae_tf.generate.generator.Generator.generate` with the same decoder and MLP
  regressor (explicit times, physics, mean magnitude and amplitude; one noise draw),

and prints the ratio keras / savedmodel of the p50 latencies (> 1: the SavedModel is faster).
p99 is the 99th percentile of the timed calls (with few calls it is close to the maximum; the
number of calls is printed).

Without ``--run-dir`` the model is a freshly built, untrained one of the paper's best
architecture (TCN, 9 blocks, 48 filters, kernel 5, latent 4) with an MLP regressor fitted on
synthetic latents; the cost does not depend on the trained weights. Default run < 3 min on 2 cores.

    python benchmarks/bench_serving.py [--run-dir RUN] [--sizes 1,100,10000] [--points 100]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_info  # noqa: E402


def _fresh_model(args, tmp: Path):
    """Untrained paper-size decoder + an MLP regressor fitted on synthetic latents."""
    import keras

    from pelsvae_tf.classes import CLASSES, DEFAULT_PHYSICS
    from pelsvae_tf.data.dataset import PhysicsScaler
    from pelsvae_tf.model import ModelConfig, build_decoder
    from pelsvae_tf.regress import RegressorConfig, make_regressor

    keras.utils.set_random_seed(0)
    cfg = ModelConfig(
        hidden=args.hidden,
        n_blocks=args.n_blocks,
        kernel_size=5,
        latent_dim=4,
        physics=DEFAULT_PHYSICS,
        seq_len=300,
        seed=0,
        receptive_field_check="warn",
    )
    decoder = build_decoder(cfg)
    rng = np.random.default_rng(0)
    n = 500
    raw = np.stack([rng.uniform(5000, 8000, n), rng.uniform(-1, 3, n), rng.uniform(0.3, 10, n)], axis=1)
    scaler = PhysicsScaler.fit(raw, DEFAULT_PHYSICS)
    reg = make_regressor(RegressorConfig(kind="mlp", n_repeats=4, mlp_epochs=2), DEFAULT_PHYSICS, 4, CLASSES)
    reg.fit(
        scaler.transform(raw, DEFAULT_PHYSICS),
        rng.standard_normal((n, 4)).astype(np.float32),
        np.full((n, 4), -2.0, np.float32),
        rng.integers(0, len(CLASSES), n),
    )
    return decoder, reg, CLASSES, scaler


def request(rng, phys_names, scaler, n_classes: int, sig, n: int, points: int):
    """One generation request of ``n`` curves at ``points`` shared times: ``(times [d], physics
    {name: [n]} drawn in the scaler's ranges, class indices [n], the validated SavedModel inputs)``
    (mean magnitude 15 mag, amplitude 0.5 mag, seeds 0 .. n - 1)."""
    times = 2455000.0 + np.sort(rng.uniform(0, 1000, points))
    phys = {k: rng.uniform(*scaler.range(k), n) for k in phys_names}
    if "period" not in phys:
        phys["period"] = rng.uniform(0.3, 1.0, n)
    label = rng.integers(0, n_classes, n)
    inputs = {k: np.asarray(v) for k, v in phys.items() if k in sig.input_names}
    inputs.update(
        class_index=label.astype(np.int32),
        times=np.tile(times, (n, 1)),
        t0=np.full(n, 2455000.0),
        mag_mean=np.full(n, 15.0, np.float32),
        amplitude=np.full(n, 0.5, np.float32),
        seed=np.arange(n, dtype=np.int64),
    )
    return times, phys, label, sig.validate(inputs)


def generate_request(gen, classes, label, times, phys) -> np.ndarray:
    """The in-process twin of a :func:`request`: ``gen.generate`` with the same classes, times,
    physics, mean magnitude and amplitude (seed 0, one noise draw); returns ``mag`` [n, T] (mag)."""
    cls = list(np.asarray(classes)[label])
    return gen.generate(
        cls, n=len(cls), cadence=times, t0=2455000.0, mag_mean=15.0, amplitude=0.5, seed=0, noise=True, **phys
    ).mag


def _percentiles(times_s: list[float]) -> tuple[float, float]:
    a = np.asarray(times_s) * 1e3
    return float(np.percentile(a, 50)), float(np.percentile(a, 99))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; prints a table and optionally writes ``--out`` JSON."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--run-dir", default=None, help="trained run with regressors/mlp (default: fresh paper-size model)")
    p.add_argument("--sizes", default="1,100,10000", help="curves per request, comma-separated")
    p.add_argument("--points", type=int, default=100, help="points (times) per light curve")
    p.add_argument(
        "--repeats",
        default="30,10,1",
        help="timed calls per size (each path gets one untimed warm call before its first size)",
    )
    p.add_argument("--hidden", type=int, default=48, help="TCN filters of the fresh model")
    p.add_argument("--n-blocks", type=int, default=9, help="TCN blocks of the fresh model")
    p.add_argument(
        "--chunk-points",
        type=int,
        default=None,
        help="points per decoder chunk in both paths (default: ExportConfig().chunk_points)",
    )
    p.add_argument("--out", default=None, help="write the results as JSON here")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    repeats = [int(r) for r in args.repeats.split(",")]
    if len(repeats) != len(sizes):
        raise SystemExit(f"--repeats needs one count per size ({len(sizes)})")

    import tensorflow as tf

    from pelsvae_tf.generate.generator import Generator
    from pelsvae_tf.serve import ExportConfig, export_models, signature_docs

    tmp = Path(tempfile.mkdtemp(prefix="bench_serving_"))
    if args.run_dir:
        from pelsvae_tf.regress.regressors import load_regressor
        from pelsvae_tf.train import load_run

        run = load_run(args.run_dir)
        decoder, reg, classes, scaler = (
            run.decoder,
            load_regressor(Path(args.run_dir) / "regressors" / "mlp"),
            tuple(run.classes),
            run.physics_scaler,
        )
        model_desc = f"run {args.run_dir}"
    else:
        decoder, reg, classes, scaler = _fresh_model(args, tmp)
        model_desc = f"fresh TCN {args.n_blocks} blocks x {args.hidden} filters, kernel 5, latent 4 (untrained)"
    t = time.perf_counter()
    chunk = args.chunk_points or ExportConfig().chunk_points
    res = export_models(
        tmp / "saved_models",
        decoder,
        classes,
        scaler,
        {"mlp": reg},
        config=ExportConfig(models=("generator",), chunk_points=chunk),
    )
    export_s = time.perf_counter() - t
    vdir = Path(res["models"]["generator"])
    t = time.perf_counter()
    served = tf.saved_model.load(str(vdir)).signatures["serving_default"]
    load_s = time.perf_counter() - t
    sig = signature_docs(vdir)["serving_default"]
    # Same chunking as the exported graph (ExportConfig.chunk_points) so memory use is comparable.
    local = Generator(decoder, reg, classes, scaler, chunk_points=chunk)

    machine = machine_info()
    print(f"machine: {json.dumps(machine)}")
    print(
        f"model: {model_desc}; {args.points} points per curve; {chunk} points per decoder chunk; "
        f"export {export_s:.1f} s, load {load_s:.1f} s"
    )
    rows = []
    warmed: set[str] = set()
    rng = np.random.default_rng(0)
    phys_names = list(reg.physics)
    for n, reps in zip(sizes, repeats):
        times, phys, label, inputs = request(rng, phys_names, scaler, len(classes), sig, n, args.points)

        def call_served():
            out = served(**{k: tf.constant(v) for k, v in inputs.items()})
            return out["mag"].numpy()

        def call_keras():
            return generate_request(local, classes, label, times, phys)

        result = {"curves": n, "points": args.points, "repeats": reps}
        for name, fn in (("savedmodel", call_served), ("keras", call_keras)):
            if name not in warmed:  # trace / allocate once, not timed (shapes are dynamic: no retrace later)
                fn()
                warmed.add(name)
            lat = []
            for _ in range(reps):
                t = time.perf_counter()
                fn()
                lat.append(time.perf_counter() - t)
            p50, p99 = _percentiles(lat)
            result[name] = {"p50_ms": p50, "p99_ms": p99, "curves_per_s": n / (np.median(lat))}
        result["ratio_keras_over_savedmodel_p50"] = result["keras"]["p50_ms"] / result["savedmodel"]["p50_ms"]
        rows.append(result)
        print(
            f"{n:>6} curves x {reps:>2} calls | savedmodel p50 {result['savedmodel']['p50_ms']:9.1f} ms "
            f"p99 {result['savedmodel']['p99_ms']:9.1f} ms {result['savedmodel']['curves_per_s']:9.0f} curves/s | "
            f"keras p50 {result['keras']['p50_ms']:9.1f} ms p99 {result['keras']['p99_ms']:9.1f} ms "
            f"{result['keras']['curves_per_s']:9.0f} curves/s | ratio {result['ratio_keras_over_savedmodel_p50']:.2f}",
            flush=True,
        )
    if args.out:
        from pelsvae_tf.atomic import atomic_write_text

        atomic_write_text(
            args.out,
            json.dumps(
                {"machine": machine, "model": model_desc, "rows": rows, "export_s": export_s, "load_s": load_s},
                indent=2,
            )
            + "\n",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
