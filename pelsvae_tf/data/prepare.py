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
   Before writing, a star's missing Teff / absolute G is filled from its BP-RP colour and period
   with relations fitted on the training stars (``physics_imputation="colour"``,
   :mod:`pelsvae_tf.data.impute`; ``"none"`` keeps the paper's gaps); ``schema.json`` counts the
   imputed values per split and stores the relations, ``physics_imputed.npz`` says which values of
   which star were imputed (:meth:`PreparedDataset.imputed_mask`), and the physics scaler is fitted
   on measured values only.

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

import json
import logging
import shutil
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from pelsvae_tf.atomic import atomic_path, atomic_write_text
from pelsvae_tf.classes import CLASSES
from pelsvae_tf.data import cleaning
from pelsvae_tf.data.catalog import load_catalog
from pelsvae_tf.data.clean_chunks import _chunk_path, _clean_chunk, _load_chunk, clean_curve, max_light_t0  # noqa: F401
from pelsvae_tf.data.config import (  # noqa: F401  (re-exported: the 0.1 names of this module)
    CUT_REASONS,
    PHASE_ZERO,
    STRICT_REASONS,
    WORK_DIR,
    PrepareConfig,
    PrepareError,
)
from pelsvae_tf.data.dataset import IMPUTED_FILE, PreparedDataset
from pelsvae_tf.data.fingerprint import (  # noqa: F401
    FINGERPRINT_VERSION,
    _fingerprint,
    fingerprint_differences,
    source_digest,
)
from pelsvae_tf.data.impute import IMPUTABLE, PhysicsImputer
from pelsvae_tf.data.readers import list_photometry
from pelsvae_tf.data.scaler import PhysicsScaler
from pelsvae_tf.data.shards import PHYSICS_COLUMNS, SPLITS, ShardWriter, _curve_record, make_schema, star_id_array
from pelsvae_tf.data.split_plan import apply_caps, augmentation_plan, split_stars  # noqa: F401

log = logging.getLogger("pelsvae_tf.data")


def prepare(
    photometry: str | Path,
    catalog: Any,
    out_dir: str | Path,
    config: PrepareConfig | None = None,
    xmatch: Any = None,
    progress: bool = True,
    keep_work: bool = False,
) -> PreparedDataset:
    """Prepare raw light curves (``photometry`` dir of OGLE ``.dat`` / generic ``.csv`` files named
    by star ID) with ``catalog`` (see :func:`load_catalog`) into ``out_dir``; returns the
    :class:`PreparedDataset`. Streaming, resumable, atomic (see module doc). Raises
    ``FileNotFoundError`` for a missing directory/catalogue and ``ValueError`` when nothing
    survives or, with ``config.strict``, on the first bad input.
    """
    config = PrepareConfig() if config is None else config
    out_dir = Path(out_dir)
    files = list_photometry(photometry)
    if not files:
        raise FileNotFoundError(f"no *.dat or *.csv light curves in {photometry}")
    cat = load_catalog(catalog, xmatch)
    duplicates = list(cat.attrs.get("duplicates", []))
    n_dup = sum(n for _, n, _ in duplicates)
    dup_msg = "; ".join(
        f"{src}: {n} duplicated row(s) of {len(ids)} ID(s), e.g. {ids[:3]}" for src, n, ids in duplicates
    )
    if n_dup and config.strict:
        raise PrepareError(
            f"{dup_msg} [duplicate_id] (strict mode; make every OGLE-ID appear once, or drop "
            f"--strict to keep one row per ID (the one with most physics) and count the rest)"
        )
    cat = cat.set_index("ogle_id", drop=False)
    fp = _fingerprint(files, photometry, config, catalog, xmatch)
    if (out_dir / "schema.json").exists():
        schema = json.loads((out_dir / "schema.json").read_text())
        diff = fingerprint_differences(schema.get("prepare_fingerprint"), fp)
        if not diff:
            log.info("prepare: %s is already complete (same input files, catalogue and config)", out_dir)
            return PreparedDataset(out_dir)
        raise ValueError(
            f"{out_dir} already holds a prepared dataset made from other inputs/config: "
            f"{'; '.join(diff)}. It is not reused; delete {out_dir} to re-prepare, or choose "
            f"another --out"
        )
    work = out_dir / WORK_DIR
    work.mkdir(parents=True, exist_ok=True)
    fp_path = work / "fingerprint.json"
    if fp_path.exists():
        diff = fingerprint_differences(json.loads(fp_path.read_text()), fp)
        if diff:
            raise ValueError(
                f"{work} holds an interrupted run with other inputs/config: {'; '.join(diff)}. "
                f"Its cleaned chunks cannot be reused; delete {out_dir} to start again, or "
                f"choose another --out"
            )
    atomic_write_text(fp_path, json.dumps(fp, indent=1, sort_keys=True))

    # ---- pass 1: clean, chunk by chunk ---------------------------------------------------
    n_chunks = (len(files) + config.clean_chunk - 1) // config.clean_chunk
    with tqdm(total=len(files), desc="prepare: clean", unit="star", disable=not progress) as bar:
        for k in range(n_chunks):
            chunk_files = files[k * config.clean_chunk : (k + 1) * config.clean_chunk]
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
        parts.append(
            pd.DataFrame(
                {
                    "star_id": z["star_id"],
                    "cls": z["cls"],
                    "period": z["period"],
                    "snr": z["snr"],
                    "n_points": z["n_points"],
                    "chunk": k,
                    "pos": np.arange(z["star_id"].size),
                    "phys": list(z["phys"]),
                }
            )
        )
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
    phys_measured = np.stack(summary["phys"].to_numpy())
    imputer, phys_all, imputed = _impute_physics(summary, phys_measured, config)
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
                meta_src = dict(
                    label=label_of[s["cls"]],
                    phys=np.asarray(s["phys"], np.float32),
                    period=float(s["period"]),
                    star_id=s["star_id"],
                )
                real = cleaning.resample_to_length(ph, m, e, config.seq_len, rng, config.short_policy)
                writers[s["split"]].add(**_curve_record(*real, meta_src, True))
                for _c in range(int(s["copies"])):
                    aug = cleaning.augment_folded(ph, m, e, config.seq_len, rng, config.short_policy)
                    writers["train"].add(**_curve_record(*aug, meta_src, False))
                bar.update(1 + int(s["copies"]))
    for w in writers.values():
        w.flush(final=True)

    # ---- scaler + schema (last) ------------------------------------------------------------------
    # the scaler is fitted on measured values only (imputed ones are clipped to the training
    # Teff range and to their class's measured absolute-G range)
    is_train = (summary["split"] == "train").to_numpy()
    phys_tr = phys_measured[is_train] if is_train.any() else np.zeros((0, len(PHYSICS_COLUMNS)))
    scaler = PhysicsScaler.fit(phys_tr, PHYSICS_COLUMNS)
    cols = [PHYSICS_COLUMNS.index(p) for p in config.physics]

    def lacking(phys: np.ndarray) -> int:
        """Stars of ``phys`` [n, 6] missing a selected parameter."""
        return int((~np.all(np.isfinite(phys[:, cols]), axis=1)).sum()) if cols else 0

    def per_parameter(phys: np.ndarray) -> dict[str, int]:
        return {p: int((~np.isfinite(phys[:, i])).sum()) for i, p in enumerate(PHYSICS_COLUMNS)}

    physics_missing = {}
    for split in SPLITS:
        m = (summary["split"] == split).to_numpy()
        physics_missing[split] = {
            "stars": int(m.sum()),
            "lacking_selected_measured": lacking(phys_measured[m]),
            "lacking_selected": lacking(phys_all[m]),
            "per_parameter": per_parameter(phys_measured[m]),
            "per_parameter_after_imputation": per_parameter(phys_all[m]),
            "imputed": {p: int(imputed[m][:, PHYSICS_COLUMNS.index(p)].sum()) for p in IMPUTABLE},
        }
    for split, info in physics_missing.items():
        if any(info["imputed"].values()):
            log.info(
                "prepare: %s: %d of %d real stars lacked a measured value of %s; imputed %s (physics_imputation=%r)",
                split,
                info["lacking_selected_measured"],
                info["stars"],
                list(config.physics),
                ", ".join(f"{p} for {n}" for p, n in info["imputed"].items() if n),
                config.physics_imputation,
            )
        if info["lacking_selected"]:
            log.info(
                "prepare: %s: %d of %d real stars lack one of %s (excluded from the physics set)",
                split,
                info["lacking_selected"],
                info["stars"],
                list(config.physics),
            )
    split_info = {s: w.summary() for s, w in writers.items()}
    extra = {
        "prepare_config": config.to_dict(),
        "prepare_fingerprint": fp,
        "skipped": dict(sorted(skipped.items())),
        "skip_examples": skip_examples,
        "catalog_stars_without_file": n_missing_file,
        "selected_physics": list(config.physics),
        "physics_missing": physics_missing,
        "physics_imputation": None if imputer is None else imputer.to_dict(),
        "n_raw_files": len(files),
        "n_clean_stars": int(len(summary)),
        "clean_stats": {
            "median_snr": float(summary["snr"].median()),
            "median_points": float(summary["n_points"].median()),
        },
        "source": {"photometry": str(photometry), "catalog": fp["catalog"]},
    }
    schema = make_schema(config.seq_len, split_info, extra)
    _write_imputed(out_dir, summary["star_id"].to_numpy(), imputed)
    scaler.save(out_dir / "physics_scaler.json")
    atomic_write_text(out_dir / "schema.json", json.dumps(schema, indent=2, sort_keys=True) + "\n")
    if not keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return PreparedDataset(out_dir)


def _impute_physics(
    summary: pd.DataFrame, phys: np.ndarray, config: PrepareConfig
) -> tuple[PhysicsImputer | None, np.ndarray, np.ndarray]:
    """Fill missing Teff / absolute G of every star in ``summary`` (its measured ``phys`` [n, 6];
    the ``phys`` column is replaced) with a :class:`~pelsvae_tf.data.impute.PhysicsImputer` fitted
    on the training stars; returns it (None with ``physics_imputation="none"``), the filled
    [n, 6] values and the boolean [n, 6] mask of imputed entries."""
    if config.physics_imputation == "none" or summary.empty:
        return None, phys, np.zeros(phys.shape, dtype=bool)
    tr = (summary["split"] == "train").to_numpy()
    imputer = PhysicsImputer.fit(phys[tr], summary["cls"].to_numpy()[tr])
    filled, mask = imputer.apply(phys, summary["cls"].to_numpy(), summary["star_id"].to_numpy(), config.seed)
    summary["phys"] = list(filled)
    return imputer, filled, mask


def _write_imputed(out_dir: Path, star_ids: np.ndarray, imputed: np.ndarray) -> None:
    """``physics_imputed.npz`` (atomic): ``star_id`` [m] and ``imputed`` bool [m, 6] of the stars
    with an imputed value (none: the file is not written)."""
    rows = imputed.any(axis=1)
    path = out_dir / IMPUTED_FILE
    if not rows.any():
        path.unlink(missing_ok=True)
        return
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, star_id=star_id_array(star_ids[rows]), imputed=imputed[rows])


def _stable_hash(text: str) -> int:
    """Deterministic 32-bit hash of a star ID (Python's hash() is salted per process)."""
    return zlib.crc32(text.encode("utf-8"))


__all__ = [
    "PrepareConfig",
    "prepare",
    "load_catalog",
    "clean_curve",
    "split_stars",
    "augmentation_plan",
    "apply_caps",
    "max_light_t0",
    "source_digest",
    "fingerprint_differences",
    "STRICT_REASONS",
    "CUT_REASONS",
]
