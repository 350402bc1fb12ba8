"""Generated curves streamed to a file, and the memory guard of in-memory results.

:func:`generate_to` (``Generator.generate_to``, ``pelsvae generate --out``) writes any number of
curves to Parquet or CSV chunk by chunk, in bounded memory and atomically; :func:`check_memory`
refuses (``MemoryError``) an in-memory result larger than ``Generator.max_result_bytes``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from pelsvae_tf.atomic import atomic_path
from pelsvae_tf.counter_rng import curve_seeds
from pelsvae_tf.generate.cadence import Cadence
from pelsvae_tf.generate.checks import _check_count, _check_seed

#: Bytes an in-memory result may take by default before ``Generator.generate`` refuses.
MAX_RESULT_BYTES = 8 * 2**30


def check_memory(n: int, n_points: int, max_result_bytes: int = MAX_RESULT_BYTES) -> None:
    """``MemoryError`` with the estimate when ``n`` curves x ``n_points`` would not fit."""
    est = n * n_points * 8 * 8  # 7 float [n, T] arrays + the noise draw, float64 worst case
    if est > max_result_bytes:
        raise MemoryError(
            f"n={n} curves x {n_points} points would take ~{est / 2**30:.1f} GiB in memory (limit "
            f"{max_result_bytes / 2**30:.0f} GiB, Generator.max_result_bytes); write them chunk by "
            f"chunk with Generator.generate_to(path, ...) or `pelsvae generate --out FILE`"
        )
    if est > 2**30:
        warnings.warn(
            f"n={n} curves x {n_points} points take ~{est / 2**30:.1f} GiB in memory; "
            f"Generator.generate_to(path, ...) streams them to a file instead",
            stacklevel=3,
        )


def generate_to(
    generator,
    path: str | Path,
    cls: str | Sequence[str],
    n: int = 1,
    cadence: Cadence | Any = None,
    seed: int | None = 0,
    chunk_curves: int = 10_000,
    progress: bool | None = None,
    **kwargs: Any,
) -> Path:
    """``generator.generate(...)`` of ``n`` curves written to ``path`` chunk by chunk (see
    :meth:`pelsvae_tf.generate.Generator.generate_to`). Returns ``path``."""
    n = _check_count(n)
    seed_int = _check_seed(seed)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise ValueError(f"generate_to: {path} must end in .parquet or .csv")
    if int(chunk_curves) < 1:
        raise ValueError(f"chunk_curves={chunk_curves}: must be >= 1")
    step = int(chunk_curves)
    all_seeds = curve_seeds(seed_int, n)
    if cadence is not None and not isinstance(cadence, Cadence):
        cadence = Cadence.from_times(cadence)

    def rows(value, c0, c1):
        if isinstance(value, str) or value is None:
            return value
        arr = value
        if hasattr(value, "unit") or isinstance(value, (list, tuple, np.ndarray)):
            if np.ndim(value) >= 1 and np.shape(value)[0] == n and n > 1:
                arr = value[c0:c1]
        return arr

    starts = range(0, n, step)
    if progress or (progress is None and n > step):
        starts = tqdm(starts, desc=f"generate -> {path.name}", unit="chunk", total=(n + step - 1) // step)

    with atomic_path(path) as tmp:
        writer = None
        try:
            for c0 in starts:
                c1 = min(n, c0 + step)
                cad = cadence
                if cad is not None and cad.values.ndim == 2 and cad.values.shape[0] == n and n > 1:
                    cad = Cadence(cad.kind, cad.values[c0:c1], cad.description)
                part = generator.generate(
                    rows(cls, c0, c1),
                    n=c1 - c0,
                    cadence=cad,
                    seed=int(all_seeds[c0]),
                    **{k: rows(v, c0, c1) for k, v in kwargs.items()},
                )
                df = part.to_pandas()
                df["curve"] += c0
                if suffix == ".csv":
                    df.to_csv(tmp, index=False, mode="w" if c0 == 0 else "a", header=c0 == 0)
                    continue
                table = pa.Table.from_pandas(df, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, part.parquet_schema(table.schema, seed=seed_int, n=n))
                writer.write_table(table.cast(writer.schema))
        finally:
            if writer is not None:
                writer.close()
    return path
