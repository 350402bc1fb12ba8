"""Shared pytest fixtures.

Session-scoped fixtures build the small artefacts that many tests need once per run:
``tiny_sky`` (a built-in sky of a few hundred stars), ``tiny_dataset`` (that sky prepared) and
``tiny_run`` (a small cVAE-P trained for a few epochs). Area-specific fixtures live in
``fixtures_*.py`` beside this file and are imported here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the real reference data (``../shared/data``); tests needing it skip without it."""
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is not present (only in the development checkout)")
    return SHARED_DATA


from fixtures_data import *  # noqa: E402,F401,F403
from fixtures_model import *  # noqa: E402,F401,F403
from fixtures_generate import *  # noqa: E402,F401,F403
from fixtures_serving import *  # noqa: E402,F401,F403
