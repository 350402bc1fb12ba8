"""Settings of the main job ``pelsvae run`` (TensorFlow-free): :class:`PipelineConfig`.

The job itself is :func:`pelsvae_tf.pipeline.run_pipeline`; the CLI generates ``pelsvae run``'s
options from this dataclass (:mod:`pelsvae_tf.cli.run`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pelsvae_tf import options
from pelsvae_tf.classes import DEFAULT_PHYSICS, check_physics_names
from pelsvae_tf.config import ConfigBase

PRESETS = options.PRESETS


_QUICK = {
    "n_per_class": 100,
    "epochs": 80,
    "aug_scale": 0.12,
    "hidden": 16,
    "n_blocks": 6,
    "batch_size": 32,
    "dropout": 0.0,
    "time_encoding": "fourier",
    "learning_rate": 3e-3,
    "kernel_size": 5,
    "loss": "elbo",
    "lr_schedule": "none",
    "physics_imputation": "colour",
}
#: Each preset's settings (``PipelineConfig.resolved`` fills the unset fields from here). ``ship``
#: is how the shipped pretrained model is made (README "Shipped model"): the quick network twice as
#: wide (TCN 6 x 32) on 3x the stars, 5x the epochs and a cosine learning-rate decay (about an hour
#: on 2 cores).
PRESET_DEFAULTS: dict[str, dict] = {
    "quick": _QUICK,
    "ship": {**_QUICK, "hidden": 32, "n_per_class": 300, "epochs": 400, "lr_schedule": "cosine"},
    "paper": {
        "n_per_class": 2000,
        "epochs": 150,
        "aug_scale": 1.0,
        "hidden": 48,
        "n_blocks": 9,
        "batch_size": 128,
        "dropout": 0.2,
        "time_encoding": "phase",
        "learning_rate": 1e-3,
        "kernel_size": 5,
        "loss": "paper",
        "lr_schedule": "none",
        "physics_imputation": "none",
    },
}


@dataclass
class PipelineConfig(ConfigBase):
    """Settings of the main job.

    Attributes:
        out: output folder (sky/, data/, run/, saved_models/ and the report end up below it).
        preset: quick: small sky, small augmentation, 80 epochs (about 10 min on 2 cores);
            ship: the quick network twice as wide (TCN 6 x 32) on 300 stars per class, 400 epochs
            with a cosine learning-rate decay (about an hour on 2 cores; how the shipped pretrained
            model is made; the decay is the preset's, set no flag for it);
            paper: the paper's augmentation targets and 150 epochs.
        n_per_class: stars per class in the built-in sky (unset: from the preset).
        seq_len: points per prepared light curve (the paper uses 300).
        epochs: training epochs (unset: from the preset, 80 quick, 150 paper). The quick preset's
            80 (was 40) measured on its data with the elbo loss, median over seeds 0-2: validation
            chi^2 per point 20.4 against 26.0, and the Cepheids' reconstructed R21 spread 0.17
            against 0.10 (data 0.31); README "Spread of shapes".
        batch_size: curves per batch (unset: from the preset, 32 quick, 128 paper).
        learning_rate: Adam learning rate (unset: from the preset, 3e-3 quick, 1e-3 paper). The
            quick preset trains a small model on little data, so it takes smaller batches and a
            larger rate to get enough optimizer steps in a few minutes.
        physics: physical parameters the cVAE-P sees (empty = cVAE, class only).
        arch: temporal layers of encoder and decoder.
        hidden: TCN filters / RNN units (unset: from the preset).
        n_blocks: TCN residual blocks (unset: from the preset).
        kernel_size: TCN kernel size (unset: 5).
        latent_dim: latent dimensions.
        dropout: dropout rate (unset: from the preset, 0.0 quick, 0.2 paper). Measured on the
            quick job's data (10 epochs, TCN 6 x 16): validation chi^2 per point 23 with dropout
            0, 54 with 0.05, and a model stuck near the class mean (~225) with the paper's 0.2.
        time_encoding: decoder/encoder time tag (unset: from the preset, fourier quick, phase
            paper). Measured on the quick job's data after 10 epochs, median RMSE of test stars
            decoded on 300 / 200 / 100 phases: phase tag 0.206 / 0.205 / 0.213, fourier tag
            0.166 / 0.161 / 0.161 (both with decoder_subsample=0.3).
        loss: training loss (unset: from the preset, elbo quick, paper paper): ``"elbo"`` is the
            paper's eq. 4 with the KL weighted as in the per-point ELBO (``ModelConfig.loss``);
            measured on the quick job's data it keeps about twice the paper loss's spread of
            Cepheid shapes in the reconstructions (README "Spread of shapes").
        aug_scale: multiplier on the paper's augmentation targets (1.0 = paper; unset: from the
            preset).
        physics_imputation: a star's missing Teff / absolute G filled from its BP-RP colour and
            period (colour) or the star left out of the physics set (none, the paper); unset: from
            the preset (colour quick and ship, none paper). ``PrepareConfig.physics_imputation``.
        regressors: physics -> latent regressors to fit (of linear, forest, mlp, density).
        evaluate: write the evaluation report.
        export: write TF Serving SavedModels to out/saved_models.
        strategy: tf.distribute strategy for training.
        seed: seed of every stage.
        deterministic: TensorFlow op determinism during training (TrainConfig.deterministic).
    """

    out: str = "runs/demo"
    preset: str = "quick"
    n_per_class: int | None = None
    seq_len: int = 300
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    physics: tuple[str, ...] = DEFAULT_PHYSICS
    arch: str = "tcn"
    hidden: int | None = None
    n_blocks: int | None = None
    kernel_size: int | None = None
    latent_dim: int = 4
    dropout: float | None = None
    time_encoding: str | None = None
    loss: str | None = None
    aug_scale: float | None = None
    physics_imputation: str | None = None
    regressors: tuple[str, ...] = options.REGRESSOR_KINDS
    evaluate: bool = True
    export: bool = True
    strategy: str = "default"
    seed: int = 0
    deterministic: bool = True

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {PRESETS}, got {self.preset!r}")
        self.physics = check_physics_names(self.physics)
        for r in self.regressors:
            if r not in options.REGRESSOR_KINDS:
                raise ValueError(f"regressors: unknown kind {r!r}; use {', '.join(options.REGRESSOR_KINDS)}")
        if self.time_encoding is not None and self.time_encoding not in options.TIME_ENCODINGS:
            raise ValueError(
                f"time_encoding must be {', '.join(options.TIME_ENCODINGS[:-1])} or "
                f"{options.TIME_ENCODINGS[-1]}, got {self.time_encoding!r}"
            )
        if self.physics_imputation is not None and self.physics_imputation not in options.PHYSICS_IMPUTATIONS:
            raise ValueError(
                f"physics_imputation must be one of {', '.join(options.PHYSICS_IMPUTATIONS)}, "
                f"got {self.physics_imputation!r}"
            )
        if self.loss is not None and self.loss not in options.LOSS_KINDS:
            raise ValueError(f"loss must be one of {', '.join(options.LOSS_KINDS)}, got {self.loss!r}")
        for name in ("n_per_class", "epochs", "batch_size", "hidden", "n_blocks", "kernel_size", "learning_rate"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"PipelineConfig.{name}={value!r}: must be > 0 (or unset for the preset's value)")
        if self.seq_len < 16:
            raise ValueError(f"seq_len must be >= 16 points, got {self.seq_len}")

    def resolved(self) -> dict:
        """The preset defaults merged with explicit settings (what the run really uses)."""
        base = PRESET_DEFAULTS[self.preset]
        explicit = {
            "n_per_class": self.n_per_class,
            "epochs": self.epochs,
            "aug_scale": self.aug_scale,
            "hidden": self.hidden,
            "n_blocks": self.n_blocks,
            "batch_size": self.batch_size,
            "dropout": self.dropout,
            "time_encoding": self.time_encoding,
            "learning_rate": self.learning_rate,
            "kernel_size": self.kernel_size,
            "loss": self.loss,
            "physics_imputation": self.physics_imputation,
        }
        return {k: (explicit[k] if explicit.get(k) is not None else v) for k, v in base.items()}
