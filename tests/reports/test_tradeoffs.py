"""gram's break-even iteration count and the float32-beside-float64 table."""

import math

import pandas as pd

from gradrace.reports.tradeoffs import gram_break_even, precision


def _row(name, m, dtype, median, prepare=0.0, error=1e-16, status="ok"):
    return {
        "implementation": name,
        "m": m,
        "n": 10,
        "k": 1,
        "dtype": dtype,
        "threads": 1,
        "status": status,
        "median_s": median,
        "prepare_s": prepare,
        "error": error,
    }


def test_break_even_is_prepare_over_time_saved_per_call():
    results = pd.DataFrame(
        [
            _row("gram", 1000, "float64", 1e-6, prepare=1e-3),
            _row("numpy-dot", 1000, "float64", 11e-6),
            _row("gram", 10, "float64", 2e-6, prepare=1e-5),
            _row("numba", 10, "float64", 1e-6),
        ]
    )
    rows = {r["size"]: r for r in gram_break_even(results)}
    big = next(r for s, r in rows.items() if "1,000" in s or "10³" in s)
    assert big["other"] == "numpy-dot" and big["break_even"] == "100 iterations"
    small = next(r for r in rows.values() if r is not big)
    assert small["break_even"].startswith("never")


def test_disagreeing_gram_is_not_offered_as_a_winner():
    results = pd.DataFrame(
        [
            _row("gram", 100, "float64", 1e-7, 1e-4, status="disagrees"),
            _row("numpy-dot", 100, "float64", 1e-5),
        ]
    )
    assert gram_break_even(results) == []


def test_precision_pairs_the_dtypes_at_the_same_size():
    results = pd.DataFrame(
        [
            _row("numba", 1000, "float64", 4e-6, error=1e-16),
            _row("numba", 1000, "float32", 2e-6, error=3e-7),
            _row("numba", 10, "float64", 1e-6, error=1e-16),
            _row("numba", 10, "float32", 1e-6, error=1e-7),
            _row("only64", 10, "float64", 1e-6),
        ]
    )
    (row,) = precision(results)
    assert row["implementation"] == "numba" and row["sizes"] == 2
    assert row["speedup"].startswith(f"{math.sqrt(2):.2f}×") and row["error32"] == "3.0e-07"


def test_precision_is_empty_without_both_dtypes():
    assert precision(pd.DataFrame([_row("numba", 10, "float64", 1e-6)])) == []


def test_break_even_counts_read_as_words():
    from gradrace.reports.tradeoffs import _iterations

    assert _iterations(1) == "1 iteration" and _iterations(1.2) == "1 iteration"
    assert _iterations(2) == "2 iterations" and _iterations(12_345) == "12,345 iterations"
