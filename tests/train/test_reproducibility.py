"""Reproducible training (issue 15, item 5): with op determinism (the default) two runs with the
same seed give bit-identical history.csv and weights, and a run interrupted after k epochs and
resumed is bit-identical to the uninterrupted one (batch order, dropout masks, latent samples,
decoder subsets and optimizer state all continue where they stopped)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.fixtures.model import tiny_model_config, tiny_train_config


def _weights(run_dir):
    import keras

    import pelsvae_tf.model.vae  # noqa: F401  (registers the PELSVAE class)

    model = keras.saving.load_model(run_dir / "model.keras", compile=False)
    return [np.asarray(v) for v in model.weights]


def test_repeat_and_resumed_runs_are_bit_identical(tiny_dataset, tmp_path):
    from tensorflow.python.framework import config as tf_config

    from pelsvae_tf.train.trainer import train

    # dropout 0.1, decoder_subsample 0.3 and an exponential LR schedule: every random stream
    # and the optimizer's step count must continue across the resume
    mc = tiny_model_config()
    assert mc.dropout > 0 and mc.decoder_subsample < 1
    tc = tiny_train_config(epochs=2, lr_schedule="exponential", save_latents=False)
    assert tc.deterministic is True  # the default
    train(tiny_dataset.path, tmp_path / "a", mc, tc)
    assert not tf_config.is_op_determinism_enabled()  # the process setting is put back
    train(tiny_dataset.path, tmp_path / "repeat", mc, tc)
    train(tiny_dataset.path, tmp_path / "resumed", mc, tc.replace(epochs=1))  # "interrupted" after 1
    state = json.loads((tmp_path / "resumed" / "checkpoints" / "state.json").read_text())
    assert state["epoch"] == 1 and len(state["seed_states"]) >= 3
    train(tiny_dataset.path, tmp_path / "resumed", mc, tc)  # resumed up to 2

    history = (tmp_path / "a" / "history.csv").read_text()
    assert len(history.strip().splitlines()) == 1 + 2
    w = _weights(tmp_path / "a")
    for other in ("repeat", "resumed"):
        assert (tmp_path / other / "history.csv").read_text() == history, other
        w2 = _weights(tmp_path / other)
        assert len(w2) == len(w) and all(np.array_equal(x, y) for x, y in zip(w, w2)), other


def test_epoch_batches_depend_only_on_seed_and_epoch():
    """The batch stream started at epoch k equals the uninterrupted stream from epoch k on, with
    and without ``steps_per_epoch``; another seed gives another order; each pass is a permutation."""
    import tensorflow as tf

    from pelsvae_tf.train.trainer import epoch_batches

    n, b = 23, 4
    elements = {"x": tf.range(n), "y": tf.range(n) * 10}

    def ids(ds, take):
        return [row["x"].numpy().tolist() for row in ds.take(take)]

    per_epoch = -(-n // b)
    full = ids(epoch_batches(elements, b, 7, 0, 5), 5 * per_epoch)
    assert ids(epoch_batches(elements, b, 7, 2, 5), 3 * per_epoch) == full[2 * per_epoch :]
    assert sorted(sum(full[:per_epoch], [])) == list(range(n))  # one pass = each curve once
    assert full[:per_epoch] != full[per_epoch : 2 * per_epoch]  # reshuffled every epoch
    assert ids(epoch_batches(elements, b, 8, 0, 5), per_epoch) != full[:per_epoch]
    spe = 3
    stream = ids(epoch_batches(elements, b, 7, 0, 9, steps_per_epoch=spe), 9 * spe)
    assert ids(epoch_batches(elements, b, 7, 4, 9, steps_per_epoch=spe), 5 * spe) == stream[4 * spe :]
    assert all(len(batch) == b for batch in stream)  # passes follow each other without a short batch
    dropped = ids(epoch_batches(elements, b, 7, 0, 1, drop_remainder=True), per_epoch)
    assert len(dropped) == n // b


def test_determinism_can_be_turned_off():
    from pelsvae_tf.train.trainer import TrainConfig

    assert TrainConfig().deterministic is True
    assert TrainConfig(deterministic=False).deterministic is False
    with pytest.raises(ValueError, match=r"TrainConfig.deterministic='yes': must be true or false"):
        TrainConfig(deterministic="yes")


def test_cli_no_deterministic_flag():
    import argparse

    from pelsvae_tf.cli.train import _cli_configs, register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="verb"))
    _, t = _cli_configs(parser.parse_args(["train", "--data", "d", "--out", "o", "--no-deterministic"]))
    assert t.deterministic is False
    _, t = _cli_configs(parser.parse_args(["train", "--data", "d", "--out", "o"]))
    assert t.deterministic is True
