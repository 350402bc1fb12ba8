"""Where the spread of shapes is lost (issue 12): data, reconstruction and generation, per class.

For the real training stars of each class of a trained run (with latents) and its prepared data:

- R21 interquartile range (IQR) over the class of the observed prepared curves, of the
  reconstructions (decoder at each star's posterior-mean latent, noise-free, on 300 phases) and of
  curves generated at each star's own physics with ``--regressor`` (one per star, noise-free);
- the correlation of observed and reconstructed R21, and their medians;
- :func:`pelsvae_tf.evaluate.spread.spread_at_fixed_physics` (generated / data spread at fixed
  physics, R21 and phi31) for every ``--kinds`` regressor, median [min, max] over ``--seeds``.

If the reconstructions' IQR is far below the data's, the decoder (not the regressor) limits the
spread a generator can keep. Shape numbers: 4-harmonic Fourier fits
(:func:`pelsvae_tf.evaluate.physics_recovery.shape_numbers`).

    python benchmarks/bench_reconstruction_spread.py runs/demo/run runs/demo/data   # ~2 min
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from common import machine_info  # noqa: E402


def iqr(x: np.ndarray) -> float:
    """Interquartile range of the finite values of ``x`` (unit of ``x``)."""
    q = np.nanpercentile(x, [25, 75])
    return float(q[1] - q[0])


def main(argv=None) -> int:
    """Print, per class, the R21 spread of data / reconstructions / generated curves and the
    spread-at-fixed-physics ratios per regressor kind."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", help="trained run directory with latents.npz and fitted regressors")
    p.add_argument("data_dir", help="the prepared dataset the run was trained on")
    p.add_argument("--classes", default="RRLYR,CEP")
    p.add_argument("--regressor", default="mlp", help="regressor of the per-star generation")
    p.add_argument("--kinds", default="linear,forest,mlp,density", help="regressors for the spread ratios")
    p.add_argument("--seeds", default="0,1,2", help="anchor seeds of spread_at_fixed_physics")
    args = p.parse_args(argv)

    from pelsvae_tf.data.dataset import PreparedDataset
    from pelsvae_tf.evaluate.physics_recovery import shape_numbers
    from pelsvae_tf.evaluate.spread import spread_at_fixed_physics
    from pelsvae_tf.generate.cadence import phases
    from pelsvae_tf.generate.generator import Generator, PhysicsRangeWarning

    print("machine:", machine_info())
    ds = PreparedDataset(args.data_dir)
    a = ds.arrays("train")
    lat = np.load(Path(args.run_dir) / "latents.npz")
    row_of = {str(s): i for i, s in enumerate(lat["star_id"])}
    grid = phases(300)
    g = Generator.load(args.run_dir, regressor=args.regressor)
    classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    warnings.simplefilter("ignore", PhysicsRangeWarning)
    for cls in classes:
        lab = g.classes.index(cls)
        real = np.flatnonzero(a["is_real"].astype(bool) & (a["label"] == lab))
        keep = [
            i
            for i in real
            if str(a["star_id"][i]) in row_of
            and lat["split"][row_of[str(a["star_id"][i])]] == "train"
            and lat["label"][row_of[str(a["star_id"][i])]] == lab
        ]
        rows = [row_of[str(a["star_id"][i])] for i in keep]
        obs = shape_numbers(a["phase"][keep], a["mag"][keep])
        per = a["period"][keep]
        rec = g.from_latents(lat["z_mean"][rows], cls, per, cadence=grid, noise=False, seed=0)
        rs = shape_numbers(np.mod(rec.time / rec.period[:, None], 1.0), rec.mag)
        cols = [ds.physics_columns.index(q) for q in g.physics]
        phys = a["phys"][keep][:, cols]
        ok = np.all(np.isfinite(phys), axis=1)
        gen = g.generate(
            cls, n=int(ok.sum()), cadence=grid, noise=False, seed=1, **{q: phys[ok, j] for j, q in enumerate(g.physics)}
        )
        gs = shape_numbers(np.mod(gen.time / gen.period[:, None], 1.0), gen.mag)
        print(
            f"{cls}: {len(keep)} training stars; R21 IQR observed {iqr(obs['R21']):.3f}, reconstructed "
            f"{iqr(rs['R21']):.3f}, generated at own physics ({args.regressor}) {iqr(gs['R21']):.3f}; "
            f"R21 median observed {np.nanmedian(obs['R21']):.3f}, reconstructed {np.nanmedian(rs['R21']):.3f}; "
            f"corr(observed, reconstructed) {np.corrcoef(obs['R21'], rs['R21'])[0, 1]:.2f}"
        )
    seeds = [int(s) for s in args.seeds.split(",")]
    for kind in (k.strip() for k in args.kinds.split(",") if k.strip()):
        gk = Generator.load(args.run_dir, regressor=kind)
        ratios: dict[str, list] = {}
        for seed in seeds:
            res = spread_at_fixed_physics(gk, a, ds.physics_columns, classes=classes, seed=seed)
            for c, e in res["per_class"].items():
                ratios.setdefault(c, []).append((e.get("median_ratio_R21"), e.get("median_ratio_phi31")))
        for c, v in ratios.items():
            v = np.asarray(v, float)
            r21, phi = v[:, 0], v[:, 1]
            print(
                f"spread at fixed physics, {kind}, {c}: R21 {np.median(r21):.3f} [{r21.min():.3f}, {r21.max():.3f}], "
                f"phi31 {np.median(phi):.3f} [{phi.min():.3f}, {phi.max():.3f}] over anchor seeds {seeds}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
