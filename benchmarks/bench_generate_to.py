"""Peak memory of streaming many generated curves to a file (``Generator.generate_to``).

Generates ``--n`` curves of ``--points`` points with the shipped pretrained model
(``Generator.load()``, default regressor) into a Parquet file chunk by chunk and reports the
process's peak resident memory (``ru_maxrss``) against the baseline measured in the same run
(after loading the model and generating one warm-up chunk), the memory the same curves would need
in memory (7 float arrays [n, T]), the file size and the rate.

Usage::

    python benchmarks/bench_generate_to.py --n 1000000 --points 100 --out /tmp/lcs.parquet
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import print_machine_info  # noqa: E402


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="curves")
    ap.add_argument("--points", type=int, default=100, help="survey epochs per curve")
    ap.add_argument("--chunk", type=int, default=10_000, help="curves per chunk")
    ap.add_argument("--cls", default="RRLYR")
    ap.add_argument("--out", default="/tmp/bench_generate_to.parquet")
    args = ap.parse_args(argv)

    from pelsvae_tf.generate.cadence import survey_cadence
    from pelsvae_tf.generate.generator import Generator

    print_machine_info()
    warnings.simplefilter("ignore")
    gen = Generator.load()
    cad = survey_cadence(args.points, 3000.0, seed=0)
    gen.generate_to(
        Path(args.out).with_suffix(".warm.parquet"), args.cls, n=args.chunk, cadence=cad, seed=1, progress=False
    )
    base = _peak_mib()
    t = time.perf_counter()
    gen.generate_to(args.out, args.cls, n=args.n, cadence=cad, seed=0, chunk_curves=args.chunk)
    dt = time.perf_counter() - t
    peak = _peak_mib()
    in_memory = args.n * args.points * 7 * 8 / 2**20
    size = Path(args.out).stat().st_size / 2**20
    print(
        f"generate_to: {args.n:,} {args.cls} curves x {args.points} points in {dt:.0f} s "
        f"({args.n / dt:,.0f} curves/s), file {size:,.0f} MiB"
    )
    print(
        f"peak RSS {peak:,.0f} MiB; baseline after load + one {args.chunk:,}-curve chunk {base:,.0f} MiB "
        f"(peak / baseline {peak / base:.2f}x); the in-memory result would need ~{in_memory:,.0f} MiB "
        f"(peak / in-memory {peak / in_memory:.3f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
