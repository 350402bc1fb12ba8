"""Pass 1 of the preparation: clean star by star, one chunk of files at a time.

Each chunk's cleaned, folded, untrimmed curves (ragged, float32) and one-row-per-star summary
are stored as ``OUT/.work/clean-XXXXX.npz``, with the skip counts per reason.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pelsvae_tf.classes import CLASSES, is_dropped_subtype
from pelsvae_tf.data import cleaning
from pelsvae_tf.data.config import STRICT_REASONS, PrepareConfig, PrepareError
from pelsvae_tf.data.readers import LightCurveError, read_lightcurve
from pelsvae_tf.data.shards import PHYSICS_COLUMNS, star_id_array

log = logging.getLogger("pelsvae_tf.data")


def max_light_t0(time: np.ndarray, mag: np.ndarray, period: float) -> float:
    """Epoch [d] of maximum light (minimum magnitude) of the least-squares first harmonic."""
    t_ref = float(time[0])
    p = 2 * np.pi * (time - t_ref) / period
    A = np.column_stack([np.ones_like(p), np.cos(p), np.sin(p)])
    coef, *_ = np.linalg.lstsq(A, mag, rcond=None)
    # mag ~ c + a cos p + b sin p = c + R cos(p - d), d = atan2(b, a): faintest at p = d
    d = np.arctan2(coef[2], coef[1])
    return t_ref + period * (((d + np.pi) / (2 * np.pi)) % 1.0)


def clean_curve(
    time: np.ndarray, mag: np.ndarray, err: np.ndarray, period: float, config: PrepareConfig
) -> tuple[str | None, dict[str, Any]]:
    """Apply the cleaning steps to one curve. Returns ``(skip_reason or None, result)`` with
    ``result`` holding ``phase, mag, err`` (folded, sorted, untrimmed), ``snr``, ``n_clipped``."""
    s = cleaning.snr(mag, err, config.snr_method) if mag.size >= 2 else 0.0
    if not s >= config.snr_min:
        return "low_snr", {"snr": s}
    phase0 = cleaning.fold_phase(time, period, 0.0) if config.clip_mode == "folded" else None
    keep = cleaning.sigma_clip(mag, err, config.clip_iters, config.clip_sigma, phase=phase0)
    t, m, e = time[keep], mag[keep], err[keep]
    n_clip = int((~keep).sum())
    need = config.seq_len if config.short_policy == "drop" else 4
    if t.size < need:
        return "too_few_points", {"snr": s, "n": int(t.size)}
    t0 = max_light_t0(t, m, period) if config.phase_zero == "max_light" else 0.0
    ph = cleaning.fold_phase(t, period, t0)
    o = np.argsort(ph, kind="stable")
    if not np.ptp(m) > 0:
        return "low_snr", {"snr": 0.0}
    return None, {"phase": ph[o], "mag": m[o], "err": e[o], "snr": s, "n_clipped": n_clip, "t0": t0}


def _chunk_path(work: Path, k: int) -> Path:
    return work / f"clean-{k:05d}.npz"


def _clean_chunk(files: list[Path], cat: pd.DataFrame, config: PrepareConfig) -> dict[str, np.ndarray]:
    """Clean the stars of one chunk of files; returns ragged arrays + per-star summary + skips."""
    phases, mags, errs, lens = [], [], [], []
    rows: dict[str, list] = {k: [] for k in ("star_id", "cls", "period", "snr", "n_clipped", "n_points")}
    phys_rows = []
    skips: dict[str, int] = {}
    examples: dict[str, str] = {}

    def skip(reason: str, msg: str) -> None:
        if config.strict and reason in STRICT_REASONS:
            raise PrepareError(f"{msg} [{reason}] (strict mode; drop --strict to count it as a skip)")
        skips[reason] = skips.get(reason, 0) + 1
        examples.setdefault(reason, msg)
        log.debug("skip %s: %s", reason, msg)

    for f in files:
        sid = f.stem
        if sid not in cat.index:
            skip("id_not_in_catalog", f"{f}: star {sid!r} is not in the catalogue")
            continue
        row = cat.loc[sid]
        cls = row["cls"]
        if not isinstance(cls, str) or cls not in CLASSES:
            skip("unknown_class", f"{f}: class {row.get('type_raw', cls)!r} is not one of {', '.join(CLASSES)}")
            continue
        subtype = row["subtype"] if isinstance(row["subtype"], str) else None
        if config.drop_subtypes and is_dropped_subtype(cls, subtype):
            skip("dropped_subtype", f"{f}: subtype {row['subtype']!r} of {cls} is multi-mode / semi-regular")
            continue
        period = float(row["period"]) if pd.notna(row["period"]) else float("nan")
        if not (np.isfinite(period) and period > 0):
            skip("bad_period", f"{f}: catalogue period {row['period']!r} is missing or not positive")
            continue
        try:
            lc = read_lightcurve(f, band=config.band)
        except FileNotFoundError as exc:
            skip("missing_file", str(exc))
            continue
        except LightCurveError as exc:
            skip(exc.reason, str(exc))
            continue
        except ValueError as exc:
            skip("bad_format", str(exc))
            continue
        reason, res = clean_curve(lc.time, lc.mag, lc.err, period, config)
        if reason is not None:
            skip(reason, f"{f}: {reason} ({', '.join(f'{k}={v:.3g}' for k, v in res.items())})")
            continue
        phases.append(res["phase"].astype(np.float32))
        mags.append(res["mag"].astype(np.float64))
        errs.append(res["err"].astype(np.float32))
        lens.append(res["phase"].size)
        rows["star_id"].append(sid)
        rows["cls"].append(cls)
        rows["period"].append(period)
        rows["snr"].append(res["snr"])
        rows["n_clipped"].append(res["n_clipped"])
        rows["n_points"].append(res["phase"].size)
        phys_rows.append([float(row[c]) if pd.notna(row[c]) else np.nan for c in PHYSICS_COLUMNS])
    phys = np.asarray(phys_rows, dtype=np.float64).reshape(-1, len(PHYSICS_COLUMNS))
    phys[:, PHYSICS_COLUMNS.index("period")] = rows["period"]
    cat_arr = lambda xs, dt: np.asarray(xs, dtype=dt)  # noqa: E731
    return {
        "phase": np.concatenate(phases) if phases else np.zeros(0, np.float32),
        "mag": np.concatenate(mags) if mags else np.zeros(0, np.float64),
        "err": np.concatenate(errs) if errs else np.zeros(0, np.float32),
        "offsets": np.concatenate([[0], np.cumsum(lens)]).astype(np.int64),
        "star_id": star_id_array(rows["star_id"]),
        "cls": cat_arr(rows["cls"], "<U8"),
        "period": cat_arr(rows["period"], np.float64),
        "snr": cat_arr(rows["snr"], np.float64),
        "n_clipped": cat_arr(rows["n_clipped"], np.int64),
        "n_points": cat_arr(rows["n_points"], np.int64),
        "phys": phys,
        "skip_reasons": np.asarray(list(skips), dtype="<U32"),
        "skip_counts": np.asarray(list(skips.values()), dtype=np.int64),
        "skip_examples": np.asarray([examples[k][:400] for k in skips], dtype="<U400"),
    }


def _load_chunk(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}
