"""The trusted references: each problem's cost and gradient, written for clarity, in float64.

Ridge (linear) regression::

    J(W, b) = 1/(2m) ‖XW + b − Y‖² + λ/(2m) ‖W‖²
    ∂J/∂W   = Xᵀ(XW + b − Y)/m + (λ/m)·W
    ∂J/∂b   = mean over rows of (XW + b − Y)          (the bias is not regularized)

Regularized logistic regression, f = σ(XW + b) and Y in {0, 1}::

    J(W, b) = −1/m Σ [Y log f + (1 − Y) log(1 − f)] + λ/(2m) ‖W‖²
    ∂J/∂W   = Xᵀ(f − Y)/m + (λ/m)·W
    ∂J/∂b   = mean over rows of (f − Y)

The sigmoid and the cross-entropy are written so that no |z| overflows or takes
log(0). Logistic labels must lie in [0, 1] (``check_labels``): 0 or 1, or probabilities. The tests prove each gradient right by central finite differences of its cost.
"""

from __future__ import annotations

import numpy as np

from gradrace.bench.problem import check_problem, validate_inputs


def _float64(*arrays):
    return [np.asarray(a, dtype=np.float64) for a in arrays]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z)) for any z, without overflow warnings."""
    return np.exp(-np.logaddexp(0.0, -z))


def check_labels(Y) -> None:
    """Refuse logistic labels outside [0, 1]: the cross-entropy is defined for labels 0 and
    1 and for probabilities between them (soft labels), and for nothing else."""
    Y = np.asarray(Y)
    outside = ~((Y >= 0) & (Y <= 1))  # NaN is outside too
    if outside.any():
        raise ValueError(
            f"logistic regression needs labels Y in [0, 1] (0 or 1, or probabilities); "
            f"{int(outside.sum())} of {Y.size} lie outside, such as {Y[outside].flat[0]!r}"
        )


def _logistic(problem: str, Y) -> bool:
    if check_problem(problem) != "logistic":
        return False
    check_labels(Y)
    return True


def reference_cost(X, Y, W, b, lam: float, problem: str = "linear") -> float:
    """The regularized cost J(W, b) of ``problem``, accumulated in float64."""
    m, _, _ = validate_inputs(X, Y, W, b, lam)
    X, Y, W, b = _float64(X, Y, W, b)
    z = X @ W + b  # (m, k)
    penalty = lam / (2 * m) * np.sum(W**2)
    if _logistic(problem, Y):
        # −[Y log σ(z) + (1 − Y) log(1 − σ(z))] = Y·softplus(−z) + (1 − Y)·softplus(z)
        loss = Y * np.logaddexp(0.0, -z) + (1 - Y) * np.logaddexp(0.0, z)  # (m, k)
        return float(np.sum(loss) / m + penalty)
    return float(np.sum((z - Y) ** 2) / (2 * m) + penalty)


def reference_gradient(X, Y, W, b, lam: float, problem: str = "linear"):
    """(∂J/∂W, ∂J/∂b) of ``problem`` in float64, whatever the input dtype."""
    m, _, _ = validate_inputs(X, Y, W, b, lam)
    X, Y, W, b = _float64(X, Y, W, b)
    z = X @ W + b  # (m, k)
    f = sigmoid(z) if _logistic(problem, Y) else z  # (m, k) the prediction
    residual = f - Y  # (m, k)
    dW = X.T @ residual / m + (lam / m) * W  # (n, k)
    db = residual.mean(axis=0)  # (k,)
    return dW, db
