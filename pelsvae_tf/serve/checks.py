"""In-graph input checks of the exported signatures, and binding a graph to a signature.

Inputs are validated inside the graph with ``tf.debugging`` asserts where cheap: the rank and
fixed dimensions of every input, at least one point per light curve (T >= 1), batch sizes that
agree, non-finite values, non-positive period or amplitude, class index out of range, one-hot
rows that are not one class. TF Serving checks only dtypes against the signature and returns
these messages (each naming the input, the expected shape or range and the fix) as
INVALID_ARGUMENT / HTTP 400 errors.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import tensorflow as tf

from pelsvae_tf.classes import PHYSICS_PARAMS, POSITIVE_PARAMS
from pelsvae_tf.serve.signatures import SignatureDoc


def assert_finite(x, what: str):
    """Assert that ``x`` holds no NaN or infinity (message names ``what``)."""
    return tf.debugging.assert_all_finite(x, f"{what} contains NaN or infinity; send finite numbers")


def phase_checks(phase) -> list:
    """Finite phases in [0, 1] cycles."""
    msg = "phase must lie in [0, 1] cycles (fold times with the period first, or send times)"
    return [
        assert_finite(phase, "phase"),
        tf.debugging.assert_non_negative(phase, message=msg),
        tf.debugging.assert_less_equal(phase, tf.constant(1.0, phase.dtype), message=msg),
    ]


def runtime_shape(x):
    """Shape of ``x`` as an int64 vector whose length (the rank) is known only at run time.

    The signature's ``TensorSpec`` fixes the rank statically, so ``tf.rank``/``tf.shape`` checks
    would be folded to constants (by TF's Python layer and by Grappler) and never run. TF Serving
    feeds whatever tensor a request carries, so the rank must be measured in the running graph:
    the ``tf.where`` on the (always non-negative) dimensions hides the length from shape inference.
    """
    s = tf.raw_ops.Shape(input=x, out_type=tf.int64)
    return tf.gather(s, tf.where(s >= 0)[:, 0])


def shape_str(t) -> str:
    """``[B, T, 8]``-style shape of input ``t`` (a :class:`TensorDoc`)."""
    names = {0: "B", 1: "T"}
    return "[" + ", ".join(names.get(i, "?") if d is None else str(d) for i, d in enumerate(t.shape)) + "]"


def shape_meaning(t) -> str:
    """What one row of input ``t`` (a :class:`TensorDoc`) holds, and how to send it."""
    what = f"{t.doc}, {t.unit}" if t.unit else t.doc
    if t.rank == 1:
        return f"one value per light curve ({what}); send a flat list of B numbers"
    if t.shape[1] is None:
        return f"one row of T >= 1 values per light curve ({what}); send a list of B rows"
    return f"one row of {t.shape[1]} values per light curve ({what}); send a list of B rows of {t.shape[1]}"


def input_shape_checks(sig: SignatureDoc, x: Mapping[str, Any]) -> list:
    """Run-time checks of every input of ``sig``: rank, fixed dimensions, T >= 1 points for
    light-curve tensors, and one batch size (light curves) for all inputs.

    Each message names the input, the expected shape and the fix, and ends with the shape that
    was sent. The rank asserts run before anything that indexes a shape (control dependencies),
    so a wrong rank never surfaces as an out-of-bounds slice deep in the graph.
    """
    shapes = {t.name: runtime_shape(x[t.name]) for t in sig.inputs}
    rank_checks = [
        tf.debugging.Assert(
            tf.equal(tf.size(shapes[t.name]), t.rank),
            [
                f"input {t.name} must have rank {t.rank}, shape {shape_str(t)}: {shape_meaning(t)}. Got shape",
                shapes[t.name],
            ],
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
                    checks.append(
                        tf.debugging.Assert(
                            tf.equal(s[i], d),
                            [
                                f"input {t.name} must have shape {shape_str(t)} (dimension {i} = {d}): "
                                f"{shape_meaning(t)}. Got shape",
                                s,
                            ],
                            summarize=8,
                        )
                    )
            if t.rank == 2 and t.shape[1] is None:
                checks.append(
                    tf.debugging.Assert(
                        tf.greater_equal(s[1], 1),
                        [
                            f"input {t.name} has no points (shape [B, 0]); send at least one value per light curve "
                            f"(T >= 1). Got shape",
                            s,
                        ],
                        summarize=8,
                    )
                )
        ref = sig.inputs[0]
        for t in sig.inputs[1:]:
            checks.append(
                tf.debugging.Assert(
                    tf.equal(shapes[t.name][0], shapes[ref.name][0]),
                    [
                        f"input {t.name} has a different batch size than {ref.name} (dimension 0 = number of light "
                        f"curves); give every input one row per light curve. Batch sizes of {t.name} and {ref.name}",
                        shapes[t.name][0],
                        shapes[ref.name][0],
                    ],
                )
            )
    return checks


def onehot_checks(onehot) -> list:
    """Finite, non-negative rows that sum to 1 (one class per light curve)."""
    fix = "send one 1 and zeros per row (or use class_index)"
    return [
        assert_finite(onehot, "class_onehot"),
        tf.debugging.assert_non_negative(onehot, message=f"class_onehot must be >= 0 in every column; {fix}"),
        tf.debugging.assert_near(
            tf.reduce_sum(onehot, axis=1),
            tf.ones_like(onehot[:, 0]),
            atol=1e-3,
            message=f"class_onehot rows must sum to 1 (one class per light curve); {fix}",
        ),
    ]


def make_module(name: str):
    """An empty ``tf.Module`` of a fresh class named ``name`` (one per SavedModel)."""
    return type(name, (tf.Module,), {})()


def bind(module, attr: str, fn: Callable, sig: SignatureDoc):
    """Attach ``fn(**inputs)`` to ``module`` as a ``tf.function`` with the signature's TensorSpecs.

    The inputs reach ``fn`` only after :func:`input_shape_checks` (rank, fixed dimensions,
    T >= 1, batch sizes) has passed.
    """
    names = sig.input_names

    def call(*args):
        x = dict(zip(names, args))
        # every op of ``fn`` reads the inputs through these identities, so it runs after the checks
        with tf.control_dependencies(input_shape_checks(sig, x)):
            x = {k: tf.identity(v) for k, v in x.items()}
        return fn(x)

    call.__name__ = attr
    wrapped = tf.function(call, input_signature=sig.tf_specs(), autograph=False)
    setattr(module, attr, wrapped)
    return wrapped


def class_index_checks(ci, n_classes: int) -> list:
    """Class indices in ``[0, n_classes)``."""
    return [
        tf.debugging.assert_non_negative(ci, message="class_index must be >= 0"),
        tf.debugging.assert_less(
            ci, tf.constant(n_classes, ci.dtype), message=f"class_index must be < {n_classes} (number of classes)"
        ),
    ]


def positive_checks(x: Mapping[str, Any], names: Sequence[str]) -> list:
    """Finite values, and > 0 for the physically positive ones (``classes.POSITIVE_PARAMS``)."""
    checks = []
    for n in names:
        checks.append(assert_finite(x[n], n))
        if n in POSITIVE_PARAMS:
            unit = PHYSICS_PARAMS[n][1] if n in PHYSICS_PARAMS else "mag"
            word = "days" if unit == "d" else unit
            checks.append(tf.debugging.assert_positive(x[n], message=f"{n} must be > 0 {word}"))
    return checks
