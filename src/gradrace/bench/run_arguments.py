"""The checks of ``run()``'s arguments, before a folder is made or a worker started."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from gradrace.bench import arguments
from gradrace.bench.problem import PROBLEMS, check_dtype, check_problem


class RunArguments(NamedTuple):
    """``run()``'s numeric arguments, checked and converted, in ``run()``'s order."""

    m: tuple[int, ...] | None
    n: tuple[int, ...] | None
    k: tuple[int, ...]
    dtype: tuple[str, ...]
    threads: int | None
    budget: float
    timeout: float


def dtypes(name: str, values: object) -> tuple[str, ...]:
    """A non-empty list of supported dtypes (one name alone is allowed)."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        values = (values,)
    values = tuple(values)
    if not values:
        raise ValueError(f"{name} must list at least one dtype (float64, float32), got none")
    out = []
    for value in values:
        try:
            out.append(str(check_dtype(value)))
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    return tuple(out)


def problems(name: str, values: object) -> tuple[str, ...]:
    """A non-empty list of known problems (one name alone, or 'both', is allowed), without
    repeats."""
    if values == "both":
        return PROBLEMS
    if isinstance(values, str) or not isinstance(values, Iterable):
        values = (values,)
    values = tuple(values)
    if not values:
        raise ValueError(f"{name} must list at least one problem (linear, logistic), got none")
    try:
        return tuple(dict.fromkeys(check_problem(value) for value in values))
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def check_run_arguments(m, n, k, dtype, threads, budget, timeout) -> RunArguments:
    """Check ``run()``'s sizes and numbers; raise ValueError naming the argument."""
    return RunArguments(
        m=None if m is None else arguments.integers("m", m),
        n=None if n is None else arguments.integers("n", n),
        k=arguments.integers("k", k),
        dtype=dtypes("dtype", dtype),
        threads=None if threads is None else arguments.integer("threads", threads),
        budget=arguments.number("budget", budget, above=0),
        timeout=arguments.number("timeout", timeout, minimum=0.1),
    )
