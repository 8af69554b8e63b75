"""Ranking: which timed implementations are compared, and each one's ratio to the fastest.

A timing counts only for an implementation that agrees with the reference, and an
implementation whose untimed ``prepare`` precomputes from X (its per-call time does not
read X) is shown but never the reference of a ranking. Both facts are read from a
run's metadata, so ranking a results file needs no implementation module.
"""

from __future__ import annotations

from gradrace.bench.status import NOT_APPLICABLE, OK
from gradrace.bench.traits import version_record


def unranked(metadata: dict, problem: str | None = None) -> dict[str, str]:
    """Implementations timed but never the reference of a ranking, and why: on cases of
    ``problem`` (each version has its own traits and check), or of any problem (None)."""
    out = {}
    for name, stored in (metadata.get("implementations") or {}).items():
        record = version_record(stored, problem)
        if isinstance(record, dict) and record.get("precomputes"):
            out[name] = f"its untimed prepare precomputes from X ({record['precomputes']})"
    for row in metadata.get("check") or []:
        if problem is not None and row.get("problem", "linear") != problem:
            continue
        if row.get("status") not in (OK, NOT_APPLICABLE):
            out[row["implementation"]] = "failed the agreement check"
    return out


def unranked_rows(metadata: dict, names, problems) -> list[bool]:
    """For each row (its implementation's name and its problem): whether it is out of the
    ranking on cases of that problem, as ``unranked`` says per problem (an implementation
    that failed, or precomputes in, one problem's version still ranks on the other's)."""
    names, problems = list(names), list(problems)
    excluded = {p: unranked(metadata, p) for p in set(problems)}
    return [name in excluded[p] for name, p in zip(names, problems, strict=True)]


def rank(rows: list[dict], excluded=()) -> None:
    """Set ``ratio_to_fastest`` (median ÷ the fastest agreeing median) on one case's rows.

    ``excluded`` implementations (see ``unranked``) get a ratio but are not the reference.
    """
    medians = [
        r["median_s"] for r in rows if r.get("status") == OK and r["implementation"] not in excluded
    ]
    fastest = min(medians, default=None)
    for r in rows:
        ratio = r["median_s"] / fastest if fastest and r.get("status") == OK else float("nan")
        r["ratio_to_fastest"] = ratio
