"""The one training loop of a PELS-VAE, shared by ``pelsvae train`` and tuning trials.

:func:`fit` trains a built model on a ``PreparedDataset``: it makes the batches (:func:`make_datasets`:
the batches of epoch e depend only on ``(seed, e)``), turns op determinism on, sets the global
seed, adds the standard callbacks (:func:`standard_callbacks`: beta schedule, LR plateau, early
stopping, divergence guard) in front of the caller's (checkpointing for ``pelsvae train``,
KerasTuner's reporting for a trial) and calls ``model.fit``. :func:`compile_model` gives Adam the
learning-rate schedule of the ``TrainConfig``. So a tuning trial trains exactly what
``pelsvae train --config best_config.json`` trains.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading

import keras
import tensorflow as tf

from pelsvae_tf.determinism import op_determinism
from pelsvae_tf.train.callbacks import (
    BetaScheduler,
    DivergenceGuard,
    ResumableEarlyStopping,
    ResumableReduceLROnPlateau,
)
from pelsvae_tf.train.config import TrainConfig
from pelsvae_tf.train.schedules import beta_at_epoch, learning_rate_schedule
from pelsvae_tf.train.strategy import check_global_batch, scalar_metrics_reduced_across_workers, val_batch_size


def n_curves(dataset, split: str, physics) -> int:
    """Curves of ``split`` the model trains on (cVAE-P: those having all ``physics``)."""
    physics = tuple(physics)
    return int(dataset.physics_mask(split, physics).sum() if physics else dataset.n(split))


def schedule_steps(dataset, physics, tc: TrainConfig) -> int:
    """Optimizer steps per epoch the learning-rate schedule is laid out on: ``steps_per_epoch``
    or one pass over the training split."""
    return tc.steps_per_epoch or max(1, -(-n_curves(dataset, "train", physics) // tc.batch_size))


def compile_model(model, tc: TrainConfig, steps: int) -> None:
    """Compile ``model`` with Adam on :func:`learning_rate_schedule` (``clipnorm``, XLA and eager
    settings of ``tc``; ``jit_compile`` explicit, as Keras' "auto" turns XLA on on a GPU)."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate_schedule(tc, steps), clipnorm=tc.clipnorm),
        jit_compile=tc.jit_compile,
        run_eagerly=tc.run_eagerly,
    )


def epoch_batches(
    elements: dict,
    batch_size: int,
    seed: int,
    start_epoch: int,
    end_epoch: int,
    steps_per_epoch: int | None = None,
    drop_remainder: bool = False,
):
    """``tf.data.Dataset`` of the training batches of epochs ``start_epoch .. end_epoch - 1``.

    ``elements``: dict of tensors of the whole split (first axis = curves). Pass ``p`` over the
    split visits the curves in the order ``stateless_shuffle(range(n), seed=(seed, p))``, so the
    batches of an epoch depend only on ``(seed, epoch)``: a run resumed at epoch k sees exactly the
    batches an uninterrupted run sees from epoch k on. Without ``steps_per_epoch`` an epoch is one
    pass (its last batch short, or dropped with ``drop_remainder``); with it, passes follow each
    other without a break and epoch e starts at batch ``e * steps_per_epoch`` of that stream.
    Feed it to ``fit`` with ``steps_per_epoch`` set (one iterator for all epochs).
    """
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


def make_datasets(dataset, physics, tc: TrainConfig, initial_epoch: int, replicas: int, steps: int):
    """``(train_ds, val_ds, fit_steps)``: the training batches of epochs ``initial_epoch ..
    tc.epochs - 1`` (:func:`epoch_batches`), the validation batches and the steps per epoch
    ``model.fit`` runs (a short last batch that would leave a replica empty is dropped)."""
    physics = tuple(physics)
    n_train, n_val = n_curves(dataset, "train", physics), n_curves(dataset, "val", physics)
    # the whole training split as tensors (to_tf's filtering and scaling), then batches whose
    # order depends only on (seed, epoch): see epoch_batches
    whole = next(iter(dataset.to_tf("train", batch_size=max(1, n_train), physics=physics, shuffle=False)))
    # a replica handed an empty slice of a short last batch breaks keras-tcn
    drop = replicas > 1 and 0 < n_train % tc.batch_size < replicas
    if tc.steps_per_epoch is None and drop:
        steps = n_train // tc.batch_size
    train_ds = epoch_batches(
        whole, tc.batch_size, int(tc.seed), int(initial_epoch), tc.epochs, tc.steps_per_epoch, drop_remainder=drop
    )
    val_ds = dataset.to_tf(
        "val", batch_size=val_batch_size(tc.batch_size, n_val, replicas), physics=physics, shuffle=False
    )
    return train_ds, val_ds, steps


def standard_callbacks(beta: float, tc: TrainConfig, saved: dict | None = None) -> tuple[list, dict]:
    """``(callbacks, stateful)``: beta schedule, LR plateau and early stopping (counters restored
    from ``saved``, the ``callbacks`` entry of a checkpoint state) and the divergence guard last;
    ``stateful`` maps ``"plateau"`` / ``"early_stopping"`` to the callbacks whose state a
    checkpoint records."""
    sched, warm = tc.beta_schedule, tc.beta_warmup_epochs
    callbacks: list = [BetaScheduler(lambda e: beta_at_epoch(e, beta, sched, warm))]
    stateful: dict = {}
    saved = saved or {}
    if tc.lr_schedule == "plateau":
        plateau = ResumableReduceLROnPlateau(
            monitor="val_loss", factor=tc.plateau_factor, patience=tc.plateau_patience, verbose=min(tc.verbose, 1)
        )
        plateau.restore(saved.get("plateau"))
        callbacks.append(plateau)
        stateful["plateau"] = plateau
    if tc.early_stopping_patience:
        stopper = ResumableEarlyStopping(
            monitor="val_loss",
            patience=tc.early_stopping_patience,
            restore_best_weights=False,
            verbose=min(tc.verbose, 1),
        )
        stopper.restore(saved.get("early_stopping"))
        callbacks.append(stopper)
        stateful["early_stopping"] = stopper
    return callbacks, stateful


class InterruptGuard(keras.callbacks.Callback):
    """Make Ctrl-C stop training within one batch, always.

    Python raises ``KeyboardInterrupt`` wherever the main thread is when SIGINT arrives; inside
    TensorFlow's input pipeline that exception can be turned into an end-of-data error that Keras
    takes for a short epoch, and training goes on (seen under load: 4 more epochs after Ctrl-C).
    While installed, SIGINT also sets a flag that the next batch or epoch boundary turns into a
    ``KeyboardInterrupt`` that nothing swallows. Only the main thread's default handler is replaced.
    """

    def __init__(self):
        super().__init__()
        self.interrupted = False

    @contextlib.contextmanager
    def installed(self):
        """Install the SIGINT handler for the duration of the block (no-op off the main thread)."""
        if threading.current_thread() is not threading.main_thread() or (
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        ):
            yield self
            return

        def handler(signum, frame):
            self.interrupted = True
            raise KeyboardInterrupt

        signal.signal(signal.SIGINT, handler)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    def _check(self, *args, **kwargs):
        if self.interrupted:
            raise KeyboardInterrupt

    on_train_batch_begin = on_train_batch_end = on_test_batch_end = _check
    on_epoch_begin = on_epoch_end = on_test_begin = on_test_end = _check


def fit(
    model,
    dataset,
    model_config,
    tc: TrainConfig,
    *,
    initial_epoch: int = 0,
    steps: int | None = None,
    callbacks=None,
    extra_callbacks=(),
    saved_callbacks: dict | None = None,
    verbose=None,
):
    """Train ``model`` (compiled, see :func:`compile_model`) on ``dataset`` up to ``tc.epochs``.

    Args:
        model: the PELS-VAE, built (and compiled) under its distribution strategy.
        dataset: the ``PreparedDataset``.
        model_config: its ``ModelConfig`` (physics and the beta the schedule scales).
        tc: the ``TrainConfig``.
        initial_epoch: first epoch to train (resume / Hyperband continuation).
        steps: steps per epoch of the LR schedule (default :func:`schedule_steps`).
        callbacks: ``(callbacks, stateful)`` from :func:`standard_callbacks` when the caller
            needs ``stateful`` (checkpointing); default: made here from ``saved_callbacks``.
        extra_callbacks: the caller's callbacks, run after the standard ones and the
            divergence guard (so a diverged epoch is never committed or reported).
        verbose: Keras verbosity (default ``tc.verbose``).

    Returns:
        the Keras ``History``.

    Raises:
        ValueError: a global batch the replicas cannot share;
        pelsvae_tf.train.callbacks.TrainingDivergedError: a NaN / infinite loss.
    """
    physics = tuple(model_config.physics)
    replicas = int(model.distribute_strategy.num_replicas_in_sync)
    check_global_batch(tc.batch_size, replicas, n_curves(dataset, "train", physics), tc.strategy)
    steps = steps or schedule_steps(dataset, physics, tc)
    train_ds, val_ds, fit_steps = make_datasets(dataset, physics, tc, initial_epoch, replicas, steps)
    if callbacks is None:
        callbacks = standard_callbacks(model_config.beta, tc, saved_callbacks)
    guard = InterruptGuard()
    cbs = [guard, *callbacks[0], DivergenceGuard(), *extra_callbacks]
    with op_determinism(tc.deterministic), contextlib.ExitStack() as stack:
        stack.enter_context(guard.installed())
        # Every random draw of a training step comes from a seeded keras SeedGenerator whose state
        # is checkpointed (seed_states), and the batch order of epoch e is a function of (seed, e);
        # the global seed is set for anything else (unseeded layers added by a user).
        keras.utils.set_random_seed(int(tc.seed))
        if replicas > 1 or tc.strategy != "default":
            # Keras' fit under a tf.distribute strategy builds the model from a batch it pulls out
            # of the training iterator (one batch lost per fit call, so a resumed run would see
            # other batches than an uninterrupted one) and averages it with strategy.reduce (which
            # fails on dict batches under MultiWorkerMirroredStrategy). Build from a local batch.
            sample = next(iter(train_ds))
            with model.distribute_strategy.scope():
                model._symbolic_build(data_batch=sample)
            model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
            stack.callback(lambda: model.__dict__.pop("_maybe_symbolic_build", None))
        if tc.strategy == "multiworker":
            stack.enter_context(scalar_metrics_reduced_across_workers())
        return model.fit(
            train_ds,
            validation_data=val_ds,
            epochs=tc.epochs,
            initial_epoch=int(initial_epoch),
            steps_per_epoch=fit_steps,
            callbacks=cbs,
            verbose=tc.verbose if verbose is None else verbose,
            shuffle=False,
        )


def finite_history(history) -> bool:
    """Whether every ``val_loss`` of a Keras ``History`` is finite (and there is one)."""
    val = history.history.get("val_loss", [])
    return bool(val) and all(math.isfinite(float(v)) for v in val)
