"""The real-star tables the built-in sky draws from (OGLE-III x Gaia DR2; OGLE-III LMC semi-regulars).

``pelsvae_tf/resources/sky_samples.csv.gz`` is built by ``scripts/build_sky_tables.py``,
``pelsvae_tf/resources/sky_lmc_srv.csv.gz`` by ``scripts/build_srv_table.py``; both ship with the package.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from pelsvae_tf.sky.survey import (
    SURVEY_CLASS_MAGNITUDES,
    SURVEY_FIELD,
    has_field_distance,
    ogle_error,
    survey_class_magnitude,
    survey_magnitude_shift,
)


@lru_cache(maxsize=1)
def sky_samples() -> pd.DataFrame:
    """The real-star table shipped in ``pelsvae_tf/resources/sky_samples.csv.gz`` (see module doc)."""
    ref = resources.files("pelsvae_tf") / "resources" / "sky_samples.csv.gz"
    with resources.as_file(ref) as p:
        if not Path(p).exists():
            raise FileNotFoundError(f"{p} is missing; rebuild it with scripts/build_sky_tables.py")
        df = pd.read_csv(p, compression="gzip")
    return df


@lru_cache(maxsize=1)
def lmc_srv_samples() -> pd.DataFrame:
    """The LMC semi-regular variables shipped in ``pelsvae_tf/resources/sky_lmc_srv.csv.gz``
    (OGLE-III, I-band amplitude >= 0.2 mag; ``scripts/build_srv_table.py``): ``source_id``, ``period``
    [d], ``A_1`` [mag], ``P_2`` [d], ``A_2`` [mag], ``I`` [mag], ``V_I`` [mag]; the physics columns of
    :func:`sky_samples` are added as NaN (Gaia DR2 gives these stars none in the sky's table)."""
    ref = resources.files("pelsvae_tf") / "resources" / "sky_lmc_srv.csv.gz"
    with resources.as_file(ref) as p:
        if not Path(p).exists():
            raise FileNotFoundError(f"{p} is missing; rebuild it with scripts/build_srv_table.py")
        df = pd.read_csv(p, compression="gzip")
    for col in ("teff", "abs_gmag", "bp_rp", "radius", "lum"):
        df[col] = np.nan
    df["cls"], df["subtype"] = "LPV", "SRV"
    return df


def rr_donor(
    samples: pd.DataFrame, bailey: str, period: float, amp: float, snr_floor: float, rng: np.random.Generator
) -> pd.Series:
    """A real cross-matched RR Lyrae of Bailey type ``bailey`` (one of the 5 nearest in log-period,
    among those above the S/N floor for amplitude ``amp`` [mag]) that lends its photometry and physics."""
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


def survey_magnitudes(cls: str, survey: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Mean magnitudes [mag] of ``n`` real OGLE-III stars of class ``cls`` drawn with replacement, as
    ``survey`` sees them: moved into its field by :func:`pelsvae_tf.sky.survey.survey_magnitude_shift`,
    only stars with a field distance when the survey moves stars and the class has any (the sky's
    donor rule; the sky's S/N floor, detection cut and RR Lyrae donor choice are not applied); for a
    class whose magnitudes the survey draws from its own catalogue's distribution
    (:func:`pelsvae_tf.sky.survey.survey_class_magnitude`, e.g. EROS-1's eclipsing binaries), draws
    from that distribution."""
    if cls in SURVEY_CLASS_MAGNITUDES.get(survey, {}):
        return np.array([survey_class_magnitude(rng, cls, survey) for _ in range(int(n))])
    pool = sky_samples()
    pool = pool[pool["cls"] == cls]
    if pool.empty:
        raise ValueError(f"survey_magnitudes: no real {cls} star in the sky table")
    shift = pool["source_id"].map(lambda sid: survey_magnitude_shift(sid, survey, cls)).to_numpy(np.float64)
    known = pool["source_id"].map(lambda sid: has_field_distance(sid, cls)).to_numpy(bool)
    mags = pool["I"].to_numpy(np.float64) + shift
    if SURVEY_FIELD[survey] is not None and known.any():
        mags = mags[known]
    return rng.choice(mags, size=int(n), replace=True)
