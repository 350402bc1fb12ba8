"""Light-curve sets for the realism yardstick: :class:`CurveSet` (per-curve ``time`` [d], ``mag``
[mag], ``err`` [mag], class and period [d]) and its constructors from EROS-1, SDSS Stripe 82 RR
Lyrae, the built-in sky, a prepared dataset and generated curves. Re-exported by
:mod:`pelsvae_tf.evaluate.realism`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from pelsvae_tf.classes import canonical_class
from pelsvae_tf.data.dataset import PreparedDataset
from pelsvae_tf.data.readers import LightCurveError, read_csv_lightcurve, read_eros1
from pelsvae_tf.sky import SkyConfig, simulate_star, sky_samples


@dataclass
class CurveSet:
    """A set of light curves with class and period.

    ``time`` [d], ``mag`` [mag], ``err`` [mag]: lists of 1-D arrays (one per curve, same length
    within a curve); ``cls``: class names, canonicalised by
    :func:`pelsvae_tf.classes.canonical_class` (an unknown name raises); ``period`` [d] per curve; ``name``: label used in reports; ``ids``
    optional identifiers. Raises ``ValueError`` naming the field on inconsistent input.
    """

    time: list
    mag: list
    err: list
    cls: list
    period: list
    name: str = "X"
    ids: list = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.time)
        for f in ("mag", "err", "cls", "period"):
            if len(getattr(self, f)) != n:
                raise ValueError(
                    f"CurveSet.{f}: {len(getattr(self, f))} entries but time has {n}; give one entry per curve"
                )
        self.cls = [canonical_class(c) for c in self.cls]
        self.period = [float(p) for p in self.period]
        bad = [i for i, p in enumerate(self.period) if not (math.isfinite(p) and p > 0)]
        if bad:
            raise ValueError(f"CurveSet.period: curve(s) {bad[:5]} have period <= 0 or NaN; periods are in days, > 0")
        for i in range(n):
            t, m, e = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (self.time[i], self.mag[i], self.err[i]))
            if not (t.size == m.size == e.size):
                raise ValueError(f"CurveSet curve {i}: time/mag/err lengths {t.size}/{m.size}/{e.size} differ")
            self.time[i], self.mag[i], self.err[i] = t, m, e
        if self.ids and len(self.ids) != n:
            raise ValueError(f"CurveSet.ids: {len(self.ids)} entries for {n} curves")

    def __len__(self) -> int:
        return len(self.time)

    def classes(self) -> list[str]:
        """Sorted class names present."""
        return sorted(set(self.cls))

    @classmethod
    def from_lightcurves(
        cls, curves: Iterable[Any], classes: Sequence[str], periods: Sequence[float], name: str = "X"
    ) -> "CurveSet":
        """Build from :class:`~pelsvae_tf.data.lightcurve.LightCurve` objects, classes and periods [d]."""
        curves = list(curves)
        return cls(
            [c.time for c in curves],
            [c.mag for c in curves],
            [c.err for c in curves],
            list(classes),
            list(periods),
            name=name,
            ids=[c.id for c in curves],
        )


# ------------------------------------------------------------------------------------------
# constructors
# ------------------------------------------------------------------------------------------
def curves_from_eros1(
    directory: str | Path,
    band: str = "r",
    classes: Sequence[str] | None = None,
    splits: Sequence[str] = ("train", "test"),
    max_per_class: int | None = None,
    seed: int = 0,
) -> CurveSet:
    """EROS-1 LMC curves (:func:`pelsvae_tf.data.readers.read_eros1`) as a :class:`CurveSet`.

    ``max_per_class`` randomly keeps at most that many stars per class (seeded)."""
    cat, curves = read_eros1(directory, splits=splits, band=band)
    keep = _subsample(cat["cls"].tolist(), classes, max_per_class, seed)
    return CurveSet.from_lightcurves(
        [curves[i] for i in keep],
        cat["cls"].iloc[keep].tolist(),
        cat["period"].iloc[keep].tolist(),
        name=f"EROS-1 {band}",
    )


def curves_from_sdss_rrlyrae(
    directory: str | Path, band: str = "r", max_stars: int | None = None, seed: int = 0
) -> CurveSet:
    """SDSS Stripe 82 RR Lyrae (Sesar et al. 2010) in one band (``u g r i z``) as a :class:`CurveSet`
    of class RRLYR (``periods.csv``: ``Num``, ``Per`` [d]; ``light-curves/<Num>.csv``)."""
    directory = Path(directory)
    per_path = directory / "periods.csv"
    if not per_path.exists():
        raise FileNotFoundError(f"{per_path} does not exist; point directory at the sdss_s82_rrlyrae folder")
    per = pd.read_csv(per_path)
    if band not in tuple("ugriz"):
        raise ValueError(f"curves_from_sdss_rrlyrae: band={band!r}; SDSS bands are u, g, r, i, z")
    keep = _subsample(["RRLYR"] * len(per), None, max_stars, seed)
    curves, periods = [], []
    for i in keep:
        row = per.iloc[i]
        try:
            lc = read_csv_lightcurve(directory / "light-curves" / f"{int(row['Num'])}.csv", band=band)
        except (LightCurveError, FileNotFoundError, ValueError):
            continue
        curves.append(lc)
        periods.append(float(row["Per"]))
    return CurveSet.from_lightcurves(curves, ["RRLYR"] * len(curves), periods, name=f"SDSS S82 {band}")


def curves_from_sky(config: Any = None, classes: Sequence[str] | None = None, name: str = "sky") -> CurveSet:
    """Simulate the built-in sky in memory (:func:`pelsvae_tf.sky.simulate_star`, no files)
    for ``config`` (a :class:`~pelsvae_tf.sky.SkyConfig`) and the given classes; the period
    is the catalogue period."""
    config = SkyConfig() if config is None else config
    samples = sky_samples()
    counts = config.counts()
    classes = [canonical_class(c) for c in (classes or [c for c, n in counts.items() if n > 0])]
    t, m, e, c, p, ids = [], [], [], [], [], []
    for cl in classes:
        for i in range(counts[cl]):
            time, mag, err, crow, _ = simulate_star(cl, i, config, samples)
            t.append(time), m.append(mag), e.append(err), c.append(cl), p.append(crow["Period"])
            ids.append(crow["OGLE-ID"])
    return CurveSet(t, m, e, c, p, name=name, ids=ids)


def curves_from_prepared(
    path: str | Path, split: str = "test", real_only: bool = True, max_per_class: int | None = None, seed: int = 0
) -> CurveSet:
    """Curves of a prepared dataset split, back in magnitudes (``mag_min + mag * mag_range``,
    errors times ``mag_range``) with ``time = phase * period`` [d]; ``real_only`` drops augmented
    copies."""
    ds = PreparedDataset(path)
    a = ds.arrays(split)
    idx = np.arange(len(a["label"]))
    if real_only:
        idx = idx[a["is_real"][idx]]
    names = [ds.classes[int(k)] for k in a["label"][idx]]
    keep = idx[_subsample(names, None, max_per_class, seed)]
    t, m, e, c, p = [], [], [], [], []
    for i in keep:
        order = np.argsort(a["phase"][i], kind="stable")
        rng_ = float(a["mag_range"][i])
        t.append(a["phase"][i][order].astype(np.float64) * float(a["period"][i]))
        m.append(float(a["mag_min"][i]) + a["mag"][i][order].astype(np.float64) * rng_)
        e.append(np.maximum(a["err"][i][order].astype(np.float64) * rng_, 1e-4))
        c.append(ds.classes[int(a["label"][i])])
        p.append(float(a["period"][i]))
    return CurveSet(t, m, e, c, p, name=f"prepared {split}")


def curves_from_generated(generated: Any, name: str = "generated") -> CurveSet:
    """Generated curves (a :class:`~pelsvae_tf.generate.generator.GeneratedLightCurves`, or anything with
    ``[n, T]`` arrays ``time`` [d], ``mag``, ``err`` [mag] and ``[n]`` ``cls``, ``period`` [d]) as a
    :class:`CurveSet`; errors are floored at 1e-4 mag."""
    for f in ("time", "mag", "err", "cls", "period"):
        if not hasattr(generated, f):
            raise ValueError(
                f"curves_from_generated: input has no {f!r}; pass GeneratedLightCurves "
                f"(or an object with time, mag, err, cls, period)"
            )
    t, m, e = (np.asarray(getattr(generated, f), dtype=np.float64) for f in ("time", "mag", "err"))
    n = len(generated.cls)
    return CurveSet(
        [t[i] for i in range(n)],
        [m[i] for i in range(n)],
        [np.maximum(e[i], 1e-4) for i in range(n)],
        [str(c) for c in generated.cls],
        [float(p) for p in generated.period],
        name=name,
    )


def _subsample(
    cls_list: Sequence[str], classes: Sequence[str] | None, max_per_class: int | None, seed: int
) -> np.ndarray:
    cls_arr = np.asarray(cls_list, dtype=object)
    wanted = None if classes is None else {canonical_class(c) for c in classes}
    rng = np.random.default_rng(seed)
    keep = []
    for c in sorted(set(cls_arr.tolist())):
        if wanted is not None and c not in wanted:
            continue
        idx = np.flatnonzero(cls_arr == c)
        if max_per_class is not None and idx.size > max_per_class:
            idx = np.sort(rng.choice(idx, size=max_per_class, replace=False))
        keep.extend(idx.tolist())
    return np.asarray(sorted(keep), dtype=int)
