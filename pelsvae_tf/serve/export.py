"""Export a trained run as TensorFlow Serving SavedModels (``pelsvae export``).

``export_run(run_dir, out="saved_models")`` writes, for one new version ``N``::

    saved_models/
      models.config                       # TF Serving ModelServerConfig (text proto) listing all models
      decoder/N/                          # (z, class one-hot, phase) -> scaled mag, err
      regressor_mlp/N/                    # raw physical parameters + dummy -> z   (Keras MLP)
      regressor_forest/N/                 # raw physical parameters + dummy -> z   (YDF, SimpleML ops)
      generator/N/                        # physics + class + times + ... + seed -> magnitudes
        saved_model.pb, variables/, assets/
        assets.extra/tf_serving_warmup_requests   # PredictionLog TFRecords (tensorflow_serving.apis)
        assets.extra/pelsvae_export.json          # signatures, classes, units, source run

Every version directory is written with :func:`pelsvae_tf.atomic.atomic_dir`, so TF Serving (which
polls the base paths) never sees half a model. Without ``version`` the next free integer (over all
models) is used; with an explicit ``version`` a model already exported there from the same run is
kept (an interrupted export is resumed) and one from another run is an error.

The signatures (names, dtypes, units) are defined in :mod:`pelsvae_tf.serve.signatures`. Inputs
are validated inside the graph with ``tf.debugging`` asserts where cheap: the rank and fixed
dimensions of every input, at least one point per light curve (T >= 1), batch sizes that agree,
non-finite values, non-positive period or amplitude, class index out of range, one-hot rows that
are not one class. TF Serving checks only dtypes against the signature and returns these
messages (each naming the input, the expected shape or range and the fix) as INVALID_ARGUMENT /
HTTP 400 errors.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from pelsvae_tf.atomic import atomic_dir, atomic_write_text, sha256_file
from pelsvae_tf.config import ConfigBase
from pelsvae_tf.serve.signatures import (
    SignatureDoc,
    decoder_signature,
    generator_signatures,
    regressor_signature,
)

#: Model names under ``saved_models/`` (TF Serving model names), in export order.
MODEL_NAMES: tuple[str, ...] = ("decoder", "regressor_mlp", "regressor_forest", "generator")

#: Ops of the YDF / TF-DF inference kernels. They are not in the stock TensorFlow op registry but
#: are linked into TensorFlow Serving since 2.11 (tensorflow_serving/model_servers: TF-DF ops).
SIMPLEML_OPS: frozenset[str] = frozenset(
    {
        "SimpleMLCreateModelResource",
        "SimpleMLLoadModelFromPath",
        "SimpleMLLoadModelFromPathWithHandle",
        "SimpleMLInferenceOp",
        "SimpleMLInferenceOpWithHandle",
        "SimpleMLInferenceLeafIndexOp",
        "SimpleMLInferenceLeafIndexOpWithHandle",
        "SimpleMLInferenceOpWithHandleV2",
        "YggdrasilDistributeGradientBoostedTreesWorker",
    }
)

WARMUP_FILE = "tf_serving_warmup_requests"
EXPORT_INFO_FILE = "pelsvae_export.json"


@dataclass
class ExportConfig(ConfigBase):
    """Options of :func:`export_run`.

    Attributes:
        models: which SavedModels to write (subset of :data:`MODEL_NAMES`).
        base_path: directory where ``out`` is mounted inside the TF Serving container; written
            into ``models.config`` as ``base_path: "<base_path>/<name>"`` (must be absolute).
        warmup_batch: light curves per warmup request.
        warmup_points: points (times/phases) per warmup light curve.
        generator_regressor: regressor used inside the ``generator`` graph: ``"mlp"`` (default,
            plain TF ops) or ``"forest"`` (YDF SimpleML ops, also served natively by TF Serving).
        num_versions: ``model_version_policy { latest { num_versions } }`` in ``models.config``.
        chunk_points: the generator decodes its batch in chunks of about this many points
            (curves x times), bounding memory for 10,000-curve requests.
    """

    models: tuple[str, ...] = MODEL_NAMES
    base_path: str = "/models"
    warmup_batch: int = 2
    warmup_points: int = 50
    generator_regressor: str = "mlp"  # = pelsvae_tf.generate.generator.DEFAULT_REGRESSOR (tested)
    num_versions: int = 1
    chunk_points: int = 9600

    def __post_init__(self) -> None:
        self.models = tuple(self.models)
        unknown = [m for m in self.models if m not in MODEL_NAMES]
        if unknown or not self.models:
            raise ValueError(f"ExportConfig.models: {list(self.models)} invalid; choose from {list(MODEL_NAMES)}")
        if not str(self.base_path).startswith("/"):
            raise ValueError(
                f"ExportConfig.base_path={self.base_path!r} must be absolute (TF Serving requires it), e.g. /models"
            )
        if self.warmup_batch < 1 or self.warmup_points < 1:
            raise ValueError("ExportConfig.warmup_batch and warmup_points must be >= 1")
        if self.generator_regressor not in ("density", "mlp", "forest", "linear"):  # every kind samples in-graph
            raise ValueError(
                f"ExportConfig.generator_regressor={self.generator_regressor!r}; expected 'density', 'mlp', "
                "'forest' or 'linear'"
            )
        if self.num_versions < 1:
            raise ValueError("ExportConfig.num_versions must be >= 1")
        if self.chunk_points < 1:
            raise ValueError("ExportConfig.chunk_points must be >= 1 (points decoded per chunk)")


# =============================================================================================
# Versions and TF Serving config


def existing_versions(model_dir: str | Path) -> list[int]:
    """Integer version sub-directories of ``model_dir`` (TF Serving's layout), sorted ascending."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        return []
    return sorted(int(p.name) for p in model_dir.iterdir() if p.is_dir() and re.fullmatch(r"\d+", p.name))


def next_version(out: str | Path, models: Sequence[str] = MODEL_NAMES) -> int:
    """The next free version number: 1 + the largest version of any of ``models`` under ``out``."""
    latest = [v for m in models for v in existing_versions(Path(out) / m)]
    return (max(latest) if latest else 0) + 1


def models_config_text(names: Sequence[str], base_path: str = "/models", num_versions: int = 1) -> str:
    """TF Serving ``--model_config_file`` text proto (ModelServerConfig) serving ``names``."""
    lines = ["model_config_list {"]
    for name in names:
        lines += [
            "  config {",
            f'    name: "{name}"',
            f'    base_path: "{base_path.rstrip("/")}/{name}"',
            '    model_platform: "tensorflow"',
            f"    model_version_policy {{ latest {{ num_versions: {int(num_versions)} }} }}",
            "  }",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_models_config(out: str | Path, base_path: str = "/models", num_versions: int = 1) -> Path:
    """Write ``out/models.config`` listing every model directory present under ``out`` (atomic).

    The text is parsed back with ``tensorflow_serving.config.model_server_config_pb2`` before it is
    written, so a malformed file is never produced.
    """
    out = Path(out)
    names = [m for m in MODEL_NAMES if existing_versions(out / m)]
    if out.is_dir():  # other models kept in the same root stay listed
        names += sorted(p.name for p in out.iterdir() if p.is_dir() and p.name not in names and existing_versions(p))
    text = models_config_text(names, base_path, num_versions)
    parse_models_config(text)
    return atomic_write_text(out / "models.config", text)


def parse_models_config(text: str):
    """Parse a ``models.config`` text proto into ``ModelServerConfig`` (raises ValueError if invalid)."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    cfg = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(text, cfg)
    except text_format.ParseError as exc:
        raise ValueError(f"models.config is not a valid ModelServerConfig text proto: {exc}") from exc
    return cfg


# =============================================================================================
# Warmup requests


def make_predict_request(model: str, signature: str, inputs: Mapping[str, np.ndarray], version: int | None = None):
    """A ``tensorflow_serving.apis.predict_pb2.PredictRequest`` for ``inputs`` (numpy arrays)."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

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
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    path = Path(version_dir) / "assets.extra" / WARMUP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for req in requests:
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=req))
            writer.write(log.SerializeToString())
    return path


def read_warmup(version_dir: str | Path) -> list[Any]:
    """Read back the ``PredictRequest`` of every warmup record of an exported version."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

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
    import tensorflow as tf

    return {k: tf.make_ndarray(v) for k, v in request.inputs.items()}


# =============================================================================================
# Op registry check


def saved_model_ops(saved_model_dir: str | Path) -> set[str]:
    """Names of every op in every graph and function of a SavedModel (parsed from saved_model.pb)."""
    from tensorflow.core.protobuf import saved_model_pb2

    path = Path(saved_model_dir) / "saved_model.pb"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; is {saved_model_dir} a SavedModel version directory?")
    sm = saved_model_pb2.SavedModel.FromString(path.read_bytes())
    ops: set[str] = set()
    for mg in sm.meta_graphs:
        ops.update(n.op for n in mg.graph_def.node)
        for fn in mg.graph_def.library.function:
            ops.update(n.op for n in fn.node_def)
    return ops


def load_saved_model(version_dir: str | Path):
    """``tf.saved_model.load`` of an exported version that first registers the decision-forest ops
    (``import ydf_tf``) when the model uses them (``regressor_forest``, or a generator with the
    forest inside), so plain TensorFlow users do not meet "Op type not registered
    'SimpleMLLoadModelFromPathWithHandle'". ``ImportError`` naming the package when it is missing."""
    import tensorflow as tf

    if saved_model_ops(version_dir) & SIMPLEML_OPS:
        try:
            import ydf_tf  # noqa: F401  (registers the SimpleML inference ops in this process)
        except ImportError as exc:
            raise ImportError(f"{version_dir} uses YDF decision-forest ops: pip install ydf-tf==2.21.0.post1 "
                              "(stock TF Serving has them built in)") from exc
    return tf.saved_model.load(str(version_dir))


def unregistered_ops(ops: Sequence[str] | set[str], allowed: frozenset[str] = SIMPLEML_OPS) -> list[str]:
    """Ops absent from the op registry of THIS process and not in ``allowed``.

    Call it in a process that imported only ``tensorflow`` to check against the stock registry
    (importing ``ydf_tf`` registers the SimpleML ops too).
    """
    from tensorflow.python.framework import op_def_registry

    return sorted(op for op in ops if op_def_registry.get(op) is None and op not in allowed)


# =============================================================================================
# Graph modules


def _tf():
    import tensorflow as tf

    return tf


def _assert_finite(x, what: str):
    tf = _tf()
    return tf.debugging.assert_all_finite(x, f"{what} contains NaN or infinity; send finite numbers")


def _phase_checks(phase) -> list:
    tf = _tf()
    msg = "phase must lie in [0, 1] cycles (fold times with the period first, or send times)"
    return [
        _assert_finite(phase, "phase"),
        tf.debugging.assert_non_negative(phase, message=msg),
        tf.debugging.assert_less_equal(phase, tf.constant(1.0, phase.dtype), message=msg),
    ]


def _runtime_shape(x):
    """Shape of ``x`` as an int64 vector whose length (the rank) is known only at run time.

    The signature's ``TensorSpec`` fixes the rank statically, so ``tf.rank``/``tf.shape`` checks
    would be folded to constants (by TF's Python layer and by Grappler) and never run. TF Serving
    feeds whatever tensor a request carries, so the rank must be measured in the running graph:
    the ``tf.where`` on the (always non-negative) dimensions hides the length from shape inference.
    """
    tf = _tf()
    s = tf.raw_ops.Shape(input=x, out_type=tf.int64)
    return tf.gather(s, tf.where(s >= 0)[:, 0])


def _shape_str(t) -> str:
    names = {0: "B", 1: "T"}
    return "[" + ", ".join(names.get(i, "?") if d is None else str(d) for i, d in enumerate(t.shape)) + "]"


def _shape_meaning(t) -> str:
    """What one row of input ``t`` (a :class:`TensorDoc`) holds, and how to send it."""
    what = f"{t.doc}, {t.unit}" if t.unit else t.doc
    if t.rank == 1:
        return f"one value per light curve ({what}); send a flat list of B numbers"
    if t.shape[1] is None:
        return f"one row of T >= 1 values per light curve ({what}); send a list of B rows"
    return f"one row of {t.shape[1]} values per light curve ({what}); send a list of B rows of {t.shape[1]}"


def _input_shape_checks(sig: SignatureDoc, x: Mapping[str, Any]) -> list:
    """Run-time checks of every input of ``sig``: rank, fixed dimensions, T >= 1 points for
    light-curve tensors, and one batch size (light curves) for all inputs.

    Each message names the input, the expected shape and the fix, and ends with the shape that
    was sent. The rank asserts run before anything that indexes a shape (control dependencies),
    so a wrong rank never surfaces as an out-of-bounds slice deep in the graph.
    """
    tf = _tf()
    shapes = {t.name: _runtime_shape(x[t.name]) for t in sig.inputs}
    rank_checks = [
        tf.debugging.Assert(
            tf.equal(tf.size(shapes[t.name]), t.rank),
            [f"input {t.name} must have rank {t.rank}, shape {_shape_str(t)}: {_shape_meaning(t)}. Got shape",
             shapes[t.name]],
            summarize=8,
        )
        for t in sig.inputs
    ]
    checks = list(rank_checks)
    with tf.control_dependencies(rank_checks):
        for t in sig.inputs:
            s = shapes[t.name]
            for i, d in enumerate(t.shape):
                if d is not None:
                    checks.append(tf.debugging.Assert(
                        tf.equal(s[i], d),
                        [f"input {t.name} must have shape {_shape_str(t)} (dimension {i} = {d}): "
                         f"{_shape_meaning(t)}. Got shape", s],
                        summarize=8,
                    ))
            if t.rank == 2 and t.shape[1] is None:
                checks.append(tf.debugging.Assert(
                    tf.greater_equal(s[1], 1),
                    [f"input {t.name} has no points (shape [B, 0]); send at least one value per light curve "
                     f"(T >= 1). Got shape", s],
                    summarize=8,
                ))
        ref = sig.inputs[0]
        for t in sig.inputs[1:]:
            checks.append(tf.debugging.Assert(
                tf.equal(shapes[t.name][0], shapes[ref.name][0]),
                [f"input {t.name} has a different batch size than {ref.name} (dimension 0 = number of light "
                 f"curves); give every input one row per light curve. Batch sizes of {t.name} and {ref.name}",
                 shapes[t.name][0], shapes[ref.name][0]],
            ))
    return checks


def _onehot_checks(onehot) -> list:
    """Finite, non-negative rows that sum to 1 (one class per light curve)."""
    tf = _tf()
    fix = "send one 1 and zeros per row (or use class_index)"
    return [
        _assert_finite(onehot, "class_onehot"),
        tf.debugging.assert_non_negative(onehot, message=f"class_onehot must be >= 0 in every column; {fix}"),
        tf.debugging.assert_near(
            tf.reduce_sum(onehot, axis=1), tf.ones_like(onehot[:, 0]), atol=1e-3,
            message=f"class_onehot rows must sum to 1 (one class per light curve); {fix}",
        ),
    ]


def _make_module(name: str):
    tf = _tf()
    return type(name, (tf.Module,), {})()


def _bind(module, attr: str, fn: Callable, sig: SignatureDoc):
    """Attach ``fn(**inputs)`` to ``module`` as a ``tf.function`` with the signature's TensorSpecs.

    The inputs reach ``fn`` only after :func:`_input_shape_checks` (rank, fixed dimensions,
    T >= 1, batch sizes) has passed.
    """
    tf = _tf()
    names = sig.input_names

    def call(*args):
        x = dict(zip(names, args))
        # every op of ``fn`` reads the inputs through these identities, so it runs after the checks
        with tf.control_dependencies(_input_shape_checks(sig, x)):
            x = {k: tf.identity(v) for k, v in x.items()}
        return fn(x)

    call.__name__ = attr
    wrapped = tf.function(call, input_signature=sig.tf_specs(), autograph=False)
    setattr(module, attr, wrapped)
    return wrapped


class _DecoderGraph:
    """Graph function of the ``decoder`` SavedModel: the curve's phase function in decoder units.

    Each curve is decoded once on the phase grid and evaluated at the requested phases by
    periodic interpolation (:class:`~pelsvae_tf.generate.phase_function.PhaseFunction`), so the output at
    a phase depends only on the phase, ``z`` and the class, never on the other phases requested.
    """

    def __init__(self, phase_function):
        self.phase_function = phase_function

    def __call__(self, x: Mapping[str, Any]) -> dict:
        tf = _tf()
        z, onehot, phase = x["z"], x["class_onehot"], x["phase"]
        checks = [_assert_finite(z, "z")] + _onehot_checks(onehot) + _phase_checks(phase)
        with tf.control_dependencies(checks):
            out = self.phase_function.scaled_at(z, onehot, phase)
        return {"mag": tf.identity(out["mag"], name="mag"), "err": tf.identity(out["err"], name="err")}


def _class_index_checks(ci, n_classes: int) -> list:
    tf = _tf()
    return [
        tf.debugging.assert_non_negative(ci, message="class_index must be >= 0"),
        tf.debugging.assert_less(
            ci, tf.constant(n_classes, ci.dtype), message=f"class_index must be < {n_classes} (number of classes)"
        ),
    ]


def _scale_physics(x: Mapping[str, Any], physics: Sequence[str], shift: np.ndarray, scale: np.ndarray):
    """Raw physics (dict name -> [B], physical units) -> scaled [B, P] float32: the run's
    ``PhysicsScaler`` affine map ``(v - shift) / scale``, done in float64."""
    tf = _tf()
    cols = [(tf.cast(x[n], tf.float64) - shift[j]) / scale[j] for j, n in enumerate(physics)]
    return tf.cast(tf.stack(cols, axis=1), tf.float32)


class _RegressorGraph:
    """Graph function raw physics + dummy -> z, wrapping a scaled-input latent function."""

    def __init__(self, physics: Sequence[str], shift: np.ndarray, scale: np.ndarray, latent_fn: Callable,
                 dummy: bool, use_class: bool, n_classes: int):
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
        """Scaled physics [B, P] float32 (:func:`_scale_physics`)."""
        return _scale_physics(x, self.physics, self.shift, self.scale)

    def __call__(self, x: Mapping[str, Any]) -> dict:
        tf = _tf()
        checks = _positive_checks(x, self.physics)
        if self.dummy:
            d = x["dummy"]
            checks.append(_assert_finite(d, "dummy"))
            checks.append(
                tf.debugging.assert_non_negative(d, message="dummy must lie in [0, 1] (a U(0, 1) draw)")
            )
            checks.append(
                tf.debugging.assert_less_equal(d, tf.constant(1.0, d.dtype), message="dummy must lie in [0, 1] (a U(0, 1) draw)")
            )
        onehot = None
        if self.use_class:
            ci = x["class_index"]
            checks += _class_index_checks(ci, self.n_classes)
            onehot = tf.one_hot(ci, self.n_classes, dtype=tf.float32)
        with tf.control_dependencies(checks):
            z = self.latent(x, x.get("dummy"), onehot)
        return {"z": tf.identity(z, name="z")}


def phase_from_times(times, t0, period, xp=np):
    """Phase in [0, 1) of ``times`` [B, T] (days) for ``t0`` and ``period`` [B] (days), in float64."""
    if xp is np:
        x = (np.asarray(times, np.float64) - np.asarray(t0, np.float64)[:, None]) / np.asarray(period, np.float64)[:, None]
        return np.mod(x, 1.0).astype(np.float32)
    tf = _tf()
    x = (times - t0[:, None]) / period[:, None]
    return tf.cast(tf.math.floormod(x, tf.constant(1.0, tf.float64)), tf.float32)


def _positive_checks(x: Mapping[str, Any], names: Sequence[str]) -> list:
    """Finite values, and > 0 for the physically positive ones (``classes.POSITIVE_PARAMS``)."""
    from pelsvae_tf.classes import PHYSICS_PARAMS, POSITIVE_PARAMS

    tf = _tf()
    checks = []
    for n in names:
        checks.append(_assert_finite(x[n], n))
        if n in POSITIVE_PARAMS:
            unit = PHYSICS_PARAMS[n][1] if n in PHYSICS_PARAMS else "mag"
            word = "days" if unit == "d" else unit
            checks.append(tf.debugging.assert_positive(x[n], message=f"{n} must be > 0 {word}"))
    return checks


class _SamplerGraph:
    """Raw physics (dict name -> [B] float64) + class one-hot + per-curve seed -> z [B, D]: the
    run's ``PhysicsScaler`` affine map (float64) then the regressor's graph sampler
    (:func:`pelsvae_tf.regress.graph.graph_sampler`, the twin of ``PhysicsRegressor.sample``)."""

    def __init__(self, physics: Sequence[str], shift: np.ndarray, scale: np.ndarray, sampler: Callable, dummy: bool):
        self.physics = tuple(physics)
        self.shift = np.asarray(shift, np.float64)
        self.scale = np.asarray(scale, np.float64)
        self.sampler = sampler
        self.dummy = bool(dummy)

    def sample(self, raw: Mapping[str, Any], onehot, seed):
        """z [B, D] float32 (latent units)."""
        return self.sampler(_scale_physics(raw, self.physics, self.shift, self.scale), onehot, seed)


class _GeneratorGraph:
    """Graph function of the end-to-end ``generator``: physics -> z -> phase function -> magnitudes.

    Each signature validates its own inputs and turns times into phases / indices into one-hot,
    then calls one shared ``tf.function`` (``core``), which calls the shared
    :class:`~pelsvae_tf.generate.phase_function.PhaseFunction` (the same path as the in-process
    :class:`~pelsvae_tf.generate.generator.Generator`), so the SavedModel holds the decoder graph once.
    ``ranges`` [C, P, 2] (per class and physical parameter, min and max of the training stars)
    gives the ``in_training_range`` output.
    """

    def __init__(self, regressor: "_SamplerGraph", phase_function, n_classes: int, ranges: np.ndarray):
        tf = _tf()
        self.regressor = regressor
        self.phase_function = phase_function
        self.n_classes = n_classes
        self.ranges = np.asarray(ranges, np.float64)
        f32 = tf.float32
        self.core = tf.function(
            self._core,
            input_signature=[tf.TensorSpec([None, len(regressor.physics)], tf.float64),
                             tf.TensorSpec([None, n_classes], f32), tf.TensorSpec([None, None], f32),
                             tf.TensorSpec([None], f32), tf.TensorSpec([None], f32), tf.TensorSpec([None], tf.int64)],
            autograph=False,
        )

    def _core(self, phys, onehot, phase, mag_mean, amplitude, seed):
        """Validated inputs -> outputs: raw physics [B, P] float64, one-hot [B, C], phase [B, T]."""
        from pelsvae_tf.counter_rng import STREAM_DUMMY, uniform_tf

        tf = _tf()
        b = tf.shape(phase)[0]
        reg_in = {n: phys[:, j] for j, n in enumerate(self.regressor.physics)}
        dummy = uniform_tf(seed, STREAM_DUMMY, tf.zeros([b], tf.uint32))
        z = self.regressor.sample(reg_in, onehot, seed)
        out = self.phase_function.render(z, onehot, phase, mag_mean, amplitude, seed)
        lab = tf.argmax(onehot, axis=1)
        rng = tf.gather(tf.constant(self.ranges), lab)  # [B, P, 2]
        inside = tf.reduce_all((phys >= rng[:, :, 0]) & (phys <= rng[:, :, 1]), axis=1)
        return {"mag": out["mag"], "mag_model": out["mag_model"], "err": out["err"], "phase": phase,
                "mag_min": out["mag_min"], "scaled_mag": out["scaled_mag"], "scaled_err": out["scaled_err"],
                "dummy": dummy if self.regressor.dummy else tf.fill([b], tf.constant(np.nan, tf.float32)),
                "z": z, "in_training_range": tf.cast(inside, tf.int32)}

    def __call__(self, x: Mapping[str, Any]) -> dict:
        tf = _tf()
        period, seed = x["period"], x["seed"]
        mag_mean, amplitude = x["mag_mean"], x["amplitude"]
        phys_names = self.regressor.physics
        checks = _positive_checks(x, list(dict.fromkeys(list(phys_names) + ["period", "amplitude"])))
        checks.append(_assert_finite(mag_mean, "mag_mean"))
        if "class_index" in x:
            ci = x["class_index"]
            checks += _class_index_checks(ci, self.n_classes)
        else:
            onehot = x["class_onehot"]
            checks += _onehot_checks(onehot)
        if "times" in x:
            checks.append(_assert_finite(x["times"], "times"))
            checks.append(_assert_finite(x["t0"], "t0"))
        else:
            checks += _phase_checks(x["phase"])
        with tf.control_dependencies(checks):
            if "times" in x:
                phase = phase_from_times(x["times"], x["t0"], period, xp=tf)
            else:
                phase = tf.identity(x["phase"])
            if "class_index" in x:
                onehot = tf.one_hot(x["class_index"], self.n_classes, dtype=tf.float32)
            phys = tf.stack([tf.cast(period if n == "period" else x[n], tf.float64) for n in phys_names], axis=1)
            out = self.core(phys, onehot, phase, mag_mean, amplitude, seed)
        return {k: tf.identity(v, name=k) for k, v in out.items()}


# =============================================================================================
# Regressor graph functions (the in-graph twins of PhysicsRegressor.predict)


def _regressor_graph(regressor, scaler, n_classes: int, temp_dir: str | None = None) -> tuple[_RegressorGraph, list]:
    """Wrap a fitted ``PhysicsRegressor`` (mlp or forest) as a graph function; returns it and the
    TF objects (Keras model / YDF functions) that the SavedModel must track. ``temp_dir`` holds the
    YDF model files until the SavedModel has copied them into its assets."""
    tf = _tf()
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
    graph = _RegressorGraph(physics, shift, scale, latent_fn, bool(regressor.config.dummy), use_class, n_classes)
    return graph, tracked


def regressor_reference(regressor, scaler, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
    """In-process twin of the ``regressor_*`` SavedModel: ``regressor.predict`` on scaled raw inputs."""
    physics = tuple(regressor.physics)
    raw = np.stack([np.asarray(inputs[n], np.float64) for n in physics], axis=1)
    scaled = scaler.transform(raw, physics)
    labels = np.asarray(inputs["class_index"]) if regressor.config.use_class else None
    return regressor.predict(scaled, dummy=inputs.get("dummy"), labels=labels)


# =============================================================================================
# Example / warmup inputs


def example_inputs(sig: SignatureDoc, batch: int = 2, points: int = 50, seed: int = 0,
                   ranges: Mapping[str, tuple[float, float]] | None = None, n_classes: int = 8) -> dict[str, np.ndarray]:
    """Valid inputs for ``sig`` (used as warmup requests, in tests and in the benchmark).

    ``batch`` curves of ``points`` points; class indices cycle through ``range(n_classes)``.
    Physical parameters are drawn inside their training ``ranges`` (name -> (min, max) in
    physical units); times are HJD-like (2 450 000 + up to 1000 d) to exercise float64 phases.
    """
    rng = np.random.default_rng(seed)
    ranges = dict(ranges or {})
    out: dict[str, np.ndarray] = {}
    defaults = {"teff": (5000.0, 8000.0), "abs_gmag": (-1.0, 3.0), "period": (0.3, 10.0),
                "radius": (1.0, 50.0), "lum": (1.0, 1000.0), "bp_rp": (0.3, 1.5)}
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


# =============================================================================================
# Writing SavedModels


def _write_servable(version_dir: Path, module, fns: Mapping[str, Any], sigs: Mapping[str, SignatureDoc],
                    info: Mapping[str, Any], warmup: Sequence[Any]) -> Path:
    """Save ``module`` with signatures ``fns`` (name -> tf.function), warmup and info, atomically."""
    tf = _tf()
    with atomic_dir(version_dir) as tmp:
        tf.saved_model.save(module, str(tmp), signatures={k: f.get_concrete_function() for k, f in fns.items()})
        write_warmup(tmp, warmup)
        doc = dict(info)
        doc["signatures"] = {k: s.to_dict() for k, s in sigs.items()}
        (tmp / "assets.extra" / EXPORT_INFO_FILE).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return version_dir


def read_export_info(version_dir: str | Path) -> dict[str, Any]:
    """``assets.extra/pelsvae_export.json`` of an exported version (signatures, classes, source)."""
    path = Path(version_dir) / "assets.extra" / EXPORT_INFO_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; {version_dir} was not written by `pelsvae export`")
    return json.loads(path.read_text())


def signature_docs(version_dir: str | Path) -> dict[str, SignatureDoc]:
    """The documented signatures stored with an exported version."""
    return {k: SignatureDoc.from_dict(v) for k, v in read_export_info(version_dir)["signatures"].items()}


def decoder_dims(decoder) -> tuple[int, int]:
    """(latent_dim D, n_classes C) of a contract decoder (dict inputs ``z``, ``class_onehot``, ``phase``)."""
    inp = getattr(decoder, "input", None)
    if not isinstance(inp, dict) or not {"z", "class_onehot", "phase"} <= set(inp):
        raise ValueError(
            "decoder must be the functional Keras decoder with dict inputs {'z','class_onehot','phase'} "
            "(pelsvae_tf.model.vae.build_decoder / load_run(...).decoder)"
        )
    return int(inp["z"].shape[-1]), int(inp["class_onehot"].shape[-1])


def export_models(
    out: str | Path,
    decoder,
    classes: Sequence[str],
    scaler,
    regressors: Mapping[str, Any],
    version: int | None = None,
    config: ExportConfig | None = None,
    source: Mapping[str, Any] | None = None,
    n_grid: int = 300,
    train_stats: Mapping[str, np.ndarray] | None = None,
    model_config=None,
) -> dict[str, Any]:
    """Write the SavedModels of ``config.models`` for one decoder + fitted regressors.

    Args:
        out: TF Serving model root (``saved_models``).
        decoder: the trained Keras decoder (``{"z","class_onehot","phase"} -> {"mag","err"}``).
        classes: class names in one-hot order.
        scaler: the run's ``PhysicsScaler`` (raw physical units -> regressor inputs).
        regressors: ``{"mlp": PhysicsRegressor, "forest": PhysicsRegressor}`` (those needed).
        version: version number; ``None`` = next free one.
        config: :class:`ExportConfig`.
        source: provenance written into ``pelsvae_export.json`` (run dir, file hashes); a model
            already at ``version`` with the same ``source`` is kept (resume), another is an error.
        n_grid: phase-grid points of the decoded curves (the decoder's training ``seq_len``).
        train_stats: the run's ``train_stats.npz`` (per-class training ranges of the
            generator's ``in_training_range`` output; without it, the scaler's ranges).
        model_config: the decoder's ``ModelConfig`` (the graphs then run the direct TCN
            inference graph, :func:`pelsvae_tf.model.vae.inference_decoder_fn`).

    Returns ``{"version": N, "models": {name: path}, "models_config": path, "kept": [names]}``.
    """
    from pelsvae_tf import __version__

    tf = _tf()
    config = config or ExportConfig()
    out = Path(out)
    source = dict(source or {})
    version = next_version(out, config.models) if version is None else int(version)
    if version < 1:
        raise ValueError(f"version must be a positive integer (TF Serving version directory), got {version}")
    latent_dim, n_classes = decoder_dims(decoder)
    if len(classes) != n_classes:
        raise ValueError(f"{len(classes)} class names given but the decoder takes a {n_classes}-class one-hot")
    base_info = {
        "format": "pelsvae-export",
        "format_version": 1,
        "version": version,
        "classes": list(classes),
        "latent_dim": latent_dim,
        "physics_scaler": scaler.to_dict(),
        "source": source,
        "pelsvae_tf": __version__,
        "tensorflow": tf.__version__,
    }
    ranges = {n: scaler.range(n) for n in scaler.names}
    from pelsvae_tf.generate.phase_function import PhaseFunction

    phase_function = PhaseFunction(decoder, n_grid=n_grid, chunk_points=config.chunk_points,
                                   model_config=model_config)
    base_info["n_grid"] = int(n_grid)
    written: dict[str, str] = {}
    kept: list[str] = []
    graphs: dict[str, tuple[_RegressorGraph, list]] = {}

    def regressor_graph(kind: str):
        if kind not in graphs:
            if kind not in regressors or regressors[kind] is None:
                raise FileNotFoundError(
                    f"no fitted {kind!r} regressor to export; run `pelsvae regress RUN_DIR --kinds {kind}` "
                    "or leave the model out of ExportConfig.models"
                )
            graphs[kind] = _regressor_graph(regressors[kind], scaler, n_classes, ydf_tmp)
        return graphs[kind]

    from tqdm.auto import tqdm

    # YDF -> TF conversion keeps its model files in ydf_tmp until the SavedModels have copied them.
    with tempfile.TemporaryDirectory(prefix="pelsvae_export_ydf_") as ydf_tmp:
        for name in tqdm(config.models, desc="export", unit="model"):
            vdir = out / name / str(version)
            if vdir.exists():
                try:
                    prev = read_export_info(vdir).get("source")
                except FileNotFoundError:
                    prev = None
                if source and prev == json.loads(json.dumps(source)):
                    kept.append(name)
                    written[name] = str(vdir)
                    continue
                raise ValueError(
                    f"{vdir} already exists from another export; omit --version to write version "
                    f"{next_version(out, config.models)} or remove that directory"
                )
            module = _make_module(f"pelsvae_{name}")
            info = dict(base_info, model=name)
            if name == "decoder":
                sig = decoder_signature(latent_dim, n_classes)
                module.decoder = decoder
                fn = _bind(module, "serve", _DecoderGraph(phase_function), sig)
                sigs, fns = {"serving_default": sig}, {"serving_default": fn}
            elif name.startswith("regressor_"):
                kind = name.split("_", 1)[1]
                graph, tracked = regressor_graph(kind)
                reg = regressors[kind]
                sig = regressor_signature(name, graph.physics, latent_dim, graph.dummy, n_classes if graph.use_class else None)
                module.tracked = list(tracked)
                fn = _bind(module, "serve", graph, sig)
                sigs, fns = {"serving_default": sig}, {"serving_default": fn}
                info["regressor"] = {"kind": kind, "physics": list(graph.physics), "config": reg.config.to_dict()}
            else:  # generator
                from pelsvae_tf.regress.graph import graph_sampler

                kind = config.generator_regressor
                if kind not in regressors or regressors[kind] is None:
                    raise FileNotFoundError(
                        f"no fitted {kind!r} regressor for the generator; run `pelsvae regress RUN_DIR --kinds {kind}` "
                        "or set ExportConfig.generator_regressor to a fitted kind")
                reg = regressors[kind]
                sampler, tracked = graph_sampler(reg, temp_dir=ydf_tmp)
                shift, scale = scaler._affine(reg.physics)
                graph = _SamplerGraph(reg.physics, shift, scale, sampler, bool(reg.config.dummy))
                sigs = generator_signatures(graph.physics, n_classes, latent_dim)
                module.decoder = decoder
                module.tracked = list(tracked)
                info["regressor"] = {"kind": kind, "physics": list(graph.physics), "config": reg.config.to_dict()}
                from pelsvae_tf.generate.generator import class_range

                table = np.asarray([[class_range(train_stats, scaler, c, p) for p in graph.physics]
                                    for c in range(n_classes)], np.float64)
                table = np.nan_to_num(table, nan=0.0, posinf=np.finfo(np.float64).max, neginf=-np.finfo(np.float64).max)
                gen = _GeneratorGraph(graph, phase_function, n_classes, table)
                fns = {k: _bind(module, k, gen, s) for k, s in sigs.items()}
            warm = [
                make_predict_request(
                name, k, example_inputs(s, config.warmup_batch, config.warmup_points, seed=i, ranges=ranges,
                                        n_classes=n_classes)
            )
                for i, (k, s) in enumerate(sigs.items())
            ]
            _write_servable(vdir, module, fns, sigs, info, warm)
            written[name] = str(vdir)
    cfg_path = write_models_config(out, config.base_path, config.num_versions)
    return {"version": version, "models": written, "models_config": str(cfg_path), "kept": kept}


def export_run(run_dir: str | Path, out: str | Path = "saved_models", version: int | None = None,
               config: ExportConfig | None = None) -> dict[str, Any]:
    """Export a trained run (``pelsvae train`` + ``pelsvae regress``) for TensorFlow Serving.

    Reads ``RUN_DIR/model.keras`` (decoder), ``physics_scaler.json`` and the fitted regressors in
    ``RUN_DIR/regressors/{mlp,forest}``; writes ``out/<name>/<version>/`` for each model of
    ``config.models`` and ``out/models.config``. See :func:`export_models` for the return value.
    """
    from pelsvae_tf.regress.regressors import load_regressor
    from pelsvae_tf.train import load_run

    run_dir = Path(run_dir)
    if not (run_dir / "model.keras").exists():
        raise FileNotFoundError(f"{run_dir} has no model.keras; train a model first with `pelsvae train`")
    config = config or ExportConfig()
    run = load_run(run_dir)
    needed = {m.split("_", 1)[1] for m in config.models if m.startswith("regressor_")}
    if "generator" in config.models:
        needed.add(config.generator_regressor)
    regressors = {}
    source: dict[str, Any] = {"run_dir": str(run_dir.resolve()), "model_sha256": sha256_file(run_dir / "model.keras")}
    for kind in sorted(needed):
        rdir = run_dir / "regressors" / kind
        if not (rdir / "regressor.json").exists():
            raise FileNotFoundError(
                f"{rdir} holds no fitted regressor; run `pelsvae regress {run_dir} --kinds {kind}` before exporting"
            )
        regressors[kind] = load_regressor(rdir)
        source[f"regressor_{kind}_sha256"] = sha256_file(rdir / "regressor.json")
    stats_path = run_dir / "regressors" / "train_stats.npz"
    stats = None
    if stats_path.exists():
        with np.load(stats_path, allow_pickle=False) as z:
            stats = {k: z[k] for k in z.files}
        source["train_stats_sha256"] = sha256_file(stats_path)
    return export_models(out, run.decoder, run.classes, run.physics_scaler, regressors, version, config, source,
                         n_grid=int(run.model_config.seq_len), train_stats=stats, model_config=run.model_config)


# =============================================================================================
# CLI


def _run_cli(args: argparse.Namespace) -> int:
    cfg = ExportConfig(
        models=tuple(args.models.split(",")) if args.models else MODEL_NAMES,
        base_path=args.base_path,
        warmup_batch=args.warmup_batch,
        warmup_points=args.warmup_points,
        generator_regressor=args.generator_regressor,
        num_versions=args.num_versions,
    )
    res = export_run(args.run_dir, args.out, args.version, cfg)
    for name, path in res["models"].items():
        print(f"{name:18s} version {res['version']}: {path}{' (kept)' if name in res['kept'] else ''}")
    print(f"models.config: {res['models_config']}")
    return 0


def register(subparsers) -> None:
    """Add ``pelsvae export RUN_DIR --out saved_models/ [--version N]``."""
    p = subparsers.add_parser(
        "export",
        help="write TF Serving SavedModels (decoder, regressors, generator) + models.config + warmup",
        description=(
            "Export a trained run for TensorFlow Serving: saved_models/<name>/<version>/ for decoder, "
            "regressor_mlp, regressor_forest and generator, a models.config listing them and warmup requests."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("run_dir", help="run directory written by `pelsvae train` and `pelsvae regress`")
    p.add_argument("--out", default="saved_models", help="TF Serving model root (one sub-directory per model)")
    p.add_argument("--version", type=int, default=None,
                   help="version number to write; None = the next free one (an existing version from the same run is kept)")
    p.add_argument("--models", default=None, help=f"comma-separated subset of {','.join(MODEL_NAMES)}; None = all")
    p.add_argument("--base-path", default="/models",
                   help="absolute path of --out inside the TF Serving container, written into models.config")
    p.add_argument("--generator-regressor", default="mlp", choices=("mlp", "forest"),
                   help="regressor used inside the generator graph")
    p.add_argument("--warmup-batch", type=int, default=2, help="light curves per warmup request")
    p.add_argument("--warmup-points", type=int, default=50, help="points per warmup light curve")
    p.add_argument("--num-versions", type=int, default=1,
                   help="versions TF Serving keeps loaded (model_version_policy latest num_versions)")
    p.set_defaults(func=_run_cli)
