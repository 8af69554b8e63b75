"""The compiled sums that ``gradrace fit`` evaluates J with: squared residuals (linear),
cross-entropies (logistic).

Apart from ``fit.py`` so that importing the command line (``gradrace report`` on a
results file) does not load numba.
"""

from __future__ import annotations

import math

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


@njit_fast
def cross_entropies(X, Y, Wt, b) -> float:
    """Σ_i Σ_c −[y log σ(z) + (1 − y) log(1 − σ(z))] for z_ic = x_i·w_c + b_c and Wt = Wᵀ
    (k, n), one row at a time, as y·softplus(−z) + (1 − y)·softplus(z) (never log 0)."""
    m, n = X.shape
    k = Wt.shape[0]
    total = 0.0
    for i in range(m):
        x = X[i]  # (n,)
        for c in range(k):
            w = Wt[c]  # (n,)
            z = b[c]
            for j in range(n):
                z += x[j] * w[j]
            softplus = max(z, 0.0) + math.log1p(math.exp(-abs(z)))  # log(1 + e^z)
            total += softplus - Y[i, c] * z  # y·softplus(−z) + (1 − y)·softplus(z)
    return total
