"""Prepared datasets on disk (format ``pelsvae-prepared`` v1): the in-memory writer and the reader.

The on-disk layout, the shard arrays and ``schema.json`` are described in
:mod:`pelsvae_tf.data.shards`; the physics scaler is :mod:`pelsvae_tf.data.scaler`; the
``tf.data`` pipeline of :meth:`PreparedDataset.to_tf` is :mod:`pelsvae_tf.data.tfdata`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from pelsvae_tf.atomic import atomic_dir, atomic_write_text
from pelsvae_tf.classes import CLASSES, check_physics_names
from pelsvae_tf.data.scaler import PhysicsScaler
from pelsvae_tf.data.shards import (  # noqa: F401  (re-exported: the 0.1 names of this module)
    FORMAT_NAME,
    FORMAT_VERSION,
    PHYSICS_COLUMNS,
    SHARD_ARRAYS,
    SPLITS,
    STAR_ID_DTYPE,
    STAR_ID_MIN_WIDTH,
    concat_arrays,
    empty_arrays,
    make_schema,
    read_shard,
    shard_name,
    split_summary,
    star_id_array,
    validate_arrays,
    write_shard,
)


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


#: file of a prepared dataset naming the imputed physics values (:meth:`PreparedDataset.imputed_mask`)
IMPUTED_FILE = "physics_imputed.npz"


class PreparedDataset:
    """Read a prepared dataset directory (format ``pelsvae-prepared`` v1).

    ``arrays(split)`` returns numpy arrays (all shards concatenated); ``to_tf(split, ...)``
    returns a ``tf.data.Dataset`` of named-dict batches ending in ``prefetch(AUTOTUNE)``.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        schema_path = self.path / "schema.json"
        if not self.path.exists():
            raise FileNotFoundError(f"prepared dataset {self.path} does not exist; create it with `pelsvae prepare`")
        if not schema_path.exists():
            raise FileNotFoundError(
                f"{self.path} has no schema.json: not a prepared dataset (or preparation was "
                f"interrupted; rerun `pelsvae prepare` to resume)"
            )
        self.schema: dict[str, Any] = json.loads(schema_path.read_text())
        if self.schema.get("format") != FORMAT_NAME:
            raise ValueError(f"{schema_path}: format {self.schema.get('format')!r}; expected {FORMAT_NAME!r}")
        if int(self.schema.get("version", -1)) != FORMAT_VERSION:
            raise ValueError(
                f"{schema_path}: version {self.schema.get('version')}; this pelsvae_tf reads version {FORMAT_VERSION}"
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

    def imputed_mask(self, split: str) -> np.ndarray:
        """Boolean [n, 6] over the curves of ``split`` and :attr:`physics_columns`: True where the
        value was imputed by ``prepare`` (``PrepareConfig.physics_imputation``; an augmented copy
        shares its star's), False where measured or missing (all False for data prepared without
        imputation or before it existed). From ``physics_imputed.npz``."""
        a = self.arrays(split)
        out = np.zeros((len(a["label"]), len(self.physics_columns)), dtype=bool)
        path = self.path / IMPUTED_FILE
        if path.exists():
            with np.load(path, allow_pickle=False) as z:
                row = {str(sid): i for i, sid in enumerate(z["star_id"])}
                imputed = z["imputed"]
            idx = np.array([row.get(str(sid), -1) for sid in a["star_id"]], dtype=np.int64)
            out[idx >= 0] = imputed[idx[idx >= 0]]
        return out

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
        from pelsvae_tf.data.tfdata import to_tf  # TensorFlow only when a pipeline is asked for

        return to_tf(
            self,
            split,
            batch_size=batch_size,
            physics=physics,
            shuffle=shuffle,
            seed=seed,
            drop_remainder=drop_remainder,
            repeat=repeat,
            require_physics=require_physics,
        )

    def __repr__(self) -> str:
        sizes = ", ".join(f"{s}={self.n(s)}" for s in self.splits)
        return f"PreparedDataset({str(self.path)!r}, seq_len={self.seq_len}, {sizes})"
