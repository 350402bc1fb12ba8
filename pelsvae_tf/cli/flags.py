"""Command-line flags generated from the config dataclasses (TensorFlow-free).

A verb's options are the fields of its config dataclass: :func:`add_config_flags` adds one
``--field-name`` per field, with the type from the annotation, ``choices`` from
:data:`pelsvae_tf.options` (via :data:`FIELD_CHOICES`), the help text from the dataclass's
``Attributes:`` docstring and the dataclass default shown once as ``(default: X)``. Every flag's
argparse default is ``None`` so a verb can tell "not given" from "given" and layer flags over a
``--config`` file: :func:`config_from_args` builds the config from ``base`` plus the flags given.

Example::

    add_config_flags(parser, TrainConfig, dest_prefix="t_", rename={"learning_rate": "lr"})
    ...
    train_config = config_from_args(args, TrainConfig, base=file_config, dest_prefix="t_")
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import types
import typing
from typing import Any, Iterable

from pelsvae_tf import options

#: field name -> allowed values, for fields whose name is unambiguous across the configs
FIELD_CHOICES: dict[str, tuple[str, ...]] = {
    "arch": options.ARCHS,
    "time_encoding": options.TIME_ENCODINGS,
    "tcn_channels": options.TCN_CHANNELS,
    "tcn_norm": options.TCN_NORMS,
    "tcn_impl": options.TCN_IMPLS,
    "receptive_field_check": options.RF_CHECKS,
    "decoder_padding": options.DECODER_PADDINGS,
    "loss": options.LOSS_KINDS,
    "lr_schedule": options.LR_SCHEDULES,
    "beta_schedule": options.BETA_SCHEDULES,
    "strategy": options.STRATEGIES,
    "latent_noise": options.LATENT_NOISE,
    "density_target": options.DENSITY_TARGETS,
    "snr_method": options.SNR_METHODS,
    "clip_mode": options.CLIP_MODES,
    "short_policy": options.SHORT_POLICIES,
    "phase_zero": options.PHASE_ZERO,
    "physics_imputation": options.PHYSICS_IMPUTATIONS,
    "survey": options.SKY_SURVEYS,
    "lpv_shape": options.LPV_SHAPES,
    "preset": options.PRESETS,
    "representation": options.REPRESENTATIONS,
}

_ATTR_LINE = re.compile(r"^(\s*)(\w+)(?: \([^)]*\))?:\s*(.*)$")


def field_docs(cls: type) -> dict[str, str]:
    """``{field: help}`` parsed from the ``Attributes:`` section of ``cls``'s docstring
    (Google style: ``name: text`` lines, continuation lines indented deeper), whitespace folded."""
    doc = inspect.getdoc(cls) or ""
    lines = doc.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() in ("Attributes:", "Args:", "Fields:"))
    except StopIteration:
        return {}
    out: dict[str, list[str]] = {}
    current, indent = None, None
    for line in lines[start + 1 :]:
        if not line.strip():
            continue
        lead = len(line) - len(line.lstrip())
        m = _ATTR_LINE.match(line)
        if indent is None and m:
            indent = lead
        if indent is not None and lead < indent:
            break  # end of the section
        if m and lead == indent:
            current = m.group(2)
            out[current] = [m.group(3)]
        elif current is not None:
            out[current].append(line.strip())
    return {k: " ".join(" ".join(v).split()) for k, v in out.items()}


def _base_type(hint: Any) -> Any:
    """``X`` of ``X | None`` / ``Optional[X]``."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return hint


def _parser_for(hint: Any, flag: str):
    """(argparse ``type`` callable, metavar) for an annotation; tuples are comma-separated."""
    hint = _base_type(hint)
    if typing.get_origin(hint) is dict:
        kt, vt = (typing.get_args(hint) + (str, str))[:2]

        def parse_map(text: str):
            out = {}
            for part in (p.strip() for p in str(text).split(",") if p.strip()):
                key, sep, value = part.partition("=")
                try:
                    if not sep:
                        raise ValueError
                    out[kt(key.strip())] = vt(value.strip())
                except ValueError:
                    raise argparse.ArgumentTypeError(
                        f"{flag}: expected KEY=VALUE pairs separated by commas, got {text!r}"
                    ) from None
            return out

        return parse_map, "K=V,..."
    if typing.get_origin(hint) in (tuple, list):
        args = typing.get_args(hint)
        item = args[0] if args else str
        item = item if item in (int, float, str) else str

        def parse(text: str):
            parts = [p.strip() for p in str(text).split(",") if p.strip()]
            try:
                return tuple(item(p) for p in parts)
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"{flag}: expected a comma-separated list of {item.__name__}, got {text!r}"
                ) from None

        return parse, "A,B,..."
    if hint in (int, float, str):
        return hint, None
    return str, None


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) if value else "''"
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value) if value else "''"
    return str(value)


def add_config_flags(
    parser: argparse.ArgumentParser,
    cls: type,
    *,
    dest_prefix: str = "",
    only: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    rename: dict[str, str] | None = None,
    choices: dict[str, tuple] | None = None,
    helps: dict[str, str] | None = None,
    defaults: dict[str, Any] | None = None,
    group_title: str | None = None,
) -> list[str]:
    """Add one option per field of dataclass ``cls`` to ``parser``; return the field names added.

    Args:
        parser: the verb's parser.
        cls: a config dataclass (its module must not import TensorFlow).
        dest_prefix: prefix of each option's ``dest`` (``"m_"`` -> ``args.m_hidden``), so two
            configs with a field of the same name can share one parser.
        only / exclude: fields to include / leave out (default: every field).
        rename: field -> flag name without dashes (``{"learning_rate": "lr"}`` -> ``--lr``).
        choices / helps: per-field overrides of :data:`FIELD_CHOICES` and the docstring help.
        defaults: per-field default shown in help instead of the dataclass default (e.g. a
            preset's value).
        group_title: put the options in an argument group of this title.

    Booleans become ``--flag`` / ``--no-flag`` (``argparse.BooleanOptionalAction``). Every
    ``dest`` defaults to ``None`` (= not given; see :func:`config_from_args`).
    """
    rename, choices, helps, defaults = rename or {}, choices or {}, helps or {}, defaults or {}
    docs = field_docs(cls)
    hints = typing.get_type_hints(cls)
    target = parser.add_argument_group(group_title) if group_title else parser
    only = set(only) if only is not None else None
    added = []
    for f in dataclasses.fields(cls):
        if (only is not None and f.name not in only) or f.name in set(exclude):
            continue
        flag = "--" + rename.get(f.name, f.name).replace("_", "-")
        if f.name in defaults:
            default = defaults[f.name]
        elif f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        else:
            default = None
        text = helps.get(f.name, docs.get(f.name, f.name.replace("_", " ")))
        text = text.replace("%", "%%")
        hint = _base_type(hints.get(f.name, str))
        if hint is bool:
            target.add_argument(
                flag,
                dest=dest_prefix + f.name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=f"{text} (default: {'on' if default else 'off'})",
            )
        else:
            typ, metavar = _parser_for(hint, flag)
            ch = choices.get(f.name, FIELD_CHOICES.get(f.name))
            shown = "" if default is None else f" (default: {_show(default)})"
            target.add_argument(
                flag,
                dest=dest_prefix + f.name,
                type=typ,
                default=None,
                choices=ch,
                metavar=metavar or (None if ch else f.name.upper()),
                help=text + shown,
            )
        added.append(f.name)
    return added


def given(args: argparse.Namespace, cls: type, dest_prefix: str = "") -> dict[str, Any]:
    """``{field: value}`` of the flags of ``cls`` actually given on the command line."""
    out = {}
    for f in dataclasses.fields(cls):
        value = getattr(args, dest_prefix + f.name, None)
        if value is not None:
            out[f.name] = value
    return out


def config_from_args(args: argparse.Namespace, cls: type, base: Any = None, dest_prefix: str = ""):
    """``base`` (default ``cls()``) with the fields given as flags replaced (validated again)."""
    base = cls() if base is None else base
    changes = given(args, cls, dest_prefix)
    return dataclasses.replace(base, **changes) if changes else base
