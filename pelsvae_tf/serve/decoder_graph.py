"""The ``decoder`` SavedModel's graph: (z, class one-hot, phase) -> scaled mag, err."""

from __future__ import annotations

from typing import Any, Mapping

import tensorflow as tf

from pelsvae_tf.serve.checks import assert_finite, onehot_checks, phase_checks


def decoder_dims(decoder) -> tuple[int, int]:
    """(latent_dim D, n_classes C) of a contract decoder (dict inputs ``z``, ``class_onehot``, ``phase``)."""
    inp = getattr(decoder, "input", None)
    if not isinstance(inp, dict) or not {"z", "class_onehot", "phase"} <= set(inp):
        raise ValueError(
            "decoder must be the functional Keras decoder with dict inputs {'z','class_onehot','phase'} "
            "(pelsvae_tf.model.build.build_decoder / load_run(...).decoder)"
        )
    return int(inp["z"].shape[-1]), int(inp["class_onehot"].shape[-1])


class DecoderGraph:
    """Graph function of the ``decoder`` SavedModel: the curve's phase function in decoder units.

    Each curve is decoded once on the phase grid and evaluated at the requested phases by
    periodic interpolation (:class:`~pelsvae_tf.generate.phase_function.PhaseFunction`), so the output at
    a phase depends only on the phase, ``z`` and the class, never on the other phases requested.
    """

    def __init__(self, phase_function):
        self.phase_function = phase_function

    def __call__(self, x: Mapping[str, Any]) -> dict:
        z, onehot, phase = x["z"], x["class_onehot"], x["phase"]
        checks = [assert_finite(z, "z")] + onehot_checks(onehot) + phase_checks(phase)
        with tf.control_dependencies(checks):
            out = self.phase_function.scaled_at(z, onehot, phase)
        return {"mag": tf.identity(out["mag"], name="mag"), "err": tf.identity(out["err"], name="err")}
