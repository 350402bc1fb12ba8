"""Per-parameter scaler of the physical parameters, fitted on the training split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from pelsvae_tf import options
from pelsvae_tf.atomic import atomic_write_text
from pelsvae_tf.classes import PHYSICS_PARAMS, check_physics_names
from pelsvae_tf.data.cleaning import minmax_range
from pelsvae_tf.data.shards import PHYSICS_COLUMNS


class PhysicsScaler:
    """Per-parameter scaler of physical parameters, fitted on the training split.

    ``kind="minmax"`` (paper and reference code): ``scaled = (x - min) / (max - min)``, so the
    training range maps to [0, 1]. ``kind="standard"``: ``scaled = (x - mean) / std``. Values
    keep their physical units before scaling (teff K, abs_gmag mag, period d, radius solRad,
    lum solLum, bp_rp mag). Parameters without any finite training value are stored with NaN
    statistics and cannot be transformed (``ValueError``).
    """

    KINDS = options.SCALER_KINDS

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
    def fit(cls, raw: np.ndarray, names: Sequence[str] = PHYSICS_COLUMNS, kind: str = "minmax") -> "PhysicsScaler":
        """Fit on ``raw`` [N, P] physical values (units of :data:`PHYSICS_COLUMNS`); NaNs are ignored."""
        names = check_physics_names(names)
        raw = np.asarray(raw, dtype=np.float64)
        if raw.ndim != 2 or raw.shape[1] != len(names):
            raise ValueError(f"PhysicsScaler.fit: raw has shape {raw.shape}; expected [N, {len(names)}] for {names}")
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
                raise ValueError(f"PhysicsScaler: parameter {n!r} was not fitted; fitted: {sorted(self.stats)}")
            st = self.stats[n]
            if not np.isfinite(st["min"]):
                raise ValueError(f"PhysicsScaler: no training star has {n!r}; drop it from the selected physics")
            if self.kind == "minmax":
                shift.append(st["min"])
                scale.append(minmax_range(st["min"], st["max"], constant="unit"))
            else:
                shift.append(st["mean"])
                scale.append(st["std"] if st["std"] > 0 else 1.0)
        return np.asarray(shift), np.asarray(scale)

    def transform(self, raw: np.ndarray, names: Sequence[str]) -> np.ndarray:
        """Scale ``raw`` [N, P] (physical units) to model units; NaN stays NaN. Returns float32."""
        raw = np.asarray(raw, dtype=np.float64)
        names = tuple(names)
        if raw.ndim != 2 or raw.shape[1] != len(names):
            raise ValueError(
                f"PhysicsScaler.transform: raw has shape {raw.shape}; expected [N, {len(names)}] for parameters {names}"
            )
        shift, scale = self._affine(names)
        return ((raw - shift) / scale).astype(np.float32)

    def inverse_transform(self, scaled: np.ndarray, names: Sequence[str]) -> np.ndarray:
        """Undo :meth:`transform`: model units [N, P] -> physical units (float64)."""
        scaled = np.asarray(scaled, dtype=np.float64)
        names = tuple(names)
        if scaled.ndim != 2 or scaled.shape[1] != len(names):
            raise ValueError(f"PhysicsScaler.inverse_transform: shape {scaled.shape}; expected [N, {len(names)}]")
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
        stats = {n: {k: (np.nan if v is None else v) for k, v in st.items()} for n, st in data["stats"].items()}
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
