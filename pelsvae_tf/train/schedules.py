"""Schedules of a training run: the Adam learning rate (per optimizer step) and the KL weight
beta (per epoch). Used by :mod:`pelsvae_tf.train.loop` for ``pelsvae train`` and tuning trials."""

from __future__ import annotations

import keras

from pelsvae_tf.options import BETA_SCHEDULES
from pelsvae_tf.train.config import TrainConfig


def learning_rate_schedule(tc: TrainConfig, steps_per_epoch: int):
    """The Adam learning rate for ``tc``: a float or a Keras schedule (per optimizer step).

    ``steps_per_epoch`` converts the per-epoch decay of ``exponential`` and the horizon of
    ``cosine`` into optimizer steps; ``plateau`` is handled by a callback (constant here).
    """
    if tc.lr_schedule == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(
            tc.learning_rate, decay_steps=max(1, steps_per_epoch), decay_rate=tc.lr_decay_rate
        )
    if tc.lr_schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(
            tc.learning_rate, decay_steps=max(1, steps_per_epoch * tc.epochs), alpha=tc.lr_min_factor
        )
    return float(tc.learning_rate)


def beta_at_epoch(epoch: int, beta: float, schedule: str = "constant", warmup_epochs: int = 10) -> float:
    """KL weight for ``epoch`` (0-based; dimensionless).

    - ``"constant"``: ``beta`` every epoch.
    - ``"linear"``: rises linearly from ``beta / warmup_epochs`` to ``beta`` over the first
      ``warmup_epochs`` epochs, then stays (KL annealing).
    - ``"cyclical"``: Fu et al. (2019): cycles of ``warmup_epochs`` epochs, rising linearly over
      the first half of each cycle and held at ``beta`` for the second half.
    """
    if schedule not in BETA_SCHEDULES:
        raise ValueError(f"beta schedule {schedule!r} is not supported; use one of {BETA_SCHEDULES}")
    if schedule == "constant" or warmup_epochs <= 0:
        return float(beta)
    if schedule == "linear":
        return float(beta) * min(1.0, (epoch + 1) / warmup_epochs)
    half = max(1, warmup_epochs // 2)
    pos = epoch % warmup_epochs
    return float(beta) * min(1.0, (pos + 1) / half)
