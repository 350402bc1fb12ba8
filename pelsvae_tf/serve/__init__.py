"""Export for TensorFlow Serving: signatures, graphs, in-graph checks, warm-up, versions.

Read in pipeline order: ``config`` (ExportConfig), ``signatures``, ``checks``, ``decoder_graph``,
``regressor_graph``, ``generator_graph``, ``warmup``, ``provenance``, ``versions``,
``model_config`` (TF Serving's models.config), ``export`` (export_run, load_saved_model).

Public names are imported lazily (:func:`pelsvae_tf._lazy.lazy_exports`): importing this package
does not load TensorFlow.
"""

from pelsvae_tf._lazy import lazy_exports

_EXPORTS = {
    "MODEL_NAMES": "config",
    "SIMPLEML_OPS": "export",
    "WARMUP_FILE": "warmup",
    "EXPORT_INFO_FILE": "provenance",
    "ExportConfig": "config",
    "existing_versions": "versions",
    "next_version": "versions",
    "models_config_text": "model_config",
    "write_models_config": "model_config",
    "parse_models_config": "model_config",
    "make_predict_request": "warmup",
    "write_warmup": "warmup",
    "read_warmup": "warmup",
    "request_arrays": "warmup",
    "saved_model_ops": "export",
    "load_saved_model": "export",
    "unregistered_ops": "export",
    "phase_from_times": "generator_graph",
    "regressor_reference": "regressor_graph",
    "example_inputs": "warmup",
    "read_export_info": "provenance",
    "signature_docs": "provenance",
    "decoder_dims": "decoder_graph",
    "export_models": "export",
    "export_run": "export",
    "DTYPES": "signatures",
    "TensorDoc": "signatures",
    "SignatureDoc": "signatures",
    "physics_inputs": "signatures",
    "decoder_signature": "signatures",
    "regressor_signature": "signatures",
    "generator_signatures": "signatures",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
