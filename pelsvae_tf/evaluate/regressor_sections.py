"""Report sections that need fitted regressors: Table 3 (regressors' latent RMSE), the RR Lyrae
Teff sweep (paper Fig. 8) and the spread of shapes at fixed physics."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from pelsvae_tf.evaluate.config import EvalConfig
from pelsvae_tf.evaluate.generation import _make_generator
from pelsvae_tf.evaluate.physics_recovery import physics_recovery
from pelsvae_tf.evaluate.runview import _RunView
from pelsvae_tf.evaluate.spread import spread_at_fixed_physics
from pelsvae_tf.generate.generator import PhysicsRangeWarning


def _spread(view: _RunView, cfg: EvalConfig, notes: list[str]) -> dict | None:
    """Generated / data spread of R21 and phi31 at fixed physics for RRLYR and CEP (those the
    regressor knows), :func:`pelsvae_tf.evaluate.spread.spread_at_fixed_physics` on the training split."""

    generator = _make_generator(view, cfg, use_regressor=True)
    classes = [c for c in ("RRLYR", "CEP") if c in set(generator.classes_with_physics)]
    if not classes:
        notes.append("spread at fixed physics: no RRLYR or CEP training star with physics; skipped")
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PhysicsRangeWarning)
        return spread_at_fixed_physics(
            generator, view.dataset.arrays("train"), view.dataset.physics_columns, classes=classes, seed=cfg.seed
        )


def _table3(view: _RunView, notes: list[str]):

    path = view.paths.regressors_dir / "table3.csv"
    if not path.exists():
        notes.append(f"{path} missing: Table 3 not included (run `pelsvae regress {view.run_dir}`)")
        return None
    return pd.read_csv(path)


def _physics_recovery(view: _RunView, out_dir: Path, notes: list[str]) -> dict | None:
    res = physics_recovery(view.run_dir, out_dir)
    # out_dir is the temporary folder that atomic_dir renames: keep paths relative to the report
    for key in ("json", "figure"):
        if key in res:
            res[key] = Path(res[key]).name
    return res
