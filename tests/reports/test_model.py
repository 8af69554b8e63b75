"""The cost model: declared costs from the results file, fitted overhead and terms, misses."""

from __future__ import annotations

import math

import pytest
from synthetic_results import BANDWIDTH_GBS, EVIL, PEAK_GFLOPS, synthetic_metadata

from gradrace.bench.implementation import PER_ELEMENT, PER_ROW
from gradrace.reports.model import counts, declared, explain_miss, predict, work_s

META = synthetic_metadata()


def test_declared_costs_are_read_from_the_results_metadata():
    assert declared(META, "numpy-dot")["cost"]["passes"].startswith("2 through BLAS")
    assert declared(META, EVIL) is None  # the plugin declares nothing
    assert counts(META, "numpy-dot", 100, 10, 1, "float64")["bytes"] == (2 * 1000 + 800) * 8


def test_work_is_the_larger_of_memory_and_compute():
    m, n, k = 100_000, 100, 1
    memory = (2 * m * n + 8 * m * k) * 8 / (BANDWIDTH_GBS * 1e9)
    count = counts(META, "numpy-dot", m, n, k, "float64")
    assert work_s(count, BANDWIDTH_GBS, PEAK_GFLOPS, 2) == pytest.approx(memory)
    serial = {"bytes": 0.0, "flops": 1e9, "parallel": False}
    assert work_s(serial, None, 50.0, 2) == pytest.approx(
        2 * work_s({**serial, "parallel": True}, None, 50.0, 2)
    )
    assert work_s(None, BANDWIDTH_GBS, PEAK_GFLOPS, 2) == 0.0


def test_python_loops_per_element_and_per_row_costs_are_recovered(results):
    table, fits = predict(results, META, BANDWIDTH_GBS, PEAK_GFLOPS, 2)
    loops = fits["python-loops"]
    assert loops.per_unit_s[PER_ELEMENT.unit] == pytest.approx(60e-9, rel=0.1)
    assert loops.per_unit_s[PER_ROW.unit] == pytest.approx(300e-9, rel=0.25)
    own = table[table["implementation"] == "python-loops"]
    assert (own["verdict"] == "within 2×").all()


def test_overhead_is_fitted_from_the_smallest_sizes(results):
    _, fits = predict(results, META, BANDWIDTH_GBS, PEAK_GFLOPS, 2)
    assert fits["numpy-dot"].overhead_s == pytest.approx(5e-6, rel=0.1)
    assert fits["numba"].overhead_s == pytest.approx(1e-6, rel=0.15)


def test_misses_beyond_two_times_are_reported(results):
    table, _ = predict(results, META, BANDWIDTH_GBS, PEAK_GFLOPS, 2)
    numba_large = table[
        (table["implementation"] == "numba") & (table["m"] == 100_000) & (table["n"] == 100)
    ].iloc[0]
    assert numba_large["verdict"].startswith("slower than modelled")  # one core, 1/4 bandwidth


def test_an_implementation_without_declared_costs_is_never_a_model_miss(results):
    table, fits = predict(results, META, BANDWIDTH_GBS, PEAK_GFLOPS, 2)
    assert EVIL not in set(table["implementation"])
    assert EVIL in fits  # its overhead still bounds its scaling fit


def test_a_plugin_that_declares_costs_is_modelled_like_a_builtin(results):
    meta = synthetic_metadata()
    meta["implementations"][EVIL] = {**meta["implementations"]["numpy-dot"], "origin": "plugin"}
    table, _ = predict(results, meta, BANDWIDTH_GBS, PEAK_GFLOPS, 2)
    own = table[table["implementation"] == EVIL]
    assert len(own) and own["predicted_s"].gt(0).all()


def test_unknown_machine_leaves_only_fitted_terms(results):
    table, fits = predict(results, META, None, None, 2)
    assert (table["work_s"] == 0).all()
    assert not math.isnan(fits["numpy-dot"].overhead_s)


def test_a_miss_on_noisy_rounds_is_blamed_on_the_noise():
    assert explain_miss(False, False, 1e9, spread=0.8).startswith("noisy timing: ")
    assert explain_miss(False, False, 1e9, spread=0.05).startswith("serial code")
    assert explain_miss(True, True, 1e5).startswith("X was (partly) cache-resident")
