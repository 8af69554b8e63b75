"""pytest-benchmark: every registered implementation × a small grid, grouped by size.

Each benchmark times only the ``gradient`` call on prepared data, with the calls per
round chosen by the same calibration as ``gradrace run``; ``extra_info`` records the
implementation and the case so ``gradrace report`` reads the JSON without parsing
test names. A correctness assertion guards each benchmark.
"""

from __future__ import annotations

import pytest

from gradrace.bench.agreement import judge
from gradrace.bench.machine import cpu_count, set_all_threads
from gradrace.bench.timing import ROUNDS, calibrate


def test_gradient(benchmark, bench_impl, bench_case):
    if bench_impl.applies(bench_case.k):
        pytest.skip(f"{bench_impl.name} {bench_impl.applies(bench_case.k)}")
    problem = bench_case.problem()
    threads = cpu_count()
    limiter = set_all_threads(threads)
    try:
        args = bench_impl.prepare_args(*problem.args)  # untimed: layout changes, JIT compilation
        outcome = judge(bench_impl.call(args), problem, terms=bench_impl.terms)
        assert outcome.agrees, f"{bench_impl.name} on {bench_case.label}: {outcome.message}"
        benchmark.group = f"m={bench_case.m} n={bench_case.n} k={bench_case.k} {bench_case.dtype}"
        benchmark.extra_info.update(
            implementation=bench_impl.name, m=bench_case.m, n=bench_case.n, k=bench_case.k,
            dtype=bench_case.dtype, threads=threads, error=outcome.error,
        )  # fmt: skip
        number = 1 if benchmark.disabled else calibrate(lambda: bench_impl.gradient(*args))[0]
        benchmark.pedantic(bench_impl.gradient, args=args, rounds=ROUNDS, iterations=number,
                           warmup_rounds=1)  # fmt: skip
    finally:
        limiter.restore_original_limits()
