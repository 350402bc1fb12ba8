"""A tuning trial and ``pelsvae train --config best_config.json`` run one training loop
(``pelsvae_tf.train.loop``): same per-epoch history, also for a non-constant beta schedule and a
tuner seed that differs from the model seed."""

from __future__ import annotations

import csv
import json

import pytest

from tests.fixtures.model import tiny_model_config

VALUES = {
    "seq_arch": "tcn",
    "hidden": 8,
    "n_blocks": 4,
    "kernel_size": 5,
    "dilation_base": 2,
    "latent_dim": 4,
    "dropout": 0.1,
    "lr": 3e-3,
    "lr_scheduler": "exponential",
    "beta": 0.6,
    "batch_size": 64,
}
EPOCHS = 3


def test_trial_and_train_from_its_best_config_give_the_same_history(tiny_dataset, tmp_path):
    from pelsvae_tf.cli.train import main as train_main
    from pelsvae_tf.train.config import TrainConfig
    from pelsvae_tf.tuning.hypermodel import PELSVAEHyperModel
    from pelsvae_tf.tuning.report import training_config

    train_base = TrainConfig(
        beta_schedule="linear", beta_warmup_epochs=3, verbose=0, tensorboard=False, save_latents=False
    )
    hm = PELSVAEHyperModel(tiny_model_config(receptive_field_check="error"), seed=2, train_base=train_base)
    model = hm.build_from_values(VALUES)
    trial = hm.fit_values(VALUES, model, tiny_dataset, epochs=EPOCHS, verbose=0).history

    cfg = training_config(hm, VALUES, EPOCHS)
    assert cfg["train"]["beta_schedule"] == "linear" and cfg["train"]["seed"] == 2 and cfg["model"]["seed"] == 0
    path = tmp_path / "best_config.json"
    path.write_text(json.dumps(cfg))
    run_dir = tmp_path / "run"
    assert train_main(["--data", str(tiny_dataset.path), "--out", str(run_dir), "--config", str(path)]) == 0
    with open(run_dir / "history.csv") as fh:
        rows = list(csv.DictReader(fh))

    assert len(rows) == len(trial["val_loss"]) == EPOCHS
    assert [float(r["beta"]) for r in rows] == pytest.approx([0.2, 0.4, 0.6])  # the schedule did act
    for key in ("loss", "recon", "kl", "val_loss", "val_recon", "val_kl"):
        assert [float(r[key]) for r in rows] == pytest.approx([float(v) for v in trial[key]], rel=1e-5), key
