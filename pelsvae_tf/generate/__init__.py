"""Generation: phase function, cadences, ``Generator`` / ``GeneratedLightCurves``, classifier augmentation.

Modules in pipeline order: ``cadence`` (times and phases), ``checks`` (input, physical and
training-range checks), ``conditions`` (sampled physics, latents, magnitudes), ``phase_function``
(decoder -> curve of phase, TensorFlow), ``curves`` (``GeneratedLightCurves``), ``generator``
(``Generator``), ``stream`` (``generate_to`` files), ``augment`` (classifier augmentation).

Public names are imported lazily (:func:`pelsvae_tf._lazy.lazy_exports`): importing this package
does not load TensorFlow.
"""

from pelsvae_tf._lazy import lazy_exports

_EXPORTS = {
    "REPRESENTATIONS": "augment",
    "scale_like_prepared": "augment",
    "synthetic_batch": "augment",
    "synthetic_dataset": "augment",
    "AugmentExperimentConfig": "augment",
    "build_classifier": "augment",
    "augmentation_experiment": "augment",
    "YEAR_DAYS": "cadence",
    "to_phase": "cadence",
    "Cadence": "cadence",
    "phases": "cadence",
    "survey_cadence": "cadence",
    "parse_cadence": "cadence",
    "PHYSICS_UNITS": "checks",
    "PhysicsRangeWarning": "checks",
    "check_physical": "checks",
    "stats_column": "checks",
    "class_range": "checks",
    "in_training_range": "checks",
    "check_ranges": "checks",
    "DEFAULT_REGRESSOR": "conditions",
    "sample_latents": "conditions",
    "sample_rows": "conditions",
    "magnitude_meta": "conditions",
    "GeneratedLightCurves": "curves",
    "MAX_RESULT_BYTES": "stream",
    "generate_to": "stream",
    "PROGRESS_MIN_CURVES": "generator",
    "Generator": "generator",
    "MIN_PTP": "phase_function",
    "CHUNK_POINTS": "phase_function",
    "grid_phases": "phase_function",
    "interpolate_periodic": "phase_function",
    "PhaseFunction": "phase_function",
    "curve_model_stats": "phase_function",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
