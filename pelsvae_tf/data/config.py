"""Settings of the streaming preparation (TensorFlow-free): :class:`PrepareConfig`, skip reasons."""

from __future__ import annotations

from dataclasses import dataclass, field

from pelsvae_tf import options
from pelsvae_tf.classes import DEFAULT_PHYSICS, canonical_class, check_physics_names
from pelsvae_tf.config import ConfigBase

#: skip reasons that ``strict=True`` turns into errors (bad input, not selection cuts)
STRICT_REASONS = (
    "missing_file",
    "empty",
    "nan_inf",
    "bad_format",
    "bad_error",
    "bad_period",
    "unknown_class",
    "id_not_in_catalog",
    "duplicate_id",
)
#: selection cuts of the method, always counted skips
CUT_REASONS = ("low_snr", "dropped_subtype", "too_few_points", "class_cap")
PHASE_ZERO = options.PHASE_ZERO
WORK_DIR = ".work"


@dataclass
class PrepareConfig(ConfigBase):
    """Settings of :func:`~pelsvae_tf.data.prepare.prepare` (paper defaults, except
    ``physics_imputation``: the paper's is ``"none"``).

    Attributes:
        seq_len: points per prepared curve
        snr_min: minimum variability S/N
        snr_method: paper: robust amplitude / mean error; reference: std(mag) / median(err)
        clip_iters: sigma-clipping iterations on mag and err
        clip_sigma: sigma-clipping threshold
        clip_mode: folded: clip residuals from the phase-folded median profile (keeps eclipses);
            raw: clip raw magnitudes (the paper's literal wording)
        short_policy: curves with fewer than seq_len points: drop (paper) or pad with N(mag, err)
            resamples (reference code)
        split: train,val,test fractions by star, stratified by class
        seed: random seed (split, undersampling, augmentation)
        aug_scale: scale of the paper's augmentation targets (classes with more than
            big_class_threshold clean stars: 10,000 curves, others 5,000, times the train fraction;
            ECL cap 10,000); e.g. 0.05 for a quick run
        aug_targets: explicit training targets CLASS=N,... (real + augmented curves); overrides
            aug_scale
        big_class_threshold: clean stars above which a class gets the larger paper target
        class_caps: largest number of real stars per class before the split, CLASS=N,... (scaled by
            aug_scale), preferring stars with all the selected physics
        physics: selected physical parameters: preferred by the caps and reported as missing; all
            6 columns are stored
        physics_imputation: colour: a star's missing Teff is filled from its Gaia BP-RP colour and
            a missing absolute G from its class's period-luminosity-colour relation, both fitted on
            the training stars, with a seeded draw from the fit's scatter
            (:mod:`pelsvae_tf.data.impute`; Gaia DR2 has a Teff for 1 of 89 anomalous Cepheids);
            none: the paper (a star lacking a selected parameter leaves the physics set)
        phase_zero: max_light: phase 0 at maximum light of the first harmonic; none: phase = t/P
            mod 1 (the reference code)
        shard_size: curves per shard file
        clean_chunk: raw light-curve files per cleaning chunk
        band: band to read from multi-band CSV light curves (e.g. g)
        drop_subtypes: drop multi-mode / semi-regular subtypes (the paper drops them)
        strict: turn bad-input skips into errors instead of counting them
    """

    seq_len: int = 300
    snr_min: float = 5.0
    snr_method: str = "paper"
    clip_iters: int = 3
    clip_sigma: float = 3.0
    clip_mode: str = "folded"
    short_policy: str = "drop"
    split: tuple[float, float, float] = (0.6, 0.2, 0.2)
    seed: int = 0
    aug_scale: float = 1.0
    aug_targets: dict[str, int] | None = None
    big_class_threshold: int = 2000
    class_caps: dict[str, int] = field(default_factory=lambda: {"ECL": 10000})
    physics: tuple[str, ...] = DEFAULT_PHYSICS
    phase_zero: str = "max_light"
    physics_imputation: str = "colour"
    shard_size: int = 2048
    clean_chunk: int = 1000
    band: str | None = None
    drop_subtypes: bool = True
    strict: bool = False

    def __post_init__(self) -> None:
        if self.seq_len < 4:
            raise ValueError(f"PrepareConfig.seq_len={self.seq_len}: must be >= 4")
        if self.snr_method not in options.SNR_METHODS:
            raise ValueError(f"PrepareConfig.snr_method={self.snr_method!r}: one of {options.SNR_METHODS}")
        if self.clip_mode not in options.CLIP_MODES:
            raise ValueError(f"PrepareConfig.clip_mode={self.clip_mode!r}: one of {options.CLIP_MODES}")
        if self.short_policy not in options.SHORT_POLICIES:
            raise ValueError(f"PrepareConfig.short_policy={self.short_policy!r}: one of {options.SHORT_POLICIES}")
        if self.phase_zero not in PHASE_ZERO:
            raise ValueError(f"PrepareConfig.phase_zero={self.phase_zero!r}: one of {PHASE_ZERO}")
        if self.physics_imputation not in options.PHYSICS_IMPUTATIONS:
            raise ValueError(
                f"PrepareConfig.physics_imputation={self.physics_imputation!r}: one of {options.PHYSICS_IMPUTATIONS}"
            )
        self.split = tuple(float(x) for x in self.split)
        if len(self.split) != 3 or min(self.split) < 0 or abs(sum(self.split) - 1) > 1e-6 or self.split[0] <= 0:
            raise ValueError(f"PrepareConfig.split={self.split}: three fractions >= 0 summing to 1, train > 0")
        if self.aug_scale < 0:
            raise ValueError(f"PrepareConfig.aug_scale={self.aug_scale}: must be >= 0")
        if self.aug_targets is not None:
            self.aug_targets = {canonical_class(k): int(v) for k, v in self.aug_targets.items()}
        self.class_caps = {canonical_class(k): int(v) for k, v in (self.class_caps or {}).items()}
        self.physics = check_physics_names(self.physics)
        if self.shard_size < 1 or self.clean_chunk < 1:
            raise ValueError("PrepareConfig: shard_size and clean_chunk must be >= 1")
        if self.clip_iters < 0 or self.clip_sigma <= 0 or self.snr_min < 0:
            raise ValueError("PrepareConfig: clip_iters >= 0, clip_sigma > 0 and snr_min >= 0 required")

    def train_target(self, cls: str, n_clean: int) -> int:
        """Training curves (real + augmented) wanted for class ``cls`` with ``n_clean`` clean stars."""
        if self.aug_targets is not None:
            return int(self.aug_targets.get(cls, 0))
        base = 10000 if n_clean > self.big_class_threshold else 5000
        return int(round(base * self.aug_scale * self.split[0]))

    def cap(self, cls: str) -> int | None:
        """Largest number of real stars kept for ``cls`` (scaled by aug_scale), or None."""
        if cls not in self.class_caps:
            return None
        scale = self.aug_scale if self.aug_targets is None else 1.0
        return max(1, int(round(self.class_caps[cls] * scale)))


class PrepareError(ValueError):
    """Bad input met with ``strict=True``."""
