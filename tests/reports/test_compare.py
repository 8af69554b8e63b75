"""Comparing two runs: ratios per case, slowdowns beyond the threshold flagged."""

from __future__ import annotations

import pytest

from gradrace.reports.compare import compare, only_in, summarize


def test_ratios_and_verdicts(results):
    new = results.copy()
    slow = (new["implementation"] == "numba") & (new["m"] == 10_000)
    fast = (new["implementation"] == "einsum") & (new["m"] == 10)
    new.loc[slow, "median_s"] *= 2.0
    new.loc[fast, "median_s"] *= 0.5
    table = compare(results, new, threshold=1.2)
    assert (table.loc[table["verdict"] == "slower", "implementation"] == "numba").all()
    assert (table["verdict"] == "slower").sum() == slow.sum()
    assert (table["verdict"] == "faster").sum() == fast.sum()
    assert table.loc[table["verdict"] == "slower", "ratio"].tolist() == pytest.approx([2.0] * 3)
    assert "3 slower by more than 20 %" in summarize(table, 1.2)


def test_a_small_slowdown_with_wide_rounds_is_slower_noisy_and_passes_the_gate(results):
    new = results.copy()
    new["median_s"] = new["median_s"] * 1.25
    new["iqr_s"] = new["median_s"]  # very noisy rounds
    table = compare(results, new, threshold=1.2, correct=False)
    assert (table["verdict"] == "slower (noisy)").all()
    assert not table["gate"].any()
    assert table["how"].str.startswith("quartiles").all()  # no samples in these files


def test_cases_in_one_run_only(results):
    older = results[results["m"] < 100_000]
    assert len(only_in(results, older)) > 0 and len(only_in(older, results)) == 0


def test_threshold_must_exceed_one(results):
    with pytest.raises(ValueError, match="must exceed 1"):
        compare(results, results, threshold=0.9)
