"""The headline: the winner per size regime, its speedups and its bandwidth share."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from gradrace.reports.headline import REGIMES, headlines


def test_one_headline_per_regime_with_the_expected_winners(results):
    found = {h.regime.name: h for h in headlines(results)}
    assert [r.name for r in REGIMES] == list(found)
    assert found["small"].fastest == "numba"
    assert found["large"].fastest == "numpy-dot"


def test_speedups_are_geometric_means_with_their_range(results):
    small = headlines(results)[0]
    mean, low, high = small.speedups["numpy-dot"]
    assert low <= mean <= high and low > 1
    assert small.wins == small.cases


def test_baseline_skipped_in_a_regime_gives_nan(results):
    large = headlines(results)[-1]
    assert all(math.isnan(x) for x in large.speedups["python-loops"])


def test_bandwidth_share_is_the_winners_at_the_largest_size(results):
    large = headlines(results)[-1]
    row = results[
        (results["implementation"] == "numpy-dot")
        & (results["m"] == 100_000)
        & (results["n"] == 100)
    ].iloc[0]
    assert large.bandwidth_fraction == row["bandwidth_fraction"]
    assert "m=10⁵ n=100" in large.largest


def test_no_agreeing_rows_no_headline(results):
    assert headlines(results.assign(status="error")) == []


def test_precomputing_implementations_are_not_ranked_in_the_headline_or_summary():
    import pandas as pd

    from gradrace.reports.headline import headlines
    from gradrace.reports.tables import fastest_per_case, format_summary

    def row(name, median):
        return {
            "implementation": name,
            "m": 10**6,
            "n": 10,
            "k": 1,
            "dtype": "float64",
            "threads": 1,
            "status": "ok",
            "median_s": median,
            "bandwidth_fraction": 0.5,
        }

    results = pd.DataFrame([row("gram", 1e-6), row("numba-fused", 1e-3), row("numpy-dot", 5e-3)])
    results.attrs["metadata"] = {"implementations": {"gram": {"precomputes": "XᵀX"}}}
    (large,) = headlines(results)
    assert large.fastest == "numba-fused" and "gram" in large.slowdowns  # still in the bars
    assert list(fastest_per_case(results)["fastest"]) == ["numba-fused"]
    assert "Not ranked: gram" in format_summary(results)


def test_x_leaves_the_cache_at_the_recorded_last_level_cache():
    from gradrace.reports.headline import DEFAULT_CACHE_BYTES, regimes

    small, medium, large = regimes({"caches": {"L1": 48 * 2**10, "L2": 2**20, "L3": 32 * 2**20}})
    assert (small.high, medium.low, medium.high, large.low) == (64e3, 64e3, 32 * 2**20, 32 * 2**20)
    assert medium.describe() == "X 64 kB – 33.6 MB" and large.describe() == "X over 33.6 MB"
    assert regimes({})[2].low == regimes(None)[2].low == DEFAULT_CACHE_BYTES


def test_headlines_use_the_runs_caches(results):
    results.attrs["metadata"] = {**results.attrs["metadata"], "caches": {"L3": 10**9}}
    names = [h.regime.name for h in headlines(results)]
    assert names == ["small", "medium"]  # every synthetic size fits a 1 GB cache


def test_an_implementation_that_failed_the_agreement_check_is_not_ranked():
    import pandas as pd

    from gradrace.reports.tables import fastest_per_case

    def row(name, median):
        return {
            "implementation": name,
            "m": 10**6,
            "n": 10,
            "k": 1,
            "dtype": "float64",
            "threads": 1,
            "status": "ok",
            "median_s": median,
            "bandwidth_fraction": 0.5,
        }

    results = pd.DataFrame([row("sloppy", 1e-4), row("numba-fused", 1e-3)])
    metadata = {"check": [{"implementation": "sloppy", "status": "disagrees"}]}
    results.attrs["metadata"] = metadata
    assert list(fastest_per_case(results)["fastest"]) == ["numba-fused"]
    assert headlines(results)[0].fastest == "numba-fused"
    stripped = results.copy()
    stripped.attrs = {}  # as the report's builder holds them: the metadata passed beside
    assert headlines(stripped, metadata)[0].fastest == "numba-fused"


def _with_limits(results, read_s: float, peak_gflops: float):
    """The synthetic results with the floors a gradrace run times beside them."""
    import pandas as pd

    from gradrace.bench.results import derived

    rows = [
        derived(r.m, r.n, r.k, r.dtype, r.median_s, read_s * r.m * r.n, peak_gflops)
        for r in results.itertuples()
    ]
    frame = results.assign(**pd.DataFrame(rows, index=results.index)[["limit_s", "limit_ratio"]])
    frame = frame.assign(read_s=[read_s * r.m * r.n for r in results.itertuples()])
    frame.attrs = results.attrs
    return frame


def test_the_winner_is_given_in_times_the_limit_at_the_largest_size(results):
    from gradrace.reports.headline import COMPUTE, READ

    fast_read = headlines(_with_limits(results, 1e-12, 1e-6))[-1]  # compute floor above read
    assert fast_read.limit_is == COMPUTE
    slow_read = headlines(_with_limits(results, 1e-10, 1e6))[-1]
    assert slow_read.limit_is == READ
    row = results[(results["implementation"] == "numpy-dot") & (results["m"] == 100_000)]
    row = row[row["n"] == 100].iloc[0]
    assert math.isclose(slow_read.limit_ratio, row["median_s"] / (1e-10 * 100_000 * 100))


def test_no_limit_in_the_file_gives_nan(results):
    large = headlines(results.assign(limit_ratio=float("nan")))[-1]
    assert math.isnan(large.limit_ratio) and large.limit_is == ""


def test_a_check_failed_on_one_problem_unranks_only_that_problem_in_the_headline():
    import pandas as pd

    def row(name, problem, median):
        return {
            "implementation": name,
            "m": 10**6,
            "n": 10,
            "k": 1,
            "dtype": "float64",
            "problem": problem,
            "threads": 1,
            "status": "ok",
            "median_s": median,
            "bandwidth_fraction": 0.5,
        }

    results = pd.DataFrame([row("half-right", "linear", 1e-4), row("numpy-dot", "linear", 1e-3)])
    results = pd.concat([results, pd.DataFrame([row("numpy-dot", "logistic", 2e-3)])])
    results.attrs["metadata"] = {
        "check": [
            {"implementation": "half-right", "problem": "linear", "status": "ok"},
            {"implementation": "half-right", "problem": "logistic", "status": "error"},
        ]
    }
    linear, logistic = headlines(results)
    assert (linear.problem, logistic.problem) == ("linear", "logistic")
    assert linear.fastest == "half-right" and linear.slowdowns["numpy-dot"][0] == pytest.approx(10)
    assert logistic.fastest == "numpy-dot" and "half-right" not in logistic.slowdowns


def test_each_problem_gets_its_own_headlines_and_sentence(results):
    from gradrace.reports.views import headline_sentence, headline_view

    logistic = results.assign(problem="logistic", median_s=results["median_s"] * 3)
    both = pd.concat([results, logistic], ignore_index=True)
    items = headlines(both)
    assert [h.problem for h in items] == ["linear"] * 3 + ["logistic"] * 3
    assert [h.fastest for h in items[3:]] == [h.fastest for h in headlines(results)]
    assert headline_view(items[-1])["regime"] == "logistic · large"
    sentence = headline_sentence(items)
    assert (
        sentence.startswith("Linear: numpy-dot is the fastest")
        and "Logistic: numpy-dot" in sentence
    )
    assert headlines(results)[0].problem == ""  # one problem: no label
