"""Shared helpers of the benchmark scripts: machine description, timing, FLOP-rate baselines.

Every benchmark prints :func:`machine_info` first and reports its numbers as ratios against a
baseline measured in the same run (helpers: :func:`time_call`, :func:`matmul_flops`,
:func:`ratio_line`). Times are seconds, rates per second, FLOP counts in floating-point
operations (one multiply-add = 2 FLOPs), memory in MiB.

Usage from a script in this folder::

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import machine_info, print_machine_info, time_call
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import resource
import statistics
import sys
import time
from typing import Any, Callable

import numpy as np


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _mem_total_gib() -> float | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def usable_cores() -> int:
    """CPU cores this process may run on (affinity), falling back to ``os.cpu_count()``."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def machine_info(with_tensorflow: bool = True) -> dict[str, Any]:
    """Describe the machine: date (UTC), host OS, CPU model, usable cores, load, memory, versions, GPUs."""
    info: dict[str, Any] = {
        "date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu": _cpu_model(),
        "usable_cores": usable_cores(),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "memory_gib": None if _mem_total_gib() is None else round(_mem_total_gib(), 1),
        "numpy": np.__version__,
    }
    if with_tensorflow:
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
        try:
            import keras

            info["keras"] = keras.__version__
        except ImportError:  # pragma: no cover
            pass
        gpus = tf.config.list_physical_devices("GPU")
        info["gpus"] = [g.name for g in gpus] or "none"
    return info


def print_machine_info(info: dict[str, Any] | None = None) -> dict[str, Any]:
    """Print :func:`machine_info` (or ``info``) as ``key: value`` lines; returns it."""
    info = info or machine_info()
    print("== machine ==")
    for k, v in info.items():
        print(f"  {k}: {v}")
    return info


def time_call(fn: Callable[[], Any], repeat: int = 5, warmup: int = 1, min_time: float = 0.0) -> dict[str, float]:
    """Time ``fn()``: ``warmup`` untimed calls, then ``repeat`` timed calls (more while total < ``min_time`` s).

    Returns ``{"best", "median", "mean", "n"}`` in seconds per call. ``best`` is the usual
    figure on a shared machine (least disturbed by other processes).
    """
    for _ in range(max(warmup, 0)):
        fn()
    times = []
    t_all = time.perf_counter()
    while len(times) < max(repeat, 1) or (time.perf_counter() - t_all) < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {"best": min(times), "median": statistics.median(times), "mean": statistics.fmean(times), "n": len(times)}


def matmul_flops(n: int = 1024, backend: str = "numpy", repeat: int = 5) -> dict[str, float]:
    """Measured float32 matrix-multiply rate: ``2 n^3`` FLOPs per ``[n,n] @ [n,n]`` product.

    Args:
        n: matrix side.
        backend: ``"numpy"`` (BLAS via numpy) or ``"tf"`` (``tf.linalg.matmul`` on the default device,
            result fetched to host so the time includes completion).
        repeat: timed repetitions; the best is used.

    Returns:
        ``{"flops_per_s": best rate, "seconds": best time, "n": n, "backend": backend}``.
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    if backend == "numpy":
        t = time_call(lambda: a @ b, repeat=repeat, warmup=1)
    elif backend == "tf":
        import tensorflow as tf

        ta, tb = tf.constant(a), tf.constant(b)
        mm = tf.function(lambda x, y: tf.linalg.matmul(x, y))
        t = time_call(lambda: mm(ta, tb).numpy(), repeat=repeat, warmup=2)
    else:
        raise ValueError(f"backend must be 'numpy' or 'tf' (got {backend!r})")
    return {"flops_per_s": 2.0 * n**3 / t["best"], "seconds": t["best"], "n": n, "backend": backend}


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (Linux ``ru_maxrss`` is KiB)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024.0 if sys.platform != "darwin" else rss / 1024.0**2


def ratio_line(name: str, value: float, baseline: float, baseline_name: str, unit: str = "") -> str:
    """One printable line ``name: value unit = R x baseline_name (baseline unit)``."""
    r = value / baseline if baseline else float("nan")
    return f"{name}: {value:.4g} {unit} = {r:.4g} x {baseline_name} ({baseline:.4g} {unit})"


def fmt_si(x: float, unit: str = "") -> str:
    """``1.23e9`` -> ``'1.23 G'`` + unit."""
    for p, s in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= p:
            return f"{x / p:.3g} {s}{unit}"
    return f"{x:.3g} {unit}"
