"""``assets.extra/pelsvae_export.json``: what an exported version is and where it came from.

Each version directory records its signatures, class names, latent size, physics scaler, the
source run (paths and SHA-256 of ``model.keras``, the regressors and ``train_stats.npz``) and the
pelsvae_tf / TensorFlow versions. The ``source`` decides whether an existing version is the same
export (kept on resume) or another one (an error).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from pelsvae_tf import __version__, textio
from pelsvae_tf.atomic import sha256_file
from pelsvae_tf.rundir import RunDir
from pelsvae_tf.serve.signatures import SignatureDoc

EXPORT_INFO_FILE = "pelsvae_export.json"


def base_info(
    version: int,
    classes: Sequence[str],
    latent_dim: int,
    scaler,
    source: Mapping[str, Any],
    n_grid: int,
    tensorflow_version: str,
) -> dict[str, Any]:
    """The fields every model of one export shares (the model name and signatures are added per model)."""
    return {
        "format": "pelsvae-export",
        "format_version": 1,
        "version": version,
        "classes": list(classes),
        "latent_dim": latent_dim,
        "physics_scaler": scaler.to_dict(),
        "source": dict(source),
        "pelsvae_tf": __version__,
        "tensorflow": tensorflow_version,
        "n_grid": int(n_grid),
    }


def run_source(run: RunDir, regressor_kinds: Sequence[str]) -> dict[str, Any]:
    """Provenance of an export of ``run``: its resolved path and the SHA-256 of ``model.keras``,
    of each regressor of ``regressor_kinds`` and of ``train_stats.npz`` (when present)."""
    source: dict[str, Any] = {"run_dir": str(run.path.resolve()), "model_sha256": sha256_file(run.model_path)}
    for kind in sorted(regressor_kinds):
        source[f"regressor_{kind}_sha256"] = sha256_file(run.regressors_dir / kind / "regressor.json")
    if run.train_stats_path.exists():
        source["train_stats_sha256"] = sha256_file(run.train_stats_path)
    return source


def same_source(previous: Any, source: Mapping[str, Any]) -> bool:
    """Whether a recorded ``source`` (read back from JSON) is ``source``."""
    return previous == json.loads(textio.dumps(dict(source)))


def write_export_info(version_dir: str | Path, info: Mapping[str, Any], sigs: Mapping[str, SignatureDoc]) -> Path:
    """Write ``assets.extra/pelsvae_export.json``: ``info`` plus the documented signatures."""
    doc = dict(info)
    doc["signatures"] = {k: s.to_dict() for k, s in sigs.items()}
    return textio.write_json(Path(version_dir) / "assets.extra" / EXPORT_INFO_FILE, doc)


def read_export_info(version_dir: str | Path) -> dict[str, Any]:
    """``assets.extra/pelsvae_export.json`` of an exported version (signatures, classes, source)."""
    path = Path(version_dir) / "assets.extra" / EXPORT_INFO_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; {version_dir} was not written by `pelsvae export`")
    return json.loads(path.read_text())


def signature_docs(version_dir: str | Path) -> dict[str, SignatureDoc]:
    """The documented signatures stored with an exported version."""
    return {k: SignatureDoc.from_dict(v) for k, v in read_export_info(version_dir)["signatures"].items()}
