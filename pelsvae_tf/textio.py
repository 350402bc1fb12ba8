"""JSON and Markdown output shared by every stage (reports, run metadata, tuning tables).

- :func:`to_jsonable` turns NumPy scalars / arrays, tuples, paths, dataclasses and non-finite
  floats (-> ``null``) into plain JSON values; :func:`write_json` writes it atomically.
- :func:`format_value` and :func:`markdown_table` render numbers and GitHub-flavoured tables.

TensorFlow-free; NumPy only.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from pelsvae_tf.atomic import atomic_write_text


def to_jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON values: dict keys as strings, arrays and tuples as lists, NumPy
    scalars as Python numbers, NaN / inf as ``None``, paths as strings, dataclasses as dicts."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, Path):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    return obj


def from_jsonable_nan(obj: Any) -> Any:
    """Inverse of the NaN handling of :func:`to_jsonable`: ``None`` back to NaN (for tables)."""
    if isinstance(obj, dict):
        return {k: from_jsonable_nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [from_jsonable_nan(v) for v in obj]
    return float("nan") if obj is None else obj


def dumps(obj: Any, indent: int | None = 2) -> str:
    """``json.dumps`` of :func:`to_jsonable` (strict JSON: never ``NaN``), keys sorted."""
    return json.dumps(to_jsonable(obj), indent=indent, sort_keys=True, allow_nan=False)


def write_json(path: str | Path, obj: Any, indent: int | None = 2) -> Path:
    """Write :func:`dumps` of ``obj`` plus a newline to ``path`` atomically; return the path."""
    return atomic_write_text(path, dumps(obj, indent=indent) + "\n")


def format_value(x: Any, digits: int = 3, style: str = "fixed") -> str:
    """One table cell: integers as is, floats with ``digits`` decimals (``style="fixed"``) or
    significant digits (``style="general"``; integral floats printed as integers), NaN as ``nan``."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        v = float(x)
        if not math.isfinite(v):
            return "nan"
        if style == "general":
            if v.is_integer() and abs(v) < 1e6 and v != 0.0:
                return str(int(v))
            return f"{v:.{digits}g}"
        return f"{v:.{digits}f}"
    if x is None:
        return ""
    return str(x)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 3, style: str = "fixed") -> str:
    """A GitHub-flavoured Markdown table (no trailing newline); cells by :func:`format_value`,
    ``|`` inside a cell replaced by ``/``."""
    cell = lambda v: format_value(v, digits, style).replace("|", "/")  # noqa: E731
    lines = ["| " + " | ".join(str(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)
