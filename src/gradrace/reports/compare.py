"""Comparing two runs: the ratio of medians per implementation and case, slowdowns flagged.

A case is flagged when the new median exceeds the old one by more than the
threshold; a flag is marked "within noise" when the two runs' interquartile ranges
of the timing rounds still overlap, so a reader can tell a regression from jitter.
"""

from __future__ import annotations

import pandas as pd

from gradrace.reports.data import agreeing

#: Default: a case more than 20 % slower than before is flagged.
THRESHOLD = 1.2
KEYS = ["implementation", "m", "n", "k", "dtype"]
COLUMNS = KEYS + ["old_s", "new_s", "ratio", "verdict", "noise"]


def _band(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """First and third quartiles of the rounds (median ± IQR/2 where a file lacks them)."""
    half = rows["iqr_s"].fillna(0.0) / 2
    q1 = rows["q1_s"] if "q1_s" in rows else pd.Series(float("nan"), index=rows.index)
    q3 = rows["q3_s"] if "q3_s" in rows else pd.Series(float("nan"), index=rows.index)
    return q1.fillna(rows["median_s"] - half), q3.fillna(rows["median_s"] + half)


def compare(old: pd.DataFrame, new: pd.DataFrame, threshold: float = THRESHOLD) -> pd.DataFrame:
    """Cases timed (and agreeing) in both runs: old and new medians, new ÷ old, and a verdict
    of ``slower`` (ratio > threshold), ``faster`` (< 1/threshold) or ``same``."""
    if threshold <= 1:
        raise ValueError(f"the slowdown threshold must exceed 1, got {threshold:g}")
    a, b = agreeing(old), agreeing(new)
    cols = KEYS + [c for c in ("median_s", "iqr_s", "q1_s", "q3_s") if c in a and c in b]
    both = a[cols].merge(b[cols], on=KEYS, suffixes=("_old", "_new"))
    if both.empty:
        return pd.DataFrame(columns=COLUMNS)
    ratio = both["median_s_new"] / both["median_s_old"]
    verdict = [
        "slower" if r > threshold else "faster" if r < 1 / threshold else "same" for r in ratio
    ]
    old_lo, old_hi = _band(_side(both, "_old"))
    new_lo, new_hi = _band(_side(both, "_new"))
    overlap = (new_lo <= old_hi) & (old_lo <= new_hi)
    table = both[KEYS].assign(
        old_s=both["median_s_old"],
        new_s=both["median_s_new"],
        ratio=ratio,
        verdict=verdict,
        noise=overlap.map({True: "within noise", False: ""}),
    )
    return table.sort_values(["implementation", "k", "dtype", "n", "m"]).reset_index(drop=True)


def _side(both: pd.DataFrame, suffix: str) -> pd.DataFrame:
    """One run's columns of a merged table, under their own names."""
    own = [c for c in both if c.endswith(suffix)]
    return both[own].rename(columns={c: c.removesuffix(suffix) for c in own})


def only_in(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """The agreeing cases of ``a`` that ``b`` did not time (or that disagreed there)."""
    x, y = agreeing(a)[KEYS], agreeing(b)[KEYS]
    merged = x.merge(y, on=KEYS, how="left", indicator=True)
    return merged[merged["_merge"] == "left_only"][KEYS]


def summarize(table: pd.DataFrame, threshold: float = THRESHOLD) -> str:
    """One sentence: how many cases got slower or faster beyond the threshold."""
    if table.empty:
        return "The two runs have no agreeing case in common: nothing to compare."
    slower = int((table["verdict"] == "slower").sum())
    faster = int((table["verdict"] == "faster").sum())
    pct = (threshold - 1) * 100
    text = (
        f"{len(table)} cases in common: {slower} slower by more than {pct:.0f} %, "
        f"{faster} faster by more than {pct:.0f} %"
    )
    noisy = int(((table["verdict"] == "slower") & (table["noise"] != "")).sum())
    if noisy:
        text += f" ({noisy} of the slowdowns within the runs' interquartile ranges)"
    return text + "."
