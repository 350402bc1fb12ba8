"""``TuneConfig``: settings of one hyperparameter search (TensorFlow-free, so ``pelsvae tune``
generates its options from it), and the name of KerasTuner's project directory."""

from __future__ import annotations

from dataclasses import dataclass

from pelsvae_tf import options
from pelsvae_tf.config import ConfigBase

TUNERS: tuple[str, ...] = ("bayesian", "random", "hyperband")
STRATEGIES: tuple[str, ...] = options.STRATEGIES
PROJECT_NAME = "search"


@dataclass
class TuneConfig(ConfigBase):
    """Settings of one search (everything except the search space and the model base).

    Attributes:
        tuner: "bayesian" (Gaussian-process Bayesian optimisation, the paper's choice),
            "random" or "hyperband".
        max_trials: trials to run (Bayesian / random; Hyperband sizes its own brackets).
        epochs: epochs per trial (Hyperband: the maximum epochs of one model).
        seed: seed of the oracle, the weight initialisation and the data shuffling.
        objective: metric to minimise (``val_loss`` = the training loss, eq. 4 by default, on the validation split).
        num_initial_points: random trials before the Gaussian process is used (Bayesian;
            None = KerasTuner's default, 3 x number of hyperparameters).
        hyperband_factor: Hyperband reduction factor.
        hyperband_iterations: Hyperband iterations.
        executions_per_trial: trainings averaged per trial.
        max_consecutive_failed_trials: stop after this many failed trials in a row (a failed
            trial = diverged loss or an invalid architecture).
        strategy: tf.distribute strategy used inside each trial ("default", "mirrored",
            "multiworker").
        paper_baseline: also train the paper's best configuration once, with the same epochs
            and data, and report its validation loss beside the search's best.
        final_epochs: epochs written into ``best_config.json`` (None = ``epochs``, which
            reproduces the best trial exactly; more epochs for the final training run).
        verbose: Keras progress-bar verbosity inside trials (0, 1, 2).
    """

    tuner: str = "bayesian"
    max_trials: int = 10
    epochs: int = 10
    seed: int = 0
    objective: str = "val_loss"
    num_initial_points: int | None = None
    hyperband_factor: int = 3
    hyperband_iterations: int = 1
    executions_per_trial: int = 1
    max_consecutive_failed_trials: int = 3
    strategy: str = "default"
    paper_baseline: bool = True
    final_epochs: int | None = None
    verbose: int = 1

    def __post_init__(self) -> None:
        if self.tuner not in TUNERS:
            raise ValueError(f"TuneConfig.tuner={self.tuner!r}: use one of {TUNERS}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"TuneConfig.strategy={self.strategy!r}: use one of {STRATEGIES}")
        for name in (
            "max_trials",
            "epochs",
            "executions_per_trial",
            "max_consecutive_failed_trials",
            "hyperband_iterations",
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"TuneConfig.{name}={v!r}: must be an integer >= 1")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"TuneConfig.seed={self.seed!r}: must be an integer >= 0")
        if self.hyperband_factor < 2:
            raise ValueError(f"TuneConfig.hyperband_factor={self.hyperband_factor!r}: must be >= 2")
        if self.final_epochs is not None and (isinstance(self.final_epochs, bool) or self.final_epochs < 1):
            raise ValueError(f"TuneConfig.final_epochs={self.final_epochs!r}: must be an integer >= 1 or None")
        if self.num_initial_points is not None and self.num_initial_points < 1:
            raise ValueError(f"TuneConfig.num_initial_points={self.num_initial_points!r}: must be >= 1 or None")
        if self.objective != "val_loss" and not self.objective.startswith("val_"):
            raise ValueError(
                f"TuneConfig.objective={self.objective!r}: tune on a validation metric "
                "(val_loss, val_recon, val_kl, val_err_kl)"
            )
