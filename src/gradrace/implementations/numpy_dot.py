"""numpy-dot: the vectorized gradient with the ``@`` operator.

Two matrix products do all the work: ``X @ W`` makes every prediction at once and
``X.T @ residual`` sums err_i · x_ij over the samples for every feature j. numpy
hands both to the BLAS library, so this is the baseline most people would write.

Logistic regression changes one line: the prediction is σ(XW + b), so the residual
is σ(z) − Y, and the same ``X.T @ residual`` gives ∂J/∂W. The sigmoid is written
as σ(z) = (1 + tanh(z/2))/2, the same function as 1/(1 + e^(−z)) but with no
overflow for any z (e^(−z) overflows for z below about −709 in float64 and −88 in
float32, where tanh simply reaches −1), and about as fast as numpy's ``exp``.
"""

from __future__ import annotations

import numpy as np

from gradrace.bench.implementation import (
    PER_ROW,
    PER_SIGMOID,
    Cost,
    Implementation,
    Term,
    elementwise,
    matvec_flops,
    x_twice,
)

#: For one output (k = 1) both products are BLAS matrix-vector products (gemv), which
#: stream X below the read bandwidth a plain sum reaches (about half of it, measured): the
#: model fits their cost per element of X beyond the bandwidth floor.
GEMV = Term(
    "per element of X through a BLAS matrix-vector product (k = 1)",
    lambda m, n, k, s: m * n if k == 1 else 0.0,
)


def gradient(X, Y, W, b, lam):
    m = X.shape[0]
    residual = X @ W + b - Y  # (m, k)   prediction error of every sample and output
    dW = X.T @ residual / m + (lam / m) * W  # (n, k)
    db = residual.sum(axis=0) / m  # (k,)     the bias is not regularized
    return dW, db


def logistic_gradient(X, Y, W, b, lam):
    m = X.shape[0]
    z = X @ W + b  # (m, k)   the logits
    residual = 0.5 * np.tanh(0.5 * z) + 0.5 - Y  # (m, k)   σ(z) − Y, no overflow for any z
    dW = X.T @ residual / m + (lam / m) * W  # (n, k)
    db = residual.sum(axis=0) / m  # (k,)
    return dW, db


LOGISTIC = Implementation(
    name="numpy-dot",
    problem="logistic",
    gradient=logistic_gradient,
    description="Vectorized numpy: X @ W, σ as (1 + tanh(z/2))/2, then X.T @ residual.",
    cost=Cost(
        passes="2 through BLAS: X @ W, then X.T @ residual",
        temporaries="7 × (m, k): X @ W, + b, z/2, its tanh, × 0.5, + 0.5, − Y (the residual)",
        flops="4·m·n·k in two BLAS products, plus a tanh per sample and output: for small n "
        "the tanh, not the read of X, bounds the time",
        overhead="about a dozen numpy calls and allocations",
        elements=x_twice,  # through BLAS on every core
        serial_elements=elementwise(16),  # the (m, k) temporaries
        flop_count=lambda m, n, k: matvec_flops(m, n, k) + 3 * m * k,
        parallel=True,
        fitted=(GEMV, PER_SIGMOID),
    ),
)

IMPLEMENTATION = Implementation(
    name="numpy-dot",
    gradient=gradient,
    description="Vectorized numpy: two matrix products (X @ W, then X.T @ residual) through BLAS.",
    cost=Cost(
        passes="2 through BLAS: X @ W, then X.T @ residual",
        temporaries="3 × (m, k): X @ W, + b, − Y (the residual)",
        flops="4·m·n·k in two BLAS products (memory-bound for small k)",
        overhead="about ten numpy calls and allocations",
        elements=x_twice,  # through BLAS on every core
        serial_elements=elementwise(8),  # the (m, k) temporaries
        parallel=True,
        fitted=(GEMV, PER_ROW),  # PER_ROW: the (m, k) temporaries beyond their bytes (allocation)
    ),
    also=(LOGISTIC,),
)
