"""Real-data fidelity: reconstruct real SDSS Stripe 82 RR Lyrae with a model trained on the built-in sky.

The model never saw these stars, this survey or this band system (OGLE I-like built-in sky vs
SDSS ugriz). Each star (Sesar et al. 2010; ``../shared/data/sdss_s82_rrlyrae/``) is read in one
band, cleaned and folded on the catalogue period exactly as ``pelsvae prepare`` does (S/N cut,
sigma clipping on the folded curve, phase zero at maximum light), brought to the model's length
(SDSS has ~55-60 epochs per band, fewer than the model's points: the reference code's padding,
repeated points redrawn from N(mag, err)), min-max scaled, encoded as class RRLYR, and decoded at
the same phases from the latent mean. The error-weighted RMSE (scaled magnitude, and mag via each
star's range) is computed on the star's own (non-padded) points and printed next to the same
number for the built-in sky's held-out RR Lyrae (in-domain) measured in the same run, as a ratio;
a flat-curve baseline (predict the star's weighted mean) gives the scale of "no shape learned".

Without ``--run-dir`` it builds a small built-in sky, prepares it and trains a small cVAE (no
physical parameters: SDSS stars have no Gaia Teff / absolute magnitude) in ``--work`` (resumable:
finished steps are skipped). With a cVAE-P run, Teff and absolute G are set to the training
medians of RR Lyrae and the period to the SDSS period (stated in the output).

Run: ``python benchmarks/bench_real_sdss.py`` (default < 3 min on 2 cores; ``--help`` for options).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402
from common import print_machine_info  # noqa: E402

DEFAULT_SDSS = HERE.parent.parent / "shared" / "data" / "sdss_s82_rrlyrae"


def build_default_run(work: Path, epochs: int, n_per_class: int, seed: int) -> Path:
    """Built-in sky -> prepare (seq_len 100) -> small cVAE in ``work``; each finished step is reused."""
    from pelsvae_tf.classes import CLASSES
    from pelsvae_tf.data.prepare import PrepareConfig, prepare
    from pelsvae_tf.model import ModelConfig
    from pelsvae_tf.sky import SkyConfig, build_sky
    from pelsvae_tf.train.trainer import TrainConfig, train

    work = work / f"n{n_per_class}-s{seed}"  # each finished step is reused only for the same settings
    sky = work / "sky"
    if not (sky / "catalog.csv").exists():
        build_sky(SkyConfig(n_per_class=n_per_class, seed=seed, epochs=(300, 600)), sky, progress=True)
    data = work / "data"
    if not (data / "schema.json").exists():
        cfg = PrepareConfig(seq_len=100, aug_targets={c: 3 * n_per_class for c in CLASSES}, seed=seed)
        prepare(sky / "photometry", sky / "catalog.csv", data, cfg, progress=True)
    run = work / f"run-{epochs}ep"
    if not (run / "model.keras").exists() or not (run / "latents.npz").exists():
        mc = ModelConfig(
            arch="tcn",
            hidden=16,
            n_blocks=4,
            kernel_size=5,
            latent_dim=4,
            dropout=0.0,
            time_encoding="fourier",
            dense_units=(16,),
            physics=(),
            seq_len=100,
            seed=seed,
        )
        tc = TrainConfig(epochs=epochs, batch_size=64, learning_rate=3e-3, seed=seed, verbose=1, tensorboard=False)
        train(data, run, mc, tc)
    return run


def sdss_curves(sdss_dir: Path, band: str, seq_len: int, seed: int, max_stars: int | None):
    """Read, clean, fold and scale SDSS RR Lyrae in ``band``.

    Returns dict of arrays: ``phase``, ``mag``, ``err`` [n, seq_len] (scaled), ``own`` [n, seq_len]
    (True at the star's own points, False at padding resamples), ``mag_range`` [n] (mag),
    ``period`` [n] (d), ``type`` [n] ("ab"/"c"), ``id`` [n]; plus ``skipped`` {reason: count}.
    """
    import pandas as pd

    from pelsvae_tf.data import cleaning
    from pelsvae_tf.data.prepare import PrepareConfig, clean_curve
    from pelsvae_tf.data.readers import read_csv_lightcurve

    periods_path = sdss_dir / "periods.csv"
    if not periods_path.exists():
        raise FileNotFoundError(f"{periods_path} not found; pass --sdss-dir pointing at sdss_s82_rrlyrae/")
    cat = pd.read_csv(periods_path)
    if max_stars:
        cat = cat.iloc[:max_stars]
    pcfg = PrepareConfig(seq_len=seq_len, short_policy="pad", seed=seed)
    rng = np.random.default_rng(seed)
    rows, skipped = [], {}
    for _, r in cat.iterrows():
        path = sdss_dir / "light-curves" / f"{int(r['Num'])}.csv"
        if not path.exists():
            skipped["missing_file"] = skipped.get("missing_file", 0) + 1
            continue
        try:
            lc = read_csv_lightcurve(path, band=band)
        except ValueError as exc:
            key = "band_absent" if "band" in str(exc) else "bad_file"
            skipped[key] = skipped.get(key, 0) + 1
            continue
        t, m, e = (np.asarray(x, float) for x in (lc.time, lc.mag, lc.err))
        ok = np.isfinite(t) & np.isfinite(m) & np.isfinite(e) & (e > 0)
        reason, res = clean_curve(t[ok], m[ok], e[ok], float(r["Per"]), pcfg)
        if reason:
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        ph, mm, ee = res["phase"], res["mag"], res["err"]
        idx = cleaning.undersample(ph.size, seq_len, rng, "pad")
        own = np.ones(idx.size, bool)
        own[1:] = idx[1:] != idx[:-1]  # undersample returns sorted indices: repeats are padding
        ph2, m2, e2 = ph[idx], mm[idx].copy(), ee[idx]
        m2[~own] = rng.normal(m2[~own], e2[~own])
        o = np.argsort(ph2, kind="stable")
        sm, se, meta = cleaning.minmax_scale(m2[o], e2[o])
        rows.append(
            dict(
                phase=ph2[o],
                mag=sm,
                err=se,
                own=own[o],
                mag_range=meta["mag_range"],
                period=float(r["Per"]),
                type=str(r["Type"]),
                id=str(int(r["Num"])),
            )
        )
    if not rows:
        raise ValueError(f"no SDSS star survived cleaning in band {band!r}: {skipped}")
    out = {k: np.stack([row[k] for row in rows]) for k in rows[0]}
    out["skipped"] = skipped
    return out


def weighted_rmse_masked(mag, mag_hat, err, mask, floor=1e-3):
    """Error-weighted RMSE per curve over the points where ``mask`` is True (unit of mag)."""
    w = mask / np.maximum(err, floor) ** 2
    return np.sqrt(np.sum(w * (mag - mag_hat) ** 2, axis=1) / np.sum(w, axis=1))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; prints machine info, SDSS vs in-domain errors and ratios. Returns 0."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--run-dir", default=None, help="trained run on the built-in sky (default: train a small one)")
    p.add_argument("--work", default="/tmp/pelsvae_bench_sdss", help="work folder of the default run (resumable)")
    p.add_argument("--sdss-dir", default=str(DEFAULT_SDSS), help="folder with periods.csv and light-curves/")
    p.add_argument("--band", default="r", choices=list("ugriz"), help="SDSS band to reconstruct")
    p.add_argument("--epochs", type=int, default=25, help="training epochs of the default run")
    p.add_argument("--n-per-class", type=int, default=100, help="built-in sky stars per class of the default run")
    p.add_argument("--max-stars", type=int, default=None, help="use only the first N SDSS stars")
    p.add_argument("--seed", type=int, default=0, help="seed of the default run and of the padding draws")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = p.parse_args(argv)

    from pelsvae_tf.evaluate import metrics as M
    from pelsvae_tf.evaluate.runview import _decode, _encode, _open_run

    info = print_machine_info()
    t0 = time.perf_counter()
    run_dir = (
        Path(args.run_dir)
        if args.run_dir
        else build_default_run(Path(args.work), args.epochs, args.n_per_class, args.seed)
    )
    t_run = time.perf_counter() - t0
    view = _open_run(run_dir)
    if "RRLYR" not in view.classes:
        raise ValueError(f"the run's classes {view.classes} lack RRLYR")
    rr = view.classes.index("RRLYR")
    seq_len = int(view.run.model.model_config.seq_len)
    print(
        f"== run {run_dir} ({'cVAE-P ' + '+'.join(view.physics) if view.physics else 'cVAE'}, seq_len {seq_len}); "
        f"ready in {t_run:.0f} s =="
    )

    # -- in-domain baseline: held-out built-in-sky RR Lyrae ----------------------------------
    test = view.dataset.arrays("test")
    m_in = test["is_real"].astype(bool) & (test["label"] == rr)
    if view.physics:
        m_in &= view.dataset.physics_mask("test", view.physics)
    idx_in = np.flatnonzero(m_in)
    if len(idx_in) == 0:
        raise ValueError("the run's test split holds no encodable RR Lyrae: no in-domain baseline")
    enc = _encode(view, test, idx_in, 512)
    dec = _decode(view, enc["z_mean"], test["label"][idx_in], test["phase"][idx_in], 512)
    w_in = M.weighted_rmse(test["mag"][idx_in], dec["mag"], test["err"][idx_in])
    w_in_mag = w_in * test["mag_range"][idx_in]
    wt_in = 1.0 / np.maximum(test["err"][idx_in], 1e-3) ** 2
    flat_in = np.sum(wt_in * test["mag"][idx_in], axis=1, keepdims=True) / np.sum(wt_in, axis=1, keepdims=True)
    w_in_flat = M.weighted_rmse(
        test["mag"][idx_in], np.broadcast_to(flat_in, test["mag"][idx_in].shape), test["err"][idx_in]
    )

    # -- SDSS --------------------------------------------------------------------------------
    sd = sdss_curves(Path(args.sdss_dir), args.band, seq_len, args.seed, args.max_stars)
    n = len(sd["id"])
    arrays = {
        "phase": sd["phase"].astype(np.float32),
        "mag": sd["mag"].astype(np.float32),
        "err": sd["err"].astype(np.float32),
        "label": np.full(n, rr),
    }
    note = ""
    if view.physics:
        train = view.dataset.arrays("train")
        cols = list(view.dataset.physics_columns)
        phys = np.full((n, len(cols)), np.nan, np.float32)
        rr_train = train["phys"][(train["label"] == rr) & train["is_real"].astype(bool)]
        for p_name in view.physics:
            j = cols.index(p_name)
            phys[:, j] = sd["period"] if p_name == "period" else np.nanmedian(rr_train[:, j])
        arrays["phys"] = phys
        note = f" (physics {view.physics}: period from SDSS, others = RR Lyrae training medians)"
    enc_s = _encode(view, arrays, np.arange(n), 512)
    dec_s = _decode(view, enc_s["z_mean"], arrays["label"], arrays["phase"], 512)
    w_sd = weighted_rmse_masked(sd["mag"], dec_s["mag"], sd["err"], sd["own"])
    w_sd_mag = w_sd * sd["mag_range"]
    # flat-curve baseline on the same points: the star's error-weighted mean
    wts = sd["own"] / np.maximum(sd["err"], 1e-3) ** 2
    flat = (np.sum(wts * sd["mag"], axis=1) / np.sum(wts, axis=1))[:, None] * np.ones_like(sd["mag"])
    w_flat = weighted_rmse_masked(sd["mag"], flat, sd["err"], sd["own"])

    print(f"SDSS band {args.band}: {n} stars encoded as RRLYR{note}; skipped {sd['skipped'] or 'none'}")
    print(f"  own points per star: median {int(np.median(sd['own'].sum(1)))} (padded to {seq_len})")
    med_in, med_sd, med_flat = float(np.median(w_in)), float(np.median(w_sd)), float(np.median(w_flat))
    print(
        f"in-domain (built-in sky test RR Lyrae, n={len(idx_in)}): median weighted RMSE {med_in:.4f} scaled "
        f"({np.median(w_in_mag):.4f} mag); flat-curve baseline {np.median(w_in_flat):.4f} scaled"
    )
    print(
        f"real SDSS (never trained on, n={n}):                median weighted RMSE {med_sd:.4f} scaled "
        f"({np.median(w_sd_mag):.4f} mag)"
    )
    print(f"  ratio SDSS / in-domain: {med_sd / med_in:.3f}")
    print(f"  flat-curve baseline on SDSS: {med_flat:.4f} scaled -> model / flat = {med_sd / med_flat:.3f}")
    by_type = {}
    for typ in sorted(set(sd["type"].tolist())):
        m = sd["type"] == typ
        by_type[typ] = {
            "n": int(m.sum()),
            "median_wrmse_scaled": float(np.median(w_sd[m])),
            "median_flat_scaled": float(np.median(w_flat[m])),
        }
        print(
            f"  RR{typ}: n={m.sum()}, median {np.median(w_sd[m]):.4f} scaled "
            f"(flat {np.median(w_flat[m]):.4f}; ratio to in-domain {np.median(w_sd[m]) / med_in:.3f})"
        )
    print(f"total {time.perf_counter() - t0:.0f} s")
    if args.json:
        from pelsvae_tf.atomic import atomic_write_text

        atomic_write_text(
            args.json,
            json.dumps(
                {
                    "machine": info,
                    "run_dir": str(run_dir),
                    "band": args.band,
                    "n_sdss": n,
                    "skipped": sd["skipped"],
                    "in_domain": {
                        "n": int(len(idx_in)),
                        "median_wrmse_scaled": med_in,
                        "median_flat_scaled": float(np.median(w_in_flat)),
                        "median_wrmse_mag": float(np.median(w_in_mag)),
                    },
                    "sdss": {
                        "median_wrmse_scaled": med_sd,
                        "median_wrmse_mag": float(np.median(w_sd_mag)),
                        "median_flat_scaled": med_flat,
                        "by_type": by_type,
                    },
                    "ratio_sdss_to_in_domain": med_sd / med_in,
                },
                indent=1,
                default=str,
            )
            + "\n",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
