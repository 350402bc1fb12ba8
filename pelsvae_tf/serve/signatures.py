"""The documented serving signatures of the exported SavedModels (one source of truth).

:func:`pelsvae_tf.serve.checks.bind` builds the ``tf.TensorSpec`` input signatures from these specs, the REST
and gRPC clients in ``serving/`` validate and encode requests with them, and the contract tests
compare ``saved_model_cli show --all`` against them. Every input has a fixed dtype, a dynamic
batch dimension (and a dynamic time dimension for light-curve tensors) and a unit.

Models (TF Serving names) and their ``serving_default`` signature:

* ``decoder``: ``z`` [B, D] + ``class_onehot`` [B, C] + ``phase`` [B, T] -> scaled ``mag``, ``err`` [B, T].
* ``regressor_mlp`` / ``regressor_forest``: one float64 [B] input per physical parameter (raw
  units: teff K, abs_gmag mag, period d, ...) + ``dummy`` [B] in (0, 1) -> latent ``z`` [B, D].
* ``generator``: physical parameters + ``class_index`` + ``times`` [B, T] (days) + ``period`` +
  ``t0`` + ``mag_mean`` + ``amplitude`` + ``seed`` -> light curves in magnitudes. Extra signatures
  ``generate_onehot`` (``class_onehot`` instead of ``class_index``) and ``generate_phase``
  (``phase`` [B, T] instead of ``times``/``t0``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

import numpy as np

from pelsvae_tf.classes import PHYSICS_PARAMS

#: dtype names allowed in signatures (TF Serving DataType names in lower case).
DTYPES = ("float32", "float64", "int32", "int64")


@dataclasses.dataclass(frozen=True)
class TensorDoc:
    """One named tensor of a signature: dtype, shape (``None`` = dynamic), unit and meaning."""

    name: str
    dtype: str
    shape: tuple[int | None, ...]
    unit: str
    doc: str

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"tensor {self.name!r}: dtype {self.dtype!r} not in {DTYPES}")

    @property
    def rank(self) -> int:
        """Number of dimensions (the first is the batch dimension)."""
        return len(self.shape)

    def tf_spec(self):
        """The ``tf.TensorSpec`` used as input signature of the exported function."""
        import tensorflow as tf

        return tf.TensorSpec(shape=list(self.shape), dtype=getattr(tf, self.dtype), name=self.name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable description."""
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape), "unit": self.unit, "doc": self.doc}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TensorDoc":
        """Inverse of :meth:`to_dict`."""
        return cls(d["name"], d["dtype"], tuple(d["shape"]), d.get("unit", ""), d.get("doc", ""))


@dataclasses.dataclass(frozen=True)
class SignatureDoc:
    """A serving signature: model name, signature name, ordered inputs and outputs."""

    model: str
    signature: str
    inputs: tuple[TensorDoc, ...]
    outputs: tuple[TensorDoc, ...]

    @property
    def input_names(self) -> tuple[str, ...]:
        """Names of the inputs, in signature order."""
        return tuple(t.name for t in self.inputs)

    @property
    def output_names(self) -> tuple[str, ...]:
        """Names of the outputs."""
        return tuple(t.name for t in self.outputs)

    def tf_specs(self) -> list:
        """Input ``tf.TensorSpec`` list in signature order (for ``tf.function(input_signature=...)``)."""
        return [t.tf_spec() for t in self.inputs]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable description (written to ``assets.extra/pelsvae_signatures.json``)."""
        return {
            "model": self.model,
            "signature": self.signature,
            "inputs": [t.to_dict() for t in self.inputs],
            "outputs": [t.to_dict() for t in self.outputs],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "SignatureDoc":
        """Inverse of :meth:`to_dict`."""
        return cls(
            d["model"],
            d["signature"],
            tuple(TensorDoc.from_dict(t) for t in d["inputs"]),
            tuple(TensorDoc.from_dict(t) for t in d["outputs"]),
        )

    def validate(self, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Check and convert a request's inputs; returns ``{name: ndarray}`` of the declared dtypes.

        Raises ``ValueError`` naming the field and the fix for a missing or unknown input, a value
        of the wrong kind (e.g. a float for an integer input), a wrong rank, a fixed dimension of
        the wrong size, or inputs whose batch sizes disagree.
        """
        if not isinstance(inputs, Mapping):
            raise ValueError(
                f"{self.model}/{self.signature}: inputs must be a mapping name -> array, got {type(inputs).__name__}"
            )
        missing = [n for n in self.input_names if n not in inputs]
        unknown = sorted(set(inputs) - set(self.input_names))
        if missing or unknown:
            raise ValueError(
                f"{self.model}/{self.signature}: missing input(s) {missing} and unknown input(s) {unknown}; "
                f"the signature takes exactly {list(self.input_names)}"
            )
        out: dict[str, np.ndarray] = {}
        batch: dict[str, int] = {}
        for t in self.inputs:
            arr = np.asarray(inputs[t.name])
            out[t.name] = _convert(self, t, arr)
            if out[t.name].ndim:
                batch[t.name] = out[t.name].shape[0]
        if len(set(batch.values())) > 1:
            raise ValueError(
                f"{self.model}/{self.signature}: inputs disagree on the batch size (first dimension): {batch}; "
                "give every input one row per light curve"
            )
        return out


def _convert(sig: SignatureDoc, t: TensorDoc, arr: np.ndarray) -> np.ndarray:
    where = f"{sig.model}/{sig.signature} input {t.name!r}"
    if arr.dtype == object or arr.dtype.kind in "USb":
        raise ValueError(f"{where}: expected numbers of dtype {t.dtype}, got {arr.dtype} values")
    if arr.ndim != t.rank:
        raise ValueError(f"{where}: expected rank {t.rank} (shape {_shape_str(t.shape)}), got shape {tuple(arr.shape)}")
    for i, (want, got) in enumerate(zip(t.shape, arr.shape)):
        if want is not None and want != got:
            raise ValueError(f"{where}: dimension {i} must be {want} (shape {_shape_str(t.shape)}), got {got}")
    if t.dtype.startswith("int"):
        if arr.dtype.kind == "f":
            if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
                raise ValueError(f"{where}: expected integers ({t.dtype}), got non-integral floats")
        elif arr.dtype.kind not in "iu":
            raise ValueError(f"{where}: expected integers ({t.dtype}), got {arr.dtype}")
        info = np.iinfo(t.dtype)
        if arr.size and (arr.min() < info.min or arr.max() > info.max):
            raise ValueError(f"{where}: values out of the {t.dtype} range")
    elif arr.dtype.kind not in "fiu":
        raise ValueError(f"{where}: expected floating-point numbers ({t.dtype}), got {arr.dtype}")
    return arr.astype(t.dtype, copy=False)


def _shape_str(shape: Sequence[int | None]) -> str:
    return "[" + ", ".join("?" if s is None else str(s) for s in shape) + "]"


# ---------------------------------------------------------------------------------------------
# The documented signatures.


def physics_inputs(physics: Sequence[str]) -> tuple[TensorDoc, ...]:
    """One float64 [B] input per physical parameter, in raw units (see ``classes.PHYSICS_PARAMS``)."""
    docs = []
    for name in physics:
        if name not in PHYSICS_PARAMS:
            raise ValueError(f"unknown physical parameter {name!r}: expected some of {list(PHYSICS_PARAMS)}")
        _, unit, desc = PHYSICS_PARAMS[name]
        docs.append(TensorDoc(name, "float64", (None,), unit, desc))
    return tuple(docs)


def decoder_signature(latent_dim: int, n_classes: int) -> SignatureDoc:
    """``decoder`` serving_default: (latent z, class one-hot, phase) -> scaled magnitude and error."""
    return SignatureDoc(
        "decoder",
        "serving_default",
        (
            TensorDoc("z", "float32", (None, latent_dim), "", "latent vector"),
            TensorDoc("class_onehot", "float32", (None, n_classes), "", "one-hot variability class"),
            TensorDoc("phase", "float32", (None, None), "cycles", "phase of each point in [0, 1)"),
        ),
        (
            TensorDoc("mag", "float32", (None, None), "", "min-max scaled magnitude in [0, 1] (1 = faintest)"),
            TensorDoc("err", "float32", (None, None), "", "scaled error (error / peak-to-peak amplitude)"),
        ),
    )


def regressor_signature(
    model: str, physics: Sequence[str], latent_dim: int, dummy: bool = True, n_classes: int | None = None
) -> SignatureDoc:
    """``regressor_mlp`` / ``regressor_forest`` serving_default: raw physical parameters (+ dummy,
    + class index when the regressor was fitted with the class as input) -> z."""
    inputs = physics_inputs(physics)
    if dummy:
        inputs = inputs + (TensorDoc("dummy", "float32", (None,), "", "U(0, 1) variability dimension"),)
    if n_classes is not None:
        inputs = inputs + (TensorDoc("class_index", "int32", (None,), "", f"class index in [0, {n_classes})"),)
    return SignatureDoc(
        model,
        "serving_default",
        inputs,
        (TensorDoc("z", "float32", (None, latent_dim), "", "predicted latent vector"),),
    )


def generator_signatures(physics: Sequence[str], n_classes: int, latent_dim: int) -> dict[str, SignatureDoc]:
    """The three ``generator`` signatures: ``serving_default``, ``generate_onehot``, ``generate_phase``."""
    phys = tuple(p for p in physics_inputs(physics) if p.name != "period")
    period = TensorDoc("period", "float64", (None,), "d", "period in days (> 0)")
    common_tail = (
        period,
        TensorDoc("mag_mean", "float32", (None,), "mag", "phase-averaged magnitude of the noise-free model curve"),
        TensorDoc("amplitude", "float32", (None,), "mag", "peak-to-peak of the noise-free model curve (> 0)"),
        TensorDoc(
            "seed",
            "int64",
            (None,),
            "",
            "per-curve random seed (latent draw and noise); "
            "pelsvae_tf.counter_rng.curve_seeds(s, n) gives what Generator.generate(seed=s) uses",
        ),
    )
    class_index = TensorDoc("class_index", "int32", (None,), "", f"class index in [0, {n_classes})")
    class_onehot = TensorDoc("class_onehot", "float32", (None, n_classes), "", "one-hot variability class")
    times = TensorDoc("times", "float64", (None, None), "d", "observation times in days (e.g. HJD - 2450000)")
    t0 = TensorDoc("t0", "float64", (None,), "d", "epoch of phase zero in days (same scale as times)")
    phase = TensorDoc("phase", "float32", (None, None), "cycles", "phase of each point in [0, 1)")
    outputs = (
        TensorDoc(
            "mag",
            "float32",
            (None, None),
            "mag",
            "mag_model + err * N(0, 1) and the intrinsic jitter (one noise draw from seed)",
        ),
        TensorDoc("mag_model", "float32", (None, None), "mag", "noise-free model magnitude at each time"),
        TensorDoc("err", "float32", (None, None), "mag", "generated photometric error at each time"),
        TensorDoc("phase", "float32", (None, None), "cycles", "phase of each time in [0, 1)"),
        TensorDoc("mag_min", "float32", (None,), "mag", "brightest magnitude of the noise-free model curve"),
        TensorDoc("scaled_mag", "float32", (None, None), "", "decoder output at each time (phase function, [0, 1])"),
        TensorDoc("scaled_err", "float32", (None, None), "", "decoder error output at each time (scaled)"),
        TensorDoc("dummy", "float32", (None,), "", "U(0, 1) dummy fed to the regressor (from seed; NaN if none)"),
        TensorDoc("z", "float32", (None, latent_dim), "", "latent vector fed to the decoder"),
        TensorDoc(
            "in_training_range",
            "int32",
            (None,),
            "",
            "1 if every physical parameter lies inside the class's training range, else 0",
        ),
        TensorDoc(
            "jitter",
            "float32",
            (None, 3),
            "",
            "intrinsic jitter in mag's noise draw: phase rms [cycles], amplitude rms [fraction], "
            "white rms [fraction of amplitude] (a training star of the class, drawn from seed)",
        ),
    )
    return {
        "serving_default": SignatureDoc(
            "generator", "serving_default", phys + (class_index, times, t0) + common_tail, outputs
        ),
        "generate_onehot": SignatureDoc(
            "generator", "generate_onehot", phys + (class_onehot, times, t0) + common_tail, outputs
        ),
        "generate_phase": SignatureDoc(
            "generator", "generate_phase", phys + (class_index, phase) + common_tail, outputs
        ),
    }
