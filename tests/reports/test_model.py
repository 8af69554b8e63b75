"""The cost model: declared constructions, fitted overhead and terms, misses reported."""

from __future__ import annotations

import math

import pytest
from synthetic_results import BANDWIDTH_GBS, EVIL, PEAK_GFLOPS

from gradrace.reports.model import CONSTRUCTION, TERMS, predict, work_s

BUILTINS = ["python-loops", "numpy-dot", "einsum", "reshaped-mn1", "numba", "numba-fused",
            "numpy-blocked", "gram"]  # fmt: skip


def test_every_builtin_is_declared():
    for name in BUILTINS:
        build = CONSTRUCTION[name]
        assert build.passes and build.temporaries and build.flops and build.overhead
        assert all(term in TERMS for term in build.fitted)


def test_work_is_the_larger_of_memory_and_compute():
    m, n, k = 100_000, 100, 1
    memory = (2 * m * n + 8 * m * k) * 8 / (BANDWIDTH_GBS * 1e9)
    assert work_s("numpy-dot", m, n, k, 8, BANDWIDTH_GBS, PEAK_GFLOPS, 2) == pytest.approx(memory)
    # gram's call does not depend on m
    assert work_s("gram", 10, n, k, 8, 10.0, 50.0, 2) == work_s(
        "gram", 10**6, n, k, 8, 10.0, 50.0, 2
    )
    assert work_s("not-a-builtin", m, n, k, 8, 10.0, 50.0, 2) == 0.0


def test_python_loops_per_element_and_per_row_costs_are_recovered(results):
    table, fits = predict(results, BANDWIDTH_GBS, PEAK_GFLOPS, 2)
    loops = fits["python-loops"]
    assert loops.per_unit_s["element"] == pytest.approx(60e-9, rel=0.1)
    assert loops.per_unit_s["row"] == pytest.approx(300e-9, rel=0.25)
    own = table[table["implementation"] == "python-loops"]
    assert (own["verdict"] == "within 2×").all()


def test_overhead_is_fitted_from_the_smallest_sizes(results):
    _, fits = predict(results, BANDWIDTH_GBS, PEAK_GFLOPS, 2)
    assert fits["numpy-dot"].overhead_s == pytest.approx(5e-6, rel=0.1)
    assert fits["numba"].overhead_s == pytest.approx(1e-6, rel=0.15)


def test_misses_beyond_two_times_are_reported_both_ways(results):
    table, _ = predict(results, BANDWIDTH_GBS, PEAK_GFLOPS, 2)
    numba_large = table[(table["implementation"] == "numba") & (table["m"] == 100_000)
                        & (table["n"] == 100)].iloc[0]  # fmt: skip
    assert numba_large["verdict"].startswith("slower than modelled")  # one core, 1/4 bandwidth
    plugin = table[table["implementation"] == EVIL]
    assert plugin["verdict"].str.startswith("slower than modelled").any()  # overhead only


def test_unknown_machine_leaves_only_fitted_terms(results):
    table, fits = predict(results, None, None, 2)
    assert (table["work_s"] == 0).all()
    assert not math.isnan(fits["numpy-dot"].overhead_s)


def test_a_miss_on_noisy_rounds_is_blamed_on_the_noise():
    from gradrace.reports.model import explain_miss

    assert explain_miss("numba", False, 1e9, spread=0.8).startswith("noisy timing: ")
    assert explain_miss("numba", False, 1e9, spread=0.05).startswith("serial code")
    assert explain_miss("numpy-dot", True, 1e5).startswith("X was (partly) cache-resident")
    assert "no construction declared" in explain_miss("my-plugin", False, 1e9)
