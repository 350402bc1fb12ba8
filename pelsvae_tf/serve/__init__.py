"""Export for TensorFlow Serving: signatures, graphs, in-graph checks, warm-up, versions.

Public names are imported lazily (:func:`pelsvae_tf._lazy.lazy_exports`): importing this package
does not load TensorFlow.
"""

from pelsvae_tf._lazy import lazy_exports

_EXPORTS = {
    "MODEL_NAMES": "export",
    "SIMPLEML_OPS": "export",
    "WARMUP_FILE": "export",
    "EXPORT_INFO_FILE": "export",
    "ExportConfig": "export",
    "existing_versions": "export",
    "next_version": "export",
    "models_config_text": "export",
    "write_models_config": "export",
    "parse_models_config": "export",
    "make_predict_request": "export",
    "write_warmup": "export",
    "read_warmup": "export",
    "request_arrays": "export",
    "saved_model_ops": "export",
    "load_saved_model": "export",
    "unregistered_ops": "export",
    "phase_from_times": "export",
    "regressor_reference": "export",
    "example_inputs": "export",
    "read_export_info": "export",
    "signature_docs": "export",
    "decoder_dims": "export",
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
