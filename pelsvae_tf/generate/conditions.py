"""Conditions of generated curves: class labels, sampled physics, latents and magnitude metadata.

Everything a generated curve is conditioned on that the caller did not give is drawn from the
training stars of its class (``train_stats.npz``), each with the curve's own counter-based draw
(:mod:`pelsvae_tf.counter_rng`): physical parameters (:func:`sample_rows`), the latent z of the
fitted regressor (:func:`sample_latents`) and ``mag_mean`` / ``amplitude`` (:func:`magnitude_meta`:
``"knn"`` = one of the ``knn`` training stars of the class nearest in scaled physics,
``"class"`` = any training star of the class). Importing this module does not load TensorFlow.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from pelsvae_tf.classes import canonical_class
from pelsvae_tf.counter_rng import STREAM_DUMMY, STREAM_META, STREAM_PHYSICS, uniform_np
from pelsvae_tf.generate.checks import _broadcast, check_physical, stats_column

#: Regressor used by ``Generator.load()``, ``pelsvae generate``, evaluation and the exported
#: ``generator`` SavedModel alike (so local and served curves are the same for a seed).
DEFAULT_REGRESSOR = "mlp"


def sample_latents(regressor, phys_scaled: np.ndarray, labels: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Latents z [n, D] of a fitted regressor for scaled physics [n, P], class indices [n] and
    per-curve int64 seeds [n]; every random number is the counter-based draw of the curve's seed
    (``counter_rng``), so a curve's z depends only on its own inputs and seed, as in the graph.

    Uses ``regressor.sample`` when the regressor defines it; otherwise the paper's point regressor
    fed its U(0, 1) dummy ``uniform(seed, STREAM_DUMMY, 0)``.
    """
    if hasattr(regressor, "sample"):
        return np.asarray(regressor.sample(phys_scaled, labels, seeds), np.float32)
    dummy = uniform_np(seeds, STREAM_DUMMY, np.zeros(len(seeds), np.uint32)) if regressor.config.dummy else None
    return np.asarray(regressor.predict(phys_scaled, dummy=dummy, labels=labels), np.float32)


def _pick(seeds: np.ndarray, stream: int, size: int) -> np.ndarray:
    """Index in [0, size) per curve from its seed's counter-based uniform (stream ``stream``)."""
    u = uniform_np(seeds, stream, np.zeros(len(seeds), np.uint32)).astype(np.float64)
    return np.minimum((u * size).astype(np.int64), size - 1)


def class_labels(classes: Sequence[str], cls: Any, n: int) -> np.ndarray:
    """Class indices [n] into ``classes`` of ``cls`` (one class name, or ``n`` of them)."""
    names = [cls] if isinstance(cls, str) else list(np.asarray(cls).reshape(-1))
    if not names:
        raise ValueError("cls: give a class name (e.g. 'RRLYR') or n class names")
    labels = []
    for c in names:
        canon = canonical_class(str(c))
        if canon not in classes:
            raise ValueError(f"class {c!r} is not among the model's classes {list(classes)}")
        labels.append(classes.index(canon))
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size == 1:
        labels = np.repeat(labels, n)
    if labels.size != n:
        raise ValueError(f"cls: {labels.size} class names for n={n} curves; give one or n")
    return labels


def meta_columns(train_stats: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Training stars' phase-averaged model magnitude and model peak-to-peak amplitude [mag]."""
    s = train_stats
    if "amplitude_model" in s:
        return np.asarray(s["mag_mean_model"], np.float64), np.asarray(s["amplitude_model"], np.float64)
    return np.asarray(s["mag_mean"], np.float64), np.asarray(s["mag_range"], np.float64)


def sample_rows(
    train_stats: Mapping[str, np.ndarray] | None,
    classes: Sequence[str],
    labels: np.ndarray,
    need: Sequence[str],
    seeds: np.ndarray,
) -> np.ndarray:
    """Index [n] of a training star of each curve's class having every parameter in ``need``,
    picked with each curve's counter-based draw (stream ``STREAM_PHYSICS``)."""
    if train_stats is None:
        raise ValueError(
            f"parameters {list(need)} not given and no training statistics to sample "
            f"them from (run `pelsvae regress` to write train_stats.npz)"
        )
    ok = np.ones(len(train_stats["label"]), dtype=bool)
    for name in need:
        col = stats_column(train_stats, name)
        if col is None:
            raise ValueError(f"{name}: not given and not in the training statistics; give it explicitly")
        ok &= np.isfinite(col)
    tl = np.asarray(train_stats["label"])
    idx = np.empty(len(labels), dtype=np.int64)
    for lab in np.unique(labels):
        pool = np.flatnonzero(ok & (tl == lab))
        if pool.size == 0:
            raise ValueError(f"class {classes[lab]}: no training star has {list(need)}; give them explicitly")
        m = labels == lab
        idx[m] = pool[_pick(seeds[m], STREAM_PHYSICS, pool.size)]
    return idx


def magnitude_meta(
    train_stats: Mapping[str, np.ndarray] | None,
    physics_scaler,
    physics: Sequence[str],
    classes: Sequence[str],
    knn: int,
    labels: np.ndarray,
    scaled: np.ndarray,
    mag_mean: Any,
    amplitude: Any,
    n: int,
    seeds: np.ndarray,
    how: str,
) -> tuple[np.ndarray, np.ndarray]:
    """``mag_mean`` and ``amplitude`` [n] (mag): the given values, or sampled from the training
    stars of each curve's class (``how``: ``"knn"`` nearest in scaled physics ``scaled`` [n, P]
    of the regressor inputs ``physics``, or ``"class"``)."""
    out = {}
    for name, value in (("mag_mean", mag_mean), ("amplitude", amplitude)):
        if value is not None:
            out[name] = _broadcast(value, n, name)
    if name_missing := [k for k in ("mag_mean", "amplitude") if k not in out]:
        stats = train_stats
        if stats is None or not np.isfinite(np.asarray(stats["mag_range"], dtype=np.float64)).any():
            raise ValueError(
                f"{name_missing} not given and no training magnitude statistics to sample "
                f"them from; pass mag_mean= and amplitude= in mag"
            )
        tl = np.asarray(stats["label"])
        mm, mr = meta_columns(stats)
        ok = np.isfinite(mm) & np.isfinite(mr) & (mr > 0)
        tr_scaled = None
        if how == "knn":
            cols = [str(c) for c in stats["physics_columns"]]
            if all(p in cols or p == "period" for p in physics):
                tr_raw = np.stack([stats_column(stats, p) for p in physics], axis=1)
                ok_knn = ok & np.all(np.isfinite(tr_raw), axis=1)
                tr_scaled = np.full(tr_raw.shape, np.nan)
                tr_scaled[ok_knn] = physics_scaler.transform(tr_raw[ok_knn], physics)
        idx = np.empty(n, dtype=np.int64)
        for lab in np.unique(labels):
            m = np.flatnonzero(labels == lab)
            pool = np.flatnonzero(ok & (tl == lab))
            if tr_scaled is not None:
                pk = pool[np.all(np.isfinite(tr_scaled[pool]), axis=1)]
                if pk.size:
                    k = min(knn, pk.size)
                    choice = _pick(seeds[m], STREAM_META, k)
                    # chunks keep the [chunk, n_pool] distance matrix small for 10^4+ curves;
                    # a stable sort makes the k nearest (and so each curve's pick) well defined
                    for c0 in range(0, m.size, 1024):
                        mc = m[c0 : c0 + 1024]
                        d = ((scaled[mc][:, None, :] - tr_scaled[pk][None, :, :]) ** 2).sum(-1)
                        near = np.argsort(d, axis=1, kind="stable")[:, :k]
                        idx[mc] = pk[near[np.arange(mc.size), choice[c0 : c0 + 1024]]]
                    continue
            if pool.size == 0:
                raise ValueError(
                    f"class {classes[lab]}: no training star with magnitude statistics; pass mag_mean= and amplitude="
                )
            idx[m] = pool[_pick(seeds[m], STREAM_META, pool.size)]
        if "mag_mean" not in out:
            out["mag_mean"] = mm[idx]
        if "amplitude" not in out:
            out["amplitude"] = mr[idx]
    check_physical({"amplitude": out["amplitude"]})
    return out["mag_mean"], out["amplitude"]
