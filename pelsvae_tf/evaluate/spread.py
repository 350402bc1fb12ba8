"""Spread of light-curve shapes at fixed physics: generated vs real (issue 12).

A generator that returns one shape per physics vector is not a model of a population: real stars
with the same (Teff, abs G, period) differ in shape. :func:`spread_at_fixed_physics` measures
how much of that spread a generator keeps.

Method, per class: pick ``n_anchors`` real training stars (the anchors) at random. For each
anchor,

- **data spread**: the ``k_near`` real training stars of the class nearest to the anchor in
  standardised physics (each parameter z-scored over the class's stars; period as log10 P [d]),
  the anchor included; their Fourier shape (:func:`pelsvae_tf.evaluate.physics_recovery.shape_numbers`:
  R21, phi31 [rad]) from their observed, prepared points;
- **generated spread**: ``n_gen`` noise-free curves of the class generated at exactly the
  anchor's physics (``Generator.generate(..., noise=False)``) on ``n_points`` evenly spaced
  phases, same Fourier fit;
- spread = interquartile range (IQR) of R21 (dimensionless), and the circular IQR of phi31 [rad]:
  the IQR of the angles wrapped to (-pi, pi] around their circular mean, so a spread that
  straddles 0 = 2 pi is not inflated to ~2 pi;
- ratio = generated / data spread (NaN where the data spread is 0).

The class's result is the median ratio over the anchors. A ratio of 1 means the generator keeps
the real spread; ~0 means one shape per physics vector.

The data spread is an *upper bound* of the intrinsic spread at fixed physics: it includes the
photometric noise and uneven sampling of the real points (the Fourier fit of a noisy curve
scatters) and the physics spread of the ``k_near`` neighbours (they are near the anchor, not at
it), while generated curves are noise-free at the exact anchor physics. A well-calibrated
generator therefore scores somewhat below 1.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from pelsvae_tf.classes import canonical_class
from pelsvae_tf.evaluate.physics_recovery import shape_numbers
from pelsvae_tf.generate.cadence import phases

#: Keys :func:`spread_at_fixed_physics` reads from the dataset arrays.
REQUIRED_KEYS: tuple[str, ...] = ("phase", "mag", "label", "phys")


def iqr(x: np.ndarray) -> float:
    """Interquartile range (75th - 25th percentile) of the finite values of ``x`` (its units);
    NaN when fewer than 2 are finite."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return float("nan")
    q25, q75 = np.percentile(x, [25, 75])
    return float(q75 - q25)


def circular_iqr(angles: np.ndarray) -> float:
    """IQR [rad] of angles [rad] on the circle: the IQR of the angles wrapped to (-pi, pi] around
    their circular mean direction (so values near 0 and near 2 pi count as close). NaN when
    fewer than 2 are finite."""
    a = np.asarray(angles, dtype=np.float64)
    a = a[np.isfinite(a)]
    if a.size < 2:
        return float("nan")
    mu = np.angle(np.mean(np.exp(1j * a)))
    return iqr(np.angle(np.exp(1j * (a - mu))))


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum} (got {value!r})")
    if int(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum} (got {value})")
    return int(value)


def _standardise(phys: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Physics [N, P] -> z-scores per column over the N stars; period as log10 P [d]."""
    x = np.array(phys, dtype=np.float64)
    for j, n in enumerate(names):
        if n == "period":
            x[:, j] = np.log10(x[:, j])
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def spread_at_fixed_physics(
    generator: Any,
    dataset_arrays: Mapping[str, np.ndarray],
    physics_columns: Sequence[str],
    classes: Sequence[str] = ("RRLYR", "CEP"),
    n_anchors: int = 32,
    k_near: int = 15,
    n_gen: int = 64,
    seed: int = 0,
    n_points: int = 300,
    n_harmonics: int = 4,
) -> dict[str, Any]:
    """Generated / data spread of R21 and phi31 at fixed physics, per class (method: module doc).

    Args:
        generator: a :class:`pelsvae_tf.generate.generator.Generator` with a regressor (anything with
            ``classes``, ``physics`` (regressor inputs) and ``generate(cls, n=, cadence=, seed=,
            noise=False, **physics)`` returning ``GeneratedLightCurves``).
        dataset_arrays: arrays of the real stars, e.g. ``PreparedDataset.arrays("train")``:
            ``phase`` [N, L] (cycles), ``mag`` [N, L] (any affine scaling of magnitudes, e.g. the
            prepared min-max scaled ones), ``label`` [N] (class index in ``generator.classes``),
            ``phys`` [N, P] (physical units: K, mag, d, ...; NaN = missing), optionally
            ``is_real`` [N] (augmented copies are left out).
        physics_columns: names of the ``phys`` columns (``PreparedDataset.physics_columns``).
        classes: class names to measure.
        n_anchors: anchor stars per class (>= 1; fewer when the class has fewer stars). 32: with
            8, the shipped run's Cepheid R21 ratio ranged 0.69-1.79 over seeds 0-3, with 32
            0.91-1.46 (2.2 s per call instead of 0.8).
        k_near: real neighbours per anchor giving the data spread (>= 4, anchor included).
        n_gen: generated curves per anchor (>= 4).
        seed: non-negative integer; the same seed gives the same anchors, curves and numbers.
        n_points: evenly spaced phases of each generated curve (>= 2 n_harmonics + 1).
        n_harmonics: harmonics of the Fourier fits (>= 3; phi31 needs the third).

    Returns:
        ``{"method": str, "config": {...}, "per_class": {cls: entry}}`` where an entry holds
        ``n_stars`` (real stars of the class with every parameter), ``anchors`` (list per anchor:
        ``physics`` {name: value in physical units}, ``data_iqr_R21``, ``gen_iqr_R21``
        (dimensionless), ``data_iqr_phi31``, ``gen_iqr_phi31`` [rad], ``ratio_R21``,
        ``ratio_phi31``), ``median_ratio_R21``, ``median_ratio_phi31``, and the median IQRs
        ``median_data_iqr_R21``, ``median_gen_iqr_R21``, ``median_data_iqr_phi31``,
        ``median_gen_iqr_phi31``; or ``{"n_stars": n, "skipped": reason}`` for a class with fewer
        than ``k_near`` usable stars.

    Raises:
        ValueError: missing array keys, inconsistent shapes, a class the generator does not know,
            a physics parameter of the regressor missing from ``physics_columns``, bad counts/seed.
    """

    n_anchors = _check_int("n_anchors", n_anchors, 1)
    k_near = _check_int("k_near", k_near, 4)
    n_gen = _check_int("n_gen", n_gen, 4)
    seed = _check_int("seed", seed, 0)
    n_harmonics = _check_int("n_harmonics", n_harmonics, 3)
    n_points = _check_int("n_points", n_points, 2 * n_harmonics + 1)
    if isinstance(classes, str):
        classes = (classes,)
    classes = tuple(classes)
    if not classes:
        raise ValueError("classes must name at least one class")
    missing = [k for k in REQUIRED_KEYS if k not in dataset_arrays]
    if missing:
        raise ValueError(
            f"dataset_arrays lacks {missing}; it needs {list(REQUIRED_KEYS)} (e.g. PreparedDataset.arrays('train'))"
        )
    phase = np.asarray(dataset_arrays["phase"], dtype=np.float64)
    mag = np.asarray(dataset_arrays["mag"], dtype=np.float64)
    label = np.asarray(dataset_arrays["label"])
    phys = np.asarray(dataset_arrays["phys"], dtype=np.float64)
    if phase.ndim != 2 or phase.shape != mag.shape:
        raise ValueError(f"dataset_arrays: phase {phase.shape} and mag {mag.shape} must be the same [N, L]")
    n_stars = phase.shape[0]
    if label.shape != (n_stars,) or phys.ndim != 2 or phys.shape[0] != n_stars:
        raise ValueError(
            f"dataset_arrays: label {label.shape} must be [{n_stars}] and phys {phys.shape} [{n_stars}, P]"
        )
    physics_columns = tuple(physics_columns)
    if phys.shape[1] != len(physics_columns):
        raise ValueError(f"physics_columns names {len(physics_columns)} columns but phys has {phys.shape[1]}")
    names = tuple(dict.fromkeys(tuple(getattr(generator, "physics", ())) + ("period",)))
    absent = [n for n in names if n not in physics_columns]
    if absent:
        raise ValueError(
            f"the generator needs {list(names)} but physics_columns {list(physics_columns)} lacks {absent}"
        )
    gen_classes = tuple(generator.classes)
    canon = []
    for c in classes:
        cc = canonical_class(c) if isinstance(c, str) else c
        if cc not in gen_classes:
            raise ValueError(f"class {c!r} is not among the generator's classes {list(gen_classes)}")
        canon.append(cc)
    real = np.asarray(dataset_arrays["is_real"]).astype(bool) if "is_real" in dataset_arrays else np.ones(n_stars, bool)
    cols = [physics_columns.index(n) for n in names]
    cadence = phases(n_points)

    per_class: dict[str, Any] = {}
    for ci, cls in enumerate(canon):
        lab = gen_classes.index(cls)
        x = phys[:, cols]
        ok = real & (label == lab) & np.all(np.isfinite(x), axis=1)
        if "period" in names:
            ok &= x[:, names.index("period")] > 0
        sel = np.flatnonzero(ok)
        if len(sel) < k_near:
            per_class[cls] = {
                "n_stars": int(len(sel)),
                "skipped": f"{len(sel)} real stars with {list(names)}, fewer than k_near={k_near}",
            }
            continue
        zs = _standardise(x[sel], names)
        rng = np.random.default_rng([seed, ci])
        anchor_pos = rng.choice(len(sel), size=min(n_anchors, len(sel)), replace=False)
        gen_seeds = rng.integers(0, 2**31 - 1, size=len(anchor_pos))
        anchors = []
        for j, gseed in zip(anchor_pos, gen_seeds):
            d = np.sum((zs - zs[j]) ** 2, axis=1)
            near = sel[np.argsort(d, kind="stable")[:k_near]]
            data = shape_numbers(phase[near], mag[near], n_harmonics=n_harmonics)
            anchor_phys = {n: float(x[sel[j], k]) for k, n in enumerate(names)}
            gen = generator.generate(cls, n=n_gen, cadence=cadence, seed=int(gseed), noise=False, **anchor_phys)
            sh = shape_numbers(
                np.asarray(gen.phase, np.float64), np.asarray(gen.scaled_mag, np.float64), n_harmonics=n_harmonics
            )
            row = {
                "physics": anchor_phys,
                "data_iqr_R21": iqr(data["R21"]),
                "gen_iqr_R21": iqr(sh["R21"]),
                "data_iqr_phi31": circular_iqr(data["phi31"]),
                "gen_iqr_phi31": circular_iqr(sh["phi31"]),
            }
            for f in ("R21", "phi31"):
                den = row[f"data_iqr_{f}"]
                row[f"ratio_{f}"] = row[f"gen_iqr_{f}"] / den if np.isfinite(den) and den > 0 else float("nan")
            anchors.append(row)
        entry: dict[str, Any] = {"n_stars": int(len(sel)), "anchors": anchors}
        for key in ("ratio_R21", "ratio_phi31", "data_iqr_R21", "gen_iqr_R21", "data_iqr_phi31", "gen_iqr_phi31"):
            v = np.array([a[key] for a in anchors], dtype=np.float64)
            entry[f"median_{key}"] = float(np.median(v[np.isfinite(v)])) if np.any(np.isfinite(v)) else float("nan")
        per_class[cls] = entry
    return {
        "method": (
            f"per class, {n_anchors} random real anchor stars; data = IQR over the {k_near} real "
            f"stars nearest in standardised physics {list(names)} (period as log10 P), generated = IQR over "
            f"{n_gen} noise-free curves at the anchor's physics; R21 IQR and circular phi31 IQR "
            f"[rad]; ratio generated / data, median over anchors; the data spread includes "
            f"photometric noise and neighbour physics spread (an upper bound of the intrinsic one)"
        ),
        "config": {
            "classes": list(canon),
            "physics": list(names),
            "n_anchors": n_anchors,
            "k_near": k_near,
            "n_gen": n_gen,
            "seed": seed,
            "n_points": n_points,
            "n_harmonics": n_harmonics,
        },
        "per_class": per_class,
    }
