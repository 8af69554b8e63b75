"""numba-fused's two k = 1 loops for long rows, pipelined and not, on one thread (a script,
not a test).

    PYTHONPATH=src python benchmarks/long_rows.py [n,n,...] [MB,MB,...]
                                                  (default 100,200,400,800,1000 and 8,80)

``_one_output_long`` adds the outer products of one group of four rows while it sums the
next group's residuals; ``_one_output_longest`` sums a group's residuals, then adds its
outer products. For each n, X of each size in MB, the best of several calls in turns, as
a multiple of the one-thread read of X and Y.
"""

from __future__ import annotations

import functools
import sys

import numpy as np
from _turns import best_in_turns

from gradrace.bench.machine import read_once
from gradrace.implementations import numba_fused as nf


def main(argv: list[str]) -> None:
    widths = [int(v) for v in argv[0].split(",")] if argv else [100, 200, 400, 800, 1000]
    sizes = [float(v) for v in argv[1].split(",")] if len(argv) > 1 else [8, 80]
    for n in widths:
        for mb in sizes:
            m = int(mb * 1e6 / (8 * n))
            rng = np.random.default_rng(0)
            X, Y, w = rng.random((m, n)), rng.random((m, 1)), rng.random(n)
            acc = np.zeros(n)
            calls = {
                "pipelined": functools.partial(nf._one_output_long, X, Y, w, 0.3, acc),
                "not": functools.partial(nf._one_output_longest, X, Y, w, 0.3, acc),
                "read": read_once(X, 1, Y),
            }
            reps = max(20, int(3e7 / (m * n)))
            best = best_in_turns(calls, reps)
            print(
                f"n={n} X {mb:g} MB: pipelined {best['pipelined'] / best['read']:.2f}×, "
                f"not pipelined {best['not'] / best['read']:.2f}× the read",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:])
