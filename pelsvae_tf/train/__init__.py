"""Training: ``TrainConfig``, the training loop shared by ``pelsvae train`` and tuning trials, callbacks, resume.

Modules in pipeline order: ``config`` (TrainConfig, TF-free), ``schedules``, ``strategy``,
``callbacks``, ``loop`` (the one training loop), ``checkpoint`` (resume state), ``trainer``
(``train``) and ``run`` (``Run``, ``load_run``, latents).

Public names are imported lazily (:func:`pelsvae_tf._lazy.lazy_exports`): importing this package
does not load TensorFlow.
"""

from pelsvae_tf._lazy import lazy_exports

_EXPORTS = {
    "beta_at_epoch": "schedules",
    "BetaScheduler": "callbacks",
    "ResumableEarlyStopping": "callbacks",
    "ResumableReduceLROnPlateau": "callbacks",
    "current_learning_rate": "callbacks",
    "write_history_csv": "callbacks",
    "EpochCheckpoint": "callbacks",
    "BestWeights": "callbacks",
    "TrainingDivergedError": "callbacks",
    "DivergenceGuard": "callbacks",
    "log": "trainer",
    "LR_SCHEDULES": "config",
    "STRATEGIES": "config",
    "BETA_SCHEDULES": "config",
    "read_checkpoint_state": "checkpoint",
    "TrainConfig": "config",
    "Run": "run",
    "make_strategy": "strategy",
    "is_chief": "strategy",
    "seed_states": "checkpoint",
    "restore_seed_states": "checkpoint",
    "epoch_batches": "loop",
    "learning_rate_schedule": "schedules",
    "check_dataset_compatibility": "trainer",
    "model_config_differences": "checkpoint",
    "dataset_identity": "checkpoint",
    "train": "trainer",
    "encode_split": "run",
    "write_latents": "run",
    "load_run": "run",
    "fit": "loop",
    "compile_model": "loop",
    "make_datasets": "loop",
    "standard_callbacks": "loop",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
