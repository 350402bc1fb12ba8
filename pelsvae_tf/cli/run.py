"""``pelsvae run``: parser and command (implementation: :mod:`pelsvae_tf.pipeline`)."""

from pelsvae_tf.pipeline import register  # noqa: F401  (the parser moves here in the layout work)
