"""Missing physical parameters filled from the star's own photometry (``PrepareConfig.physics_imputation``).

Gaia DR2 gives an effective temperature (Apsis-Priam) only for stars brighter than G = 17, so in the
OGLE-III x Gaia DR2 cross-match 1 of 89 anomalous Cepheids (the LMC's, G ~ 18-19) has one, against
75 % of the classical Cepheids. The paper drops a star missing a selected parameter, so a cVAE-P
trained on the built-in sky saw 4 of 180 training ACEP and generated every ACEP from one star's
physics (classifier two-sample AUC 0.999, 5 of 60 test ACEP recognised by a classifier trained on
generated curves). Priam's Teff is a function of the Gaia colours, and BP-RP is measured for 87 %
of those ACEP, so the package fills the gap the way the catalogue would have:

- ``teff``: ``log10 Teff = c0 + c1 x + c2 x^2 + c3 x^3 + o_class`` with ``x`` = BP-RP [mag] clipped
  to the fitted colour range: one cubic for all classes (Priam is class-blind) fitted by least
  squares with iterative 3-sigma clipping, plus a per-class offset ``o_class`` (the median residual
  of a class with at least ``min_stars`` stars having both, else 0); then a draw from the class's
  clipped residual scatter (the pooled one for a small class); the result is clipped to the
  training Teff range;
- ``abs_gmag``: per class, linear in ``log10 P`` and BP-RP (a period-luminosity-colour relation),
  or in ``log10 P`` alone where BP-RP is missing too, fitted on the class's training stars with the
  same clipping, inputs clipped to the fitted ranges, plus a draw from the fit's clipped residual
  scatter, clipped to the class's measured absolute-G range; a class with fewer than
  ``min_stars`` such stars is not imputed.

Values are drawn, not set to the relation's mean, so the imputed stars keep (about; the clipping
leaves the residuals' outliers out) the spread of the measured ones: a conditional-mean fill would
put every ACEP on one Teff-colour line. Each star's draws come from the preparation seed and a
SHA-256 digest of its ID (the relations themselves come from all training stars). Only a NaN is
filled: other columns (period, radius, luminosity, BP-RP) and measured values are never changed.
``physics_imputation="none"`` keeps the paper's behaviour (stars lacking a selected parameter
leave the physics set).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from pelsvae_tf.data.shards import PHYSICS_COLUMNS

#: columns this module can fill
IMPUTABLE: tuple[str, ...] = ("teff", "abs_gmag")
#: degree of the log10 Teff(BP-RP) polynomial
TEFF_DEGREE = 3
#: clipping of the fits: iterations and threshold in robust standard deviations
CLIP_ITERS, CLIP_SIGMA = 3, 3.0


def _robust_sigma(r: np.ndarray) -> float:
    """1.4826 x median absolute deviation (the residuals' standard deviation without their outliers)."""
    r = np.asarray(r, np.float64)
    return float(1.4826 * np.median(np.abs(r - np.median(r))))


def _clipped_fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least squares ``y ~ x @ coef`` with ``CLIP_ITERS`` rounds of ``CLIP_SIGMA``-sigma clipping
    (robust sigma); returns ``(coef, kept)``."""
    keep = np.ones(y.size, bool)
    coef = np.linalg.lstsq(x, y, rcond=None)[0]
    for _ in range(CLIP_ITERS):
        r = y - x @ coef
        s = _robust_sigma(r[keep])
        new = np.abs(r - np.median(r[keep])) <= CLIP_SIGMA * max(s, 1e-12)
        if new.sum() <= x.shape[1] or np.array_equal(new, keep):
            break
        keep = new
        coef = np.linalg.lstsq(x[keep], y[keep], rcond=None)[0]
    return coef, keep


def _star_draws(seed: int, star_id: str) -> np.ndarray:
    """Two standard normals for one star, from the seed and a SHA-256 digest of its ID."""
    key = int.from_bytes(hashlib.sha256(star_id.encode("utf-8")).digest()[:8], "little")
    return np.random.default_rng([int(seed), 5, key]).standard_normal(2)


@dataclass
class PhysicsImputer:
    """Relations that fill a star's missing Teff [K] and absolute G [mag] (see the module doc).

    Attributes:
        teff_coef: log10 Teff polynomial in BP-RP, highest power first (``np.polyval`` order);
            empty when too few training stars have both (Teff is then not imputed)
        teff_offset: per class name, the class's median log10 Teff residual [dex] (classes with
            at least ``min_stars`` stars having Teff and BP-RP)
        teff_sigma: per class name (and ``"*"`` for the rest), the clipped residual scatter [dex]
        bp_rp_range: BP-RP range [mag] of the fit (colours outside are clipped to it)
        teff_range: Teff range [K] of the training stars (imputed values are clipped to it)
        abs_gmag: per class name, ``{"colour": [c0, c_logP, c_bprp] or [], "colour_sigma": mag,
            "period": [c0, c_logP], "period_sigma": mag, "logp_range": [lo, hi],
            "bp_rp_range": [lo, hi] (mag), "range": [lo, hi] (measured abs G, mag)}``
            (absent: that class is not imputed)
        min_stars: fewest training stars a relation (or an offset) is fitted on
        n_fit: training stars each relation was fitted on (before clipping)
    """

    teff_coef: list[float] = field(default_factory=list)
    teff_offset: dict[str, float] = field(default_factory=dict)
    teff_sigma: dict[str, float] = field(default_factory=dict)
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
            x, y, names = bprp[ok], np.log10(teff[ok]), classes[ok]
            design = np.vander(x, TEFF_DEGREE + 1)
            coef, keep = _clipped_fit(design, y)
            r = y - design @ coef
            for name in sorted(set(names.tolist())):
                m = names == name
                if m.sum() >= min_stars:
                    off = float(np.median(r[m & keep]))
                    out.teff_offset[name] = off
                    out.teff_sigma[name] = float(np.std(r[m & keep] - off))
            out.teff_sigma["*"] = float(np.std(r[keep]))
            out.teff_coef = [float(c) for c in coef]
            out.bp_rp_range = (float(x.min()), float(x.max()))
            out.teff_range = (float(teff[ok].min()), float(teff[ok].max()))
        absg, logp = col["abs_gmag"], np.log10(np.where(col["period"] > 0, col["period"], np.nan))
        for name in sorted(set(classes.tolist())):
            m = (classes == name) & np.isfinite(absg) & np.isfinite(logp)
            mc = m & np.isfinite(bprp)
            out.n_fit[f"abs_gmag:{name}"] = int(m.sum())
            out.n_fit[f"abs_gmag_colour:{name}"] = int(mc.sum())
            if m.sum() < min_stars:
                continue
            rel: dict[str, Any] = {
                "logp_range": [float(logp[m].min()), float(logp[m].max())],
                "range": [float(absg[m].min()), float(absg[m].max())],
                "colour": [],
                "colour_sigma": 0.0,
                "bp_rp_range": [0.0, 0.0],
            }
            design = np.column_stack([np.ones(m.sum()), logp[m]])
            coef, keep = _clipped_fit(design, absg[m])
            rel["period"] = [float(c) for c in coef]
            rel["period_sigma"] = float(np.std((absg[m] - design @ coef)[keep]))
            if mc.sum() >= min_stars:
                design = np.column_stack([np.ones(mc.sum()), logp[mc], bprp[mc]])
                coef, keep = _clipped_fit(design, absg[mc])
                rel["colour"] = [float(c) for c in coef]
                rel["colour_sigma"] = float(np.std((absg[mc] - design @ coef)[keep]))
                rel["bp_rp_range"] = [float(bprp[mc].min()), float(bprp[mc].max())]
            out.abs_gmag[name] = rel
        return out

    def apply(
        self, phys: np.ndarray, classes: Sequence[str], star_ids: Sequence[str], seed: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(filled, imputed)``: ``phys`` [n, 6] (float64) with the missing (NaN) Teff / abs G
        filled where the relations allow, and a boolean [n, 6] mask of the filled entries. Each
        star's draws come from ``(seed, its ID)`` only."""
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
        eps = np.array([_star_draws(seed, s) for s in ids]).reshape(-1, 2)
        bprp = phys[:, ib]
        if self.teff_coef:
            need = np.isnan(phys[:, it]) & np.isfinite(bprp)
            x = np.clip(bprp[need], *self.bp_rp_range)
            names = classes[need]
            off = np.array([self.teff_offset.get(c, 0.0) for c in names])
            sig = np.array([self.teff_sigma.get(c, self.teff_sigma["*"]) for c in names])
            logt = np.polyval(self.teff_coef, x) + off + sig * eps[need, 0]
            out[need, it] = np.clip(10.0**logt, *self.teff_range)
            mask[need, it] = True
        per = phys[:, ip]
        logp = np.log10(np.where(np.isfinite(per) & (per > 0), per, np.nan))
        for name, rel in self.abs_gmag.items():
            need = (classes == name) & np.isnan(phys[:, ia]) & np.isfinite(logp)
            lp = np.clip(logp, *rel["logp_range"])
            use_col = need & np.isfinite(bprp) & bool(rel["colour"])
            pon = need & ~use_col
            if use_col.any():
                c = rel["colour"]
                bc = np.clip(bprp[use_col], *rel["bp_rp_range"])
                out[use_col, ia] = c[0] + c[1] * lp[use_col] + c[2] * bc + rel["colour_sigma"] * eps[use_col, 1]
            c = rel["period"]
            out[pon, ia] = c[0] + c[1] * lp[pon] + rel["period_sigma"] * eps[pon, 1]
            out[need, ia] = np.clip(out[need, ia], *rel["range"])
            mask[need, ia] = True
        return out, mask

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (``schema.json["physics_imputation"]``)."""
        return {
            "teff_coef": list(self.teff_coef),
            "teff_offset": dict(self.teff_offset),
            "teff_sigma": dict(self.teff_sigma),
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
            teff_offset={k: float(v) for k, v in d.get("teff_offset", {}).items()},
            teff_sigma={k: float(v) for k, v in d.get("teff_sigma", {}).items()},
            bp_rp_range=tuple(d.get("bp_rp_range", (0.0, 0.0))),
            teff_range=tuple(d.get("teff_range", (0.0, 0.0))),
            abs_gmag=dict(d.get("abs_gmag", {})),
            min_stars=int(d.get("min_stars", 20)),
            n_fit=dict(d.get("n_fit", {})),
        )
