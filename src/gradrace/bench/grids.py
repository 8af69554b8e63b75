"""Problem sizes: the fixed agreement-check cases and the timing grids."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from gradrace.bench import arguments
from gradrace.bench.problem import PROBLEMS, Problem, check_dtype, check_problem, make_problem


@dataclass(frozen=True, order=True)
class Case:
    """One problem size and dtype; ``lam`` is the regularization strength used and
    ``model`` the gradient asked for, one of ``PROBLEMS`` (``problem()`` makes its data)."""

    m: int
    n: int
    k: int = 1
    dtype: str = "float64"
    lam: float = 1.0
    seed: int = 0
    model: str = "linear"

    def __post_init__(self) -> None:
        check_problem(self.model)

    @property
    def label(self) -> str:
        size = f"m={self.m} n={self.n} k={self.k} {self.dtype} λ={self.lam:g}"
        return size if self.model == "linear" else f"{self.model} {size}"

    @property
    def size(self) -> int:
        """Number of entries of X: what the cost of a gradient grows with."""
        return self.m * self.n

    def problem(self) -> Problem:
        return make_problem(
            self.m, self.n, self.k, self.dtype, lam=self.lam, seed=self.seed, problem=self.model
        )


def check_case(
    m: int, n: int, k: int, dtype: str, regularized: bool, model: str = "linear"
) -> Case:
    """One agreement-check case: λ = m/2 when regularized (λ/m = 0.5 makes regularization
    slips visible), else 0; the seed fixed by the shape."""
    lam = m / 2 if regularized else 0.0
    return Case(m, n, k, dtype, lam, seed=m * 1000 + n * 10 + k, model=model)


def parse_problems(text: str, option: str = "--problem") -> list[str]:
    """Parse 'linear,logistic' (or 'both') into problem names, naming ``option`` in any
    error."""
    if text.strip() == "both":
        return list(PROBLEMS)
    try:
        return list(dict.fromkeys(check_problem(part.strip()) for part in text.split(",")))
    except ValueError as exc:
        raise ValueError(f"{option}: {exc}") from None


def for_problems(cases, problems=("linear",)) -> tuple[Case, ...]:
    """Each of ``cases`` once per problem in ``problems``, problem by problem."""
    return tuple(replace(c, model=p) for p in dict.fromkeys(problems) for c in cases)


def _check_cases() -> tuple[Case, ...]:
    shapes = [
        (1, 3, 1),  # a single sample
        (5, 1, 1),  # a single feature
        (20, 4, 1),
        (7, 3, 3),  # n == k: catches a transposed W or dW
        (50, 6, 4),  # multi-output
        (200, 30, 2),
    ]
    return tuple(
        check_case(m, n, k, dtype, regularized)
        for (m, n, k), dtype, regularized in itertools.product(
            shapes, ("float64", "float32"), (False, True)
        )
    )


#: The agreement check's cases: λ = 0 and λ > 0, float64 and float32, edge shapes.
CHECK_CASES: tuple[Case, ...] = _check_cases()


def check_cases(m=None, n=None, k=None, dtype=None, problem=None) -> tuple[Case, ...]:
    """The agreement check's cases restricted by the given values (None: not restricted),
    for each of ``problem`` (default: linear only).

    With both ``m`` and ``n``, the cases are built: every m × n × k (k default 1) × dtype
    (default both), each with λ = 0 and λ = m/2. Otherwise ``CHECK_CASES`` is filtered to
    the values given, and nothing left is an error that names what is available.
    """
    problems = tuple(problem or ("linear",))
    if m and n:
        built = tuple(
            check_case(mm, nn, kk, dt, regularized)
            for mm, nn, kk, dt, regularized in itertools.product(
                m, n, k or (1,), dtype or ("float64", "float32"), (False, True)
            )
        )
        return for_problems(built, problems)
    given = {"m": m, "n": n, "k": k, "dtype": dtype}
    cases = tuple(
        c
        for c in CHECK_CASES
        if all(not values or getattr(c, axis) in values for axis, values in given.items())
    )
    if not cases:
        shapes = ", ".join(dict.fromkeys(f"m={c.m} n={c.n} k={c.k}" for c in CHECK_CASES))
        raise ValueError(
            "no check case has "
            + " ".join(f"{a}={','.join(map(str, v))}" for a, v in given.items() if v)
            + f"; the check cases are {shapes} (float64 and float32); give both m and n "
            "(--m and --n) to check other shapes"
        )
    return for_problems(cases, problems)


def parse_ints(text: str, option: str) -> list[int]:
    """Parse '10,100,1e3' into [10, 100, 1000], naming ``option`` in any error: every value
    a finite whole number of at least 1, and at least one value."""
    if not text.strip():
        raise ValueError(f"{option}: give at least one number, such as 100,1e4; got {text!r}")
    values = []
    for part in text.split(","):
        part = part.strip().replace("_", "")
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"{option}: {part!r} is not a number") from None
        values.append(arguments.integer(option + ":", value, got=repr(part)))
    return values


def parse_dtypes(text: str, option: str = "--dtype") -> list[str]:
    """Parse 'float64,float32' into dtype names, naming ``option`` in any error; only
    these names, so that 'float' (numpy's alias of float64) is not taken for float32."""
    names = [part.strip() for part in text.split(",")]
    try:
        dtypes = [str(check_dtype(name)) for name in names]
    except ValueError as exc:
        raise ValueError(f"{option}: {exc}") from None
    for name, dtype in zip(names, dtypes, strict=True):
        if name != dtype:
            raise ValueError(
                f"{option}: write float64 or float32 ({name!r} would be numpy's {dtype})"
            )
    return dtypes


#: The largest X (entries) the default grid times: 10⁷ entries, 80 MB in float64.
DEFAULT_MAX_ENTRIES = 10_000_000
DEFAULT_M = (10, 100, 1_000, 10_000, 100_000, 1_000_000)
DEFAULT_N = (1, 10, 100, 1_000)
QUICK_M = (10, 1_000, 100_000)
QUICK_N = (1, 10, 100)
QUICK_MAX_ENTRIES = 1_000_000


def grid(
    ms, ns, ks=(1,), dtypes=("float64",), max_entries: int | None = None, lam: float = 1.0
) -> list[Case]:
    """Every (m, n, k, dtype) with at most ``max_entries`` entries in X, smallest first.

    Cases are ordered so that for each (dtype, k, n) m grows, which lets the run
    predict a slow implementation's time at the next size from the previous one.
    """
    cases = [
        Case(m, n, k, dtype, lam, seed=0)
        for dtype, k, n, m in itertools.product(
            dict.fromkeys(dtypes), sorted(set(ks)), sorted(set(ns)), sorted(set(ms))
        )
        if max_entries is None or m * n <= max_entries
    ]
    return cases


def default_grid(ks=(1,), dtypes=("float64",)) -> list[Case]:
    """m from 10 to 10⁶ and n from 1 to 1000, keeping X at most 10⁷ entries (80 MB)."""
    return grid(DEFAULT_M, DEFAULT_N, ks, dtypes, DEFAULT_MAX_ENTRIES)


def quick_grid(ks=(1,), dtypes=("float64",)) -> list[Case]:
    """A 30-second taste: three m, three n, X at most 10⁶ entries."""
    return grid(QUICK_M, QUICK_N, ks, dtypes, QUICK_MAX_ENTRIES)


def group_of(case: Case) -> str:
    """pytest-benchmark's group of a case: one table per problem size (and problem)."""
    size = f"m={case.m} n={case.n} k={case.k} {case.dtype}"
    return size if case.model == "linear" else f"{case.model} {size}"


def case_id(case: Case) -> str:
    """A pytest test id for a case, such as ``m1000-n10-k1-float64`` (``logistic-m1000-…``
    for a problem other than linear)."""
    size = f"m{case.m}-n{case.n}-k{case.k}-{case.dtype}"
    return size if case.model == "linear" else f"{case.model}-{size}"
