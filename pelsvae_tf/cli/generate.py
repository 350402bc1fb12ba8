"""``pelsvae generate [RUN_DIR] --class CLS --out FILE ...``: parser and command (TensorFlow-free at import).

The command streams the curves of :meth:`pelsvae_tf.generate.Generator.generate_to` to a CSV or
Parquet file (any ``--n`` in bounded memory) and optionally plots the first ones.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pelsvae_tf.generate.cadence import parse_cadence
from pelsvae_tf.generate.conditions import DEFAULT_REGRESSOR


def _run_cli(args: argparse.Namespace) -> int:
    from pelsvae_tf.generate.generator import Generator  # TensorFlow: not at --help

    out = Path(args.out)
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise ValueError(f"--out {out}: use a .csv or .parquet file name")
    if not out.parent.exists():
        if not args.parents:
            raise FileNotFoundError(f"--out {out}: folder {out.parent} does not exist; create it or add --parents")
        out.parent.mkdir(parents=True, exist_ok=True)
    gen = Generator.load(args.run_dir, regressor=args.regressor, deterministic=not args.no_deterministic)
    cadence = parse_cadence(args.cadence, seed=args.seed) if args.cadence else None
    extra = {}
    for name in ("radius", "lum", "bp_rp"):
        v = getattr(args, name)
        if v is not None:
            extra[name] = v
    kw = dict(
        teff=args.teff,
        abs_gmag=args.abs_gmag,
        period=args.period,
        cadence=cadence,
        seed=args.seed,
        mag_mean=args.mag_mean,
        amplitude=args.amplitude,
        t0=args.t0,
        strict=args.strict,
        noise=not args.no_noise,
        jitter=not args.no_jitter,
        **extra,
    )
    gen.generate_to(out, args.cls, n=args.n, **kw)  # streamed in chunks: any n in bounded memory
    n_points = (cadence or parse_cadence("phases:100")).values.shape[-1]
    print(f"wrote {args.n} light curves x {n_points} points to {out}")
    res = gen.generate(args.cls, n=min(3, args.n), **kw) if args.plot else None
    if args.plot:
        import matplotlib  # only with --plot: `pelsvae generate --help` stays light

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
        res.plot(ax=axes[0], index=range(min(3, len(res))), folded=False)
        res.plot(ax=axes[1], index=range(min(3, len(res))), folded=True)
        fig.tight_layout()
        from pelsvae_tf.evaluate.plots import save_figure

        save_figure(fig, Path(args.plot), dpi=120)
        print(f"wrote {args.plot}")
    return 0


def register(subparsers) -> None:
    """Add ``pelsvae generate RUN_DIR``."""
    p = subparsers.add_parser(
        "generate",
        help="generate light curves (magnitudes, any cadence) from class + physics",
        description="Generate light curves in magnitudes from a class, physical parameters and a cadence "
        "with a trained run and its fitted regressor.",
    )
    p.add_argument(
        "run_dir",
        nargs="?",
        default=None,
        help="trained run directory with regressors/ (see `pelsvae regress`); "
        "default: the small pretrained run shipped with the package",
    )
    p.add_argument("--class", dest="cls", required=True, help="variability class, e.g. RRLYR, CEP, ECL")
    p.add_argument("--teff", type=float, default=None, help="effective temperature [K] (default: sampled)")
    p.add_argument("--abs-gmag", type=float, default=None, help="absolute Gaia G magnitude [mag] (default: sampled)")
    p.add_argument("--period", type=float, default=None, help="period [d] (default: sampled)")
    p.add_argument("--radius", type=float, default=None, help="radius [solRad] (post-hoc regressors only)")
    p.add_argument("--lum", type=float, default=None, help="luminosity [solLum] (post-hoc regressors only)")
    p.add_argument("--bp-rp", dest="bp_rp", type=float, default=None, help="BP-RP colour [mag] (post-hoc only)")
    p.add_argument("--n", type=int, default=10, help="number of light curves")
    p.add_argument(
        "--cadence",
        default="phases:100",
        help="survey:N,BASELINE_D[,SEASON_D] | phases:N | times:FILE | times:t1,t2,... (days)",
    )
    p.add_argument("--t0", type=float, default=0.0, help="time of phase zero [d]")
    p.add_argument(
        "--mag-mean", type=float, default=None, help="phase-averaged model magnitude [mag] (default: sampled)"
    )
    p.add_argument(
        "--amplitude",
        type=float,
        default=None,
        help="peak-to-peak amplitude of the noise-free model curve [mag] (default: sampled)",
    )
    p.add_argument(
        "--regressor",
        default=DEFAULT_REGRESSOR,
        help="regressor kind or name under RUN_DIR/regressors/ (default: %(default)s, the exported generator's)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same curves)")
    p.add_argument("--strict", action="store_true", help="error (not warning) for out-of-training-range physics")
    p.add_argument("--no-noise", action="store_true", help="do not add an N(0, err) noise draw")
    p.add_argument(
        "--no-jitter",
        action="store_true",
        help="strictly periodic stars: no intrinsic cycle-to-cycle jitter (phase, amplitude, white) "
        "drawn from the class's training stars in the noise draw (default: with it, as served)",
    )
    p.add_argument(
        "--no-deterministic",
        action="store_true",
        help="turn TensorFlow op determinism off for the generation (default: on; the random draws "
        "are seeded either way)",
    )
    p.add_argument("--out", required=True, help="output table, .csv or .parquet (written chunk by chunk)")
    p.add_argument("--parents", action="store_true", help="create the folder of --out if it does not exist")
    p.add_argument("--plot", default=None, help="optional PNG of the first curves (time and folded)")
    p.set_defaults(func=_run_cli)
