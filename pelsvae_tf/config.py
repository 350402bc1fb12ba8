"""Typed configuration base: dataclasses that round-trip through JSON with strict key checks.

Every stage of the pipeline (sky, prepare, model, training, regression, generation, export)
has its own dataclass that inherits :class:`ConfigBase`; the run directory stores them as JSON
so a run is self-describing and resumable.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any, TypeVar

from pelsvae_tf.atomic import atomic_write_text

T = TypeVar("T", bound="ConfigBase")


def _coerce(value: Any, hint: Any) -> Any:
    """Turn JSON values back into the annotated type (tuples, nested dataclasses, optionals)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if value is None:
        return None
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return hint.from_dict(value) if hasattr(hint, "from_dict") else hint(**value)
    if origin in (tuple,) and isinstance(value, (list, tuple)):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0]) for v in value)
        if args:
            return tuple(_coerce(v, a) for v, a in zip(value, args))
        return tuple(value)
    if origin in (list,) and isinstance(value, (list, tuple)):
        return [_coerce(v, args[0]) if args else v for v in value]
    if origin is typing.Union or str(origin) == "types.UnionType":
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a)
            except (TypeError, ValueError):
                continue
        return value
    if hint is float and isinstance(value, int):
        return float(value)
    return value


class ConfigBase:
    """Mixin for ``@dataclass`` configs: ``to_dict``/``from_dict``/``save``/``load``/``replace``.

    ``from_dict`` rejects unknown keys with a message naming them and the accepted ones, so a
    typo in a config file fails before any work starts.
    """

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict of every field (tuples become lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self), default=_json_default))

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        """Build the config from a dict, converting lists back to tuples; unknown keys raise."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown field(s) {unknown}; accepted fields are {sorted(fields)}")
        hints = typing.get_type_hints(cls)
        kwargs = {k: _coerce(v, hints.get(k, Any)) for k, v in data.items()}
        return cls(**kwargs)

    def replace(self: T, **changes: Any) -> T:
        """Return a copy with ``changes`` applied (validated again by ``__post_init__``)."""
        return dataclasses.replace(self, **changes)

    def save(self, path: str | Path) -> Path:
        """Write the config as indented JSON, atomically."""
        return atomic_write_text(path, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls: type[T], path: str | Path) -> T:
        """Read a config written by :meth:`save`."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{cls.__name__}: config file {path} does not exist")
        return cls.from_dict(json.loads(path.read_text()))


def _json_default(obj: Any) -> Any:
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")
