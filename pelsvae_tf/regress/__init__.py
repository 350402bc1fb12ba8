"""Physics -> latent regressors (paper's linear / forest / MLP, residual modes, TFP density), their graphs.

Modules in pipeline order: :mod:`~pelsvae_tf.regress.config` (``RegressorConfig``, kind names;
TensorFlow-free), :mod:`~pelsvae_tf.regress.base` (the ``PhysicsRegressor`` interface, sampling
contract, residual modes), :mod:`~pelsvae_tf.regress.regressors` (linear / forest / mlp,
``make_regressor``, ``load_regressor``), :mod:`~pelsvae_tf.regress.mixture` and
:mod:`~pelsvae_tf.regress.density` (the TFP mixture density kind),
:mod:`~pelsvae_tf.regress.calibration` (NLL / coverage scores, per-class Gaussian baseline),
:mod:`~pelsvae_tf.regress.fit` (run-level fitting), :mod:`~pelsvae_tf.regress.train_stats`,
:mod:`~pelsvae_tf.regress.table3` and :mod:`~pelsvae_tf.regress.graph` (TF-graph sampler).

Public names are imported lazily (:func:`pelsvae_tf._lazy.lazy_exports`): importing this package
does not load TensorFlow.
"""

from pelsvae_tf._lazy import lazy_exports

_EXPORTS = {
    "LOG_2PI": "mixture",
    "tril_layout": "mixture",
    "mixture_log_prob_np": "mixture",
    "choose_component_np": "mixture",
    "DensityRegressor": "density",
    "ClassGaussian": "calibration",
    "hdr_coverage": "calibration",
    "density_scores": "calibration",
    "graph_sampler": "graph",
    "log": "fit",
    "KINDS": "config",
    "POINT_KINDS": "config",
    "ALL_KINDS": "config",
    "STREAM_LATENT": "config",
    "STREAM_COMPONENT": "config",
    "DEFAULT_KINDS": "config",
    "LATENT_NOISE": "config",
    "DENSITY_TARGETS": "config",
    "PAPER_TABLE3": "table3",
    "SPLIT_CODES": "fit",
    "RegressorConfig": "config",
    "expand_rows": "base",
    "PhysicsRegressor": "base",
    "LinearRegressor": "regressors",
    "ForestRegressor": "regressors",
    "MLPRegressor": "regressors",
    "REGRESSOR_CLASSES": "regressors",
    "make_regressor": "regressors",
    "load_regressor": "regressors",
    "read_run_config": "fit",
    "run_model_physics": "fit",
    "default_physics": "fit",
    "regressor_name": "fit",
    "load_latents": "fit",
    "load_physics_scaler": "fit",
    "regression_arrays": "fit",
    "rmse": "fit",
    "dummy_averaged_prediction": "fit",
    "write_train_stats": "train_stats",
    "fit_regressors": "fit",
    "train_stats_current": "train_stats",
    "write_table3": "table3",
    "table3_markdown": "table3",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
