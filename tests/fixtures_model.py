"""Model fixtures: ``tiny_model_config``, ``tiny_train_config`` and ``tiny_run``.

``tiny_run`` trains a small cVAE-P (TCN, 4 blocks of 16 filters, kernel 5 -> receptive field 121
steps >= seq_len 100; latent 4; Fourier time tag, no dropout, lr 3e-3) on ``tiny_dataset`` for 6
epochs once per test session and returns the run directory (``pelsvae_tf.training.load_run``
reads it). That is the smallest setting measured to learn light-curve shapes (~25 s on 2 cores:
median error-weighted RMSE of test stars 0.19 against 0.28 for a flat curve at each star's mean;
with the 3-epoch, 8-filter, phase-tag setting it was 0.29, worse than flat), so tests on it can
assert that the model learnt something.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_PHYSICS = ("teff", "abs_gmag", "period")


def tiny_model_config(**changes):
    """A tiny cVAE-P configuration for tests (fast on 2 CPU cores)."""
    from pelsvae_tf.model import ModelConfig

    base = dict(
        arch="tcn", hidden=8, n_blocks=4, kernel_size=5, latent_dim=4, dropout=0.1,
        dense_units=(16,), physics=TINY_PHYSICS, seq_len=100, seed=0,
    )
    base.update(changes)
    return ModelConfig(**base)


def tiny_train_config(**changes):
    """A short training configuration for tests (no TensorBoard, silent)."""
    from pelsvae_tf.training import TrainConfig

    base = dict(epochs=3, batch_size=32, learning_rate=5e-3, seed=0, verbose=0, tensorboard=False)
    base.update(changes)
    return TrainConfig(**base)


#: ``tiny_run``'s settings on top of ``tiny_model_config()`` / ``tiny_train_config()``.
TINY_RUN_MODEL = dict(hidden=16, dropout=0.0, time_encoding="fourier")
TINY_RUN_TRAIN = dict(epochs=6, learning_rate=3e-3)


def tiny_run_configs(**train_changes):
    """``(ModelConfig, TrainConfig)`` that ``tiny_run`` was trained with (to resume or repeat it)."""
    return tiny_model_config(**TINY_RUN_MODEL), tiny_train_config(**{**TINY_RUN_TRAIN, **train_changes})


@pytest.fixture(scope="session")
def tiny_run(tiny_dataset, tmp_path_factory) -> Path:
    """Run directory of a small cVAE-P trained 6 epochs on ``tiny_dataset`` (session-scoped)."""
    from pelsvae_tf.training import train

    run_dir = tmp_path_factory.mktemp("tiny_run") / "run"
    train(tiny_dataset.path, run_dir, *tiny_run_configs())
    return run_dir
