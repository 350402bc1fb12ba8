"""Export a trained run as TensorFlow Serving SavedModels (``pelsvae export``), and load one back.

``export_run(run_dir, out="saved_models")`` writes, for one new version ``N``::

    saved_models/
      models.config                       # TF Serving ModelServerConfig (text proto) listing all models
      decoder/N/                          # (z, class one-hot, phase) -> scaled mag, err
      regressor_mlp/N/                    # raw physical parameters + dummy -> z   (Keras MLP)
      regressor_forest/N/                 # raw physical parameters + dummy -> z   (YDF, SimpleML ops)
      generator/N/                        # physics + class + times + ... + seed -> magnitudes
        saved_model.pb, variables/, assets/
        assets.extra/tf_serving_warmup_requests   # PredictionLog TFRecords (tensorflow_serving.apis)
        assets.extra/pelsvae_export.json          # signatures, classes, units, source run

One file per part, in the order an export runs: :mod:`~pelsvae_tf.serve.config` (options),
:mod:`~pelsvae_tf.serve.signatures` (names, dtypes, units), :mod:`~pelsvae_tf.serve.checks`
(in-graph input validation), the graphs (:mod:`~pelsvae_tf.serve.decoder_graph`,
:mod:`~pelsvae_tf.serve.regressor_graph`, :mod:`~pelsvae_tf.serve.generator_graph`),
:mod:`~pelsvae_tf.serve.warmup`, :mod:`~pelsvae_tf.serve.provenance`,
:mod:`~pelsvae_tf.serve.versions` (version directories, atomic publishing) and
:mod:`~pelsvae_tf.serve.model_config` (``models.config``).

Without ``version`` the next free integer (over all models) is used; with an explicit ``version``
a model already exported there from the same run is kept (an interrupted export is resumed) and
one from another run is an error.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow.python.framework import op_def_registry
from tqdm.auto import tqdm

from pelsvae_tf.generate import PhaseFunction
from pelsvae_tf.rundir import RunDir
from pelsvae_tf.serve.checks import bind, make_module
from pelsvae_tf.serve.config import ExportConfig
from pelsvae_tf.serve.decoder_graph import DecoderGraph, decoder_dims
from pelsvae_tf.serve.generator_graph import generator_graph
from pelsvae_tf.serve.model_config import write_models_config
from pelsvae_tf.serve.provenance import base_info, run_source
from pelsvae_tf.serve.regressor_graph import regressor_graph
from pelsvae_tf.serve.signatures import decoder_signature, generator_signatures, regressor_signature
from pelsvae_tf.serve.versions import keep_existing, next_version, publish_version
from pelsvae_tf.serve.warmup import warmup_requests

#: Ops of the YDF / TF-DF inference kernels. They are not in the stock TensorFlow op registry but
#: are linked into TensorFlow Serving since 2.11 (tensorflow_serving/model_servers: TF-DF ops).
SIMPLEML_OPS: frozenset[str] = frozenset(
    {
        "SimpleMLCreateModelResource",
        "SimpleMLLoadModelFromPath",
        "SimpleMLLoadModelFromPathWithHandle",
        "SimpleMLInferenceOp",
        "SimpleMLInferenceOpWithHandle",
        "SimpleMLInferenceLeafIndexOp",
        "SimpleMLInferenceLeafIndexOpWithHandle",
        "SimpleMLInferenceOpWithHandleV2",
        "YggdrasilDistributeGradientBoostedTreesWorker",
    }
)


def export_models(
    out: str | Path,
    decoder,
    classes: Sequence[str],
    scaler,
    regressors: Mapping[str, Any],
    version: int | None = None,
    config: ExportConfig | None = None,
    source: Mapping[str, Any] | None = None,
    n_grid: int = 300,
    train_stats: Mapping[str, np.ndarray] | None = None,
    model_config=None,
) -> dict[str, Any]:
    """Write the SavedModels of ``config.models`` for one decoder + fitted regressors.

    Args:
        out: TF Serving model root (``saved_models``).
        decoder: the trained Keras decoder (``{"z","class_onehot","phase"} -> {"mag","err"}``).
        classes: class names in one-hot order.
        scaler: the run's ``PhysicsScaler`` (raw physical units -> regressor inputs).
        regressors: ``{"mlp": PhysicsRegressor, "forest": PhysicsRegressor}`` (those needed).
        version: version number; ``None`` = next free one.
        config: :class:`ExportConfig`.
        source: provenance written into ``pelsvae_export.json`` (run dir, file hashes); a model
            already at ``version`` with the same ``source`` is kept (resume), another is an error.
        n_grid: phase-grid points of the decoded curves (the decoder's training ``seq_len``).
        train_stats: the run's ``train_stats.npz`` (per-class training ranges of the
            generator's ``in_training_range`` output; without it, the scaler's ranges).
        model_config: the decoder's ``ModelConfig`` (optional: a causal TCN decoder runs the
            direct TCN inference graph, :func:`pelsvae_tf.model.inference.inference_decoder_fn`,
            with or without it).

    Returns ``{"version": N, "models": {name: path}, "models_config": path, "kept": [names]}``.
    """
    config = config or ExportConfig()
    out = Path(out)
    source = dict(source or {})
    version = next_version(out, config.models) if version is None else int(version)
    if version < 1:
        raise ValueError(f"version must be a positive integer (TF Serving version directory), got {version}")
    latent_dim, n_classes = decoder_dims(decoder)
    if len(classes) != n_classes:
        raise ValueError(f"{len(classes)} class names given but the decoder takes a {n_classes}-class one-hot")
    shared_info = base_info(version, classes, latent_dim, scaler, source, n_grid, tf.__version__)
    ranges = {n: scaler.range(n) for n in scaler.names}
    phase_function = PhaseFunction(decoder, n_grid=n_grid, chunk_points=config.chunk_points, model_config=model_config)
    written: dict[str, str] = {}
    kept: list[str] = []
    graphs: dict[str, tuple[Any, list]] = {}

    def fitted(kind: str, fix: str):
        if kind not in regressors or regressors[kind] is None:
            raise FileNotFoundError(fix)
        return regressors[kind]

    # YDF -> TF conversion keeps its model files in ydf_tmp until the SavedModels have copied them.
    with tempfile.TemporaryDirectory(prefix="pelsvae_export_ydf_") as ydf_tmp:
        for name in tqdm(config.models, desc="export", unit="model"):
            vdir = out / name / str(version)
            if keep_existing(vdir, source, out, config.models):
                kept.append(name)
                written[name] = str(vdir)
                continue
            module = make_module(f"pelsvae_{name}")
            info = dict(shared_info, model=name)
            if name == "decoder":
                sig = decoder_signature(latent_dim, n_classes)
                module.decoder = decoder
                fn = bind(module, "serve", DecoderGraph(phase_function), sig)
                sigs, fns = {"serving_default": sig}, {"serving_default": fn}
            elif name.startswith("regressor_"):
                kind = name.split("_", 1)[1]
                reg = fitted(
                    kind,
                    f"no fitted {kind!r} regressor to export; run `pelsvae regress RUN_DIR --kinds {kind}` "
                    "or leave the model out of ExportConfig.models",
                )
                if kind not in graphs:
                    graphs[kind] = regressor_graph(reg, scaler, n_classes, ydf_tmp)
                graph, tracked = graphs[kind]
                sig = regressor_signature(
                    name, graph.physics, latent_dim, graph.dummy, n_classes if graph.use_class else None
                )
                module.tracked = list(tracked)
                fn = bind(module, "serve", graph, sig)
                sigs, fns = {"serving_default": sig}, {"serving_default": fn}
                info["regressor"] = {"kind": kind, "physics": list(graph.physics), "config": reg.config.to_dict()}
            else:  # generator
                kind = config.generator_regressor
                reg = fitted(
                    kind,
                    f"no fitted {kind!r} regressor for the generator; run `pelsvae regress RUN_DIR "
                    f"--kinds {kind}` or set ExportConfig.generator_regressor to a fitted kind",
                )
                gen, tracked = generator_graph(reg, scaler, phase_function, n_classes, train_stats, ydf_tmp)
                sigs = generator_signatures(gen.regressor.physics, n_classes, latent_dim)
                module.decoder = decoder
                module.tracked = list(tracked)
                info["regressor"] = {
                    "kind": kind,
                    "physics": list(gen.regressor.physics),
                    "config": reg.config.to_dict(),
                }
                fns = {k: bind(module, k, gen, s) for k, s in sigs.items()}
            warm = warmup_requests(name, sigs, config.warmup_batch, config.warmup_points, ranges, n_classes)
            publish_version(vdir, module, fns, sigs, info, warm)
            written[name] = str(vdir)
    cfg_path = write_models_config(out, config.base_path, config.num_versions)
    return {"version": version, "models": written, "models_config": str(cfg_path), "kept": kept}


def export_run(
    run_dir: str | Path | RunDir,
    out: str | Path = "saved_models",
    version: int | None = None,
    config: ExportConfig | None = None,
) -> dict[str, Any]:
    """Export a trained run (``pelsvae train`` + ``pelsvae regress``) for TensorFlow Serving.

    Reads ``RUN_DIR/model.keras`` (decoder), ``physics_scaler.json`` and the fitted regressors in
    ``RUN_DIR/regressors/{mlp,forest}``; writes ``out/<name>/<version>/`` for each model of
    ``config.models`` and ``out/models.config``. See :func:`export_models` for the return value.
    """
    rd = RunDir(run_dir)
    if not rd.model_path.exists():
        raise FileNotFoundError(f"{rd.path} has no model.keras; train a model first with `pelsvae train`")
    config = config or ExportConfig()
    run = rd.run()
    needed = {m.split("_", 1)[1] for m in config.models if m.startswith("regressor_")}
    if "generator" in config.models:
        needed.add(config.generator_regressor)
    regressors = {}
    for kind in sorted(needed):
        rdir = rd.regressors_dir / kind
        if not (rdir / "regressor.json").exists():
            raise FileNotFoundError(
                f"{rdir} holds no fitted regressor; run `pelsvae regress {rd.path} --kinds {kind}` before exporting"
            )
        regressors[kind] = rd.regressor(rdir)
    return export_models(
        out,
        run.decoder,
        run.classes,
        run.physics_scaler,
        regressors,
        version,
        config,
        run_source(rd, needed),
        n_grid=int(run.model_config.seq_len),
        train_stats=rd.train_stats(),
        model_config=run.model_config,
    )


def saved_model_ops(saved_model_dir: str | Path) -> set[str]:
    """Names of every op in every graph and function of a SavedModel (parsed from saved_model.pb)."""
    path = Path(saved_model_dir) / "saved_model.pb"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; is {saved_model_dir} a SavedModel version directory?")
    sm = saved_model_pb2.SavedModel.FromString(path.read_bytes())
    ops: set[str] = set()
    for mg in sm.meta_graphs:
        ops.update(n.op for n in mg.graph_def.node)
        for fn in mg.graph_def.library.function:
            ops.update(n.op for n in fn.node_def)
    return ops


def load_saved_model(version_dir: str | Path):
    """``tf.saved_model.load`` of an exported version that first registers the decision-forest ops
    (``import ydf_tf``) when the model uses them (``regressor_forest``, or a generator with the
    forest inside), so plain TensorFlow users do not meet "Op type not registered
    'SimpleMLLoadModelFromPathWithHandle'". ``ImportError`` naming the package when it is missing."""
    if saved_model_ops(version_dir) & SIMPLEML_OPS:
        try:
            import ydf_tf  # noqa: F401  (registers the SimpleML inference ops in this process)
        except ImportError as exc:
            raise ImportError(
                f"{version_dir} uses YDF decision-forest ops: pip install ydf-tf==2.21.0.post1 "
                "(stock TF Serving has them built in)"
            ) from exc
    return tf.saved_model.load(str(version_dir))


def unregistered_ops(ops: Sequence[str] | set[str], allowed: frozenset[str] = SIMPLEML_OPS) -> list[str]:
    """Ops absent from the op registry of THIS process and not in ``allowed``.

    Call it in a process that imported only ``tensorflow`` to check against the stock registry
    (importing ``ydf_tf`` registers the SimpleML ops too).
    """
    return sorted(op for op in ops if op_def_registry.get(op) is None and op not in allowed)
