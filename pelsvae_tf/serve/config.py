"""Options of ``pelsvae export`` (TensorFlow-free: the CLI builds its flags from them).

:data:`MODEL_NAMES` are the TF Serving model names under ``saved_models/``; :class:`ExportConfig`
holds every option of :func:`pelsvae_tf.serve.export.export_run`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pelsvae_tf.config import ConfigBase
from pelsvae_tf.options import REGRESSOR_KINDS

#: Model names under ``saved_models/`` (TF Serving model names), in export order.
MODEL_NAMES: tuple[str, ...] = ("decoder", "regressor_mlp", "regressor_forest", "generator")


@dataclass
class ExportConfig(ConfigBase):
    """Options of :func:`~pelsvae_tf.serve.export.export_run`.

    Attributes:
        models: which SavedModels to write (subset of :data:`MODEL_NAMES`).
        base_path: directory where ``out`` is mounted inside the TF Serving container; written
            into ``models.config`` as ``base_path: "<base_path>/<name>"`` (must be absolute).
        warmup_batch: light curves per warmup request.
        warmup_points: points (times/phases) per warmup light curve.
        generator_regressor: regressor used inside the ``generator`` graph: ``"mlp"`` (default,
            plain TF ops) or ``"forest"`` (YDF SimpleML ops, also served natively by TF Serving).
        num_versions: ``model_version_policy { latest { num_versions } }`` in ``models.config``.
        chunk_points: the generator decodes its batch in chunks of about this many points
            (curves x times), bounding memory for 10,000-curve requests.
    """

    models: tuple[str, ...] = MODEL_NAMES
    base_path: str = "/models"
    warmup_batch: int = 2
    warmup_points: int = 50
    generator_regressor: str = "mlp"  # = pelsvae_tf.generate.generator.DEFAULT_REGRESSOR (tested)
    num_versions: int = 1
    chunk_points: int = 19200  # = pelsvae_tf.generate.phase_function.CHUNK_POINTS (tested)

    def __post_init__(self) -> None:
        self.models = tuple(self.models)
        unknown = [m for m in self.models if m not in MODEL_NAMES]
        if unknown or not self.models:
            raise ValueError(f"ExportConfig.models: {list(self.models)} invalid; choose from {list(MODEL_NAMES)}")
        if not str(self.base_path).startswith("/"):
            raise ValueError(
                f"ExportConfig.base_path={self.base_path!r} must be absolute (TF Serving requires it), e.g. /models"
            )
        if self.warmup_batch < 1 or self.warmup_points < 1:
            raise ValueError("ExportConfig.warmup_batch and warmup_points must be >= 1")
        if self.generator_regressor not in REGRESSOR_KINDS:  # every kind samples in-graph
            raise ValueError(
                f"ExportConfig.generator_regressor={self.generator_regressor!r}; expected 'density', 'mlp', "
                "'forest' or 'linear'"
            )
        if self.num_versions < 1:
            raise ValueError("ExportConfig.num_versions must be >= 1")
        if self.chunk_points < 1:
            raise ValueError("ExportConfig.chunk_points must be >= 1 (points decoded per chunk)")
