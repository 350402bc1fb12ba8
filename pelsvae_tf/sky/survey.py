"""Survey cadences, photometric noise and observed field of the built-in sky (``SkyConfig.survey``: ogle or eros1).

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


#: Distance modulus [mag] plus mean I-band extinction [mag] of the OGLE-III fields the sky's real
#: stars come from (the field is read from the donor's OGLE ID): LMC 18.48 + 0.10 (Pietrzynski et al.
#: 2019; E(B-V) ~ 0.07), SMC 18.98 + 0.06 (Graczyk et al. 2020), Galactic bulge 14.57 (8.2 kpc) +
#: 1.5 (the sky's bulge RR Lyrae have median I = 16.30 = 14.57 + M_I(RR Lyr) 0.2 + A_I 1.5; their LMC
#: ones 18.73). Stars with no common distance (:func:`has_field_distance`) are not moved.
FIELD_DISTANCE_EXTINCTION_I = {"LMC": 18.58, "SMC": 19.04, "BLG": 16.07}
#: The field whose stars each survey observes (None: each star keeps its real field's magnitude).
SURVEY_FIELD = {"ogle": None, "eros1": "LMC"}


def field_of(source_id: str) -> str:
    """OGLE-III field of a real star from its ID (``OGLE-LMC-CEP-0001`` -> ``"LMC"``); "" if none."""
    parts = str(source_id).split("-")
    return parts[1] if len(parts) > 2 and parts[0] == "OGLE" else ""


#: Classes whose bulge-field OGLE-III stars lie at the bulge's distance behind the typical extinction
#: of :data:`FIELD_DISTANCE_EXTINCTION_I`: the old bulge population, faint enough to be found only
#: where the extinction is moderate. Bulge-field eclipsing binaries and classical Cepheids are mostly
#: disk stars at other distances, and the bulge's Miras are bright enough to be found behind 2-4 mag
#: of I-band extinction (their median I of 13.8 would need A_I ~ 4 for M_I ~ -4.5), so neither
#: distance nor extinction is known for them.
BULGE_DISTANCE_CLASSES = ("RRLYR", "T2CEP")


def has_field_distance(source_id: str, cls: str) -> bool:
    """Whether a real OGLE-III star of class ``cls`` lies at its field's distance and typical
    extinction: Magellanic-Cloud stars do; bulge-field stars only for :data:`BULGE_DISTANCE_CLASSES`;
    Galactic-disk (GD) fields have no common distance."""
    field = field_of(source_id)
    if field not in FIELD_DISTANCE_EXTINCTION_I:
        return False
    return field != "BLG" or cls in BULGE_DISTANCE_CLASSES


def survey_magnitude_shift(source_id: str, survey: str, cls: str = "") -> float:
    """Magnitude offset [mag] that moves a real OGLE-III star (``source_id``, class ``cls``) into the
    field that ``survey`` observes (:data:`SURVEY_FIELD`): the difference of distance modulus plus
    extinction (:data:`FIELD_DISTANCE_EXTINCTION_I`); 0 for the OGLE survey, a star already there,
    or a star without a field distance (:func:`has_field_distance`)."""
    target = SURVEY_FIELD[survey]
    if target is None or not has_field_distance(source_id, cls):
        return 0.0
    return FIELD_DISTANCE_EXTINCTION_I[target] - FIELD_DISTANCE_EXTINCTION_I[field_of(source_id)]


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
