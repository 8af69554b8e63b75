"""Tables from results: who is fastest at each size, and by how much."""

from __future__ import annotations

import pandas as pd

from gradrace.bench.cells import text_cell
from gradrace.bench.ranking import unranked, unranked_rows
from gradrace.reports import limits
from gradrace.reports.data import problems_of
from gradrace.reports.model import UNDER_LIMIT
from gradrace.units import format_seconds

BASELINES = ("python-loops", "numpy-dot")
#: A winner whose interquartile range exceeds this fraction of its median is marked noisy.
NOISY = 0.5


def _first_ok(rows: pd.DataFrame, name: str, keys: list[str]) -> pd.Series:
    """The median of ``name``'s first agreeing row per case, indexed by ``keys``."""
    own = rows[(rows["implementation"] == name) & (rows["status"] == "ok")]
    return own.drop_duplicates(keys).set_index(keys)["median_s"]


def fastest_per_case(results: pd.DataFrame) -> pd.DataFrame:
    """For each (m, n, k, dtype, problem, threads): the fastest agreeing implementation and its
    speedups over python-loops and numpy-dot (NaN where the baseline was not timed).

    Vectorised (one groupby, no loop over cases): a run may hold thousands of sizes."""
    keys = ["m", "n", "k", "dtype", "problem", "threads"]
    from gradrace.bench.ranking import unranked_rows

    metadata = results.attrs.get("metadata", {})
    results = results.copy()
    results.attrs = {}  # pandas deep-copies attrs (the run's metadata) on every operation
    results["problem"] = problems_of(results)
    out = unranked_rows(metadata, results["implementation"], results["problem"])
    ranked = results[~pd.Series(out, index=results.index, dtype=bool)]
    agreeing = ranked[(ranked["status"] == "ok") & ranked["median_s"].notna()]
    if agreeing.empty:
        return pd.DataFrame()
    best = agreeing.loc[agreeing.groupby(keys, sort=True)["median_s"].idxmin()]
    table = best[keys].copy()
    table["fastest"] = best["implementation"].to_numpy()
    table["median_s"] = best["median_s"].to_numpy(float)
    at = pd.MultiIndex.from_frame(best[keys])
    for baseline in BASELINES:
        base = _first_ok(ranked, baseline, keys).reindex(at).to_numpy(float)
        table[f"speedup_vs_{baseline}"] = base / table["median_s"].to_numpy()
    table["bandwidth_fraction"] = best.get("bandwidth_fraction")
    limit = best["limit_ratio"] if "limit_ratio" in best else pd.Series(float("nan"), best.index)
    table["limit_ratio"] = pd.to_numeric(limit, errors="coerce").to_numpy(float)
    iqr = pd.to_numeric(best.get("iqr_s", pd.Series(0.0, index=best.index)), errors="coerce")
    table["noisy"] = (iqr > NOISY * best["median_s"]).to_numpy(bool)
    table["pm"] = plus_minus(best).to_numpy(float)
    return table.reset_index(drop=True)


def plus_minus(rows: pd.DataFrame) -> pd.Series:
    """The larger half of each median's 95 % interval, as a fraction of the median (NaN
    where a file has no interval): the ± a table shows beside the median."""
    nan = pd.Series(float("nan"), index=rows.index)
    low = pd.to_numeric(rows.get("ci_low_s", nan), errors="coerce")
    high = pd.to_numeric(rows.get("ci_high_s", nan), errors="coerce")
    median = rows["median_s"]
    return pd.concat([high - median, median - low], axis=1).max(axis=1, skipna=False) / median


def _times_limit(ratio: float) -> str:
    if ratio != ratio:
        return "-"
    return f"{ratio:.2f}×" + (" †" if ratio < UNDER_LIMIT else "")


def _with_pm(seconds: float, pm: float) -> str:
    return format_seconds(seconds) + ("" if pm != pm else f" ±{pm * 100:.0f} %")


def format_summary(results: pd.DataFrame) -> str:
    """The end-of-run summary printed by ``gradrace run``."""
    table = fastest_per_case(results)
    if table.empty:
        return "No implementation agreed with the reference on any case."
    shown = pd.DataFrame(
        {
            "m": table["m"].map("{:,}".format),
            "n": table["n"].map("{:,}".format),
            "k": table["k"],
            "dtype": table["dtype"],
            "problem": table["problem"],
            "fastest": table["fastest"].map(text_cell),
            "time": [
                _with_pm(t, pm) + (" *" if noisy else "")
                for t, pm, noisy in zip(table["median_s"], table["pm"], table["noisy"], strict=True)
            ],
            "vs python-loops": table["speedup_vs_python-loops"].map(
                lambda x: "-" if x != x else f"{x:,.0f}×"
            ),
            "vs numpy-dot": table["speedup_vs_numpy-dot"].map(
                lambda x: "-" if x != x else f"{x:.2f}×"
            ),
            "× the limit": table["limit_ratio"].map(_times_limit),
        }
    )
    if set(table["problem"]) == {"linear"}:
        shown = shown.drop(columns="problem")
    lines = [
        "Fastest agreeing implementation per size (speedup = baseline time ÷ fastest time; "
        "± = the median's 95 % interval; × the limit = its time ÷ the larger of reading X and "
        "Y once and the least flops at the peak (and a logistic case's exps), all timed beside "
        "it):",
        shown.to_string(index=False),
    ]
    if (table["limit_ratio"] < UNDER_LIMIT).any():
        lines.append(
            f"† under {UNDER_LIMIT:g}: the floor timed beside it (the read of X and Y, or the "
            "least flops at the peak) took longer than the call, so it was held up there (a "
            "busy machine, or the call found X in a cache the read did not): not a limit "
            "at that size"
        )
    if table["noisy"].any():
        lines.append(
            f"* noisy: the interquartile range of the timing rounds exceeds {NOISY:.0%} "
            "of the median (a busy machine); rerun before trusting that size"
        )
    status = results["status"].value_counts()
    skipped = _not_ranked(results)
    if skipped:
        lines.append("Not ranked: " + "; ".join(skipped))
    lines.append("Measurements: " + ", ".join(f"{v} {k}" for k, v in status.items()))
    flagged = results[results["status"].isin(["disagrees", "error"])]
    problems = pd.Series(problems_of(results), index=results.index)
    several = problems.nunique() > 1
    for row in flagged.itertuples():
        name, message = text_cell(row.implementation), text_cell(row.message)
        problem = f"{problems[row.Index]} " if several else ""
        lines.append(
            f"  {row.status.upper()}: {name} at {problem}m={row.m} n={row.n} "
            f"k={row.k} {row.dtype}: {message}"
        )
    return "\n".join(lines)


def yours(results: pd.DataFrame) -> list[str]:
    """The implementations given by hand (``--plugin``), as the run's metadata records them."""
    records = (results.attrs.get("metadata") or {}).get("implementations") or {}
    return [
        name
        for name, record in records.items()
        if isinstance(record, dict) and str(record.get("origin", "")).startswith("--plugin ")
    ]


#: The heading of the standings of the implementations given by hand.
YOURS = "Yours (given with --plugin), at each size: its time, its place, ÷ the fastest"


def format_yours(results: pd.DataFrame) -> str:
    """Where each implementation given with ``--plugin`` stands at every size: its time, its
    place among the agreeing implementations, and how far it is from the fastest ('' if
    none was given)."""
    rows = standings(results)
    if not rows:
        return ""
    return "\n".join(
        [f"{YOURS}:", *(f"  {r['implementation']} {r['size']}: {r['standing']}" for r in rows)]
    )


def standings(results: pd.DataFrame) -> list[dict]:
    """Per size of each implementation given with ``--plugin``: its name, the size, and
    where it stands there in words (time, place among the ranked, ÷ the fastest, or why
    it has no place)."""
    names = [n for n in yours(results) if n in set(results["implementation"])]
    if not names:
        return []
    ok = results[results["status"] == "ok"].copy()
    meta = results.attrs.get("metadata") or {}
    out = unranked_rows(meta, ok["implementation"], problems_of(ok)) if len(ok) else []
    ok = ok[~pd.Series(out, index=ok.index, dtype=bool)]  # the fastest is a ranked one
    case = [c for c in ("problem", "m", "n", "k", "dtype") if c in ok]
    ok["place"] = ok.groupby(case)["median_s"].rank(method="min")
    ok["of"] = ok.groupby(case)["median_s"].transform("size")
    fastest = ok.loc[ok.groupby(case)["median_s"].idxmin(), [*case, "implementation", "median_s"]]
    mine = results[results["implementation"].isin(names)].merge(
        ok[[*case, "implementation", "place", "of"]], on=[*case, "implementation"], how="left"
    )
    mine = mine.merge(fastest, on=case, suffixes=("", "_fastest"), how="left")
    found = []
    for row in mine.itertuples():
        problem = "" if getattr(row, "problem", "linear") == "linear" else f"{row.problem} "
        size = f"{problem}m={row.m:,} n={row.n:,} k={row.k} {row.dtype}"
        found.append(
            {
                "implementation": text_cell(row.implementation),
                "size": size,
                "standing": _standing(row, meta),
            }
        )
    return found


def _standing(row, meta: dict) -> str:
    """One size of one implementation given by hand, in words."""
    if row.status != "ok":
        return f"{row.status}{_why(row)}"
    if row.place != row.place:  # ok, but out of the ranking
        why = unranked(meta, getattr(row, "problem", "linear")).get(row.implementation, "")
        return f"{format_seconds(row.median_s)}, not ranked" + (f": {why}" if why else "")
    ratio = row.median_s / row.median_s_fastest
    best = text_cell(row.implementation_fastest)
    note = getattr(row, "message", None)
    return (
        f"{format_seconds(row.median_s)}, {int(row.place)} of {int(row.of)}"
        + ("" if ratio == 1 else f", {ratio:,.1f}× {best}'s {format_seconds(row.median_s_fastest)}")
        + (f" ({_why(row)[2:]})" if isinstance(note, str) and note else "")
    )


def _why(row, most: int = 200) -> str:
    """': what happened' from a row's message (its kind where it has none), shortened."""
    message = getattr(row, "message", None)
    text = text_cell(message) if isinstance(message, str) and message else str(row.kind)
    return f": {text if len(text) <= most else text[: most - 1] + '…'}"


def _not_ranked(results: pd.DataFrame) -> list[str]:
    """Each implementation left out of the ranking, and why, naming the problem when the
    results hold several (a version may be ranked on one problem and not on another; a
    problem it has no version for is not named)."""
    from gradrace.bench.ranking import unranked

    problems = pd.Series(problems_of(results), index=results.index)
    several = problems.nunique() > 1
    out = []
    for problem in dict.fromkeys(problems):
        has_version = (problems == problem) & (results["status"] != "n/a")
        present = set(results.loc[has_version, "implementation"])
        why = unranked(results.attrs.get("metadata", {}), problem)
        for name in sorted(n for n in why if n in present):
            where = f" on {problem}" if several else ""
            out.append(f"{text_cell(name)}{where} ({why[name]})")
    return out


#: The results columns shown in the report's table, in order (all are in results.csv).
SHOWN = [
    "implementation",
    "m",
    "n",
    "k",
    "dtype",
    "problem",
    "threads",
    "status",
    "median_s",
    "ci_low_s",
    "ci_high_s",
    "iqr_s",
    "min_s",
    "rounds",
    "number",
    "gflops",
    "bandwidth_gbs",
    "bandwidth_fraction",
    "limit_s",
    "limit_ratio",
    "ratio_to_fastest",
    "prepare_s",
    "error",
    "peak_bytes",
]


def results_html(results: pd.DataFrame) -> str:
    """The results as an HTML table (pandas, cells escaped), plain numbers that a
    spreadsheet reads when the table is copied."""
    frame, note = limits.head(results[[c for c in SHOWN if c in results]], "rows")
    table = frame.to_html(
        index=False,
        escape=True,
        na_rep="",
        border=0,
        classes="results",
        float_format=lambda x: f"{x:.4g}",
    )
    if note:
        table += (
            f'<p class="note">{limits.with_note("", note).strip()} Every row is in the CSV.</p>'
        )
    return table


def not_timed(results: pd.DataFrame) -> pd.DataFrame:
    """The skipped and failed measurements with their reasons, by implementation and size."""
    rows = results[results["status"].isin(["skipped", "error"])]
    columns = ["implementation", "m", "n", "k", "dtype", "status", "message"]
    return rows[columns].sort_values(["implementation", "k", "dtype", "n", "m"])


def prepare_summary(results: pd.DataFrame) -> pd.DataFrame:
    """Per implementation: the first preparation (in run order; it includes any JIT
    compilation not cached), the median of the others, and the largest."""
    rows = results.assign(prepare_s=pd.to_numeric(results["prepare_s"], errors="coerce"))
    rows = rows.dropna(subset=["prepare_s"])
    out = []
    for name, own in rows.groupby("implementation", sort=False):
        first, rest = float(own["prepare_s"].iloc[0]), own["prepare_s"].iloc[1:]
        median = float(rest.median()) if len(rest) else float("nan")
        out.append(
            {
                "implementation": name,
                "first_s": first,
                "median_rest_s": median,
                "max_s": float(own["prepare_s"].max()),
                "compiles": bool(median == median and first > 10 * max(median, 1e-6)),
            }
        )
    return pd.DataFrame(
        out, columns=["implementation", "first_s", "median_rest_s", "max_s", "compiles"]
    )
