"""The ``regressor_mlp`` / ``regressor_forest`` SavedModels' graphs: raw physics + dummy -> z.

The in-graph twins of ``PhysicsRegressor.predict``: the run's ``PhysicsScaler`` affine map (in
float64) then the fitted Keras MLP or the YDF forest (SimpleML ops, built into TF Serving).
:func:`regressor_reference` is the in-process reference the tests compare against. (The
regressors' *sampler* graph used inside the ``generator`` lives in :mod:`pelsvae_tf.regress.graph`.)
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np
import tensorflow as tf

from pelsvae_tf.serve.checks import assert_finite, class_index_checks, positive_checks


def scale_physics(x: Mapping[str, Any], physics: Sequence[str], shift: np.ndarray, scale: np.ndarray):
    """Raw physics (dict name -> [B], physical units) -> scaled [B, P] float32: the run's
    ``PhysicsScaler`` affine map ``(v - shift) / scale``, done in float64."""
    cols = [(tf.cast(x[n], tf.float64) - shift[j]) / scale[j] for j, n in enumerate(physics)]
    return tf.cast(tf.stack(cols, axis=1), tf.float32)


class RegressorGraph:
    """Graph function raw physics + dummy -> z, wrapping a scaled-input latent function."""

    def __init__(
        self,
        physics: Sequence[str],
        shift: np.ndarray,
        scale: np.ndarray,
        latent_fn: Callable,
        dummy: bool,
        use_class: bool,
        n_classes: int,
    ):
        self.physics = tuple(physics)
        self.shift = np.asarray(shift, np.float64)
        self.scale = np.asarray(scale, np.float64)
        self.latent_fn = latent_fn
        self.dummy = dummy
        self.use_class = use_class
        self.n_classes = n_classes

    def latent(self, raw: Mapping[str, Any], dummy, onehot):
        """z [B, D] from raw physics (dict name -> [B]), dummy [B] and class one-hot [B, C]."""
        return self.latent_fn(self.scaled(raw), dummy if self.dummy else None, onehot if self.use_class else None)

    def scaled(self, x: Mapping[str, Any]):
        """Scaled physics [B, P] float32 (:func:`scale_physics`)."""
        return scale_physics(x, self.physics, self.shift, self.scale)

    def __call__(self, x: Mapping[str, Any]) -> dict:
        checks = positive_checks(x, self.physics)
        if self.dummy:
            d = x["dummy"]
            checks.append(assert_finite(d, "dummy"))
            checks.append(tf.debugging.assert_non_negative(d, message="dummy must lie in [0, 1] (a U(0, 1) draw)"))
            checks.append(
                tf.debugging.assert_less_equal(
                    d, tf.constant(1.0, d.dtype), message="dummy must lie in [0, 1] (a U(0, 1) draw)"
                )
            )
        onehot = None
        if self.use_class:
            ci = x["class_index"]
            checks += class_index_checks(ci, self.n_classes)
            onehot = tf.one_hot(ci, self.n_classes, dtype=tf.float32)
        with tf.control_dependencies(checks):
            z = self.latent(x, x.get("dummy"), onehot)
        return {"z": tf.identity(z, name="z")}


def regressor_graph(regressor, scaler, n_classes: int, temp_dir: str | None = None) -> tuple[RegressorGraph, list]:
    """Wrap a fitted ``PhysicsRegressor`` (mlp or forest) as a graph function; returns it and the
    TF objects (Keras model / YDF functions) that the SavedModel must track. ``temp_dir`` holds the
    YDF model files until the SavedModel has copied them into its assets."""
    if not getattr(regressor, "fitted", False):
        raise ValueError(f"{type(regressor).__name__} is not fitted; run `pelsvae regress RUN_DIR` first")
    physics = tuple(regressor.physics)
    shift, scale = scaler._affine(physics)
    use_class = bool(regressor.config.use_class)
    if use_class and len(regressor.classes) != n_classes:
        raise ValueError(
            f"regressor was fitted on {len(regressor.classes)} classes but the decoder has {n_classes}; "
            "refit the regressors on this run (`pelsvae regress RUN_DIR`)"
        )
    kind = regressor.kind
    if kind == "mlp":
        model = regressor.model

        def latent_fn(scaled, dummy, onehot):
            cols = [scaled]
            if dummy is not None:
                cols.append(dummy[:, None])
            if onehot is not None:
                cols.append(onehot)
            return tf.cast(model(tf.concat(cols, axis=1), training=False), tf.float32)

        tracked = [model]
    elif kind == "forest":
        try:
            import ydf_tf  # noqa: F401  (the SimpleML inference ops of the exported forest)
        except ImportError as exc:  # pragma: no cover - ydf-tf is a pinned dependency
            raise ImportError("exporting regressor_forest needs ydf-tf (pip install ydf-tf==2.21.0.post1)") from exc

        fns = [m.to_tensorflow_function(temp_dir=temp_dir, can_be_saved=True) for m in regressor.models]
        names = list(regressor.input_names)

        def latent_fn(scaled, dummy, onehot):
            cols = {p: scaled[:, j] for j, p in enumerate(physics)}
            if dummy is not None:
                cols["dummy"] = tf.cast(dummy, tf.float32)
            if onehot is not None:
                for j, c in enumerate(regressor.classes):
                    cols[f"class_{c}"] = onehot[:, j]
            missing = [n for n in names if n not in cols]
            if missing:  # pragma: no cover - guarded by PhysicsRegressor.input_names
                raise ValueError(f"forest inputs {missing} cannot be built in the graph")
            return tf.stack([tf.reshape(fn({n: cols[n] for n in names}), [-1]) for fn in fns], axis=1)

        tracked = fns
    else:
        raise ValueError(f"cannot export a {kind!r} regressor as a SavedModel; export 'mlp' or 'forest'")
    graph = RegressorGraph(physics, shift, scale, latent_fn, bool(regressor.config.dummy), use_class, n_classes)
    return graph, tracked


def regressor_reference(regressor, scaler, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
    """In-process twin of the ``regressor_*`` SavedModel: ``regressor.predict`` on scaled raw inputs."""
    physics = tuple(regressor.physics)
    raw = np.stack([np.asarray(inputs[n], np.float64) for n in physics], axis=1)
    scaled = scaler.transform(raw, physics)
    labels = np.asarray(inputs["class_index"]) if regressor.config.use_class else None
    return regressor.predict(scaled, dummy=inputs.get("dummy"), labels=labels)
