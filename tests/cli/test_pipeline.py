"""The main job (``pelsvae run``) end to end at toy size, its resume (then with the evaluation report),
and the CLI's error path."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from pelsvae_tf.pipeline import PipelineConfig, run_pipeline


def _tiny(out) -> PipelineConfig:
    return PipelineConfig(
        out=str(out),
        n_per_class=14,
        seq_len=64,
        epochs=2,
        hidden=8,
        n_blocks=3,
        kernel_size=7,
        aug_scale=0.02,
        regressors=("linear",),
        evaluate=False,
        export=False,
        seed=3,
    )


def test_presets_resolve_and_ship_decays_the_learning_rate(tmp_path, monkeypatch):
    from pelsvae_tf.pipeline_config import PRESET_DEFAULTS, PRESETS

    assert set(PRESET_DEFAULTS) == set(PRESETS)
    quick, ship = PipelineConfig().resolved(), PipelineConfig(preset="ship").resolved()
    # ship = the quick network twice as wide (TCN 6 x 32) on 3x the stars, 5x the epochs, with a
    # cosine learning-rate decay
    same = ("n_blocks", "kernel_size", "batch_size", "learning_rate", "loss", "time_encoding", "aug_scale")
    assert all(ship[k] == quick[k] for k in same)
    assert (quick["hidden"], ship["hidden"]) == (16, 32)
    assert (ship["n_per_class"], ship["epochs"], ship["lr_schedule"]) == (300, 400, "cosine")
    assert quick["lr_schedule"] == "none" and PipelineConfig(preset="paper").resolved()["hidden"] == 48
    # missing Teff / abs G imputed from the colour, except in the paper preset (stars dropped)
    assert quick["physics_imputation"] == ship["physics_imputation"] == "colour"
    assert PipelineConfig(preset="paper").resolved()["physics_imputation"] == "none"
    assert PipelineConfig(preset="ship", epochs=7).resolved()["epochs"] == 7  # explicit settings win
    with pytest.raises(ValueError, match="preset"):
        PipelineConfig(preset="huge")
    with pytest.raises(ValueError, match=r"PipelineConfig\.epochs=0"):
        PipelineConfig(epochs=0)
    # the preset reaches the stages (sky size, trainer's epochs and schedule), without training
    import pelsvae_tf.pipeline as P

    seen = {}

    class Stop(Exception):
        pass

    def fake_train(data_dir, run_dir, model_config, train_config):
        seen["model"], seen["train"] = model_config, train_config
        raise Stop

    monkeypatch.setattr(P, "build_sky", lambda config, out_dir: seen.setdefault("sky", config))
    monkeypatch.setattr(P, "prepare", lambda *a, **k: seen.setdefault("prepare", a[-1]))
    monkeypatch.setattr(P, "train", fake_train)
    with pytest.raises(Stop):
        P.run_pipeline(PipelineConfig(out=str(tmp_path / "ship"), preset="ship"))
    assert seen["sky"].n_per_class == 300 and seen["prepare"].aug_scale == quick["aug_scale"]
    assert seen["prepare"].physics_imputation == "colour"
    assert (seen["train"].epochs, seen["train"].lr_schedule) == (400, "cosine")
    assert (seen["model"].hidden, seen["model"].n_blocks, seen["model"].loss) == (32, 6, "elbo")


def test_pipeline_runs_every_stage_and_resumes(tmp_path, capsys):
    out = tmp_path / "job"
    paths = run_pipeline(_tiny(out))
    printed = capsys.readouterr().out
    # every stage ran and the final lines say where the outputs are
    for stage in ("[1/6] built-in sky", "[2/6] prepare", "[3/6] train", "[4/6] regress"):
        assert stage in printed
    assert "Outputs:" in printed and str(out / "run") in printed
    assert json.loads((out / "outputs.json").read_text())["run"] == str(out / "run")
    # the trained model's history is finite and has the requested epochs
    hist = (out / "run" / "history.csv").read_text().strip().splitlines()
    assert len(hist) == 1 + 2
    assert all(np.isfinite(float(v)) for v in hist[-1].split(",")[1:])
    # the quick preset trains with the per-point ELBO weighting of the KL (the paper's eq. 4 on request)
    assert json.loads((out / "run" / "config.json").read_text())["model"]["loss"] == "elbo"
    assert PipelineConfig(preset="paper").resolved()["loss"] == "paper"
    assert PipelineConfig(loss="paper").resolved()["loss"] == "paper"
    # the regressor's out-of-sample table exists
    assert (out / "run" / "regressors" / "table3.csv").exists()
    model_mtime = (out / "run" / "model.keras").stat().st_mtime_ns

    # a second call reuses every finished stage (nothing retrained)
    run_pipeline(_tiny(out))
    again = capsys.readouterr().out
    assert "built-in sky: reusing" in again and "prepare: reusing" in again and "train: reusing" in again
    assert (out / "run" / "model.keras").stat().st_mtime_ns == model_mtime
    assert paths["data"] == str(out / "data")

    # turning the evaluation on resumes the finished job and writes the report (~50 s at this size)
    paths = run_pipeline(_tiny(out).replace(evaluate=True))
    assert "[5/6] evaluate: figures, metrics.json and report.md" in capsys.readouterr().out
    report = out / "run" / "report"
    assert paths["report"] == str(report)
    m = json.loads((report / "metrics.json").read_text())
    for section in (
        "reconstruction",
        "latents",
        "generation",
        "period_recovery",
        "distribution_match",
        "tstr",
        "table3",
        "physics_recovery",
        "figures",
        "stage_seconds",
    ):
        assert m.get(section), section
    assert m["reconstruction"]["n_stars"] > 0 and "baseline_flat" in m["reconstruction"]
    assert set(m["distribution_match"]) <= set(m["classes"]) and m["tstr"]["n_test"] > 0
    for name in list(m["figures"].values()) + [m["physics_recovery"]["figure"], "report.md"]:
        assert (report / name).stat().st_size > 0, name

    # resuming with settings that would make finished stages stale is refused, naming them
    with pytest.raises(ValueError, match=r"epochs: 2 -> 5"):
        run_pipeline(_tiny(out).replace(epochs=5))
    # a job from before the loss setting existed (pipeline.json without it, trained with eq. 4)
    # is not taken for one of today's elbo default: what run/config.json records counts
    cfg_path = out / "run" / "config.json"
    trained = json.loads(cfg_path.read_text())
    old_pipeline = json.loads((out / "pipeline.json").read_text())
    trained["model"]["loss"] = "paper"
    cfg_path.write_text(json.dumps(trained))
    with pytest.raises(ValueError, match=r"loss: 'paper' -> 'elbo'"):
        run_pipeline(_tiny(out))
    assert json.loads((out / "pipeline.json").read_text()) == old_pipeline  # nothing overwritten
    trained["model"]["loss"] = "elbo"
    cfg_path.write_text(json.dumps(trained))
    # data prepared before physics imputation existed (schema without it) kept the paper's
    # behaviour: not taken for today's imputed default
    schema_path = out / "data" / "schema.json"
    schema = json.loads(schema_path.read_text())
    assert schema["prepare_config"]["physics_imputation"] == "colour"
    del schema["prepare_config"]["physics_imputation"]
    schema_path.write_text(json.dumps(schema))
    with pytest.raises(ValueError, match=r"physics_imputation: 'none' -> 'colour'"):
        run_pipeline(_tiny(out))


def test_pipeline_config_rejects_bad_values():
    with pytest.raises(ValueError, match="preset"):
        PipelineConfig(preset="huge")
    with pytest.raises(ValueError, match=r"PipelineConfig\.epochs=0"):
        PipelineConfig(epochs=0)
    with pytest.raises(ValueError, match="regressors"):
        PipelineConfig(regressors=("boosted",))
    with pytest.raises(ValueError, match="unknown physical parameter"):
        PipelineConfig(physics=("mass",))
    with pytest.raises(ValueError, match="loss must be one of paper, reference, elbo"):
        PipelineConfig(loss="mse")
    with pytest.raises(ValueError, match="physics_imputation must be one of colour, none"):
        PipelineConfig(physics_imputation="mean")


def test_cli_reports_bad_input_in_one_line(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pelsvae_tf",
            "train",
            "--data",
            str(tmp_path / "missing"),
            "--out",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("pelsvae train: error:") and "Traceback" not in proc.stderr
