"""numba-fused's kernels for narrow X on this machine (a script, not a test).

    PYTHONPATH=src python benchmarks/narrow_kernels.py [--m 100000,1000000] [--n 10]
        [--rounds 30]

Times, for k = 1, the kernel compiled for one width (``numba_narrow``) with numba-fused's
fastmath licence (reassociation and contraction) and with contraction alone, and the
generic kernels, serial and parallel, each the median of ``--rounds`` calls; then says
which one numba-fused's prepare chooses here (``faster_here``). Run it with
``GRADRACE_NUMBA_VECTORS=native`` to see numba's own code generation, gather
instructions included (docs/performance.md).
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from gradrace import make_problem
from gradrace._jit import CONTRACT_JIT_OPTIONS
from gradrace.implementations import numba_fused as nf
from gradrace.implementations import numba_narrow


def median_ms(call, rounds: int) -> float:
    call()  # compile, or load from the cache
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def contract_only_chunk(n: int):
    """The narrow kernel's block of rows compiled with contraction alone (no reassociation)."""
    text = numba_narrow.source(n).split("def chunks_parallel")[0]
    space = {"np": np, "prange": numba.prange, "block_rows": nf.block_rows}
    exec(compile(text, "<narrow, contract only>", "exec"), space)
    return numba.njit(**{**CONTRACT_JIT_OPTIONS, "cache": False})(space["chunk"])


def one_size(m: int, n: int, rounds: int) -> None:
    """Each kernel's median at one size, and the one prepare chose."""
    p = make_problem(m, n, 1, seed=0)
    X, Y, W, b, lam, picked = nf.prepare(*p.args)
    serial, parallel = nf.narrow_kernels(n)
    kernels = {
        "narrow, serial": serial,
        "narrow, parallel": parallel,
        "generic, serial": nf._serial_kernel,
        "generic, parallel": nf._parallel_kernel,
    }
    for label, kernel in kernels.items():
        ms = median_ms(lambda k=kernel: nf.gradient(X, Y, W, b, lam, k), rounds)
        print(f"m={m:,} n={n}: {label:<18} {ms:8.3f} ms")
    chunk, total, total_b = contract_only_chunk(n), np.zeros((1, n)), np.zeros(1)
    Wt = np.ascontiguousarray(W.T)
    ms = median_ms(lambda: chunk(X, Y, Wt, b, total, total_b), rounds)
    print(f"m={m:,} n={n}: narrow, serial, contraction only {ms:8.3f} ms")
    chosen = next((label for label, k in kernels.items() if k is picked), str(picked))
    print(f"m={m:,} n={n}: prepare chose {chosen}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m", default="100000,1000000")
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    for m in (int(v) for v in args.m.split(",")):
        one_size(m, args.n, args.rounds)


if __name__ == "__main__":
    main()
