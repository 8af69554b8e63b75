"""Comparing two runs: ratios per case, slowdowns beyond the threshold flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gradrace.reports import drift
from gradrace.reports.compare import compare, compare_within, only_in, summarize


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


def test_a_shown_slowdown_of_unproven_size_is_slower_noisy_and_passes_the_gate(results):
    new = results.copy()
    new["median_s"] = new["median_s"] * 1.3
    new["iqr_s"] = new["median_s"] * 0.3  # wide rounds: the interval reaches below 1.2
    table = compare(results, new, threshold=1.2, correct=False)
    assert ((table["low"] > 1) & (table["low"] < 1.2)).all()
    assert (table["verdict"] == "slower (noisy)").all()
    assert not table["gate"].any()
    assert table["how"].str.startswith("quartiles").all()  # no samples in these files


def test_a_ratio_just_over_the_threshold_whose_interval_holds_1_is_the_same(results):
    new = results.copy()
    new["median_s"] = new["median_s"] * 1.25
    new["iqr_s"] = new["median_s"]  # very noisy rounds
    table = compare(results, new, threshold=1.2, correct=False)
    assert (table["low"] < 1).all() and (table["ratio"] > 1.2).all()
    assert (table["verdict"] == "same").all()


def test_cases_in_one_run_only(results):
    older = results[results["m"] < 100_000]
    assert len(only_in(results, older)) > 0 and len(only_in(older, results)) == 0


def test_threshold_must_exceed_one(results):
    with pytest.raises(ValueError, match="must exceed 1"):
        compare(results, results, threshold=0.9)


def with_samples(results, factor: float = 1.0, seed: int = 3):
    """``results`` with 15 rounds of samples per row and probe medians, every time × factor."""
    rng = np.random.default_rng(seed)
    out = results.copy()
    spread = [np.exp(rng.normal(0.0, 0.02, 15)) for _ in range(len(out))]
    out["samples"] = [list(m * s * factor) for m, s in zip(out["median_s"], spread, strict=True)]
    for column in ("median_s", "q1_s", "q3_s", "min_s"):
        out[column] = out[column] * factor
    size = out["m"] * out["n"]
    out["read_s"] = size * 1e-9 * factor
    out["compute_s"] = 1e-3 * factor
    return out


def test_a_drift_of_16_percent_is_divided_out(results):
    old, new = with_samples(results), with_samples(results, 1.16)
    table = compare(old, new, threshold=1.2)
    assert table["ratio"].to_numpy() == pytest.approx(1.0, rel=0.03)
    assert (table["verdict"] == "same").all() and not table["gate"].any()
    assert table.attrs["drift"] == pytest.approx(1.16, rel=0.02)
    assert (
        drift.describe(table.attrs["drift"]) == "NEW ran on a machine 16 % slower; times corrected."
    )


def test_a_regression_stands_out_of_the_drift(results):
    old, new = with_samples(results), with_samples(results, 1.16)
    numba = new["implementation"] == "numba"
    new.loc[numba, "median_s"] *= 1.5
    new.loc[numba, "samples"] = new.loc[numba, "samples"].map(lambda s: [x * 1.5 for x in s])
    table = compare(old, new, threshold=1.2)
    slower = table[table["verdict"] == "slower"]
    assert set(slower["implementation"]) == {"numba"} and len(slower) == numba.sum()
    assert slower["ratio"].to_numpy() == pytest.approx(1.5, rel=0.05)
    assert (table.loc[table["implementation"] != "numba", "verdict"] == "same").all()


def test_without_correction_the_drift_is_a_slowdown(results):
    table = compare(with_samples(results), with_samples(results, 1.5), correct=False)
    assert (table["verdict"] == "slower").all() and table["gate"].all()


def test_the_gate_is_limited_to_the_implementations_named(results):
    old, new = with_samples(results), with_samples(results)
    numba = new["implementation"] == "numba"
    new.loc[numba, "median_s"] *= 2
    new.loc[numba, "samples"] = new.loc[numba, "samples"].map(lambda s: [x * 2 for x in s])
    assert compare(old, new, gated=["numba"])["gate"].any()
    limited = compare(old, new, gated=["einsum"])
    assert (limited.loc[limited["implementation"] == "numba", "verdict"] == "slower").all()
    assert not limited["gate"].any()


def test_files_without_samples_compare_from_their_quartiles(results):
    slower = results.copy()
    slower.loc[slower["implementation"] == "numba", "median_s"] *= 3
    table = compare(results, slower)
    assert (table["how"] == "quartiles (no samples: less certain)").all()
    assert (table.loc[table["implementation"] == "numba", "verdict"] == "slower").all()
    assert "less certain" in summarize(table)


def test_a_within_run_comparison_pairs_the_rounds(results):
    rows = with_samples(results)
    renamed = rows[rows["implementation"] == "numba"].assign(implementation="numba@new")
    renamed["samples"] = renamed["samples"].map(lambda s: [x * 1.3 for x in s])
    renamed["median_s"] *= 1.3
    both = pd.concat(
        [rows.assign(implementation=rows["implementation"].replace("numba", "numba@old")), renamed]
    )
    table = compare_within(both, "numba@old", ["numba@new"], threshold=1.2)
    assert (table["how"] == "paired rounds").all()
    assert table["ratio"].to_numpy() == pytest.approx(1.3)
    assert (table["verdict"] == "slower").all() and table["gate"].all()


def test_references_that_scatter_widen_the_interval(results):
    old, new = with_samples(results), with_samples(results)
    rng = np.random.default_rng(5)
    scatter = np.exp(rng.normal(0.0, 0.4, len(new)))  # every ratio strays on its own
    new["median_s"] = new["median_s"] * scatter
    new["samples"] = [[x * f for x in s] for s, f in zip(new["samples"], scatter, strict=True)]
    quiet = compare(old, with_samples(results))
    busy = compare(old, new)
    assert (busy["high"] / busy["low"]).median() > 2 * (quiet["high"] / quiet["low"]).median()


def _only(run: pd.DataFrame, name: str) -> pd.DataFrame:
    return run[run["implementation"] == name].copy()


def test_two_probes_that_disagree_do_not_make_a_slowdown(results):
    old, new = with_samples(results), with_samples(results, 1.05)
    old, new = _only(old, "numba"), _only(new, "numba")
    case = new["m"] == new["m"].min()
    new.loc[case, "compute_s"] *= 0.17  # one probe disturbed in one case: seven times off
    table = compare(old, new, threshold=1.2, gated=["numba"])
    assert (table["verdict"] == "same").all() and not table["gate"].any()
    assert table["drift"].to_numpy() == pytest.approx(1.05, rel=0.02)  # the run's, not 0.44
    disturbed = table[table["m"] == table["m"].min()]
    assert ((disturbed["high"] / disturbed["low"]) > 2).all()  # and it widens the interval


def test_with_no_reference_the_drift_is_unknown_not_zero(results):
    old, new = _only(with_samples(results), "numba"), _only(with_samples(results, 1.3), "numba")
    old = old.drop(columns=list(drift.PROBES))
    new = new.drop(columns=list(drift.PROBES))
    table = compare(old, new, threshold=1.2)
    assert np.isnan(table.attrs["drift"])
    assert "unknown" in drift.describe(table.attrs["drift"])
    assert (table["verdict"] == "slower").all()  # compared as measured


def test_an_implementation_is_not_its_own_reference_through_the_run_drift(results):
    old, new = with_samples(results), with_samples(results)
    pair = old["implementation"].isin(["numba", "einsum"])
    old, new = (
        old[pair].drop(columns=list(drift.PROBES)),
        new[pair].drop(columns=list(drift.PROBES)),
    )
    numba = new["implementation"] == "numba"
    new.loc[numba, "median_s"] *= 1.5
    new.loc[numba, "samples"] = new.loc[numba, "samples"].map(lambda s: [x * 1.5 for x in s])
    table = compare(old, new, threshold=1.2)
    assert (table.loc[table["implementation"] == "numba", "verdict"] == "slower").all()
    assert table.loc[table["implementation"] == "numba", "ratio"].to_numpy() == pytest.approx(
        1.5, rel=0.05
    )


def _busy(run: pd.DataFrame, other_threads: float = 1.0) -> pd.DataFrame:
    busy = {"busy": True, "warning": "busy", "other_threads": other_threads, "cores": 2}
    run.attrs["metadata"] = {**run.attrs["metadata"], "busy": {**busy, "load": 1.0}}
    return run


def test_a_parallel_implementation_slower_on_a_busy_machine_fails_only_the_strict_gate(results):
    from gradrace.reports import model

    old = with_samples(results)
    new = with_samples(results)
    slow = new["implementation"].isin(["numpy-dot", "numba"])
    new["samples"] = [
        [t * 2 for t in s] if x else s for s, x in zip(new["samples"], slow, strict=True)
    ]
    new.loc[slow, "median_s"] *= 2
    meta = results.attrs["metadata"]
    counts = {
        (r.implementation, r.m, r.n, r.k, r.dtype): model.counts(
            meta, r.implementation, r.m, r.n, r.k, r.dtype
        )
        for r in results.itertuples()
    }
    parallel = {key: c is None or bool(c.get("parallel")) for key, c in counts.items()}
    assert any(parallel.values()) and not all(parallel.values())

    quiet = compare(old, new, threshold=1.2, correct=False)
    assert set(quiet.loc[quiet["implementation"].isin(["numpy-dot", "numba"]), "verdict"]) == {
        "slower"
    }
    table = compare(old, _busy(new), threshold=1.2, correct=False)
    for r in table[table["implementation"].isin(["numpy-dot", "numba"])].itertuples():
        expected = (
            "slower (busy machine)"
            if parallel[(r.implementation, r.m, r.n, r.k, r.dtype)]
            else "slower"
        )
        assert r.verdict == expected
        assert r.gate == (expected == "slower")
    assert "slower on a busy machine (other work held cores" in summarize(table, 1.2)
    strict = compare(old, new, threshold=1.2, correct=False, strict=True)
    assert strict.loc[strict["implementation"].isin(["numpy-dot", "numba"]), "gate"].all()


def test_an_implementation_that_declares_no_cost_may_be_parallel_on_a_busy_machine(results):
    old, new = with_samples(results), with_samples(results)
    mine = new["implementation"] == "numba"
    new.loc[mine, "samples"] = new.loc[mine, "samples"].map(lambda s: [t * 2 for t in s])
    new.loc[mine, "median_s"] *= 2
    for run in (old, new):  # numba declares nothing here, as a user's plain function
        records = dict(run.attrs["metadata"]["implementations"])
        records["numba"] = {**records["numba"], "cost": None, "counts": {}}
        run.attrs["metadata"] = {**run.attrs["metadata"], "implementations": records}
    table = compare(old, _busy(new), threshold=1.2, correct=False)
    verdicts = set(table.loc[table["implementation"] == "numba", "verdict"])
    assert verdicts == {"slower (busy machine)"} and not table["gate"].any()


def test_rounds_that_merely_spread_demote_no_slowdown():
    from synthetic_results import make_results

    results = make_results()
    old, new = with_samples(results), with_samples(results)
    mine = new["implementation"] == "numba"
    new.loc[mine, "samples"] = new.loc[mine, "samples"].map(lambda s: [t * 2 for t in s])
    new.loc[mine, "median_s"] *= 2
    table = compare(old, _busy(new, other_threads=0.0), threshold=1.2, correct=False)
    assert set(table.loc[table["implementation"] == "numba", "verdict"]) == {"slower"}


def test_when_other_work_held_every_core_a_serial_slowdown_is_the_busy_machines_too(results):
    old, new = with_samples(results), with_samples(results)
    mine = new["implementation"] == "numba"  # declared serial
    new.loc[mine, "samples"] = new.loc[mine, "samples"].map(lambda s: [t * 2 for t in s])
    new.loc[mine, "median_s"] *= 2
    held = compare(old, _busy(new, other_threads=2.0), threshold=1.2, correct=False)
    assert set(held.loc[held["implementation"] == "numba", "verdict"]) == {"slower (busy machine)"}
    assert not held["gate"].any()
    one = compare(old, _busy(with_samples(new), other_threads=1.0), threshold=1.2, correct=False)
    assert set(one.loc[one["implementation"] == "numba", "verdict"]) == {"slower"}  # a core free
