"""``pelsvae generate``: parser and command (implementation: :mod:`pelsvae_tf.generate.generator`)."""

from pelsvae_tf.generate.generator import register  # noqa: F401  (the parser moves here in the layout work)
