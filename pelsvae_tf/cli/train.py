"""``pelsvae train``: parser and command (implementation: :mod:`pelsvae_tf.train.trainer`)."""

from pelsvae_tf.train.trainer import register  # noqa: F401  (the parser moves here in the layout work)
