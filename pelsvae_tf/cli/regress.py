"""``pelsvae regress``: parser and command (implementation: :mod:`pelsvae_tf.regress.regressors`)."""

from pelsvae_tf.regress.regressors import register  # noqa: F401  (the parser moves here in the layout work)
