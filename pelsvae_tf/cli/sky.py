"""``pelsvae sky``: parser and command (implementation: :mod:`pelsvae_tf.sky.sky`)."""

from pelsvae_tf.sky.sky import register  # noqa: F401  (the parser moves here in the layout work)
