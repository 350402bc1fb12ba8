"""``pelsvae prepare``: parser and command (implementation: :mod:`pelsvae_tf.data.prepare`)."""

from pelsvae_tf.data.prepare import register  # noqa: F401  (the parser moves here in the layout work)
