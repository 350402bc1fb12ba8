"""Training a PELS-VAE: ``TrainConfig``, ``train()``, ``load_run()`` and ``pelsvae train``.

A run directory is self-describing (``docs/ARCHITECTURE.md``, "Run directory")::

    RUN_DIR/
      config.json          {"model": ModelConfig, "train": TrainConfig, "data_dir", "dataset_schema"}
      physics_scaler.json  copy of the dataset's scaler (train split)
      model.keras          final model (atomic)
      checkpoints/         last.keras + state.json, every epoch, atomic (resume point)
      history.csv          one row per completed epoch (loss, recon, kl, err_kl, val_*, beta, lr)
      logs/                TensorBoard
      latents.npz          z_mean, z_log_var, label, phys (raw), star_id, split of REAL stars

Calling :func:`train` on a run directory that holds a committed checkpoint resumes it: the
model, optimizer state (including LR schedule position), beta, early-stopping / plateau
counters and history are restored and training continues at the next epoch. The shuffling
seed of a resumed segment is ``seed + initial_epoch`` (each segment is deterministic).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pelsvae_tf.atomic import atomic_path, atomic_write_text

log = logging.getLogger("pelsvae_tf.train.trainer")

from pelsvae_tf.options import BETA_SCHEDULES, LR_SCHEDULES, STRATEGIES  # noqa: F401  (re-exported)
from pelsvae_tf.train.config import TrainConfig


def read_checkpoint_state(run_dir) -> dict | None:
    """The committed ``checkpoints/state.json`` of ``run_dir`` or ``None`` if none exists."""
    path = Path(run_dir) / "checkpoints" / "state.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


@dataclass
class Run:
    """A trained (or resumed) run directory loaded back.

    Attributes: ``run_dir``, ``model`` (:class:`~pelsvae_tf.model.vae.PELSVAE`), ``encoder``,
    ``decoder`` (functional Keras models), ``model_config``, ``train_config``, ``config`` (the
    raw ``config.json`` dict), ``physics_scaler``, ``classes`` (tuple of class names, one-hot
    order), ``schema`` (dataset schema), ``history`` (list of per-epoch dicts), ``data_dir``.
    """

    run_dir: Path
    model: Any
    model_config: Any
    train_config: TrainConfig
    config: dict
    physics_scaler: Any
    classes: tuple
    schema: dict
    history: list = field(default_factory=list)
    data_dir: str | None = None

    @property
    def encoder(self):
        """The functional encoder (``{"phase","mag","err","class_onehot"[,"phys"]}`` -> z stats)."""
        return self.model.encoder

    @property
    def decoder(self):
        """The functional decoder (``{"z","class_onehot","phase"}`` -> ``{"mag","err"}``)."""
        return self.model.decoder

    @property
    def physics(self) -> tuple:
        """Physical parameters the encoder sees (``()`` for a cVAE)."""
        return tuple(self.model_config.physics)


# -- helpers ------------------------------------------------------------------------------------
def make_strategy(name: str):
    """The ``tf.distribute`` strategy called ``name`` (see :data:`STRATEGIES`)."""
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"strategy {name!r} is not supported; use one of {STRATEGIES}")


def is_chief(strategy: str) -> bool:
    """Whether this process writes the run directory: always, except under ``"multiworker"``
    where only the chief does (``TF_CONFIG`` task ``chief``, or ``worker`` 0 in a cluster
    without a chief). Raises ``ValueError`` naming ``TF_CONFIG`` when it is not valid JSON."""
    if strategy != "multiworker":
        return True
    raw = os.environ.get("TF_CONFIG", "")
    if not raw.strip():
        return True  # a one-worker "cluster"
    try:
        tf_config = json.loads(raw)
        task = tf_config.get("task", {})
        cluster = tf_config.get("cluster", {})
    except (json.JSONDecodeError, AttributeError) as exc:
        raise ValueError(
            f"TF_CONFIG is not a JSON object ({exc}); set it to "
            '\'{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": 0}}\''
        ) from None
    kind, index = task.get("type"), int(task.get("index", 0))
    if kind == "chief":
        return True
    return kind == "worker" and index == 0 and "chief" not in cluster


def seed_states(model) -> list[list]:
    """The states of every ``keras.random.SeedGenerator`` of ``model`` (dropout, latent sampling,
    decoder subsampling), as ``[layer_path, index, [int, ...]]`` rows in layer order.

    ``model.save`` does not store them, so :class:`~pelsvae_tf.train.callbacks.EpochCheckpoint` keeps
    them in ``state.json``; restoring them makes a resumed run draw the same random numbers as an
    uninterrupted one.
    """
    rows = []
    for layer in model._flatten_layers(include_self=True):
        for i, gen in enumerate(getattr(layer, "_seed_generators", [])):
            rows.append([layer.path if hasattr(layer, "path") else layer.name, i,
                         [int(v) for v in np.asarray(gen.state.value).ravel()]])
    return rows


def restore_seed_states(model, rows) -> None:
    """Assign states saved by :func:`seed_states` (``None``: checkpoint written before they were
    saved; nothing is restored). Raises ``ValueError`` when the model's generators differ."""
    if rows is None:
        return
    current = seed_states(model)
    # a loaded model may name its layers' paths differently: match by position and index
    if [r[1] for r in current] != [r[1] for r in rows]:
        raise ValueError(
            "checkpoint state.json: its seed_states do not match the model's random generators "
            "(the checkpoint comes from another model); train into a new --out directory"
        )
    gens = [g for layer in model._flatten_layers(include_self=True) for g in getattr(layer, "_seed_generators", [])]
    for gen, row in zip(gens, rows):
        gen.state.assign(np.asarray(row[2], dtype=gen.state.dtype).reshape(gen.state.shape))


def epoch_batches(elements: dict, batch_size: int, seed: int, start_epoch: int, end_epoch: int,
                  steps_per_epoch: int | None = None, drop_remainder: bool = False):
    """``tf.data.Dataset`` of the training batches of epochs ``start_epoch .. end_epoch - 1``.

    ``elements``: dict of tensors of the whole split (first axis = curves). Pass ``p`` over the
    split visits the curves in the order ``stateless_shuffle(range(n), seed=(seed, p))``, so the
    batches of an epoch depend only on ``(seed, epoch)``: a run resumed at epoch k sees exactly the
    batches an uninterrupted run sees from epoch k on. Without ``steps_per_epoch`` an epoch is one
    pass (its last batch short, or dropped with ``drop_remainder``); with it, passes follow each
    other without a break and epoch e starts at batch ``e * steps_per_epoch`` of that stream.
    Feed it to ``fit`` with ``steps_per_epoch`` set (one iterator for all epochs).
    """
    import tensorflow as tf

    n = int(next(iter(elements.values())).shape[0])

    def order(p):
        return tf.random.experimental.stateless_shuffle(
            tf.range(n, dtype=tf.int64), seed=tf.stack([tf.constant(int(seed), tf.int64), p])
        )

    if steps_per_epoch is None:
        idx = tf.data.Dataset.range(start_epoch, end_epoch).flat_map(
            lambda p: tf.data.Dataset.from_tensor_slices(order(p)).batch(batch_size, drop_remainder=drop_remainder)
        )
    else:
        idx = (
            tf.data.Dataset.range(0, 2**62)
            .flat_map(lambda p: tf.data.Dataset.from_tensor_slices(order(p)))
            .batch(batch_size, drop_remainder=drop_remainder)
            .skip(int(start_epoch) * int(steps_per_epoch))
        )
    return idx.map(lambda i: {k: tf.gather(v, i) for k, v in elements.items()}).prefetch(tf.data.AUTOTUNE)


def _learning_rate(tc: TrainConfig, steps_per_epoch: int):
    import keras

    if tc.lr_schedule == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(
            tc.learning_rate, decay_steps=max(1, steps_per_epoch), decay_rate=tc.lr_decay_rate
        )
    if tc.lr_schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(
            tc.learning_rate, decay_steps=max(1, steps_per_epoch * tc.epochs), alpha=tc.lr_min_factor
        )
    return float(tc.learning_rate)


def learning_rate_schedule(tc: TrainConfig, steps_per_epoch: int):
    """The Adam learning rate for ``tc``: a float or a Keras schedule (per optimizer step).

    ``steps_per_epoch`` converts the per-epoch decay of ``exponential`` and the horizon of
    ``cosine`` into optimizer steps; ``plateau`` is handled by a callback (constant here).
    """
    return _learning_rate(tc, steps_per_epoch)


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


def _config_payload(model_config, train_config, dataset) -> dict:
    return {
        "model": model_config.to_dict(),
        "train": train_config.to_dict(),
        "data_dir": str(Path(dataset.path).resolve()),
        "dataset_schema": dataset.schema,
    }


def _same_model(saved: dict, model_config) -> bool:
    return saved.get("model") == model_config.to_dict()


def model_config_differences(saved: dict, new: dict) -> list[str]:
    """The fields that differ between two ``ModelConfig.to_dict()`` dicts, as
    ``"ModelConfig.NAME: saved OLD, now NEW"`` strings in field order (only the changed ones)."""
    out = []
    for key in list(saved) + [k for k in new if k not in saved]:
        a, b = saved.get(key, "<absent>"), new.get(key, "<absent>")
        if a != b:
            out.append(f"ModelConfig.{key}: saved {a!r}, now {b!r}")
    return out


def dataset_identity(schema: dict) -> Any:
    """What identifies a prepared dataset for resuming: ``schema["prepare_fingerprint"]`` (the
    inputs and config of ``pelsvae prepare``), or for a dataset written directly with
    ``write_prepared`` its creation time and split summaries."""
    schema = schema or {}
    if schema.get("prepare_fingerprint") is not None:
        return {"prepare_fingerprint": schema["prepare_fingerprint"]}
    return {"created": schema.get("created"), "splits": schema.get("splits")}


def _check_same_dataset(saved: dict, dataset, run_dir: Path) -> None:
    """Refuse to resume ``run_dir`` on a dataset other than the one its checkpoint was trained on."""
    old_schema = json.loads(json.dumps(saved.get("dataset_schema") or {}, default=str))
    new_schema = json.loads(json.dumps(dataset.schema or {}, default=str))
    if dataset_identity(old_schema) == dataset_identity(new_schema):
        return
    detail = ""
    old_fp, new_fp = old_schema.get("prepare_fingerprint"), new_schema.get("prepare_fingerprint")
    if old_fp is not None and new_fp is not None:
        from pelsvae_tf.data.prepare import fingerprint_differences

        diff = fingerprint_differences(old_fp, new_fp)
        if not diff:  # same content, config and files; only how a path was spelled differs
            return
        detail = f" ({'; '.join(diff)})"
    raise ValueError(
        f"{run_dir} holds a checkpoint trained on the prepared dataset {saved.get('data_dir')}; "
        f"--data {Path(dataset.path).resolve()} is a different dataset ("
        f"{'its prepare fingerprint differs' + detail if old_fp is not None and new_fp is not None else 'its schema differs'}). "
        f"Resume with --data {saved.get('data_dir')}, or train on the new data into a new --out directory"
    )


# -- train ------------------------------------------------------------------------------------
def train(data_dir, run_dir, model_config=None, train_config: TrainConfig | None = None) -> Run:
    """Train (or resume) a PELS-VAE on the prepared dataset ``data_dir`` into ``run_dir``.

    Args:
        data_dir: a prepared dataset directory (or a ``PreparedDataset``).
        run_dir: output run directory; if it holds a committed checkpoint of the same model
            config trained on the same dataset (same ``prepare`` fingerprint; the dataset may have
            moved), training resumes from it (``train_config.epochs`` may be raised to go on).
            A different model config or dataset is refused with a ``ValueError``.
        model_config: :class:`~pelsvae_tf.model.vae.ModelConfig` (default: the paper's best model).
            ``seq_len`` and ``n_classes`` are taken from the dataset.
        train_config: :class:`TrainConfig` (default: its defaults).

    Returns:
        The finished :class:`Run` (also loadable later with :func:`load_run`).

    Raises:
        ValueError / FileNotFoundError: bad configs or data, before any training starts.
    """
    from pelsvae_tf.data.dataset import PreparedDataset
    from pelsvae_tf.model.vae import ModelConfig

    model_config = model_config if model_config is not None else ModelConfig()
    train_config = train_config if train_config is not None else TrainConfig()
    if not isinstance(model_config, ModelConfig):
        raise ValueError(f"train: model_config must be a ModelConfig, got {type(model_config).__name__}")
    if not isinstance(train_config, TrainConfig):
        raise ValueError(f"train: train_config must be a TrainConfig, got {type(train_config).__name__}")
    train_config.validate()
    if train_config.jit_compile and model_config.decoder_subsample < 1.0:
        from pelsvae_tf.model import static_subsample_problem

        problem = static_subsample_problem(model_config)
        if problem:
            raise ValueError(f"TrainConfig.jit_compile: {problem}")
    dataset = data_dir if isinstance(data_dir, PreparedDataset) else PreparedDataset(data_dir)
    model_config = check_dataset_compatibility(model_config, dataset)

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    state = read_checkpoint_state(run_dir)
    config_path = run_dir / "config.json"
    if state is not None:
        if not config_path.exists():
            raise FileNotFoundError(f"{run_dir} has checkpoints but no config.json; use a new --out directory")
        saved = json.loads(config_path.read_text())
        if not _same_model(saved, model_config):
            changed = model_config_differences(saved.get("model") or {}, model_config.to_dict())
            raise ValueError(
                f"{run_dir} holds a checkpoint of another model config ({'; '.join(changed)}); resume "
                "with the saved value(s) or train into a new --out directory"
            )
        _check_same_dataset(saved, dataset, run_dir)
    chief = is_chief(train_config.strategy)
    if chief:
        atomic_write_text(
            config_path, json.dumps(_config_payload(model_config, train_config, dataset), indent=2, default=str) + "\n"
        )
        dataset.physics_scaler.save(run_dir / "physics_scaler.json")

    import keras
    import tensorflow as tf

    strategy = make_strategy(train_config.strategy)
    replicas = int(strategy.num_replicas_in_sync)
    if train_config.batch_size % replicas:
        raise ValueError(
            f"TrainConfig.batch_size={train_config.batch_size}: with {replicas} replicas the global batch "
            f"must be a multiple of {replicas}"
        )
    initial_epoch = int(state["epoch"]) if state else 0
    history: list[dict] = list(state["history"]) if state else []
    finished = bool(state and (state.get("stop_training") or initial_epoch >= train_config.epochs))

    n_train = int(
        dataset.physics_mask("train", model_config.physics).sum() if model_config.physics else dataset.n("train")
    )
    steps = train_config.steps_per_epoch or max(1, -(-n_train // train_config.batch_size))
    if replicas > 1 and n_train < train_config.batch_size:
        raise ValueError(
            f"TrainConfig.batch_size={train_config.batch_size}: larger than the {n_train} training curves; "
            f"under {train_config.strategy!r} the first batch must be full: lower --batch-size"
        )

    from tensorflow.python.framework import config as _tf_config

    was_deterministic = _tf_config.is_op_determinism_enabled()
    if train_config.deterministic and not was_deterministic:
        tf.config.experimental.enable_op_determinism()
    try:
        with strategy.scope():
            if state is not None:
                ckpt = run_dir / "checkpoints" / state["checkpoint"]
                if not ckpt.exists():
                    ckpt = run_dir / "checkpoints" / "last.keras"
                log.info("resuming %s from %s (epoch %d)", run_dir, ckpt.name, initial_epoch)
                model = keras.saving.load_model(ckpt)
                restore_seed_states(model, state.get("seed_states"))
            else:
                from pelsvae_tf.model.vae import build_pelsvae

                # keras-tcn seeds its dropout layers from Python's `random` when they are built:
                # seed it first, so a model does not depend on what ran before in the process
                keras.utils.set_random_seed(int(model_config.seed))
                model = build_pelsvae(model_config)
                model.compile(
                    optimizer=keras.optimizers.Adam(_learning_rate(train_config, steps), clipnorm=train_config.clipnorm),
                    jit_compile=train_config.jit_compile,
                    run_eagerly=train_config.run_eagerly,
                )
        # Every random draw of a training step comes from a seeded keras SeedGenerator whose state
        # is checkpointed (seed_states), and the batch order of epoch e is a function of (seed, e);
        # the global seed is set for anything else (unseeded layers added by a user).
        keras.utils.set_random_seed(int(train_config.seed))

        if not finished:
            _fit(model, dataset, run_dir, model_config, train_config, initial_epoch, history, state, steps, chief)
        if chief:
            with atomic_path(run_dir / "model.keras") as tmp:
                model.save(tmp)
            if train_config.save_latents:
                write_latents(model, dataset, run_dir / "latents.npz", batch_size=max(train_config.batch_size, 256))
    finally:
        if train_config.deterministic and not was_deterministic:
            _tf_config.disable_op_determinism()
    if not chief:
        return Run(
            run_dir=run_dir, model=model, model_config=model_config, train_config=train_config,
            config=_config_payload(model_config, train_config, dataset), physics_scaler=dataset.physics_scaler,
            classes=tuple(dataset.classes), schema=dataset.schema, history=history,
            data_dir=str(Path(dataset.path).resolve()),
        )
    return load_run(run_dir)


def _val_batch_size(batch_size: int, n_val: int, replicas: int) -> int:
    """Validation batch size that gives every replica data in every batch.

    Keras 3 builds a distributed model from the mean of the first batch's per-replica values
    (fails when a short first batch splits unevenly), and a replica handed an empty slice of the
    last batch breaks keras-tcn's convolutions. So under ``replicas > 1`` the batch is a multiple
    of ``replicas`` and the last partial batch holds either nothing or >= ``replicas`` curves.
    """
    cap = max(batch_size, 256)
    if replicas <= 1:
        return cap
    b = min(cap, max(n_val, replicas))
    b -= b % replicas
    while b > replicas:
        r = n_val % b
        if r == 0 or r >= replicas:
            return b
        b -= replicas
    return replicas


@contextlib.contextmanager
def _scalar_metrics_reduced_across_workers():
    """Work around Keras 3 + ``MultiWorkerMirroredStrategy`` (tensorflow/tensorflow#72388): Keras
    averages each per-replica metric with ``strategy.reduce("MEAN", v, axis=0)``, which fails on
    the scalar metrics of every train/test step ("Invalid reduction dimension 0 for input with 0
    dimensions"). Within this context a scalar is averaged over all replicas of all workers with
    ``axis=None`` (the same mean, defined for scalars); anything else goes to Keras unchanged."""
    from keras.src.backend.tensorflow import trainer as tf_trainer

    original = tf_trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        import tensorflow as tf
        from keras.src import tree

        if reduction not in ("auto", "mean") or not tf_trainer._collective_all_reduce_multi_worker(strategy):
            return original(values, strategy, reduction)

        def one(v):
            local = strategy.experimental_local_results(v) if isinstance(v, tf.distribute.DistributedValues) else [v]
            if getattr(local[0], "shape", None) is not None and local[0].shape.rank == 0:
                return strategy.reduce("MEAN", v, axis=None)
            return original(v, strategy, reduction)

        return tree.map_structure(one, values)

    tf_trainer.reduce_per_replica = reduce_per_replica
    try:
        yield
    finally:
        tf_trainer.reduce_per_replica = original


def _fit(model, dataset, run_dir, model_config, tc: TrainConfig, initial_epoch, history, state, steps, chief=True):
    import keras

    from pelsvae_tf.train.callbacks import (
        BestWeights,
        BetaScheduler,
        DivergenceGuard,
        EpochCheckpoint,
        ResumableEarlyStopping,
        ResumableReduceLROnPlateau,
        beta_at_epoch,
    )

    replicas = int(model.distribute_strategy.num_replicas_in_sync)
    n_val = int(dataset.physics_mask("val", model_config.physics).sum())
    n_train = int(dataset.physics_mask("train", model_config.physics).sum())
    # the whole training split as tensors (to_tf's filtering and scaling), then batches whose
    # order depends only on (seed, epoch): see epoch_batches
    whole = next(iter(dataset.to_tf("train", batch_size=max(1, n_train), physics=model_config.physics, shuffle=False)))
    drop = replicas > 1 and 0 < n_train % tc.batch_size < replicas
    if tc.steps_per_epoch is None and drop:
        steps = n_train // tc.batch_size
    train_ds = epoch_batches(
        whole, tc.batch_size, int(tc.seed), initial_epoch, tc.epochs, tc.steps_per_epoch,
        # a replica handed an empty slice of a short last batch breaks keras-tcn
        drop_remainder=drop,
    )
    val_ds = dataset.to_tf(
        "val", batch_size=_val_batch_size(tc.batch_size, n_val, replicas), physics=model_config.physics, shuffle=False
    )

    beta0, sched, warm = model_config.beta, tc.beta_schedule, tc.beta_warmup_epochs
    callbacks: list = [BetaScheduler(lambda e: beta_at_epoch(e, beta0, sched, warm))]
    stateful: dict = {}
    saved_cb = (state or {}).get("callbacks", {})
    if tc.lr_schedule == "plateau":
        plateau = ResumableReduceLROnPlateau(
            monitor="val_loss", factor=tc.plateau_factor, patience=tc.plateau_patience, verbose=min(tc.verbose, 1)
        )
        plateau.restore(saved_cb.get("plateau"))
        callbacks.append(plateau)
        stateful["plateau"] = plateau
    if tc.early_stopping_patience:
        stopper = ResumableEarlyStopping(
            monitor="val_loss",
            patience=tc.early_stopping_patience,
            restore_best_weights=False,
            verbose=min(tc.verbose, 1),
        )
        stopper.restore(saved_cb.get("early_stopping"))
        callbacks.append(stopper)
        stateful["early_stopping"] = stopper
    if tc.tensorboard and chief:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(run_dir / "logs"), write_graph=False))
    callbacks.append(DivergenceGuard())
    callbacks.append(
        EpochCheckpoint(run_dir, history, stateful, extra_state={"seed": int(tc.seed)}, write=chief)
    )
    if tc.restore_best_weights and tc.early_stopping_patience and chief:
        callbacks.append(BestWeights(run_dir))

    stack = contextlib.ExitStack()
    if tc.strategy != "default":
        # Keras' fit under a tf.distribute strategy builds the model from a batch it pulls out of
        # the training iterator (one batch lost per fit call, so a resumed run would see other
        # batches than an uninterrupted one) and averages it with strategy.reduce (which fails
        # on dict batches under MultiWorkerMirroredStrategy). Build from a local batch instead.
        sample = next(iter(train_ds))
        with model.distribute_strategy.scope():
            model._symbolic_build(data_batch=sample)
        model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    try:
        if tc.strategy == "multiworker":
            stack.enter_context(_scalar_metrics_reduced_across_workers())
        model.fit(
            train_ds,
            validation_data=val_ds,
            epochs=tc.epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps,
            callbacks=callbacks,
            verbose=tc.verbose,
            shuffle=False,
        )
    finally:
        stack.close()
        model.__dict__.pop("_maybe_symbolic_build", None)
    if tc.restore_best_weights and tc.early_stopping_patience:
        best = run_dir / "checkpoints" / "best.weights.h5"
        if best.exists():
            model.load_weights(best)


# -- latents ------------------------------------------------------------------------------------
def encode_split(model, dataset, split: str, batch_size: int = 512) -> dict[str, np.ndarray]:
    """Encode the REAL stars of ``split`` (cVAE-P: those having all physics).

    Returns ``z_mean``, ``z_log_var`` [N, D] (latent units), ``label`` [N], ``phys`` [N, 6] raw
    (K, mag, d, solRad, solLum, mag), ``star_id`` [N] and ``split`` [N].
    """
    physics = tuple(model.model_config.physics)
    a = dataset.arrays(split)
    keep = a["is_real"].astype(bool) & dataset.physics_mask(split, physics)
    n = int(keep.sum())
    d = model.model_config.latent_dim
    if n == 0:
        z = np.zeros((0, d), np.float32)
        return {
            "z_mean": z, "z_log_var": z.copy(), "label": np.zeros(0, np.int32),
            "phys": np.zeros((0, a["phys"].shape[1]), np.float32),
            "star_id": np.zeros(0, a["star_id"].dtype), "split": np.zeros(0, "<U5"),
        }
    label = a["label"][keep].astype(np.int32)
    inputs = {
        "phase": a["phase"][keep],
        "mag": a["mag"][keep],
        "err": a["err"][keep],
        "class_onehot": np.eye(len(dataset.classes), dtype=np.float32)[label],
    }
    if physics:
        idx = [dataset.physics_columns.index(p) for p in physics]
        inputs["phys"] = dataset.physics_scaler.transform(a["phys"][keep][:, idx], physics).astype(np.float32)
    zm, zv = [], []
    for s in range(0, n, batch_size):
        out = model.encoder({k: v[s : s + batch_size] for k, v in inputs.items()}, training=False)
        zm.append(np.asarray(out["z_mean"]))
        zv.append(np.asarray(out["z_log_var"]))
    return {
        "z_mean": np.concatenate(zm).astype(np.float32),
        "z_log_var": np.concatenate(zv).astype(np.float32),
        "label": label,
        "phys": a["phys"][keep].astype(np.float32),
        "star_id": a["star_id"][keep],
        "split": np.full(n, split, dtype="<U5"),
    }


def write_latents(model, dataset, path, batch_size: int = 512) -> Path:
    """Write ``latents.npz`` (real train/val/test stars, see :func:`encode_split`) atomically."""
    parts = [encode_split(model, dataset, s, batch_size) for s in ("train", "val", "test") if s in dataset.splits]
    merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **merged)
    return path


# -- load ---------------------------------------------------------------------------------------
def load_run(run_dir) -> Run:
    """Load a finished run directory written by :func:`train` / ``pelsvae train``."""
    import keras

    from pelsvae_tf.data.dataset import PhysicsScaler
    from pelsvae_tf.model.vae import ModelConfig

    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise FileNotFoundError(f"run directory {run_dir} does not exist; train one with `pelsvae train`")
    cfg_path = run_dir / "config.json"
    if not cfg_path.exists():
        raise FileNotFoundError(f"{run_dir} has no config.json: not a pelsvae run directory")
    model_path = run_dir / "model.keras"
    if not model_path.exists():
        hint = (
            "; training was interrupted: resume it with `pelsvae train --out " + str(run_dir) + " --data ...`"
            if (run_dir / "checkpoints" / "state.json").exists()
            else ""
        )
        raise FileNotFoundError(f"{run_dir} has no model.keras{hint}")
    config = json.loads(cfg_path.read_text())
    model = keras.saving.load_model(model_path, compile=False)
    state = read_checkpoint_state(run_dir) or {}
    schema = config.get("dataset_schema", {})
    return Run(
        run_dir=run_dir,
        model=model,
        model_config=ModelConfig.from_dict(config["model"]),
        train_config=TrainConfig.from_dict(config["train"]),
        config=config,
        physics_scaler=PhysicsScaler.load(run_dir / "physics_scaler.json"),
        classes=tuple(schema.get("classes", ())),
        schema=schema,
        history=list(state.get("history", [])),
        data_dir=config.get("data_dir"),
    )


# -- CLI ----------------------------------------------------------------------------------------
_MODEL_FLAGS = {
    "arch": (str, "temporal network: tcn, gru or lstm"),
    "hidden": (int, "TCN filters / RNN units per layer"),
    "n_blocks": (int, "TCN residual blocks (dilations 2**i)"),
    "kernel_size": (int, "TCN kernel size (steps)"),
    "rnn_layers": (int, "stacked GRU/LSTM layers"),
    "latent_dim": (int, "latent dimension"),
    "dropout": (float, "dropout rate in [0, 1)"),
    "beta": (float, "KL weight"),
    "loss": (str, "loss: paper (eq. 4, error-weighted) or reference (MSE + beta KL/1e4)"),
    "time_encoding": (str, "per-step time tag: phase, dt or fourier (phase + sin/cos of 4 harmonics)"),
    "tcn_channels": (str, "TCN filters per block: constant or reference ramp [8,16,32,H..]"),
    "err_floor": (float, "scaled error added in quadrature in the loss"),
    "receptive_field_check": (str, "TCN receptive field < seq_len: error, warn or off"),
    "tcn_norm": (str, "normalisation in TCN blocks: layer (default), batch or none"),
    "decoder_padding": (str, "decoder TCN padding: causal (paper) or same"),
    "decoder_subsample": (float, "train the decoder on random point subsets of >= this fraction (1 = paper)"),
}
_TRAIN_FLAGS = {
    "epochs": (int, "total epochs (resume continues up to it)"),
    "batch_size": (int, "curves per batch"),
    "learning_rate": (float, "initial Adam learning rate"),
    "lr_schedule": (str, "none, exponential, cosine or plateau"),
    "lr_decay_rate": (float, "exponential LR factor per epoch"),
    "early_stopping_patience": (int, "epochs without val_loss improvement before stopping (0 = off)"),
    "beta_schedule": (str, "constant, linear (warm-up) or cyclical"),
    "beta_warmup_epochs": (int, "beta warm-up / cycle length in epochs"),
    "seed": (int, "random seed"),
    "strategy": (str, "tf.distribute strategy: default, mirrored or multiworker"),
    "steps_per_epoch": (int, "batches per epoch (default: one pass over the training split)"),
    "verbose": (int, "0 silent, 1 progress bar, 2 one line per epoch"),
    "clipnorm": (float, "clip gradients to this L2 norm (default: no clipping, as the paper)"),
}
#: defaults spelled for help where the config value alone would mislead
_HELP_DEFAULTS = {
    "physics": "'' (cVAE)",
    "m_seed": "--seed",
    "t_steps_per_epoch": None,
    "t_clipnorm": None,
    "t_verbose": "1 (2 when stdout is not a terminal)",
}


_CHOICES = {
    "arch": ("tcn", "gru", "lstm"),
    "loss": ("paper", "reference"),
    "time_encoding": ("phase", "dt", "fourier"),
    "tcn_channels": ("constant", "reference"),
    "receptive_field_check": ("error", "warn", "off"),
    "tcn_norm": ("layer", "batch", "none"),
    "decoder_padding": ("causal", "same"),
    "lr_schedule": LR_SCHEDULES,
    "beta_schedule": BETA_SCHEDULES,
    "strategy": STRATEGIES,
    "verbose": (0, 1, 2),
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
        help="comma-separated physical parameters for a cVAE-P, e.g. teff,abs_gmag,period ('' = cVAE)",
    )
    for name, (typ, help_) in _MODEL_FLAGS.items():
        p.add_argument("--" + name.replace("_", "-"), dest="m_" + name, type=typ, default=None, help=help_,
                       choices=_CHOICES.get(name), metavar=name.upper())
    p.add_argument("--dense-units", dest="m_dense_units", default=None, metavar="UNITS", help="comma-separated encoder dense sizes")
    p.add_argument("--model-seed", dest="m_seed", type=int, default=None, metavar="SEED", help="model seed (default: --seed)")
    for name, (typ, help_) in _TRAIN_FLAGS.items():
        flag = "--lr" if name == "learning_rate" else "--" + name.replace("_", "-")
        p.add_argument(flag, dest="t_" + name, type=typ, default=None, help=help_,
                       choices=_CHOICES.get(name), metavar=name.upper())
    p.add_argument("--jit-compile", dest="t_jit_compile", action="store_true", default=None, help="XLA-compile the train step")
    p.add_argument("--no-tensorboard", dest="t_tensorboard", action="store_false", default=None, help="skip TensorBoard logs")
    p.add_argument(
        "--no-deterministic", dest="t_deterministic", action="store_false", default=None,
        help="turn TensorFlow op determinism off (faster; two runs then differ in the last bits)",
    )
    p.set_defaults(func=_cli_train)
    # flags default to None so a --config file can set them; help shows the real defaults, read
    # from TrainConfig / ModelConfig when help is printed (ModelConfig needs TensorFlow)
    plain_format_help = p.format_help
    p.format_help = lambda: _with_defaults(p, plain_format_help)


def _with_defaults(parser, format_help) -> str:
    """``format_help()`` of the train parser with ``(default: X)`` added to every option whose
    ``None`` default stands for a ``TrainConfig`` / ``ModelConfig`` default."""
    from pelsvae_tf.cli.main import quiet_tensorflow

    quiet_tensorflow()
    from pelsvae_tf.model.vae import ModelConfig

    mdef, tdef = ModelConfig().to_dict(), TrainConfig().to_dict()
    saved = []
    for action in parser._actions:
        dest = action.dest
        if dest in _HELP_DEFAULTS:
            value = _HELP_DEFAULTS[dest]
        elif dest.startswith("m_") and dest[2:] in mdef:
            value = mdef[dest[2:]]
        elif dest.startswith("t_") and dest[2:] in tdef:
            value = tdef[dest[2:]]
            if isinstance(value, bool):  # flags: say what happens without the flag
                value = {"t_jit_compile": "off", "t_tensorboard": "logs written",
                         "t_deterministic": "deterministic"}.get(dest, value)
        else:
            continue
        if value is None or "(default" in (action.help or "").lower():
            continue
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        saved.append((action, action.help))
        action.help = f"{action.help} (default: {value})".replace("%", "%%")
    try:
        return format_help()
    finally:
        for action, text in saved:
            action.help = text


def _cli_configs(args):
    from pelsvae_tf.model.vae import ModelConfig

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


def _stdout_is_tty() -> bool:
    try:
        import sys

        return bool(sys.stdout.isatty())
    except (AttributeError, ValueError):
        return False


def _cli_train(args) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("tensorflow").propagate = False  # TF prints its own records; not twice
    model_config, train_config = _cli_configs(args)
    if getattr(args, "t_verbose", None) is None and train_config.verbose == 1 and not _stdout_is_tty():
        # a progress bar redrawn into a log file or pipe writes megabytes: one line per epoch
        train_config = train_config.replace(verbose=2)
    run = train(args.data, args.out, model_config, train_config)
    if not is_chief(train_config.strategy):
        task = json.loads(os.environ["TF_CONFIG"]).get("task", {})
        print(f"trained {len(run.history)} epochs ({task.get('type', 'worker')} {task.get('index', '?')}: nothing "
              "written, the chief writes the run directory)")
        return 0
    last = run.history[-1] if run.history else {}
    print(
        f"trained {len(run.history)} epochs -> {run.run_dir}/model.keras"
        + (f" (val_loss {last.get('val_loss', float('nan')):.4g}, val_recon {last.get('val_recon', float('nan')):.4g})" if last else "")
    )
    return 0



def main(argv: list[str] | None = None) -> int:
    """Run only the ``train`` verb (``python -m pelsvae_tf.train.trainer --data ... --out ...``).

    Same options and error handling as ``pelsvae train``; useful where the other verbs' optional
    dependencies are not importable.
    """
    import sys

    from pelsvae_tf.cli.main import _Parser, _global_flags, quiet_tensorflow, run_verb

    argv = list(sys.argv[1:] if argv is None else argv)
    verbose, tb = _global_flags([])
    parser = _Parser(prog="pelsvae-train")
    sub = parser.add_subparsers(dest="verb", parser_class=_Parser)
    register(sub)
    args = parser.parse_args(["train", *argv])
    quiet_tensorflow(verbose)
    return run_verb(args, traceback_on=tb)


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(main())
