"""The cost model: declared costs from the results file, fitted overhead and terms, misses."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from synthetic_results import BANDWIDTH_GBS, EVIL, PEAK_GFLOPS, synthetic_metadata

from gradrace.bench.implementation import PER_ELEMENT, PER_ROW
from gradrace.reports.model import counts, declared, explain_miss, predict, work_s

META = synthetic_metadata()


def test_declared_costs_are_read_from_the_results_metadata():
    assert declared(META, "numpy-dot")["cost"]["passes"].startswith("2 through BLAS")
    assert declared(META, EVIL) is None  # the plugin declares nothing
    found = counts(META, "numpy-dot", 100, 10, 1, "float64")
    assert found["bytes"] == 2 * 1000 * 8  # X twice, through BLAS
    assert found["serial_bytes"] == 800 * 8  # the (m, k) temporaries, on one core


def test_work_is_the_larger_of_memory_and_compute_then_the_serial_steps():
    m, n, k = 100_000, 100, 1
    memory = 2 * m * n * 8 / (BANDWIDTH_GBS * 1e9)
    one_core = 8 * m * k * 8 / (BANDWIDTH_GBS / 2 * 1e9)
    count = counts(META, "numpy-dot", m, n, k, "float64")
    assert work_s(count, BANDWIDTH_GBS, PEAK_GFLOPS, 2) == pytest.approx(memory + one_core)
    assert work_s(None, BANDWIDTH_GBS, PEAK_GFLOPS, 2) == 0.0


def test_a_serial_implementation_gets_one_cores_share_of_the_peak_and_the_bandwidth():
    serial = {"bytes": 0.0, "flops": 1e9, "parallel": False}
    assert work_s(serial, None, 50.0, 2) == pytest.approx(
        2 * work_s({**serial, "parallel": True}, None, 50.0, 2)
    )
    reads = {"bytes": 1e9, "flops": 0.0, "parallel": False}
    assert work_s(reads, 10.0, None, 2) == pytest.approx(0.2)  # 1 GB at 5 GB/s
    assert work_s({**reads, "parallel": True}, 10.0, None, 2) == pytest.approx(0.1)


def test_results_from_before_serial_bytes_read_as_none():
    older = {"bytes": 1e9, "flops": 0.0, "parallel": True}  # no "serial_bytes" key
    assert work_s(older, 10.0, None, 2) == pytest.approx(0.1)


def test_python_loops_per_element_and_per_row_costs_are_recovered(results):
    table, fits = predict(results, META, BANDWIDTH_GBS, PEAK_GFLOPS, 2)
    loops = fits["python-loops"]
    assert loops.per_unit_s[PER_ELEMENT.unit] == pytest.approx(60e-9, rel=0.1)
    assert loops.per_unit_s[PER_ROW.unit] == pytest.approx(300e-9, rel=0.25)
    own = table[table["implementation"] == "python-loops"]
    assert (own["verdict"] == "within 2×").all()


def test_overhead_is_fitted_from_the_smallest_sizes(results):
    _, fits = predict(results, META, BANDWIDTH_GBS, PEAK_GFLOPS, 2)
    assert fits["einsum"].overhead_s == pytest.approx(7e-6, rel=0.1)  # 7 µs in its synthetic times


def test_misses_beyond_two_times_are_reported(results):
    at = (results["implementation"] == "einsum") & (results["m"] == 100_000)
    at &= results["n"] == 100
    slowed = results.assign(median_s=results["median_s"].where(~at, results["median_s"] * 5))
    table, _ = predict(slowed, META, BANDWIDTH_GBS, PEAK_GFLOPS, 2)
    einsum_large = table[
        (table["implementation"] == "einsum") & (table["m"] == 100_000) & (table["n"] == 100)
    ].iloc[0]
    assert einsum_large["verdict"].startswith("slower than modelled")
    assert (table[table["implementation"] == "einsum"]["verdict"] == "within 2×").sum() >= 10


def test_a_serial_scalar_loop_is_modelled_by_its_fitted_cost_per_multiply_add(results):
    table, fits = predict(results, META, BANDWIDTH_GBS, PEAK_GFLOPS, 2)
    own = table[table["implementation"] == "numba"]
    assert (own["verdict"] == "within 2×").all()  # one core at a quarter of the bandwidth
    assert fits["numba"].per_unit_s[PER_ELEMENT.unit] > 0


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


def test_a_miss_is_explained_by_what_the_measurement_shows():
    assert explain_miss(False, True, 1e6, 0.1, limit_ratio=0.5, miss=3.0).startswith(
        "disturbed floors: it ran at 0.5 × the limit"
    )
    assert explain_miss(False, True, 1e6, 0.1, limit_ratio=400.0, miss=300.0).startswith(
        "threads held up"
    )
    assert explain_miss(False, False, 1e6, 0.1, limit_ratio=400.0, miss=300.0).startswith(
        "serial code"  # a serial implementation has no threads to wait for
    )
    assert explain_miss(False, True, 1e6, 0.1, limit_ratio=3.0, miss=2.5).startswith("costs the")


def test_the_floors_timed_beside_a_case_set_its_bandwidth_and_peak(results):
    from gradrace.reports.model import rates

    data = 8.0 * results["m"] * (results["n"] + results["k"])  # bytes of X and Y
    timed = results.assign(read_s=data / 20e9, peak_gflops=80.0)  # read at 20 GB/s in the rounds
    gbs, gflops = rates(timed, BANDWIDTH_GBS, PEAK_GFLOPS)
    assert gbs == pytest.approx(20.0) and gflops == pytest.approx(80.0)
    table, _ = predict(timed, META, BANDWIDTH_GBS, PEAK_GFLOPS, 2)
    row = table[(table["implementation"] == "numpy-dot") & (table["m"] == 100_000)]
    row = row[row["n"] == 100].iloc[0]
    declared = counts(META, "numpy-dot", 100_000, 100, 1, "float64")
    one_core = declared["serial_bytes"] / 10e9  # half of 20 GB/s, on one of 2 cores
    assert row["work_s"] == pytest.approx(declared["bytes"] / 20e9 + one_core)
    old = results.assign(read_s=None, peak_gflops=None)  # an older file: the run's figures
    gbs, gflops = rates(old, BANDWIDTH_GBS, PEAK_GFLOPS)
    assert gbs == pytest.approx(BANDWIDTH_GBS) and gflops == pytest.approx(PEAK_GFLOPS)


def test_a_term_shared_by_the_cores_is_split_among_them_only_when_the_call_is_parallel():
    from gradrace.bench.implementation import PER_SIGMOID, Cost, on_every_core
    from gradrace.reports.model import term_count

    cost = Cost(
        "1",
        "-",
        "-",
        "-",
        parallel=True,
        serial_below=50_000,
        fitted=(on_every_core(PER_SIGMOID), PER_ROW),
    )
    shared, alone = on_every_core(PER_SIGMOID).unit, PER_ROW.unit
    parallel, serial = cost.at(100_000, 1, 1, 8), cost.at(10_000, 1, 1, 8)
    assert term_count(parallel, shared, 2) == 50_000  # two cores, each half the sigmoids
    assert term_count(serial, shared, 2) == 10_000  # one thread: all of them
    assert term_count(parallel, alone, 2) == 100_000  # not shared: one after another
    assert term_count({"terms": {alone: 5.0}, "parallel": True}, alone, 2) == 5.0  # older file


def test_a_launch_term_counts_one_per_parallel_call_and_its_cost_is_recovered():
    from gradrace.bench.implementation import per_parallel_launch
    from gradrace.reports.model import fit

    launch = per_parallel_launch(10_000)
    assert launch.count(100, 100, 1, 8) == 1.0  # m·n·k = 10,000: parallel
    assert launch.count(99, 100, 1, 8) == 0.0  # below: one thread, no threads to wake
    sizes = [(m, n) for m in (10, 100, 1000, 10_000) for n in (1, 10, 100)]
    rows = pd.DataFrame({"m": [m for m, _ in sizes], "n": [n for _, n in sizes], "k": 1})
    launches = np.array([launch.count(m, n, 1, 8) for m, n in sizes])
    work = np.array([2e-9 * m * n for m, n in sizes])
    rows["median_s"] = 1e-6 + work + 3e-6 * launches  # 1 µs a call, 3 µs a launch
    fitted = fit(rows, work, {launch.unit: launches})
    assert fitted.overhead_s == pytest.approx(1e-6)
    assert fitted.per_unit_s[launch.unit] == pytest.approx(3e-6)


def test_the_fused_kernels_declare_reading_x_and_y_once_and_a_launch_per_parallel_call():
    from gradrace.implementations import numba_fused

    for impl in (numba_fused.IMPLEMENTATION, numba_fused.IMPLEMENTATION.also[0]):
        counts = impl.cost.at(1_000_000, 10, 2, 8)
        assert counts["bytes"] == (1_000_000 * 10 + 1_000_000 * 2) * 8  # no (m, k) array
        assert counts["parallel"]
        assert counts["terms"]["per parallel launch (threads woken and joined)"] == 1.0
        assert (
            impl.cost.at(10, 10, 1, 8)["terms"]["per parallel launch (threads woken and joined)"]
            == 0.0
        )


def test_one_cases_held_up_matrix_product_does_not_set_its_peak(results):
    from gradrace.reports.model import rates

    peaks = np.full(len(results), 80.0)
    peaks[0] = 6.0  # that case's probe was held up: the product is the same in every case
    gbs, gflops = rates(results.assign(peak_gflops=peaks), BANDWIDTH_GBS, PEAK_GFLOPS)
    assert gflops == pytest.approx(80.0)
    mixed = results.assign(peak_gflops=peaks, dtype=["float32"] + ["float64"] * (len(peaks) - 1))
    assert rates(mixed, BANDWIDTH_GBS, PEAK_GFLOPS)[1][0] == pytest.approx(6.0)  # its own dtype


def test_a_streamed_term_is_fitted_as_a_multiple_of_the_read_beside_each_case():
    from gradrace.bench.implementation import Cost, Term
    from gradrace.reports.model import _own, streamed_units

    gemv = Term("the read of X, streamed", lambda m, n, k, s: m * n * s, streamed=True)
    cost = Cost("2", "-", "-", "-", elements=lambda m, n, k: 0.0, parallel=True, fitted=(gemv,))
    sizes = [(m, n) for m in (1000, 10_000, 100_000) for n in (10, 100)]
    rows = pd.DataFrame({"m": [s[0] for s in sizes], "n": [s[1] for s in sizes], "k": 1})
    rows = rows.assign(dtype="float64", implementation="gemv", status="ok", agrees=True)
    x_bytes = 8.0 * rows["m"] * rows["n"]
    gbs = np.where(x_bytes > 4e6, 10e9, 100e9)  # from cache below 4 MB, from memory above
    rows["read_s"] = 8.0 * rows["m"] * (rows["n"] + 1) / gbs
    rows["median_s"] = 2e-6 + 5.0 * x_bytes / gbs  # five times the read of X, each case
    meta = {
        "implementations": {
            "gemv": {
                "cost": cost.words(),
                "counts": {f"{m},{n},1,float64": cost.at(m, n, 1, 8) for m, n in sizes},
            }
        }
    }
    assert streamed_units(meta, "gemv") == {gemv.unit}
    table, fits = predict(rows, meta, None, None, 2)
    assert fits["gemv"].per_unit_s[gemv.unit] == pytest.approx(5.0, rel=1e-6)
    assert table["miss"].to_numpy() == pytest.approx(1.0, rel=1e-6)
    work, terms, _ = _own(meta, "gemv", rows, None, None, 2)
    assert terms[gemv.unit] == pytest.approx((x_bytes / gbs).to_numpy())


def test_a_slower_miss_on_a_busy_run_is_blamed_on_the_busy_machine():
    said = explain_miss(False, False, 1e6, 0.1, limit_ratio=3.0, miss=2.5, busy=True)
    assert said.startswith("a busy machine: other work held cores")
    assert explain_miss(True, False, 1e6, 0.1, 3.0, 0.3, busy=True).startswith("X was")
    assert explain_miss(False, False, 1e6, 0.1, 3.0, 2.5).startswith("serial code")
