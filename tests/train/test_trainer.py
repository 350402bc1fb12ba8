"""Training tests (issue 3): learning, run directory contents, kill + resume, MirroredStrategy,
schedules, CLI config parsing and bad configurations failing before training."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.model import TINY_RUN_TRAIN, tiny_model_config, tiny_run_configs, tiny_train_argv, tiny_train_config

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))


def _history(run_dir):
    with open(Path(run_dir) / "history.csv") as fh:
        return list(csv.DictReader(fh))


def test_tiny_run_learns_and_is_self_describing(tiny_run, tiny_dataset):
    from pelsvae_tf.train.trainer import encode_split, load_run

    rows = _history(tiny_run)
    assert [int(r["epoch"]) for r in rows] == list(range(TINY_RUN_TRAIN["epochs"]))
    val = [float(r["val_loss"]) for r in rows]
    assert val[-1] < val[0], f"validation loss did not fall: {val}"
    for col in ("loss", "recon", "kl", "err_kl", "val_recon", "val_kl", "val_err_kl", "beta", "learning_rate"):
        assert col in rows[0]
    for name in (
        "config.json",
        "physics_scaler.json",
        "model.keras",
        "checkpoints/last.keras",
        "checkpoints/state.json",
        "latents.npz",
    ):
        assert (tiny_run / name).exists(), name
    cfg = json.loads((tiny_run / "config.json").read_text())
    assert set(cfg) >= {"model", "train", "data_dir", "dataset_schema"}
    assert cfg["model"]["physics"] == ["teff", "abs_gmag", "period"]

    run = load_run(tiny_run)
    assert run.classes == tiny_dataset.classes and run.physics == ("teff", "abs_gmag", "period")
    lat = np.load(tiny_run / "latents.npz", allow_pickle=False)
    # latents: real stars having all physics, every split; they equal the reloaded encoder's output
    for split in ("train", "val", "test"):
        a = tiny_dataset.arrays(split)
        n_expected = int((a["is_real"] & tiny_dataset.physics_mask(split, run.physics)).sum())
        assert int((lat["split"] == split).sum()) == n_expected
    again = encode_split(run.model, tiny_dataset, "val")
    np.testing.assert_allclose(lat["z_mean"][lat["split"] == "val"], again["z_mean"], atol=1e-5)
    assert np.isfinite(lat["phys"][:, :3]).all()


def test_training_improves_reconstructions_over_the_untrained_model(tiny_run, tiny_dataset):
    """The trained decoder reproduces validation curves better than the same network untrained."""
    from pelsvae_tf.model import build_pelsvae
    from pelsvae_tf.train import load_run

    run = load_run(tiny_run)
    fresh = build_pelsvae(run.model_config)
    batch = next(iter(tiny_dataset.to_tf("val", batch_size=256, physics=run.physics, shuffle=False)))
    mag = batch["mag"].numpy()
    trained = np.mean((run.model(batch, training=False)["mag"].numpy() - mag) ** 2)
    untrained = np.mean((fresh(batch, training=False)["mag"].numpy() - mag) ** 2)
    assert trained < untrained


def _wait_for_epoch(state_path: Path, epoch: int, proc, timeout=240):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if state_path.exists():
            try:
                if json.loads(state_path.read_text())["epoch"] >= epoch:
                    return True
            except (json.JSONDecodeError, KeyError):
                pass
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def test_killed_run_resumes_without_losing_an_epoch(tiny_dataset, tmp_path):
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "pelsvae_tf.train.trainer",  # the module's own entry point (= `pelsvae train`)
        *tiny_train_argv(
            tiny_dataset.path, out, 60, "--dropout", "0.1", "--verbose", "0", "--lr-schedule", "exponential"
        )[1:],
    ]
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        reached = _wait_for_epoch(out / "checkpoints" / "state.json", 1, proc)
        assert reached, proc.stderr.read().decode()[-3000:] if proc.poll() is not None else "no epoch 1"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    state = json.loads((out / "checkpoints" / "state.json").read_text())
    done = state["epoch"]
    assert 1 <= done < 60
    assert not (out / "model.keras").exists()  # the run was not finished
    target = done + 1
    res = subprocess.run(
        cmd[: cmd.index("--epochs") + 1] + [str(target)] + cmd[cmd.index("--epochs") + 2 :],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    rows = _history(out)
    assert [int(r["epoch"]) for r in rows] == list(range(target))  # every epoch exactly once
    # the optimizer state came back: the exponential schedule kept decaying across the kill
    lrs = [float(r["learning_rate"]) for r in rows]
    assert all(b < a for a, b in zip(lrs, lrs[1:]))
    # training continued from the checkpoint rather than restarting from scratch
    assert float(rows[done]["loss"]) < float(rows[0]["loss"])
    import keras

    from pelsvae_tf.train import load_run

    run = load_run(out)
    steps = -(-int(tiny_dataset.physics_mask("train", run.physics).sum()) // 32)
    ck = keras.saving.load_model(out / "checkpoints" / "last.keras")
    assert int(ck.optimizer.iterations.numpy()) == target * steps


def test_training_under_mirrored_strategy_on_two_cpus(tiny_dataset, tmp_path):
    script = textwrap.dedent(
        f"""
        import json, sys
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from tests.fixtures.model import tiny_model_config, tiny_train_config
        from pelsvae_tf.train.trainer import make_strategy, train
        n = make_strategy("mirrored").num_replicas_in_sync
        run = train({str(tiny_dataset.path)!r}, {str(tmp_path / "run")!r}, tiny_model_config(),
                    tiny_train_config(epochs=2, strategy="mirrored"))
        print(json.dumps({{"replicas": n, "history": run.history}}))
        """
    )
    res = subprocess.run([sys.executable, "-c", script], env=ENV, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    info = json.loads(res.stdout.strip().splitlines()[-1])
    assert info["replicas"] == 2
    h = info["history"]
    assert len(h) == 2 and all(np.isfinite(r["loss"]) for r in h)
    assert h[1]["loss"] < h[0]["loss"]
    assert (tmp_path / "run" / "model.keras").exists()


def test_physics_missing_in_dataset_fails_before_training(tiny_dataset, tmp_path):
    from pelsvae_tf.data.dataset import write_prepared
    from pelsvae_tf.train.trainer import train

    splits = {s: dict(tiny_dataset.arrays(s)) for s in ("train", "val", "test")}
    for s in splits:
        phys = splits[s]["phys"].copy()
        phys[:, 0] = np.nan  # no star has Teff
        splits[s]["phys"] = phys
    data = tmp_path / "no_teff"
    write_prepared(data, splits, {"source": "test: teff removed"}, None, shard_size=512)
    out = tmp_path / "run"
    with pytest.raises(ValueError, match="teff"):
        train(data, out, tiny_model_config(), tiny_train_config())
    assert not (out / "checkpoints").exists() and not (out / "model.keras").exists()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"epochs": 0}, "epochs"),
        ({"lr_schedule": "step"}, "lr_schedule"),
        ({"strategy": "tpu"}, "strategy"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"beta_schedule": "sigmoid"}, "beta_schedule"),
    ],
)
def test_bad_train_configs_fail_with_field_name(changes, field):
    with pytest.raises(ValueError, match=f"TrainConfig.{field}"):
        tiny_train_config(**changes)


def test_beta_schedules():
    from pelsvae_tf.train.callbacks import beta_at_epoch

    assert [beta_at_epoch(e, 0.8, "constant") for e in range(3)] == [0.8] * 3
    lin = [beta_at_epoch(e, 0.8, "linear", 4) for e in range(6)]
    np.testing.assert_allclose(lin, [0.2, 0.4, 0.6, 0.8, 0.8, 0.8])
    cyc = [beta_at_epoch(e, 1.0, "cyclical", 4) for e in range(8)]
    np.testing.assert_allclose(cyc, [0.5, 1.0, 1.0, 1.0, 0.5, 1.0, 1.0, 1.0])


def test_lr_schedules_decay_as_configured():
    from pelsvae_tf.train.trainer import TrainConfig, _learning_rate

    exp = _learning_rate(TrainConfig(learning_rate=1e-3, lr_schedule="exponential", lr_decay_rate=0.5), 10)
    assert float(exp(10)) == pytest.approx(5e-4) and float(exp(20)) == pytest.approx(2.5e-4)
    cos = _learning_rate(TrainConfig(learning_rate=1e-3, lr_schedule="cosine", epochs=4, lr_min_factor=0.1), 10)
    assert float(cos(0)) == pytest.approx(1e-3) and float(cos(40)) == pytest.approx(1e-4)
    assert _learning_rate(TrainConfig(learning_rate=2e-3), 10) == 2e-3


def test_cli_config_file_and_flag_precedence(tmp_path):
    import argparse

    from pelsvae_tf.cli.train import _cli_configs, register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="verb"))
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"model": {"arch": "gru", "latent_dim": 6}, "train": {"epochs": 7}}))
    args = parser.parse_args(
        [
            "train",
            "--data",
            "d",
            "--out",
            "o",
            "--config",
            str(cfg),
            "--latent-dim",
            "8",
            "--physics",
            "teff,period",
            "--seed",
            "5",
        ]
    )
    m, t = _cli_configs(args)
    assert (m.arch, m.latent_dim, m.physics, m.seed) == ("gru", 8, ("teff", "period"), 5)
    assert (t.epochs, t.seed) == (7, 5)
    cfg.write_text(json.dumps({"modle": {}}))
    with pytest.raises(ValueError, match="modle"):
        _cli_configs(parser.parse_args(["train", "--data", "d", "--out", "o", "--config", str(cfg)]))


def test_cli_bad_config_exits_with_one_line_error(tiny_dataset, tmp_path, capsys):
    from pelsvae_tf.train.trainer import main

    rc = main(["--data", str(tiny_dataset.path), "--out", str(tmp_path / "r"), "--latent-dim", "0"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "ModelConfig.latent_dim" in err and "Traceback" not in err
    assert not (tmp_path / "r" / "checkpoints").exists()


def test_resume_on_a_different_dataset_is_refused_naming_both_paths(tiny_run, tiny_dataset, tmp_path):
    import shutil

    from pelsvae_tf.train.trainer import load_run, train

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    moved = tmp_path / "moved_data"
    shutil.copytree(tiny_dataset.path, moved)
    other = tmp_path / "other_data"
    shutil.copytree(tiny_dataset.path, other)
    schema = json.loads((other / "schema.json").read_text())
    schema["prepare_fingerprint"]["catalog_sha256"] = "0" * 64  # prepared from another catalogue
    (other / "schema.json").write_text(json.dumps(schema))
    saved_data = json.loads((run / "config.json").read_text())["data_dir"]
    before = (run / "checkpoints" / "state.json").read_text()
    with pytest.raises(ValueError) as info:
        train(other, run, *tiny_run_configs())
    msg = str(info.value)
    assert f"trained on the prepared dataset {saved_data}" in msg
    assert f"--data {other.resolve()} is a different dataset" in msg
    assert "catalogue content changed" in msg and "new --out" in msg
    assert (run / "checkpoints" / "state.json").read_text() == before  # nothing touched
    assert json.loads((run / "config.json").read_text())["data_dir"] == saved_data
    # the same dataset moved elsewhere (same fingerprint) resumes; the finished run is kept
    done = train(moved, run, *tiny_run_configs(save_latents=False))
    assert len(done.history) == len(load_run(tiny_run).history) == TINY_RUN_TRAIN["epochs"]


def test_cosine_schedule_runs_inside_fit_and_tensorboard_logs_are_written(tiny_dataset, tmp_path):
    """The learning rate logged per epoch follows the cosine schedule of the optimizer steps taken,
    down to lr_min_factor x lr at the last epoch; TensorBoard event files are written."""
    from pelsvae_tf.train.trainer import _learning_rate, train

    tc = tiny_train_config(
        epochs=3,
        steps_per_epoch=3,
        lr_schedule="cosine",
        lr_min_factor=0.1,
        learning_rate=4e-3,
        tensorboard=True,
        save_latents=False,
    )
    run = train(tiny_dataset.path, tmp_path / "run", tiny_model_config(), tc)
    rows = _history(tmp_path / "run")
    assert len(rows) == 3 and len(run.history) == 3
    schedule = _learning_rate(tc, 3)
    logged = [float(r["learning_rate"]) for r in rows]
    expected = [float(schedule((e + 1) * 3)) for e in range(3)]
    np.testing.assert_allclose(logged, expected, rtol=1e-4)
    assert logged[0] < 4e-3 and logged[-1] == pytest.approx(4e-4, rel=1e-4)
    events = list((tmp_path / "run" / "logs").rglob("events.out.tfevents.*"))
    assert events and all(p.stat().st_size > 0 for p in events)


def test_plateau_and_early_stopping_counters_survive_a_resume():
    """An interrupted run resumes the plateau / early-stopping counters where it stopped: the
    resumed callbacks reduce the LR and stop on the same epoch as an uninterrupted run would."""
    import keras

    from pelsvae_tf.train.callbacks import ResumableEarlyStopping, ResumableReduceLROnPlateau

    losses = [1.0, 0.9, 0.95, 0.97, 0.99, 0.98]  # best at epoch 1, then no improvement

    def start(lr=1e-3, states=None):
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.Adam(lr), loss="mse")
        cbs = [
            ResumableReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, verbose=0),
            ResumableEarlyStopping(monitor="val_loss", patience=3, verbose=0),
        ]
        for i, cb in enumerate(cbs):
            cb.set_model(model)
            if states is not None:
                cb.restore(states[i])
            cb.on_train_begin()
        return model, cbs

    def run(model, cbs, epochs):
        """Feed ``epochs`` to the callbacks; returns (LR after each epoch, last epoch run)."""
        lrs = []
        for e in epochs:
            for cb in cbs:
                cb.on_epoch_end(e, {"val_loss": losses[e]})
            lrs.append(float(model.optimizer.learning_rate.numpy()))
            if model.stop_training:
                break
        return lrs, e

    lr_full, stopped_full = run(*start(), range(len(losses)))
    model, cbs = start()
    lr_first, _ = run(model, cbs, range(3))  # interrupted after epoch 2
    states = [cb.state() for cb in cbs]
    assert states[0]["wait"] == 1 and states[1]["wait"] == 1 and states[1]["best"] == pytest.approx(0.9)
    # resumed in a fresh model and fresh callbacks (the LR itself is optimizer state)
    lr_rest, stopped = run(*start(lr=lr_first[-1], states=states), range(3, len(losses)))
    assert stopped == stopped_full == 4  # early stopping after 3 epochs without improvement
    assert lr_first + lr_rest == pytest.approx(lr_full) and lr_full[-1] == pytest.approx(5e-4)
