"""Warm-up requests: ``assets.extra/tf_serving_warmup_requests`` and valid example inputs.

TF Serving replays the ``PredictionLog`` records of that file when it loads a version, so the
first real request does not pay for graph tracing. :func:`example_inputs` draws valid inputs of
any signature (also used by the tests and the serving benchmark).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from pelsvae_tf.serve.signatures import SignatureDoc

WARMUP_FILE = "tf_serving_warmup_requests"


def make_predict_request(model: str, signature: str, inputs: Mapping[str, np.ndarray], version: int | None = None):
    """A ``tensorflow_serving.apis.predict_pb2.PredictRequest`` for ``inputs`` (numpy arrays)."""
    req = predict_pb2.PredictRequest()
    req.model_spec.name = model
    req.model_spec.signature_name = signature
    if version is not None:
        req.model_spec.version.value = int(version)
    for name, arr in inputs.items():
        req.inputs[name].CopyFrom(tf.make_tensor_proto(np.asarray(arr)))
    return req


def write_warmup(version_dir: str | Path, requests: Sequence[Any]) -> Path:
    """Write ``assets.extra/tf_serving_warmup_requests``: one ``PredictionLog`` TFRecord per request."""
    path = Path(version_dir) / "assets.extra" / WARMUP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for req in requests:
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=req))
            writer.write(log.SerializeToString())
    return path


def read_warmup(version_dir: str | Path) -> list[Any]:
    """Read back the ``PredictRequest`` of every warmup record of an exported version."""
    path = Path(version_dir) / "assets.extra" / WARMUP_FILE
    if not path.exists():
        raise FileNotFoundError(f"no warmup file {path}; export the model with `pelsvae export`")
    out = []
    for rec in tf.data.TFRecordDataset(str(path)).as_numpy_iterator():
        log = prediction_log_pb2.PredictionLog.FromString(rec)
        out.append(log.predict_log.request)
    return out


def request_arrays(request) -> dict[str, np.ndarray]:
    """Inputs of a ``PredictRequest`` as numpy arrays."""
    return {k: tf.make_ndarray(v) for k, v in request.inputs.items()}


def warmup_requests(
    model: str,
    sigs: Mapping[str, SignatureDoc],
    batch: int,
    points: int,
    ranges: Mapping[str, tuple[float, float]],
    n_classes: int,
) -> list[Any]:
    """One request of :func:`example_inputs` per signature of ``sigs`` (seed = its position)."""
    return [
        make_predict_request(model, k, example_inputs(s, batch, points, seed=i, ranges=ranges, n_classes=n_classes))
        for i, (k, s) in enumerate(sigs.items())
    ]


def example_inputs(
    sig: SignatureDoc,
    batch: int = 2,
    points: int = 50,
    seed: int = 0,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    n_classes: int = 8,
) -> dict[str, np.ndarray]:
    """Valid inputs for ``sig`` (used as warmup requests, in tests and in the benchmark).

    ``batch`` curves of ``points`` points; class indices cycle through ``range(n_classes)``.
    Physical parameters are drawn inside their training ``ranges`` (name -> (min, max) in
    physical units); times are HJD-like (2 450 000 + up to 1000 d) to exercise float64 phases.
    """
    rng = np.random.default_rng(seed)
    ranges = dict(ranges or {})
    out: dict[str, np.ndarray] = {}
    defaults = {
        "teff": (5000.0, 8000.0),
        "abs_gmag": (-1.0, 3.0),
        "period": (0.3, 10.0),
        "radius": (1.0, 50.0),
        "lum": (1.0, 1000.0),
        "bp_rp": (0.3, 1.5),
    }
    for t in sig.inputs:
        n, dtype = t.name, t.dtype
        if n in ranges or n in defaults:
            lo, hi = ranges.get(n, defaults.get(n))
            if not (np.isfinite(lo) and np.isfinite(hi)):
                lo, hi = defaults.get(n, (0.0, 1.0))
            v = rng.uniform(lo, hi, size=batch)
            if n == "period":
                v = np.maximum(v, 1e-3)
        elif n == "dummy":
            v = rng.uniform(0.0, 1.0, size=batch)
        elif n == "class_index":
            v = np.arange(batch) % n_classes
        elif n == "class_onehot":
            v = np.eye(t.shape[1])[np.arange(batch) % t.shape[1]]
        elif n == "z":
            v = rng.standard_normal((batch, t.shape[1]))
        elif n == "phase":
            v = rng.uniform(0.0, 1.0, size=(batch, points))
            if sig.model == "decoder":
                v = np.sort(v, axis=1)
        elif n == "times":
            v = 2450000.0 + np.sort(rng.uniform(0.0, 1000.0, size=(batch, points)), axis=1)
        elif n == "t0":
            v = 2450000.0 + rng.uniform(0.0, 1.0, size=batch)
        elif n == "mag_mean":
            v = rng.uniform(12.0, 18.0, size=batch)
        elif n == "amplitude":
            v = rng.uniform(0.1, 1.0, size=batch)
        elif n == "seed":
            v = np.arange(batch) + 1000 * seed
        else:  # pragma: no cover - every documented input is covered above
            raise ValueError(f"no example value for input {n!r}")
        out[n] = np.asarray(v).astype(dtype)
    return out
