"""Built-in sky: synthetic training stars grounded in real catalogues (OGLE-III, Gaia), ``pelsvae sky``.

Public names are imported lazily (:func:`pelsvae_tf._lazy.lazy_exports`): importing this package
does not load TensorFlow.
"""

from pelsvae_tf._lazy import lazy_exports

_EXPORTS = {
    "log": "sky",
    "CATALOG_COLUMNS": "sky",
    "TRUTH_COLUMNS": "sky",
    "SKY_TIME_START": "sky",
    "CONTACT_SUBTYPES": "sky",
    "ECL_TYPICAL_DEPTH": "sky",
    "RR_TEFF_SPLIT": "sky",
    "RR_TEFF_WIDTH": "sky",
    "SURVEYS": "sky",
    "SEMI_DETACHED_FRAC_NC": "sky",
    "rrlyrae_shape_truth": "sky",
    "SkyConfig": "sky",
    "sky_samples": "sky",
    "fourier_shape": "sky",
    "double_wave": "sky",
    "eclipses": "sky",
    "pulsator_template": "sky",
    "fourier_series": "sky",
    "binary_flux": "sky",
    "draw_binary": "sky",
    "damped_random_walk": "sky",
    "stochastic_phase": "sky",
    "blazhko": "sky",
    "eros1_error": "sky",
    "ERROR_SCATTER_DEX": "sky",
    "survey_error": "sky",
    "ogle_error": "sky",
    "ogle_cadence": "sky",
    "simulate_star": "sky",
    "format_ogle_dat": "sky",
    "build_sky": "sky",
    "read_truth": "sky",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
