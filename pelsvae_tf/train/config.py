"""``TrainConfig``: optimisation settings of ``pelsvae train`` and of tuning trials
(TensorFlow-free, so the CLI can generate its flags from it)."""

from __future__ import annotations

from dataclasses import dataclass

from pelsvae_tf.config import ConfigBase
from pelsvae_tf.options import BETA_SCHEDULES, LR_SCHEDULES, STRATEGIES

__all__ = ["TrainConfig", "BETA_SCHEDULES", "LR_SCHEDULES", "STRATEGIES"]


@dataclass
class TrainConfig(ConfigBase):
    """Optimisation settings (Adam; paper Table 2 defaults where known).

    Attributes:
        epochs: total number of epochs (a resumed run continues up to this number).
        batch_size: curves per (global) batch.
        learning_rate: initial Adam learning rate.
        lr_schedule: ``"none"``, ``"exponential"`` (x ``lr_decay_rate`` per epoch, applied per
            step), ``"cosine"`` (to ``lr_min_factor * learning_rate`` at the last epoch) or
            ``"plateau"`` (x ``plateau_factor`` after ``plateau_patience`` epochs without
            improvement of ``val_loss``).
        lr_decay_rate: exponential decay factor per epoch.
        lr_min_factor: cosine floor as a fraction of ``learning_rate``.
        plateau_factor, plateau_patience: ReduceLROnPlateau settings.
        early_stopping_patience: epochs without ``val_loss`` improvement before stopping;
            0 disables early stopping.
        restore_best_weights: with early stopping, keep the best epoch's weights in model.keras.
        beta_schedule: ``"constant"``, ``"linear"`` warm-up or ``"cyclical"`` (see callbacks.py).
        beta_warmup_epochs: warm-up length / cycle length in epochs.
        seed: seed of weight init, shuffling, dropout and latent sampling.
        strategy: ``"default"`` (one device), ``"mirrored"`` (all local devices) or
            ``"multiworker"`` (``TF_CONFIG`` cluster, see docs/DISTRIBUTED.md).
        jit_compile: compile the train step with XLA.
        run_eagerly: run the train step eagerly (debugging; slow).
        steps_per_epoch: limit batches per epoch (``None`` = one pass over the training split).
        verbose: Keras progress output (0 silent, 1 progress bar, 2 one line per epoch).
        tensorboard: write TensorBoard logs to ``RUN_DIR/logs``.
        save_latents: write ``latents.npz`` after training.
        clipnorm: clip each gradient to this L2 norm in Adam (``None`` = no clipping, the paper).
        deterministic: turn on TensorFlow op determinism
            (``tf.config.experimental.enable_op_determinism()``) for the training, so two runs
            with the same seed on the same kind of machine give bit-identical history and
            weights; ``False`` trades that for speed (see docs/DISTRIBUTED.md, "Determinism").
    """

    epochs: int = 150
    batch_size: int = 128
    learning_rate: float = 1e-3
    lr_schedule: str = "none"
    lr_decay_rate: float = 0.96
    lr_min_factor: float = 0.01
    plateau_factor: float = 0.5
    plateau_patience: int = 5
    early_stopping_patience: int = 0
    restore_best_weights: bool = False
    beta_schedule: str = "constant"
    beta_warmup_epochs: int = 10
    seed: int = 0
    strategy: str = "default"
    jit_compile: bool = False
    run_eagerly: bool = False
    steps_per_epoch: int | None = None
    verbose: int = 1
    tensorboard: bool = True
    save_latents: bool = True
    clipnorm: float | None = None
    deterministic: bool = True

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the field and the fix for any bad value."""

        def bad(name, msg):
            raise ValueError(f"TrainConfig.{name}={getattr(self, name)!r}: {msg}")

        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                bad(name, "must be an integer >= 1")
        if not (float(self.learning_rate) > 0):
            bad("learning_rate", "must be > 0")
        if self.lr_schedule not in LR_SCHEDULES:
            bad("lr_schedule", f"use one of {LR_SCHEDULES}")
        if not (0 < float(self.lr_decay_rate) <= 1):
            bad("lr_decay_rate", "must be in (0, 1]")
        if not (0 <= float(self.lr_min_factor) < 1):
            bad("lr_min_factor", "must be in [0, 1)")
        if not (0 < float(self.plateau_factor) < 1):
            bad("plateau_factor", "must be in (0, 1)")
        if self.plateau_patience < 0 or self.early_stopping_patience < 0:
            bad("early_stopping_patience" if self.early_stopping_patience < 0 else "plateau_patience", "must be >= 0")
        if self.beta_schedule not in BETA_SCHEDULES:
            bad("beta_schedule", f"use one of {BETA_SCHEDULES}")
        if self.beta_warmup_epochs < 0:
            bad("beta_warmup_epochs", "must be >= 0")
        if self.strategy not in STRATEGIES:
            bad("strategy", f"use one of {STRATEGIES}")
        if self.steps_per_epoch is not None and self.steps_per_epoch < 1:
            bad("steps_per_epoch", "must be >= 1 or None (a full pass)")
        if self.verbose not in (0, 1, 2):
            bad("verbose", "use 0, 1 or 2")
        if self.clipnorm is not None and not (float(self.clipnorm) > 0):
            bad("clipnorm", "must be > 0 (gradient norm clip) or None")
        if not isinstance(self.deterministic, bool):
            bad("deterministic", "must be true or false")
