"""Traits in the results file: declared costs evaluated per case, precomputing, order."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradrace.bench.grids import Case
from gradrace.bench.implementation import Cost, Implementation, Term
from gradrace.bench.ranking import rank, unranked
from gradrace.bench.traits import case_key, record
from gradrace.implementations import gram, numba_fused, numpy_dot

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"


def test_a_record_holds_the_declared_counts_of_every_case():
    cases = [Case(100, 10), Case(10**6, 10, 1, "float32")]
    rec = record(numpy_dot.IMPLEMENTATION, "built-in", cases)
    assert rec["cost"]["passes"].startswith("2 through BLAS") and rec["cost"]["parallel"]
    small = rec["counts"][case_key(100, 10, 1, "float64")]
    assert (small["bytes"], small["serial_bytes"]) == (2 * 1000 * 8, 800 * 8)
    large = rec["counts"][case_key(10**6, 10, 1, "float32")]
    assert (large["bytes"], large["serial_bytes"]) == (2 * 10**7 * 4, 8 * 10**6 * 4)


def test_a_parallel_kernel_is_serial_below_its_threshold():
    small, large = Case(10, 10), Case(10**5, 100)
    counts = record(numba_fused.IMPLEMENTATION, "built-in", [small, large])["counts"]
    assert not counts[case_key(10, 10, 1, "float64")]["parallel"]
    assert counts[case_key(10**5, 100, 1, "float64")]["parallel"]


def test_fitted_terms_are_counted_by_unit():
    term = Term("per row", lambda m, n, k, s: m * k)
    impl = Implementation("t", lambda *a: a, cost=Cost("p", "t", "f", "o", fitted=(term,)))
    assert record(impl, "x", [Case(7, 3, 2)])["counts"]["7,3,2,float64"]["terms"] == {"per row": 14}


def test_an_implementation_without_costs_records_none():
    impl = Implementation("plain", lambda *a: a)
    rec = record(impl, "--plugin x.py:plain", [Case(10, 1)])
    assert rec["cost"] is None and rec["counts"] == {} and rec["precomputes"] == ""


def test_precomputing_and_failed_checks_are_unranked_from_metadata_alone():
    meta = {
        "implementations": {"gram": record(gram.IMPLEMENTATION, "built-in", [])},
        "check": [
            {"implementation": "bad", "status": "disagrees"},
            {"implementation": "single", "status": "n/a"},
        ],
    }
    why = unranked(meta)
    assert why["gram"].startswith("its untimed prepare precomputes from X")
    assert why["bad"] == "failed the agreement check" and "single" not in why


def test_rank_ignores_the_excluded_as_reference():
    rows = [
        {"implementation": "gram", "status": "ok", "median_s": 1e-6},
        {"implementation": "fast", "status": "ok", "median_s": 1e-3},
        {"implementation": "slow", "status": "ok", "median_s": 3e-3},
    ]
    rank(rows, {"gram": "precomputes"})
    assert [r["ratio_to_fastest"] for r in rows] == pytest.approx([1e-3, 1.0, 3.0])


def test_a_run_records_traits_and_order_and_a_declared_plugin_is_modelled(tmp_path):
    from gradrace.bench.runner import run
    from gradrace.reports import write_report

    frame = run(
        m=[100, 1000],
        n=[5],
        impl=["numpy-dot", "declared-dot"],
        plugins=[f"{PLUGINS / 'declared.py'}:IMPLEMENTATION"],
        entry_points=False,
        threads=1,
        quick=True,
        out=tmp_path,
        isolate=False,
    )
    meta = frame.attrs["metadata"]
    assert meta["format"] == 2 and meta["order"][:2] == ["python-loops", "numpy-dot"]
    assert meta["implementations"]["declared-dot"]["cost"]["passes"].endswith(
        "(declared by a plugin)"
    )
    assert set(meta["implementations"]["declared-dot"]["counts"]) == {
        "100,5,1,float64",
        "1000,5,1,float64",
    }
    page = write_report(frame, tmp_path).read_text(encoding="utf-8")
    assert "2 through BLAS (declared by a plugin)" in page
