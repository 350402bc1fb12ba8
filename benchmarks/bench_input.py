"""Is the ``tf.data`` input ever the training bottleneck? The input pipeline alone vs a training step.

On a prepared dataset (``--data``: e.g. the main job's ``runs/demo/data``), builds the training
batches exactly as :func:`pelsvae_tf.train.loop.make_datasets` does (the whole split as tensors,
epoch-seeded stateless shuffles, a ``tf.gather`` per batch, prefetch), then times, in one run:

- ``input``: iterating the training ``tf.data.Dataset`` alone (batches/s, nothing consumes them);
- ``step``: ``PELSVAE.train_on_batch`` on batches already in memory, for the quick preset model
  (TCN 6 x 16) and the paper-best one (TCN 9 x 48), each at ``--batch``;
- ``fit``: one ``model.fit`` epoch of ``--steps`` steps fed by the same pipeline (Keras' own loop,
  callbacks and iterator set-up included; traced once for the pipeline's ``None`` batch axis, so
  the short last batch of a pass does not retrace it, as it would retrace ``train_on_batch``).

Prints the input rate over the step rate (> 1: the input keeps ahead of training) and the fit
rate over the in-memory step rate (1.0: no input stall). Timing only; no assertions.

    python benchmarks/bench_input.py --data runs/demo/data [--batch 32] [--steps 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import print_machine_info  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the input-vs-step benchmark on ``--data``; prints rates and ratios. Returns 0."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--data", default="runs/demo/data", help="a prepared dataset directory (pelsvae prepare / run)")
    p.add_argument("--batch", type=int, default=32, help="curves per training batch")
    p.add_argument("--steps", type=int, default=30, help="timed batches / steps per measurement")
    args = p.parse_args(argv)
    if not Path(args.data, "schema.json").exists():
        raise SystemExit(f"--data {args.data}: no prepared dataset there (run `pelsvae run --out runs/demo` first)")

    import keras

    from pelsvae_tf.classes import DEFAULT_PHYSICS
    from pelsvae_tf.data import PreparedDataset
    from pelsvae_tf.model import ModelConfig, build_pelsvae
    from pelsvae_tf.train import TrainConfig, loop

    print_machine_info()
    dataset = PreparedDataset(args.data)
    physics = tuple(DEFAULT_PHYSICS)
    tc = TrainConfig(batch_size=args.batch, epochs=1000, seed=0)
    train_ds, _, steps = loop.make_datasets(dataset, physics, tc, 0, 1, None)
    seq_len = int(next(iter(train_ds))["mag"].shape[1])
    print(f"data: {args.data}; batch {args.batch}; {seq_len} points per curve; {steps} steps per epoch")

    def time_input(n: int) -> float:
        it = iter(train_ds)
        next(it)
        t0 = time.perf_counter()
        for _ in range(n):
            next(it)
        return n / (time.perf_counter() - t0)

    batches = [b for _, b in zip(range(4), train_ds)]
    rates = {"input": time_input(args.steps)}
    print(f"  input pipeline alone: {rates['input']:9.1f} batches/s = {rates['input'] * args.batch:10.0f} curves/s")
    presets = {
        "quick (TCN 6 x 16)": dict(hidden=16, n_blocks=6),
        "paper-best (TCN 9 x 48)": dict(hidden=48, n_blocks=9),
    }
    for name, kw in presets.items():
        cfg = ModelConfig(
            arch="tcn",
            kernel_size=5,
            latent_dim=4,
            seq_len=seq_len,
            seed=0,
            physics=physics,
            n_classes=len(dataset.classes),
            receptive_field_check="off",
            **kw,
        )
        keras.utils.set_random_seed(0)
        model = build_pelsvae(cfg)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        model.train_on_batch(batches[0])
        t0 = time.perf_counter()
        for i in range(args.steps):
            model.train_on_batch(batches[i % len(batches)])
        step = args.steps / (time.perf_counter() - t0)
        model.fit(train_ds, epochs=1, steps_per_epoch=2, verbose=0)  # trace fit's train function
        t0 = time.perf_counter()
        model.fit(train_ds, epochs=1, steps_per_epoch=args.steps, verbose=0)
        fit = args.steps / (time.perf_counter() - t0)
        print(
            f"  {name:<24} step (in memory) {step:7.2f} steps/s; model.fit fed by tf.data {fit:7.2f} steps/s "
            f"({fit / step:4.2f}x of in memory); input / step = {rates['input'] / step:8.1f}x"
        )
        del model
    return 0


if __name__ == "__main__":
    sys.exit(main())
