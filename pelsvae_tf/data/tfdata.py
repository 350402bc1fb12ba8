"""``tf.data`` pipelines over a prepared dataset (the only module of the data stage that imports TensorFlow)."""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
import tensorflow as tf

from pelsvae_tf.classes import check_physics_names

log = logging.getLogger("pelsvae_tf.data")


def to_tf(
    dataset,
    split: str,
    batch_size: int = 128,
    physics: Sequence[str] = (),
    shuffle: bool = True,
    seed: int = 0,
    drop_remainder: bool = False,
    repeat: bool = False,
    require_physics: bool = True,
) -> tf.data.Dataset:
    """``tf.data.Dataset`` of dict batches for ``split`` of ``dataset`` (a
    :class:`~pelsvae_tf.data.dataset.PreparedDataset`); see :meth:`PreparedDataset.to_tf`."""
    if batch_size < 1:
        raise ValueError(f"to_tf: batch_size={batch_size}; must be >= 1")
    physics = check_physics_names(physics)
    a = dataset.arrays(split)
    keep = np.ones(len(a["label"]), dtype=bool)
    if physics and require_physics:
        keep = dataset.physics_mask(split, physics)
        dropped = int((~keep).sum())
        if dropped:
            log.info("to_tf(%s): dropped %d of %d curves lacking %s", split, dropped, keep.size, list(physics))
    if not keep.any():
        raise ValueError(
            f"to_tf: split {split!r} has no curve with all of {list(physics)}; "
            f"choose other physics or prepare with physical parameters"
        )
    idx = [dataset.physics_columns.index(p) for p in physics]
    phys_raw = a["phys"][keep][:, idx]
    if physics:
        phys = dataset.physics_scaler.transform(phys_raw, physics)
        phys = np.nan_to_num(phys, nan=0.0)
    else:
        phys = np.zeros((int(keep.sum()), 0), dtype=np.float32)
    label = a["label"][keep].astype(np.int32)
    onehot = np.eye(len(dataset.classes), dtype=np.float32)[label]
    elements = {
        "phase": a["phase"][keep],
        "mag": a["mag"][keep],
        "err": a["err"][keep],
        "class_onehot": onehot,
        "label": label,
        "phys": phys.astype(np.float32),
    }
    ds = tf.data.Dataset.from_tensor_slices(elements)
    if shuffle:
        ds = ds.shuffle(len(label), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(tf.data.AUTOTUNE)
