"""``pelsvae export``: parser and command (implementation: :mod:`pelsvae_tf.serve.export`).

The options are the fields of :class:`~pelsvae_tf.serve.config.ExportConfig` (TensorFlow-free);
TensorFlow is imported only when the command runs.
"""

from __future__ import annotations

import argparse

from pelsvae_tf.cli.flags import add_config_flags, config_from_args
from pelsvae_tf.serve.config import MODEL_NAMES, ExportConfig

#: CLI help where the dataclass docstring's wording is written for Python callers
_HELPS = {
    "models": f"comma-separated subset of {','.join(MODEL_NAMES)}",
    "base_path": "absolute path of --out inside the TF Serving container, written into models.config",
    "generator_regressor": "regressor used inside the generator graph",
    "num_versions": "versions TF Serving keeps loaded (model_version_policy latest num_versions)",
}


def command(args: argparse.Namespace) -> int:
    """Run ``pelsvae export``: write the SavedModels and print where each one went."""
    from pelsvae_tf.serve.export import export_run

    cfg = config_from_args(args, ExportConfig)
    res = export_run(args.run_dir, args.out, args.version, cfg)
    for name, path in res["models"].items():
        print(f"{name:18s} version {res['version']}: {path}{' (kept)' if name in res['kept'] else ''}")
    print(f"models.config: {res['models_config']}")
    return 0


def register(subparsers) -> None:
    """Add ``pelsvae export RUN_DIR --out saved_models/ [--version N]``."""
    p = subparsers.add_parser(
        "export",
        help="write TF Serving SavedModels (decoder, regressors, generator) + models.config + warmup",
        description=(
            "Export a trained run for TensorFlow Serving: saved_models/<name>/<version>/ for decoder, "
            "regressor_mlp, regressor_forest and generator, a models.config listing them and warmup requests."
        ),
    )
    p.add_argument("run_dir", help="run directory written by `pelsvae train` and `pelsvae regress`")
    p.add_argument(
        "--out",
        default="saved_models",
        help="TF Serving model root (one sub-directory per model) (default: saved_models)",
    )
    p.add_argument(
        "--version",
        type=int,
        default=None,
        help="version number to write; None = the next free one (an existing version from the same run is kept)",
    )
    add_config_flags(
        p,
        ExportConfig,
        exclude=("chunk_points",),
        helps=_HELPS,
        defaults={"models": "all"},
        choices={"generator_regressor": ("mlp", "forest")},
    )
    p.set_defaults(func=command)
