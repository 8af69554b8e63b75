"""The trusted reference: the ridge cost and its gradient, written for clarity, in float64.

    J(W, b) = 1/(2m) ‖XW + b − Y‖² + λ/(2m) ‖W‖²
    ∂J/∂W   = Xᵀ(XW + b − Y)/m + (λ/m)·W
    ∂J/∂b   = mean over rows of (XW + b − Y)          (the bias is not regularized)

The tests prove the gradient right by central finite differences of the cost.
"""

from __future__ import annotations

import numpy as np

from gradrace.bench.problem import validate_inputs


def _float64(*arrays):
    return [np.asarray(a, dtype=np.float64) for a in arrays]


def reference_cost(X, Y, W, b, lam: float) -> float:
    """The regularized cost J(W, b), accumulated in float64."""
    m, _, _ = validate_inputs(X, Y, W, b, lam)
    X, Y, W, b = _float64(X, Y, W, b)
    residual = X @ W + b - Y  # (m, k)
    return float(np.sum(residual**2) / (2 * m) + lam / (2 * m) * np.sum(W**2))


def reference_gradient(X, Y, W, b, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """(∂J/∂W, ∂J/∂b) in float64, whatever the input dtype."""
    m, _, _ = validate_inputs(X, Y, W, b, lam)
    X, Y, W, b = _float64(X, Y, W, b)
    residual = X @ W + b - Y  # (m, k)
    dW = X.T @ residual / m + (lam / m) * W  # (n, k)
    db = residual.mean(axis=0)  # (k,)
    return dW, db
