"""Built-in sky: synthetic training stars grounded in real catalogues (OGLE-III, Gaia), ``pelsvae sky``.

In reading order: ``config`` (``SkyConfig``), ``catalogue`` (the shipped real-star table),
``pulsators``, ``binaries``, ``lpv`` (light-curve models), ``survey`` (cadences, noise), ``build``
(one star, then the whole sky written atomically).

Public names are imported lazily (:func:`pelsvae_tf._lazy.lazy_exports`): importing this package
does not load TensorFlow.
"""

from pelsvae_tf._lazy import lazy_exports

_EXPORTS = {
    "log": "build",
    "CATALOG_COLUMNS": "build",
    "TRUTH_COLUMNS": "build",
    "SKY_TIME_START": "survey",
    "CONTACT_SUBTYPES": "binaries",
    "ECL_TYPICAL_DEPTH": "build",
    "RR_TEFF_SPLIT": "pulsators",
    "RR_TEFF_WIDTH": "pulsators",
    "SURVEYS": "config",
    "SEMI_DETACHED_FRAC_NC": "binaries",
    "rrlyrae_shape_truth": "pulsators",
    "SkyConfig": "config",
    "sky_samples": "catalogue",
    "survey_magnitudes": "catalogue",
    "fourier_shape": "pulsators",
    "double_wave": "binaries",
    "eclipses": "binaries",
    "pulsator_template": "pulsators",
    "fourier_series": "pulsators",
    "binary_flux": "binaries",
    "draw_binary": "binaries",
    "damped_random_walk": "lpv",
    "stochastic_phase": "lpv",
    "mira_magnitudes": "lpv",
    "MIRA_RISE_FRAC": "lpv",
    "srv_magnitudes": "lpv",
    "SRV_PERIOD_JITTER": "lpv",
    "SRV_AMP_JITTER": "lpv",
    "SRV_TAU_CYCLES": "lpv",
    "lmc_srv_samples": "catalogue",
    "SURVEY_LPV_SRV_FRACTION": "survey",
    "LPV_SHAPES": "config",
    "blazhko": "pulsators",
    "eros1_error": "survey",
    "ERROR_SCATTER_DEX": "survey",
    "survey_error": "survey",
    "survey_noise": "survey",
    "survey_errors": "survey",
    "reported_errors": "survey",
    "survey_class_magnitude": "survey",
    "EROS1_ECL_MEAN_MAG_DECILES": "survey",
    "ogle_error": "survey",
    "ogle_cadence": "survey",
    "eros1_cadence": "survey",
    "moon_distance": "survey",
    "EROS1_MOON_HALF_WIDTH": "survey",
    "SEASON_GAP": "survey",
    "EROS1_SEASONS": "survey",
    "survey_magnitude_shift": "survey",
    "has_field_distance": "survey",
    "field_of": "survey",
    "detection_snr": "build",
    "MAX_DETECTION_DRAWS": "build",
    "simulate_star": "build",
    "format_ogle_dat": "build",
    "build_sky": "build",
    "read_truth": "build",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
