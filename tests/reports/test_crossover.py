"""Crossovers: interpolated where two lines cross, named in words, noise left out."""

from __future__ import annotations

import pandas as pd
import pytest

from gradrace.reports.crossover import crossovers, in_words


def _rows(laws: dict, ms=(10, 100, 1_000, 10_000, 100_000), n=10):
    return pd.DataFrame(
        [
            {"implementation": name, "m": m, "n": n, "median_s": law(m)}
            for name, law in laws.items()
            for m in ms
        ]
    )


def test_crossing_is_interpolated_on_the_log_log_lines():
    # a: 1e-6·(m/1000)^0.5 ... b: 1e-6·(m/1000): equal at m = 1000 exactly
    rows = _rows(
        {"numba": lambda m: 1e-6 * (m / 1000) ** 0.5, "numpy-dot": lambda m: 1e-6 * m / 1000},
        ms=(10, 100, 500, 5_000, 100_000),
    )
    (found,) = crossovers(rows)
    assert found.m == pytest.approx(1000, rel=1e-6)
    assert (found.winner_below, found.winner_above) == ("numpy-dot", "numba")
    assert in_words([found]) == ["n = 10: numpy-dot beats numba below m ≈ 1,000."]


def test_ties_within_noise_are_not_crossovers():
    rows = _rows(
        {"numba": lambda m: 1e-6 * (1.05 if m % 20 else 0.96), "numpy-dot": lambda m: 1e-6}
    )
    assert crossovers(rows) == []


def test_synthetic_run_names_numba_against_numpy_dot(results):
    from gradrace.reports.data import agreeing

    found = crossovers(agreeing(results))
    pairs = {(c.n, c.winner_below, c.winner_above) for c in found}
    assert (10, "numba", "numpy-dot") in pairs and (100, "numba", "numpy-dot") in pairs
    at_n10 = next(c for c in found if c.n == 10 and c.winner_below == "numba")
    assert 100 < at_n10.m < 1_000  # the laws cross at m·n = 2,500
