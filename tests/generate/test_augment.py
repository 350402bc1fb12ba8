"""Synthetic tf.data source for classifiers, and real vs real+synthetic on the built-in sky."""

from __future__ import annotations

import numpy as np
import pytest

from pelsvae_tf.generate.augment import (
    AugmentExperimentConfig,
    augmentation_experiment,
    build_classifier,
    synthetic_dataset,
)


def test_dataset_batches_are_labelled_prepared_like_and_deterministic(forest_generator):
    g = forest_generator
    allowed = list(g.classes_with_physics)[:2]
    ds = synthetic_dataset(
        g, class_weights={allowed[0]: 3.0, allowed[1]: 1.0}, n_points=40, batch_size=16, seed=5, n_batches=3
    )
    batches = list(ds)
    assert len(batches) == 3
    feats, labels = batches[0]
    assert set(feats) == {"phase", "mag", "err"} and feats["mag"].shape == (16, 40)
    idx = {g.classes.index(c) for c in allowed}
    all_labels = np.concatenate([b[1].numpy() for b in batches])
    assert set(all_labels.tolist()) <= idx
    counts = [np.sum(all_labels == g.classes.index(c)) for c in allowed]
    assert counts[0] > counts[1]  # weight 3 vs 1
    mag = feats["mag"].numpy()
    np.testing.assert_allclose(mag.min(1), 0.0, atol=1e-6)
    np.testing.assert_allclose(mag.max(1), 1.0, atol=1e-6)
    assert np.all(np.diff(feats["phase"].numpy(), axis=1) >= 0) and np.all(feats["err"].numpy() > 0)
    again = list(
        synthetic_dataset(
            g, class_weights={allowed[0]: 3.0, allowed[1]: 1.0}, n_points=40, batch_size=16, seed=5, n_batches=3
        )
    )
    np.testing.assert_array_equal(again[2][0]["mag"].numpy(), batches[2][0]["mag"].numpy())


def test_zero_weight_class_never_appears_and_time_representation(forest_generator):
    from pelsvae_tf.generate.cadence import survey_cadence

    g = forest_generator
    a, b = list(g.classes_with_physics)[:2]
    ds = synthetic_dataset(
        g,
        class_weights={a: 1.0, b: 0.0},
        cadence=survey_cadence(30, 400.0, seed=0),
        batch_size=8,
        n_batches=2,
        representation="time",
    )
    for feats, labels in ds:
        assert np.all(labels.numpy() == g.classes.index(a))
        t = feats["time"].numpy()
        assert t.shape == (8, 30) and np.all(np.diff(t, axis=1) >= 0) and np.all(t[:, 0] == 0)


def test_usable_directly_in_model_fit(forest_generator):
    g = forest_generator
    model = build_classifier(50, len(g.classes), filters=4)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    hist = model.fit(synthetic_dataset(g, n_points=50, batch_size=16, seed=0), steps_per_epoch=2, epochs=1, verbose=0)
    assert np.isfinite(hist.history["loss"][0])


def test_bad_arguments(forest_generator):
    g = forest_generator
    with pytest.raises(ValueError, match="unknown variability class 'SN'"):
        synthetic_dataset(g, classes=["SN"])
    with pytest.raises(ValueError, match="positive sum"):
        synthetic_dataset(g, class_weights={"RRLYR": 0.0})
    with pytest.raises(ValueError, match="OR"):
        synthetic_dataset(g, classes=["RRLYR"], class_weights={"RRLYR": 1.0})
    with pytest.raises(ValueError, match="representation"):
        synthetic_dataset(g, representation="image")


def test_real_vs_real_plus_synthetic_on_the_built_in_sky(tiny_dataset, fitted_run):
    cfg = AugmentExperimentConfig(n_rare=2, synthetic_per_class=40, epochs=2, filters=8)
    res = augmentation_experiment(tiny_dataset.path, fitted_run, cfg)
    real, both = res["real"], res["real_plus_synthetic"]
    assert 0.0 <= real["accuracy"] <= 1.0 and 0.0 <= both["accuracy"] <= 1.0
    assert both["n_train"] - real["n_train"] == res["n_synthetic"] == 80
    # the real arm holds the real training stars only, not the prepared dataset's augmented copies
    train = tiny_dataset.arrays("train")
    n_real = int(train["is_real"].astype(bool).sum())
    assert n_real < len(train["label"])  # the tiny dataset does have augmented copies to leave out
    assert real["n_train"] == n_real == sum(res["real_train_counts"].values())
    counts = res["real_train_counts"]
    assert len(res["rare_classes"]) == 2
    # the rare classes are the least populated among those the generator can make
    others = [counts[c] for c in Generator_classes(fitted_run) if c not in res["rare_classes"] and counts[c] > 0]
    assert max(counts[c] for c in res["rare_classes"]) <= min(others)
    assert res["n_test"] == int(sum(1 for _ in tiny_dataset.arrays("test")["label"]))


def Generator_classes(run_dir):
    from pelsvae_tf.generate.generator import Generator

    return Generator.load(run_dir).classes_with_physics
