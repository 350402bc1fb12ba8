"""``pelsvae tune``: parser and command (implementation: :mod:`pelsvae_tf.tuning.cli`)."""

from pelsvae_tf.tuning.cli import register  # noqa: F401  (the parser moves here in the layout work)
