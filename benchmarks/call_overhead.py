"""Where numba-fused's call goes at a tiny size (a script, not a test).

    PYTHONPATH=src python benchmarks/call_overhead.py [m] [n]      (default 8 2)

The best of seven timeit repeats of each piece of the timed call: the whole call as the
harness makes it, the call itself, the kernel alone (numba's dispatch and the work), and
the two fresh outputs, as copies and as ``np.empty``.
"""

from __future__ import annotations

import sys
import timeit

import numpy as np

from gradrace import make_problem
from gradrace.implementations import numba_fused as nf


def best_ns(stmt, space: dict, number: int = 100_000) -> float:
    return min(timeit.repeat(stmt, globals=space, number=number, repeat=7)) / number * 1e9


def main() -> None:
    m, n = (int(v) for v in (sys.argv[1:] + ["8", "2"][len(sys.argv) - 1 :])[:2])
    X, Y, W, b, lam, kernel = nf.prepare(*make_problem(m, n, 1, seed=0).args)
    args = (X, Y, W, b, lam, kernel)
    space = {"g": nf.gradient, "a": args, "k": kernel, "X": X, "Y": Y, "W": W, "b": b}
    space.update(lam=lam, np=np)
    space.update(harness=lambda g=nf.gradient, a=args: g(*a), dW=W.copy(), db=b.copy())
    pieces = {
        "as the harness calls it": "harness()",
        "the call": "g(*a)",
        "the kernel alone": "k(X, Y, W, b, lam, dW, db)",
        "W.copy(), b.copy()": "W.copy(); b.copy()",
        "np.empty(shape, dtype) twice": "np.empty(W.shape, W.dtype); np.empty(b.shape, b.dtype)",
    }
    for label, stmt in pieces.items():
        print(f"m={m} n={n}: {label:<30} {best_ns(stmt, space):7.0f} ns")


if __name__ == "__main__":
    main()
