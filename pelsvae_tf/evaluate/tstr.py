"""Train-on-synthetic / test-on-real accuracy next to train-on-real (all classes)."""

from __future__ import annotations

import numpy as np

from pelsvae_tf.evaluate import metrics as M
from pelsvae_tf.evaluate.config import EvalConfig
from pelsvae_tf.evaluate.distribution import COMPARED_FEATURES, _features
from pelsvae_tf.evaluate.runview import _pick, _RunView


def _tstr(gen: dict, view: _RunView, cfg: EvalConfig, rng: np.random.Generator) -> dict:
    """Train-on-synthetic / test-on-real vs train-on-real, :data:`COMPARED_FEATURES`, all classes.

    ``gen`` is the ``"folded"`` set of :func:`_generate` (observed and scaled like the real curves).
    """
    train = view.dataset.arrays("train")
    test = view.dataset.arrays("test")
    tr = np.flatnonzero(train["is_real"].astype(bool))
    tr = np.concatenate(
        [_pick(rng, tr[train["label"][tr] == c], cfg.max_real_per_class) for c in range(len(view.classes))]
    ).astype(int)
    te = np.flatnonzero(test["is_real"].astype(bool))
    x_syn = _features(gen, n_harmonics=cfg.n_harmonics)
    x_tr = _features(train, tr, cfg.n_harmonics)
    x_te = _features(test, te, cfg.n_harmonics)
    res = M.tstr_accuracy(
        x_syn,
        gen["label"],
        x_tr,
        train["label"][tr],
        x_te,
        test["label"][te],
        n_classes=len(view.classes),
        classifier=cfg.classifier,
        seed=cfg.seed,
    )
    res["features"] = list(COMPARED_FEATURES)
    return res
