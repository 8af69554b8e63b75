"""Shared fixtures and the options of gradrace's pytest-benchmark suite.

A plain ``pytest`` run executes each benchmark once, as a test (pytest-benchmark's
``--benchmark-disable``), so the suite stays fast; ``pytest --benchmark-only`` times
them. The garbage collector is off while timing, as in ``gradrace run``.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradrace.bench.grids import Case, parse_dtypes, parse_ints
from gradrace.bench.registry import load_registry

BENCH_M, BENCH_N = "100,10000", "10,100"  # every pair runs: X at most 10⁶ entries


def pytest_addoption(parser):
    group = parser.getgroup("gradrace", "gradrace benchmark grid")
    group.addoption("--gradrace-m", default=BENCH_M, help=f"sample counts (default {BENCH_M})")
    group.addoption("--gradrace-n", default=BENCH_N, help=f"feature counts (default {BENCH_N})")
    group.addoption("--gradrace-k", default="1", help="output counts (default 1)")
    group.addoption("--gradrace-dtype", default="float64", help="dtypes (default float64)")
    group.addoption(
        "--gradrace-impl", action="append", default=[], help="implementation name (repeatable)"
    )
    group.addoption(
        "--gradrace-plugin",
        action="append",
        default=[],
        help="module:attr or file.py:attr (repeatable)",
    )


def pytest_configure(config):
    """Run benchmarks once as plain tests unless benchmarking was asked for; time with gc off."""
    opt = config.option
    if hasattr(opt, "benchmark_disable"):
        asked = (
            opt.benchmark_only or opt.benchmark_enable or opt.benchmark_json or opt.benchmark_save
        )
        if not asked:
            opt.benchmark_disable = True
        opt.benchmark_disable_gc = True


def _bench_cases(config) -> list[Case]:
    ms = parse_ints(config.getoption("gradrace_m"), "--gradrace-m")
    ns = parse_ints(config.getoption("gradrace_n"), "--gradrace-n")
    ks = parse_ints(config.getoption("gradrace_k"), "--gradrace-k")
    dtypes = parse_dtypes(config.getoption("gradrace_dtype"))
    return [Case(m, n, k, dt) for dt in dtypes for k in ks for n in ns for m in ms]


def _bench_registry(config):
    return load_registry(config.getoption("gradrace_plugin"))


def pytest_generate_tests(metafunc):
    if "bench_impl" in metafunc.fixturenames:
        registry = _bench_registry(metafunc.config)
        impls = registry.select(metafunc.config.getoption("gradrace_impl"))
        metafunc.parametrize("bench_impl", impls, ids=[i.name for i in impls])
    if "bench_case" in metafunc.fixturenames:
        cases = _bench_cases(metafunc.config)
        ids = [f"m{c.m}-n{c.n}-k{c.k}-{c.dtype}" for c in cases]
        metafunc.parametrize("bench_case", cases, ids=ids)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
