"""Tables: the CLI's summary still works, and the report's tables say what they claim."""

from __future__ import annotations

import pandas as pd
from synthetic_results import EVIL

from gradrace.reports.tables import (
    fastest_per_case,
    format_seconds,
    format_summary,
    not_timed,
    prepare_summary,
    results_html,
)


def test_fastest_per_case_picks_the_smallest_agreeing_median(results):
    table = fastest_per_case(results)
    small = table[(table["m"] == 10) & (table["n"] == 1)].iloc[0]
    large = table[(table["m"] == 100_000) & (table["n"] == 100)].iloc[0]
    assert small["fastest"] == "numba" and large["fastest"] == "numpy-dot"
    assert large["speedup_vs_numpy-dot"] == 1.0


def test_format_summary_lists_flagged_rows(results):
    text = format_summary(results)
    assert "Fastest agreeing implementation per size" in text
    assert "ERROR: einsum at m=1000 n=10" in text
    assert f"DISAGREES: {EVIL} at m=100 n=10" in text


def test_flagged_rows_name_their_problem_when_the_run_has_several(results):
    import pandas as pd

    linear, logistic = results.assign(problem="linear"), results.assign(problem="logistic")
    text = format_summary(pd.concat([linear, logistic], ignore_index=True))
    assert "ERROR: einsum at linear m=1000 n=10" in text
    assert "ERROR: einsum at logistic m=1000 n=10" in text


def test_format_seconds_units():
    assert [format_seconds(x) for x in (2.5, 3e-3, 4e-6, 5e-9)] == ["2.5 s", "3 ms", "4 µs", "5 ns"]
    assert format_seconds(float("nan")) == "-"


def test_results_html_escapes_names():
    import pandas as pd

    frame = pd.DataFrame([{"implementation": EVIL, "m": 1, "n": 1, "median_s": 1e-6}])
    html = results_html(frame)
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_not_timed_lists_skips_and_errors_only(results):
    rows = not_timed(results)
    assert set(rows["status"]) == {"skipped", "error"}
    assert (rows["implementation"] == "einsum").sum() == 1


def test_prepare_summary_reports_first_and_rest(results):
    results.loc[results["implementation"] == "numba", "prepare_s"] = 1e-5
    first = results.index[results["implementation"] == "numba"][0]
    results.loc[first, "prepare_s"] = 0.8  # the first call compiles
    table = prepare_summary(results).set_index("implementation")
    assert table.loc["numba", "first_s"] == 0.8 and table.loc["numba", "compiles"]
    assert table.loc["numba", "median_rest_s"] == 1e-5
    assert not table.loc["numpy-dot", "compiles"]


def test_the_fastest_time_is_also_given_in_times_the_limit(results):
    frame = results.assign(limit_ratio=1.25)
    frame.attrs = results.attrs
    assert (fastest_per_case(frame)["limit_ratio"] == 1.25).all()
    assert "× the limit" in format_summary(frame) and "1.25×" in format_summary(frame)
    assert fastest_per_case(results.assign(limit_ratio=None))["limit_ratio"].isna().all()
    assert "†" not in format_summary(frame)
    below = results.assign(limit_ratio=0.62)
    below.attrs = results.attrs
    text = format_summary(below)
    assert "0.62× †" in text and "† under 0.95: the floor timed beside it" in text


def _two_problem_rows(name_medians: dict[str, float]):
    import pandas as pd

    rows = [
        {
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
        for problem in ("linear", "logistic")
        for name, median in name_medians.items()
    ]
    return pd.DataFrame(rows)


def test_a_check_failed_on_one_problem_unranks_only_that_problem():
    results = _two_problem_rows({"half-right": 1e-4, "numpy-dot": 1e-3})
    results.attrs["metadata"] = {
        "check": [
            {"implementation": "half-right", "problem": "linear", "status": "ok"},
            {"implementation": "half-right", "problem": "logistic", "status": "disagrees"},
        ]
    }
    table = fastest_per_case(results).set_index("problem")
    assert table.loc["linear", "fastest"] == "half-right"
    assert table.loc["logistic", "fastest"] == "numpy-dot"


def test_a_precomputing_version_unranks_only_its_problem():
    results = _two_problem_rows({"gram-like": 1e-4, "numpy-dot": 1e-3})
    results.attrs["metadata"] = {
        "implementations": {
            "gram-like": {
                "precomputes": "",
                "problem": "logistic",
                "by_problem": {"logistic": {"precomputes": ""}, "linear": {"precomputes": "XᵀX"}},
            }
        }
    }
    table = fastest_per_case(results).set_index("problem")
    assert table.loc["linear", "fastest"] == "numpy-dot"
    assert table.loc["logistic", "fastest"] == "gram-like"


def test_the_summary_says_on_which_problem_an_implementation_is_not_ranked():
    results = _two_problem_rows({"half-right": 1e-4, "numpy-dot": 1e-3})
    results.attrs["metadata"] = {
        "check": [{"implementation": "half-right", "problem": "logistic", "status": "disagrees"}]
    }
    assert "Not ranked: half-right on logistic (failed the agreement check)" in format_summary(
        results
    )


def test_the_summary_leaves_out_a_problem_an_implementation_has_no_version_for():
    results = _two_problem_rows({"gram": 1e-4, "numpy-dot": 1e-3})
    results.loc[
        (results["implementation"] == "gram") & (results["problem"] == "logistic"), "status"
    ] = "n/a"
    results.attrs["metadata"] = {
        "implementations": {"gram": {"precomputes": "XᵀX", "by_problem": {"linear": {}}}}
    }
    text = format_summary(results)
    assert "gram on linear (" in text and "gram on logistic" not in text


def test_the_implementations_given_by_hand_are_placed_at_every_size():
    from gradrace.reports.tables import format_yours

    rows = [
        ("numba-fused", 100, 2e-6, "ok"),
        ("numpy-dot", 100, 1e-5, "ok"),
        ("lab", 100, 4e-4, "ok"),
        ("numba-fused", 1000, 5e-6, "ok"),
        ("numpy-dot", 1000, 2e-5, "ok"),
        ("lab", 1000, None, "disagrees"),
    ]
    frame = pd.DataFrame(
        [
            {"implementation": i, "m": m, "n": 10, "k": 1, "dtype": "float64", "problem": "linear"}
            | {"median_s": t, "status": s, "kind": "disagrees" if s != "ok" else "agrees"}
            | {"message": "dj_dw wrong (relative error 1.5e-01)" if s != "ok" else ""}
            for i, m, t, s in rows
        ]
    )
    frame.attrs["metadata"] = {
        "implementations": {
            "numba-fused": {"origin": "built-in"},
            "lab": {"origin": "--plugin lab.py:compute_gradient_linear_reg"},
        }
    }
    text = format_yours(frame)
    assert "lab m=100 n=10 k=1 float64: 400 µs, 3 of 3, 200.0× numba-fused's 2 µs" in text
    assert "lab m=1,000 n=10 k=1 float64: disagrees: dj_dw wrong (relative error 1.5e-01)" in text
    frame.attrs["metadata"]["implementations"]["lab"]["origin"] = "entry point 'lab'"
    assert format_yours(frame) == ""


def test_yours_are_placed_against_the_ranked_fastest_not_a_precomputing_one():
    from gradrace.reports.tables import format_yours

    rows = [("gram", 1e-6), ("numba-fused", 2e-6), ("lab", 4e-4), ("cached", 1e-7)]
    frame = pd.DataFrame(
        [
            {"implementation": i, "m": 100, "n": 10, "k": 1, "dtype": "float64"}
            | {"problem": "linear", "median_s": t, "status": "ok", "kind": "agrees"}
            | {"message": ""}
            for i, t in rows
        ]
    )
    frame.attrs["metadata"] = {
        "implementations": {
            "gram": {"origin": "built-in", "precomputes": "XᵀX"},
            "lab": {"origin": "--plugin lab.py:compute_gradient_linear_reg"},
            "cached": {"origin": "--plugin lab.py:cached", "precomputes": "XᵀX"},
        }
    }
    text = format_yours(frame)
    assert "lab m=100 n=10 k=1 float64: 400 µs, 2 of 2, 200.0× numba-fused's 2 µs" in text
    assert "cached m=100 n=10 k=1 float64: 100 ns, not ranked: its untimed prepare" in text
