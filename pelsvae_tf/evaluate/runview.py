"""Run access for the evaluation: the loaded run (:class:`_RunView`), batched encoding and
phase-function decoding of numpy arrays, seeded sub-sampling."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from pelsvae_tf.data.dataset import PreparedDataset
from pelsvae_tf.generate.phase_function import PhaseFunction
from pelsvae_tf.rundir import RunDir
from pelsvae_tf.train.trainer import load_run


@dataclasses.dataclass
class _RunView:
    """What the evaluation needs from a run directory."""

    run_dir: Path
    run: Any  # pelsvae_tf.train.trainer.Run
    encoder: Any
    decoder: Any
    classes: tuple[str, ...]
    physics: tuple[str, ...]  # the encoder's physical parameters ( () for a cVAE )
    physics_scaler: Any
    dataset: Any  # PreparedDataset
    config_json: dict
    paths: RunDir | None = None  # the run directory's layout and parts


def _open_run(run_dir: Path) -> _RunView:
    """The run at ``run_dir`` (read through :class:`~pelsvae_tf.rundir.RunDir`) and its prepared
    dataset; ``FileNotFoundError`` / ``ValueError`` naming the fix when either is missing."""
    run_dir = Path(run_dir)
    rd = RunDir(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run directory {run_dir} does not exist; train one with `pelsvae train`")
    cfg_path = rd.config_path
    if not rd.exists():
        raise FileNotFoundError(f"{cfg_path} is missing: {run_dir} is not a `pelsvae train` run directory")
    config_json = rd.config
    run = load_run(run_dir)
    if not config_json.get("data_dir"):
        raise ValueError(f"{cfg_path} has no 'data_dir': cannot find the test split to evaluate on")
    try:
        data_path = rd.data_dir
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{exc}; the report needs its test split") from None
    model = run.model
    mc = model.model_config
    return _RunView(
        run_dir=run_dir,
        run=run,
        encoder=run.encoder,
        decoder=run.decoder,
        classes=tuple(run.classes),
        physics=tuple(mc.physics),
        physics_scaler=run.physics_scaler,
        dataset=PreparedDataset(data_path),
        config_json=config_json,
        paths=rd,
    )


def _onehot(labels: np.ndarray, n: int) -> np.ndarray:
    return np.eye(n, dtype=np.float32)[np.asarray(labels, dtype=int)]


def _batched(fn, inputs: dict[str, np.ndarray], batch: int) -> dict[str, np.ndarray]:
    """Call a Keras model on numpy dict inputs in batches; concatenate the numpy outputs."""
    n = len(next(iter(inputs.values())))
    outs: dict[str, list[np.ndarray]] = {}
    for s in range(0, n, batch):
        res = fn({k: v[s : s + batch] for k, v in inputs.items()}, training=False)
        for k, v in res.items():
            outs.setdefault(k, []).append(np.asarray(v))
    return {k: np.concatenate(v) for k, v in outs.items()}


def _encode(view: _RunView, a: dict[str, np.ndarray], idx: np.ndarray, batch: int) -> dict[str, np.ndarray]:
    inputs = {
        "phase": a["phase"][idx].astype(np.float32),
        "mag": a["mag"][idx].astype(np.float32),
        "err": a["err"][idx].astype(np.float32),
        "class_onehot": _onehot(a["label"][idx], len(view.classes)),
    }
    if view.physics:
        cols = [view.dataset.physics_columns.index(p) for p in view.physics]
        inputs["phys"] = view.physics_scaler.transform(a["phys"][idx][:, cols], view.physics).astype(np.float32)
    return _batched(view.encoder, inputs, batch)


def _decode(view: _RunView, z: np.ndarray, labels: np.ndarray, phase: np.ndarray, batch: int) -> dict[str, np.ndarray]:
    """Scaled ``mag``/``err`` [n, T] of latents ``z`` at ``phase`` [n, T] (any order): the curves'
    phase functions (:class:`~pelsvae_tf.generate.phase_function.PhaseFunction`, the generator's path), in
    batches of ``batch`` curves."""
    if "_phase_function" not in view.__dict__:
        view.__dict__["_phase_function"] = PhaseFunction(
            view.decoder, n_grid=int(view.dataset.seq_len), model_config=view.run.model.model_config
        )
    pf = view.__dict__["_phase_function"]
    z = np.asarray(z, np.float32)
    onehot = _onehot(labels, len(view.classes))
    phase = np.asarray(phase, np.float32)
    outs: dict[str, list[np.ndarray]] = {}
    for s in range(0, len(z), batch):
        for k, v in pf.scaled_np(z[s : s + batch], onehot[s : s + batch], phase[s : s + batch]).items():
            outs.setdefault(k, []).append(v)
    return {k: np.concatenate(v) for k, v in outs.items()}


def _pick(rng: np.random.Generator, idx: np.ndarray, k: int) -> np.ndarray:
    """Up to ``k`` of ``idx`` without replacement, in ascending order (seeded)."""
    if len(idx) <= k:
        return np.asarray(idx)
    return np.sort(rng.choice(idx, size=k, replace=False))
