"""``pelsvae evaluate``: parser and command (implementation: :mod:`pelsvae_tf.evaluate.evaluation`)."""

from pelsvae_tf.evaluate.evaluation import register  # noqa: F401  (the parser moves here in the layout work)
