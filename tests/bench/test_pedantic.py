"""time_gradient: checks, then times through a pytest-benchmark fixture (here a stand-in)."""

from __future__ import annotations

import gc

import pytest

from gradrace import Implementation
from gradrace.bench.grids import Case, case_id, group_of
from gradrace.bench.pedantic import DisagreementError, NotApplicable, time_gradient
from gradrace.bench.timing import ROUNDS
from gradrace.bench.traits import record
from gradrace.implementations.numpy_dot import IMPLEMENTATION as NUMPY_DOT


class FakeBenchmark:
    """Records what pytest-benchmark's fixture would be given, calling the target once."""

    def __init__(self, disabled: bool = False) -> None:
        self.disabled = disabled
        self.group = None
        self.extra_info: dict = {}
        self.calls: list[dict] = []

    def pedantic(self, target, args=(), rounds=1, iterations=1, warmup_rounds=0):
        self.calls.append({"rounds": rounds, "iterations": iterations, "warmup": warmup_rounds})
        self.gc_enabled = gc.isenabled()
        return target(*args)


def numpy_gradient(X, Y, W, b, lam):
    """The gradient with numpy, as a plain function."""
    m = X.shape[0]
    r = X @ W + b - Y
    return X.T @ r / m + (lam / m) * W, r.mean(axis=0)


def no_one_over_m(X, Y, W, b, lam):
    r = X @ W + b - Y
    return X.T @ r + lam * W, r.sum(axis=0)


def test_it_records_the_case_and_times_calibrated_rounds_with_gc_off():
    bench = FakeBenchmark()
    outcome = time_gradient(bench, NUMPY_DOT, Case(200, 5, 2, "float32"), threads=1)
    assert outcome.agrees
    assert bench.group == "m=200 n=5 k=2 float32"
    assert bench.extra_info == {
        "implementation": "numpy-dot",
        "m": 200,
        "n": 5,
        "k": 2,
        "dtype": "float32",
        "problem": "linear",
        "threads": 1,
        "error": outcome.error,
        "traits": record(NUMPY_DOT, "pytest-benchmark", [Case(200, 5, 2, "float32")]),
    }
    assert bench.extra_info["traits"]["cost"]["passes"].startswith("2 through BLAS")
    [call] = bench.calls
    assert call["rounds"] == ROUNDS and call["iterations"] >= 1 and call["warmup"] == 1
    assert bench.gc_enabled is False
    assert gc.isenabled()


def test_a_disabled_benchmark_runs_the_gradient_once_per_round_without_calibrating():
    bench = FakeBenchmark(disabled=True)
    time_gradient(bench, NUMPY_DOT, m=50, n=3, threads=1)
    assert bench.calls[0]["iterations"] == 1


def test_a_plain_function_is_named_after_itself():
    bench = FakeBenchmark(disabled=True)
    time_gradient(bench, numpy_gradient, m=30, n=4, k=3, dtype="float64", threads=1)
    assert bench.extra_info["implementation"] == "numpy_gradient"
    assert (bench.extra_info["m"], bench.extra_info["k"]) == (30, 3)


def test_a_disagreeing_implementation_fails_before_any_timing():
    bench = FakeBenchmark()
    impl = Implementation("slip", no_one_over_m)
    with pytest.raises(DisagreementError, match=r"slip on m=100 n=4 k=1 float64 .*dW wrong"):
        time_gradient(bench, impl, m=100, n=4, threads=1)
    assert bench.calls == [] and bench.extra_info == {}
    assert isinstance(DisagreementError("x"), AssertionError)  # pytest reports a failed test


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give the problem size"),
        ({"m": 10}, "give the problem size"),
        ({"case": Case(10, 2), "m": 10}, "not both"),
        ({"m": 0, "n": 2}, "m must be a positive integer"),
        ({"m": 10, "n": 2.5}, "n must be a positive integer"),
        ({"m": 10, "n": 2, "dtype": "int8"}, "not supported"),
    ],
)
def test_a_bad_size_is_named(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        time_gradient(FakeBenchmark(), NUMPY_DOT, **kwargs)


def test_something_that_is_not_an_implementation_is_refused():
    with pytest.raises(TypeError, match=r"neither a gradrace\.Implementation nor a function"):
        time_gradient(FakeBenchmark(), 42, m=10, n=2)


def test_group_and_id_name_the_case():
    case = Case(1000, 10, 1, "float64")
    assert group_of(case) == "m=1000 n=10 k=1 float64"
    assert case_id(case) == "m1000-n10-k1-float64"


def test_a_logistic_case_times_the_logistic_version_and_records_its_problem():
    from plugins.two_problems import both

    bench = FakeBenchmark()
    case = Case(200, 5, 1, "float64", model="logistic")
    assert time_gradient(bench, both, case, threads=1).agrees
    assert bench.group == "logistic m=200 n=5 k=1 float64"
    assert bench.extra_info["problem"] == "logistic"


def test_a_case_of_a_problem_without_a_version_is_not_applicable():
    from gradrace.implementations.gram import IMPLEMENTATION as GRAM

    with pytest.raises(NotApplicable, match="implements linear only"):
        time_gradient(FakeBenchmark(), GRAM, m=50, n=3, problem="logistic", threads=1)
