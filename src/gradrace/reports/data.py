"""Shared views of a results table: the agreeing rows, the size columns, the series to plot.

Every section of the report works on the same few slices of the results; keeping
them here means a plot and the table beside it can never disagree about what was
measured.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from gradrace.bench.results import DEFAULT_PROBLEM, MEASURED
from gradrace.bench.status import OK
from gradrace.units import count


def implementations(results: pd.DataFrame) -> list[str]:
    """Every implementation in ``results``, in the order they first appear (a run writes
    each case's rows in its registry's order: built-ins from the slowest idea to the
    fastest, then optional ones, then plugins)."""
    return [str(n) for n in pd.unique(results["implementation"].dropna())]


def metadata(results: pd.DataFrame) -> dict:
    return dict(results.attrs.get("metadata") or {})


def machine(meta: dict) -> tuple[float | None, float | None]:
    """(memory-read bandwidth in GB/s, BLAS peak in GFLOP/s) from a run's metadata, None
    where not measured."""
    info = meta.get("machine") or {}

    def clean(value):
        return float(value) if value is not None and np.isfinite(float(value)) else None

    return clean(info.get("bandwidth_gbs")), clean(info.get("peak_gflops"))


def with_sizes(results: pd.DataFrame) -> pd.DataFrame:
    """``results`` plus ``itemsize``, ``entries`` (m·n) and ``x_bytes`` (the bytes of X)."""
    frame = results.copy()
    frame["itemsize"] = [np.dtype(d).itemsize if isinstance(d, str) else 8 for d in frame["dtype"]]
    frame["entries"] = frame["m"].astype(float) * frame["n"].astype(float)
    frame["x_bytes"] = frame["entries"] * frame["itemsize"]
    return frame


def numeric(results: pd.DataFrame) -> pd.DataFrame:
    """A copy with the measured columns as floats (None and text become NaN), without the
    metadata in ``attrs``: pandas deep-copies attrs on every operation, which is slow."""
    frame = results.copy()
    frame.attrs = {}
    frame["problem"] = problems_of(frame)
    for column in MEASURED:
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def agreeing(results: pd.DataFrame) -> pd.DataFrame:
    """The rows that were timed and agreed with the reference, with a positive median."""
    frame = numeric(results)
    return with_sizes(frame[(frame["status"] == OK) & (frame["median_s"] > 0)])


def problems_of(results: pd.DataFrame) -> list[str]:
    """Each row's problem: its ``problem`` column, linear where there is none (results
    written before gradrace knew problems, a pytest-benchmark file without one)."""
    column = results["problem"] if "problem" in results else [None] * len(results)
    return [p if isinstance(p, str) else DEFAULT_PROBLEM for p in column]


def combos(results: pd.DataFrame) -> list[tuple[str, int, str]]:
    """The (problem, k, dtype) triples measured, the most measured first (linear before
    logistic, float64 before float32)."""
    if results.empty:
        return []
    frame = results.assign(problem=problems_of(results))
    counts = frame.groupby(["problem", "k", "dtype"]).size().reset_index(name="rows")
    counts["f64"] = counts["dtype"] != "float64"
    counts["other"] = counts["problem"] != DEFAULT_PROBLEM
    counts = counts.sort_values(["rows", "other", "f64", "k"], ascending=[False, True, True, True])
    return [
        (str(p), int(k), str(d))
        for p, k, d in zip(counts["problem"], counts["k"], counts["dtype"], strict=True)
    ]


def of_combo(
    results: pd.DataFrame, k: int, dtype: str, problem: str = DEFAULT_PROBLEM
) -> pd.DataFrame:
    """The rows of one (k, dtype) and problem."""
    same = np.array([p == problem for p in problems_of(results)], dtype=bool)
    return results[(results["k"] == k) & (results["dtype"] == dtype) & same]


def combo_words(problem: str, k: int, dtype: str, several: bool) -> str:
    """'k = 1, float64', with the problem first when it is not linear or ``several`` are
    shown ('logistic, k = 1, float64')."""
    words = f"k = {k}, {dtype}"
    return f"{problem}, {words}" if several or problem != DEFAULT_PROBLEM else words


def series(rows: pd.DataFrame, along: str, fixed: str) -> Iterator[tuple[int, str, pd.DataFrame]]:
    """(fixed value, implementation, rows sorted by ``along``) for every line of a plot."""
    for value in sorted(rows[fixed].unique()):
        at = rows[rows[fixed] == value]
        for name in implementations(at):
            line = at[at["implementation"] == name].sort_values(along)
            yield int(value), name, line


def geomean(values) -> float:
    values = np.asarray([v for v in values if v == v and v > 0], dtype=float)
    return float(np.exp(np.log(values).mean())) if len(values) else float("nan")


def size_label(m: int, n: int, k: int = 1, dtype: str = "float64", full: bool = False) -> str:
    """A compact case label such as ``m=10⁵ n=10``; ``full`` adds k and the dtype."""
    label = f"m={count(m)} n={count(n)}"
    return f"{label} k={k} {dtype}" if full else label
