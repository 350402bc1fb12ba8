"""Split stars train/val/test (stratified by class), per-class caps, and the augmentation plan."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pelsvae_tf.classes import CLASSES
from pelsvae_tf.data.config import PrepareConfig
from pelsvae_tf.data.shards import PHYSICS_COLUMNS


def split_stars(summary: pd.DataFrame, config: PrepareConfig) -> pd.Series:
    """Assign each star (row of ``summary`` with ``cls``) to train/val/test, stratified by class.

    Per class the stars are shuffled (seeded) and cut at round(0.6 n), round(0.8 n); a class
    with one star goes to train, with two to train and test. Returns a Series of split names.
    """
    rng = np.random.default_rng([config.seed, 1])
    out = pd.Series("train", index=summary.index, dtype=object)
    f_tr, f_va, _ = config.split
    for cls in CLASSES:
        idx = summary.index[summary["cls"] == cls].to_numpy()
        n = idx.size
        if n == 0:
            continue
        idx = idx[rng.permutation(n)]
        n_tr = max(1, int(round(f_tr * n)))
        n_va = int(round(f_va * n))
        if n == 2 and config.split[2] > 0:
            n_tr, n_va = 1, 0
        n_va = min(n_va, n - n_tr)
        out.loc[idx[n_tr : n_tr + n_va]] = "val"
        out.loc[idx[n_tr + n_va :]] = "test"
    return out


def apply_caps(summary: pd.DataFrame, config: PrepareConfig) -> pd.Series:
    """Boolean Series: stars kept after the per-class caps (preferring all ``physics`` present)."""
    keep = pd.Series(True, index=summary.index)
    rng = np.random.default_rng([config.seed, 2])
    cols = [PHYSICS_COLUMNS.index(p) for p in config.physics]
    for cls in CLASSES:
        cap = config.cap(cls)
        idx = summary.index[summary["cls"] == cls].to_numpy()
        if cap is None or idx.size <= cap:
            continue
        has = (
            np.all(np.isfinite(np.stack(summary.loc[idx, "phys"].to_numpy())[:, cols]), axis=1)
            if cols
            else np.ones(idx.size, bool)
        )
        order = np.concatenate([rng.permutation(idx[has]), rng.permutation(idx[~has])])
        keep.loc[order[cap:]] = False
    return keep


def augmentation_plan(summary: pd.DataFrame, config: PrepareConfig) -> pd.Series:
    """Number of augmented copies per star (0 outside train): class targets spread evenly over
    the class's training stars, the remainder given to a seeded random choice of them."""
    rng = np.random.default_rng([config.seed, 3])
    copies = pd.Series(0, index=summary.index, dtype=np.int64)
    for cls in CLASSES:
        in_cls = summary["cls"] == cls
        tr = summary.index[in_cls & (summary["split"] == "train")].to_numpy()
        if tr.size == 0:
            continue
        target = config.train_target(cls, int(in_cls.sum()))
        n_aug = max(0, target - tr.size)
        base, extra = divmod(n_aug, tr.size)
        copies.loc[tr] = base
        if extra:
            copies.loc[rng.choice(tr, size=extra, replace=False)] += 1
    return copies
