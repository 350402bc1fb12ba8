"""``pelsvae train``: parser and command (implementation: :func:`pelsvae_tf.train.trainer.train`).

The model and training options are generated from :class:`~pelsvae_tf.model.config.ModelConfig`
(``dest`` ``m_*``) and :class:`~pelsvae_tf.train.config.TrainConfig` (``t_*``) with
:func:`pelsvae_tf.cli.flags.add_config_flags`; both are TensorFlow-free, so ``--help`` is fast.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

from pelsvae_tf.cli.flags import add_config_flags
from pelsvae_tf.cli.main import stdout_is_tty
from pelsvae_tf.model.config import ModelConfig
from pelsvae_tf.train.config import TrainConfig

#: ModelConfig fields offered as flags (besides --physics, --dense-units and --model-seed)
MODEL_FLAGS = (
    "arch",
    "hidden",
    "n_blocks",
    "kernel_size",
    "rnn_layers",
    "latent_dim",
    "dropout",
    "beta",
    "loss",
    "time_encoding",
    "tcn_channels",
    "err_floor",
    "receptive_field_check",
    "tcn_norm",
    "tcn_impl",
    "decoder_padding",
    "decoder_subsample",
)
#: TrainConfig fields offered as flags (besides --jit-compile, --no-tensorboard, --no-deterministic)
TRAIN_FLAGS = (
    "epochs",
    "batch_size",
    "learning_rate",
    "lr_schedule",
    "lr_decay_rate",
    "early_stopping_patience",
    "beta_schedule",
    "beta_warmup_epochs",
    "seed",
    "strategy",
    "steps_per_epoch",
    "verbose",
    "clipnorm",
)
#: one-line helps where the dataclass docstring is longer than a command line wants
_MODEL_HELPS = {
    "arch": "temporal network: tcn, gru or lstm",
    "n_blocks": "TCN residual blocks (dilations 2**i)",
    "dropout": "dropout rate in [0, 1)",
    "loss": "loss: paper (eq. 4, error-weighted), reference (MSE + beta KL/1e4) or elbo (eq. 4, KL x 2/T)",
    "time_encoding": "per-step time tag: phase, dt or fourier (phase + sin/cos of 4 harmonics)",
    "tcn_channels": "TCN filters per block: constant or reference ramp [8,16,32,H..]",
    "err_floor": "scaled error added in quadrature in the loss",
    "receptive_field_check": "TCN receptive field < seq_len: error, warn or off",
    "tcn_norm": "normalisation in TCN blocks: layer, batch or none",
    "tcn_impl": "TCN blocks computed by: fast (this package's faster training kernels) or keras (keras-tcn's layers)",
    "decoder_padding": "decoder TCN padding: causal (paper) or same",
    "decoder_subsample": "train the decoder on random point subsets of >= this fraction (1 = paper)",
}
_TRAIN_HELPS = {
    "epochs": "total epochs (resume continues up to it)",
    "lr_schedule": "none, exponential, cosine or plateau",
    "lr_decay_rate": "exponential LR factor per epoch",
    "early_stopping_patience": "epochs without val_loss improvement before stopping (0 = off)",
    "beta_schedule": "constant, linear (warm-up) or cyclical",
    "beta_warmup_epochs": "beta warm-up / cycle length in epochs",
    "seed": "random seed (shuffling, dropout, latent sampling; weights too unless --model-seed)",
    "strategy": "tf.distribute strategy: default, mirrored or multiworker",
    "steps_per_epoch": "batches per epoch",
    "verbose": "0 silent, 1 progress bar, 2 one line per epoch",
    "clipnorm": "clip gradients to this L2 norm",
}


def register(subparsers) -> None:
    """Add the ``pelsvae train`` verb."""
    p = subparsers.add_parser(
        "train",
        help="train (or resume) a PELS-VAE on a prepared dataset",
        description=(
            "Train a PELS-VAE (cVAE, or cVAE-P with --physics) on a prepared dataset. If --out already "
            "holds a checkpoint of the same model trained on the same --data (same prepare fingerprint), "
            "training resumes from its last completed epoch; another model config or dataset is refused."
        ),
    )
    p.add_argument("--data", required=True, help="prepared dataset directory (from `pelsvae prepare`)")
    p.add_argument("--out", required=True, help="run directory to write (or resume)")
    p.add_argument("--config", default=None, help='JSON file {"model": {...}, "train": {...}} (flags override it)')
    p.add_argument(
        "--physics",
        default=None,
        help="comma-separated physical parameters for a cVAE-P, e.g. teff,abs_gmag,period ('' = cVAE) "
        "(default: '' (cVAE))",
    )
    add_config_flags(p, ModelConfig, dest_prefix="m_", only=MODEL_FLAGS, helps=_MODEL_HELPS)
    p.add_argument(
        "--dense-units",
        dest="m_dense_units",
        default=None,
        metavar="UNITS",
        help="comma-separated encoder dense sizes (default: "
        + ",".join(str(u) for u in ModelConfig().dense_units)
        + ")",
    )
    p.add_argument(
        "--model-seed",
        dest="m_seed",
        type=int,
        default=None,
        metavar="SEED",
        help="model seed (weight initialisation) (default: --seed)",
    )
    add_config_flags(
        p,
        TrainConfig,
        dest_prefix="t_",
        only=TRAIN_FLAGS,
        rename={"learning_rate": "lr"},
        helps=_TRAIN_HELPS,
        choices={"verbose": (0, 1, 2)},
        defaults={
            "verbose": "1 (2 when stdout is not a terminal)",
            "steps_per_epoch": "one pass over the training split",
            "clipnorm": "no clipping, as the paper",
        },
    )
    p.add_argument(
        "--jit-compile",
        dest="t_jit_compile",
        action="store_true",
        default=None,
        help="XLA-compile the train step (default: off)",
    )
    p.add_argument(
        "--no-tensorboard",
        dest="t_tensorboard",
        action="store_false",
        default=None,
        help="skip TensorBoard logs (default: logs written)",
    )
    p.add_argument(
        "--no-deterministic",
        dest="t_deterministic",
        action="store_false",
        default=None,
        help="turn TensorFlow op determinism off (faster; two runs then differ in the last bits) "
        "(default: deterministic)",
    )
    p.set_defaults(func=_cli_train)


def _cli_configs(args):
    """``(ModelConfig, TrainConfig)`` from ``--config`` (if given) with the flags given on top."""
    model_d: dict = {}
    train_d: dict = {}
    if args.config:
        path = Path(args.config)
        if not path.exists():
            raise FileNotFoundError(f"--config {path} does not exist")
        data = json.loads(path.read_text())
        unknown = sorted(set(data) - {"model", "train"})
        if unknown:
            raise ValueError(f"--config {path}: unknown top-level key(s) {unknown}; use 'model' and 'train'")
        model_d.update(data.get("model", {}))
        train_d.update(data.get("train", {}))
    for key, val in vars(args).items():
        if val is None:
            continue
        if key.startswith("m_"):
            model_d[key[2:]] = val
        elif key.startswith("t_"):
            train_d[key[2:]] = val
    if isinstance(model_d.get("dense_units"), str):
        try:
            model_d["dense_units"] = [int(u) for u in model_d["dense_units"].split(",") if u.strip()]
        except ValueError:
            raise ValueError(
                f"--dense-units {model_d['dense_units']!r}: give comma-separated integers, e.g. --dense-units 64,32"
            ) from None
    if args.physics is not None:
        model_d["physics"] = [p.strip() for p in args.physics.split(",") if p.strip()]
    if "seed" in train_d and "seed" not in model_d:
        model_d["seed"] = train_d["seed"]
    # the dataset fixes the length and the classes: read them before validating the model
    schema_path = Path(args.data) / "schema.json"
    if schema_path.exists():
        schema = json.loads(schema_path.read_text())
        model_d.setdefault("seq_len", int(schema["seq_len"]))
        model_d.setdefault("n_classes", len(schema["classes"]))
    return ModelConfig.from_dict(model_d), TrainConfig.from_dict(train_d)


def _cli_train(args) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("tensorflow").propagate = False  # TF prints its own records; not twice
    model_config, train_config = _cli_configs(args)
    if getattr(args, "t_verbose", None) is None and train_config.verbose == 1 and not stdout_is_tty():
        # a progress bar redrawn into a log file or pipe writes megabytes: one line per epoch
        train_config = train_config.replace(verbose=2)
    from pelsvae_tf.train.strategy import is_chief
    from pelsvae_tf.train.trainer import train

    run = train(args.data, args.out, model_config, train_config)
    if not is_chief(train_config.strategy):
        task = json.loads(os.environ["TF_CONFIG"]).get("task", {})
        print(
            f"trained {len(run.history)} epochs ({task.get('type', 'worker')} {task.get('index', '?')}: nothing "
            "written, the chief writes the run directory)"
        )
        return 0
    last = run.history[-1] if run.history else {}
    print(
        f"trained {len(run.history)} epochs -> {run.run_dir}/model.keras"
        + (
            f" (val_loss {last.get('val_loss', float('nan')):.4g}, val_recon {last.get('val_recon', float('nan')):.4g})"
            if last
            else ""
        )
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run only the ``train`` verb (``python -m pelsvae_tf.train.trainer --data ... --out ...``).

    Same options and error handling as ``pelsvae train``; useful where the other verbs' optional
    dependencies are not importable.
    """
    from pelsvae_tf.cli.main import _global_flags, _Parser, quiet_tensorflow, run_verb

    argv = list(sys.argv[1:] if argv is None else argv)
    verbose, tb = _global_flags([])
    parser = _Parser(prog="pelsvae-train")
    sub = parser.add_subparsers(dest="verb", parser_class=_Parser)
    register(sub)
    args = parser.parse_args(["train", *argv])
    quiet_tensorflow(verbose)
    return run_verb(args, traceback_on=tb)
