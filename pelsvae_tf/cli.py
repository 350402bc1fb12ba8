"""The ``pelsvae`` command line: one verb per pipeline stage.

Each verb lives in its own module that defines ``register(subparsers)`` (adds its parser and
sets ``func``) so ``pelsvae --help`` stays fast: TensorFlow is imported only by the verb that
needs it.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: verb -> module that implements ``register(subparsers)``; order is the pipeline order.
VERBS: dict[str, str] = {
    "run": "pelsvae_tf.pipeline",
    "sky": "pelsvae_tf.data.sky",
    "prepare": "pelsvae_tf.data.prepare",
    "train": "pelsvae_tf.training",
    "regress": "pelsvae_tf.regressors",
    "generate": "pelsvae_tf.generator",
    "evaluate": "pelsvae_tf.evaluation",
    "export": "pelsvae_tf.export",
    "tune": "tuning.cli",
}


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every verb registered."""
    parser = argparse.ArgumentParser(
        prog="pelsvae",
        description=(
            "PELS-VAE: generate periodic variable-star light curves from class, physical "
            "parameters (Teff [K], absolute G mag [mag], period [d]) and cadence."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    from pelsvae_tf import __version__

    parser.add_argument("--version", action="version", version=f"pelsvae_tf {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb, module in VERBS.items():
        mod = importlib.import_module(module)
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``pelsvae`` console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        rc = args.func(args)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        # Bad input is reported as one clear line, not a traceback.
        print(f"pelsvae {args.verb}: error: {exc}", file=sys.stderr)
        return 2
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
