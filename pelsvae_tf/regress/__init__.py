"""Physics -> latent regressors (paper's linear / forest / MLP, residual mode, TFP density), their graphs.

Public names are imported lazily (:func:`pelsvae_tf._lazy.lazy_exports`): importing this package
does not load TensorFlow.
"""

from pelsvae_tf._lazy import lazy_exports

_EXPORTS = {
    "LOG_2PI": "density",
    "tril_layout": "density",
    "mixture_log_prob_np": "density",
    "choose_component_np": "density",
    "DensityRegressor": "density",
    "ClassGaussian": "density",
    "hdr_coverage": "density",
    "density_scores": "density",
    "graph_sampler": "graph",
    "log": "regressors",
    "KINDS": "regressors",
    "POINT_KINDS": "regressors",
    "ALL_KINDS": "regressors",
    "STREAM_LATENT": "regressors",
    "STREAM_COMPONENT": "regressors",
    "DEFAULT_KINDS": "regressors",
    "LATENT_NOISE": "regressors",
    "DENSITY_TARGETS": "regressors",
    "PAPER_TABLE3": "regressors",
    "SPLIT_CODES": "regressors",
    "RegressorConfig": "regressors",
    "expand_rows": "regressors",
    "PhysicsRegressor": "regressors",
    "LinearRegressor": "regressors",
    "ForestRegressor": "regressors",
    "MLPRegressor": "regressors",
    "REGRESSOR_CLASSES": "regressors",
    "make_regressor": "regressors",
    "load_regressor": "regressors",
    "read_run_config": "regressors",
    "run_model_physics": "regressors",
    "default_physics": "regressors",
    "regressor_name": "regressors",
    "load_latents": "regressors",
    "load_physics_scaler": "regressors",
    "regression_arrays": "regressors",
    "rmse": "regressors",
    "dummy_averaged_prediction": "regressors",
    "write_train_stats": "regressors",
    "fit_regressors": "regressors",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
