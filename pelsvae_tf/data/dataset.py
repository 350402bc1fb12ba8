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
import json
import logging
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from pelsvae_tf.atomic import atomic_dir, atomic_path, atomic_write_text
from pelsvae_tf.classes import CLASSES, PHYSICS_PARAMS, check_physics_names

log = logging.getLogger("pelsvae_tf.data")

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


# --------------------------------------------------------------------------------------------
# Physics scaler
# --------------------------------------------------------------------------------------------
class PhysicsScaler:
    """Per-parameter scaler of physical parameters, fitted on the training split.

    ``kind="minmax"`` (paper and reference code): ``scaled = (x - min) / (max - min)``, so the
    training range maps to [0, 1]. ``kind="standard"``: ``scaled = (x - mean) / std``. Values
    keep their physical units before scaling (teff K, abs_gmag mag, period d, radius solRad,
    lum solLum, bp_rp mag). Parameters without any finite training value are stored with NaN
    statistics and cannot be transformed (``ValueError``).
    """

    KINDS = ("minmax", "standard")

    def __init__(self, stats: Mapping[str, Mapping[str, float]], kind: str = "minmax"):
        if kind not in self.KINDS:
            raise ValueError(f"PhysicsScaler: kind={kind!r}; expected one of {self.KINDS}")
        self.kind = kind
        self.stats: dict[str, dict[str, float]] = {}
        for name, st in stats.items():
            check_physics_names([name])
            self.stats[name] = {k: float(v) for k, v in st.items()}

    # -- fitting --------------------------------------------------------------------------
    @classmethod
    def fit(
        cls, raw: np.ndarray, names: Sequence[str] = PHYSICS_COLUMNS, kind: str = "minmax"
    ) -> "PhysicsScaler":
        """Fit on ``raw`` [N, P] physical values (units of :data:`PHYSICS_COLUMNS`); NaNs are ignored."""
        names = check_physics_names(names)
        raw = np.asarray(raw, dtype=np.float64)
        if raw.ndim != 2 or raw.shape[1] != len(names):
            raise ValueError(
                f"PhysicsScaler.fit: raw has shape {raw.shape}; expected [N, {len(names)}] for {names}"
            )
        stats = {}
        for j, name in enumerate(names):
            col = raw[:, j]
            col = col[np.isfinite(col)]
            if col.size == 0:
                stats[name] = {"min": np.nan, "max": np.nan, "mean": np.nan, "std": np.nan, "n": 0}
            else:
                stats[name] = {
                    "min": float(col.min()),
                    "max": float(col.max()),
                    "mean": float(col.mean()),
                    "std": float(col.std()),
                    "n": int(col.size),
                }
        return cls(stats, kind=kind)

    # -- transforms -----------------------------------------------------------------------
    def _affine(self, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        names = check_physics_names(names)
        shift, scale = [], []
        for n in names:
            if n not in self.stats:
                raise ValueError(
                    f"PhysicsScaler: parameter {n!r} was not fitted; fitted: {sorted(self.stats)}"
                )
            st = self.stats[n]
            if not np.isfinite(st["min"]):
                raise ValueError(
                    f"PhysicsScaler: no training star has {n!r}; drop it from the selected physics"
                )
            if self.kind == "minmax":
                s = st["max"] - st["min"]
                shift.append(st["min"])
            else:
                s = st["std"]
                shift.append(st["mean"])
            scale.append(s if s > 0 else 1.0)
        return np.asarray(shift), np.asarray(scale)

    def transform(self, raw: np.ndarray, names: Sequence[str]) -> np.ndarray:
        """Scale ``raw`` [N, P] (physical units) to model units; NaN stays NaN. Returns float32."""
        raw = np.asarray(raw, dtype=np.float64)
        names = tuple(names)
        if raw.ndim != 2 or raw.shape[1] != len(names):
            raise ValueError(
                f"PhysicsScaler.transform: raw has shape {raw.shape}; expected [N, {len(names)}] "
                f"for parameters {names}"
            )
        shift, scale = self._affine(names)
        return ((raw - shift) / scale).astype(np.float32)

    def inverse_transform(self, scaled: np.ndarray, names: Sequence[str]) -> np.ndarray:
        """Undo :meth:`transform`: model units [N, P] -> physical units (float64)."""
        scaled = np.asarray(scaled, dtype=np.float64)
        names = tuple(names)
        if scaled.ndim != 2 or scaled.shape[1] != len(names):
            raise ValueError(
                f"PhysicsScaler.inverse_transform: shape {scaled.shape}; expected [N, {len(names)}]"
            )
        shift, scale = self._affine(names)
        return scaled * scale + shift

    def range(self, name: str) -> tuple[float, float]:
        """Training range ``(min, max)`` of ``name`` in physical units (for out-of-range warnings)."""
        check_physics_names([name])
        if name not in self.stats:
            raise ValueError(f"PhysicsScaler: parameter {name!r} was not fitted")
        return (self.stats[name]["min"], self.stats[name]["max"])

    @property
    def names(self) -> tuple[str, ...]:
        """Fitted parameter names."""
        return tuple(self.stats)

    # -- persistence ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (NaN written as null)."""
        clean = {
            n: {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in st.items()}
            for n, st in self.stats.items()
        }
        return {"kind": self.kind, "units": {n: PHYSICS_PARAMS[n][1] for n in self.stats}, "stats": clean}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PhysicsScaler":
        """Inverse of :meth:`to_dict`."""
        if "stats" not in data:
            raise ValueError("PhysicsScaler.from_dict: missing 'stats' (not a physics_scaler.json?)")
        stats = {
            n: {k: (np.nan if v is None else v) for k, v in st.items()} for n, st in data["stats"].items()
        }
        return cls(stats, kind=data.get("kind", "minmax"))

    def save(self, path: str | Path) -> Path:
        """Write as JSON, atomically."""
        return atomic_write_text(path, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "PhysicsScaler":
        """Read a scaler written by :meth:`save`."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"PhysicsScaler: {path} does not exist")
        return cls.from_dict(json.loads(path.read_text()))

    def __repr__(self) -> str:
        return f"PhysicsScaler(kind={self.kind!r}, names={self.names})"


# --------------------------------------------------------------------------------------------
# Shards
# --------------------------------------------------------------------------------------------
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
            raise ValueError(
                f"prepared arrays: {key!r} has shape {a.shape}; expected rank {rank} with {n} rows"
            )
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


def write_prepared(
    out_dir: str | Path,
    splits: Mapping[str, Mapping[str, np.ndarray]],
    schema_extra: Mapping[str, Any] | None = None,
    scaler: PhysicsScaler | None = None,
    *,
    shard_size: int = 4096,
    classes: Sequence[str] = CLASSES,
) -> Path:
    """Write an in-memory dataset in the ``pelsvae-prepared`` v1 format, atomically as a whole.

    ``splits`` maps ``"train"``/``"val"``/``"test"`` to dicts of arrays (keys of
    :data:`SHARD_ARRAYS`; dtypes are cast). ``schema_extra`` is merged into ``schema.json``
    (e.g. ``prepare_config``, ``skipped``). ``scaler=None`` fits a min-max
    :class:`PhysicsScaler` on the real training curves (NaNs ignored). Returns ``out_dir``.
    The directory appears only once complete; an existing one is replaced.
    """
    unknown = sorted(set(splits) - set(SPLITS))
    if unknown:
        raise ValueError(f"write_prepared: unknown split(s) {unknown}; expected {SPLITS}")
    if "train" not in splits:
        raise ValueError("write_prepared: a 'train' split is required")
    if shard_size < 1:
        raise ValueError(f"write_prepared: shard_size={shard_size}; must be >= 1")
    seq_len = int(np.asarray(splits["train"]["phase"]).shape[1])
    checked = {s: validate_arrays(a, seq_len) for s, a in splits.items()}
    if "test" in checked and not checked["test"]["is_real"].all():
        raise ValueError("write_prepared: the test split must hold only real stars (is_real all True)")
    if scaler is None:
        tr = checked["train"]
        scaler = PhysicsScaler.fit(tr["phys"][tr["is_real"]], PHYSICS_COLUMNS)
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        split_info: dict[str, Any] = {}
        for split in SPLITS:
            arrays = checked.get(split, empty_arrays(seq_len))
            n = len(arrays["label"])
            names = []
            for k, start in enumerate(range(0, max(n, 1), shard_size)):
                block = {key: v[start : start + shard_size] for key, v in arrays.items()}
                if n == 0 and k > 0:
                    break
                write_shard(tmp / split / shard_name(k), block, seq_len)
                names.append(f"{split}/{shard_name(k)}")
            info = split_summary(arrays, classes)
            info["shards"] = names
            split_info[split] = info
        schema = make_schema(seq_len, split_info, schema_extra, classes)
        scaler.save(tmp / "physics_scaler.json")
        atomic_write_text(tmp / "schema.json", json.dumps(schema, indent=2, sort_keys=True) + "\n")
    return out_dir


def make_schema(
    seq_len: int,
    split_info: Mapping[str, Any],
    schema_extra: Mapping[str, Any] | None = None,
    classes: Sequence[str] = CLASSES,
) -> dict[str, Any]:
    """Assemble ``schema.json`` content from per-split summaries (see :func:`split_summary`)."""
    counts = {
        split: {c: info["per_class"][c]["n"] for c in classes} for split, info in split_info.items()
    }
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


# --------------------------------------------------------------------------------------------
# Reader
# --------------------------------------------------------------------------------------------
class PreparedDataset:
    """Read a prepared dataset directory (format ``pelsvae-prepared`` v1).

    ``arrays(split)`` returns numpy arrays (all shards concatenated); ``to_tf(split, ...)``
    returns a ``tf.data.Dataset`` of named-dict batches ending in ``prefetch(AUTOTUNE)``.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        schema_path = self.path / "schema.json"
        if not self.path.exists():
            raise FileNotFoundError(
                f"prepared dataset {self.path} does not exist; create it with `pelsvae prepare`"
            )
        if not schema_path.exists():
            raise FileNotFoundError(
                f"{self.path} has no schema.json: not a prepared dataset (or preparation was "
                f"interrupted; rerun `pelsvae prepare` to resume)"
            )
        self.schema: dict[str, Any] = json.loads(schema_path.read_text())
        if self.schema.get("format") != FORMAT_NAME:
            raise ValueError(
                f"{schema_path}: format {self.schema.get('format')!r}; expected {FORMAT_NAME!r}"
            )
        if int(self.schema.get("version", -1)) != FORMAT_VERSION:
            raise ValueError(
                f"{schema_path}: version {self.schema.get('version')}; this pelsvae_tf reads "
                f"version {FORMAT_VERSION}"
            )
        self.classes: tuple[str, ...] = tuple(self.schema["classes"])
        self.seq_len: int = int(self.schema["seq_len"])
        self.physics_columns: tuple[str, ...] = tuple(self.schema["physics_columns"])
        self.physics_scaler = PhysicsScaler.load(self.path / "physics_scaler.json")
        self._cache: dict[str, dict[str, np.ndarray]] = {}

    @property
    def splits(self) -> tuple[str, ...]:
        """Split names present in the schema."""
        return tuple(self.schema["splits"])

    def n(self, split: str) -> int:
        """Number of curves in ``split``."""
        return int(self._split_info(split)["n"])

    def _split_info(self, split: str) -> dict[str, Any]:
        if split not in self.schema["splits"]:
            raise ValueError(f"unknown split {split!r}; this dataset has {list(self.schema['splits'])}")
        return self.schema["splits"][split]

    def arrays(self, split: str) -> dict[str, np.ndarray]:
        """All arrays of ``split`` (shards concatenated; cached). Keys: see :data:`SHARD_ARRAYS`."""
        info = self._split_info(split)
        if split not in self._cache:
            blocks = [read_shard(self.path / s) for s in info["shards"]]
            self._cache[split] = concat_arrays(blocks, self.seq_len)
        return self._cache[split]

    def physics_mask(self, split: str, physics: Sequence[str]) -> np.ndarray:
        """Boolean [n]: curves of ``split`` having every parameter in ``physics`` (finite)."""
        physics = check_physics_names(physics)
        a = self.arrays(split)
        idx = [self.physics_columns.index(p) for p in physics]
        if not idx:
            return np.ones(len(a["label"]), dtype=bool)
        return np.all(np.isfinite(a["phys"][:, idx]), axis=1)

    def to_tf(
        self,
        split: str,
        batch_size: int = 128,
        physics: Sequence[str] = (),
        shuffle: bool = True,
        seed: int = 0,
        drop_remainder: bool = False,
        repeat: bool = False,
        require_physics: bool = True,
    ):
        """``tf.data.Dataset`` of dict batches for ``split``.

        Elements: ``phase``/``mag``/``err`` [B, L] float32, ``class_onehot`` [B, C] float32,
        ``label`` [B] int32, ``phys`` [B, P] float32 scaled by :attr:`physics_scaler` (P =
        ``len(physics)``). With ``physics`` non-empty and ``require_physics=True`` curves
        missing any selected parameter are dropped (count logged); with ``require_physics=False``
        they are kept and their missing scaled values set to 0 (the training minimum for the
        min-max scaler). Ends in ``prefetch(AUTOTUNE)``.
        """
        import tensorflow as tf

        if batch_size < 1:
            raise ValueError(f"to_tf: batch_size={batch_size}; must be >= 1")
        physics = check_physics_names(physics)
        a = self.arrays(split)
        keep = np.ones(len(a["label"]), dtype=bool)
        if physics and require_physics:
            keep = self.physics_mask(split, physics)
            dropped = int((~keep).sum())
            if dropped:
                log.info(
                    "to_tf(%s): dropped %d of %d curves lacking %s", split, dropped, keep.size, list(physics)
                )
        if not keep.any():
            raise ValueError(
                f"to_tf: split {split!r} has no curve with all of {list(physics)}; "
                f"choose other physics or prepare with physical parameters"
            )
        idx = [self.physics_columns.index(p) for p in physics]
        phys_raw = a["phys"][keep][:, idx]
        if physics:
            phys = self.physics_scaler.transform(phys_raw, physics)
            phys = np.nan_to_num(phys, nan=0.0)
        else:
            phys = np.zeros((int(keep.sum()), 0), dtype=np.float32)
        label = a["label"][keep].astype(np.int32)
        onehot = np.eye(len(self.classes), dtype=np.float32)[label]
        elements = {
            "phase": a["phase"][keep],
            "mag": a["mag"][keep],
            "err": a["err"][keep],
            "class_onehot": onehot,
            "label": label,
            "phys": phys.astype(np.float32),
        }
        ds = tf.data.Dataset.from_tensor_slices(elements)
        if shuffle:
            ds = ds.shuffle(len(label), seed=seed, reshuffle_each_iteration=True)
        if repeat:
            ds = ds.repeat()
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
        return ds.prefetch(tf.data.AUTOTUNE)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{s}={self.n(s)}" for s in self.splits)
        return f"PreparedDataset({str(self.path)!r}, seq_len={self.seq_len}, {sizes})"


def iter_split_shards(path: str | Path, split: str) -> Iterable[dict[str, np.ndarray]]:
    """Yield the shards of ``split`` one at a time (for streaming over large datasets)."""
    ds = PreparedDataset(path)
    for s in ds._split_info(split)["shards"]:
        yield read_shard(ds.path / s)
