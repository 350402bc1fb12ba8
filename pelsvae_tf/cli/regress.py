"""``pelsvae regress RUN_DIR``: parser and command (TensorFlow-free at import).

The fitting itself is :func:`pelsvae_tf.regress.fit.fit_regressors`; the options set fields of
:class:`~pelsvae_tf.regress.config.RegressorConfig` (their CLI defaults are the ones below).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pelsvae_tf.regress.config import ALL_KINDS, DEFAULT_KINDS, LATENT_NOISE, RegressorConfig


def _run_cli(args: argparse.Namespace) -> int:
    from pelsvae_tf.regress.fit import fit_regressors

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    physics = tuple(p.strip() for p in args.physics.split(",") if p.strip()) if args.physics else ()
    config = RegressorConfig(
        physics=physics,
        n_repeats=args.n_repeats,
        n_latent_draws=args.n_latent_draws,
        dummy=not args.no_dummy,
        use_class=not args.no_class,
        seed=args.seed,
        num_trees=args.num_trees,
        mlp_epochs=args.mlp_epochs,
        latent_noise=args.latent_noise,
    )
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    res = fit_regressors(args.run_dir, kinds, config, force=args.force)
    print(Path(res["md"]).read_text())
    return 0


def register(subparsers) -> None:
    """Add ``pelsvae regress RUN_DIR``."""
    p = subparsers.add_parser(
        "regress",
        help="fit physics -> latent regressors (linear, forest, mlp, density) and write Table 3",
        description="Fit physics -> latent regressors on a trained run's training latents and write "
        "RUN_DIR/regressors/ with the out-of-sample Table 3 analogue.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("run_dir", help="trained run directory (has config.json, latents.npz)")
    p.add_argument(
        "--kinds",
        default=",".join(DEFAULT_KINDS),
        help=f"comma-separated regressor kinds, some of {','.join(ALL_KINDS)}",
    )
    p.add_argument(
        "--physics",
        default="",
        help="comma-separated physical parameters (default: the run's model physics, or "
        "teff,abs_gmag,period for a cVAE); other sets are fitted post hoc, e.g. radius,lum",
    )
    p.add_argument("--n-repeats", type=int, default=100, help="copies per star (paper 100, reference 10)")
    p.add_argument("--n-latent-draws", type=int, default=1, help="latent draws z~N(mu,sigma) per copy")
    p.add_argument("--num-trees", type=int, default=100, help="random forest trees per latent dimension")
    p.add_argument("--mlp-epochs", type=int, default=20, help="MLP training epochs")
    p.add_argument("--no-dummy", action="store_true", help="omit the U(0,1) dummy input (paper uses it)")
    p.add_argument("--no-class", action="store_true", help="omit the one-hot class input (paper's input)")
    p.add_argument(
        "--latent-noise",
        default="residual",
        choices=LATENT_NOISE,
        help="linear/forest/mlp sampling: add out-of-sample residual noise, or 'none' (paper)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of repeats, draws and model initialisation")
    p.add_argument("--force", action="store_true", help="refit even if a regressor with this config exists")
    p.set_defaults(func=_run_cli)
