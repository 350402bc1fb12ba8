"""Checks of generation inputs: numbers in their units, physical validity, training ranges.

:func:`check_physical` refuses physically impossible values (the exported SavedModels check the
same rules); astropy ``Quantity`` inputs convert to the canonical units (a Celsius temperature
converts to K). :func:`stats_column` / :func:`class_range` read the training stars of a class
(``train_stats.npz``); :func:`in_training_range` / :func:`check_ranges` compare values with
them, warning with a :class:`PhysicsRangeWarning` (or ``ValueError`` with ``strict``).
Importing this module does not load TensorFlow.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any, Mapping, Sequence

import numpy as np

from pelsvae_tf.classes import PHYSICS_PARAMS, POSITIVE_PARAMS

#: astropy unit string of every physical parameter (for Quantity inputs and table columns).
PHYSICS_UNITS = {name: unit for name, (_, unit, _) in PHYSICS_PARAMS.items()}


class PhysicsRangeWarning(UserWarning):
    """A requested physical parameter lies outside the training range of its class."""


def _to_value(value: Any, name: str) -> np.ndarray:
    """Physical parameter as float64 array in its canonical unit (K, mag, d, solRad, solLum).

    Booleans (``True``/``False`` or a bool array) and strings are refused with a ``ValueError``
    naming ``name``: ``period=True`` would otherwise silently become 1 d.
    """
    import astropy.units as u

    unit = PHYSICS_UNITS.get(name, "mag" if name in ("mag_mean", "amplitude") else None)
    _reject_non_numeric(value, name, unit)
    if isinstance(value, u.Quantity):
        try:
            if unit == "mag":
                return np.asarray(value.to_value(u.mag), dtype=np.float64)
            if unit == "K":  # deg_C / deg_F convert to K (astropy's temperature equivalency)
                return np.asarray(value.to_value(u.K, equivalencies=u.temperature()), dtype=np.float64)
            return np.asarray(value.to_value(u.Unit(unit)), dtype=np.float64)
        except (u.UnitConversionError, u.UnitsError, ValueError):
            raise ValueError(f"{name}: Quantity in {value.unit} cannot be converted to {unit}") from None
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {value!r} is not a number (expected {unit})") from None


def _reject_non_numeric(value: Any, name: str, unit: str | None) -> None:
    """``ValueError`` naming ``name`` when ``value`` is a bool, a string or an array of either."""
    expected = f"a real number in {unit}" if unit else "a real number"
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise ValueError(f"{name}: {value!r} is a {type(value).__name__}, not a number; give {expected}")
    if isinstance(value, np.ndarray) or (isinstance(value, (list, tuple)) and len(value)):
        arr = np.asarray(value)
        kind = arr.dtype.kind
        if kind in "bUS" or (kind == "O" and any(isinstance(v, (bool, np.bool_, str, bytes)) for v in arr.ravel())):
            raise ValueError(
                f"{name}: values of type {np.asarray(value).dtype} are not numbers; give {expected} per curve"
            )


def _check_count(n: Any) -> int:
    """``n`` as a positive ``int``; ``ValueError`` naming ``n`` for bools, non-integers or n < 1."""

    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise ValueError(f"n={n!r}: the number of curves must be a positive integer (got {type(n).__name__})")
    if int(n) < 1:
        raise ValueError(f"n={int(n)}; must be >= 1 curves")
    return int(n)


def _check_seed(seed: Any) -> int:
    """Seed of ``generate`` as an int in [0, 2^63): ``seed`` a non-negative integer, or ``None``
    for fresh OS entropy. ``ValueError`` naming ``seed`` otherwise (2.7 is refused, not truncated)."""

    if seed is None:
        lo, hi = np.random.SeedSequence().generate_state(2, np.uint32)
        return (int(hi) << 31) ^ int(lo)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise ValueError(
            f"seed={seed!r}: give a non-negative integer, or None for fresh random entropy (got {type(seed).__name__})"
        )
    if int(seed) < 0:
        raise ValueError(f"seed={int(seed)}: must be >= 0 (or None for fresh random entropy)")
    if int(seed) >= 2**63:
        raise ValueError(f"seed={int(seed)}: must be < 2**63 (an int64)")
    return int(seed)


def check_physical(values: Mapping[str, np.ndarray]) -> None:
    """``ValueError`` naming the field when a value is physically impossible: not finite, or not
    > 0 for Teff [K], period [d], radius [solRad], luminosity [solLum] and amplitude [mag].
    The same rules are checked in the exported SavedModels (:mod:`pelsvae_tf.serve.export`)."""
    for name, v in values.items():
        v = np.asarray(v, dtype=np.float64)
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name}: NaN/inf given; give finite numbers")
        if name in POSITIVE_PARAMS and np.any(v <= 0):
            unit = PHYSICS_UNITS.get(name, "mag")
            raise ValueError(
                f"{name} must be positive (> 0 {unit}); got {v[v <= 0][:3].tolist()}"
                + (" (a temperature in K, e.g. 6500)" if name == "teff" else "")
            )


def _broadcast(value: Any, n: int, name: str) -> np.ndarray:
    arr = np.atleast_1d(_to_value(value, name)).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, n)
    if arr.size != n:
        raise ValueError(f"{name}: got {arr.size} values for n={n} curves; give one value or n values")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: NaN/inf given; physical parameters must be finite numbers")
    return arr


# ---------------------------------------------------------------------------------------------
# training ranges
# ---------------------------------------------------------------------------------------------
def stats_column(train_stats: Mapping[str, np.ndarray] | None, name: str) -> np.ndarray | None:
    """Training-star values [N] of parameter ``name`` in physical units from ``train_stats.npz``
    (period: its float64 [d] column); ``None`` when there are no statistics or no such column."""
    if train_stats is None:
        return None
    if name == "period" and "period" in train_stats:
        return np.asarray(train_stats["period"], dtype=np.float64)
    cols = [str(c) for c in train_stats["physics_columns"]]
    if name in cols:
        return np.asarray(train_stats["phys"][:, cols.index(name)], dtype=np.float64)
    return None


def class_range(
    train_stats: Mapping[str, np.ndarray] | None, physics_scaler, label: int, name: str
) -> tuple[float, float]:
    """Training range ``(min, max)`` of parameter ``name`` [its unit] over the training stars of
    class index ``label`` (``train_stats.npz``); the run-wide ``physics_scaler`` range when the
    class has no such star or there are no statistics; ``(-inf, inf)`` when neither knows it."""
    col = stats_column(train_stats, name)
    if col is not None:
        v = col[(np.asarray(train_stats["label"]) == label) & np.isfinite(col)]
        if v.size:
            return float(v.min()), float(v.max())
    if physics_scaler is not None and name in physics_scaler.stats:
        return physics_scaler.range(name)
    return (-np.inf, np.inf)


def in_training_range(
    train_stats: Mapping[str, np.ndarray] | None, physics_scaler, labels: np.ndarray, raw: Mapping[str, np.ndarray]
) -> np.ndarray:
    """Per curve: True when every given physical parameter lies inside its class's training range."""
    inside = np.ones(len(labels), dtype=bool)
    for name, vals in raw.items():
        for lab in np.unique(labels):
            lo, hi = class_range(train_stats, physics_scaler, int(lab), name)
            m = labels == lab
            inside[m] &= (vals[m] >= lo) & (vals[m] <= hi)
    return inside


def check_ranges(
    train_stats: Mapping[str, np.ndarray] | None,
    physics_scaler,
    classes: Sequence[str],
    labels: np.ndarray,
    given: Mapping[str, np.ndarray],
    strict: bool,
) -> None:
    """:class:`PhysicsRangeWarning` (``ValueError`` when ``strict``) for each parameter in
    ``given`` with values outside the training range of their class (``classes[label]``)."""
    for name, vals in given.items():
        for lab in np.unique(labels):
            lo, hi = class_range(train_stats, physics_scaler, int(lab), name)
            v = vals[labels == lab]
            bad = (v < lo) | (v > hi)
            if bad.any():
                msg = (
                    f"{name} = {v[bad][:3].tolist()} {PHYSICS_UNITS[name]} ({int(bad.sum())} value(s)) "
                    f"outside the training range of {classes[lab]}: [{lo:.4g}, {hi:.4g}] "
                    f"{PHYSICS_UNITS[name]}; the regressor extrapolates"
                )
                if strict:
                    raise ValueError(msg + " (strict=True)")
                warnings.warn(msg, PhysicsRangeWarning, stacklevel=3)


def classes_with_physics(train_stats: Mapping[str, np.ndarray] | None, classes: Sequence[str], physics: Sequence[str]):
    """Classes with at least one training star having every parameter of ``physics`` and a period
    (all ``classes`` when ``train_stats`` is None; none when a parameter has no column)."""
    if train_stats is None:
        return tuple(classes)
    ok = np.ones(len(train_stats["label"]), dtype=bool)
    for name in dict.fromkeys(list(physics) + ["period"]):
        col = stats_column(train_stats, name)
        if col is None:
            return ()
        ok &= np.isfinite(col)
    present = set(np.asarray(train_stats["label"])[ok].tolist())
    return tuple(c for i, c in enumerate(classes) if i in present)
