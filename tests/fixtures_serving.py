"""Serving fixtures (issue 5): ``exported_models`` = ``pelsvae export`` of ``fitted_run``."""

from __future__ import annotations

from types import SimpleNamespace

import pytest


@pytest.fixture(scope="session")
def exported_models(fitted_run, tmp_path_factory) -> SimpleNamespace:
    """``export_run(fitted_run, out)`` once per session, plus the in-process objects it came from.

    Attributes: ``root`` (saved_models dir), ``result`` (export_run's dict), ``run_dir``,
    ``decoder`` (Keras), ``regressors`` ({"mlp", "forest"}: PhysicsRegressor), ``scaler``,
    ``classes``.
    """
    from pelsvae_tf.export import ExportConfig, export_run
    from pelsvae_tf.regressors import load_regressor
    from pelsvae_tf.training import load_run

    root = tmp_path_factory.mktemp("serving") / "saved_models"
    result = export_run(fitted_run, root, config=ExportConfig(warmup_batch=3, warmup_points=40))
    run = load_run(fitted_run)
    regs = {k: load_regressor(fitted_run / "regressors" / k) for k in ("mlp", "forest")}
    return SimpleNamespace(root=root, result=result, run_dir=fitted_run, decoder=run.decoder, regressors=regs,
                           scaler=run.physics_scaler, classes=tuple(run.classes))
