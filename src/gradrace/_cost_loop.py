"""The compiled sum of squared residuals that ``gradrace fit`` evaluates J with.

Apart from ``fit.py`` so that importing the command line (``gradrace report`` on a
results file) does not load numba.
"""

from __future__ import annotations

from gradrace._jit import njit_fast


@njit_fast
def squared_residuals(X, Y, Wt, b) -> float:
    """Σ_i Σ_c (x_i·w_c + b_c − y_ic)² for Wt = Wᵀ (k, n), one row at a time."""
    m, n = X.shape
    k = Wt.shape[0]
    total = 0.0
    for i in range(m):
        x = X[i]  # (n,)
        for c in range(k):
            w = Wt[c]  # (n,)
            r = b[c] - Y[i, c]
            for j in range(n):
                r += x[j] * w[j]  # r_ic = x_i·w_c + b_c − y_ic
            total += r * r
    return total
