"""einsum: every contraction written as an Einstein summation.

The index strings say what is summed: ``'ij,jk->ik'`` sums over features j to make
predictions, ``'ij,ik->jk'`` sums over samples i to make ∂J/∂W, and ``'ik->k'``
sums the residuals for ∂J/∂b. With numpy's default ``optimize=False`` einsum uses
its own loops rather than BLAS, which is exactly what the benchmark shows.
"""

from __future__ import annotations

import numpy as np

from gradrace.bench.implementation import Cost, Implementation, two_passes


def gradient(X, Y, W, b, lam):
    m = X.shape[0]
    residual = np.einsum("ij,jk->ik", X, W) + b - Y  # (m, k)
    dW = np.einsum("ij,ik->jk", X, residual) / m + (lam / m) * W  # (n, k)
    db = np.einsum("ik->k", residual) / m  # (k,)
    return dW, db


IMPLEMENTATION = Implementation(
    name="einsum",
    gradient=gradient,
    description="np.einsum for every contraction ('ij,jk->ik', 'ij,ik->jk', 'ik->k').",
    cost=Cost(
        passes="2, in einsum's own loops (no BLAS with optimize=False)",
        temporaries="3 × (m, k): the product, + b, − Y",
        flops="4·m·n·k on one core",
        overhead="parsing three subscript strings per call",
        elements=two_passes,
    ),
)
