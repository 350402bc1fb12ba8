"""Reconstruction metric of the report: error-weighted RMSE per class on real test stars, next
to a flat-curve baseline, and the data of the reconstruction figure."""

from __future__ import annotations

import numpy as np

from pelsvae_tf.evaluate import metrics as M
from pelsvae_tf.evaluate.config import EvalConfig
from pelsvae_tf.evaluate.runview import _decode, _encode, _pick, _RunView


def _reconstruction(view: _RunView, cfg: EvalConfig, rng: np.random.Generator) -> tuple[dict, dict]:
    """Weighted RMSE per class on real test stars; returns (metrics, data for the figure)."""
    a = view.dataset.arrays("test")
    usable = a["is_real"].astype(bool)
    dropped_physics = 0
    if view.physics:
        has = view.dataset.physics_mask("test", view.physics)
        dropped_physics = int(np.sum(usable & ~has))
        usable &= has
    idx = np.concatenate(
        [
            _pick(rng, np.flatnonzero(usable & (a["label"] == c)), cfg.max_test_per_class)
            for c in range(len(view.classes))
        ]
    ).astype(int)
    if len(idx) == 0:
        raise ValueError(
            "the test split has no real star the model can encode"
            + (f" (all lack one of {view.physics})" if view.physics else "")
        )
    enc = _encode(view, a, idx, cfg.batch_size)
    dec = _decode(view, enc["z_mean"], a["label"][idx], a["phase"][idx], cfg.batch_size)
    w_scaled = M.weighted_rmse(a["mag"][idx], dec["mag"], a["err"][idx], err_floor=cfg.err_floor)
    plain = M.rmse(a["mag"][idx], dec["mag"])
    w_mag = w_scaled * a["mag_range"][idx].astype(np.float64)  # scaled -> magnitudes
    # flat-curve baseline: each star predicted by its own (error-weighted) mean magnitude
    flat = M.flat_baseline_rmse(a["mag"][idx], a["err"][idx], err_floor=cfg.err_floor)
    flat_mag = flat * a["mag_range"][idx].astype(np.float64)
    per_class = {}
    for c, name in enumerate(view.classes):
        m = a["label"][idx] == c
        if not np.any(m):
            per_class[name] = {"n": 0}
            continue
        per_class[name] = {
            "n": int(m.sum()),
            "weighted_rmse_scaled": M.summarize(w_scaled[m]),
            "weighted_rmse_mag": M.summarize(w_mag[m]),
            "rmse_scaled": M.summarize(plain[m]),
            "flat_baseline_weighted_rmse_scaled": M.summarize(flat[m]),
            "fraction_beating_flat": float(np.mean(w_scaled[m] < flat[m])),
        }
    out = {
        "split": "test",
        "n_stars": int(len(idx)),
        "n_dropped_missing_physics": dropped_physics,
        "latent": "z_mean (deterministic)",
        "units": "weighted_rmse_scaled: fraction of each star's magnitude range; weighted_rmse_mag: mag; "
        "fraction_beating_flat: share of stars whose model error is below the flat baseline's",
        "overall": {
            "weighted_rmse_scaled": M.summarize(w_scaled),
            "weighted_rmse_mag": M.summarize(w_mag),
            "rmse_scaled": M.summarize(plain),
        },
        "baseline_flat": {
            "description": "each test star predicted by its own error-weighted mean (a flat curve): the best "
            "constant under the weighted RMSE; a model that learnt any shape beats it",
            "weighted_rmse_scaled": M.summarize(flat),
            "weighted_rmse_mag": M.summarize(flat_mag),
        },
        "fraction_beating_flat": float(np.mean(w_scaled < flat)),
        "ratio_to_flat_median": float(np.median(w_scaled) / np.median(flat)) if np.median(flat) > 0 else float("nan"),
        "per_class": per_class,
    }
    # stars for the figure: n_recon_per_class per class, decoded on a fine phase grid
    fig_idx, fig_pos = [], []
    for c in range(len(view.classes)):
        pos = np.flatnonzero(a["label"][idx] == c)
        chosen = _pick(rng, pos, cfg.n_recon_per_class)
        fig_pos.extend(chosen.tolist())
        fig_idx.extend(idx[chosen].tolist())
    grid = np.linspace(0, 1, 200, endpoint=False, dtype=np.float32)
    fig = {"rows": []}
    if fig_idx:
        fi = np.asarray(fig_idx)
        fp = np.asarray(fig_pos)
        dense = _decode(view, enc["z_mean"][fp], a["label"][fi], np.tile(grid, (len(fi), 1)), cfg.batch_size)
        for k, (i, p) in enumerate(zip(fi, fp)):
            fig["rows"].append(
                dict(
                    label=int(a["label"][i]),
                    star_id=str(a["star_id"][i]),
                    phase=a["phase"][i],
                    mag=a["mag"][i],
                    err=a["err"][i],
                    grid=grid,
                    mag_model=dense["mag"][k],
                    err_model=dense["err"][k],
                    wrmse=float(w_scaled[p]),
                )
            )
    return out, fig
