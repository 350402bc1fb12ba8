"""One object that knows a run directory's layout and loads its parts.

A run directory is what ``pelsvae train`` writes (and ``pelsvae regress`` / ``evaluate`` /
``export`` add to)::

    RUN_DIR/
      config.json            {"model": ModelConfig, "train": TrainConfig, "data_dir", "dataset_schema", ...}
      model.keras            the trained PELSVAE (written at the end of training)
      physics_scaler.json    affine map physical units -> scaled regressor inputs
      latents.npz            encoder posteriors of every prepared star (z_mean, z_log_var, label, phys, split, star_id)
      history.csv            one row per epoch
      checkpoints/state.json committed resume state (epoch, history, seeds)
      regressors/<name>/     fitted physics -> latent regressors; regressors/train_stats.npz
      report/                evaluation report and figures

Every stage after training reads a run through :class:`RunDir`, so each part has one path and
one error message that names the run and how to make the missing part. Importing this module
does not load TensorFlow; :meth:`RunDir.run` and :meth:`RunDir.regressor` do.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np

from pelsvae_tf.classes import DEFAULT_PHYSICS

#: integer codes of the ``split`` array in ``latents.npz``
SPLIT_CODES = ("train", "val", "test")


class RunDir:
    """A run directory (``pelsvae train --out``): its paths and cached loaders.

    Args:
        path: the run directory.

    Raises:
        FileNotFoundError: (on first use of :attr:`config`) when ``path`` is not a run directory.
    """

    def __init__(self, path: str | Path):
        if isinstance(path, RunDir):
            path = path.path
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    # -- layout -------------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        """``config.json``: model and training configs, dataset directory and schema."""
        return self.path / "config.json"

    @property
    def model_path(self) -> Path:
        """``model.keras``: the trained model (absent until training finishes)."""
        return self.path / "model.keras"

    @property
    def physics_scaler_path(self) -> Path:
        """``physics_scaler.json``: the regressors' input scaling."""
        return self.path / "physics_scaler.json"

    @property
    def latents_path(self) -> Path:
        """``latents.npz``: encoder posteriors of every prepared star."""
        return self.path / "latents.npz"

    @property
    def checkpoints_dir(self) -> Path:
        """``checkpoints/``: resume state of an unfinished (or finished) training."""
        return self.path / "checkpoints"

    @property
    def state_path(self) -> Path:
        """``checkpoints/state.json``: the committed resume state."""
        return self.checkpoints_dir / "state.json"

    @property
    def regressors_dir(self) -> Path:
        """``regressors/``: one sub-directory per fitted regressor."""
        return self.path / "regressors"

    @property
    def train_stats_path(self) -> Path:
        """``regressors/train_stats.npz``: training stars' physics, magnitudes and amplitudes."""
        return self.regressors_dir / "train_stats.npz"

    @property
    def report_dir(self) -> Path:
        """``report/``: ``pelsvae evaluate``'s default output directory."""
        return self.path / "report"

    # -- config -------------------------------------------------------------------------------
    def exists(self) -> bool:
        """True when the directory holds a ``config.json`` (training has at least started)."""
        return self.config_path.exists()

    def require(self) -> "RunDir":
        """Return ``self``; raise ``FileNotFoundError`` naming the fix if this is not a run."""
        if not self.path.is_dir():
            raise FileNotFoundError(f"run directory {self.path} does not exist; train one with `pelsvae train`")
        if not self.exists():
            raise FileNotFoundError(
                f"{self.path} is not a run directory (no config.json); train one with `pelsvae train`"
            )
        return self

    @functools.cached_property
    def config(self) -> dict[str, Any]:
        """``config.json`` as a dict."""
        self.require()
        return json.loads(self.config_path.read_text())

    @property
    def schema(self) -> dict[str, Any]:
        """The prepared dataset's schema recorded at training time."""
        return dict(self.config.get("dataset_schema", {}) or {})

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names in one-hot order."""
        return tuple(self.schema.get("classes", ()))

    @property
    def model_physics(self) -> tuple[str, ...]:
        """Physical parameters the encoder saw (``()`` for a cVAE)."""
        return tuple(self.config.get("model", {}).get("physics", ()) or ())

    @property
    def default_physics(self) -> tuple[str, ...]:
        """Regressor inputs by default: the model's physics, or Teff/abs G/period for a cVAE."""
        return self.model_physics or DEFAULT_PHYSICS

    @property
    def physics_columns(self) -> tuple[str, ...]:
        """Columns of ``latents.npz``'s ``phys`` array (physical units)."""
        from pelsvae_tf.data.dataset import PHYSICS_COLUMNS

        cols = tuple(self.schema.get("physics_columns") or PHYSICS_COLUMNS)
        return cols

    def model_config(self):
        """The run's :class:`~pelsvae_tf.model.ModelConfig`."""
        from pelsvae_tf.model.config import ModelConfig

        return ModelConfig.from_dict(self.config["model"])

    def train_config(self):
        """The run's :class:`~pelsvae_tf.train.TrainConfig`."""
        from pelsvae_tf.train.config import TrainConfig

        return TrainConfig.from_dict(self.config["train"])

    @property
    def data_dir(self) -> Path:
        """The prepared dataset the run was trained on (relative paths resolved against the run).

        Raises:
            ValueError / FileNotFoundError: naming ``config.json`` and the fix when it is unknown
            or gone.
        """
        data_dir = self.config.get("data_dir")
        if not data_dir:
            raise ValueError(
                f"{self.config_path} has no 'data_dir': the run does not say which dataset it was trained on"
            )
        path = Path(data_dir)
        if not path.is_absolute() and not path.exists():
            path = (self.path / path).resolve()
        if not (path / "schema.json").exists():
            raise FileNotFoundError(
                f"prepared dataset {path} (data_dir of {self.config_path}) is missing; re-run "
                f"`pelsvae prepare` to that path or edit data_dir"
            )
        return path

    def dataset(self):
        """The run's :class:`~pelsvae_tf.data.dataset.PreparedDataset` (see :attr:`data_dir`)."""
        from pelsvae_tf.data.dataset import PreparedDataset

        return PreparedDataset(self.data_dir)

    # -- parts --------------------------------------------------------------------------------
    def checkpoint_state(self) -> dict | None:
        """The committed ``checkpoints/state.json`` or ``None`` if training never committed one."""
        if not self.state_path.exists():
            return None
        return json.loads(self.state_path.read_text())

    def physics_scaler(self):
        """The run's :class:`~pelsvae_tf.data.dataset.PhysicsScaler`."""
        from pelsvae_tf.data.dataset import PhysicsScaler

        self.require()
        return PhysicsScaler.load(self.physics_scaler_path)

    def latents(self) -> dict[str, np.ndarray]:
        """``latents.npz`` as a dict; ``split`` as strings (train/val/test), ``star_id`` filled in."""
        path = self.latents_path
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist; it is written at the end of `pelsvae train`")
        with np.load(path, allow_pickle=False) as z:
            lat = {k: z[k] for k in z.files}
        for key in ("z_mean", "z_log_var", "label", "phys", "split"):
            if key not in lat:
                raise ValueError(f"{path}: missing array {key!r}")
        split = lat["split"]
        if np.issubdtype(split.dtype, np.integer):
            lat["split"] = np.asarray(SPLIT_CODES, dtype="<U5")[split]
        else:
            lat["split"] = split.astype(str)
        if "star_id" not in lat:
            lat["star_id"] = np.asarray([f"row{i}" for i in range(len(lat["label"]))])
        return lat

    def latent_physics_columns(self, lat: dict[str, np.ndarray]) -> tuple[str, ...]:
        """Names of the columns of ``lat["phys"]`` (older runs stored only the model's physics)."""
        cols = self.physics_columns
        if lat["phys"].shape[1] != len(cols):
            mp = self.model_physics
            if lat["phys"].shape[1] == len(mp):
                return tuple(mp)
            raise ValueError(
                f"{self.latents_path}: phys has {lat['phys'].shape[1]} columns; expected {len(cols)} ({list(cols)})"
            )
        return cols

    def train_stats(self) -> dict[str, np.ndarray] | None:
        """``regressors/train_stats.npz`` as a dict, or ``None`` before ``pelsvae regress``."""
        if not self.train_stats_path.exists():
            return None
        with np.load(self.train_stats_path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}

    def regressor_names(self) -> list[str]:
        """Names of the fitted regressors under ``regressors/``."""
        return sorted(p.name for p in self.regressors_dir.glob("*") if (p / "regressor.json").exists())

    def regressor_path(self, regressor: str | Path) -> Path:
        """Directory of regressor ``regressor`` (a kind, a name such as ``forest@radius+lum``,
        or a path); ``ValueError`` listing the fitted ones when there is none."""
        path = Path(regressor)
        if path.is_dir():
            return path
        path = self.regressors_dir / str(regressor)
        if not path.is_dir():
            raise ValueError(
                f"regressor={str(regressor)!r}: no such fitted regressor in {self.regressors_dir}; "
                f"available: {self.regressor_names()} (fit more with `pelsvae regress {self.path} --kinds KIND`)"
            )
        return path

    def regressor(self, regressor: str | Path):
        """Load a fitted regressor (:meth:`regressor_path`); imports TensorFlow for some kinds."""
        from pelsvae_tf.regress.regressors import load_regressor

        return load_regressor(self.regressor_path(regressor))

    def run(self):
        """The trained model and configs as a :class:`~pelsvae_tf.train.Run` (loads TensorFlow)."""
        from pelsvae_tf.train import load_run

        return load_run(self.path)


def as_run_dir(run_dir: "str | Path | RunDir") -> RunDir:
    """``run_dir`` as a :class:`RunDir` (unchanged if it already is one)."""
    return run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)
