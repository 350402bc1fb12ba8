"""Survey cadences and photometric noise of the built-in sky (``SkyConfig.survey``: ogle or eros1).

Cadence: OGLE-III-like yearly observing seasons from HJD ~2452080 (2001), one field per star
(Galactic bulge or Magellanic Clouds, whose seasons are offset by half a year), ~25% of nights
lost to weather, observations during the night. Errors [mag]: :func:`ogle_error` (OGLE-III I band)
or :func:`eros1_error` (EROS-1 LMC red band), times a log-normal per-point scatter
(:data:`ERROR_SCATTER_DEX`).
"""

from __future__ import annotations

import numpy as np

from pelsvae_tf.options import SKY_SURVEYS as SURVEYS

SKY_TIME_START = 2080.0  # HJD - 2450000 of the first OGLE-III-like season (2001 June)


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
