"""Is training the decoder on random point subsets still the best default with grid decoding?

Generation decodes every curve once on the uniform phase grid of ``seq_len`` points and
interpolates (:mod:`pelsvae_tf.generate.phase_function`). This benchmark trains the same cVAE-P twice per
seed on one prepared dataset, once with ``decoder_subsample=0.3`` (the decoder sees a random
30-100 % of the points of each batch) and once with ``1.0`` (always all points, the paper), and
measures on the REAL TEST stars (never seen in training) the reconstruction through the
generator's path: encoder posterior mean -> phase function -> each star's own phases. Reported
per setting: median over test stars of the RMSE in the prepared min-max units and of the
error-weighted chi^2 per point; median and range over the seeds. Baseline in the same run: the
paper's setting (1.0); ratios < 1 favour subsampling.

Usage::

    python benchmarks/bench_decoder_subsample.py --data runs/demo/data --like runs/demo/run \\
        --epochs 10 --seeds 0 1 2 --out /tmp/bench_subsample
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import print_machine_info  # noqa: E402


def _test_metrics(run_dir: Path, data_dir: Path) -> dict[str, float]:
    from pelsvae_tf.data.dataset import PreparedDataset
    from pelsvae_tf.generate.phase_function import PhaseFunction
    from pelsvae_tf.train import load_run

    run = load_run(run_dir)
    ds = PreparedDataset(data_dir)
    a = ds.arrays("test")
    phys_names = tuple(run.model_config.physics)
    keep = a["is_real"].astype(bool)
    if phys_names:
        cols = [ds.physics_columns.index(p) for p in phys_names]
        keep &= np.all(np.isfinite(a["phys"][:, cols]), axis=1)
    idx = np.flatnonzero(keep)
    onehot = np.eye(len(run.classes), dtype=np.float32)[a["label"][idx]]
    inputs = {"phase": a["phase"][idx], "mag": a["mag"][idx], "err": a["err"][idx], "class_onehot": onehot}
    if phys_names:
        inputs["phys"] = run.physics_scaler.transform(a["phys"][idx][:, cols], phys_names).astype(np.float32)
    z = np.asarray(run.encoder(inputs, training=False)["z_mean"])
    pf = PhaseFunction(run.decoder, n_grid=int(ds.seq_len), model_config=run.model_config)
    dec = pf.scaled_np(z, onehot, a["phase"][idx])
    resid = dec["mag"] - a["mag"][idx]
    rmse = np.sqrt(np.mean(resid**2, axis=1))
    chi2 = np.mean(resid**2 / np.maximum(a["err"][idx], 1e-3) ** 2, axis=1)
    return {"rmse": float(np.median(rmse)), "chi2": float(np.median(chi2)), "n_test": int(idx.size)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="prepared dataset (e.g. runs/demo/data)")
    ap.add_argument("--like", required=True, help="run whose model / train config is copied (e.g. runs/demo/run)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument(
        "--settings",
        type=float,
        nargs="+",
        default=[1.0, 0.3],
        help="decoder_subsample values; the first is the baseline",
    )
    ap.add_argument("--out", default="/tmp/bench_decoder_subsample")
    args = ap.parse_args(argv)

    from pelsvae_tf.model import ModelConfig
    from pelsvae_tf.train.trainer import TrainConfig, train

    print_machine_info()
    cfg = json.loads((Path(args.like) / "config.json").read_text())
    base_model = ModelConfig.from_dict(cfg["model"])
    base_train = TrainConfig.from_dict(cfg["train"])
    print(
        f"model: {base_model.arch} {base_model.n_blocks} blocks x {base_model.hidden}, time tag "
        f"{base_model.time_encoding}, {args.epochs} epochs, seeds {args.seeds}, data {args.data}"
    )
    results: dict[float, list[dict]] = {s: [] for s in args.settings}
    for seed in args.seeds:
        for sub in args.settings:
            run_dir = Path(args.out) / f"sub{sub}_seed{seed}"
            mc = dataclasses.replace(base_model, decoder_subsample=sub, seed=seed)
            tc = (
                dataclasses.replace(base_train, epochs=args.epochs, seed=seed)
                if hasattr(base_train, "seed")
                else dataclasses.replace(base_train, epochs=args.epochs)
            )
            train(args.data, run_dir, mc, tc)
            m = _test_metrics(run_dir, Path(args.data))
            results[sub].append(m)
            print(
                f"decoder_subsample={sub} seed={seed}: test RMSE {m['rmse']:.4f}, chi2/pt {m['chi2']:.2f} "
                f"({m['n_test']} real test stars)",
                flush=True,
            )
    base = args.settings[0]
    print(
        "\n| decoder_subsample | test RMSE (median over stars), median [range] over seeds | chi^2 per point | "
        "RMSE vs baseline |"
    )
    print("|---|---|---|---|")
    b = statistics.median(r["rmse"] for r in results[base])
    for sub, rs in results.items():
        rm = [r["rmse"] for r in rs]
        ch = [r["chi2"] for r in rs]
        print(
            f"| {sub} | {statistics.median(rm):.4f} [{min(rm):.4f}, {max(rm):.4f}] | "
            f"{statistics.median(ch):.2f} [{min(ch):.2f}, {max(ch):.2f}] | {statistics.median(rm) / b:.3f}x |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
