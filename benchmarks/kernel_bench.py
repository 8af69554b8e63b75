"""Side-by-side timing of numba-fused's kernels against the read of X and Y (a script, not a test).

    PYTHONPATH=src python benchmarks/kernel_bench.py [m,n[,k]] ...     e.g. 1e6,10 1e5,1 2e6,64

For each case, in interleaved rounds: the read of X and Y (gradrace's floor, on every
thread), numba-fused as prepare picks it, and its generic serial and parallel kernels;
printed as the median time and × the read.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from gradrace.bench.machine import read_once
from gradrace.implementations import numba_fused as nf


def _time(fn, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def candidates(args: tuple) -> dict:
    """The calls to compare on one prepared case."""
    X, Y, W, b, lam, picked = args
    out = {
        "picked": picked,
        "generic serial": nf._serial_kernel,
        "generic parallel": nf._parallel_kernel,
    }
    return {
        name: (lambda kernel=kernel: nf.gradient(X, Y, W, b, lam, kernel))
        for name, kernel in out.items()
    }


def bench(m: int, n: int, k: int = 1, dtype=np.float64, rounds: int = 15) -> dict:
    rng = np.random.default_rng(0)
    X, Y = rng.random((m, n)).astype(dtype), rng.random((m, k)).astype(dtype)
    W, b = rng.random((n, k)).astype(dtype), rng.random(k).astype(dtype)
    fns = {"read X+Y": read_once(X, 2, Y), **candidates(nf.prepare(X, Y, W, b, 0.1))}
    number = {name: max(1, int(0.01 / max(_time(f, 1), 1e-7))) for name, f in fns.items()}
    samples = {name: [] for name in fns}
    for _ in range(rounds):
        for name, f in fns.items():
            samples[name].append(_time(f, number[name]))
    return {name: statistics.median(s) for name, s in samples.items()}


def main(argv: list[str]) -> None:
    cases = [tuple(int(float(v)) for v in a.split(",")) for a in argv] or [(1_000_000, 10)]
    for case in cases:
        medians = bench(*case)
        floor = medians["read X+Y"]
        text = "  ".join(f"{k} {v * 1e3:.3f} ms ({v / floor:.2f}×)" for k, v in medians.items())
        print(f"m,n,k={case}: {text}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
