"""numba-fused with k > 1 outputs against the BLAS peak, side by side (a script, not a test).

    PYTHONPATH=src python benchmarks/many_outputs_bench.py [m,n,k[,f32]] ...
    e.g. PYTHONPATH=src python benchmarks/many_outputs_bench.py 1e5,100,10 1e5,100,10,f32

For each case, in interleaved rounds: a 384 × 384 matrix product in the case's dtype
(the BLAS peak, 2·384³ flops) and numba-fused (4·m·n·k flops), once on one thread each
(numba-fused's serial kernel, BLAS held to one thread) and once on every thread (its
parallel kernel). Each is the best of its rounds, since the machine may be shared; the
one-thread figures are the steadier there. Printed as GFLOP/s and numba-fused's share
of the peak. With no cases, the default set below. It runs as gradrace's timing workers
do, OpenBLAS's idle threads asleep at once (gradrace/bench/worker.py's ``WORKER_ENV``),
restarting itself to set that.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from gradrace.bench.worker import environment_additions
from gradrace.implementations import numba_fused as nf

DEFAULT = (
    "1e5,100,10",
    "1e5,100,2",
    "1e5,100,4",
    "1e5,100,16",
    "1e5,10,10",
    "1e4,1000,10",
    "1e5,100,10,f32",
    "1e5,100,4,f32",
)


def _best(fn, number: int) -> float:
    """Seconds per call of ``fn`` over ``number`` calls."""
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def bench(m: int, n: int, k: int, dtype=np.float64, rounds: int = 10) -> dict:
    """{"1 thread" | "all threads": (fused GFLOP/s, matmul GFLOP/s)}, best of ``rounds``."""
    rng = np.random.default_rng(0)
    X, Y = rng.random((m, n)).astype(dtype), rng.random((m, k)).astype(dtype)
    W, b = rng.random((n, k)).astype(dtype), rng.random(k).astype(dtype)
    A, B = rng.random((384, 384)).astype(dtype), rng.random((384, 384)).astype(dtype)
    X, Y, W, b, lam, _ = nf.prepare(X, Y, W, b, 0.1)
    flops = {"fused": 4.0 * m * n * k, "matmul": 2.0 * 384**3}
    out = {}
    for label, kernel, blas in (
        ("1 thread", nf._serial_kernel, 1),
        ("all threads", nf._parallel_kernel, None),
    ):
        fns = {"fused": lambda k=kernel: nf.gradient(X, Y, W, b, lam, k), "matmul": lambda: A @ B}
        with threadpool_limits(blas):
            number = {name: max(1, int(0.005 / max(_best(f, 1), 1e-7))) for name, f in fns.items()}
            best = dict.fromkeys(fns, float("inf"))
            for _ in range(rounds):
                for name, f in fns.items():
                    best[name] = min(best[name], _best(f, number[name]))
        out[label] = tuple(flops[name] / best[name] / 1e9 for name in ("fused", "matmul"))
    return out


def main(argv: list[str]) -> None:
    added = environment_additions()
    if added:
        # as gradrace's timing workers run: OpenBLAS's idle threads otherwise spin for a
        # tenth of a second after each matrix product, on the cores numba's threads need
        os.execve(sys.executable, sys.orig_argv, {**os.environ, **added})
    for case in argv or DEFAULT:
        parts = case.split(",")
        dtype = np.float32 if parts[3:] == ["f32"] else np.float64
        m, n, k = (int(float(v)) for v in parts[:3])
        name = f"m={m:g} n={n} k={k} {np.dtype(dtype).name}"
        for label, (fused, peak) in bench(m, n, k, dtype).items():
            share = fused / peak
            print(
                f"{name:<28} {label:<11} fused {fused:6.1f} GFLOP/s  matmul {peak:6.1f}  {share:4.0%}"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
