"""The agreement section: relative errors per implementation and case, failures explained.

Two sources: the run's agreement check (fixed edge-case shapes, λ = 0 and λ > 0,
both dtypes; in the metadata) and the check made on every timed case (the results
rows). A pytest-benchmark file has only the second: each benchmark asserts agreement.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from gradrace.reports.data import implementations, numeric, size_label


@dataclass(frozen=True)
class Cell:
    text: str
    bad: bool = False
    title: str = ""


@dataclass(frozen=True)
class Failure:
    implementation: str
    case: str
    kind: str
    message: str
    diagnosis: str


def _error(row) -> float:
    values = [v for v in (row.get("err_dW"), row.get("err_db")) if _finite(v)]
    return max(values) if values else float("nan")


def _finite(value) -> bool:
    try:
        return value == value and value is not None and float(value) < float("inf")
    except (TypeError, ValueError):
        return False


def _cell(row: dict) -> Cell:
    error = _error(row)
    shown = f"{error:.1e}" if error == error else ""
    if row.get("status") == "ok":
        return Cell(shown or "ok")
    if row.get("status") == "n/a":  # the implementation does not handle this case
        return Cell("n/a", title=str(row.get("message") or ""))
    kind = str(row.get("kind") or row.get("status") or "?")
    return Cell(f"{kind.upper()} {shown}".strip(), bad=True, title=str(row.get("message") or ""))


def check_table(meta: dict) -> tuple[list[str], list[tuple[str, list[Cell]]]]:
    """(implementations, [(case, cells)]) of the agreement check in a run's metadata; empty
    without one."""
    check = pd.DataFrame(meta.get("check") or [])
    if check.empty:
        return [], []
    names = implementations(check)
    table = []
    for case, rows in check.groupby("case", sort=False):
        by_name = {r["implementation"]: r for r in rows.to_dict("records")}
        table.append((str(case), [_cell(by_name[n]) if n in by_name else Cell("–") for n in names]))
    return names, table


def failures(results: pd.DataFrame, meta: dict) -> list[Failure]:
    """Every disagreement or error, in the check (``meta``) and in timed cases, with its
    diagnosis."""
    out = []
    check = pd.DataFrame(meta.get("check") or [])
    if not check.empty:
        for row in check[~check["status"].isin(["ok", "n/a"])].to_dict("records"):
            out.append(
                Failure(
                    str(row["implementation"]),
                    f"check {row['case']}",
                    str(row.get("kind") or row["status"]),
                    str(row.get("message") or ""),
                    str(row.get("diagnosis") or ""),
                )
            )
    timed = results[results["status"].isin(["disagrees", "error"])]
    for row in timed.to_dict("records"):
        case = size_label(row["m"], row["n"], row["k"], row["dtype"], full=True)
        problem = row.get("problem")
        case = case if problem in ("linear", None) or problem != problem else f"{problem} {case}"
        out.append(
            Failure(
                str(row["implementation"]),
                f"timed {case}",
                str(row["status"]),
                str(row.get("message") or ""),
                str(row.get("diagnosis") or ""),
            )
        )
    return out


def timed_errors(results: pd.DataFrame) -> pd.DataFrame:
    """Per implementation: timed cases checked, how many agreed, the largest relative error."""
    rows = numeric(results)
    rows = rows[rows["status"].isin(["ok", "disagrees"])]
    if rows.empty:
        return pd.DataFrame(columns=["implementation", "cases", "agree", "max_error"])
    grouped = rows.groupby("implementation", sort=False)
    table = pd.DataFrame(
        {
            "cases": grouped.size(),
            "agree": grouped["status"].apply(lambda s: int((s == "ok").sum())),
            "max_error": grouped["error"].max(),
        }
    ).reset_index()
    order = {n: i for i, n in enumerate(implementations(rows))}
    return table.sort_values("implementation", key=lambda s: s.map(order)).reset_index(drop=True)
