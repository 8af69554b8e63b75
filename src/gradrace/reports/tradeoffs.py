"""Two trade-offs a single time cannot show: gram's paid-back preparation, float32's accuracy.

``gram`` spends O(m·n²) once to make every later gradient O(n²·k); it wins a
gradient-descent loop after ``prepare ÷ (other's time − gram's time)`` iterations.
float32 halves the bytes read, so it can be faster, but its error against the float64
reference grows with the sums' length; both belong side by side.
"""

from __future__ import annotations

import pandas as pd

from gradrace.reports.data import agreeing, geomean, size_label
from gradrace.units import format_seconds

KEYS = ["m", "n", "k", "dtype", "problem"]


def gram_break_even(results: pd.DataFrame, name: str = "gram") -> list[dict]:
    """Per size: gram's prepare and call times, the fastest other, and the break-even count."""
    rows = agreeing(results)
    mine = rows[rows["implementation"] == name]
    if mine.empty:
        return []
    rows = rows.merge(mine[KEYS].drop_duplicates(), on=KEYS)  # only the sizes gram was timed at
    out = []
    for key, case in rows.groupby(KEYS, sort=True):
        mine, others = case[case["implementation"] == name], case[case["implementation"] != name]
        if mine.empty or others.empty:
            continue
        gram, best = mine.iloc[0], others.loc[others["median_s"].idxmin()]
        saved = best["median_s"] - gram["median_s"]
        prepare = gram["prepare_s"] if gram["prepare_s"] == gram["prepare_s"] else 0.0
        iterations = prepare / saved if saved > 0 else float("inf")
        out.append(
            {
                "size": _label(*key),
                "prepare": format_seconds(prepare),
                "call": format_seconds(gram["median_s"]),
                "other": best["implementation"],
                "other_call": format_seconds(best["median_s"]),
                "break_even": "never: it is not faster per call"
                if saved <= 0
                else _iterations(max(iterations, 1)),
            }
        )
    return out


def _label(m, n, k, dtype, problem) -> str:
    size = size_label(m, n, k, dtype, True)
    return size if problem == "linear" else f"{problem} {size}"


def precision(results: pd.DataFrame) -> list[dict]:
    """Per implementation timed in both dtypes: float32's speedup and both dtypes' errors."""
    rows = agreeing(results)
    both = rows.pivot_table(
        index=["implementation", "m", "n", "k", "problem"],
        columns="dtype",
        values=["median_s", "error"],
        aggfunc="first",
    )
    if ("median_s", "float32") not in both or ("median_s", "float64") not in both:
        return []
    both = both.dropna(subset=[("median_s", "float32"), ("median_s", "float64")])
    out = []
    for name, group in both.groupby(level="implementation", sort=False):
        speedup = group[("median_s", "float64")] / group[("median_s", "float32")]
        out.append(
            {
                "implementation": name,
                "sizes": len(group),
                "speedup": f"{geomean(speedup):.2f}× ({speedup.min():.2f}–{speedup.max():.2f}×)",
                "error32": f"{group[('error', 'float32')].max():.1e}",
                "error64": f"{group[('error', 'float64')].max():.1e}",
            }
        )
    return out


def _iterations(count: float) -> str:
    text = f"{count:,.0f}"
    return f"{text} iteration" if text == "1" else f"{text} iterations"
