"""``models.config``: the TF Serving ``--model_config_file`` (ModelServerConfig text proto)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from pelsvae_tf.atomic import atomic_write_text
from pelsvae_tf.serve.config import MODEL_NAMES
from pelsvae_tf.serve.versions import existing_versions


def models_config_text(names: Sequence[str], base_path: str = "/models", num_versions: int = 1) -> str:
    """TF Serving ``--model_config_file`` text proto (ModelServerConfig) serving ``names``."""
    lines = ["model_config_list {"]
    for name in names:
        lines += [
            "  config {",
            f'    name: "{name}"',
            f'    base_path: "{base_path.rstrip("/")}/{name}"',
            '    model_platform: "tensorflow"',
            f"    model_version_policy {{ latest {{ num_versions: {int(num_versions)} }} }}",
            "  }",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_models_config(out: str | Path, base_path: str = "/models", num_versions: int = 1) -> Path:
    """Write ``out/models.config`` listing every model directory present under ``out`` (atomic).

    The text is parsed back with ``tensorflow_serving.config.model_server_config_pb2`` before it is
    written, so a malformed file is never produced.
    """
    out = Path(out)
    names = [m for m in MODEL_NAMES if existing_versions(out / m)]
    if out.is_dir():  # other models kept in the same root stay listed
        names += sorted(p.name for p in out.iterdir() if p.is_dir() and p.name not in names and existing_versions(p))
    text = models_config_text(names, base_path, num_versions)
    parse_models_config(text)
    return atomic_write_text(out / "models.config", text)


def parse_models_config(text: str):
    """Parse a ``models.config`` text proto into ``ModelServerConfig`` (raises ValueError if invalid)."""
    cfg = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(text, cfg)
    except text_format.ParseError as exc:
        raise ValueError(f"models.config is not a valid ModelServerConfig text proto: {exc}") from exc
    return cfg
