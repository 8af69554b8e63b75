"""einsum: every contraction written as an Einstein summation.

The index strings say what is summed: ``'ij,jk->ik'`` sums over features j to make
predictions, ``'ij,ik->jk'`` sums over samples i to make ∂J/∂W, and ``'ik->k'``
sums the residuals for ∂J/∂b. With numpy's default ``optimize=False`` einsum uses
its own loops rather than BLAS, which is exactly what the benchmark shows.

Logistic regression keeps the three index strings: only the residual changes, to
σ(z) − Y with z the logits ``'ij,jk->ik'`` makes. The sigmoid is elementwise, so it
has no index string of its own; it is written (1 + tanh(z/2))/2, which never
overflows (1/(1 + e^(−z)) does, for large negative z).
"""

from __future__ import annotations

import numpy as np

from gradrace.bench.implementation import (
    PER_ELEMENT,
    PER_SIGMOID,
    Cost,
    Implementation,
    Term,
    elementwise,
    matvec_flops,
    x_twice,
)

#: einsum's inner loop is entered once per sample and output of each contraction when a
#: sum over n > 1 features remains (a few ns each); at n = 1 there is no sum to loop over.
PER_INNER_LOOP = Term(
    "per sample and output summed in einsum's inner loop (m·k, for n > 1)",
    lambda m, n, k, s: m * k if n > 1 else 0.0,
)


def gradient(X, Y, W, b, lam):
    m = X.shape[0]
    residual = np.einsum("ij,jk->ik", X, W) + b - Y  # (m, k)
    dW = np.einsum("ij,ik->jk", X, residual) / m + (lam / m) * W  # (n, k)
    db = np.einsum("ik->k", residual) / m  # (k,)
    return dW, db


def logistic_gradient(X, Y, W, b, lam):
    m = X.shape[0]
    z = np.einsum("ij,jk->ik", X, W) + b  # (m, k)   the logits
    residual = 0.5 * np.tanh(0.5 * z) + 0.5 - Y  # (m, k)   σ(z) − Y, no overflow for any z
    dW = np.einsum("ij,ik->jk", X, residual) / m + (lam / m) * W  # (n, k)
    db = np.einsum("ik->k", residual) / m  # (k,)
    return dW, db


LOGISTIC = Implementation(
    name="einsum",
    problem="logistic",
    gradient=logistic_gradient,
    description="np.einsum for both contractions around σ(z) = (1 + tanh(z/2))/2.",
    cost=Cost(
        passes="2, in einsum's own loops (no BLAS with optimize=False)",
        temporaries="7 × (m, k): the product, + b, z/2, its tanh, × 0.5, + 0.5, − Y",
        flops="4·m·n·k on one core in einsum's own loops, slower than a read of X (the model "
        "fits their time per multiply-add), plus a tanh per sample and output: for small "
        "n the tanh, not the read of X, bounds the time",
        overhead="parsing three subscript strings per call; entering its inner loop once per "
        "sample and output when n > 1 (fitted)",
        elements=x_twice,
        serial_elements=elementwise(16),  # the (m, k) temporaries
        flop_count=lambda m, n, k: matvec_flops(m, n, k) + 3 * m * k,
        fitted=(PER_ELEMENT, PER_INNER_LOOP, PER_SIGMOID),
    ),
)

IMPLEMENTATION = Implementation(
    name="einsum",
    gradient=gradient,
    description="np.einsum for every contraction ('ij,jk->ik', 'ij,ik->jk', 'ik->k').",
    cost=Cost(
        passes="2, in einsum's own loops (no BLAS with optimize=False)",
        temporaries="3 × (m, k): the product, + b, − Y",
        flops="4·m·n·k on one core in einsum's own loops, slower than a read of X (the model "
        "fits their time per multiply-add)",
        overhead="parsing three subscript strings per call; entering its inner loop once per "
        "sample and output when n > 1 (fitted)",
        elements=x_twice,
        serial_elements=elementwise(8),  # the (m, k) temporaries
        fitted=(PER_ELEMENT, PER_INNER_LOOP),
    ),
    also=(LOGISTIC,),
)
