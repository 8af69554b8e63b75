"""``gradrace check``: every implementation on every check case, against the reference."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import pandas as pd

from gradrace.bench.agreement import OK, TOLERANCE, Outcome, evaluate
from gradrace.bench.course import is_course
from gradrace.bench.explain import plain
from gradrace.bench.grids import CHECK_CASES, Case
from gradrace.bench.implementation import Implementation
from gradrace.bench.reference import reference_gradient
from gradrace.bench.status import NOT_APPLICABLE

COLUMNS = [
    "implementation",
    "case",
    "m",
    "n",
    "k",
    "dtype",
    "problem",
    "lam",
    "status",
    "kind",
    "err_dW",
    "err_db",
    "diagnosis",
    "message",
]


def run_check(
    implementations: Sequence[Implementation],
    cases: Iterable[Case] = CHECK_CASES,
    report: Callable[..., None] | None = None,
) -> pd.DataFrame:
    """One row per implementation × case with the verdict of the agreement check; a case
    an implementation does not handle (k above its ``max_outputs``, or a problem it has
    no version for) is n/a, with the reason."""
    rows = []
    for case in cases:
        problem = case.problem()
        reference = reference_gradient(*problem.args, problem=case.model)
        for impl in implementations:
            if report is not None:
                report("phase", impl.name, f"check {case.label}")
            why = impl.applies_to(case.model, case.k)
            outcome = not_applicable(why) if why else evaluate(impl, problem, reference)
            rows.append(
                {
                    "implementation": impl.name,
                    "case": case.label,
                    "m": case.m,
                    "n": case.n,
                    "k": case.k,
                    "dtype": case.dtype,
                    "problem": case.model,
                    "lam": case.lam,
                    "status": outcome.status,
                    "kind": outcome.kind,
                    "err_dW": outcome.err_dW,
                    "err_db": outcome.err_db,
                    "diagnosis": outcome.diagnosis,
                    "message": outcome.message,
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def not_applicable(why: str) -> Outcome:
    return Outcome(NOT_APPLICABLE, "n/a", why)


def lost_rows(name: str, cases: Iterable[Case], message: str) -> pd.DataFrame:
    """Rows for an implementation that hung or crashed the checking process."""
    rows = [
        {
            "implementation": name,
            "case": c.label,
            "m": c.m,
            "n": c.n,
            "k": c.k,
            "dtype": c.dtype,
            "problem": c.model,
            "lam": c.lam,
            "status": "error",
            "kind": "lost",
            "message": message,
        }
        for c in cases
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def all_agree(results: pd.DataFrame) -> bool:
    """Whether every case each implementation handles agrees (n/a cases are not failures),
    and at least one case was checked: a check where nothing applied proves nothing."""
    status = results["status"] if len(results) else pd.Series(dtype=object)
    return bool(status.isin([OK, NOT_APPLICABLE]).all() and (status == OK).any())


def _cell(row) -> str:
    if row.status == OK:
        return f"ok {max(row.err_dW, row.err_db):.0e}"
    if row.status == NOT_APPLICABLE:
        return "n/a"
    return row.kind.upper()


def failing(wrong: int, of: int, which: str, kinds: Iterable[str]) -> str:
    """'DISAGREES on 2 of 24 cases' when every failure is a wrong gradient; else 'FAILS on
    3 of 24 cases (2 raised, 1 disagrees)', so a crash is not read as a wrong answer."""
    counts = pd.Series(list(kinds), dtype=object).value_counts()
    if set(counts.index) <= {"disagrees"}:
        return f"DISAGREES on {wrong} of {of} {which}"
    detail = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    return f"FAILS on {wrong} of {of} {which} ({detail})"


def _verdict(rows: pd.DataFrame) -> str:
    """'agrees (24/24 cases)', 'agrees (12/12 applicable cases)', or what ``failing``
    says: a failure counts the cases that fail, so the number cannot be misread."""
    applicable = rows[rows["status"] != NOT_APPLICABLE]
    failed = applicable[applicable["status"] != OK]
    if applicable.empty:
        return "no applicable case"
    which = "applicable cases" if len(applicable) < len(rows) else "cases"
    if failed.empty:
        return f"agrees ({len(applicable)}/{len(applicable)} {which})"
    return failing(len(failed), len(applicable), which, failed["kind"].astype(str))


def conventions(implementations: Sequence[Implementation]) -> list[str]:
    """A line for each implementation read in another convention than gradrace's."""
    return [
        f"{impl.name}: {plain(impl.description)}" for impl in implementations if is_course(impl)
    ]


def _failure_lines(failed: pd.DataFrame) -> list[str]:
    """Each failure explained, an explanation said once per implementation: the cases
    whose message differs from an earlier one only in numbers are listed after it."""
    same = failed["message"].astype(str).str.replace(_NUMBER, "#", regex=True)
    groups = failed.groupby(["implementation", "kind", same], sort=False)
    lines = []
    for (name, kind, _), rows in groups:
        first = rows.iloc[0]
        lines.append(f"  {name} on {first.case}: {kind}: {first.message}")
        if len(rows) > 1:
            lines.append(f"    (the same on {len(rows) - 1} more: {'; '.join(rows.case[1:])})")
    return lines


#: A number in a message (a size, an error, a tolerance): what differs between cases.
_NUMBER = r"\d+(?:\.\d+)?(?:e[+-]?\d+)?"


def format_check(results: pd.DataFrame) -> str:
    """A case × implementation table of max relative errors, then every failure explained."""
    table = results.assign(cell=[_cell(r) for r in results.itertuples()]).pivot(
        index="case", columns="implementation", values="cell"
    )
    table = table.reindex(
        index=results["case"].unique(), columns=results["implementation"].unique()
    )
    tolerances = ", ".join(f"{dt}: {tol:.0e}" for dt, tol in TOLERANCE.items())
    lines = [
        "Agreement with the float64 reference (normwise relative error of dW and db, the larger "
        f"shown; tolerance {tolerances})",
        "",
        table.to_string(),
    ]
    failed = results[~results["status"].isin([OK, NOT_APPLICABLE])]
    if len(failed):
        lines += ["", "Failures:"] + _failure_lines(failed)
    unhandled = results[results["status"] == NOT_APPLICABLE]
    if len(unhandled):
        lines += ["", "Not applicable:"]
        whys = unhandled["message"].astype(str).str.split(";").str[0]
        for (name, why), rows in unhandled.groupby(["implementation", whys], sort=False):
            lines.append(f"  {name} on {len(rows)} case(s): {why}")
    lines.append("")
    for name, rows in results.groupby("implementation", sort=False):
        lines.append(f"{name}: {_verdict(rows)}")
    return "\n".join(lines)
