"""Fitted scaling: how the time of each implementation grows with m and with n.

A least-squares fit of log t = c + α·log m + β·log n over the sizes where the call
is well above its fixed overhead (otherwise the overhead flattens every slope to 0).
α ≈ 1 is the linear growth every gradient must have in m; gram's α ≈ 0 is its point.
An implementation that declares no cost is described by this fit alone: how it grows
and what it costs per multiply-add at its largest sizes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gradrace.reports.model import NOT_DECLARED, Fit, declared
from gradrace.units import format_seconds

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


def _exponent(x: float) -> str:
    return f"{x:.2g}".translate(str.maketrans("0123456789.-", "⁰¹²³⁴⁵⁶⁷⁸⁹·⁻"))


def fitted_growth(rows: pd.DataFrame, alpha: float, beta: float) -> str:
    """'grows as m¹·n¹, about 70 ns per multiply-add': an undeclared implementation in words."""
    parts = [f"{v}{_exponent(x)}" for v, x in (("m", alpha), ("n", beta)) if x == x]
    largest = rows.loc[(rows["m"] * rows["n"] * rows["k"]).idxmax()]
    per = largest["median_s"] / (largest["m"] * largest["n"] * largest["k"])
    growth = f"grows as {'·'.join(parts)}, " if parts else ""
    return f"{growth}about {format_seconds(per)} per multiply-add at its largest size (fitted)"


def scaling_table(
    rows: pd.DataFrame, fits: dict[str, Fit], meta: dict | None = None
) -> pd.DataFrame:
    """One row per implementation: fitted exponents of m and n, points used, what was expected.

    ``rows`` are the agreeing rows of one k and dtype; ``fits`` gives each implementation's
    overhead, below which sizes are left out of the fit; ``meta`` holds the declared costs.
    """
    out = []
    for name, own in rows.groupby("implementation", sort=False):
        overhead = fits[name].overhead_s if name in fits else 0.0
        above = own[own["median_s"] >= ABOVE_OVERHEAD * overhead]
        alpha, beta = _slopes(above) if len(above) >= 2 else (float("nan"), float("nan"))
        note = "" if len(above) >= 3 else "too few sizes well above the per-call overhead"
        problem = own["problem"].iloc[0] if "problem" in own else "linear"
        entry = declared(meta or {}, name, problem)
        expected = (
            entry["cost"]["expected"]
            if entry
            else f"{NOT_DECLARED}; measured: {fitted_growth(own, alpha, beta)}"
        )
        out.append(
            {
                "implementation": name,
                "alpha_m": alpha,
                "beta_n": beta,
                "points": len(above),
                "expected": expected,
                "note": note,
            }
        )
    return pd.DataFrame(out, columns=COLUMNS)
