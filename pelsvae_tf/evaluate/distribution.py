"""Generated vs held-out real curves, per class: Lomb-Scargle period recovery, KS / Wasserstein
distances of the compared features and the classifier two-sample AUC."""

from __future__ import annotations

from typing import Any

import numpy as np

from pelsvae_tf.evaluate import metrics as M
from pelsvae_tf.evaluate.config import EvalConfig
from pelsvae_tf.evaluate.runview import _pick

#: Features compared between generated and real curves: the shape features of the min-max scaled
#: curves (metrics.SHAPE_FEATURE_NAMES), the Fourier amplitude in magnitudes ("amplitude_mag") and
#: log10 of the period in days ("log10_period").
COMPARED_FEATURES: tuple[str, ...] = M.FEATURE_NAMES_WITH_MAG + ("log10_period",)


def _period_recovery(gen: dict, classes, train_periods: dict, cfg: EvalConfig, rng: np.random.Generator) -> dict:
    """Lomb-Scargle period recovery of generated curves at their cadence, per class.

    ``gen`` holds ``time`` [n, T] (d), ``mag``/``err`` [n, T], ``period`` [n] (d), ``label`` [n];
    ``train_periods`` maps a class index to the training periods (d) that set the search range.
    """
    out = {}
    for c, name in enumerate(classes):
        pos = np.flatnonzero(gen["label"] == c)
        if len(pos) == 0:
            continue
        pc = np.asarray(train_periods.get(c, []), dtype=np.float64)
        # search range: the class's training periods, widened by 2x on each side (days)
        lo = max(float(np.min(pc)) / 2 if len(pc) else 0.02, 0.02)
        hi = min(float(np.max(pc)) * 2 if len(pc) else cfg.cadence_baseline / 2, cfg.cadence_baseline)
        hi = max(hi, lo * 2)
        chosen = _pick(rng, pos, cfg.n_period_checks_per_class)
        found = np.array(
            [
                M.lomb_scargle_period(
                    gen["time"][i],
                    gen["mag"][i],
                    np.maximum(gen["err"][i], cfg.err_floor),
                    min_period=lo,
                    max_period=hi,
                )
                for i in chosen
            ]
        )
        true = gen["period"][chosen]
        out[name] = {
            "n": int(len(chosen)),
            "search_range_days": [lo, hi],
            "rate": float(np.mean(M.period_recovered(found, true, cfg.period_rtol))),
            "rate_with_half_double": float(np.mean(M.period_recovered(found, true, cfg.period_rtol, (0.5, 1.0, 2.0)))),
        }
    return out


def _features(d: dict[str, np.ndarray], idx: Any = slice(None), n_harmonics: int = 3) -> np.ndarray:
    """:data:`COMPARED_FEATURES` [n, 11] of the curves ``idx`` of ``d`` (``phase`` [n, T] cycles,
    ``mag`` [n, T] min-max scaled, ``mag_range`` [n] mag, ``period`` [n] d)."""
    f = M.shape_features_with_mag(d["phase"][idx], d["mag"][idx], d["mag_range"][idx], n_harmonics)
    return np.concatenate([f, np.log10(np.asarray(d["period"], np.float64)[idx])[:, None]], axis=1)


def _distribution_match(gen: dict, real: dict, classes, cfg: EvalConfig, rng: np.random.Generator) -> tuple[dict, dict]:
    """Per class: KS / Wasserstein of shape features and the two-sample AUC, real vs generated.

    ``gen`` and ``real`` hold ``phase`` [n, T] (cycles), ``mag`` [n, T] (min-max scaled per curve),
    ``mag_range`` [n] (mag, the scaling range), ``period`` [n] (d) and ``label`` [n]; features are
    :data:`COMPARED_FEATURES` (scaled shape + amplitude in mag + log10 period), for the KS / Wasserstein
    distances and the two-sample classifier alike.
    Returns (metrics per class, {class: (real features, generated features)}).
    """
    f_real_all = _features(real, n_harmonics=cfg.n_harmonics)
    f_gen_all = _features(gen, n_harmonics=cfg.n_harmonics)
    out, feats = {}, {}
    for c, name in enumerate(classes):
        rm = np.flatnonzero(real["label"] == c)
        rm = _pick(rng, rm, cfg.max_real_per_class)
        gm = np.flatnonzero(gen["label"] == c)
        if len(rm) < 2 or len(gm) < 2:
            out[name] = {"n_real": int(len(rm)), "n_generated": int(len(gm)), "skipped": "fewer than 2 curves"}
            continue
        fr, fg = f_real_all[rm], f_gen_all[gm]
        feats[name] = (fr, fg)
        entry: dict[str, Any] = {
            "n_real": int(len(rm)),
            "n_generated": int(len(gm)),
            "features": M.distribution_distances(fr, fg, COMPARED_FEATURES),
        }
        folds = min(cfg.c2st_folds, len(rm), len(gm))
        if folds >= 2:
            entry["c2st"] = M.c2st_auc(fr, fg, classifier=cfg.classifier, n_splits=folds, seed=cfg.seed)
        out[name] = entry
    return out, feats
