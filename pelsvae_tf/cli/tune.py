"""``pelsvae tune``: KerasTuner search of the paper's Table 2 hyperparameters (parser and command;
implementation: :func:`pelsvae_tf.tuning.tuners.tune`).

Example::

    pelsvae tune --data prepared/ --out tune/ --max-trials 20 --epochs 10 --tuner bayesian

Distributed (KerasTuner chief/worker, see docs/TUNING.md): run the same command in every
process with ``KERASTUNER_TUNER_ID`` (``chief``, ``tuner0``, ``tuner1``, ...),
``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT`` set.

The search options are generated from :class:`~pelsvae_tf.tuning.config.TuneConfig`
(TensorFlow-free), so ``pelsvae --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pelsvae_tf import options
from pelsvae_tf.cli.flags import add_config_flags, config_from_args
from pelsvae_tf.cli.main import HelpFormatter, stdout_is_tty
from pelsvae_tf.tuning.config import TUNERS, TuneConfig
from pelsvae_tf.tuning.search_space import LR_SAMPLINGS

#: TuneConfig fields offered as flags (``paper_baseline`` is ``--no-paper-baseline``; ``verbose``
#: has its own default rule)
TUNE_FLAGS = (
    "max_trials",
    "epochs",
    "final_epochs",
    "tuner",
    "seed",
    "strategy",
    "num_initial_points",
    "hyperband_factor",
    "hyperband_iterations",
    "executions_per_trial",
    "max_consecutive_failed_trials",
)
_HELPS = {
    "max_trials": "number of trials (bayesian/random; hyperband sizes its own brackets from --epochs)",
    "epochs": "epochs per trial (hyperband: max epochs of one model)",
    "final_epochs": "epochs written into best_config.json (default: --epochs, which reproduces the best trial)",
    "tuner": "search algorithm: Bayesian optimisation (paper), random search or Hyperband",
    "seed": "seed of the oracle, weight init and data shuffling",
    "strategy": "tf.distribute strategy used to train inside each trial",
    "num_initial_points": "bayesian: random trials before the Gaussian process is used (default 3 x number of hps)",
    "hyperband_factor": "hyperband reduction factor",
    "hyperband_iterations": "hyperband: how many times the whole bracket schedule is run",
    "executions_per_trial": "trainings averaged per trial",
    "max_consecutive_failed_trials": "stop the search after this many failed trials in a row",
}


def register(subparsers) -> None:
    """Add the ``tune`` verb to the ``pelsvae`` command line."""
    p = subparsers.add_parser(
        "tune",
        help="search PELS-VAE hyperparameters (paper Table 2) with KerasTuner",
        description=(
            "Search the PELS-VAE hyperparameters of the paper's Table 2 (architecture, hidden units, "
            "TCN blocks/kernel, RNN layers, latent dim, dropout, lr, lr scheduler, beta, batch size) "
            "minimising the validation loss. Resumable: rerun with the same --out to continue. "
            "Writes trials.csv/.md, val_loss_per_trial.png, summary.md and best_config.json "
            "(for `pelsvae train --config`)."
        ),
        formatter_class=HelpFormatter,
    )
    p.add_argument("--data", required=True, help="prepared dataset directory (from `pelsvae prepare`)")
    p.add_argument("--out", required=True, help="output directory (search state, report, best_config.json)")
    add_config_flags(p, TuneConfig, only=TUNE_FLAGS, helps=_HELPS, choices={"tuner": TUNERS})
    p.add_argument(
        "--search-space",
        default="paper",
        help="search space: 'paper' (Table 2), 'small' (TCN-only, for the main job), "
        "'tiny' (tests) or a JSON file of SearchSpace fields",
    )
    p.add_argument(
        "--lr-sampling",
        choices=LR_SAMPLINGS,
        default=None,
        help="override how lr is drawn: 'log' (log-uniform) or 'linear' (paper's literal U(5e-5, 0.1))",
    )
    p.add_argument(
        "--base-config",
        default=None,
        help="JSON with the ModelConfig every trial starts from (a ModelConfig, or a training "
        "config with a 'model' entry, whose 'train' entry, if any, is the TrainConfig every trial "
        "starts from: beta schedule, early stopping, ...); default: the paper's best model",
    )
    p.add_argument(
        "--physics",
        default=None,
        help="comma-separated physical parameters seen by the encoder (cVAE-P: "
        "teff,abs_gmag,period); 'none' for the class-only cVAE; default: from --base-config or none",
    )
    p.add_argument(
        "--loss",
        choices=options.LOSS_KINDS,
        default=None,
        help="loss of every trial: 'paper' (eq. 4), 'reference' (MSE + beta KL/1e4) or 'elbo' "
        "(eq. 4 with the KL x 2/T); default: from --base-config or paper",
    )
    p.add_argument(
        "--receptive-field-check",
        choices=("warn", "error", "off"),
        default=None,
        help="TCNs whose receptive field is shorter than the curves: 'warn' (default unless "
        "--base-config says otherwise) trains them, as the paper's grid contains some; "
        "'error' turns them into failed trials",
    )
    p.add_argument(
        "--no-paper-baseline",
        action="store_true",
        help="do not train the paper's best configuration for comparison after the search",
    )
    p.add_argument("--overwrite", action="store_true", help="delete a previous search in --out and start again")
    p.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=None,
        help="Keras verbosity: 0 silent, 1 progress bar, 2 one line per epoch "
        "(default: 1 on a terminal, 2 when stdout is a file or pipe)",
    )
    p.set_defaults(func=run)


def _base_train(args):
    """The ``train`` entry of ``--base-config`` as a TrainConfig (None without one)."""
    from pelsvae_tf.train.config import TrainConfig

    if not args.base_config or not Path(args.base_config).exists():
        return None
    try:
        data = json.loads(Path(args.base_config).read_text())
    except json.JSONDecodeError:
        return None  # _base_model reports it
    if not isinstance(data, dict) or not isinstance(data.get("train"), dict):
        return None
    return TrainConfig.from_dict(data["train"])


def _base_model(args, dataset_dir: Path, seed: int):
    from pelsvae_tf.data import PreparedDataset
    from pelsvae_tf.model.config import ModelConfig

    ds = PreparedDataset(dataset_dir)
    fields = {}
    if args.base_config:
        path = Path(args.base_config)
        if not path.exists():
            raise FileNotFoundError(f"--base-config {path}: no such file")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"--base-config {path}: not valid JSON ({exc})") from None
        fields = dict(data.get("model", data)) if isinstance(data, dict) else None
        if fields is None:
            raise ValueError(f"--base-config {path}: expected a JSON object (ModelConfig fields)")
    if args.receptive_field_check is not None:
        fields["receptive_field_check"] = args.receptive_field_check
    else:
        fields.setdefault("receptive_field_check", "warn")
    if args.physics is not None:
        names = [] if args.physics.strip().lower() in ("", "none") else [s.strip() for s in args.physics.split(",")]
        fields["physics"] = names
    if args.loss is not None:
        fields["loss"] = args.loss
    fields["seq_len"] = int(ds.seq_len)
    fields["n_classes"] = len(ds.classes)
    fields.setdefault("seed", seed)
    return ModelConfig.from_dict(fields)


def run(args) -> int:
    """Run the search described by the parsed ``args``; returns the exit code."""
    from pelsvae_tf.tuning.search_space import SearchSpace
    from pelsvae_tf.tuning.tuners import tune

    data = Path(args.data)
    if not (data / "schema.json").exists():
        raise FileNotFoundError(
            f"--data {data}: no prepared dataset there (schema.json missing); run `pelsvae prepare`"
        )
    space = SearchSpace.preset(args.search_space)
    if args.lr_sampling is not None:
        space = space.replace(lr_sampling=args.lr_sampling)
    base = TuneConfig(
        paper_baseline=not args.no_paper_baseline,
        verbose=args.verbose if args.verbose is not None else (1 if stdout_is_tty() else 2),
    )
    config = config_from_args(argparse.Namespace(**{k: getattr(args, k, None) for k in TUNE_FLAGS}), TuneConfig, base)
    model = _base_model(args, data, config.seed)
    result = tune(
        data,
        args.out,
        config=config,
        space=space,
        base_model=model,
        overwrite=args.overwrite,
        base_train=_base_train(args),
    )
    if result.role == "worker":
        print(f"pelsvae tune: worker finished; trials run here: {', '.join(result.trials_run) or 'none'}")
        return 0
    print(f"pelsvae tune: best validation loss {result.best_val_loss:.5g} with {json.dumps(result.best_values)}")
    print(f"pelsvae tune: ready training config {result.best_config_path}")
    print(f"pelsvae tune: report {result.report_paths.get('summary')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run only the ``tune`` verb (``python -m pelsvae_tf.tuning.cli --data ... --out ...``).

    Same options and error handling as ``pelsvae tune``; used by the distributed test to
    start chief and worker processes.
    """
    parser = argparse.ArgumentParser(prog="pelsvae-tune")
    sub = parser.add_subparsers(dest="verb")
    register(sub)
    args = parser.parse_args(["tune", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        print(f"pelsvae tune: error: {exc}", file=sys.stderr)
        return 2
