"""A trained run read back: :class:`Run` (:func:`load_run`) and the encoded latents of its
real stars (:func:`encode_split`, :func:`write_latents` -> ``latents.npz``).

A run directory is self-describing (``docs/ARCHITECTURE.md``, "Run directory"; the layout is
:class:`pelsvae_tf.rundir.RunDir`)::

    RUN_DIR/
      config.json          {"model": ModelConfig, "train": TrainConfig, "data_dir", "dataset_schema"}
      physics_scaler.json  copy of the dataset's scaler (train split)
      model.keras          final model (atomic)
      checkpoints/         last.keras + state.json, every epoch, atomic (resume point)
      history.csv          one row per completed epoch (loss, recon, kl, err_kl, val_*, beta, lr)
      logs/                TensorBoard
      latents.npz          z_mean, z_log_var, label, phys (raw), star_id, split of REAL stars
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from pelsvae_tf.atomic import atomic_path
from pelsvae_tf.model import vae as _vae  # noqa: F401  (registers PELSVAE and its layers for load_model)
from pelsvae_tf.rundir import RunDir
from pelsvae_tf.train.config import TrainConfig


@dataclass
class Run:
    """A trained (or resumed) run directory loaded back.

    Attributes: ``run_dir``, ``model`` (:class:`~pelsvae_tf.model.vae.PELSVAE`), ``encoder``,
    ``decoder`` (functional Keras models), ``model_config``, ``train_config``, ``config`` (the
    raw ``config.json`` dict), ``physics_scaler``, ``classes`` (tuple of class names, one-hot
    order), ``schema`` (dataset schema), ``history`` (list of per-epoch dicts), ``data_dir``.
    """

    run_dir: Path
    model: Any
    model_config: Any
    train_config: TrainConfig
    config: dict
    physics_scaler: Any
    classes: tuple
    schema: dict
    history: list = field(default_factory=list)
    data_dir: str | None = None

    @property
    def encoder(self):
        """The functional encoder (``{"phase","mag","err","class_onehot"[,"phys"]}`` -> z stats)."""
        return self.model.encoder

    @property
    def decoder(self):
        """The functional decoder (``{"z","class_onehot","phase"}`` -> ``{"mag","err"}``)."""
        return self.model.decoder

    @property
    def physics(self) -> tuple:
        """Physical parameters the encoder sees (``()`` for a cVAE)."""
        return tuple(self.model_config.physics)


# -- latents ------------------------------------------------------------------------------------
def encode_split(model, dataset, split: str, batch_size: int = 512) -> dict[str, np.ndarray]:
    """Encode the REAL stars of ``split`` (cVAE-P: those having all physics).

    Returns ``z_mean``, ``z_log_var`` [N, D] (latent units), ``label`` [N], ``phys`` [N, 6] raw
    (K, mag, d, solRad, solLum, mag), ``star_id`` [N] and ``split`` [N].
    """
    physics = tuple(model.model_config.physics)
    a = dataset.arrays(split)
    keep = a["is_real"].astype(bool) & dataset.physics_mask(split, physics)
    n = int(keep.sum())
    d = model.model_config.latent_dim
    if n == 0:
        z = np.zeros((0, d), np.float32)
        return {
            "z_mean": z,
            "z_log_var": z.copy(),
            "label": np.zeros(0, np.int32),
            "phys": np.zeros((0, a["phys"].shape[1]), np.float32),
            "star_id": np.zeros(0, a["star_id"].dtype),
            "split": np.zeros(0, "<U5"),
        }
    label = a["label"][keep].astype(np.int32)
    inputs = {
        "phase": a["phase"][keep],
        "mag": a["mag"][keep],
        "err": a["err"][keep],
        "class_onehot": np.eye(len(dataset.classes), dtype=np.float32)[label],
    }
    if physics:
        idx = [dataset.physics_columns.index(p) for p in physics]
        inputs["phys"] = dataset.physics_scaler.transform(a["phys"][keep][:, idx], physics).astype(np.float32)
    zm, zv = [], []
    for s in range(0, n, batch_size):
        out = model.encoder({k: v[s : s + batch_size] for k, v in inputs.items()}, training=False)
        zm.append(np.asarray(out["z_mean"]))
        zv.append(np.asarray(out["z_log_var"]))
    return {
        "z_mean": np.concatenate(zm).astype(np.float32),
        "z_log_var": np.concatenate(zv).astype(np.float32),
        "label": label,
        "phys": a["phys"][keep].astype(np.float32),
        "star_id": a["star_id"][keep],
        "split": np.full(n, split, dtype="<U5"),
    }


def write_latents(model, dataset, path, batch_size: int = 512) -> Path:
    """Write ``latents.npz`` (real train/val/test stars, see :func:`encode_split`) atomically."""
    parts = [encode_split(model, dataset, s, batch_size) for s in ("train", "val", "test") if s in dataset.splits]
    merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **merged)
    return path


def load_run(run_dir) -> Run:
    """Load a finished run directory written by :func:`~pelsvae_tf.train.trainer.train` /
    ``pelsvae train``."""
    run = RunDir(run_dir).require()
    if not run.model_path.exists():
        hint = (
            "; training was interrupted: resume it with `pelsvae train --out " + str(run.path) + " --data ...`"
            if run.state_path.exists()
            else ""
        )
        raise FileNotFoundError(f"{run.path} has no model.keras{hint}")
    config = run.config
    model = keras.saving.load_model(run.model_path, compile=False)
    state = run.checkpoint_state() or {}
    return Run(
        run_dir=run.path,
        model=model,
        model_config=run.model_config(),
        train_config=run.train_config(),
        config=config,
        physics_scaler=run.physics_scaler(),
        classes=run.classes,
        schema=run.schema,
        history=list(state.get("history", [])),
        data_dir=config.get("data_dir"),
    )
