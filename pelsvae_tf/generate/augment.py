"""Synthetic labelled light curves as a ``tf.data`` source for classifier training.

:func:`synthetic_dataset` streams batches of generated light curves (physical parameters of
each curve drawn jointly from the training stars of its class, mean magnitude and amplitude
likewise) as ``(features, label)`` pairs that ``model.fit`` of a TensorFlow classifier takes
directly. Features use the prepared-dataset representation by default (``"folded"``): phases
in cycles sorted ascending, magnitudes min-max scaled per curve to [0, 1] (1 = faintest) and
errors divided by the same range, so synthetic and real batches (``PreparedDataset.to_tf``) mix.

:func:`augmentation_experiment` trains the same small Keras classifier on the real training
split alone and on real + synthetic curves for the rarest classes, and reports both test
accuracies (used by ``examples/augment_classifier.py`` and its test). The real arm uses only the
real training stars (not the prepared dataset's augmented copies).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from typing import Any, Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

from pelsvae_tf import options
from pelsvae_tf.classes import canonical_class
from pelsvae_tf.config import ConfigBase
from pelsvae_tf.data.dataset import PreparedDataset
from pelsvae_tf.generate.cadence import Cadence
from pelsvae_tf.generate.generator import Generator

log = logging.getLogger("pelsvae_tf.generate.augment")

REPRESENTATIONS = options.REPRESENTATIONS


def _class_probs(generator, classes, class_weights) -> tuple[list[int], np.ndarray]:
    if class_weights is not None and classes is not None:
        raise ValueError("synthetic_dataset: give classes OR class_weights, not both")
    if class_weights is not None:
        if not class_weights:
            raise ValueError("synthetic_dataset: class_weights is empty")
        names = list(class_weights)
        w = np.asarray([float(class_weights[c]) for c in names])
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"synthetic_dataset: class_weights must be >= 0 with a positive sum; got {class_weights}")
    else:
        names = list(classes) if classes is not None else list(generator.classes_with_physics)
        if not names:
            raise ValueError("synthetic_dataset: classes is empty")
        w = np.ones(len(names))
    idx = []
    for c in names:
        canon = canonical_class(c)
        if canon not in generator.classes:
            raise ValueError(
                f"synthetic_dataset: class {c!r} is not among the model's classes {list(generator.classes)}"
            )
        idx.append(generator.classes.index(canon))
    return idx, w / w.sum()


def scale_like_prepared(phase: np.ndarray, mag: np.ndarray, err: np.ndarray) -> dict[str, np.ndarray]:
    """Prepared-dataset representation of curves [n, T]: sorted phase, min-max scaled mag/err."""
    order = np.argsort(phase, axis=1, kind="stable")
    ph = np.take_along_axis(phase, order, axis=1)
    m = np.take_along_axis(mag, order, axis=1)
    e = np.take_along_axis(err, order, axis=1)
    lo = m.min(axis=1, keepdims=True)
    rng = np.maximum(m.max(axis=1, keepdims=True) - lo, 1e-6)
    return {
        "phase": ph.astype(np.float32),
        "mag": ((m - lo) / rng).astype(np.float32),
        "err": (e / rng).astype(np.float32),
    }


#: Days spanned by the random observation times of ``cadence=None`` (the built-in sky's 8 seasons;
#: ``EvalConfig.folded_baseline`` uses the same span).
RANDOM_TIMES_SPAN = 2922.0


def synthetic_batch(
    generator,
    labels: np.ndarray,
    n_points: int,
    cadence: Cadence | None,
    seed: int,
    representation: str = "folded",
    noise: bool = True,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One batch of generated curves for class indices ``labels`` [B]: ``(features, labels)``.

    ``cadence=None`` observes each curve at ``n_points`` random times over
    :data:`RANDOM_TIMES_SPAN` days (like the prepared data's random undersampling of a multi-year
    survey: the phases are uniform and the curve mixes many cycles, so a star's per-cycle
    intrinsic jitter shows in the folded curve as it does in a real one). ``representation="folded"``: ``phase``/``mag``/``err`` as in
    the prepared dataset; ``"time"``: ``time`` [d, from the first epoch], ``mag``/``err`` [mag] in
    time order.
    """
    rng = np.random.default_rng(seed)
    b = len(labels)
    if cadence is None:
        cadence = Cadence.from_times(
            np.sort(rng.uniform(0.0, RANDOM_TIMES_SPAN, size=(b, int(n_points))), axis=1),
            f"random times over {RANDOM_TIMES_SPAN:g} d",
        )
    names = np.asarray(generator.classes)[labels]
    t0 = rng.uniform(0.0, 1000.0, size=b)
    res = generator.generate(names, n=b, cadence=cadence, seed=int(rng.integers(2**31)), t0=t0, noise=noise)
    if representation == "folded":
        feats = scale_like_prepared(res.phase, res.mag, res.err)
    else:
        feats = {
            "time": (res.time - res.time[:, :1]).astype(np.float32),
            "mag": res.mag.astype(np.float32),
            "err": res.err.astype(np.float32),
        }
    return feats, labels.astype(np.int32)


def synthetic_dataset(
    generator,
    classes: Sequence[str] | None = None,
    class_weights: Mapping[str, float] | None = None,
    n_points: int = 100,
    cadence: Cadence | None = None,
    batch_size: int = 64,
    seed: int = 0,
    n_batches: int | None = None,
    representation: str = "folded",
    noise: bool = True,
):
    """``tf.data.Dataset`` of synthetic ``(features, label)`` batches for ``model.fit``.

    Args:
        generator: a :class:`~pelsvae_tf.generate.generator.Generator`.
        classes: classes drawn with equal probability (class-balanced; default every class the
            regressor was fitted on, ``generator.classes_with_physics``), or
        class_weights: ``{class: weight}`` sampling weights (normalised).
        n_points: points per curve (random times over :data:`RANDOM_TIMES_SPAN` d) when ``cadence`` is None.
        cadence: a fixed :class:`~pelsvae_tf.generate.cadence.Cadence` for every curve (times in days).
        batch_size: curves per batch; seed: batch ``b`` uses seed ``(seed, b)`` (deterministic).
        n_batches: stop after this many batches (``None`` = endless; give ``steps_per_epoch``).
        representation: ``"folded"`` (default, matches ``PreparedDataset``) or ``"time"``.
        noise: add the N(0, err) noise draw before scaling.

    Elements: features dict of float32 ``[B, T]`` tensors, labels int32 ``[B]`` (indices into
    ``generator.classes``). Ends in ``prefetch``.
    """
    if representation not in REPRESENTATIONS:
        raise ValueError(f"synthetic_dataset: representation={representation!r}; expected {REPRESENTATIONS}")
    if int(batch_size) < 1:
        raise ValueError(f"synthetic_dataset: batch_size={batch_size}; must be >= 1")
    if cadence is None and int(n_points) < 2:
        raise ValueError(f"synthetic_dataset: n_points={n_points}; need at least 2 points per curve")
    if n_batches is not None and int(n_batches) < 1:
        raise ValueError(f"synthetic_dataset: n_batches={n_batches}; must be >= 1 or None")
    idx, probs = _class_probs(generator, classes, class_weights)
    T = cadence.n_points if cadence is not None else int(n_points)
    keys = ("phase", "mag", "err") if representation == "folded" else ("time", "mag", "err")

    def gen():
        counter = itertools.count() if n_batches is None else range(int(n_batches))
        for b in counter:
            seq = np.random.SeedSequence([int(seed), int(b)])
            rng = np.random.default_rng(seq)
            labels = np.asarray(idx)[rng.choice(len(idx), size=int(batch_size), p=probs)]
            yield synthetic_batch(generator, labels, T, cadence, int(rng.integers(2**31)), representation, noise)

    signature = ({k: tf.TensorSpec([None, T], tf.float32) for k in keys}, tf.TensorSpec([None], tf.int32))
    ds = tf.data.Dataset.from_generator(gen, output_signature=signature)
    return ds.prefetch(2)


# ---------------------------------------------------------------------------------------------
# Real vs real + synthetic classifier experiment
# ---------------------------------------------------------------------------------------------
@dataclasses.dataclass
class AugmentExperimentConfig(ConfigBase):
    """Settings of :func:`augmentation_experiment`.

    Attributes:
        n_rare: the ``n_rare`` classes with the fewest real training stars get synthetic curves.
        synthetic_per_class: synthetic curves added per rare class.
        epochs, batch_size, learning_rate: classifier training (Adam).
        filters: Conv1D filters of the small classifier.
        regressor: regressor of the generator (kind under RUN_DIR/regressors/).
        seed: seeds classifier initialisation, shuffling and generation.
    """

    n_rare: int = 3
    synthetic_per_class: int = 200
    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 3e-3
    filters: int = 16
    regressor: str = "mlp"  # = pelsvae_tf.generate.generator.DEFAULT_REGRESSOR (tested)
    seed: int = 0

    def __post_init__(self):
        for name in ("n_rare", "synthetic_per_class", "epochs", "batch_size", "filters"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"AugmentExperimentConfig.{name}={getattr(self, name)}; must be >= 1")


def build_classifier(seq_len: int | None, n_classes: int, filters: int = 16, seed: int = 0):
    """Small Keras classifier: [phase, mag, err] per step -> 2 Conv1D -> global pooling -> softmax."""
    keras.utils.set_random_seed(int(seed))
    inputs = {k: keras.Input(shape=(seq_len,), name=k) for k in ("phase", "mag", "err")}
    x = _stack(inputs)
    x = keras.layers.Conv1D(filters, 7, padding="same", activation="relu")(x)
    x = keras.layers.Conv1D(filters, 5, padding="same", activation="relu", dilation_rate=2)(x)
    x = keras.layers.Concatenate()([keras.layers.GlobalAveragePooling1D()(x), keras.layers.GlobalMaxPooling1D()(x)])
    out = keras.layers.Dense(n_classes, activation="softmax", name="class_probs")(x)
    return keras.Model(inputs, out, name="light_curve_classifier")


def _stack(inputs):
    expand = [keras.layers.Reshape((-1, 1), name=f"{k}_channel")(inputs[k]) for k in ("phase", "mag", "err")]
    return keras.layers.Concatenate(axis=-1, name="per_step_features")(expand)


def _real_tf(arrays: Mapping[str, np.ndarray], mask: np.ndarray | None = None):
    m = np.ones(len(arrays["label"]), dtype=bool) if mask is None else mask
    feats = {k: arrays[k][m].astype(np.float32) for k in ("phase", "mag", "err")}
    return feats, arrays["label"][m].astype(np.int32)


def augmentation_experiment(data_dir, run_dir, config: AugmentExperimentConfig | None = None) -> dict[str, Any]:
    """Train the small classifier on real training curves vs real + synthetic rare classes.

    Real arm: the real stars (``is_real``) of the ``train`` split only, one curve per star; the
    dataset's own augmented copies (resampled real curves written by ``pelsvae prepare``) are left
    out so the comparison is real vs real + synthetic. Synthetic arm: the same real curves plus
    ``synthetic_per_class`` generated curves for each of the ``n_rare`` classes with the fewest
    real training stars (physics and magnitudes drawn from their training stars, random times,
    noise and intrinsic jitter). Evaluation: the ``test`` split (real stars only). Same classifier, seed and epochs
    for both arms. Returns accuracies (fractions of test curves), balanced accuracies and the rare
    classes' recalls for both arms, and the training-set sizes (``n_train``, curves).
    """
    cfg = config or AugmentExperimentConfig()
    ds = PreparedDataset(data_dir)
    gen = Generator.load(run_dir, regressor=cfg.regressor)
    tr, te = ds.arrays("train"), ds.arrays("test")
    if len(te["label"]) == 0:
        raise ValueError(f"{data_dir}: the test split is empty; cannot measure accuracy")
    C = len(ds.classes)
    real_counts = np.bincount(tr["label"][tr["is_real"].astype(bool)], minlength=C)
    can = [ds.classes.index(c) for c in gen.classes_with_physics if c in ds.classes]
    present = np.asarray([c for c in can if real_counts[c] > 0], dtype=np.int64)
    rare = present[np.argsort(real_counts[present], kind="stable")][: cfg.n_rare]
    L = ds.seq_len
    n_syn = cfg.synthetic_per_class * len(rare)
    syn_labels = np.repeat(rare, cfg.synthetic_per_class)
    syn_feats, _ = synthetic_batch(gen, syn_labels, L, None, cfg.seed + 7, "folded", True)
    x_real, y_real = _real_tf(tr, tr["is_real"].astype(bool))  # real stars only, no prepared copies
    x_aug = {k: np.concatenate([x_real[k], syn_feats[k]]) for k in x_real}
    y_aug = np.concatenate([y_real, syn_labels.astype(np.int32)])
    x_te, y_te = _real_tf(te)

    def fit_eval(x, y, tag):
        model = build_classifier(L, C, cfg.filters, cfg.seed)
        model.compile(
            optimizer=keras.optimizers.Adam(cfg.learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(y), seed=cfg.seed).batch(cfg.batch_size)
        model.fit(data, epochs=cfg.epochs, verbose=0, shuffle=False)
        pred = np.argmax(model.predict(x_te, batch_size=256, verbose=0), axis=1)
        recalls = {}
        for c in range(C):
            m = y_te == c
            if m.any():
                recalls[ds.classes[c]] = float(np.mean(pred[m] == c))
        return {
            "accuracy": float(np.mean(pred == y_te)),
            "balanced_accuracy": float(np.mean(list(recalls.values()))),
            "recall": recalls,
            "rare_recall_mean": float(np.mean([recalls[ds.classes[c]] for c in rare if ds.classes[c] in recalls]))
            if any(ds.classes[c] in recalls for c in rare)
            else float("nan"),
            "n_train": int(len(y)),
        }

    real = fit_eval(x_real, y_real, "real")
    both = fit_eval(x_aug, y_aug, "real+synthetic")
    return {
        "rare_classes": [ds.classes[c] for c in rare],
        "real_train_counts": {ds.classes[c]: int(real_counts[c]) for c in range(C)},
        "n_synthetic": int(n_syn),
        "n_test": int(len(y_te)),
        "real": real,
        "real_plus_synthetic": both,
        "config": cfg.to_dict(),
    }
