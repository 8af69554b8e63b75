"""What a results file keeps of each implementation: where it came from and its traits.

A report reads these records instead of importing implementations, so a results file
(or a pytest-benchmark JSON) renders anywhere, and a plugin's declared costs reach
the report's model exactly as a built-in's do.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gradrace.bench.implementation import Implementation


def case_key(m: int, n: int, k: int, dtype: str, problem: str = "linear") -> str:
    """The key of a case in a record's ``counts``: ``"m,n,k,dtype"``, with ``",problem"``
    after it for a problem other than linear (so files from before problems read alike)."""
    key = f"{int(m)},{int(n)},{int(k)},{dtype}"
    return key if problem == "linear" else f"{key},{problem}"


def _traits(impl: Implementation) -> dict:
    cost = impl.cost
    return {
        "description": impl.description,
        "precomputes": impl.precomputes,
        "max_outputs": impl.max_outputs,
        "cost": cost.words() if cost is not None else None,
    }


def record(impl: Implementation, origin: str, cases: Iterable) -> dict:
    """An implementation's description, origin and traits, with its declared costs
    evaluated on each of ``cases`` (objects with m, n, k, dtype and optionally ``model``).

    Each version (one per problem, ``Implementation.also``) has its own traits: the top
    level holds ``impl``'s own, ``by_problem`` every version's, and ``counts`` the costs of
    the version each case's problem uses."""
    counts = {}
    for c in cases:
        problem = getattr(c, "model", "linear")
        version = impl.for_problem(problem)
        if version is None or version.cost is None:
            continue
        itemsize = np.dtype(c.dtype).itemsize
        counts[case_key(c.m, c.n, c.k, c.dtype, problem)] = version.cost.at(c.m, c.n, c.k, itemsize)
    return {
        **_traits(impl),
        "origin": origin,
        "problem": impl.problem,
        "problems": list(impl.problems),
        "by_problem": {p: _traits(impl.for_problem(p)) for p in impl.problems},
        "counts": counts,
    }


def version_record(record: dict, problem: str | None) -> dict:
    """The traits of one problem's version in a stored ``record`` (the record itself when
    ``problem`` is None or the file predates versions)."""
    if problem is None or not isinstance(record, dict):
        return record
    return {**record, **((record.get("by_problem") or {}).get(problem) or {})}
