"""``pelsvae export``: parser and command (implementation: :mod:`pelsvae_tf.serve.export`)."""

from pelsvae_tf.serve.export import register  # noqa: F401  (the parser moves here in the layout work)
