"""Training callbacks: beta schedule, resumable early stopping / plateau, epoch checkpoints.

Every callback whose state matters for an exact resume exposes ``state()`` / ``restore(dict)``;
:class:`EpochCheckpoint` stores those states in ``checkpoints/state.json`` together with the
model (weights + optimizer state) so ``pelsvae train`` can continue an interrupted run at the
next epoch with nothing lost.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Sequence

import keras

from pelsvae_tf.atomic import atomic_path, atomic_write_text
from pelsvae_tf.options import BETA_SCHEDULES  # noqa: F401  (re-exported)
from pelsvae_tf.train.checkpoint import read_checkpoint_state, seed_states
from pelsvae_tf.train.schedules import beta_at_epoch  # noqa: F401  (re-exported: its 0.1 home)


class BetaScheduler(keras.callbacks.Callback):
    """Set ``model.beta`` (a ``keras.Variable``) at the start of every epoch from ``fn(epoch)``."""

    def __init__(self, fn: Callable[[int], float]):
        super().__init__()
        self.fn = fn

    def on_epoch_begin(self, epoch, logs=None):
        self.model.beta.assign(float(self.fn(epoch)))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["beta"] = float(self.model.beta.numpy())


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """``EarlyStopping`` whose counters survive a resume (``state()`` / ``restore()``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._restored: dict[str, Any] | None = None

    def restore(self, state: dict[str, Any] | None) -> None:
        """Apply a state saved by :meth:`state` at the next ``on_train_begin``."""
        self._restored = state or None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self._restored:
            self.wait = int(self._restored["wait"])
            best = self._restored["best"]
            self.best = None if best is None else float(best)
            self.best_epoch = int(self._restored.get("best_epoch", 0))

    def state(self) -> dict[str, Any]:
        """Counters needed to continue: ``wait``, ``best``, ``best_epoch``, ``stopped``."""
        best = self.best
        if best is not None and not math.isfinite(float(best)):
            best = None
        return {
            "wait": int(self.wait),
            "best": None if best is None else float(best),
            "best_epoch": int(getattr(self, "best_epoch", 0)),
            "stopped": bool(self.model.stop_training) if self.model is not None else False,
        }


class ResumableReduceLROnPlateau(keras.callbacks.ReduceLROnPlateau):
    """``ReduceLROnPlateau`` whose counters survive a resume (the LR itself is optimizer state)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._restored: dict[str, Any] | None = None

    def restore(self, state: dict[str, Any] | None) -> None:
        """Apply a state saved by :meth:`state` at the next ``on_train_begin``."""
        self._restored = state or None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self._restored:
            self.wait = int(self._restored["wait"])
            self.cooldown_counter = int(self._restored["cooldown_counter"])
            if self._restored["best"] is not None:
                self.best = float(self._restored["best"])

    def state(self) -> dict[str, Any]:
        """Counters needed to continue: ``wait``, ``cooldown_counter``, ``best``."""
        best = float(self.best)
        return {
            "wait": int(self.wait),
            "cooldown_counter": int(self.cooldown_counter),
            "best": best if math.isfinite(best) else None,
        }


def current_learning_rate(model: keras.Model) -> float:
    """The optimizer's learning rate at its current iteration (after any schedule)."""
    opt = model.optimizer
    lr = opt.learning_rate
    try:
        return float(keras.ops.convert_to_numpy(lr))
    except Exception:  # pragma: no cover - schedules exposed as callables
        return float(keras.ops.convert_to_numpy(opt._get_current_learning_rate()))


def write_history_csv(path: str | Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Write epoch rows (dicts) as CSV atomically; columns = union of keys, ``epoch`` first."""
    keys: list[str] = ["epoch"]
    for row in rows:
        for k in row:
            if k not in keys:
                keys.append(k)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return atomic_write_text(path, buf.getvalue())


class EpochCheckpoint(keras.callbacks.Callback):
    """After every epoch: model + optimizer + counters + history, committed atomically.

    Order of writes (each atomic): ``checkpoints/epoch-NNNN.keras`` (model with optimizer
    state), ``checkpoints/state.json`` (the commit point: next epoch, checkpoint file name,
    history rows, callback states), ``checkpoints/last.keras`` (a link/copy of the committed
    checkpoint) and ``history.csv``; then the previous epoch file is removed. A run killed at
    any moment resumes from the last committed epoch.

    Args:
        run_dir: the run directory.
        history: history rows of epochs already completed (resume), appended to in place.
        stateful: ``name -> callback`` with ``state()`` to record.
        extra_state: static entries copied into ``state.json`` (e.g. the seed).
        write: ``False`` on a non-chief worker of a multi-worker cluster: the history is kept in
            memory but nothing is written (the chief alone writes the run directory).

    ``state.json`` also holds ``seed_states`` (:func:`~pelsvae_tf.train.checkpoint.seed_states`): the
    random generators' positions, which ``model.save`` does not store, so a resumed run draws the
    same dropout masks and latent samples as an uninterrupted one.
    """

    def __init__(
        self,
        run_dir: str | Path,
        history: list[dict[str, Any]],
        stateful: dict[str, Any] | None = None,
        extra_state: dict[str, Any] | None = None,
        write: bool = True,
    ):
        super().__init__()
        self.write = bool(write)
        self.run_dir = Path(run_dir)
        self.ckpt_dir = self.run_dir / "checkpoints"
        self.history = history
        self.stateful = stateful or {}
        self.extra_state = extra_state or {}

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        row: dict[str, Any] = {"epoch": int(epoch)}
        for k, v in sorted(logs.items()):
            try:
                row[k] = float(v)
            except (TypeError, ValueError):
                continue
        row["learning_rate"] = current_learning_rate(self.model)
        self.history.append(row)
        if not self.write:
            return
        self.ckpt_dir.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{epoch + 1:04d}.keras"
        with atomic_path(self.ckpt_dir / name) as tmp:
            self.model.save(tmp)
        state = {
            "epoch": int(epoch) + 1,
            "checkpoint": name,
            "history": self.history,
            "callbacks": {k: cb.state() for k, cb in self.stateful.items()},
            "stop_training": bool(self.model.stop_training),
            "seed_states": seed_states(self.model),
            **self.extra_state,
        }
        old = read_checkpoint_state(self.run_dir)
        atomic_write_text(self.ckpt_dir / "state.json", json.dumps(state, indent=1))
        with atomic_path(self.ckpt_dir / "last.keras") as tmp:
            try:
                os.link(self.ckpt_dir / name, tmp)
            except OSError:  # pragma: no cover - filesystems without hard links
                shutil.copyfile(self.ckpt_dir / name, tmp)
        write_history_csv(self.run_dir / "history.csv", self.history)
        if old and old.get("checkpoint") and old["checkpoint"] != name:
            stale = self.ckpt_dir / old["checkpoint"]
            if stale.exists():
                stale.unlink()


class BestWeights(keras.callbacks.Callback):
    """Keep the weights of the best-``val_loss`` epoch in ``checkpoints/best.weights.h5``.

    On resume the best value so far is read from the committed history, so the file keeps
    tracking the best epoch of the whole run.
    """

    def __init__(self, run_dir: str | Path):
        super().__init__()
        self.path = Path(run_dir) / "checkpoints" / "best.weights.h5"
        state = read_checkpoint_state(run_dir) or {}
        vals = [float(r.get("val_loss", math.inf)) for r in state.get("history", [])]
        self.best = min(vals) if vals else math.inf

    def on_epoch_end(self, epoch, logs=None):
        v = float((logs or {}).get("val_loss", math.inf))
        if v < self.best:
            self.best = v
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.path) as tmp:
                self.model.save_weights(tmp)


class TrainingDivergedError(ValueError):
    """Raised when a loss becomes NaN or infinite; the last committed checkpoint is kept."""


class DivergenceGuard(keras.callbacks.Callback):
    """Stop training with a clear error as soon as the loss is NaN or infinite.

    Placed before :class:`EpochCheckpoint` so a diverged epoch is never committed: the run
    directory keeps the last good epoch and can be resumed with a lower learning rate.
    Checks the running training loss after every batch and ``val_loss`` after every epoch.
    """

    def _check(self, logs, where: str) -> None:
        for key in ("loss", "val_loss"):
            if logs and key in logs:
                value = float(logs[key])
                if not math.isfinite(value):
                    raise TrainingDivergedError(
                        f"training diverged: {key} = {value} {where}. The last committed epoch is "
                        f"kept in the run directory. Fix: lower TrainConfig.learning_rate (--lr), "
                        f"set TrainConfig.clipnorm (--clipnorm 1.0), or keep ModelConfig.tcn_norm='layer'."
                    )

    def on_train_batch_end(self, batch, logs=None):
        self._check(logs, f"at batch {batch}")

    def on_epoch_end(self, epoch, logs=None):
        self._check(logs, f"at the end of epoch {epoch + 1}")
