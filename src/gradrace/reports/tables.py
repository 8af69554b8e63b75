"""Tables from results: who is fastest at each size, and by how much."""

from __future__ import annotations

import pandas as pd

BASELINES = ("python-loops", "numpy-dot")


def _speedup(case_rows: pd.DataFrame, fastest_s: float, baseline: str) -> float:
    base = case_rows[(case_rows["implementation"] == baseline) & (case_rows["status"] == "ok")]
    return float(base["median_s"].iloc[0] / fastest_s) if len(base) else float("nan")


def fastest_per_case(results: pd.DataFrame) -> pd.DataFrame:
    """For each (m, n, k, dtype, threads): the fastest agreeing implementation and its
    speedups over python-loops and numpy-dot (NaN where the baseline was not timed)."""
    rows = []
    keys = ["m", "n", "k", "dtype", "threads"]
    for key, case_rows in results.groupby(keys, sort=True):
        agreeing = case_rows[case_rows["status"] == "ok"]
        if agreeing.empty:
            continue
        best = agreeing.loc[agreeing["median_s"].idxmin()]
        row = dict(zip(keys, key, strict=True))
        row.update(fastest=best["implementation"], median_s=best["median_s"])
        for baseline in BASELINES:
            row[f"speedup_vs_{baseline}"] = _speedup(case_rows, best["median_s"], baseline)
        row["bandwidth_fraction"] = best.get("bandwidth_fraction")
        rows.append(row)
    return pd.DataFrame(rows)


def format_seconds(seconds: float) -> str:
    if seconds != seconds:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_summary(results: pd.DataFrame) -> str:
    """The end-of-run summary printed by ``gradrace run``."""
    table = fastest_per_case(results)
    if table.empty:
        return "No implementation agreed with the reference on any case."
    shown = pd.DataFrame({
        "m": table["m"].map("{:,}".format), "n": table["n"].map("{:,}".format), "k": table["k"],
        "dtype": table["dtype"], "fastest": table["fastest"],
        "time": table["median_s"].map(format_seconds),
        "vs python-loops": table["speedup_vs_python-loops"].map(lambda x: "-" if x != x else f"{x:,.0f}×"),
        "vs numpy-dot": table["speedup_vs_numpy-dot"].map(lambda x: "-" if x != x else f"{x:.2f}×"),
    })  # fmt: skip
    lines = ["Fastest agreeing implementation per size (speedup = baseline time ÷ fastest time):",
             shown.to_string(index=False)]  # fmt: skip
    status = results["status"].value_counts()
    lines.append("Measurements: " + ", ".join(f"{v} {k}" for k, v in status.items()))
    flagged = results[results["status"].isin(["disagrees", "error"])]
    for row in flagged.itertuples():
        lines.append(f"  {row.status.upper()}: {row.implementation} at m={row.m} n={row.n} "
                     f"k={row.k} {row.dtype}: {row.message}")  # fmt: skip
    return "\n".join(lines)
