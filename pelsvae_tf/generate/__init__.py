"""Generation: phase function, cadences, ``Generator`` / ``GeneratedLightCurves``, classifier augmentation.

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
    "PHYSICS_UNITS": "generator",
    "PhysicsRangeWarning": "generator",
    "check_physical": "generator",
    "GeneratedLightCurves": "generator",
    "DEFAULT_REGRESSOR": "generator",
    "PROGRESS_MIN_CURVES": "generator",
    "stats_column": "generator",
    "class_range": "generator",
    "sample_latents": "generator",
    "Generator": "generator",
    "MIN_PTP": "phase_function",
    "CHUNK_POINTS": "phase_function",
    "grid_phases": "phase_function",
    "interpolate_periodic": "phase_function",
    "PhaseFunction": "phase_function",
    "curve_model_stats": "phase_function",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
