"""Survey cadences, photometric noise and observed field of the built-in sky (``SkyConfig.survey``: ogle or eros1).

Cadence: OGLE-III-like yearly observing seasons from HJD ~2452080 (2001), one field per star
(Galactic bulge or Magellanic Clouds, whose seasons are offset by half a year), ~25% of nights
lost to weather, observations during the night (:func:`ogle_cadence`); or EROS-1's LMC plate
schedule: seasons of measured length and epoch share, no plates near full moon, runs of
consecutive nights (:func:`eros1_cadence`). Errors [mag]: :func:`ogle_error` (OGLE-III I band)
or :func:`eros1_error` (EROS-1 LMC red band), times a log-normal per-point scatter
(:data:`ERROR_SCATTER_DEX`).
"""

from __future__ import annotations

import numpy as np

from pelsvae_tf.options import SKY_SURVEYS as SURVEYS
from pelsvae_tf.sky.lpv import damped_random_walk

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


#: Deciles (0 %, 10 %, ..., 100 %) of the time-averaged red-band magnitude [mag] of the eclipsing
#: binaries EROS-1 catalogued (shared EROS-1 train split, 339 stars). The sky's eclipsing-binary donors
#: are OGLE-III stars with a Gaia DR2 counterpart, and their Magellanic-Cloud ones are bright
#: (median I 16.2) next to the binaries a survey of the LMC bar finds (EROS-1: 17.9); binaries follow
#: no period-luminosity relation, so under ``survey="eros1"`` their mean magnitude is drawn from this
#: distribution instead (the detection cut then removes the faint shallow ones, as the survey did).
EROS1_ECL_MEAN_MAG_DECILES = (14.03, 15.94, 16.58, 16.94, 17.37, 17.94, 18.21, 18.53, 18.84, 19.13, 20.29)
#: Classes whose mean magnitude [mag] a survey draws from its own catalogue's distribution (deciles).
SURVEY_CLASS_MAGNITUDES = {"eros1": {"ECL": EROS1_ECL_MEAN_MAG_DECILES}}


#: Share of semi-regular variables among a survey's LPVs when ``SkyConfig.lpv_srv_fraction`` is None.
#: OGLE-III's LPV class of the paper holds Miras only. EROS-1's class 4 ("Mira") does not: its median
#: period is 182 d against the OGLE-III Miras' 332 d and half its stars vary by less than 0.84 mag
#: (5-95 % range, red band), so it holds semi-regulars too; the share is the LMC's, 3,432 SRVs with an
#: I amplitude >= 0.2 mag next to 1,663 Miras (OGLE-III, ``scripts/build_srv_table.py``).
SURVEY_LPV_SRV_FRACTION = {"ogle": 0.0, "eros1": 0.674}


def survey_class_magnitude(rng: np.random.Generator, cls: str, survey: str) -> float | None:
    """Mean magnitude [mag] of a star of class ``cls`` drawn from the distribution that ``survey``
    catalogued (:data:`SURVEY_CLASS_MAGNITUDES`, linear between deciles), or None (no draw made)
    where the survey keeps the donor's own magnitude."""
    deciles = SURVEY_CLASS_MAGNITUDES.get(survey, {}).get(cls)
    if deciles is None:
        return None
    return float(np.interp(rng.uniform(), np.linspace(0.0, 1.0, len(deciles)), deciles))


def survey_magnitude_shift(source_id: str, survey: str, cls: str = "") -> float:
    """Magnitude offset [mag] that moves a real OGLE-III star (``source_id``, class ``cls``) into the
    field that ``survey`` observes (:data:`SURVEY_FIELD`): the difference of distance modulus plus
    extinction (:data:`FIELD_DISTANCE_EXTINCTION_I`); 0 for the OGLE survey, a star already there,
    or a star without a field distance (:func:`has_field_distance`)."""
    target = SURVEY_FIELD[survey]
    if target is None or not has_field_distance(source_id, cls):
        return 0.0
    return FIELD_DISTANCE_EXTINCTION_I[target] - FIELD_DISTANCE_EXTINCTION_I[field_of(source_id)]


#: Days [d] without an epoch that separate two observing seasons (EROS-1's seasons are >= 200 d apart,
#: a sparse season can hold a 60-d gap).
SEASON_GAP = 100.0

#: EROS-1 photometric systematics, measured on the residuals of the shared EROS-1 train split's red-band
#: curves about a 4-harmonic fit at the catalogue period (4-sigma clipped; CEP, ECL and RR Lyrae;
#: ``python benchmarks/bench_eros1_noise.py`` prints these statistics for the real curves and the sky):
#: - each star's errors sit above or below :func:`eros1_error` by a factor 10^N(0, 0.10) (per-star
#:   median error over the model: 0.101 dex rms);
#: - each star's mean magnitude shifts from season to season (rms of the season means beyond their
#:   white-noise share: 0.056 mag for r < 16, 0.035 at 16-17, 0.024 at 17-18, 0.048 at 18-19, 0.106
#:   fainter): :data:`EROS1_SEASON_OFFSET`, interpolated in magnitude;
#: - within a season, the residuals of bright stars are correlated from night to night (correlation of
#:   successive epochs one night apart, season means removed: 0.26 for r < 16, 0.14 at 16-17, 0.04
#:   at 17-18, ~0 fainter): a damped random walk of
#:   correlation time :data:`EROS1_RED_NOISE_TAU` (10 d) and rms :data:`EROS1_RED_NOISE` interpolated
#:   in magnitude;
#: - the noise is skewed in magnitudes: the residuals' per-star skewness (clipped at 4 robust sigma,
#:   as the realism features are) is +0.15 to +0.61, largest for faint stars, as for noise that is
#:   Gaussian in flux; and the errors grow with the *measured* magnitude (so residual / error is
#:   skewed the other way for faint stars: -0.41 at r = 18.5-19.2).
#: The table values are those that give the sky the measured statistics through the same fits (the
#: sky's own model misfit and error scatter dilute them). The real errors describe the total scatter
#: (rms of residual / error: 0.90-1.04 per class), so the white part is what the systematics leave of
#: the error (at least half of it).
EROS1_STAR_ERROR_DEX = 0.10
EROS1_SEASON_OFFSET = ((16.0, 17.0, 18.0, 19.0), (0.06, 0.04, 0.07, 0.10))
EROS1_RED_NOISE = ((16.0, 17.0, 18.0), (0.08, 0.04, 0.015))
EROS1_RED_NOISE_TAU = 10.0


def season_index(time: np.ndarray) -> np.ndarray:
    """Observing season [int, 0 = first] of each of the sorted times ``time`` [d]: a new season starts
    after a gap longer than :data:`SEASON_GAP`."""
    time = np.asarray(time, dtype=np.float64)
    if time.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([[0], np.cumsum(np.diff(time) > SEASON_GAP)]).astype(np.int64)


def survey_errors(rng: np.random.Generator, mag: np.ndarray, survey: str = "ogle") -> np.ndarray:
    """Photometric errors [mag] of one star's points of magnitude ``mag`` [mag] in ``survey``: the
    survey's error model (:func:`survey_error`) times a per-point log-normal scatter
    (:data:`ERROR_SCATTER_DEX`) and, for EROS-1, one per-star factor (:data:`EROS1_STAR_ERROR_DEX`)."""
    mag = np.asarray(mag, dtype=np.float64)
    err = survey_error(mag, survey) * 10 ** rng.normal(0, ERROR_SCATTER_DEX[survey], size=mag.shape)
    if survey == "eros1":
        err = err * 10 ** rng.normal(0, EROS1_STAR_ERROR_DEX)
    return err


def survey_noise(
    rng: np.random.Generator, time: np.ndarray, mag: np.ndarray, err: np.ndarray, survey: str = "ogle"
) -> np.ndarray:
    """Photometric noise [mag] to add to the noise-free magnitudes ``mag`` [mag] of one star observed
    at sorted times ``time`` [d] with errors ``err`` [mag]. OGLE: white, N(0, err). EROS-1: per-star
    season offsets (a season: epochs less than :data:`SEASON_GAP` apart) and a damped random walk
    within seasons (:data:`EROS1_SEASON_OFFSET`, :data:`EROS1_RED_NOISE`), plus white noise making up the rest of
    ``err`` (the total variance per point is ``err^2`` wherever the systematics take at most 3/4 of
    it), the white part Gaussian in flux (so skewed faint in magnitudes). Raises ``ValueError``
    for unsorted ``time`` or arrays of different lengths. Report the errors of the measured
    magnitudes with :func:`reported_errors`."""
    err = np.asarray(err, dtype=np.float64)
    if survey == "ogle":
        return rng.normal(0, err)
    if survey != "eros1":
        raise ValueError(f"survey={survey!r}: choose one of {list(SURVEYS)}")
    time = np.asarray(time, dtype=np.float64)
    if not (time.shape == err.shape == np.shape(mag)) or time.ndim != 1:
        raise ValueError(
            f"survey_noise: time {time.shape}, mag {np.shape(mag)} and err {err.shape} must be 1-D and of one length"
        )
    if np.any(np.diff(time) < 0):
        raise ValueError("survey_noise: time must be sorted (one star's epochs in time order)")
    season = season_index(time)
    level = float(np.median(mag)) if time.size else 0.0
    season_rms = float(np.interp(level, *EROS1_SEASON_OFFSET))
    red_rms = float(np.interp(level, *EROS1_RED_NOISE))
    offsets = rng.normal(0, season_rms, size=int(season.max()) + 1 if time.size else 0)
    red = np.zeros_like(time)
    for j in range(offsets.size):
        s = season == j
        red[s] = damped_random_walk(rng, time[s], red_rms, EROS1_RED_NOISE_TAU)
    var_sys = season_rms**2 + red_rms**2
    white = np.sqrt(np.maximum(err**2 - var_sys, 0.25 * err**2))
    # photon and sky noise is Gaussian in flux: in magnitudes it has a faint tail that grows as the
    # signal-to-noise drops (skewness ~ 3 x 0.92 sigma [mag]); a measurement below a quarter of the
    # star's flux (+1.5 mag; 0.06 % of points at 0.25 mag errors) is taken at that limit
    flux = rng.normal(0, white * np.log(10) / 2.5)
    return offsets[season] + red - 2.5 * np.log10(np.maximum(1.0 + flux, 0.25))


def reported_errors(err: np.ndarray, true_mag: np.ndarray, mag: np.ndarray, survey: str = "ogle") -> np.ndarray:
    """Errors [mag] a survey reports for measured magnitudes ``mag`` [mag] whose noise was drawn with
    errors ``err`` [mag] at the noise-free magnitudes ``true_mag`` [mag]. OGLE: ``err``. EROS-1: the
    error model at the measured magnitude, keeping each point's scatter factor
    (``err * eros1_error(mag) / eros1_error(true_mag)``): the photometry's error comes from the flux
    it measured, so points that came out faint report larger errors."""
    err = np.asarray(err, dtype=np.float64)
    if survey == "ogle":
        return err
    if survey != "eros1":
        raise ValueError(f"survey={survey!r}: choose one of {list(SURVEYS)}")
    return err * eros1_error(mag) / eros1_error(true_mag)


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


#: Days [d] by which the Magellanic Clouds' observing seasons follow the Galactic bulge's (half a year).
MC_SEASON_SHIFT = 182.6


def _season_centre(year: int, field: str) -> float:
    """Middle [HJD - 2450000] of the sky's ``year``-th observing season (0 = 2001) of ``field``
    ("bulge", or "mc": the Magellanic Clouds, :data:`MC_SEASON_SHIFT` later)."""
    shift = 0.0 if field == "bulge" else MC_SEASON_SHIFT
    return SKY_TIME_START + 130.0 + 365.25 * year + shift


def ogle_cadence(rng: np.random.Generator, n: int, years: int, field: str, survey: str = "ogle") -> np.ndarray:
    """Sorted observation times [HJD - 2450000] of ``n`` epochs over ``years`` seasons.

    ``field="bulge"`` or ``"mc"`` (Magellanic Clouds: seasons offset by half a year). Seasons
    last 200-260 nights, ~25% of nights are lost to weather; epochs fall on random remaining
    nights (a night can hold several) between 0.05 and 0.4 d after the night's start.
    ``survey="eros1"``: :func:`eros1_cadence` (the field is the LMC's whatever ``field`` says).
    """
    if survey == "eros1":
        return eros1_cadence(rng, n, years)
    if survey != "ogle":
        raise ValueError(f"survey={survey!r}: choose one of {list(SURVEYS)}")
    nights = []
    for y in range(years):
        half = rng.uniform(100, 130)
        c = _season_centre(y, field)
        nights.append(np.arange(np.floor(c - half), np.floor(c + half)))
    nights = np.concatenate(nights)
    nights = nights[rng.uniform(size=nights.size) > 0.25]  # weather losses
    pick = rng.choice(nights, size=n, replace=n > nights.size)
    t = pick + rng.uniform(0.05, 0.4, size=n)
    return np.sort(t)


#: EROS-1 LMC plate seasons, measured on the shared EROS-1 data (every star of it shares one schedule
#: up to per-field details): (start [d] after the first season's start, length [d], share of the
#: epochs). Measured: seasons of 120, 165 and 184 d starting 337 and 710 d apart, holding 27, 69 and
#: 26 of a star's ~120 red-band epochs (``python benchmarks/bench_eros1_noise.py``). Seasons after the third: 165 d, a third of a season's share, a
#: year apart.
EROS1_SEASONS = ((0.0, 120.0, 0.22), (337.0, 165.0, 0.57), (710.0, 184.0, 0.21))
#: Synodic month [d] and a full moon [HJD - 2450000] (2000 January 21, 04:40 UT).
SYNODIC_MONTH = 29.530589
FULL_MOON_EPOCH = 1564.69
#: No EROS-1 plate within this many days of full moon [d]: folded on the synodic month, the real
#: epochs leave 2 of 10 phase bins empty and the 2 beside them at half the mean density.
EROS1_MOON_HALF_WIDTH = 4.0
#: Chance that a night after an observed night is observed too (runs of consecutive nights): with
#: it the share of successive epochs one night apart is 0.52 (real 0.51), within 5 d 0.79 (0.80),
#: within 10 d 0.87 (0.87), within 30 d 0.974 (0.974) (300 simulated stars, 100-125 epochs, 3 seasons).
EROS1_RUN_PERSISTENCE = 0.6


def moon_distance(night: np.ndarray) -> np.ndarray:
    """Days [d] from the middle of each night (``night`` [HJD - 2450000], the night's start) to
    the nearest full moon (mean synodic month, :data:`FULL_MOON_EPOCH`)."""
    x = (np.asarray(night, dtype=np.float64) + 0.5 - FULL_MOON_EPOCH) / SYNODIC_MONTH
    return np.abs((x + 0.5) % 1.0 - 0.5) * SYNODIC_MONTH


def _runs_of_nights(rng: np.random.Generator, nights: np.ndarray, k: int, stay: float) -> np.ndarray:
    """``k`` of the sorted ``nights``, chosen by a two-state Markov chain (a night after an observed
    night is observed with probability ``stay``; otherwise at the rate that gives ``k`` on average),
    then trimmed or topped up at random to exactly ``k``; with ``k`` above the number of nights every
    night is kept and the rest fall on random nights again (a night can hold several epochs)."""
    if k >= nights.size:
        extra = rng.choice(nights, size=k - nights.size) if nights.size else np.zeros(0)
        return np.sort(np.concatenate([nights, extra]))
    pi = k / nights.size
    start = min(1.0, pi * (1.0 - stay) / (1.0 - pi))
    u = rng.uniform(size=nights.size)
    on = np.zeros(nights.size, dtype=bool)
    on[0] = u[0] < pi
    step = np.diff(nights) == 1
    for i in range(1, nights.size):
        on[i] = u[i] < (stay if (on[i - 1] and step[i - 1]) else start)
    idx = np.flatnonzero(on)
    if idx.size > k:
        idx = rng.choice(idx, size=k, replace=False)
    elif idx.size < k:
        idx = np.concatenate([idx, rng.choice(np.flatnonzero(~on), size=k - idx.size, replace=False)])
    return nights[np.sort(idx)]


def eros1_cadence(rng: np.random.Generator, n: int, years: int) -> np.ndarray:
    """Sorted observation times [HJD - 2450000] of ``n`` epochs of EROS-1's LMC plate schedule over
    ``years`` seasons (:data:`EROS1_SEASONS`): each season gets its measured share of the epochs,
    no night within :data:`EROS1_MOON_HALF_WIDTH` days of full moon is used, observed nights come
    in runs (:data:`EROS1_RUN_PERSISTENCE`), one epoch per night between 0.05 and 0.4 d after the
    night's start (when ``n`` exceeds a season's dark nights every night is used and the rest double
    up; when a season's share exceeds 60 % of its dark nights the runs fade into every other night).
    The first season is centred where :func:`ogle_cadence` centres the Magellanic Clouds' first
    season."""
    if int(n) < 0 or int(years) < 1:
        raise ValueError(f"eros1_cadence: n={n} epochs must be >= 0 and years={years} >= 1")
    seasons = [
        EROS1_SEASONS[y] if y < len(EROS1_SEASONS) else (EROS1_SEASONS[-1][0] + 365.25 * (y - 2), 165.0, 1.0 / 3.0)
        for y in range(int(years))
    ]
    share = np.array([s[2] for s in seasons])
    share = n * share / share.sum()
    k = np.floor(share).astype(int)
    k[np.argsort(k - share, kind="stable")[: n - int(k.sum())]] += 1
    first = _season_centre(0, "mc") - 0.5 * EROS1_SEASONS[0][1]
    picked = []
    for (offset, length, _), kk in zip(seasons, k):
        nights = np.arange(np.floor(first + offset), np.floor(first + offset + length))
        nights = nights[moon_distance(nights) > EROS1_MOON_HALF_WIDTH]
        picked.append(_runs_of_nights(rng, nights, int(kk), EROS1_RUN_PERSISTENCE))
    t = np.concatenate(picked)
    return np.sort(t + rng.uniform(0.05, 0.4, size=t.size))
