"""TensorFlow op determinism as a context: one switch shared by training and generation.

``tf.config.experimental.enable_op_determinism()`` is a process-wide setting; :func:`op_determinism`
turns it on for the duration of a ``with`` block and puts the previous setting back, so a library
call (``train()``, ``Generator.generate``) does not change the state of the caller's process.
Its cost is measured by ``benchmarks/bench_determinism.py``.
"""

from __future__ import annotations

import contextlib
import functools

import tensorflow as tf
from tensorflow.python.framework import config as tf_config


@contextlib.contextmanager
def op_determinism(enabled: bool):
    """TensorFlow op determinism on inside the context when ``enabled`` (restored after).

    Re-entrant: an inner block inside an outer one changes nothing, and only the block that turned
    determinism on turns it off again.
    """
    turn_on = bool(enabled) and not tf_config.is_op_determinism_enabled()
    if turn_on:
        tf.config.experimental.enable_op_determinism()
    try:
        yield
    finally:
        if turn_on:
            tf_config.disable_op_determinism()


def is_enabled() -> bool:
    """Whether TensorFlow op determinism is on in this process now."""
    return bool(tf_config.is_op_determinism_enabled())


def under_op_determinism(method):
    """Method decorator: run ``method`` inside :func:`op_determinism` when its object's
    ``deterministic`` attribute is true (``Generator.generate`` and friends)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with op_determinism(getattr(self, "deterministic", True)):
            return method(self, *args, **kwargs)

    return wrapper
