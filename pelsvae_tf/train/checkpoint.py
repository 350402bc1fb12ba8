"""Resume state of a run directory: the committed ``checkpoints/state.json``, the random
generators' positions it keeps, and the refusal to resume another model or dataset.

:class:`~pelsvae_tf.train.callbacks.EpochCheckpoint` writes the state after every epoch;
:func:`~pelsvae_tf.train.trainer.train` reads it back through :class:`pelsvae_tf.rundir.RunDir`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from pelsvae_tf.data import fingerprint_differences
from pelsvae_tf.rundir import RunDir


def read_checkpoint_state(run_dir) -> dict | None:
    """The committed ``checkpoints/state.json`` of ``run_dir`` or ``None`` if none exists."""
    return RunDir(run_dir).checkpoint_state()


def seed_states(model) -> list[list]:
    """The states of every ``keras.random.SeedGenerator`` of ``model`` (dropout, latent sampling,
    decoder subsampling), as ``[layer_path, index, [int, ...]]`` rows in layer order.

    ``model.save`` does not store them, so :class:`~pelsvae_tf.train.callbacks.EpochCheckpoint` keeps
    them in ``state.json``; restoring them makes a resumed run draw the same random numbers as an
    uninterrupted one.
    """
    rows = []
    for layer in model._flatten_layers(include_self=True):
        for i, gen in enumerate(getattr(layer, "_seed_generators", [])):
            rows.append(
                [
                    layer.path if hasattr(layer, "path") else layer.name,
                    i,
                    [int(v) for v in np.asarray(gen.state.value).ravel()],
                ]
            )
    return rows


def restore_seed_states(model, rows) -> None:
    """Assign states saved by :func:`seed_states` (``None``: checkpoint written before they were
    saved; nothing is restored). Raises ``ValueError`` when the model's generators differ."""
    if rows is None:
        return
    current = seed_states(model)
    # a loaded model may name its layers' paths differently: match by position and index
    if [r[1] for r in current] != [r[1] for r in rows]:
        raise ValueError(
            "checkpoint state.json: its seed_states do not match the model's random generators "
            "(the checkpoint comes from another model); train into a new --out directory"
        )
    gens = [g for layer in model._flatten_layers(include_self=True) for g in getattr(layer, "_seed_generators", [])]
    for gen, row in zip(gens, rows):
        gen.state.assign(np.asarray(row[2], dtype=gen.state.dtype).reshape(gen.state.shape))


def config_payload(model_config, train_config, dataset) -> dict:
    """The ``config.json`` of a run: both configs, the dataset's directory and schema."""
    return {
        "model": model_config.to_dict(),
        "train": train_config.to_dict(),
        "data_dir": str(Path(dataset.path).resolve()),
        "dataset_schema": dataset.schema,
    }


#: ModelConfig fields that choose how the same function is computed, not which model it is: a run
#: saved with one value resumes with another (``tcn_impl``: the package's TCN kernels or keras-tcn's
#: layers, same weights; runs saved before the field existed have none)
IMPLEMENTATION_FIELDS = ("tcn_impl",)


def model_config_differences(saved: dict, new: dict) -> list[str]:
    """The fields that differ between two ``ModelConfig.to_dict()`` dicts, as
    ``"ModelConfig.NAME: saved OLD, now NEW"`` strings in field order (only the changed ones;
    :data:`IMPLEMENTATION_FIELDS` never count)."""
    out = []
    for key in list(saved) + [k for k in new if k not in saved]:
        if key in IMPLEMENTATION_FIELDS:
            continue
        a, b = saved.get(key, "<absent>"), new.get(key, "<absent>")
        if a != b:
            out.append(f"ModelConfig.{key}: saved {a!r}, now {b!r}")
    return out


def dataset_identity(schema: dict) -> Any:
    """What identifies a prepared dataset for resuming: ``schema["prepare_fingerprint"]`` (the
    inputs and config of ``pelsvae prepare``), or for a dataset written directly with
    ``write_prepared`` its creation time and split summaries."""
    schema = schema or {}
    if schema.get("prepare_fingerprint") is not None:
        return {"prepare_fingerprint": schema["prepare_fingerprint"]}
    return {"created": schema.get("created"), "splits": schema.get("splits")}


def check_same_dataset(saved: dict, dataset, run_dir: Path) -> None:
    """Refuse to resume ``run_dir`` on a dataset other than the one its checkpoint was trained on."""
    old_schema = json.loads(json.dumps(saved.get("dataset_schema") or {}, default=str))
    new_schema = json.loads(json.dumps(dataset.schema or {}, default=str))
    if dataset_identity(old_schema) == dataset_identity(new_schema):
        return
    detail = ""
    old_fp, new_fp = old_schema.get("prepare_fingerprint"), new_schema.get("prepare_fingerprint")
    if old_fp is not None and new_fp is not None:
        diff = fingerprint_differences(old_fp, new_fp)
        if not diff:  # same content, config and files; only how a path was spelled differs
            return
        detail = f" ({'; '.join(diff)})"
    raise ValueError(
        f"{run_dir} holds a checkpoint trained on the prepared dataset {saved.get('data_dir')}; "
        f"--data {Path(dataset.path).resolve()} is a different dataset ("
        f"{'its prepare fingerprint differs' + detail if old_fp is not None and new_fp is not None else 'its schema differs'}). "
        f"Resume with --data {saved.get('data_dir')}, or train on the new data into a new --out directory"
    )


def check_resumable(run: RunDir, model_config, dataset) -> None:
    """Refuse to resume ``run`` (which holds a committed checkpoint) with another model config
    (naming only the changed fields; a different ``tcn_impl`` is not another model: the run resumes
    from its checkpoint, built with the checkpoint's) or on another dataset."""
    if not run.config_path.exists():
        raise FileNotFoundError(f"{run.path} has checkpoints but no config.json; use a new --out directory")
    saved = json.loads(run.config_path.read_text())
    changed = model_config_differences(saved.get("model") or {}, model_config.to_dict())
    if changed:
        raise ValueError(
            f"{run.path} holds a checkpoint of another model config ({'; '.join(changed)}); resume "
            "with the saved value(s) or train into a new --out directory"
        )
    check_same_dataset(saved, dataset, run.path)
