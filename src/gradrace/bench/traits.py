"""What a results file keeps of each implementation: where it came from and its traits.

A report reads these records instead of importing implementations, so a results file
(or a pytest-benchmark JSON) renders anywhere, and a plugin's declared costs reach
the report's model exactly as a built-in's do.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gradrace.bench.implementation import Implementation


def case_key(m: int, n: int, k: int, dtype: str) -> str:
    """The key of a case in a record's ``counts``: ``"m,n,k,dtype"``."""
    return f"{int(m)},{int(n)},{int(k)},{dtype}"


def record(impl: Implementation, origin: str, cases: Iterable) -> dict:
    """An implementation's description, origin and traits, with its declared costs
    evaluated on each of ``cases`` (objects with m, n, k and dtype)."""
    cost = impl.cost
    counts = {}
    if cost is not None:
        for c in cases:
            itemsize = np.dtype(c.dtype).itemsize
            counts[case_key(c.m, c.n, c.k, c.dtype)] = cost.at(c.m, c.n, c.k, itemsize)
    return {
        "description": impl.description,
        "origin": origin,
        "precomputes": impl.precomputes,
        "max_outputs": impl.max_outputs,
        "cost": cost.words() if cost is not None else None,
        "counts": counts,
    }
