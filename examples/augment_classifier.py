"""Does PELS-VAE augmentation help a light-curve classifier? Real vs real + synthetic rare classes.

Trains the same small Keras classifier (2 Conv1D layers on [phase, scaled mag, scaled err]) twice:
on the real stars of the training split of a prepared dataset (one curve per star; the dataset's
own augmented copies are left out), and on those plus generated curves for the rarest classes (physics and magnitudes drawn from those classes' training stars, random phases, noise).
Both are scored on the real test split, and both accuracies are printed, whichever wins.

With ``--data`` and ``--run`` it uses an existing prepared dataset and trained run (regressors
fitted with ``pelsvae regress``). Without them it builds everything small in ``--workdir``:
a built-in sky (with fewer stars for the rare classes, to make them rare), prepared, a small
cVAE-P trained for ``--epochs`` epochs, regressors fitted.

Usage::

    python examples/augment_classifier.py --workdir /tmp/aug_demo            # self-contained
    python examples/augment_classifier.py --data DATA_DIR --run RUN_DIR      # your own run
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build_demo(workdir: Path, epochs: int, seed: int) -> tuple[Path, Path]:
    """Sky (rare ACEP/DSCT/T2CEP) -> prepared (seq_len 100) -> small cVAE-P -> regressors."""
    from pelsvae_tf.classes import CLASSES
    from pelsvae_tf.data.prepare import PrepareConfig, prepare
    from pelsvae_tf.model import ModelConfig
    from pelsvae_tf.regress import RegressorConfig, fit_regressors
    from pelsvae_tf.sky import SkyConfig, build_sky
    from pelsvae_tf.train.trainer import TrainConfig, train

    counts = {c: 120 for c in CLASSES}
    counts.update({"ACEP": 20, "DSCT": 20, "T2CEP": 25})
    sky = workdir / "sky"
    if not (sky / "catalog.csv").exists():
        build_sky(SkyConfig(n_per_class=counts, seed=seed), sky)
    data = workdir / "data"
    if not (data / "schema.json").exists():
        prepare(
            sky / "photometry",
            sky / "catalog.csv",
            data,
            PrepareConfig(seq_len=100, aug_targets={c: 150 for c in CLASSES}, seed=seed),
        )
    run = workdir / "run"
    if not (run / "model.keras").exists():
        mc = ModelConfig(
            arch="tcn",
            hidden=16,
            n_blocks=4,
            kernel_size=5,
            latent_dim=4,
            physics=("teff", "abs_gmag", "period"),
            seq_len=100,
            seed=seed,
        )
        train(data, run, mc, TrainConfig(epochs=epochs, batch_size=64, learning_rate=3e-3, seed=seed))
    fit_regressors(run, ("forest",), RegressorConfig(n_repeats=20, num_trees=50, seed=seed))
    return data, run


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Classifier on real vs real + synthetic rare-class light curves")
    p.add_argument("--data", default=None, help="prepared dataset directory (with --run)")
    p.add_argument("--run", default=None, help="trained run directory with regressors/forest (with --data)")
    p.add_argument("--workdir", default="aug_demo", help="where the self-contained demo builds its sky/run")
    p.add_argument("--vae-epochs", type=int, default=15, help="epochs of the demo cVAE-P")
    p.add_argument("--epochs", type=int, default=15, help="classifier epochs (both arms)")
    p.add_argument("--n-rare", type=int, default=3, help="number of rarest classes that get synthetic curves")
    p.add_argument("--synthetic-per-class", type=int, default=300, help="synthetic curves per rare class")
    p.add_argument("--seed", type=int, default=0, help="seed of everything")
    p.add_argument("--out", default=None, help="JSON file for the results (default WORKDIR/augment_results.json)")
    args = p.parse_args(argv)

    from pelsvae_tf.atomic import atomic_write_text
    from pelsvae_tf.generate.augment import AugmentExperimentConfig, augmentation_experiment

    if (args.data is None) != (args.run is None):
        p.error("give both --data and --run, or neither (self-contained demo)")
    workdir = Path(args.workdir)
    if args.data is None:
        data, run = build_demo(workdir, args.vae_epochs, args.seed)
    else:
        data, run = Path(args.data), Path(args.run)
    cfg = AugmentExperimentConfig(
        n_rare=args.n_rare, synthetic_per_class=args.synthetic_per_class, epochs=args.epochs, seed=args.seed
    )
    res = augmentation_experiment(data, run, cfg)
    print(f"rare classes (fewest real training stars): {res['rare_classes']}")
    print(f"real training stars per class: {res['real_train_counts']}")
    print(f"test curves (real stars only): {res['n_test']}; synthetic curves added: {res['n_synthetic']}")
    print(f"{'':22s} {'train curves':>12s} {'accuracy':>9s} {'balanced':>9s} {'rare recall':>12s}")
    for name, key in (("real only", "real"), ("real + synthetic", "real_plus_synthetic")):
        r = res[key]
        print(
            f"{name:22s} {r['n_train']:12d} {r['accuracy']:9.3f} {r['balanced_accuracy']:9.3f} "
            f"{r['rare_recall_mean']:12.3f}"
        )
    diff = res["real_plus_synthetic"]["accuracy"] - res["real"]["accuracy"]
    print(
        f"test accuracy: real only {res['real']['accuracy']:.3f}, real + synthetic "
        f"{res['real_plus_synthetic']['accuracy']:.3f} ({diff:+.3f})"
    )
    out = Path(args.out) if args.out else workdir / "augment_results.json"
    atomic_write_text(out, json.dumps(res, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
