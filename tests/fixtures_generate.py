"""Generation fixtures (issue 4): ``fitted_run`` = a copy of ``tiny_run`` with small regressors.

The copy keeps other areas' use of ``tiny_run`` independent of what these tests write.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

#: Small but real regressor settings for tests (fast on 2 CPU cores).
SMALL_REGRESSORS = dict(n_repeats=10, num_trees=20, mlp_epochs=3, seed=0)


@pytest.fixture(scope="session")
def fitted_run(tiny_run, tmp_path_factory) -> Path:
    """Run directory (copy of ``tiny_run``) with linear/forest/mlp regressors fitted."""
    from pelsvae_tf.regressors import RegressorConfig, fit_regressors

    run_dir = tmp_path_factory.mktemp("fitted_run") / "run"
    shutil.copytree(tiny_run, run_dir)
    fit_regressors(run_dir, ("linear", "forest", "mlp"), RegressorConfig(**SMALL_REGRESSORS))
    return run_dir


@pytest.fixture(scope="session")
def forest_generator(fitted_run):
    """``Generator`` of ``fitted_run`` with the forest regressor."""
    from pelsvae_tf.generator import Generator

    return Generator.load(fitted_run, regressor="forest")
