"""Helpers shared by the REST and gRPC clients: request building and response decoding.

Nothing here talks to a network; it turns user arguments (class names, astropy Quantities,
scalars) into the documented signature inputs of :mod:`pelsvae_tf.serve.signatures`, and the
``generator`` outputs back into :class:`pelsvae_tf.generate.generator.GeneratedLightCurves`, the object
the local :class:`pelsvae_tf.generate.generator.Generator` returns (same ``to_pandas`` / ``to_table``).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from pelsvae_tf.classes import CLASSES, PHYSICS_PARAMS, canonical_class
from pelsvae_tf.counter_rng import curve_seeds
from pelsvae_tf.serve.signatures import SignatureDoc, TensorDoc

#: TensorFlow DataType enum names <-> our dtype names (as in SignatureDef / model metadata JSON).
TF_DTYPE_NAMES = {"DT_FLOAT": "float32", "DT_DOUBLE": "float64", "DT_INT32": "int32", "DT_INT64": "int64"}
DTYPE_TO_TF = {v: k for k, v in TF_DTYPE_NAMES.items()}


class ServingError(ValueError):
    """The model server rejected a request (bad input) or answered with an error; ``status`` holds
    the HTTP status or gRPC status-code name."""

    def __init__(self, message: str, status: Any = None):
        super().__init__(message)
        self.status = status


def _dims(shape: Mapping[str, Any]) -> tuple[int | None, ...]:
    dims = shape.get("dim", []) if isinstance(shape, Mapping) else []
    out = []
    for d in dims:
        size = int(d.get("size", -1)) if isinstance(d, Mapping) else int(d.size)
        out.append(None if size < 0 else size)
    return tuple(out)


def signature_from_proto(model: str, name: str, sigdef) -> SignatureDoc:
    """``SignatureDoc`` from a ``tensorflow.core.protobuf.meta_graph_pb2.SignatureDef`` message."""
    from tensorflow.core.framework import types_pb2

    def tensors(m):
        out = []
        for key in sorted(m):
            info = m[key]
            dt = TF_DTYPE_NAMES.get(types_pb2.DataType.Name(info.dtype))
            if dt is None:
                raise ServingError(f"{model}/{name}: tensor {key!r} has unsupported dtype {info.dtype}")
            dims = tuple(None if d.size < 0 else int(d.size) for d in info.tensor_shape.dim)
            out.append(TensorDoc(key, dt, dims, "", ""))
        return tuple(out)

    return SignatureDoc(model, name, tensors(sigdef.inputs), tensors(sigdef.outputs))


def signature_from_metadata_json(model: str, name: str, meta: Mapping[str, Any]) -> SignatureDoc:
    """``SignatureDoc`` from TF Serving's REST ``GET /v1/models/<m>/metadata`` JSON answer."""
    try:
        defs = meta["metadata"]["signature_def"]["signature_def"]
    except (KeyError, TypeError):
        raise ServingError(f"{model}: metadata answer has no metadata.signature_def.signature_def") from None
    if name not in defs:
        raise ServingError(f"{model}: signature {name!r} not served; available: {sorted(defs)}")
    sd = defs[name]

    def tensors(m):
        out = []
        for key in sorted(m):
            info = m[key]
            dt = TF_DTYPE_NAMES.get(info.get("dtype"))
            if dt is None:
                raise ServingError(f"{model}/{name}: tensor {key!r} has unsupported dtype {info.get('dtype')}")
            out.append(TensorDoc(key, dt, _dims(info.get("tensor_shape", {})), "", ""))
        return tuple(out)

    return SignatureDoc(model, name, tensors(sd.get("inputs", {})), tensors(sd.get("outputs", {})))


def _values(value: Any, name: str) -> np.ndarray:
    unit = PHYSICS_PARAMS.get(name, (None, None))[1] or {
        "t0": "d",
        "times": "d",
        "mag_mean": "mag",
        "amplitude": "mag",
    }.get(name)
    try:
        import astropy.units as u

        if isinstance(value, u.Quantity):
            if unit is None:
                return np.asarray(value.value, dtype=np.float64)
            return np.asarray(value.to_value(u.mag if unit == "mag" else u.Unit(unit)), dtype=np.float64)
    except ImportError:  # pragma: no cover
        pass
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name}: cannot convert {value!r} to {unit}: {exc}") from None
    if name in ("times", "t0") and _is_time(value):
        # astropy Time -> MJD days, as the local package (pelsvae_tf.generate.cadence) converts it, so a
        # served and a local curve of the same Time cadence get the same times and t0
        return np.asarray(value.mjd, dtype=np.float64)
    return np.asarray(value)


def _is_time(value: Any) -> bool:
    try:
        from astropy.time import Time
    except ImportError:  # pragma: no cover - astropy is a dependency
        return False
    return isinstance(value, Time)


def generator_inputs(
    sig: SignatureDoc,
    cls: str | int | Sequence[str | int],
    n: int | None = None,
    times: Any = None,
    phase: Any = None,
    t0: Any = 0.0,
    mag_mean: Any = None,
    amplitude: Any = None,
    seed: int | Sequence[int] = 0,
    classes: Sequence[str] = CLASSES,
    **physics: Any,
) -> dict[str, np.ndarray]:
    """Build the inputs of a ``generator`` signature from per-curve or broadcast arguments.

    ``cls``: class name(s) or index(es); physics as keywords in their units (teff K, abs_gmag mag,
    period d; floats or astropy Quantity); ``times`` [T] or [n, T] in days, or an astropy ``Time``
    (converted to MJD, as ``pelsvae_tf.generate.cadence`` does; or ``phase`` in cycles for
    ``generate_phase``); ``t0`` [d] (float or ``Time``, MJD), ``mag_mean``/``amplitude`` [mag]; ``seed`` one int
    (curve i gets ``pelsvae_tf.counter_rng.curve_seeds(seed, n)[i]``, as ``Generator.generate(seed=seed)``) or ``n`` ints. Returns validated arrays of the signature's dtypes.
    """
    names = sig.input_names
    given_n = [np.size(v) for v in physics.values() if v is not None and np.ndim(_values(v, "x")) > 0]
    if n is None:
        cand = given_n + ([len(cls)] if not isinstance(cls, (str, int, np.integer)) else [])
        n = max(cand) if cand else 1
    n = int(n)
    if n < 1:
        raise ValueError(f"n={n}; must be >= 1 light curves")

    def per_curve(value: Any, name: str, dtype) -> np.ndarray:
        if value is None:
            raise ValueError(f"{name} is required by the served generator (give it in its unit)")
        arr = np.atleast_1d(_values(value, name)).reshape(-1)
        if arr.size == 1:
            arr = np.repeat(arr, n)
        if arr.size != n:
            raise ValueError(f"{name}: {arr.size} values for n={n} curves; give one value or n values")
        return arr.astype(dtype)

    out: dict[str, Any] = {}
    cls_list = [cls] * n if isinstance(cls, (str, int, np.integer)) else list(cls)
    if len(cls_list) != n:
        raise ValueError(f"cls: {len(cls_list)} classes for n={n} curves")
    idx = np.asarray(
        [int(c) if isinstance(c, (int, np.integer)) else list(classes).index(canonical_class(c)) for c in cls_list]
    )
    if idx.min() < 0 or idx.max() >= len(classes):
        raise ValueError(f"class index out of range [0, {len(classes)})")
    if "class_index" in names:
        out["class_index"] = idx.astype(np.int32)
    if "class_onehot" in names:
        out["class_onehot"] = np.eye(len(classes), dtype=np.float32)[idx]
    for t in sig.inputs:
        if t.name in PHYSICS_PARAMS:
            out[t.name] = per_curve(physics.get(t.name), t.name, t.dtype)
    unknown = sorted(set(k for k, v in physics.items() if v is not None) - set(names))
    if unknown:
        raise ValueError(f"{unknown} are not inputs of {sig.model}/{sig.signature}; it takes {list(names)}")
    for key, val in (("times", times), ("phase", phase)):
        if key in names:
            if val is None:
                raise ValueError(f"{key} is required by {sig.model}/{sig.signature}")
            arr = np.asarray(_values(val, key), dtype=np.float64)
            if arr.ndim == 1:
                arr = np.broadcast_to(arr[None, :], (n, arr.size))
            out[key] = np.ascontiguousarray(arr)
        elif val is not None:
            raise ValueError(f"{key} is not an input of {sig.model}/{sig.signature}; use the signature that takes it")
    if "t0" in names:
        out["t0"] = per_curve(t0, "t0", np.float64)
    out["mag_mean"] = per_curve(mag_mean, "mag_mean", np.float32)
    out["amplitude"] = per_curve(amplitude, "amplitude", np.float32)
    seeds = np.atleast_1d(np.asarray(seed, dtype=np.int64)).reshape(-1)
    out["seed"] = curve_seeds(int(seeds[0]), n) if seeds.size == 1 else seeds
    return sig.validate(out)


def to_generated(
    outputs: Mapping[str, np.ndarray],
    inputs: Mapping[str, np.ndarray],
    classes: Sequence[str] = CLASSES,
    noise: bool = True,
    meta: Mapping[str, Any] | None = None,
):
    """``generator`` outputs + the request's inputs -> :class:`GeneratedLightCurves` (as the local Generator)."""
    from pelsvae_tf.generate.generator import GeneratedLightCurves

    n, T = np.asarray(outputs["mag_model"]).shape
    if "class_index" in inputs:
        label = np.asarray(inputs["class_index"], dtype=np.int64)
    else:
        label = np.argmax(np.asarray(inputs["class_onehot"]), axis=1)
    period = np.asarray(inputs["period"], np.float64)
    phase = np.asarray(outputs["phase"], np.float64)
    if "times" in inputs:
        time = np.asarray(inputs["times"], np.float64)
        t0 = np.asarray(inputs["t0"], np.float64)
    else:
        t0 = np.zeros(n)
        time = phase * period[:, None]
    amp = np.asarray(inputs["amplitude"], np.float64)
    mag_model = np.asarray(outputs["mag_model"], np.float64)
    err = np.asarray(outputs["err"], np.float64)
    # canonical parameter order (teff, abs_gmag, period, ...), as the local Generator's table
    physics = {
        k: (period if k == "period" else np.asarray(inputs[k], np.float64))
        for k in PHYSICS_PARAMS
        if k in inputs or k == "period"
    }
    return GeneratedLightCurves(
        time=time,
        phase=phase,
        mag=np.asarray(outputs["mag"] if noise else mag_model, np.float64).copy(),
        mag_model=mag_model,
        err=err,
        scaled_mag=np.asarray(outputs["scaled_mag"], np.float64),
        scaled_err=np.asarray(outputs["scaled_err"], np.float64),
        cls=np.asarray(classes)[label],
        label=label,
        period=period,
        t0=t0,
        mag_mean=np.asarray(inputs["mag_mean"], np.float64),
        amplitude=amp,
        dummy=np.asarray(outputs["dummy"], np.float64),
        physics=physics,
        z=np.asarray(outputs["z"], np.float32),
        meta=dict(meta or {}, noise=bool(noise)),
        in_training_range=np.asarray(outputs["in_training_range"]).astype(bool),
        jitter=(np.asarray(outputs["jitter"], np.float64) if noise else np.zeros((n, 3)))
        if "jitter" in outputs
        else None,
    )


def decode_outputs(sig: SignatureDoc | None, outputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """JSON/list outputs -> numpy arrays of the signature's output dtypes (float32 by default)."""
    dtypes = {t.name: t.dtype for t in sig.outputs} if sig is not None else {}
    return {k: np.asarray(v, dtype=dtypes.get(k, "float32")) for k, v in outputs.items()}
