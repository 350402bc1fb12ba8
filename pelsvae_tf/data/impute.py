"""Missing physical parameters filled from the star's own photometry (``PrepareConfig.physics_imputation``).

Gaia DR2 gives an effective temperature (Apsis-Priam) only for stars brighter than G = 17, so in the
OGLE-III x Gaia DR2 cross-match 1 of 89 anomalous Cepheids (the LMC's, G ~ 18-19) has one, against
75 % of the classical Cepheids. The paper drops a star missing a selected parameter, so a cVAE-P
trained on the built-in sky saw 4 of 180 training ACEP and generated every ACEP from one star's
physics (classifier two-sample AUC 0.999, 5 of 60 test ACEP recognised by a classifier trained on
generated curves). Priam's Teff is a function of the Gaia colours, and BP-RP is measured for 87 %
of those ACEP, so the package fills the gap the way the catalogue would have:

- ``teff``: ``log10 Teff = c0 + c1 x + c2 x^2 + c3 x^3`` with ``x`` = BP-RP [mag] clipped to the
  fitted colour range, fitted on the training stars with both (all classes pooled: Priam is
  class-blind; per-class mean residuals on the shipped sky table are <= 0.015 dex against a
  scatter of 0.027 dex), plus a draw from the residual scatter, clipped to the training Teff range;
- ``abs_gmag``: per class, linear in ``log10 P`` and BP-RP (a period-luminosity-colour relation)
  fitted on the class's training stars, or in ``log10 P`` alone where BP-RP is missing too, plus a
  draw from that fit's residual scatter; a class with fewer than ``min_stars`` such stars is not
  imputed.

Values are drawn, not set to the relation's mean, so the imputed stars keep the spread of the
measured ones (a conditional-mean fill would put every ACEP on one Teff-colour line). The draw is
seeded by the preparation seed and the star's ID: a star's values depend on nothing else.
Other columns (period, radius, luminosity, BP-RP) are never imputed; measured values are never
changed. ``physics_imputation="none"`` keeps the paper's behaviour (stars lacking a selected
parameter leave the physics set).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from pelsvae_tf.data.shards import PHYSICS_COLUMNS

#: columns this module can fill
IMPUTABLE: tuple[str, ...] = ("teff", "abs_gmag")
#: degree of the log10 Teff(BP-RP) polynomial
TEFF_DEGREE = 3


def _robust_sigma(r: np.ndarray) -> float:
    """1.4826 x median absolute deviation (the residuals' standard deviation without their outliers)."""
    r = np.asarray(r, np.float64)
    return float(1.4826 * np.median(np.abs(r - np.median(r))))


def _lstsq(x: np.ndarray, y: np.ndarray) -> tuple[list[float], float]:
    coef = np.linalg.lstsq(x, y, rcond=None)[0]
    return [float(c) for c in coef], _robust_sigma(y - x @ coef)


@dataclass
class PhysicsImputer:
    """Relations that fill a star's missing Teff [K] and absolute G [mag] (see the module doc).

    Attributes:
        teff_coef: log10 Teff polynomial in BP-RP, highest power first (``np.polyval`` order);
            empty when too few training stars have both (Teff is then not imputed)
        teff_sigma: residual scatter of that fit [dex]
        bp_rp_range: BP-RP range [mag] of the fit (colours outside are clipped to it)
        teff_range: Teff range [K] of the training stars (imputed values are clipped to it)
        abs_gmag: per class name, ``{"colour": [c0, c_logP, c_bprp], "colour_sigma": mag,
            "period": [c0, c_logP], "period_sigma": mag}`` (absent: that class is not imputed)
        min_stars: fewest training stars a relation is fitted on
        n_fit: training stars each relation was fitted on
    """

    teff_coef: list[float] = field(default_factory=list)
    teff_sigma: float = 0.0
    bp_rp_range: tuple[float, float] = (0.0, 0.0)
    teff_range: tuple[float, float] = (0.0, 0.0)
    abs_gmag: dict[str, dict[str, Any]] = field(default_factory=dict)
    min_stars: int = 20
    n_fit: dict[str, int] = field(default_factory=dict)

    @classmethod
    def fit(cls, phys: np.ndarray, classes: Sequence[str], min_stars: int = 20) -> "PhysicsImputer":
        """Fit on training stars: ``phys`` [n, 6] raw values in ``PHYSICS_COLUMNS`` order (NaN =
        missing; Teff K, abs_gmag mag, period d, BP-RP mag), ``classes`` [n] class names."""
        phys = np.asarray(phys, np.float64)
        if phys.ndim != 2 or phys.shape[1] != len(PHYSICS_COLUMNS):
            raise ValueError(f"PhysicsImputer.fit: phys must be [n, {len(PHYSICS_COLUMNS)}] ({list(PHYSICS_COLUMNS)})")
        classes = np.asarray(classes).astype(str)
        if classes.shape != (phys.shape[0],):
            raise ValueError("PhysicsImputer.fit: one class name per row of phys")
        if min_stars < 4:
            raise ValueError(f"PhysicsImputer.fit: min_stars={min_stars}; must be >= 4")
        col = {c: phys[:, i] for i, c in enumerate(PHYSICS_COLUMNS)}
        out = cls(min_stars=int(min_stars))
        teff, bprp = col["teff"], col["bp_rp"]
        ok = np.isfinite(teff) & (teff > 0) & np.isfinite(bprp)
        out.n_fit["teff"] = int(ok.sum())
        if ok.sum() >= min_stars:
            x, y = bprp[ok], np.log10(teff[ok])
            coef = np.polyfit(x, y, TEFF_DEGREE)
            out.teff_coef = [float(c) for c in coef]
            out.teff_sigma = _robust_sigma(y - np.polyval(coef, x))
            out.bp_rp_range = (float(x.min()), float(x.max()))
            out.teff_range = (float(teff[ok].min()), float(teff[ok].max()))
        absg, logp = col["abs_gmag"], np.log10(np.where(col["period"] > 0, col["period"], np.nan))
        for name in sorted(set(classes.tolist())):
            m = (classes == name) & np.isfinite(absg) & np.isfinite(logp)
            mc = m & np.isfinite(bprp)
            out.n_fit[f"abs_gmag:{name}"] = int(m.sum())
            if mc.sum() < min_stars:
                continue
            c_col, s_col = _lstsq(np.column_stack([np.ones(mc.sum()), logp[mc], bprp[mc]]), absg[mc])
            c_per, s_per = _lstsq(np.column_stack([np.ones(m.sum()), logp[m]]), absg[m])
            out.abs_gmag[name] = {"colour": c_col, "colour_sigma": s_col, "period": c_per, "period_sigma": s_per}
        return out

    def apply(
        self, phys: np.ndarray, classes: Sequence[str], star_ids: Sequence[str], seed: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(filled, imputed)``: ``phys`` [n, 6] with the missing Teff / abs G filled where the
        relations allow (float32 like the prepared data), and a boolean [n, 6] mask of the filled
        entries. Each star's draws come from ``(seed, its ID)`` only."""
        phys = np.asarray(phys, np.float64)
        if phys.ndim != 2 or phys.shape[1] != len(PHYSICS_COLUMNS):
            raise ValueError(f"PhysicsImputer.apply: phys must be [n, {len(PHYSICS_COLUMNS)}]")
        classes = np.asarray(classes).astype(str)
        ids = [str(s) for s in star_ids]
        if classes.shape != (phys.shape[0],) or len(ids) != phys.shape[0]:
            raise ValueError("PhysicsImputer.apply: one class name and one star ID per row of phys")
        it, ia, ib, ip = (PHYSICS_COLUMNS.index(c) for c in ("teff", "abs_gmag", "bp_rp", "period"))
        out = phys.copy()
        mask = np.zeros(phys.shape, dtype=bool)
        # two standard normal draws per star (Teff, abs G), from the seed and the star's ID alone
        eps = np.array(
            [np.random.default_rng([int(seed), 5, zlib.crc32(s.encode("utf-8"))]).standard_normal(2) for s in ids]
        ).reshape(-1, 2)
        bprp = phys[:, ib]
        if self.teff_coef:
            need = ~np.isfinite(phys[:, it]) & np.isfinite(bprp)
            x = np.clip(bprp[need], *self.bp_rp_range)
            logt = np.polyval(self.teff_coef, x) + self.teff_sigma * eps[need, 0]
            out[need, it] = np.clip(10.0**logt, *self.teff_range)
            mask[need, it] = True
        per = phys[:, ip]
        logp = np.log10(np.where(per > 0, per, np.nan))
        for name, rel in self.abs_gmag.items():
            need = (classes == name) & ~np.isfinite(phys[:, ia]) & np.isfinite(logp)
            col = need & np.isfinite(bprp)
            pon = need & ~np.isfinite(bprp)
            c = rel["colour"]
            out[col, ia] = c[0] + c[1] * logp[col] + c[2] * bprp[col] + rel["colour_sigma"] * eps[col, 1]
            c = rel["period"]
            out[pon, ia] = c[0] + c[1] * logp[pon] + rel["period_sigma"] * eps[pon, 1]
            mask[need, ia] = True
        return out.astype(np.float32), mask

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (``schema.json["physics_imputation"]``)."""
        return {
            "teff_coef": list(self.teff_coef),
            "teff_sigma": self.teff_sigma,
            "bp_rp_range": list(self.bp_rp_range),
            "teff_range": list(self.teff_range),
            "abs_gmag": self.abs_gmag,
            "min_stars": self.min_stars,
            "n_fit": dict(self.n_fit),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PhysicsImputer":
        """Inverse of :meth:`to_dict`."""
        return cls(
            teff_coef=[float(c) for c in d.get("teff_coef", [])],
            teff_sigma=float(d.get("teff_sigma", 0.0)),
            bp_rp_range=tuple(d.get("bp_rp_range", (0.0, 0.0))),
            teff_range=tuple(d.get("teff_range", (0.0, 0.0))),
            abs_gmag=dict(d.get("abs_gmag", {})),
            min_stars=int(d.get("min_stars", 20)),
            n_fit=dict(d.get("n_fit", {})),
        )
