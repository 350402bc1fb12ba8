"""The real-star table the built-in sky draws from (OGLE-III x Gaia DR2, shipped with the package).

``pelsvae_tf/resources/sky_samples.csv.gz`` is built by ``scripts/build_sky_tables.py``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from pelsvae_tf.sky.survey import SURVEY_FIELD, has_field_distance, ogle_error, survey_magnitude_shift


@lru_cache(maxsize=1)
def sky_samples() -> pd.DataFrame:
    """The real-star table shipped in ``pelsvae_tf/resources/sky_samples.csv.gz`` (see module doc)."""
    ref = resources.files("pelsvae_tf") / "resources" / "sky_samples.csv.gz"
    with resources.as_file(ref) as p:
        if not Path(p).exists():
            raise FileNotFoundError(f"{p} is missing; rebuild it with scripts/build_sky_tables.py")
        df = pd.read_csv(p, compression="gzip")
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
    donor rule; the sky's S/N floor, detection cut and RR Lyrae donor choice are not applied)."""
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
