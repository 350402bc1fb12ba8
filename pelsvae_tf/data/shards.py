"""Prepared datasets on disk (format ``pelsvae-prepared``, version 1) and the physics scaler.

Layout (see ``docs/ARCHITECTURE.md``, "Prepared dataset on disk")::

    DATA_DIR/
      schema.json            format, version, seq_len, classes, physics_columns, splits, counts, ...
      physics_scaler.json    PhysicsScaler fitted on the TRAIN split (real stars having the parameter)
      train/shard-00000.npz  compressed npz, readable with allow_pickle=False
      val/shard-00000.npz
      test/shard-00000.npz

Every shard holds, for ``n`` curves of ``L = seq_len`` points: ``phase`` float32 [n, L] (sorted,
in [0, 1)), ``mag`` float32 [n, L] (min-max scaled, 1 = faintest), ``err`` float32 [n, L]
(error / (max - min)), ``label`` int32 [n], ``phys`` float32 [n, 6] (raw values in
``physics_columns`` order; K, mag, d, solRad, solLum, mag; NaN = missing), ``mag_min``,
``mag_range``, ``mag_mean`` float32 [n] (mag), ``err_median`` float32 [n] (mag), ``period``
float64 [n] (d), ``star_id`` ``<U32`` [n] (wider when a star's ID is longer than 32
characters; IDs are never truncated) and ``is_real`` bool [n].

Shards are written atomically (temporary sibling + rename), so an interrupted writer never leaves
a partial shard under a final name, and a resumed writer can trust every ``shard-*.npz`` it finds.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from pelsvae_tf.atomic import atomic_path
from pelsvae_tf.classes import CLASSES, PHYSICS_PARAMS
from pelsvae_tf.data import cleaning

FORMAT_NAME = "pelsvae-prepared"
FORMAT_VERSION = 1
SPLITS: tuple[str, ...] = ("train", "val", "test")
#: Physical-parameter columns of the ``phys`` array, in order (units: K, mag, d, solRad, solLum, mag).
PHYSICS_COLUMNS: tuple[str, ...] = tuple(PHYSICS_PARAMS)
#: minimum width of the ``star_id`` unicode dtype (OGLE-III IDs such as ``OGLE-LMC-CEP-0001``
#: fit); longer IDs widen the dtype of their shard (:func:`star_id_array`), never truncated.
STAR_ID_DTYPE = "<U32"
STAR_ID_MIN_WIDTH = 32


def star_id_array(ids: Iterable[Any]) -> np.ndarray:
    """Star IDs as a 1-D unicode array ``<U{w}`` with ``w = max(32, longest ID)`` characters.

    Never truncates: two IDs that share their first 32 characters stay distinct (the split's
    no-leakage guarantee is by ID).
    """
    ids = [str(s) for s in (ids.tolist() if isinstance(ids, np.ndarray) else list(ids))]
    width = max([STAR_ID_MIN_WIDTH] + [len(s) for s in ids])
    return np.asarray(ids, dtype=f"<U{width}").reshape(-1)


#: key -> (dtype, rank) of every array in a shard; rank 2 arrays are [n, seq_len] except ``phys``.
SHARD_ARRAYS: dict[str, tuple[str, int]] = {
    "phase": ("float32", 2),
    "mag": ("float32", 2),
    "err": ("float32", 2),
    "label": ("int32", 1),
    "phys": ("float32", 2),
    "mag_min": ("float32", 1),
    "mag_range": ("float32", 1),
    "mag_mean": ("float32", 1),
    "err_median": ("float32", 1),
    "period": ("float64", 1),
    "star_id": (STAR_ID_DTYPE, 1),
    "is_real": ("bool", 1),
}


def validate_arrays(arrays: Mapping[str, np.ndarray], seq_len: int | None = None) -> dict[str, np.ndarray]:
    """Check keys/shapes of one block of curves and cast to the on-disk dtypes.

    Raises ``ValueError`` naming the offending key. Returns a new dict with exactly the keys of
    :data:`SHARD_ARRAYS`.
    """
    missing = [k for k in SHARD_ARRAYS if k not in arrays]
    if missing:
        raise ValueError(f"prepared arrays: missing key(s) {missing}; required {list(SHARD_ARRAYS)}")
    extra = sorted(set(arrays) - set(SHARD_ARRAYS))
    if extra:
        raise ValueError(f"prepared arrays: unknown key(s) {extra}; allowed {list(SHARD_ARRAYS)}")
    n = len(arrays["label"])
    out: dict[str, np.ndarray] = {}
    for key, (dtype, rank) in SHARD_ARRAYS.items():
        a = np.asarray(arrays[key])
        if key == "star_id":
            a = star_id_array(a.reshape(-1))
        else:
            a = a.astype(dtype, copy=False)
        if a.ndim != rank or a.shape[0] != n:
            raise ValueError(f"prepared arrays: {key!r} has shape {a.shape}; expected rank {rank} with {n} rows")
        out[key] = a
    L = out["phase"].shape[1]
    if seq_len is not None and L != seq_len:
        raise ValueError(f"prepared arrays: phase has {L} points per curve; schema seq_len is {seq_len}")
    for key in ("mag", "err"):
        if out[key].shape[1] != L:
            raise ValueError(f"prepared arrays: {key!r} has {out[key].shape[1]} points; phase has {L}")
    if out["phys"].shape[1] != len(PHYSICS_COLUMNS):
        raise ValueError(
            f"prepared arrays: 'phys' has {out['phys'].shape[1]} columns; expected "
            f"{len(PHYSICS_COLUMNS)} ({', '.join(PHYSICS_COLUMNS)})"
        )
    for key in ("phase", "mag", "err"):
        if not np.all(np.isfinite(out[key])):
            raise ValueError(f"prepared arrays: {key!r} contains NaN/inf")
    return out


def shard_name(index: int) -> str:
    """File name of shard number ``index`` (``shard-00000.npz``)."""
    return f"shard-{index:05d}.npz"


def write_shard(path: str | Path, arrays: Mapping[str, np.ndarray], seq_len: int | None = None) -> Path:
    """Validate and write one shard as compressed npz, atomically (no pickled objects)."""
    arrays = validate_arrays(arrays, seq_len)
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    return path


def read_shard(path: str | Path) -> dict[str, np.ndarray]:
    """Read one shard (``allow_pickle=False``) into a dict of arrays."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"prepared dataset shard {path} does not exist")
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def concat_arrays(blocks: Sequence[Mapping[str, np.ndarray]], seq_len: int) -> dict[str, np.ndarray]:
    """Concatenate blocks of curves; with no blocks, return empty arrays of the right shapes."""
    if not blocks:
        return empty_arrays(seq_len)
    return {k: np.concatenate([b[k] for b in blocks], axis=0) for k in SHARD_ARRAYS}


def empty_arrays(seq_len: int) -> dict[str, np.ndarray]:
    """Zero-row arrays of every shard key (for an empty split)."""
    out = {}
    for key, (dtype, rank) in SHARD_ARRAYS.items():
        if key == "phys":
            shape = (0, len(PHYSICS_COLUMNS))
        elif rank == 2:
            shape = (0, seq_len)
        else:
            shape = (0,)
        out[key] = np.zeros(shape, dtype=dtype)
    return out


def split_summary(arrays: Mapping[str, np.ndarray], classes: Sequence[str] = CLASSES) -> dict[str, Any]:
    """Counts of one split: total, real, augmented, per class (real/augmented)."""
    label = np.asarray(arrays["label"])
    real = np.asarray(arrays["is_real"], dtype=bool)
    per_class = {}
    for i, c in enumerate(classes):
        m = label == i
        per_class[c] = {"n": int(m.sum()), "n_real": int((m & real).sum())}
    return {
        "n": int(label.size),
        "n_real": int(real.sum()),
        "n_augmented": int((~real).sum()),
        "per_class": per_class,
    }


def make_schema(
    seq_len: int,
    split_info: Mapping[str, Any],
    schema_extra: Mapping[str, Any] | None = None,
    classes: Sequence[str] = CLASSES,
) -> dict[str, Any]:
    """Assemble ``schema.json`` content from per-split summaries (see :func:`split_summary`)."""
    counts = {split: {c: info["per_class"][c]["n"] for c in classes} for split, info in split_info.items()}
    schema: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "seq_len": int(seq_len),
        "classes": list(classes),
        "physics_columns": list(PHYSICS_COLUMNS),
        "physics_units": {n: PHYSICS_PARAMS[n][1] for n in PHYSICS_COLUMNS},
        "splits": {s: dict(v) for s, v in split_info.items()},
        "counts": counts,
        "skipped": {},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    for k, v in (schema_extra or {}).items():
        if k in ("format", "version", "seq_len", "classes", "physics_columns", "splits"):
            raise ValueError(f"write_prepared: schema_extra may not override {k!r}")
        schema[k] = v
    return schema


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
                arrays = empty_arrays(self.seq_len)
            else:
                arrays = {k: np.stack(v) if np.ndim(v[0]) else np.asarray(v) for k, v in self.buf.items()}
            write_shard(path, arrays, self.seq_len)
        self.shards.append(f"{self.split}/{name}")
        self.buf = {k: [] for k in SHARD_ARRAYS}

    def summary(self) -> dict[str, Any]:
        per_class = {
            c: {"n": int(self.label_counts[i]), "n_real": int(self.real_counts[i])} for i, c in enumerate(self.classes)
        }
        n_real = int(self.real_counts.sum())
        return {
            "n": int(self.n),
            "n_real": n_real,
            "n_augmented": int(self.n - n_real),
            "per_class": per_class,
            "shards": list(self.shards),
        }


def _curve_record(ph, m, e, meta_src: dict, is_real: bool) -> dict[str, Any]:
    sm, se, meta = cleaning.minmax_scale(m, e)
    return dict(
        phase=ph.astype(np.float32),
        mag=sm.astype(np.float32),
        err=se.astype(np.float32),
        mag_min=meta["mag_min"],
        mag_range=meta["mag_range"],
        mag_mean=meta["mag_mean"],
        err_median=meta["err_median"],
        is_real=is_real,
        **meta_src,
    )
