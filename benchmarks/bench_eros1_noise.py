"""EROS-1 survey statistics behind the sky's ``survey="eros1"`` model, for the real curves and the sky.

Prints, for the shared EROS-1 red-band curves (``--split``, default train: the model was built on it)
and for a sky of ``--n-per-class`` stars per class simulated with ``survey="eros1"`` (3 seasons,
100-125 epochs, ``--seed``):

- per class: median mean magnitude, period and 5-95 % range; the per-star error level's scatter
  about the EROS-1 error model;
- cadence: share of successive epochs within 1.5 / 5 / 10 / 30 d, and the epochs folded on the
  synodic month (10 bins from full moon);
- residuals about a weighted 4-harmonic fit at the catalogue period (CEP, ECL, RR Lyrae; 4 robust
  sigma clipped), per magnitude bin: rms of the season means beyond their noise share [mag], the
  next-night correlation within seasons (season means removed), and the median per-star skewness of
  the residuals (clipped as the realism features clip) and of residual / error;
- LPV periods: for the EROS-1 LPVs whose period the data set divides by ``div_period`` >= 2, the
  median chi^2 per point of a 4-harmonic fit at the divided and at the undivided period, and the
  share where the divided one fits better (the same for the other classes); the median I of the
  sky table's Magellanic-Cloud eclipsing-binary donors.

Run: ``python benchmarks/bench_eros1_noise.py`` (~1-2 min on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from common import print_machine_info  # noqa: E402
from scipy.stats import skew  # noqa: E402

from pelsvae_tf.sky.survey import FULL_MOON_EPOCH, SYNODIC_MONTH, season_index  # noqa: E402

SHARED = HERE.parent.parent / "shared" / "data"
CLASSES4 = ("CEP", "ECL", "LPV", "RRLYR")
MAG_BINS = ((13.0, 16.0), (16.0, 17.0), (17.0, 18.0), (18.0, 19.0), (19.0, 21.0))
SKEW_BINS = ((13.0, 15.5), (15.5, 16.5), (16.5, 17.5), (17.5, 18.5), (18.5, 19.2), (19.2, 21.0))


def _fit(t, m, e, period):
    """Residuals [mag] about the weighted 4-harmonic Fourier fit at ``period`` [d], and chi^2 / point."""
    ph = np.mod(t / period, 1.0)
    cols = [np.ones_like(ph)]
    for k in range(1, 5):
        cols += [np.cos(2 * np.pi * k * ph), np.sin(2 * np.pi * k * ph)]
    X = np.column_stack(cols)
    coef = np.linalg.lstsq(X / e[:, None], m / e, rcond=None)[0]
    r = m - X @ coef
    return r, float(np.mean((r / e) ** 2))


def class_stats(cs) -> list[str]:
    """Per class: median magnitude [mag], period [d] and 5-95 % range [mag]; per-star error level."""
    from pelsvae_tf.sky.survey import eros1_error

    rows = []
    cls = np.asarray(cs.cls)
    for c in CLASSES4:
        idx = np.flatnonzero(cls == c)
        mag = [np.mean(cs.mag[i]) for i in idx]
        rng_ = [np.subtract(*np.percentile(cs.mag[i], [95, 5])) for i in idx]
        per = [cs.period[i] for i in idx]
        rows.append(
            f"{c}: {idx.size} stars, median mean magnitude {np.median(mag):.2f}, period {np.median(per):.3g} d, "
            f"5-95 % range {np.median(rng_):.2f} mag"
        )
    lv = [np.log10(np.median(e) / eros1_error(np.median(m))) for m, e in zip(cs.mag, cs.err)]
    rows.append(f"per-star median error / eros1_error(median magnitude): {np.std(lv):.3f} dex rms")
    return rows


def cadence_stats(cs) -> str:
    dt = np.concatenate([np.diff(np.sort(np.asarray(t))) for t in cs.time])
    allt = np.concatenate([np.asarray(t) for t in cs.time])
    moon, _ = np.histogram(np.mod(allt - FULL_MOON_EPOCH, SYNODIC_MONTH) / SYNODIC_MONTH, bins=10, range=(0, 1))
    within = " / ".join(f"{np.mean(dt < x):.3f}" for x in (1.5, 5, 10, 30))
    lengths, starts, counts = [], [], []
    for t in cs.time:
        t = np.sort(np.asarray(t))
        season = season_index(t)
        if season.max() == 2:
            lengths.append([np.ptp(t[season == j]) for j in range(3)])
            starts.append([t[season == j][0] - t[0] for j in range(3)])
            counts.append(np.bincount(season))
    return (
        f"seasons (stars with 3): median start {np.round(np.median(starts, axis=0))} d after the first, "
        f"length {np.round(np.median(lengths, axis=0))} d, epochs {np.median(counts, axis=0)}\n"
        f"successive epochs within 1.5 / 5 / 10 / 30 d: {within}; moon-phase bins: {np.round(moon / moon.sum(), 2)}"
    )


def residual_stats(cs) -> list[str]:
    rows = []
    res = []
    for t, m, e, c, p in zip(cs.time, cs.mag, cs.err, cs.cls, cs.period):
        if c == "LPV":
            continue
        t, m, e = (np.asarray(a, np.float64) for a in (t, m, e))
        order = np.argsort(t)
        t, m, e = t[order], m[order], e[order]
        r, _ = _fit(t, m, e, float(p))
        res.append((t, r, e, float(np.median(m))))
    for lo, hi in MAG_BINS:
        offs, a, b = [], [], []
        for t, r, e, level in res:
            if not lo <= level < hi:
                continue
            keep = np.abs(r) < 4 * 1.4826 * np.median(np.abs(r))
            t, r, e = t[keep], r[keep], e[keep]
            season = season_index(t)
            rr = r.copy()
            for j in np.unique(season):
                s = season == j
                if s.sum() >= 8:
                    offs.append(r[s].mean() ** 2 - np.mean(e[s] ** 2) / s.sum())
                rr[s] -= r[s].mean()
            pair = np.diff(t) < 1.5
            a += list(rr[:-1][pair])
            b += list(rr[1:][pair])
        if len(offs) >= 10:
            rows.append(
                f"r {lo:.0f}-{hi:.0f}: season offsets {np.sqrt(max(np.mean(offs), 0)):.3f} mag, "
                f"next-night correlation {np.corrcoef(a, b)[0, 1]:+.3f}"
            )
    for lo, hi in SKEW_BINS:
        sk, ske = [], []
        for t, r, e, level in res:
            if not lo <= level < hi:
                continue
            s = 1.4826 * np.median(np.abs(r - np.median(r)))
            sk.append(skew(r[np.abs(r) <= 4 * s]))
            z = r / e
            ske.append(skew(z[np.abs(z) < 6]))
        if len(sk) >= 5:
            rows.append(
                f"r {lo}-{hi}: n {len(sk)}, median skewness of residuals {np.median(sk):+.2f}, "
                f"of residual / error {np.median(ske):+.2f}"
            )
    return rows


def lpv_period_check(eros_dir: Path, split: str) -> list[str]:
    from pelsvae_tf.data.eros1 import read_eros1

    cat, curves = read_eros1(eros_dir, splits=(split,))
    raw = pd.read_csv(eros_dir / f"{split}.csv", index_col=0)
    rows = []
    for cls in CLASSES4:
        out = []
        for i in np.flatnonzero(cat["cls"].to_numpy() == cls):
            sid = cat["id"].iloc[i]
            div, period = raw.loc[sid, "div_period"], raw.loc[sid, "period"]
            if div < 2:
                continue
            c = curves[i]
            t, m, e = (np.asarray(a, np.float64) for a in (c.time, c.mag, c.err))
            out.append((_fit(t, m, e, period / div)[1], _fit(t, m, e, period)[1]))
        if out:
            o = np.asarray(out)
            rows.append(
                f"{cls}: {len(o)} stars with div_period >= 2; chi^2 / point at period / div {np.median(o[:, 0]):.2f}, "
                f"at period {np.median(o[:, 1]):.2f}; divided period better for {np.mean(o[:, 0] < o[:, 1]):.2f}"
            )
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eros", default=str(SHARED / "eros1_lmc_ramp"), help="EROS-1 RAMP folder")
    ap.add_argument("--split", default="train", choices=("train", "test"), help="EROS-1 split")
    ap.add_argument("--n-per-class", type=int, default=150, help="sky stars per class")
    ap.add_argument("--seed", type=int, default=0, help="sky seed")
    a = ap.parse_args(argv)
    from pelsvae_tf.evaluate import realism as R
    from pelsvae_tf.sky import SkyConfig

    print_machine_info()
    eros = R.curves_from_eros1(a.eros, band="r", classes=CLASSES4, splits=(a.split,), seed=0)
    sky_cfg = SkyConfig(
        n_per_class={c: a.n_per_class for c in CLASSES4}, seed=a.seed, survey="eros1", years=3, epochs=(100, 125)
    )
    sky = R.curves_from_sky(sky_cfg, classes=CLASSES4)
    for name, cs in (
        (f"EROS-1 {a.split} split ({len(eros)} stars)", eros),
        (f"sky seed {a.seed} ({len(sky)} stars)", sky),
    ):
        print(f"\n== {name} ==")
        print("\n".join(class_stats(cs)))
        print(cadence_stats(cs))
        print("\n".join(residual_stats(cs)))
    from pelsvae_tf.sky import sky_samples

    donors = sky_samples()
    ecl = donors[(donors["cls"] == "ECL") & donors["source_id"].str.match(r"OGLE-(LMC|SMC)-")]
    miras = donors[donors["cls"] == "LPV"]
    print(f"\nsky table: {len(ecl)} Magellanic-Cloud eclipsing-binary donors, median I {ecl['I'].median():.2f}")
    print(f"sky table: {len(miras)} Miras, median period {miras['period'].median():.0f} d")
    print(f"\n== EROS-1 {a.split} split: catalogue periods ==")
    print("\n".join(lpv_period_check(Path(a.eros), a.split)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
