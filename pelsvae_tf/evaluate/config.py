"""Sample sizes and options of the evaluation report (:class:`EvalConfig`; TensorFlow-free)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pelsvae_tf import options
from pelsvae_tf.config import ConfigBase

#: Loss terms drawn in the loss-curve figure when present in history.csv.
LOSS_TERMS: tuple[str, ...] = ("loss", "recon", "kl", "err_kl")
#: Values of :attr:`EvalConfig.generation`.
GENERATIONS: tuple[str, ...] = ("auto", "regressor", "prior")
#: Values of :attr:`EvalConfig.classifier` (two-sample test and TSTR).
CLASSIFIERS: tuple[str, ...] = ("forest", "logistic")


@dataclasses.dataclass
class EvalConfig(ConfigBase):
    """Sample sizes and options of :func:`evaluate`.

    Attributes:
        seed: seeds every random choice (star selection, cadences, noise, latent draws, classifiers).
        n_recon_per_class: test stars per class drawn in the reconstruction figure.
        max_test_per_class: at most this many test stars per class enter the reconstruction RMSE.
        n_generated_per_class: generated curves per class (distribution match and TSTR).
        max_real_per_class: at most this many real curves per class (held-out for the distribution
            match; real training stars for train-on-real).
        generation: ``"regressor"`` (paper: physics -> fitted regressor -> latent) or ``"prior"``
            (latent ~ N(0, I)); ``"auto"`` uses the regressor when one is fitted or can be fitted.
        regressor: which fitted regressor generates (``"forest"``, ``"linear"``, ``"mlp"``).
        fit_regressors_if_missing: fit the regressors (``pelsvae regress`` defaults) when the run has none.
        cadence_epochs: epochs of the survey-like cadence of the period-recovery curves (the
            distribution match and TSTR observe generated curves at the dataset's ``seq_len``
            random times over ``folded_baseline``, folded, like the real curves).
        cadence_baseline: its baseline in days.
        cadence_season: observable days per year (seasonal gaps) of that cadence.
        folded_baseline: days spanned by the random observation times of the curves the
            distribution match and TSTR fold (default: the built-in sky's 8 seasons); a star's
            phase and amplitude jitter are drawn per cycle, so the span sets how many cycles a
            folded curve mixes, as in a survey.
        add_noise: add N(0, decoded error) noise to generated curves, as observed curves have.
        n_period_checks_per_class: curves per class generated at the survey cadence whose period
            Lomb-Scargle searches.
        period_rtol: relative tolerance for a recovered period.
        n_harmonics: harmonics of the Fourier fits (>= 3).
        classifier: ``"forest"`` or ``"logistic"`` for the two-sample test and TSTR.
        c2st_folds: folds of the two-sample test.
        err_floor: smallest scaled error used in the weighted RMSE (scaled-magnitude units).
        physics_recovery: run the RR Lyrae Teff sweep (paper Fig. 8) when a regressor exists.
        batch_size: curves per encoder/decoder call.
        real_eros1: EROS-1 LMC folder in the RAMP layout (``train.csv``, ``test.csv``,
            ``*_varlength_features.csv.gz``; :func:`pelsvae_tf.data.readers.read_eros1`) or None.
            Given, the report gets a "Realism against EROS-1" section (:mod:`pelsvae_tf.evaluate.realism`):
            generated curves of the classes shared with EROS-1 (RRLYR, CEP, ECL, LPV),
            ``n_generated_per_class`` each, observed at an EROS-1-like cadence and error model,
            against at most ``max_real_per_class`` red-band EROS-1 stars per class.
    """

    seed: int = 0
    n_recon_per_class: int = 3
    max_test_per_class: int = 500
    n_generated_per_class: int = 100
    max_real_per_class: int = 300
    generation: str = "auto"
    regressor: str = "mlp"  # = pelsvae_tf.generate.generator.DEFAULT_REGRESSOR (tested)
    fit_regressors_if_missing: bool = True
    cadence_epochs: int = 150
    cadence_baseline: float = 1000.0
    cadence_season: float = 240.0
    folded_baseline: float = 2922.0
    add_noise: bool = True
    n_period_checks_per_class: int = 20
    period_rtol: float = 0.01
    n_harmonics: int = 3
    classifier: str = "forest"
    c2st_folds: int = 5
    err_floor: float = 1e-3
    physics_recovery: bool = True
    batch_size: int = 512
    real_eros1: str | None = None

    def __post_init__(self):
        if isinstance(self.real_eros1, Path):
            self.real_eros1 = str(self.real_eros1)
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the field for an impossible setting."""
        positive = (
            "n_recon_per_class",
            "max_test_per_class",
            "n_generated_per_class",
            "max_real_per_class",
            "cadence_epochs",
            "n_period_checks_per_class",
            "batch_size",
        )
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"EvalConfig.{name} must be >= 1 (got {getattr(self, name)})")
        if self.generation not in GENERATIONS:
            raise ValueError(f"EvalConfig.generation must be 'auto', 'regressor' or 'prior' (got {self.generation!r})")
        if self.regressor not in options.REGRESSOR_KINDS:
            raise ValueError(
                f"EvalConfig.regressor must be 'density', 'forest', 'linear' or 'mlp' (got {self.regressor!r})"
            )
        if self.classifier not in CLASSIFIERS:
            raise ValueError(f"EvalConfig.classifier must be 'forest' or 'logistic' (got {self.classifier!r})")
        if not self.cadence_baseline > 0 or not self.cadence_season > 0 or not self.folded_baseline > 0:
            raise ValueError("EvalConfig.cadence_baseline, cadence_season and folded_baseline must be > 0 days")
        if not 0 < self.period_rtol < 1:
            raise ValueError(f"EvalConfig.period_rtol must be in (0, 1) (got {self.period_rtol})")
        if int(self.n_harmonics) < 3:
            raise ValueError(f"EvalConfig.n_harmonics must be >= 3 (got {self.n_harmonics})")
        if int(self.c2st_folds) < 2:
            raise ValueError(f"EvalConfig.c2st_folds must be >= 2 (got {self.c2st_folds})")
        if not self.err_floor > 0:
            raise ValueError(f"EvalConfig.err_floor must be > 0 (got {self.err_floor})")
        if self.real_eros1 is not None and not isinstance(self.real_eros1, (str, Path)):
            raise ValueError(f"EvalConfig.real_eros1 must be a directory path or None (got {self.real_eros1!r})")
