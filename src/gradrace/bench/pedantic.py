"""One gradrace benchmark through pytest-benchmark's ``benchmark`` fixture.

Checks the implementation against the reference, then times only its ``gradient``
call on prepared data in pedantic mode, with the calls per round chosen by the same
calibration as ``gradrace run`` and the garbage collector off. ``extra_info`` records
the implementation and the case, which is what ``gradrace report`` reads from a
``--benchmark-json`` file. The ``gradrace_benchmark`` fixture and the
``gradrace.benchmarks`` suite both time through ``time_gradient``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from gradrace.bench.agreement import Outcome, judge
from gradrace.bench.grids import Case, group_of
from gradrace.bench.implementation import Implementation
from gradrace.bench.machine import cpu_count, set_all_threads
from gradrace.bench.problem import check_dtype, check_problem
from gradrace.bench.registry import as_implementation
from gradrace.bench.timing import ROUNDS, calibrate
from gradrace.bench.traits import record


class DisagreementError(AssertionError):
    """The implementation's gradient does not agree with the reference: nothing is timed."""


class NotApplicable(Exception):
    """The implementation does not handle this case (e.g. k > 1 for a single-output one)."""


@contextmanager
def _threads_and_no_gc(threads: int) -> Iterator[None]:
    limiter = set_all_threads(threads)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc_was_enabled:
            gc.enable()
        limiter.restore_original_limits()


def resolve_case(
    case: Case | None, m: int | None, n: int | None, k: int, dtype: str, problem: str = "linear"
) -> Case:
    """``case`` itself, or the case of size (m, n, k), ``dtype`` and ``problem``; exactly
    one of the two."""
    if case is not None:
        if m is not None or n is not None:
            raise TypeError("give either a Case or m and n, not both")
        if not isinstance(case, Case):
            raise TypeError(f"case must be a gradrace Case, got {type(case).__name__}")
        return case
    if m is None or n is None:
        raise TypeError("give the problem size: m and n (or a Case)")
    for name, value in (("m", m), ("n", n), ("k", k)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return Case(m, n, k, str(check_dtype(dtype)), model=check_problem(problem))


def time_gradient(
    benchmark: Any,
    implementation: Implementation | Callable,
    case: Case | None = None,
    *,
    m: int | None = None,
    n: int | None = None,
    k: int = 1,
    dtype: str = "float64",
    threads: int | None = None,
    problem: str = "linear",
) -> Outcome:
    """Check ``implementation`` on one case and time its ``gradient`` with ``benchmark``.

    ``implementation`` is an ``Implementation`` or a plain ``gradient(X, Y, W, b, lam)``
    function; the case is ``case`` or (m, n, k, dtype, problem), and the version of
    ``implementation`` for its problem is the one timed. Raises ``DisagreementError`` (an
    AssertionError, so pytest reports a failed test) when the output does not agree with
    the reference, and ``NotApplicable`` for a case it does not handle. When pytest-benchmark is disabled (``--benchmark-disable``) the
    gradient runs once, as a plain test. Returns the agreement outcome.
    """
    __tracebackhide__ = True  # pytest shows the test's line and the error, not this function
    implementation = as_implementation(
        implementation, getattr(implementation, "__name__", ""), "the implementation"
    )
    case = resolve_case(case, m, n, k, dtype, problem)
    why = implementation.applies_to(case.model, case.k)
    if why:
        raise NotApplicable(f"{implementation.name}: {why}")
    traits = record(implementation, "pytest-benchmark", [case])
    implementation = implementation.for_problem(case.model)
    problem = case.problem()
    threads = cpu_count() if threads is None else threads
    with _threads_and_no_gc(threads):
        args = implementation.prepare_args(*problem.args)  # untimed: layout, JIT compilation
        outcome = judge(implementation.call(args), problem, terms=implementation.terms)
        if not outcome.agrees:
            raise DisagreementError(f"{implementation.name} on {case.label}: {outcome.message}")
        benchmark.group = group_of(case)
        benchmark.extra_info.update(
            implementation=implementation.name,
            m=case.m,
            n=case.n,
            k=case.k,
            dtype=case.dtype,
            problem=case.model,
            threads=threads,
            error=outcome.error,
            traits=traits,
        )
        disabled = getattr(benchmark, "disabled", False)
        number = 1 if disabled else calibrate(lambda: implementation.gradient(*args))[0]
        benchmark.pedantic(
            implementation.gradient, args=args, rounds=ROUNDS, iterations=number, warmup_rounds=1
        )
    return outcome
