"""Training a PELS-VAE: :func:`train` (``pelsvae train``) on a prepared dataset into a run directory.

The stage in pipeline order: :mod:`~pelsvae_tf.train.config` (``TrainConfig``),
:mod:`~pelsvae_tf.train.schedules` (learning rate, beta), :mod:`~pelsvae_tf.train.strategy`
(``tf.distribute``, replica batch rules), :mod:`~pelsvae_tf.train.callbacks`,
:mod:`~pelsvae_tf.train.loop` (the one training loop, shared with tuning trials),
:mod:`~pelsvae_tf.train.checkpoint` (resume state), this module, and
:mod:`~pelsvae_tf.train.run` (``Run``, ``load_run``, latents).

Calling :func:`train` on a run directory that holds a committed checkpoint resumes it: the
model, optimizer state (including LR schedule position), beta, early-stopping / plateau
counters and history are restored and training continues at the next epoch. The shuffling
seed of a resumed segment is ``seed + initial_epoch`` (each segment is deterministic).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import keras

from pelsvae_tf.atomic import atomic_path, atomic_write_text
from pelsvae_tf.data import PreparedDataset
from pelsvae_tf.model import ModelConfig, build_pelsvae, static_subsample_problem
from pelsvae_tf.options import BETA_SCHEDULES, LR_SCHEDULES, STRATEGIES  # noqa: F401  (re-exported)
from pelsvae_tf.rundir import RunDir
from pelsvae_tf.train import loop
from pelsvae_tf.train.callbacks import BestWeights, EpochCheckpoint
from pelsvae_tf.train.checkpoint import (  # noqa: F401  (re-exported: their 0.1 home)
    check_resumable,
    config_payload,
    dataset_identity,
    model_config_differences,
    read_checkpoint_state,
    restore_seed_states,
    seed_states,
)
from pelsvae_tf.train.config import TrainConfig
from pelsvae_tf.train.loop import epoch_batches  # noqa: F401  (re-exported)
from pelsvae_tf.train.run import Run, encode_split, load_run, write_latents  # noqa: F401  (re-exported)
from pelsvae_tf.train.schedules import learning_rate_schedule
from pelsvae_tf.train.strategy import is_chief, make_strategy  # noqa: F401  (re-exported)

log = logging.getLogger("pelsvae_tf.train.trainer")


def check_dataset_compatibility(model_config, dataset) -> Any:
    """Check ``model_config`` against a ``PreparedDataset`` before any training.

    Adopts the dataset's ``seq_len`` and number of classes (re-validating the receptive field
    for that length); raises ``ValueError`` when physics are requested that the dataset does not
    hold, or when too few training/validation curves have them. Returns the (possibly updated)
    config.
    """
    changes = {}
    if model_config.seq_len != dataset.seq_len:
        changes["seq_len"] = int(dataset.seq_len)
    if model_config.n_classes != len(dataset.classes):
        changes["n_classes"] = len(dataset.classes)
    if changes:
        log.info("model config adopts the dataset's %s", changes)
        model_config = model_config.replace(**changes)
    missing = [p for p in model_config.physics if p not in dataset.physics_columns]
    if missing:
        raise ValueError(
            f"ModelConfig.physics={list(model_config.physics)}: the dataset {dataset.path} has no "
            f"column(s) {missing} (it holds {list(dataset.physics_columns)}); prepare it with these "
            "physical parameters or train a cVAE (physics=())"
        )
    if model_config.physics:
        scaler_names = set(dataset.physics_scaler.names)
        unscaled = [p for p in model_config.physics if p not in scaler_names]
        if unscaled:
            raise ValueError(
                f"ModelConfig.physics: the dataset's physics_scaler has no statistics for {unscaled} "
                "(no training star has them); choose other physics or re-prepare the dataset"
            )
        for split in ("train", "val"):
            n_ok = int(dataset.physics_mask(split, model_config.physics).sum())
            if n_ok == 0:
                raise ValueError(
                    f"ModelConfig.physics={list(model_config.physics)}: no curve of the {split!r} split "
                    "has all of these parameters; a cVAE-P cannot be trained on this dataset "
                    "(use physics=() or a dataset with Gaia cross-matches)"
                )
    for split in ("train", "val"):
        if split not in dataset.splits or dataset.n(split) == 0:
            raise ValueError(f"dataset {dataset.path}: split {split!r} is empty; re-prepare with more stars")
    return model_config


def train(data_dir, run_dir, model_config=None, train_config: TrainConfig | None = None) -> Run:
    """Train (or resume) a PELS-VAE on the prepared dataset ``data_dir`` into ``run_dir``.

    Args:
        data_dir: a prepared dataset directory (or a ``PreparedDataset``).
        run_dir: output run directory; if it holds a committed checkpoint of the same model
            config trained on the same dataset (same ``prepare`` fingerprint; the dataset may have
            moved), training resumes from it (``train_config.epochs`` may be raised to go on).
            A different model config or dataset is refused with a ``ValueError``.
        model_config: :class:`~pelsvae_tf.model.ModelConfig` (default: the paper's best model).
            ``seq_len`` and ``n_classes`` are taken from the dataset.
        train_config: :class:`TrainConfig` (default: its defaults).

    Returns:
        The finished :class:`Run` (also loadable later with :func:`load_run`).

    Raises:
        ValueError / FileNotFoundError: bad configs or data, before any training starts.
    """
    model_config = model_config if model_config is not None else ModelConfig()
    train_config = train_config if train_config is not None else TrainConfig()
    if not isinstance(model_config, ModelConfig):
        raise ValueError(f"train: model_config must be a ModelConfig, got {type(model_config).__name__}")
    if not isinstance(train_config, TrainConfig):
        raise ValueError(f"train: train_config must be a TrainConfig, got {type(train_config).__name__}")
    train_config.validate()
    if train_config.jit_compile and model_config.decoder_subsample < 1.0:
        problem = static_subsample_problem(model_config)
        if problem:
            raise ValueError(f"TrainConfig.jit_compile: {problem}")
    dataset = data_dir if isinstance(data_dir, PreparedDataset) else PreparedDataset(data_dir)
    model_config = check_dataset_compatibility(model_config, dataset)

    run = RunDir(run_dir)
    run_dir = run.path
    run_dir.mkdir(parents=True, exist_ok=True)
    state = run.checkpoint_state()
    if state is not None:
        check_resumable(run, model_config, dataset)
    chief = is_chief(train_config.strategy)
    payload = config_payload(model_config, train_config, dataset)
    if chief:
        atomic_write_text(run.config_path, json.dumps(payload, indent=2, default=str) + "\n")
        dataset.physics_scaler.save(run.physics_scaler_path)

    strategy = make_strategy(train_config.strategy)
    initial_epoch = int(state["epoch"]) if state else 0
    history: list[dict] = list(state["history"]) if state else []
    finished = bool(state and (state.get("stop_training") or initial_epoch >= train_config.epochs))
    steps = loop.schedule_steps(dataset, model_config.physics, train_config)

    with loop.op_determinism(train_config.deterministic):
        with strategy.scope():
            if state is not None:
                ckpt = run.checkpoints_dir / state["checkpoint"]
                if not ckpt.exists():
                    ckpt = run.checkpoints_dir / "last.keras"
                log.info("resuming %s from %s (epoch %d)", run_dir, ckpt.name, initial_epoch)
                model = keras.saving.load_model(ckpt)
                restore_seed_states(model, state.get("seed_states"))
            else:
                # keras-tcn seeds its dropout layers from Python's `random` when they are built:
                # seed it first, so a model does not depend on what ran before in the process
                keras.utils.set_random_seed(int(model_config.seed))
                model = build_pelsvae(model_config)
                loop.compile_model(model, train_config, steps)
        if not finished:
            _fit(model, dataset, run_dir, model_config, train_config, initial_epoch, history, state, steps, chief)
        if chief:
            with atomic_path(run.model_path) as tmp:
                model.save(tmp)
            if train_config.save_latents:
                write_latents(model, dataset, run.latents_path, batch_size=max(train_config.batch_size, 256))
    if not chief:
        return Run(
            run_dir=run_dir,
            model=model,
            model_config=model_config,
            train_config=train_config,
            config=payload,
            physics_scaler=dataset.physics_scaler,
            classes=tuple(dataset.classes),
            schema=dataset.schema,
            history=history,
            data_dir=str(Path(dataset.path).resolve()),
        )
    return load_run(run_dir)


def _fit(model, dataset, run_dir, model_config, tc: TrainConfig, initial_epoch, history, state, steps, chief=True):
    """:func:`pelsvae_tf.train.loop.fit` with the run directory's callbacks: TensorBoard,
    the epoch checkpoint (resume point) and the best weights (restored at the end)."""
    callbacks = loop.standard_callbacks(model_config.beta, tc, (state or {}).get("callbacks", {}))
    extra: list = []
    if tc.tensorboard and chief:
        extra.append(keras.callbacks.TensorBoard(log_dir=str(run_dir / "logs"), write_graph=False))
    extra.append(EpochCheckpoint(run_dir, history, callbacks[1], extra_state={"seed": int(tc.seed)}, write=chief))
    if tc.restore_best_weights and tc.early_stopping_patience and chief:
        extra.append(BestWeights(run_dir))
    loop.fit(
        model,
        dataset,
        model_config,
        tc,
        initial_epoch=initial_epoch,
        steps=steps,
        callbacks=callbacks,
        extra_callbacks=extra,
    )
    if tc.restore_best_weights and tc.early_stopping_patience:
        best = run_dir / "checkpoints" / "best.weights.h5"
        if best.exists():
            model.load_weights(best)


_learning_rate = learning_rate_schedule  # 0.1 private name (tests, notebooks)


def main(argv: list[str] | None = None) -> int:
    """Run only the ``train`` verb (``python -m pelsvae_tf.train.trainer --data ... --out ...``).

    Same options and error handling as ``pelsvae train``; useful where the other verbs' optional
    dependencies are not importable.
    """
    from pelsvae_tf.cli.train import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(main())
