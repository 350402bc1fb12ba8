"""Data-layer fixtures (tiny_sky, tiny_dataset).

- ``tiny_sky``: the built-in sky, 35 stars per class (280 stars), seed 0 -> its directory
  (``photometry/*.dat``, ``catalog.csv``, ``truth.csv``).
- ``tiny_dataset``: that sky prepared with seq_len 100 and 60 training curves per class
  (real + augmented, 480 in all), physics included -> ``PreparedDataset``.
"""

from __future__ import annotations

import pytest

from pelsvae_tf.classes import CLASSES

TINY_N_PER_CLASS = 35
TINY_SEQ_LEN = 100
TINY_TRAIN_TARGET = 60


@pytest.fixture(scope="session")
def tiny_sky(tmp_path_factory):
    """Built-in sky with 35 stars per class (seed 0); returns its directory (Path)."""
    from pelsvae_tf.data.sky import SkyConfig, build_sky

    out = tmp_path_factory.mktemp("tiny_sky") / "sky"
    return build_sky(SkyConfig(n_per_class=TINY_N_PER_CLASS, seed=0), out, progress=False)


@pytest.fixture(scope="session")
def tiny_dataset(tiny_sky, tmp_path_factory):
    """``tiny_sky`` prepared (seq_len 100, 60 training curves per class, with physics)."""
    from pelsvae_tf.data.prepare import PrepareConfig, prepare

    out = tmp_path_factory.mktemp("tiny_dataset") / "data"
    cfg = PrepareConfig(seq_len=TINY_SEQ_LEN, aug_targets={c: TINY_TRAIN_TARGET for c in CLASSES},
                        shard_size=256, seed=0)
    return prepare(tiny_sky / "photometry", tiny_sky / "catalog.csv", out, cfg, progress=False)
