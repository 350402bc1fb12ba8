"""Training: ``TrainConfig``, the training loop shared by ``pelsvae train`` and tuning trials, callbacks, resume.

Public names are imported lazily (:func:`pelsvae_tf._lazy.lazy_exports`): importing this package
does not load TensorFlow.
"""

from pelsvae_tf._lazy import lazy_exports

_EXPORTS = {
    "beta_at_epoch": "callbacks",
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
    "read_checkpoint_state": "trainer",
    "TrainConfig": "config",
    "Run": "trainer",
    "make_strategy": "trainer",
    "is_chief": "trainer",
    "seed_states": "trainer",
    "restore_seed_states": "trainer",
    "epoch_batches": "trainer",
    "learning_rate_schedule": "trainer",
    "check_dataset_compatibility": "trainer",
    "model_config_differences": "trainer",
    "dataset_identity": "trainer",
    "train": "trainer",
    "encode_split": "trainer",
    "write_latents": "trainer",
    "load_run": "trainer",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
