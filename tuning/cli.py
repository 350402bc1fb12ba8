"""``python -m pelsvae_tf.tuning.cli``: the ``pelsvae tune`` verb alone (parser and command live
in :mod:`pelsvae_tf.cli.tune`)."""

from __future__ import annotations

from pelsvae_tf.cli.tune import main, register, run  # noqa: F401  (re-exported: their 0.1 home)

if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(main())
