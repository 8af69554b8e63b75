"""Side by side: numba-fused's logistic version against numpy-dot's, best of a few calls.

    PYTHONPATH=src python benchmarks/logistic_microbench.py [--m 100000 1000000] [--n 10 100]
    OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 PYTHONPATH=src \
        python benchmarks/logistic_microbench.py --clock cpu

A quick look while tuning the kernel, not a measurement to quote: ``gradrace run
--problem logistic`` is the benchmark. Prints each case's best times and the ratio.
``--clock cpu`` times with the process's CPU time (all its threads together), which
a busy shared machine disturbs less than the wall clock; one thread each, as above,
compares the work per core.
"""

from __future__ import annotations

import argparse
import time

from gradrace import make_problem
from gradrace.implementations import numba_fused, numpy_dot


def best_of(impl, args, repeats: int, clock=time.perf_counter) -> float:
    """The fastest of ``repeats`` timed calls on prepared ``args``, in seconds of ``clock``."""
    impl.call(args)  # warm up
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        impl.call(args)
        best = min(best, clock() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--n", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--k", type=int, nargs="+", default=[1])
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    opts = parser.parse_args()
    clock = time.process_time if opts.clock == "cpu" else time.perf_counter
    fused = numba_fused.IMPLEMENTATION.for_problem("logistic")
    dot = numpy_dot.IMPLEMENTATION.for_problem("logistic")
    print(f"{'m':>9} {'n':>4} {'k':>3}  {'numpy-dot ms':>12} {'fused ms':>9}  ratio")
    for m in opts.m:
        for n in opts.n:
            for k in opts.k:
                p = make_problem(m, n, k, opts.dtype, problem="logistic", seed=0)
                t_dot = best_of(dot, dot.prepare_args(*p.args), opts.repeats, clock)
                t_fused = best_of(fused, fused.prepare_args(*p.args), opts.repeats, clock)
                print(
                    f"{m:>9} {n:>4} {k:>3}  {t_dot * 1e3:>12.3f} {t_fused * 1e3:>9.3f}  "
                    f"{t_fused / t_dot:.2f}"
                )


if __name__ == "__main__":
    main()
