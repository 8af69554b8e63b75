"""numba-fused's serial kernel against a one-thread read, from the L1 out to memory (a
script, not a test).

    PYTHONPATH=src python benchmarks/cache_levels.py [n] [m,m,...]     (default 100 and
                                                     500 … 300000 rows)

For each m, in turns, the best of several calls of the generic serial kernel and of the
read of X and Y on one thread (gradrace's floor), as GB/s of X. Where X fits in the L2
the kernel runs at its own rate, the work per entry, with the read far ahead; from the L3
out the read slows, and the kernel's rate there against the read is the best multiple of
the limit one thread of it can reach. The first line is the kernel's k = 1 loop alone
over rows that fit in the L1 cache (32 KB of them), repeated inside one compiled call: its
rate with no cache misses and no call around it.

Each kernel rate is given twice: for X where numpy put it, and for a copy of X on a
64-byte boundary. numpy puts a large array 16 bytes past the start of a page, so where a
row is a whole number of cache lines, every vector the kernel loads from it spans two
lines; on a 64-byte boundary none does.
"""

from __future__ import annotations

import functools
import sys

import numpy as np
from _turns import best_in_turns

from gradrace._jit import njit_fast
from gradrace.bench.machine import read_once
from gradrace.implementations import numba_fused as nf


@njit_fast
def _loop_repeated(X, Y, w, acc, reps):
    """numba-fused's k = 1 loop over the rows of X, ``reps`` times in one compiled call."""
    total = 0.0
    for _ in range(reps):
        total += nf._one_output(X, Y, w, 0.3, acc)
    return total


def in_l1(n: int) -> None:
    """Print the k = 1 loop's rate over 32 KB of rows of ``n`` features, in the L1."""
    rows = max(4, 32_768 // (8 * n))
    rng = np.random.default_rng(0)
    X, Y, w = rng.random((rows, n)), rng.random((rows, 1)), rng.random(n)
    reps = max(1, int(4e7 / X.size))
    loops = {
        where: functools.partial(_loop_repeated, x, Y, w, np.zeros(n), reps)
        for where, x in (("as placed", X), ("aligned", on_a_line(X)))
    }
    best = best_in_turns(loops, 5)
    rate = {where: X.nbytes * reps / s / 1e9 for where, s in best.items()}
    print(
        f"n={n} X in the L1 ({rows} rows): the k = 1 loop alone {rate['as placed']:6.1f} GB/s "
        f"(X at {X.ctypes.data % 64} bytes past a line), {rate['aligned']:6.1f} GB/s aligned",
        flush=True,
    )


def on_a_line(X: np.ndarray) -> np.ndarray:
    """A copy of X starting on a 64-byte boundary."""
    buffer = np.empty(X.size + 64 // X.itemsize, dtype=X.dtype)
    start = (-buffer.ctypes.data % 64) // X.itemsize
    copy = buffer[start : start + X.size].reshape(X.shape)
    copy[:] = X
    return copy


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 100
    sizes = [int(v) for v in argv[1].split(",")] if len(argv) > 1 else None
    in_l1(n)
    for m in sizes or [500, 1000, 4000, 10_000, 30_000, 100_000, 300_000]:
        rng = np.random.default_rng(0)
        X, Y, W, b = rng.random((m, n)), rng.random((m, 1)), rng.random((n, 1)), rng.random(1)
        calls = {
            "kernel": functools.partial(nf.gradient, X, Y, W, b, 0.1, nf._serial_kernel),
            "aligned": functools.partial(
                nf.gradient, on_a_line(X), Y, W, b, 0.1, nf._serial_kernel
            ),
            "read": read_once(X, 1, Y),
        }
        reps = max(20, int(2e7 / (m * n)))
        best = best_in_turns(calls, reps)
        rate = {name: X.nbytes / s / 1e9 for name, s in best.items()}
        print(
            f"n={n} m={m:>7} X {X.nbytes / 2**20:7.2f} MiB: kernel {rate['kernel']:6.1f} GB/s "
            f"({rate['aligned']:6.1f} aligned), read {rate['read']:6.1f} GB/s, kernel ÷ read "
            f"{best['kernel'] / best['read']:.2f} ({best['aligned'] / best['read']:.2f} aligned)",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
