"""The ``pelsvae`` command line (TensorFlow-free until a verb runs): :func:`main`."""

from pelsvae_tf.cli.main import main

__all__ = ["main"]
