"""Fitted scaling exponents: recovered from data that follows a known law."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from gradrace.reports.model import Fit
from gradrace.reports.scaling import scaling_table


def _rows(name, law):
    return pd.DataFrame(
        [
            {"implementation": name, "m": m, "n": n, "k": 1, "median_s": law(m, n)}
            for m in (1e3, 1e4, 1e5)
            for n in (10, 100)
        ]
    )


def test_linear_law_gives_exponents_one():
    meta = {"implementations": {"numpy-dot": {"cost": {"expected": "m¹ n¹"}}}}
    rows = _rows("numpy-dot", lambda m, n: 1e-9 * m * n)
    table = scaling_table(rows, {"numpy-dot": Fit(0.0)}, meta)
    row = table.iloc[0]
    assert row["alpha_m"] == pytest.approx(1.0) and row["beta_n"] == pytest.approx(1.0)
    assert row["expected"] == "m¹ n¹" and row["points"] == 6


def test_an_undeclared_implementation_is_described_by_its_fit():
    table = scaling_table(_rows("mine", lambda m, n: 7e-8 * m * n), {"mine": Fit(0.0)})
    assert table.iloc[0]["expected"] == (
        "not declared; measured: grows as m¹·n¹, about 70 ns per multiply-add at its largest "
        "size (fitted)"
    )


def test_gram_like_law_is_flat_in_m():
    table = scaling_table(_rows("gram", lambda m, n: 1e-9 * n * n), {"gram": Fit(0.0)})
    assert table.iloc[0]["alpha_m"] == pytest.approx(0.0, abs=1e-9)
    assert table.iloc[0]["beta_n"] == pytest.approx(2.0)


def test_sizes_under_the_overhead_are_left_out():
    rows = _rows("x", lambda m, n: 1e-6 + 1e-9 * m * n)
    table = scaling_table(rows, {"x": Fit(overhead_s=1e-3)})
    assert table.iloc[0]["points"] == 1  # only m·n = 10⁷ takes ≥ 3 overheads
    assert "too few sizes" in table.iloc[0]["note"]
    assert math.isnan(table.iloc[0]["alpha_m"])
    assert table.iloc[0]["expected"].startswith("not declared; measured: about 1 ns per")
