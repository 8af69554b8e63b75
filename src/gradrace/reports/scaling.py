"""Fitted scaling: how the time of each implementation grows with m and with n.

A least-squares fit of log t = c + α·log m + β·log n over the sizes where the call
is well above its fixed overhead (otherwise the overhead flattens every slope to 0).
α ≈ 1 is the linear growth every gradient must have in m; gram's α ≈ 0 is its point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gradrace.reports.model import CONSTRUCTION, NOT_DECLARED, Fit

#: A size counts towards the slope when its time is at least this many overheads.
ABOVE_OVERHEAD = 3.0
COLUMNS = ["implementation", "alpha_m", "beta_n", "points", "expected", "note"]


def _slopes(rows: pd.DataFrame) -> tuple[float, float]:
    """(α, β); NaN for a variable that takes a single value among the rows."""
    t = np.log(rows["median_s"].to_numpy(float))
    variables = [v for v in ("m", "n") if rows[v].nunique() > 1]
    if not variables:
        return float("nan"), float("nan")
    a = np.column_stack([np.ones_like(t)] + [np.log(rows[v].to_numpy(float)) for v in variables])
    coef = dict(zip(variables, np.linalg.lstsq(a, t, rcond=None)[0][1:], strict=True))
    return float(coef.get("m", np.nan)), float(coef.get("n", np.nan))


def scaling_table(predicted: pd.DataFrame, fits: dict[str, Fit]) -> pd.DataFrame:
    """One row per implementation: fitted exponents of m and n, points used, what was expected.

    ``predicted`` is the model's table (agreeing rows of one k and dtype); ``fits`` gives
    each implementation's overhead, below which sizes are left out of the fit.
    """
    out = []
    for name, rows in predicted.groupby("implementation", sort=False):
        overhead = fits[name].overhead_s if name in fits else 0.0
        above = rows[rows["median_s"] >= ABOVE_OVERHEAD * overhead]
        alpha, beta = _slopes(above) if len(above) >= 2 else (float("nan"), float("nan"))
        note = "" if len(above) >= 3 else "too few sizes well above the per-call overhead"
        build = CONSTRUCTION.get(name)
        out.append({
            "implementation": name, "alpha_m": alpha, "beta_n": beta, "points": len(above),
            "expected": build.expected if build else NOT_DECLARED, "note": note,
        })  # fmt: skip
    return pd.DataFrame(out, columns=COLUMNS)
