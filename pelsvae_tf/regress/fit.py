"""Run-level fitting: the run's training latents -> fitted regressors under ``RUN_DIR/regressors/``
and the Table 3 analogue (:func:`fit_regressors`, what ``pelsvae regress`` runs).

Run-directory reads go through :class:`pelsvae_tf.rundir.RunDir`; the functions
:func:`read_run_config`, :func:`load_latents`, ... are its one-line 0.1 names.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from pelsvae_tf.classes import CLASSES, DEFAULT_PHYSICS
from pelsvae_tf.regress.base import PhysicsRegressor
from pelsvae_tf.regress.calibration import density_scores
from pelsvae_tf.regress.config import ALL_KINDS, DEFAULT_KINDS, RegressorConfig
from pelsvae_tf.regress.regressors import load_regressor, make_regressor
from pelsvae_tf.regress.table3 import PAPER_TABLE3, write_table3
from pelsvae_tf.regress.train_stats import train_stats_current, write_train_stats
from pelsvae_tf.rundir import SPLIT_CODES, RunDir  # noqa: F401  (SPLIT_CODES re-exported)

log = logging.getLogger("pelsvae_tf.regress.regressors")


def read_run_config(run_dir: str | Path) -> dict[str, Any]:
    """``RUN_DIR/config.json`` as a dict (FileNotFoundError naming the run dir if absent)."""
    return RunDir(run_dir).config


def run_model_physics(run_dir: str | Path) -> tuple[str, ...]:
    """Physical parameters the run's encoder saw (``()`` for a cVAE)."""
    return RunDir(run_dir).model_physics


def default_physics(run_dir: str | Path) -> tuple[str, ...]:
    """Regressor inputs by default: the run's model physics, or Teff/abs G/period for a cVAE."""
    return RunDir(run_dir).default_physics


def regressor_name(kind: str, physics: Sequence[str], run_dir: str | Path) -> str:
    """Sub-directory name under ``RUN_DIR/regressors``: ``kind`` for the default physics,
    ``kind@p1+p2`` for a post-hoc set of parameters."""
    physics = tuple(physics)
    return kind if physics == default_physics(run_dir) else f"{kind}@{'+'.join(physics)}"


def load_latents(run_dir: str | Path) -> dict[str, np.ndarray]:
    """Read ``RUN_DIR/latents.npz``; ``split`` returned as strings (train/val/test)."""
    return RunDir(run_dir).latents()


def _physics_columns(run_dir: str | Path, lat: dict[str, np.ndarray]) -> tuple[str, ...]:
    return RunDir(run_dir).latent_physics_columns(lat)


def load_physics_scaler(run_dir: str | Path):
    """The run's :class:`PhysicsScaler` (``RUN_DIR/physics_scaler.json``)."""
    return RunDir(run_dir).physics_scaler()


def regression_arrays(run_dir: str | Path, physics: Sequence[str], split: str) -> dict[str, np.ndarray]:
    """Stars of ``split`` having every parameter of ``physics``: scaled phys, latents, labels, IDs."""
    lat = load_latents(run_dir)
    cols = _physics_columns(run_dir, lat)
    missing = [p for p in physics if p not in cols]
    if missing:
        raise ValueError(f"physics {missing} not in the run's latents.npz columns {list(cols)}")
    idx = [cols.index(p) for p in physics]
    raw = lat["phys"][:, idx].astype(np.float64)
    m = (lat["split"] == split) & np.all(np.isfinite(raw), axis=1)
    scaler = load_physics_scaler(run_dir)
    return {
        "phys_scaled": scaler.transform(raw[m], physics),
        "phys_raw": raw[m],
        "z_mean": lat["z_mean"][m].astype(np.float32),
        "z_log_var": lat["z_log_var"][m].astype(np.float32),
        "label": lat["label"][m].astype(np.int64),
        "star_id": lat["star_id"][m],
    }


def rmse(pred: np.ndarray, target: np.ndarray) -> float:
    """Root-mean-square error over all stars and latent dimensions (latent units)."""
    return float(np.sqrt(np.mean((np.asarray(pred, np.float64) - np.asarray(target, np.float64)) ** 2)))


def dummy_averaged_prediction(
    reg: PhysicsRegressor, arrays: dict[str, np.ndarray], seed: int, n_draws: int = 16
) -> np.ndarray:
    """Prediction averaged over ``n_draws`` dummy draws: the regressor's estimate of E[z | physics]
    (the single-draw prediction also carries the spread the dummy was fitted to reproduce)."""
    n = len(arrays["label"])
    if not reg.config.dummy:
        return reg.predict(arrays["phys_scaled"], labels=arrays["label"])
    rng = np.random.default_rng(seed)
    d = rng.uniform(0.0, 1.0, size=(n_draws, n)).reshape(-1)
    pred = reg.predict(np.tile(arrays["phys_scaled"], (n_draws, 1)), dummy=d, labels=np.tile(arrays["label"], n_draws))
    return pred.reshape(n_draws, n, -1).mean(axis=0)


def fit_regressors(
    run_dir: str | Path,
    kinds: Sequence[str] = DEFAULT_KINDS,
    config: RegressorConfig | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Fit regressors of ``kinds`` on the run's TRAIN latents; write them and the Table 3 analogue.

    Writes ``RUN_DIR/regressors/<name>/`` per kind (``name`` = kind, or ``kind@p1+p2`` for
    post-hoc physics), ``train_stats.npz`` and ``table3.csv``/``table3.md`` with, per kind, the
    latent RMSE on VALIDATION stars never used in fitting (out of sample) and on the training
    stars (in sample), next to a predict-the-training-mean baseline, and the out-of-sample
    negative log-likelihood [nats per star] and calibration (share of validation posterior means
    inside the predicted 68 % / 95 % regions) of the regressor's sampling distribution next to a
    per-class Gaussian baseline (:func:`pelsvae_tf.regress.density.density_scores`; NaN for a point
    regressor with ``latent_noise="none"``, and the NLL for ``"neighbours"``, whose draws are
    residual vectors). Regressors already on disk with the same config are reused (resumable)
    unless ``force`` or unless one no longer loads (a lost file): then it is refitted. Returns the
    table rows.
    """
    run_dir = Path(run_dir)
    base = config or RegressorConfig()
    physics = tuple(base.physics) or default_physics(run_dir)
    kinds = tuple(kinds)
    for k in kinds:
        if k not in ALL_KINDS:
            raise ValueError(f"fit_regressors: unknown kind {k!r}; expected some of {ALL_KINDS}")
    train = regression_arrays(run_dir, physics, "train")
    val = regression_arrays(run_dir, physics, "val")
    if len(train["label"]) == 0:
        raise ValueError(f"fit_regressors: no training star of {run_dir} has all of {list(physics)}")
    overlap = set(train["star_id"].tolist()) & set(val["star_id"].tolist())
    if overlap:
        raise ValueError(
            f"fit_regressors: {len(overlap)} star IDs are in both train and val (leak), e.g. {sorted(overlap)[:3]}"
        )
    cfg = read_run_config(run_dir)
    classes = tuple(cfg.get("dataset_schema", {}).get("classes", CLASSES))
    latent_dim = train["z_mean"].shape[1]
    model_name = "cVAE-P" if run_model_physics(run_dir) else "cVAE"
    reg_dir = run_dir / "regressors"
    if force or not train_stats_current(reg_dir / "train_stats.npz"):
        write_train_stats(run_dir)
    rows = []
    mean_z = train["z_mean"].mean(axis=0, keepdims=True)
    for kind in kinds:
        kcfg = base.replace(kind=kind, physics=physics)
        name = regressor_name(kind, physics, run_dir)
        path = reg_dir / name
        reg = None
        fit_s = float("nan")
        if not force and (path / "regressor.json").exists():
            meta = json.loads((path / "regressor.json").read_text())
            if meta.get("config") == kcfg.to_dict():
                try:
                    reg = load_regressor(path)
                    log.info("reusing fitted regressor %s", path)
                except ValueError as exc:  # e.g. a file of it lost: refit
                    log.warning("refitting %s: %s", path, exc)
        if reg is None:
            t0 = time.perf_counter()
            reg = make_regressor(kcfg, physics, latent_dim, classes)
            reg.fit(train["phys_scaled"], train["z_mean"], train["z_log_var"], train["label"])
            fit_s = time.perf_counter() - t0
            reg.save(path)
        pred_tr = reg.predict(train["phys_scaled"], seed=kcfg.seed + 1, labels=train["label"])
        row = {
            "model": model_name,
            "physics": "+".join(physics),
            "kind": kind,
            "name": name,
            "rmse_val": float("nan"),
            "rmse_train": rmse(pred_tr, train["z_mean"]),
            "rmse_val_mean_baseline": float("nan"),
            "rmse_val_dummy_avg": float("nan"),
            "n_train_stars": int(len(train["label"])),
            "n_val_stars": int(len(val["label"])),
            "n_rows_fit": int(
                len(train["label"])
                * (
                    (1 if kcfg.density_target == "means" else kcfg.density_draws)
                    if kind == "density"
                    else kcfg.n_repeats * kcfg.n_latent_draws
                )
            ),
            "use_class": kcfg.use_class,
            "fit_seconds": fit_s,
            "paper_table3": PAPER_TABLE3.get((model_name, kind), float("nan"))
            if tuple(physics) == DEFAULT_PHYSICS
            else float("nan"),
        }
        if len(val["label"]):
            pred_va = reg.predict(val["phys_scaled"], seed=kcfg.seed + 2, labels=val["label"])
            row["rmse_val"] = rmse(pred_va, val["z_mean"])
            row["rmse_val_mean_baseline"] = rmse(np.broadcast_to(mean_z, val["z_mean"].shape), val["z_mean"])
            row["rmse_val_dummy_avg"] = rmse(dummy_averaged_prediction(reg, val, kcfg.seed + 3), val["z_mean"])
            row.update(density_scores(reg, train, val, len(classes), seed=kcfg.seed + 4))
        rows.append(row)
    csv_path, md_path = write_table3(reg_dir, rows)
    return {
        "rows": rows,
        "csv": str(csv_path),
        "md": str(md_path),
        "train_ids": train["star_id"],
        "val_ids": val["star_id"],
    }
