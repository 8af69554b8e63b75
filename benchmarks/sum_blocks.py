"""numba-fused's k = 1 loop summed in blocks of several sizes, on one thread (a script,
not a test).

    PYTHONPATH=src python benchmarks/sum_blocks.py [n,n,...]      (default 32,64,100,1000)

Each block is one call of the loop over its rows (``_one_output``), then added into
float64 totals, as ``_chunk`` does for short rows (long rows it groups over the whole
chunk, summed in pieces: docs/performance.md); for each m, the best of several calls in turns, as a
multiple of the one-thread read of X and Y. Long rows are grouped a quarter of the block
apart, so the block sets how far apart the four streams through X are.
"""

from __future__ import annotations

import functools
import sys

import numba
import numpy as np
from _turns import best_in_turns

from gradrace._jit import FASTMATH
from gradrace.bench.machine import read_once
from gradrace.implementations import numba_fused as nf

one_output = numba.njit(fastmath=set(FASTMATH), nogil=True)(nf._one_output.py_func)


@numba.njit(fastmath=set(FASTMATH), nogil=True)
def blocked(X, Y, w, b0, rows):
    """Σ r_i·x_i and Σ r_i over X, in blocks of ``rows`` rows joined in float64."""
    n = X.shape[1]
    acc, total, total_b = np.empty(n), np.zeros(n), 0.0
    for start in range(0, X.shape[0], rows):
        acc[:] = 0
        total_b += one_output(X[start : start + rows], Y[start : start + rows], w, b0, acc)
        total += acc
    return total, total_b


def main(argv: list[str]) -> None:
    widths = [int(v) for v in argv[0].split(",")] if argv else [32, 64, 100, 1000]
    for n in widths:
        for m in (10_000, 100_000, 1_000_000):
            if m * n > 10**8:
                continue
            rng = np.random.default_rng(0)
            X, Y, w = rng.random((m, n)), rng.random((m, 1)), rng.random(n)
            sizes = [max(nf.SUM_ROWS, nf.SUM_ENTRIES // n), 1024, 4096, 16384, m]
            calls = {s: functools.partial(blocked, X, Y, w, 0.3, s) for s in sizes}
            calls["read"] = read_once(X, 1, Y)
            reps = max(10, int(3e7 / (m * n)))
            best = best_in_turns(calls, reps)
            text = "  ".join(f"rows {s}: {best[s] / best['read']:.2f}×" for s in sizes)
            print(f"n={n} m={m:>7}: {text}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
