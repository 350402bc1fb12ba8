"""Shared pytest fixtures.

Session-scoped fixtures build the small artefacts that many tests need once per run:
``tiny_sky`` (a built-in sky of a few hundred stars), ``tiny_dataset`` (that sky prepared) and
``tiny_run`` (a small cVAE-P trained for a few epochs). Area-specific fixtures live in
``tests/fixtures/`` and are loaded as pytest plugins (``pytest_plugins``). The layout of
``tests/`` mirrors the package (``tests/generate/`` tests ``pelsvae_tf/generate/``, ...).
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

pytest_plugins = [
    "tests.fixtures.data",
    "tests.fixtures.model",
    "tests.fixtures.generate",
    "tests.fixtures.serving",
]


@pytest.fixture(autouse=True)
def _seed():
    """Seed Python's and NumPy's global generators (and Keras', once loaded) before every test,
    so a test's outcome never depends on which tests ran before it."""
    random.seed(0)
    np.random.seed(0)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(0)
    yield


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the real reference data (``../shared/data``); tests needing it skip without it."""
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is not present (only in the development checkout)")
    return SHARED_DATA
