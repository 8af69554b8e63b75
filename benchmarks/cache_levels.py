"""numba-fused's serial kernel against a one-thread read, from the L2 out to memory (a
script, not a test).

    PYTHONPATH=src python benchmarks/cache_levels.py [n] [m,m,...]     (default 100 and
                                                     500 … 300000 rows)

For each m, in turns, the best of several calls of the generic serial kernel and of the
read of X and Y on one thread (gradrace's floor), as GB/s of X. Where X fits in the L2
the kernel runs at its own rate, the work per entry, with the read far ahead; from the L3
out the read slows, and the kernel's rate there against the read is the best multiple of
the limit one thread of it can reach.
"""

from __future__ import annotations

import functools
import sys

import numpy as np
from _turns import best_in_turns

from gradrace.bench.machine import read_once
from gradrace.implementations import numba_fused as nf


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 100
    sizes = [int(v) for v in argv[1].split(",")] if len(argv) > 1 else None
    for m in sizes or [500, 1000, 4000, 10_000, 30_000, 100_000, 300_000]:
        rng = np.random.default_rng(0)
        X, Y, W, b = rng.random((m, n)), rng.random((m, 1)), rng.random((n, 1)), rng.random(1)
        kernel = functools.partial(nf.gradient, X, Y, W, b, 0.1, nf._serial_kernel)
        read = read_once(X, 1, Y)
        reps = max(20, int(2e7 / (m * n)))
        best = best_in_turns({"kernel": kernel, "read": read}, reps)
        rate = {name: X.nbytes / s / 1e9 for name, s in best.items()}
        print(
            f"n={n} m={m:>7} X {X.nbytes / 2**20:7.2f} MiB: kernel {rate['kernel']:6.1f} GB/s, "
            f"read {rate['read']:6.1f} GB/s, kernel ÷ read {best['kernel'] / best['read']:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
