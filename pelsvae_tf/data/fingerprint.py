"""Fingerprint of a preparation's inputs: what a resumed or repeated ``prepare`` must find unchanged."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

from pelsvae_tf.atomic import sha256_file
from pelsvae_tf.data.catalog import _describe
from pelsvae_tf.data.config import PrepareConfig

#: version of the resume fingerprint layout (bumped when its content changes)
FINGERPRINT_VERSION = 3


def source_digest(source: Any) -> str | None:
    """SHA-256 of the content of a catalogue / x-match argument (``None`` for ``None``).

    A file: its bytes (not its name: a renamed copy is the same catalogue). A directory: every
    ``*.csv`` in it (the tables :func:`read_xmatch` reads), by name and content. A list: each entry in turn. A DataFrame: its values, index
    and column names (``pandas.util.hash_pandas_object``).
    """
    if source is None:
        return None
    h = hashlib.sha256()
    if isinstance(source, pd.DataFrame):
        h.update("\0".join(map(str, source.columns)).encode())
        try:
            h.update(pd.util.hash_pandas_object(source, index=True).to_numpy().tobytes())
        except TypeError:  # unhashable cells (lists, dicts): hash their CSV text instead
            h.update(source.to_csv().encode("utf-8"))
        return h.hexdigest()
    items = [source] if isinstance(source, (str, Path)) else list(source)
    for item in items:
        p = Path(item)
        if p.is_dir():
            for m in sorted(p.glob("*.csv")):
                h.update(f"{m.name}\0{sha256_file(m)}\n".encode())
        else:
            h.update(f"{sha256_file(p) if p.exists() else 'missing'}\n".encode())
    return h.hexdigest()


def _fingerprint(
    files: list[Path], photometry: str | Path, config: PrepareConfig, catalog: Any, xmatch: Any = None
) -> dict[str, Any]:
    """Identity of a preparation's inputs, stored in ``schema.json["prepare_fingerprint"]``.

    Every light-curve file enters by (name relative to ``photometry``, size in bytes,
    modification time in ns) through one SHA-256 (``files_sha256``), the catalogue and the
    x-match by the SHA-256 of their content, plus the whole :class:`PrepareConfig`. A resumed
    or repeated :func:`prepare` reuses the output only when all of them are equal.
    """
    root = Path(photometry)
    h = hashlib.sha256()
    for f in files:
        try:
            rel = f.relative_to(root).as_posix()
        except ValueError:
            rel = f.name
        st = f.stat()
        h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return {
        "version": FINGERPRINT_VERSION,
        "n_files": len(files),
        "first": files[0].name if files else "",
        "last": files[-1].name if files else "",
        "files_sha256": h.hexdigest(),
        "catalog": _describe(catalog),
        "catalog_sha256": source_digest(catalog),
        "xmatch": None if xmatch is None else _describe(xmatch),
        "xmatch_sha256": source_digest(xmatch),
        "config": config.to_dict(),
    }


def fingerprint_differences(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """What differs between two input fingerprints, in words (empty list = same inputs)."""
    old = old or {}
    if old.get("version") != new.get("version"):
        return ["it was prepared by another pelsvae version (no full fingerprint of its input files)"]
    out = []
    if any(old.get(k) != new.get(k) for k in ("n_files", "first", "last", "files_sha256")):
        out.append(
            f"the light-curve files changed ({old.get('n_files')} then, {new.get('n_files')} now; "
            f"a file was added, removed, or modified: its size or modification time differs)"
        )
    if old.get("catalog_sha256") != new.get("catalog_sha256"):
        out.append(f"the catalogue content changed (then {old.get('catalog')}, now {new.get('catalog')})")
    if old.get("xmatch_sha256") != new.get("xmatch_sha256"):
        out.append(f"the x-match content changed (then {old.get('xmatch')}, now {new.get('xmatch')})")
    oc, nc = dict(old.get("config") or {}), dict(new.get("config") or {})
    if "config" in old:
        # prepared before physics imputation existed: the paper's behaviour, which is "none"
        oc.setdefault("physics_imputation", "none")
    if oc != nc:
        fields = sorted(k for k in set(oc) | set(nc) if oc.get(k) != nc.get(k))
        out.append(f"the PrepareConfig changed (fields {fields})")
    return out
