"""numpy-dot: the vectorized gradient with the ``@`` operator.

Two matrix products do all the work: ``X @ W`` makes every prediction at once and
``X.T @ residual`` sums err_i · x_ij over the samples for every feature j. numpy
hands both to the BLAS library, so this is the baseline most people would write.
"""

from __future__ import annotations

from gradrace.bench.implementation import Cost, Implementation, Term, two_passes

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


IMPLEMENTATION = Implementation(
    name="numpy-dot",
    gradient=gradient,
    description="Vectorized numpy: two matrix products (X @ W, then X.T @ residual) through BLAS.",
    cost=Cost(
        passes="2 through BLAS: X @ W, then X.T @ residual",
        temporaries="3 × (m, k): X @ W, + b, − Y (the residual)",
        flops="4·m·n·k in two BLAS products (memory-bound for small k)",
        overhead="about ten numpy calls and allocations",
        elements=two_passes,
        parallel=True,
        fitted=(GEMV,),
    ),
)
