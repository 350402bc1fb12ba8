"""``RUN_DIR/regressors/train_stats.npz``: the training stars' physics, magnitudes, model-curve
amplitudes and intrinsic jitter that the generator samples from (written by ``fit_regressors``)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from pelsvae_tf.atomic import atomic_path
from pelsvae_tf.classes import CLASSES
from pelsvae_tf.data import PreparedDataset
from pelsvae_tf.generate import PhaseFunction, curve_model_stats
from pelsvae_tf.generate.jitter import fit_jitter
from pelsvae_tf.rundir import RunDir
from pelsvae_tf.train import load_run

log = logging.getLogger("pelsvae_tf.regress.regressors")


def write_train_stats(run_dir: str | Path) -> Path:
    """Write ``RUN_DIR/regressors/train_stats.npz``: the real TRAIN stars' class, raw physics
    (units of ``physics_columns``), period [d], mag_mean [mag], mag_range [mag], err_median [mag],
    and the model-curve statistics the generator samples magnitudes from:

    - ``amplitude_model`` [mag]: peak-to-peak of the star's noise-free model curve, i.e. its
      ``mag_range`` times the peak-to-peak of its decoded phase function (encoder posterior mean,
      decoded on the generator's phase grid, :mod:`pelsvae_tf.generate.phase_function`);
    - ``mag_mean_model`` [mag]: the phase average of that model curve in magnitudes;
    - ``jitter_model`` [N, 3]: the star's intrinsic jitter about its own mean phased curve beyond
      its photometric errors (:func:`pelsvae_tf.generate.jitter.fit_jitter` on its prepared
      points): phase rms [cycles], amplitude rms [fraction], white rms [fraction of
      ``amplitude_model``]; the generator gives each curve one training star's jitter.

    Stars without an encoder latent (a cVAE-P encodes only stars with all its physics) get their
    class's median ratio of model to min-max amplitude and median scaled mean (``model_stats``
    says "class median" for them). Read from the prepared dataset of the run (``config.json``
    ``data_dir``); if that is gone, from ``latents.npz`` without magnitude metadata.
    """
    rd = RunDir(run_dir)
    cfg = rd.config
    out = rd.train_stats_path
    data_dir = cfg.get("data_dir")
    stats: dict[str, np.ndarray]
    if data_dir and (Path(data_dir) / "schema.json").exists():
        ds = PreparedDataset(data_dir)
        a = ds.arrays("train")
        m = a["is_real"].astype(bool)
        stats = {k: a[k][m] for k in ("label", "phys", "period", "mag_mean", "mag_range", "err_median", "star_id")}
        stats.update(_model_curve_stats(rd.path, stats["label"], stats["star_id"], a["mag_min"][m], stats["mag_range"]))
        jit = fit_jitter(a["phase"][m], a["mag"][m], a["err"][m])  # white term in prepared (scaled) units
        ratio = np.asarray(stats["amplitude_model"], np.float64) / np.asarray(stats["mag_range"], np.float64)
        jit[:, 2] = jit[:, 2] / np.where(ratio > 0, ratio, np.nan)  # -> fraction of the model amplitude
        stats["jitter_model"] = jit.astype(np.float32)
        stats["physics_columns"] = np.asarray(ds.physics_columns)
        stats["classes"] = np.asarray(ds.classes)
    else:
        log.warning("dataset %s not found: train_stats without magnitude metadata", data_dir)
        lat = rd.latents()
        m = lat["split"] == "train"
        cols = rd.latent_physics_columns(lat)
        nan = np.full(int(m.sum()), np.nan, dtype=np.float32)
        period = lat["phys"][m][:, cols.index("period")] if "period" in cols else nan
        stats = {
            "label": lat["label"][m],
            "phys": lat["phys"][m],
            "period": period.astype(np.float64),
            "mag_mean": nan,
            "mag_range": nan,
            "err_median": nan,
            "star_id": lat["star_id"][m],
            "amplitude_model": nan,
            "mag_mean_model": nan,
            "jitter_model": np.full((int(m.sum()), 3), np.nan, np.float32),
            "physics_columns": np.asarray(cols),
            "classes": np.asarray(cfg.get("dataset_schema", {}).get("classes", CLASSES)),
        }
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **stats)
    return out


def _model_curve_stats(
    run_dir: Path, label: np.ndarray, star_id: np.ndarray, mag_min: np.ndarray, mag_range: np.ndarray
) -> dict[str, np.ndarray]:
    """``amplitude_model`` / ``mag_mean_model`` [mag] of training stars (see :func:`write_train_stats`)."""
    run = load_run(run_dir)
    lat = RunDir(run_dir).latents()
    tr = lat["split"] == "train"
    pos = {str(s): i for i, s in enumerate(lat["star_id"][tr])}
    rows = np.asarray([pos.get(str(s), -1) for s in star_id])
    n = len(label)
    mean_s = np.full(n, np.nan)
    ptp_s = np.full(n, np.nan)
    have = rows >= 0
    if have.any():
        pf = PhaseFunction(run.decoder, n_grid=int(run.model_config.seq_len), model_config=run.model_config)
        onehot = np.eye(len(run.classes), dtype=np.float32)[label[have]]
        s_grid, _ = pf.grid_np(lat["z_mean"][tr][rows[have]], onehot)
        st = curve_model_stats(s_grid)
        mean_s[have], ptp_s[have] = st["mean_s"], st["ptp_s"]
    source = np.where(have, "model curve", "class median").astype("<U12")
    for c in np.unique(label):
        miss = (label == c) & ~have
        if miss.any():
            ref = (label == c) & have
            pool_mean = mean_s[ref] if ref.any() else mean_s[have]
            pool_ptp = ptp_s[ref] if ref.any() else ptp_s[have]
            mean_s[miss] = np.median(pool_mean) if pool_mean.size else 0.5
            ptp_s[miss] = np.median(pool_ptp) if pool_ptp.size else 1.0
    rng_ = np.asarray(mag_range, np.float64)
    return {
        "amplitude_model": (rng_ * ptp_s).astype(np.float32),
        "mag_mean_model": (np.asarray(mag_min, np.float64) + rng_ * mean_s).astype(np.float32),
        "model_stats": source,
    }


def train_stats_current(path: Path) -> bool:
    """True when ``train_stats.npz`` exists and holds the model-curve statistics and the
    intrinsic jitter (format of today)."""
    if not path.exists():
        return False
    with np.load(path, allow_pickle=False) as z:
        return "amplitude_model" in z.files and "jitter_model" in z.files


_train_stats_current = train_stats_current  # its name before the layout work
