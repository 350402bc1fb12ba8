"""Distribution: the ``tf.distribute`` strategy of a run, who writes the run directory, and the
batch-size rules that keep every replica fed (shared by ``pelsvae train`` and tuning trials)."""

from __future__ import annotations

import contextlib
import json
import os

import tensorflow as tf
from keras.src import tree
from keras.src.backend.tensorflow import trainer as tf_trainer

from pelsvae_tf.options import STRATEGIES


def make_strategy(name: str):
    """The ``tf.distribute`` strategy called ``name`` (see :data:`pelsvae_tf.options.STRATEGIES`)."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"strategy {name!r} is not supported; use one of {STRATEGIES}")


def is_chief(strategy: str) -> bool:
    """Whether this process writes the run directory: always, except under ``"multiworker"``
    where only the chief does (``TF_CONFIG`` task ``chief``, or ``worker`` 0 in a cluster
    without a chief). Raises ``ValueError`` naming ``TF_CONFIG`` when it is not valid JSON."""
    if strategy != "multiworker":
        return True
    raw = os.environ.get("TF_CONFIG", "")
    if not raw.strip():
        return True  # a one-worker "cluster"
    try:
        tf_config = json.loads(raw)
        task = tf_config.get("task", {})
        cluster = tf_config.get("cluster", {})
    except (json.JSONDecodeError, AttributeError) as exc:
        raise ValueError(
            f"TF_CONFIG is not a JSON object ({exc}); set it to "
            '\'{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": 0}}\''
        ) from None
    kind, index = task.get("type"), int(task.get("index", 0))
    if kind == "chief":
        return True
    return kind == "worker" and index == 0 and "chief" not in cluster


def check_global_batch(batch_size: int, replicas: int, n_train: int, strategy: str) -> None:
    """Refuse a global batch that cannot be split over ``replicas`` replicas (``ValueError``
    naming ``TrainConfig.batch_size`` and the fix)."""
    if batch_size % replicas:
        raise ValueError(
            f"TrainConfig.batch_size={batch_size}: with {replicas} replicas the global batch "
            f"must be a multiple of {replicas}"
        )
    if replicas > 1 and n_train < batch_size:
        raise ValueError(
            f"TrainConfig.batch_size={batch_size}: larger than the {n_train} training curves; "
            f"under {strategy!r} the first batch must be full: lower --batch-size"
        )


def val_batch_size(batch_size: int, n_val: int, replicas: int) -> int:
    """Validation batch size that gives every replica data in every batch.

    Keras 3 builds a distributed model from the mean of the first batch's per-replica values
    (fails when a short first batch splits unevenly), and a replica handed an empty slice of the
    last batch breaks keras-tcn's convolutions. So under ``replicas > 1`` the batch is a multiple
    of ``replicas`` and the last partial batch holds either nothing or >= ``replicas`` curves.
    """
    cap = max(batch_size, 256)
    if replicas <= 1:
        return cap
    b = min(cap, max(n_val, replicas))
    b -= b % replicas
    while b > replicas:
        r = n_val % b
        if r == 0 or r >= replicas:
            return b
        b -= replicas
    return replicas


@contextlib.contextmanager
def scalar_metrics_reduced_across_workers():
    """Work around Keras 3 + ``MultiWorkerMirroredStrategy`` (tensorflow/tensorflow#72388): Keras
    averages each per-replica metric with ``strategy.reduce("MEAN", v, axis=0)``, which fails on
    the scalar metrics of every train/test step ("Invalid reduction dimension 0 for input with 0
    dimensions"). Within this context a scalar is averaged over all replicas of all workers with
    ``axis=None`` (the same mean, defined for scalars); anything else goes to Keras unchanged."""
    original = tf_trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if reduction not in ("auto", "mean") or not tf_trainer._collective_all_reduce_multi_worker(strategy):
            return original(values, strategy, reduction)

        def one(v):
            local = strategy.experimental_local_results(v) if isinstance(v, tf.distribute.DistributedValues) else [v]
            if getattr(local[0], "shape", None) is not None and local[0].shape.rank == 0:
                return strategy.reduce("MEAN", v, axis=None)
            return original(v, strategy, reduction)

        return tree.map_structure(one, values)

    tf_trainer.reduce_per_replica = reduce_per_replica
    try:
        yield
    finally:
        tf_trainer.reduce_per_replica = original
