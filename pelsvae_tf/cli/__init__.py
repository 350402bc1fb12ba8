"""The ``pelsvae`` command line (TensorFlow-free until a verb runs).

The entry point is :func:`pelsvae_tf.cli.main.main`; each verb's parser and command live in
``pelsvae_tf.cli.<verb>``. This package binds no name ``main`` of its own, so
``import pelsvae_tf.cli.main as m`` gives the module (not a function shadowing it).
"""

__all__: list[str] = []
