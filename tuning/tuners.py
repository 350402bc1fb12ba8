"""Run a KerasTuner search of PELS-VAE hyperparameters, locally or as chief/worker processes.

:func:`make_tuner` builds a ``BayesianOptimization`` (default), ``RandomSearch`` or
``Hyperband`` tuner around :class:`pelsvae_tf.tuning.hypermodel.PELSVAEHyperModel`, minimising the
validation loss (``val_loss``). Results live in ``OUT/search/`` (KerasTuner's project
directory) and are resumable: a second call with the same ``OUT`` continues the search
(``overwrite=False``); a trial interrupted mid-way is run again.

Distributed tuning uses KerasTuner's own protocol: set ``KERASTUNER_TUNER_ID`` (``chief`` for
the process that hosts the oracle, ``tuner0``, ``tuner1``, ... for workers),
``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT`` in every process and run the same
:func:`tune` call (or ``pelsvae tune``) in each. Workers train trials; the chief hands them out
and, when all are done, writes the report. See ``docs/TUNING.md``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import keras_tuner as kt
from keras_tuner.src import protos
from keras_tuner.src.distribute.oracle_chief import OracleServicer, exit_chief

from pelsvae_tf.atomic import atomic_write_text
from pelsvae_tf.data import PreparedDataset
from pelsvae_tf.model import ModelConfig
from pelsvae_tf.train import check_dataset_compatibility
from pelsvae_tf.train import make_strategy as _make_train_strategy
from pelsvae_tf.tuning.config import PROJECT_NAME, STRATEGIES, TUNERS, TuneConfig  # noqa: F401  (re-exported)
from pelsvae_tf.tuning.hypermodel import PELSVAEHyperModel
from pelsvae_tf.tuning.report import load_trials, paper_baseline, write_report
from pelsvae_tf.tuning.search_space import PAPER_BEST, SearchSpace  # noqa: F401  (re-exported)


def distributed_role() -> str:
    """ "chief", "worker" or "local", from the KERASTUNER_* environment variables."""
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return "local"
    missing = [v for v in ("KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID") if v not in os.environ]
    if missing:
        raise ValueError(
            f"distributed tuning: KERASTUNER_ORACLE_IP is set but {', '.join(missing)} is not; "
            "set KERASTUNER_TUNER_ID (chief / tuner0 / tuner1 ...) and KERASTUNER_ORACLE_PORT in every process"
        )
    return "chief" if "chief" in os.environ["KERASTUNER_TUNER_ID"] else "worker"


def make_strategy(name: str):
    """The ``tf.distribute`` strategy named ``name`` for training inside trials.

    None for "default" (KerasTuner then opens no strategy scope); otherwise
    :func:`pelsvae_tf.train.strategy.make_strategy` ("mirrored": all local devices,
    "multiworker": the ``TF_CONFIG`` cluster).
    """
    if name not in STRATEGIES:
        raise ValueError(f"strategy={name!r}: use one of {STRATEGIES}")
    if name == "default":
        return None
    return _make_train_strategy(name)


class _PELSVAETunerMixin:
    """Declares the whole space without building models, and records who ran each trial."""

    def _populate_initial_space(self):
        # Every hyperparameter (conditional ones included) is declared by
        # declare_hyperparameters, so there is no need to build one model per condition.
        if self.hypermodel is None:
            return
        hp = self.oracle.get_space()
        self.hypermodel.declare_hyperparameters(hp)
        self.oracle.update_space(hp)

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        record = Path(self.project_dir) / "tuners" / f"{self.tuner_id}.json"
        ran = json.loads(record.read_text()) if record.exists() else []
        ran.append({"trial_id": trial.trial_id, "status": trial.status, "pid": os.getpid()})
        atomic_write_text(record, json.dumps(ran, indent=1) + "\n")


class BayesianTuner(_PELSVAETunerMixin, kt.BayesianOptimization):
    """KerasTuner Bayesian optimisation (GP, UCB acquisition) over the PELS-VAE space."""


class RandomTuner(_PELSVAETunerMixin, kt.RandomSearch):
    """KerasTuner random search over the PELS-VAE space."""


class HyperbandTuner(_PELSVAETunerMixin, kt.Hyperband):
    """KerasTuner Hyperband over the PELS-VAE space (epochs are the budget)."""


#: ``TuneConfig.tuner`` -> tuner class
TUNER_CLASSES = {"bayesian": BayesianTuner, "random": RandomTuner, "hyperband": HyperbandTuner}


def serve_oracle(tuner, poll_s: float = 1.0, timeout_s: float | None = None) -> None:
    """Chief: serve ``tuner``'s oracle to the workers over gRPC until the search is over.

    The same protocol as KerasTuner's own chief (``keras_tuner`` ``oracle_chief``: its
    ``OracleServicer`` on ``KERASTUNER_ORACLE_IP:KERASTUNER_ORACLE_PORT``), but the end of the
    search is polled every ``poll_s`` seconds instead of every 20 s and the server is stopped
    cleanly. Returns when a worker has been told to stop and no trial or worker is still
    active; raises ``TimeoutError`` after ``timeout_s`` seconds (None = wait forever).
    """
    address = f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"
    tuner.save()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = OracleServicer(tuner.oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    if server.add_insecure_port(address) == 0:
        raise ValueError(
            f"distributed tuning: cannot listen on {address} (KERASTUNER_ORACLE_IP/PORT); "
            "is the port already used by another chief?"
        )
    server.start()
    start = time.monotonic()
    try:
        while not (servicer.stop_triggered and exit_chief(tuner.oracle)):
            if timeout_s is not None and time.monotonic() - start > timeout_s:
                raise TimeoutError(f"chief: search not finished after {timeout_s} s")
            time.sleep(poll_s)
    finally:
        server.stop(grace=2.0)
    tuner.save()


def make_tuner(hypermodel, config: TuneConfig, directory: str | Path, overwrite: bool = False, strategy=None):
    """Build the KerasTuner tuner of ``config.tuner`` writing to ``directory/search``.

    ``overwrite=False`` reloads an existing search (resume). ``strategy`` (a
    ``tf.distribute.Strategy`` or None) wraps model building and training of every trial.
    """
    cls = TUNER_CLASSES[config.tuner]
    common = dict(
        hypermodel=hypermodel,
        objective=kt.Objective(config.objective, direction="min"),
        # KerasTuner treats seed=0 as "no seed" (`seed or random.randint(...)`), so the oracle
        # gets seed + 1: every seed, 0 included, gives a reproducible sequence of trials.
        seed=config.seed + 1,
        max_consecutive_failed_trials=config.max_consecutive_failed_trials,
        executions_per_trial=config.executions_per_trial,
        directory=str(directory),
        project_name=PROJECT_NAME,
        overwrite=overwrite,
        distribution_strategy=strategy,
    )
    if config.tuner == "bayesian":
        return cls(max_trials=config.max_trials, num_initial_points=config.num_initial_points, **common)
    if config.tuner == "random":
        return cls(max_trials=config.max_trials, **common)
    return cls(
        max_epochs=config.epochs,
        factor=config.hyperband_factor,
        hyperband_iterations=config.hyperband_iterations,
        **common,
    )


@dataclass
class TuneResult:
    """What :func:`tune` produced.

    Attributes:
        role: "local", "chief" or "worker".
        out_dir: the output directory.
        best_config_path: ``OUT/best_config.json`` (None on workers).
        best_values: the best trial's hyperparameter values (None on workers).
        best_val_loss: its validation loss (None on workers).
        report_paths: files written by the report (empty on workers).
        trials_run: trial IDs this process trained.
    """

    role: str
    out_dir: Path
    best_config_path: Path | None = None
    best_values: dict[str, Any] | None = None
    best_val_loss: float | None = None
    report_paths: dict[str, Path] = field(default_factory=dict)
    trials_run: list[str] = field(default_factory=list)


def _check_resume(out_dir: Path, payload: dict, overwrite: bool) -> None:
    """Refuse to resume a search whose space / model base differs from this call's."""
    path = out_dir / "tune_setup.json"
    if path.exists() and not overwrite:
        old = json.loads(path.read_text())
        for key in ("search_space", "base_model", "data_dir", "tuner"):
            if old.get(key) != payload.get(key):
                raise ValueError(
                    f"{out_dir}: an existing search was started with a different {key} "
                    f"({old.get(key)!r} != {payload.get(key)!r}); pass overwrite=True (--overwrite) "
                    "to start again or choose another output directory"
                )
    atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def tune(
    data_dir: str | Path,
    out_dir: str | Path,
    config: TuneConfig | None = None,
    space: SearchSpace | None = None,
    base_model=None,
    overwrite: bool = False,
    base_train=None,
) -> TuneResult:
    """Search PELS-VAE hyperparameters on the prepared dataset ``data_dir``.

    Args:
        data_dir: a ``pelsvae-prepared`` dataset directory (train and val splits are used).
        out_dir: output directory: ``search/`` (KerasTuner project, resumable),
            ``tune_setup.json``, and on the chief / a local run the report (``trials.csv``,
            ``trials.md``, ``val_loss_per_trial.png``, ``summary.md``, ``best_config.json``,
            ``best_hyperparameters.json``, ``paper_baseline.json``).
        config: :class:`TuneConfig` (defaults: Bayesian, 10 trials, 10 epochs).
        space: :class:`SearchSpace` (default: the paper's Table 2).
        base_model: :class:`pelsvae_tf.model.vae.ModelConfig` every trial starts from; default:
            the paper's best model at the dataset's ``seq_len`` and class count, with the TCN
            receptive-field check set to "warn" so the paper's whole grid is searchable.
        overwrite: start again, deleting a previous search in ``out_dir``.
        base_train: :class:`~pelsvae_tf.train.TrainConfig` every trial starts from (beta
            schedule, early stopping, ...; see :class:`PELSVAEHyperModel`); default ``TrainConfig()``.

    Returns:
        a :class:`TuneResult`.
    """
    config = config or TuneConfig()
    space = space or SearchSpace.paper()
    data_dir = Path(data_dir)
    out_dir = Path(out_dir)
    if not (data_dir / "schema.json").exists():
        raise FileNotFoundError(
            f"--data {data_dir}: no prepared dataset there (schema.json missing); run `pelsvae prepare` first"
        )
    dataset = PreparedDataset(data_dir)
    if base_model is None:
        base_model = ModelConfig(
            seq_len=int(dataset.seq_len),
            n_classes=len(dataset.classes),
            receptive_field_check="warn",
            seed=config.seed,
        )
    # Same checks as `pelsvae train` (physics present, splits non-empty), before any trial.
    base_model = check_dataset_compatibility(base_model, dataset)
    role = distributed_role()
    out_dir.mkdir(parents=True, exist_ok=True)
    setup = {
        "search_space": space.to_dict(),
        "base_model": base_model.to_dict(),
        "data_dir": str(data_dir.resolve()),
        "tuner": config.tuner,
        "tune_config": config.to_dict(),
        "base_train": base_train.to_dict() if base_train is not None else None,
    }
    if role != "worker":
        _check_resume(out_dir, setup, overwrite)

    hypermodel = PELSVAEHyperModel(base_model, space, seed=config.seed, train_base=base_train)
    # The chief only serves the oracle: it needs no strategy (a multi-worker one would try to
    # join the TF_CONFIG cluster).
    strategy = make_strategy(config.strategy) if role != "chief" else None
    tuner = make_tuner(hypermodel, config, out_dir, overwrite=overwrite and role != "worker", strategy=strategy)
    budget = (
        f"brackets up to {config.epochs} epochs"
        if config.tuner == "hyperband"
        else f"{config.max_trials} trials x {config.epochs} epochs"
    )
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    training = (
        f"training strategy {config.strategy} ({replicas} replicas)" if role != "chief" else "no training on the chief"
    )
    print(
        f"pelsvae tune [{role}, tuner id {tuner.tuner_id}]: {config.tuner} search, {budget}, {training} -> {out_dir}",
        file=sys.stderr,
    )
    if role == "chief":
        tuner.oracle.verbose = config.verbose
        serve_oracle(tuner)
    else:
        try:
            tuner.search(dataset, epochs=config.epochs, verbose=config.verbose)
        except RuntimeError as exc:
            if "consecutive failures" not in str(exc):
                raise
            raise ValueError(_consecutive_failures_message(tuner.project_dir, config)) from None

    record = Path(tuner.project_dir) / "tuners" / f"{tuner.tuner_id}.json"
    trials_run = [r["trial_id"] for r in json.loads(record.read_text())] if record.exists() else []
    result = TuneResult(role=role, out_dir=out_dir, trials_run=trials_run)
    if role == "worker":
        return result

    baseline = None
    if config.paper_baseline:
        baseline = paper_baseline(
            hypermodel, dataset, out_dir, epochs=config.epochs, strategy=strategy, verbose=config.verbose
        )
    paths = write_report(out_dir, hypermodel, config, baseline=baseline)
    best = json.loads(paths["best_hyperparameters"].read_text())
    result.best_config_path = paths["best_config"]
    result.best_values = best["values"]
    result.best_val_loss = best["val_loss"]
    result.report_paths = paths
    return result


def _consecutive_failures_message(project_dir, config: "TuneConfig") -> str:
    """A one-paragraph error for a search stopped by KerasTuner's consecutive-failure limit."""
    reason = ""
    try:
        trials = load_trials(project_dir)
        failed = trials[trials["status"] == "FAILED"]
        if len(failed) and "message" in failed:
            reason = f" The last failure: {str(failed['message'].iloc[-1]).strip()}"
    except Exception:  # the report is a courtesy here; the search state stays on disk either way
        pass
    return (
        f"the search stopped after {config.max_consecutive_failed_trials} failed trials in a row "
        f"(--max-consecutive-failed-trials).{reason} Fix the search space or base config (e.g. "
        f"--receptive-field-check warn, or TCN blocks whose receptive field covers the curve), then "
        f"rerun the same command to continue: completed trials are kept."
    )


__all__ = [
    "TUNERS",
    "STRATEGIES",
    "TuneConfig",
    "TuneResult",
    "distributed_role",
    "make_strategy",
    "make_tuner",
    "serve_oracle",
    "tune",
    "PAPER_BEST",
]
