"""Data layer: survey readers, light-curve container, cleaning, streaming prepare, prepared datasets.

Modules in pipeline order: :mod:`~pelsvae_tf.data.readers` (OGLE ``.dat``, CSV curves, OGLE-III
catalogue, x-match tables) and :mod:`~pelsvae_tf.data.eros1`; :mod:`~pelsvae_tf.data.lightcurve`
(``LightCurve``); :mod:`~pelsvae_tf.data.cleaning` (S/N, clipping, folding, undersampling,
min-max scaling); the preparation: :mod:`~pelsvae_tf.data.config` (``PrepareConfig``, TF-free),
:mod:`~pelsvae_tf.data.catalog`, :mod:`~pelsvae_tf.data.clean_chunks` (pass 1),
:mod:`~pelsvae_tf.data.split_plan` (split, caps, augmentation plan),
:mod:`~pelsvae_tf.data.shards` (the on-disk format, shard read/write, ``ShardWriter``),
:mod:`~pelsvae_tf.data.fingerprint` (resume keys), :mod:`~pelsvae_tf.data.prepare` (the two
passes); reading it back: :mod:`~pelsvae_tf.data.scaler` (``PhysicsScaler``),
:mod:`~pelsvae_tf.data.dataset` (``PreparedDataset``, ``write_prepared``) and
:mod:`~pelsvae_tf.data.tfdata` (``tf.data`` pipelines; the only module here importing TensorFlow).

Public names are imported lazily (:func:`pelsvae_tf._lazy.lazy_exports`): importing this package
does not load TensorFlow.
"""

from pelsvae_tf._lazy import lazy_exports

_EXPORTS = {
    "SNR_METHODS": "cleaning",
    "CLIP_MODES": "cleaning",
    "SHORT_POLICIES": "cleaning",
    "check_curve": "cleaning",
    "variability_amplitude": "cleaning",
    "snr": "cleaning",
    "fold_phase": "cleaning",
    "phase_running_median": "cleaning",
    "sigma_clip": "cleaning",
    "undersample": "cleaning",
    "resample_to_length": "cleaning",
    "minmax_range": "cleaning",
    "minmax_scale": "cleaning",
    "inverse_minmax_scale": "cleaning",
    "augment_folded": "cleaning",
    "FORMAT_NAME": "shards",
    "FORMAT_VERSION": "shards",
    "SPLITS": "shards",
    "PHYSICS_COLUMNS": "shards",
    "STAR_ID_DTYPE": "shards",
    "STAR_ID_MIN_WIDTH": "shards",
    "star_id_array": "shards",
    "SHARD_ARRAYS": "shards",
    "PhysicsScaler": "scaler",
    "validate_arrays": "shards",
    "shard_name": "shards",
    "write_shard": "shards",
    "read_shard": "shards",
    "concat_arrays": "shards",
    "empty_arrays": "shards",
    "split_summary": "shards",
    "write_prepared": "dataset",
    "make_schema": "shards",
    "PreparedDataset": "dataset",
    "LightCurve": "lightcurve",
    "FoldedLightCurve": "lightcurve",
    "STRICT_REASONS": "config",
    "CUT_REASONS": "config",
    "PHASE_ZERO": "config",
    "WORK_DIR": "config",
    "PrepareConfig": "config",
    "PrepareError": "config",
    "load_catalog": "catalog",
    "max_light_t0": "clean_chunks",
    "clean_curve": "clean_chunks",
    "split_stars": "split_plan",
    "apply_caps": "split_plan",
    "augmentation_plan": "split_plan",
    "ShardWriter": "shards",
    "FINGERPRINT_VERSION": "fingerprint",
    "source_digest": "fingerprint",
    "fingerprint_differences": "fingerprint",
    "prepare": "prepare",
    "OGLE_MISSING": "readers",
    "OGLE_TIME_OFFSET": "readers",
    "XMATCH_COLUMNS": "readers",
    "LightCurveError": "readers",
    "read_ogle_dat": "readers",
    "read_csv_lightcurve": "readers",
    "read_lightcurve": "readers",
    "default_ogle3_catalog_path": "readers",
    "read_ogle3_catalog": "readers",
    "read_ogle_table": "readers",
    "read_xmatch": "readers",
    "list_photometry": "readers",
    "EROS1_TYPES": "eros1",
    "EROS1_FILL": "eros1",
    "read_eros1": "eros1",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
