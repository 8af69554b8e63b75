"""numba-fused on a busy machine: serial, parallel and dynamically scheduled kernels,
quiet and beside a load (a script, not a test).

    PYTHONPATH=src python benchmarks/busy_bench.py

Loads: /work/shared/tools/busy.py-like parallel numba loop on every core ("numba"), and
one plain Python busy loop ("spin"). Each figure is a median of rounds of calls, as ×
the quiet serial median of the same case. "prepared" is what prepare picked, before the
load started for the quiet rows.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import numba
import numpy as np

from gradrace.implementations import numba_fused as nf

BUSY = """
import time, numpy as np, numba
@numba.njit(parallel=True, fastmath=True)
def psum(a):
    s = 0.0
    for i in numba.prange(a.size):
        s += a[i] * 1.0000001
    return s
a = np.random.default_rng(0).random(1_000_000)
while True:
    psum(a)
"""
SPIN = "while True: pass"
CASES = [(1_000, 100), (100_000, 100)]


def median_call(fn, rounds: int = 21, target_s: float = 0.01) -> float:
    fn()
    start = time.perf_counter()
    fn()
    number = max(1, int(target_s / max(time.perf_counter() - start, 1e-7)))
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def modes(args) -> dict:
    X, Y, W, b, lam, _ = args

    def chunked(size):
        def call():
            with numba.parallel_chunksize(size):
                nf.gradient(X, Y, W, b, lam, nf._parallel_kernel)

        return call

    return {
        "serial": lambda: nf.gradient(X, Y, W, b, lam, nf._serial_kernel),
        "parallel": lambda: nf.gradient(X, Y, W, b, lam, nf._parallel_kernel),
        "parallel chunksize 1": chunked(1),
        "prepared": lambda: nf.gradient(*args),  # the kernel and threads prepare chose
    }


def run_all(label: str, quiet: dict) -> dict:
    out = {}
    for m, n in CASES:
        rng = np.random.default_rng(0)
        X, Y, W, b = rng.random((m, n)), rng.random((m, 1)), rng.random((n, 1)), rng.random(1)
        args = nf.prepare(X, Y, W, b, 0.1)
        calls = modes(args)
        for name, fn in calls.items():
            t = median_call(fn)
            out[(m, n, name)] = t
            base = quiet.get((m, n, "serial"), t)
            print(
                f"{label:6} m={m} n={n} {name:22} {t * 1e6:10.1f} µs  {t / base:6.2f}× quiet serial",
                flush=True,
            )
    return out


def main() -> None:
    quiet = run_all("quiet", {})
    for label, code, copies in (("numba", BUSY, 1), ("spin", SPIN, 1)):
        procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(copies)]
        try:
            time.sleep(2.0)
            run_all(label, quiet)
        finally:
            for p in procs:
                p.kill()
                p.wait()


if __name__ == "__main__":
    main()
