"""The main job, ``pelsvae run``: built-in sky -> prepare -> train -> regress -> evaluate -> export.

Every stage writes into one output folder and is skipped when its result is already complete,
so an interrupted run resumes where it stopped (training itself resumes from its last epoch
checkpoint). The defaults are sized to finish in about 10 minutes on two CPU cores (9 min 38 s
measured, README "What the quick main job reaches"); the flags
scale it up to the paper's setting (``--preset paper``: 300-point curves, augmentation to the
paper's class targets, 150 epochs; days on a CPU, meant for GPUs / ``--strategy mirrored``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path

from pelsvae_tf.cli.main import stdout_is_tty
from pelsvae_tf.data import PrepareConfig
from pelsvae_tf.data.prepare import prepare  # the module's name is the function's: import it from there
from pelsvae_tf.evaluate import evaluate
from pelsvae_tf.model import ModelConfig
from pelsvae_tf.pipeline_config import PRESETS, PipelineConfig  # noqa: F401  (re-exported: 0.1 names)
from pelsvae_tf.regress import fit_regressors
from pelsvae_tf.rundir import RunDir
from pelsvae_tf.serve import export_run
from pelsvae_tf.sky import SkyConfig, build_sky
from pelsvae_tf.textio import write_json
from pelsvae_tf.train import TrainConfig, train

log = logging.getLogger("pelsvae_tf.pipeline")


def run_pipeline(config: PipelineConfig) -> dict:
    """Run every stage of the main job; returns a dict of the output paths (strings).

    Stages already complete in ``config.out`` are skipped, so re-running resumes.
    """
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    _check_same_job(out, config)
    config.save(out / "pipeline.json")
    r = config.resolved()
    paths: dict[str, str] = {"out": str(out)}
    t_start = time.perf_counter()

    # 1. built-in sky -------------------------------------------------------------------------
    sky_dir = out / "sky"
    if (sky_dir / "catalog.csv").exists():
        print(f"[1/6] built-in sky: reusing {sky_dir}")
    else:
        print(f"[1/6] built-in sky: {r['n_per_class']} stars per class -> {sky_dir}")
        build_sky(SkyConfig(n_per_class=r["n_per_class"], seed=config.seed), sky_dir)
    paths["sky"] = str(sky_dir)

    # 2. prepare ------------------------------------------------------------------------------
    data_dir = out / "data"
    if (data_dir / "schema.json").exists():
        print(f"[2/6] prepare: reusing {data_dir}")
    else:
        print(f"[2/6] prepare: clean, fold, split, augment -> {data_dir}")
        prepare(
            sky_dir / "photometry",
            sky_dir / "catalog.csv",
            data_dir,
            PrepareConfig(
                seq_len=config.seq_len,
                aug_scale=r["aug_scale"],
                seed=config.seed,
                physics_imputation=r["physics_imputation"],
            ),
        )
    paths["data"] = str(data_dir)

    # 3. train --------------------------------------------------------------------------------
    run_dir = out / "run"
    run = RunDir(run_dir)
    model_config = ModelConfig(
        arch=config.arch,
        hidden=r["hidden"],
        n_blocks=r["n_blocks"],
        kernel_size=r["kernel_size"],
        latent_dim=config.latent_dim,
        dropout=r["dropout"],
        time_encoding=r["time_encoding"],
        loss=r["loss"],
        physics=tuple(config.physics),
        seq_len=config.seq_len,
        seed=config.seed,
    )
    train_config = TrainConfig(
        epochs=r["epochs"],
        batch_size=r["batch_size"],
        learning_rate=r["learning_rate"],
        lr_schedule=r["lr_schedule"],
        seed=config.seed,
        strategy=config.strategy,
        deterministic=config.deterministic,
        # a progress bar redrawn into a log file or pipe writes megabytes: one line per epoch
        verbose=1 if stdout_is_tty() else 2,
    )
    if run.model_path.exists() and run.latents_path.exists():
        print(f"[3/6] train: reusing {run_dir}")
    else:
        print(
            f"[3/6] train: {config.arch.upper()} cVAE{'-P' if config.physics else ''}, "
            f"{r['epochs']} epochs -> {run_dir}"
        )
        train(data_dir, run_dir, model_config, train_config)
    paths["run"] = str(run_dir)

    # 4. regress ------------------------------------------------------------------------------
    if config.regressors:
        if (run.regressors_dir / "table3.csv").exists():
            print(f"[4/6] regress: reusing {run.regressors_dir}")
        else:
            print(f"[4/6] regress: {', '.join(config.regressors)} physics -> latent")
            fit_regressors(run_dir, kinds=tuple(config.regressors))
        paths["regressors"] = str(run.regressors_dir)
    else:
        print("[4/6] regress: skipped (no regressors requested)")

    # 5. evaluate -----------------------------------------------------------------------------
    if config.evaluate:
        report_dir = run.report_dir
        if (report_dir / "metrics.json").exists():
            print(f"[5/6] evaluate: reusing {report_dir}")
        else:
            print(f"[5/6] evaluate: figures, metrics.json and report.md -> {report_dir}")
            evaluate(run_dir, report_dir)
        paths["report"] = str(report_dir)
    else:
        print("[5/6] evaluate: skipped")

    # 6. export -------------------------------------------------------------------------------
    if config.export:
        sm_dir = out / "saved_models"
        if (sm_dir / "models.config").exists():
            print(f"[6/6] export: reusing {sm_dir}")
        else:
            print(f"[6/6] export: TF Serving SavedModels -> {sm_dir}")
            export_run(run_dir, sm_dir)
        paths["saved_models"] = str(sm_dir)
    else:
        print("[6/6] export: skipped")

    minutes = (time.perf_counter() - t_start) / 60.0
    write_json(out / "outputs.json", paths, indent=2)
    print(f"\nDone in {minutes:.1f} min. Outputs:")
    width = max(len(k) for k in paths)
    for k, v in paths.items():
        print(f"  {k:<{width}}  {v}")
    if "report" in paths:
        print(f"Open {Path(paths['report']) / 'report.md'} for the figures and metrics.")
    return paths


#: settings that may change between a run and its resumption (they change no finished stage)
_RESUMABLE_FIELDS = ("out", "evaluate", "export", "strategy", "deterministic")


def _check_same_job(out: Path, config: PipelineConfig) -> None:
    """Refuse to resume ``out`` with settings that would make its finished stages stale.

    The old job's preset values are what its ``run/config.json`` records when it has trained
    (an unset field of an older ``pipeline.json`` would otherwise resolve to today's preset
    defaults, e.g. a 40-epoch paper-loss job to 80 epochs with the elbo loss, and pass).

    Raises ``ValueError`` naming each changed setting (old -> new) and the fix (a new ``--out``).
    """
    path = out / "pipeline.json"
    if not path.exists():
        return
    old = PipelineConfig.load(path)
    old_r, new_r = old.resolved(), config.resolved()
    run = RunDir(out / "run")
    if run.exists():
        try:
            trained = run.config
        except (OSError, ValueError) as e:
            raise ValueError(f"{run.config_path} is unreadable ({e}); use a new --out (or delete {out})") from e
        recorded = {**trained.get("train", {}), **trained.get("model", {})}
        old_r.update({k: recorded[k] for k in old_r if k in recorded})
    schema_path = out / "data" / "schema.json"
    if schema_path.exists():
        try:
            prepared = json.loads(schema_path.read_text()).get("prepare_config", {})
        except (OSError, ValueError) as e:
            raise ValueError(f"{schema_path} is unreadable ({e}); use a new --out (or delete {out})") from e
        # data prepared before the option existed kept the paper's behaviour
        old_r["physics_imputation"] = prepared.get("physics_imputation", "none")
    changed = []
    for f in dataclasses.fields(PipelineConfig):
        if f.name in _RESUMABLE_FIELDS:
            continue
        a, b = getattr(old, f.name), getattr(config, f.name)
        if a != b and old_r.get(f.name, a) != new_r.get(f.name, b):
            changed.append(f"{f.name}: {old_r.get(f.name, a)!r} -> {new_r.get(f.name, b)!r}")
    for k in old_r:
        if old_r[k] != new_r[k] and not any(c.startswith(k + ":") for c in changed):
            changed.append(f"{k}: {old_r[k]!r} -> {new_r[k]!r}")
    if changed:
        raise ValueError(
            f"{out} holds a job made with other settings ({'; '.join(changed)}); its finished stages "
            f"would be stale. Use a new --out (or delete {out}) to run with these settings"
            + (
                "; a job prepared before physics imputation existed resumes with --physics-imputation none."
                if any(c.startswith("physics_imputation:") for c in changed)
                else "."
            )
        )
