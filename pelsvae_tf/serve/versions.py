"""TF Serving version directories: the versions present, the next free one, atomic publishing.

TF Serving polls ``<base_path>/<model>/`` for integer sub-directories. Every version directory
is written with :func:`pelsvae_tf.atomic.atomic_dir`, so the server never sees half a model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import tensorflow as tf

from pelsvae_tf.atomic import atomic_dir
from pelsvae_tf.serve.config import MODEL_NAMES
from pelsvae_tf.serve.provenance import read_export_info, same_source, write_export_info
from pelsvae_tf.serve.signatures import SignatureDoc
from pelsvae_tf.serve.warmup import write_warmup


def existing_versions(model_dir: str | Path) -> list[int]:
    """Integer version sub-directories of ``model_dir`` (TF Serving's layout), sorted ascending."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        return []
    return sorted(int(p.name) for p in model_dir.iterdir() if p.is_dir() and re.fullmatch(r"\d+", p.name))


def next_version(out: str | Path, models: Sequence[str] = MODEL_NAMES) -> int:
    """The next free version number: 1 + the largest version of any of ``models`` under ``out``."""
    latest = [v for m in models for v in existing_versions(Path(out) / m)]
    return (max(latest) if latest else 0) + 1


def keep_existing(version_dir: Path, source: Mapping[str, Any], out: Path, models: Sequence[str]) -> bool:
    """Whether an existing ``version_dir`` came from the same ``source`` (an interrupted export
    being resumed: keep it). ``False`` when it does not exist; ``ValueError`` naming the fix when
    it holds a model exported from something else."""
    if not version_dir.exists():
        return False
    try:
        prev = read_export_info(version_dir).get("source")
    except FileNotFoundError:
        prev = None
    if source and same_source(prev, source):
        return True
    raise ValueError(
        f"{version_dir} already exists from another export; omit --version to write version "
        f"{next_version(out, models)} or remove that directory"
    )


def publish_version(
    version_dir: Path,
    module,
    fns: Mapping[str, Any],
    sigs: Mapping[str, SignatureDoc],
    info: Mapping[str, Any],
    warmup: Sequence[Any],
) -> Path:
    """Save ``module`` with signatures ``fns`` (name -> tf.function), warmup and info, atomically."""
    with atomic_dir(version_dir) as tmp:
        tf.saved_model.save(module, str(tmp), signatures={k: f.get_concrete_function() for k, f in fns.items()})
        write_warmup(tmp, warmup)
        write_export_info(tmp, info, sigs)
    return version_dir
