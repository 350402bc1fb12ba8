"""``SkyConfig``: the settings of the built-in sky (TensorFlow-free; ``pelsvae sky`` flags come from it)."""

from __future__ import annotations

from dataclasses import dataclass

from pelsvae_tf.classes import CLASSES, canonical_class
from pelsvae_tf.config import ConfigBase
from pelsvae_tf.options import LPV_SHAPES
from pelsvae_tf.options import SKY_SURVEYS as SURVEYS
from pelsvae_tf.sky.survey import SURVEY_LPV_SRV_FRACTION


@dataclass
class SkyConfig(ConfigBase):
    """Settings of the built-in sky (``pelsvae sky``; :func:`pelsvae_tf.sky.build_sky`).

    ``rr_scatter=1.0, rr_teff_range=(5900, 7100)`` is measurably closer to real RR Lyrae (EROS-1
    C2ST 0.952 -> 0.889, OGLE-III R21 KS 0.34 -> 0.25; BENCHMARKS.md) but on the quick main job it
    hides the injected Teff -> shape truth the report measures (one run: R21 slope vs truth -0.02
    linear, 0.12 MLP, against 0.03 / 0.78 with these defaults), so the measurable relation stays
    the default and the realistic spread is one setting away.

    Attributes:
        n_per_class: stars per class: an integer, or CLASS=N,... (e.g. RRLYR=500,ECL=200); classes
            absent from a dict get none
        seed: random seed (same seed -> identical sky)
        years: number of yearly observing seasons
        epochs: (min, max) epochs per star, drawn uniformly
        outlier_frac_max: largest fraction of outlier points per light curve
        rr_teff_range: (min, max) K of the uniform RR Lyrae Teff (5900,7600: 56 % RRab; 5900,7100
            gives 79 %, like OGLE-III's 83 %)
        rr_scatter: scatter around the RR Lyrae truth in units of the real OGLE-III within-type
            spread (1.0 with rr_teff_range 5900,7100 is closer to real RR Lyrae, see above)
        rr_teff_missing_frac: fraction of RR Lyrae whose Teff is hidden in catalog.csv (truth keeps it)
        snr_floor: draw real stars only among those whose amplitude / typical error at their I
            magnitude is >= snr_floor (ECL: 0.4 mag assumed), so the sky is not dominated by stars
            the S/N cut removes (real OGLE-III DSCT at I ~ 20 fail it: 44 of 2,596 survive in the
            paper); 0 draws from all real stars
        survey: error model and seasons: ogle (OGLE-III I band) or eros1 (EROS-1 LMC red plates,
            plate schedule with seasons, moon gaps and runs of nights, correlated plate systematics,
            the survey's eclipsing-binary magnitudes and semi-regulars among the LPVs:
            :mod:`pelsvae_tf.sky.survey`; use with --years 3 --epochs-min 100 --epochs-max 125)
        harmonics: Fourier order of the pulsator template, 3-12 (3 = the catalogue's R21/R31 only;
            higher orders extend the catalogue's harmonic series, see pulsator_template)
        rr_blazhko_frac: fraction of RR Lyrae with Blazhko modulation [0-1]
        lpv_period_jitter: rms of the LPVs' stochastic relative period changes (a damped random walk
            with a 3-cycle correlation time); 0 = strictly periodic
        lpv_amp_jitter: rms of the LPVs' stochastic log-amplitude changes (same walk); 0 = constant
        period_noise: rms relative difference between the catalogue period and the simulated one
        detect_snr: detection cut: a star whose variability signal-to-noise (``sqrt`` of the chi^2
            by which a constant fails on its noise-free curve and errors) is below this is drawn
            again, as a survey catalogues only the variables it detects; 0 keeps every draw. At
            OGLE precision no star of the default sky is redrawn; with survey eros1 (LMC stars on
            photographic plates) about half the DSCT and ELL, a third of the ECL and ~10 % of the
            RR Lyrae are (seed 0, 150 per class), i.e. the faintest, lowest-amplitude ones
        lpv_shape: Mira light-curve model: flux (a cosine in flux, magnitudes from it, rise faster
            than decline: :func:`pelsvae_tf.sky.lpv.mira_magnitudes`) or fourier (the earlier
            invented magnitude Fourier series R21 ~ U(0.05, 0.25), phi21 ~ U(3.6, 4.6)); flux is
            measurably closer to real EROS-1 LPVs (BENCHMARKS.md)
        lpv_srv_fraction: share of the LPVs that are LMC semi-regular variables (OGLE-III SRVs with
            an I amplitude >= 0.2 mag, two wandering sinusoids: :func:`pelsvae_tf.sky.lpv.srv_magnitudes`)
            instead of Miras, [0-1]; None = the survey's: 0 for ogle (the paper's LPV class is Miras
            only), 0.674 for eros1 (its "Mira" class holds semi-regulars; the LMC's SRV share).
            ``pelsvae prepare`` drops subtype SRV as the paper does; keep them with --keep-subtypes
    """

    n_per_class: int | dict[str, int] = 300
    seed: int = 0
    years: int = 8
    epochs: tuple[int, int] = (400, 1000)
    outlier_frac_max: float = 0.02
    rr_teff_range: tuple[float, float] = (5900.0, 7600.0)
    rr_scatter: float = 0.3
    rr_teff_missing_frac: float = 0.0
    snr_floor: float = 5.0
    survey: str = "ogle"
    harmonics: int = 6
    rr_blazhko_frac: float = 0.3
    lpv_period_jitter: float = 0.02
    lpv_amp_jitter: float = 0.15
    period_noise: float = 2e-6
    detect_snr: float = 4.0
    lpv_shape: str = "flux"
    lpv_srv_fraction: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.n_per_class, dict):
            fixed = {}
            for k, v in self.n_per_class.items():
                fixed[canonical_class(k)] = int(v)
            self.n_per_class = fixed
            bad = [k for k, v in fixed.items() if v < 0]
        else:
            bad = [] if int(self.n_per_class) >= 0 else ["n_per_class"]
            self.n_per_class = int(self.n_per_class)
        if bad:
            raise ValueError(f"SkyConfig.n_per_class: negative count for {bad}")
        self.epochs = tuple(int(x) for x in self.epochs)
        if len(self.epochs) != 2 or not (10 <= self.epochs[0] <= self.epochs[1]):
            raise ValueError(f"SkyConfig.epochs={self.epochs}: need (min, max) with 10 <= min <= max")
        if not 1 <= int(self.years) <= 30:
            raise ValueError(f"SkyConfig.years={self.years}: must be 1-30 seasons")
        if not 0 <= self.outlier_frac_max < 0.5:
            raise ValueError(f"SkyConfig.outlier_frac_max={self.outlier_frac_max}: must be in [0, 0.5)")
        lo, hi = self.rr_teff_range
        if not 3000 <= lo < hi <= 12000:
            raise ValueError(f"SkyConfig.rr_teff_range={self.rr_teff_range}: need 3000 <= min < max <= 12000 K")
        if self.snr_floor < 0:
            raise ValueError(f"SkyConfig.snr_floor={self.snr_floor}: must be >= 0")
        if self.rr_scatter < 0 or not 0 <= self.rr_teff_missing_frac <= 1:
            raise ValueError("SkyConfig: rr_scatter must be >= 0 and rr_teff_missing_frac in [0, 1]")
        if self.survey not in SURVEYS:
            raise ValueError(f"SkyConfig.survey={self.survey!r}: choose one of {list(SURVEYS)}")
        if not 3 <= int(self.harmonics) <= 12:
            raise ValueError(f"SkyConfig.harmonics={self.harmonics}: Fourier order must be 3-12")
        self.harmonics = int(self.harmonics)
        if not 0 <= self.rr_blazhko_frac <= 1:
            raise ValueError(f"SkyConfig.rr_blazhko_frac={self.rr_blazhko_frac}: a fraction, must be in [0, 1]")
        for name in ("lpv_period_jitter", "lpv_amp_jitter"):
            v = getattr(self, name)
            if not 0 <= v <= 0.5:
                raise ValueError(f"SkyConfig.{name}={v}: rms relative change, must be in [0, 0.5]")
        if self.lpv_shape not in LPV_SHAPES:
            raise ValueError(f"SkyConfig.lpv_shape={self.lpv_shape!r}: choose one of {list(LPV_SHAPES)}")
        if self.lpv_srv_fraction is not None:
            try:
                frac = float(self.lpv_srv_fraction)
            except (TypeError, ValueError):
                frac = float("nan")
            if not 0 <= frac <= 1:
                raise ValueError(
                    f"SkyConfig.lpv_srv_fraction={self.lpv_srv_fraction!r}: a fraction, must be in [0, 1] "
                    "(or None for the survey's default)"
                )
            self.lpv_srv_fraction = frac
        if not 0 <= self.detect_snr <= 100:
            raise ValueError(f"SkyConfig.detect_snr={self.detect_snr}: signal-to-noise, must be in [0, 100]")
        if not 0 <= self.period_noise <= 1e-3:
            raise ValueError(f"SkyConfig.period_noise={self.period_noise}: relative rms, must be in [0, 1e-3]")

    def srv_fraction(self) -> float:
        """Share of the LPVs that are semi-regular variables: ``lpv_srv_fraction``, or the survey's
        (:data:`pelsvae_tf.sky.survey.SURVEY_LPV_SRV_FRACTION`) when None."""
        if self.lpv_srv_fraction is not None:
            return float(self.lpv_srv_fraction)
        return SURVEY_LPV_SRV_FRACTION[self.survey]

    def counts(self) -> dict[str, int]:
        """Stars per class (all 8 classes, zeros included)."""
        if isinstance(self.n_per_class, dict):
            return {c: int(self.n_per_class.get(c, 0)) for c in CLASSES}
        return {c: int(self.n_per_class) for c in CLASSES}
