"""The PELS-VAE network, in reading order: ``config`` (``ModelConfig``), ``layers``, ``losses``,
``causal_conv`` (the TCN's fast training kernels), ``temporal`` (TCN / RNN stacks), ``build`` (encoder / decoder), ``vae`` (``PELSVAE``), ``inference``.

Public names are imported lazily (:func:`pelsvae_tf._lazy.lazy_exports`): importing this package
does not load TensorFlow.
"""

from pelsvae_tf._lazy import lazy_exports

_EXPORTS = {
    "tfd": "layers",
    "TIME_ENCODINGS": "config",
    "FOURIER_HARMONICS": "layers",
    "time_tag_width": "layers",
    "SequenceFeatures": "layers",
    "TimeTaggedRepeat": "layers",
    "SqueezeLast": "layers",
    "gaussian_kl": "layers",
    "GaussianLatent": "layers",
    "LOSS_KINDS": "losses",
    "REFERENCE_KL_DIVISOR": "losses",
    "DEFAULT_ERR_FLOOR": "config",
    "VARIANCE_EPS": "losses",
    "weighted_mse": "losses",
    "mse": "losses",
    "error_kl": "losses",
    "loss_terms": "losses",
    "ARCHS": "config",
    "TCN_CHANNELS": "config",
    "RF_CHECKS": "config",
    "TCN_NORMS": "config",
    "METRIC_NAMES": "vae",
    "ModelConfig": "config",
    "build_encoder": "build",
    "build_decoder": "build",
    "static_subsample_problem": "inference",
    "INFERENCE_CHUNK": "inference",
    "direct_graph_supported": "inference",
    "inference_decoder_fn": "inference",
    "decode_chunked": "inference",
    "PELSVAE": "vae",
    "build_pelsvae": "vae",
    "count_params": "vae",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
