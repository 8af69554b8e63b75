"""gradrace's pytest plugin: the --gradrace-* options and the benchmark fixtures.

pytest loads it in every session where gradrace is installed (entry point ``pytest11``
named ``gradrace``; ``-p no:gradrace`` turns it off), so importing it costs nothing:
numpy, numba and the registry are loaded only when a test uses a gradrace fixture or
when ``--gradrace-plugin`` or ``--gradrace-impl`` is given. It leaves pytest-benchmark's
own settings alone.

Fixtures:

- ``gradrace_benchmark``: ``gradrace_benchmark(implementation, m=..., n=...)`` checks an
  ``Implementation``, a plain gradient function or a registered name, then times it
  through pytest-benchmark's ``benchmark`` fixture, as ``gradrace.benchmarks`` does.
- ``gradrace_implementation`` and ``gradrace_case``: a test that asks for them runs once
  per selected implementation (``--gradrace-impl``, default all) and once per case of
  the grid (``--gradrace-m/-n/-k/-dtype``), for each problem of ``--gradrace-problem``
  (linear, logistic or both; default linear). An implementation without a version for a
  case's problem is skipped there as not applicable; a case id names its problem when it
  is not linear (``logistic-m100-n10-k1-float64``).
"""

from __future__ import annotations

import importlib.metadata
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

    from gradrace.bench.grids import Case
    from gradrace.bench.implementation import Implementation
    from gradrace.bench.registry import Registry

#: The module pytest loads through the ``pytest11`` entry point.
MODULE = "gradrace.pytest_plugin"
#: The default grid: every (m, n) pair runs, X at most 10⁶ entries.
BENCH_M, BENCH_N, BENCH_K, BENCH_DTYPE = "100,10000", "10,100", "1", "float64"
BENCH_PROBLEM = "linear"
_GRID = {
    "gradrace_m": ("--gradrace-m", BENCH_M),
    "gradrace_n": ("--gradrace-n", BENCH_N),
    "gradrace_k": ("--gradrace-k", BENCH_K),
    "gradrace_dtype": ("--gradrace-dtype", BENCH_DTYPE),
    "gradrace_problem": ("--gradrace-problem", BENCH_PROBLEM),
}
_REGISTRY = pytest.StashKey["Registry"]()


def entry_point_installed() -> bool:
    """Whether the installed gradrace registers this plugin with pytest (``pytest11``)."""
    return any(ep.value == MODULE for ep in importlib.metadata.entry_points(group="pytest11"))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradrace", "gradrace benchmarks (pytest --pyargs gradrace.benchmarks)")
    group.addoption("--gradrace-m", default=BENCH_M, help=f"sample counts (default {BENCH_M})")
    group.addoption("--gradrace-n", default=BENCH_N, help=f"feature counts (default {BENCH_N})")
    group.addoption("--gradrace-k", default=BENCH_K, help=f"output counts (default {BENCH_K})")
    group.addoption("--gradrace-dtype", default=BENCH_DTYPE, help=f"dtypes (default {BENCH_DTYPE})")
    group.addoption(
        "--gradrace-problem",
        default=BENCH_PROBLEM,
        help="linear, logistic or both (comma-separated, or 'both'; default linear)",
    )
    group.addoption(
        "--gradrace-impl",
        action="append",
        default=[],
        metavar="NAME",
        help="implementation to benchmark (repeatable; default all registered); those of "
        "--gradrace-plugin are always benchmarked",
    )
    group.addoption(
        "--gradrace-plugin",
        action="append",
        default=[],
        metavar="SPEC",
        help="load an implementation from module:attr or file.py:attr (repeatable)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Fail the session at once on a --gradrace-* option that cannot be honoured."""
    if any(config.getoption(dest) != default for dest, (_, default) in _GRID.items()):
        grid_cases(config)
    if config.getoption("gradrace_plugin") or config.getoption("gradrace_impl"):
        selected_implementations(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per selected implementation and per case, for tests that ask for them."""
    if "gradrace_implementation" in metafunc.fixturenames:
        impls = selected_implementations(metafunc.config)
        metafunc.parametrize("gradrace_implementation", impls, ids=[i.name for i in impls])
    if "gradrace_case" in metafunc.fixturenames:
        from gradrace.bench.grids import case_id

        cases = grid_cases(metafunc.config)
        metafunc.parametrize("gradrace_case", cases, ids=[case_id(c) for c in cases])


def grid_cases(config: pytest.Config) -> list[Case]:
    """The cases of the --gradrace-m/-n/-k/-dtype grid; a bad value is a usage error."""
    from gradrace.bench.grids import Case, for_problems, parse_dtypes, parse_ints

    try:
        ms, ns, ks = (
            parse_ints(config.getoption(dest), _GRID[dest][0])
            for dest in ("gradrace_m", "gradrace_n", "gradrace_k")
        )
        dtypes = parse_dtypes(config.getoption("gradrace_dtype"))
        problems = grid_problems(config)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    cases = [Case(m, n, k, dt) for dt in dtypes for k in ks for n in ns for m in ms]
    return list(for_problems(cases, problems))


def grid_problems(config: pytest.Config) -> list[str]:
    """The problems of --gradrace-problem ('both' is linear and logistic)."""
    from gradrace.bench.grids import parse_problems

    return parse_problems(config.getoption("gradrace_problem"), "--gradrace-problem")


def registry(config: pytest.Config) -> Registry:
    """The registry of this session, loaded on first use: the built-ins, the installed
    entry points and every --gradrace-plugin, which must load."""
    if _REGISTRY not in config.stash:
        config.stash[_REGISTRY] = _load_registry(config)
    return config.stash[_REGISTRY]


def _load_registry(config: pytest.Config) -> Registry:
    from gradrace.bench.registry import _error_message, load_plugin, load_registry

    reg = load_registry()
    for error in reg.errors:  # a broken installed plugin: reported, and the session goes on
        config.issue_config_time_warning(pytest.PytestWarning(f"gradrace: {error}"), stacklevel=2)
    known_errors = len(reg.errors)
    problems = grid_problems(config)
    plain = problems[0] if len(problems) == 1 else "linear"  # as gradrace run reads them
    for spec in config.getoption("gradrace_plugin"):
        try:
            reg.add(load_plugin(spec, plain_problem=plain), f"--gradrace-plugin {spec}")
        except (Exception, SystemExit) as exc:
            raise pytest.UsageError(
                f"--gradrace-plugin {spec} failed to load: {_error_message(exc)}"
            ) from None
    if len(reg.errors) > known_errors:
        raise pytest.UsageError(str(reg.errors[-1]))
    for name, how in reg.shadowed.items():
        config.issue_config_time_warning(pytest.PytestWarning(f"gradrace: {name}: {how}"), 2)
    return reg


def selected_implementations(config: pytest.Config) -> list[Implementation]:
    """The implementations named with --gradrace-impl (all when none is named)."""
    from gradrace.bench.registry import RegistryError

    reg = registry(config)
    try:
        return reg.select(config.getoption("gradrace_impl"))
    except RegistryError as exc:
        broken = "".join(f"\n  could not load {error}" for error in reg.errors)
        raise pytest.UsageError(f"--gradrace-impl: {exc}{broken}") from None


@pytest.fixture
def gradrace_benchmark(benchmark: Any, request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Check and time one implementation on one problem size, through ``benchmark``.

    ``gradrace_benchmark(implementation, case=None, *, m=None, n=None, k=1,
    dtype="float64", threads=None)``: ``implementation`` is a ``gradrace.Implementation``,
    a plain ``gradient(X, Y, W, b, lam)`` function or the name of a registered one; the
    size is a ``gradrace_case`` or ``m`` and ``n``. The output must agree with the
    reference (else the test fails); then only the gradient call on prepared data is
    timed, in pedantic mode with gradrace's calibration, and ``extra_info`` records the
    implementation and the case for ``gradrace report``. Call it once per test.
    """
    from gradrace.bench.pedantic import NotApplicable, time_gradient

    def run(implementation: Any, case: Case | None = None, **size: Any) -> Any:
        __tracebackhide__ = True
        if isinstance(implementation, str):
            implementation = _named(request.config, implementation)
        try:
            return time_gradient(benchmark, implementation, case, **size)
        except NotApplicable as exc:
            pytest.skip(f"not applicable: {exc}")
        except Exception:
            _failed_before_timing(benchmark)
            raise

    return run


def _failed_before_timing(benchmark: Any) -> None:
    """Mark ``benchmark`` as pytest-benchmark marks a benchmark whose call raised: a failed
    check (a disagreement, a gradient that raised) then fails the test with its own message,
    without the spurious "Benchmark fixture was not used at all in this test!" warning
    (pytest-benchmark gives it when the fixture's mode is unset at teardown), and without
    a result in the JSON file (``has_error``)."""
    benchmark.has_error = True
    if not getattr(benchmark, "_mode", None):  # set once pedantic() ran: then it is its own
        benchmark._mode = "gradrace_benchmark(...), which failed before timing"


def _named(config: pytest.Config, name: str) -> Implementation:
    from gradrace.bench.registry import RegistryError

    try:
        return registry(config).one(name)
    except RegistryError as exc:
        raise LookupError(f"gradrace_benchmark: {exc}") from None


@pytest.fixture
def gradrace_implementation() -> Implementation:
    """Each implementation selected with --gradrace-impl (default: every registered one)."""
    raise RuntimeError("gradrace_implementation is set by gradrace's parametrization")


@pytest.fixture
def gradrace_case() -> Case:
    """Each case of the --gradrace-m/-n/-k/-dtype grid (a ``gradrace.bench.grids.Case``)."""
    raise RuntimeError("gradrace_case is set by gradrace's parametrization")
