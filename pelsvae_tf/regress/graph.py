"""TF-graph twin of :meth:`pelsvae_tf.regress.base.PhysicsRegressor.sample` (issue 12).

:func:`graph_sampler` turns a fitted regressor of any kind (linear, forest, mlp, density; paper
or neighbours / residual mode) into a function of stock TensorFlow ops (plus YDF's SimpleML inference ops for
the forest) that a SavedModel can serve:

    fn(scaled [B, P] float32, onehot [B, C] float32, seed [B] int64) -> z [B, D] float32

``scaled`` are the physics scaled by the run's ``PhysicsScaler`` in the order of
``regressor.physics``; ``onehot`` the one-hot class over ``regressor.classes`` (used as a
regressor input with ``use_class`` and, in residual / neighbours mode, to pick the class's residual
covariance / residual vectors); ``seed`` one int64 per curve. Random numbers: the counter RNG of
:mod:`pelsvae_tf.counter_rng` with the streams of :mod:`pelsvae_tf.regress.config`
(``STREAM_DUMMY`` for the paper's dummy, ``STREAM_LATENT`` for latent normals,
``STREAM_COMPONENT`` for the mixture component), so ``fn`` equals ``regressor.sample`` to about
1e-6 and a curve's z depends only on its own row and seed.

Store ``tracked`` on the ``tf.Module`` you save (e.g. ``module.tracked = tracked``) so the
Keras model / YDF functions travel with the SavedModel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import tensorflow as tf

from pelsvae_tf.counter_rng import STREAM_DUMMY, normal_tf, uniform_tf
from pelsvae_tf.regress.base import NEIGHBOUR_CHUNK
from pelsvae_tf.regress.config import STREAM_COMPONENT, STREAM_LATENT
from pelsvae_tf.regress.mixture import tril_layout

__all__ = ["graph_sampler"]


def graph_sampler(regressor, temp_dir: str | None = None) -> tuple[Callable, list]:
    """Graph function drawing z like ``regressor.sample``; returns ``(fn, tracked)``.

    Args:
        regressor: a fitted :class:`~pelsvae_tf.regress.base.PhysicsRegressor` (any kind).
        temp_dir: directory that keeps the YDF model files of a forest until the SavedModel
            has copied them into its assets (``None``: YDF's own temporary directory).

    Returns:
        ``fn(scaled [B, P] f32, onehot [B, C] f32, seed [B] int64) -> z [B, D] f32`` (latent
        units) and ``tracked``, the TF objects a SavedModel holding ``fn`` must track.

    Raises:
        ValueError: the regressor is not fitted, or neighbours / residual mode without its residual table / covariance.
        ImportError: a forest without ``ydf-tf`` installed.
    """
    if not getattr(regressor, "fitted", False):
        raise ValueError(f"{type(regressor).__name__} is not fitted; run `pelsvae regress RUN_DIR` first")
    kind = regressor.kind
    physics = tuple(regressor.physics)
    d = int(regressor.latent_dim)
    n_classes = len(regressor.classes)
    cfg = regressor.config
    use_class = bool(cfg.use_class)

    def check(scaled, onehot, seed):
        scaled = tf.debugging.check_numerics(
            tf.cast(scaled, tf.float32),
            f"phys_scaled (columns {list(physics)}) has NaN/inf; drop those stars or give finite values",
        )
        onehot = tf.cast(onehot, tf.float32)
        seed = tf.cast(seed, tf.int64)
        return scaled, onehot, seed

    def dummy_of(seed):
        return uniform_tf(seed, STREAM_DUMMY, tf.zeros(tf.shape(seed), tf.uint32))

    def normals(seed):
        return tf.cast(normal_tf(seed[:, None], STREAM_LATENT, tf.cast(tf.range(d), tf.uint32)[None, :]), tf.float64)

    def point_inputs(scaled, onehot, seed):
        cols = [scaled]
        if cfg.dummy:
            cols.append(dummy_of(seed)[:, None])
        if use_class:
            cols.append(onehot)
        return tf.concat(cols, axis=1)

    tracked: list = []
    if kind == "density":
        model = regressor.model
        tracked = [model]
        k, _, t = regressor._sizes()
        idx, diag = tril_layout(d)
        zc = tf.constant(regressor.z_center_, tf.float64)
        zs = tf.constant(regressor.z_scale_, tf.float64)
        min_scale = float(cfg.density_min_scale)

        def fn(scaled, onehot, seed):
            scaled, onehot, seed = check(scaled, onehot, seed)
            x = tf.concat([scaled, onehot], axis=1) if use_class else scaled
            raw = tf.cast(model(x, training=False), tf.float64)
            logits = raw[:, :k]
            loc = zc + zs * tf.reshape(raw[:, k : k + k * d], [-1, k, d])
            tri = tf.reshape(raw[:, k + k * d :], [-1, k, t])
            tri = tf.where(tf.constant(diag), tf.nn.softplus(tri) + min_scale, tri)
            padded = tf.concat([tf.zeros_like(tri[..., :1]), tri], axis=-1)
            chol = zs[:, None] * tf.reshape(tf.gather(padded, tf.constant(idx), axis=-1), [-1, k, d, d])
            w = tf.nn.softmax(logits, axis=1)
            cdf = tf.cumsum(w, axis=1)[:, :-1]
            u = tf.cast(uniform_tf(seed, STREAM_COMPONENT, tf.zeros(tf.shape(seed), tf.uint32)), tf.float64)
            comp = tf.reduce_sum(tf.cast(cdf < u[:, None], tf.int32), axis=1)
            m = tf.gather(loc, comp, axis=1, batch_dims=1)  # [B, D]
            lk = tf.gather(chol, comp, axis=1, batch_dims=1)  # [B, D, D]
            z = m + tf.einsum("bij,bj->bi", lk, normals(seed))
            return tf.cast(z, tf.float32)

        return fn, tracked

    if kind == "linear":
        coef = tf.constant(np.asarray(regressor.coef_, np.float64).T)
        icpt = tf.constant(np.asarray(regressor.intercept_, np.float64))

        def center(scaled, onehot, seed):
            return tf.matmul(tf.cast(point_inputs(scaled, onehot, seed), tf.float64), coef) + icpt

    elif kind == "mlp":
        model = regressor.model
        tracked = [model]

        def center(scaled, onehot, seed):
            return tf.cast(model(point_inputs(scaled, onehot, seed), training=False), tf.float64)

    elif kind == "forest":
        try:
            import ydf_tf  # noqa: F401  (the SimpleML inference ops of the exported forest)
        except ImportError as exc:  # pragma: no cover - ydf-tf is a pinned dependency
            raise ImportError("the forest's graph sampler needs ydf-tf (pip install ydf-tf==2.21.0.post1)") from exc
        if temp_dir is not None:
            Path(temp_dir).mkdir(parents=True, exist_ok=True)
        fns = [m.to_tensorflow_function(temp_dir=temp_dir, can_be_saved=True) for m in regressor.models]
        tracked = list(fns)
        names = list(regressor.input_names)

        def center(scaled, onehot, seed):
            cols = {p: scaled[:, j] for j, p in enumerate(physics)}
            if cfg.dummy:
                cols["dummy"] = dummy_of(seed)
            if use_class:
                for j, c in enumerate(regressor.classes):
                    cols[f"class_{c}"] = onehot[:, j]
            return tf.cast(
                tf.stack([tf.reshape(f({n: cols[n] for n in names}), [-1]) for f in fns], axis=1), tf.float64
            )
    else:
        raise ValueError(f"graph_sampler: unknown regressor kind {kind!r}")

    # the class's Gaussian residual draw: the residual mode's noise, and the fallback of the
    # neighbours mode for a class with fewer than residual_neighbours training stars
    gaussian = cfg.latent_noise in ("residual", "neighbours")
    if gaussian:
        if getattr(regressor, "resid_chol_", None) is None:
            raise ValueError(
                f"{type(regressor).__name__}: latent_noise={cfg.latent_noise!r} but no residual covariance; "
                "refit it (`pelsvae regress RUN_DIR --force`)"
            )
        chol_c = tf.constant(np.asarray(regressor.resid_chol_, np.float64).reshape(n_classes, d, d))

        def gaussian_residual(lab, seed):
            return tf.einsum("bij,bj->bi", tf.gather(chol_c, lab), normals(seed))

    neighbours = cfg.latent_noise == "neighbours"
    if neighbours:
        table = getattr(regressor, "resid_table_", None)
        if table is None:
            raise ValueError(
                f"{type(regressor).__name__}: latent_noise='neighbours' but no residual table; "
                "refit it (`pelsvae regress RUN_DIR --force`)"
            )
        labels_np = np.asarray(table["label"], np.int64)
        blind = bool(np.all(labels_np < 0))
        k_nb = int(cfg.residual_neighbours)
        counts = np.full(n_classes, len(labels_np)) if blind else np.bincount(labels_np, minlength=n_classes)
        has_nb = tf.constant(counts >= k_nb)  # classes that draw a neighbour's residual
        any_nb = bool(np.any(counts >= k_nb))
        t_resid = tf.constant(np.asarray(table["resid"], np.float64))
        t_phys = tf.constant(np.asarray(table["phys"], np.float64))
        t_label = tf.constant(labels_np.astype(np.int32))

        def nearest(x, lab):
            # [B, k] table rows of the k nearest same-class stars, blocks of NEIGHBOUR_CHUNK curves
            # (a block's [chunk, N, P] differences, not the whole request's); other classes' rows
            # sit at +inf and top_k breaks ties towards the lower row, as the NumPy path's stable sort
            b = tf.shape(x)[0]
            c = tf.maximum(tf.minimum(b, NEIGHBOUR_CHUNK), 1)
            nb = tf.maximum((b + c - 1) // c, 1)  # at least one (padded) block: an empty request works
            pad = nb * c - b
            xs = tf.reshape(tf.pad(x, [[0, pad], [0, 0]]), [nb, c, len(physics)])
            ls = tf.reshape(tf.pad(lab, [[0, pad]]), [nb, c])

            def block(args):
                xb, lb = args
                d2 = tf.reduce_sum(tf.square(xb[:, None, :] - t_phys[None, :, :]), axis=-1)
                if not blind:
                    d2 = tf.where(tf.equal(lb[:, None], t_label[None, :]), d2, tf.constant(np.inf, tf.float64))
                return tf.math.top_k(-d2, k=k_nb, sorted=True).indices

            near = tf.map_fn(block, (xs, ls), fn_output_signature=tf.TensorSpec([None, k_nb], tf.int32))
            return tf.reshape(near, [-1, k_nb])[:b]

        def neighbour_residual(scaled, lab, seed):
            # the residual of one of the class's k nearest training stars in scaled physics, picked
            # by uniform(seed, STREAM_COMPONENT, 0); a class with fewer than k stars takes the
            # Gaussian draw of its residual covariance (as PhysicsRegressor.sample)
            gauss = gaussian_residual(lab, seed)
            if not any_nb:
                return gauss
            near = nearest(tf.cast(scaled, tf.float64), lab)
            u = tf.cast(uniform_tf(seed, STREAM_COMPONENT, tf.zeros(tf.shape(seed), tf.uint32)), tf.float64)
            pick = tf.minimum(tf.cast(u * float(k_nb), tf.int32), k_nb - 1)
            row = tf.gather(near, pick[:, None], axis=1, batch_dims=1)[:, 0]
            return tf.where(tf.gather(has_nb, lab)[:, None], tf.gather(t_resid, row), gauss)

    def fn(scaled, onehot, seed):
        scaled, onehot, seed = check(scaled, onehot, seed)
        z = center(scaled, onehot, seed)
        if gaussian:
            lab = tf.argmax(onehot, axis=1, output_type=tf.int32)
            z = z + (neighbour_residual(scaled, lab, seed) if neighbours else gaussian_residual(lab, seed))
        return tf.cast(z, tf.float32)

    return fn, tracked
