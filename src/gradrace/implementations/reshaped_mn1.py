"""reshaped-mn1: the (m, n, 1) "column vector per sample" layout from the course forum.

Each sample x_i is stored as an (n, 1) column, so X is (m, n, 1); the weights of
the k outputs are stacked as (k, n, 1) and the bias as (k, 1). A prediction is
then the matrix-vector product W x_i of linear algebra, done for all samples at
once by a broadcast (batched) matmul: (k, n) @ (m, n, 1) -> (m, k, 1). The price
is the reshaping and squeezing this layout needs before the gradient can be
formed, and m tiny matrix products instead of one large one.

The layout change is done once, untimed, in prepare; the timed call only
squeezes views and returns dW in the (n, k) shape the contract asks for.

Logistic regression uses the same layout and the same prepare: the batched matmul
makes the (m, k, 1) logits z, and the error is σ(z) − Y, the sigmoid applied
elementwise in that layout before the squeeze. It is written (1 + tanh(z/2))/2,
which never overflows (1/(1 + e^(−z)) does, for large negative z).
"""

from __future__ import annotations

import numpy as np

from gradrace.bench.implementation import (
    PER_ELEMENT,
    PER_ROW,
    PER_SIGMOID,
    Cost,
    Implementation,
    elementwise,
    matvec_flops,
    x_twice,
)


def prepare(X, Y, W, b, lam):
    """Store samples as (m, n, 1) columns and weights as (k, n, 1) (untimed)."""
    m, n = X.shape
    k = W.shape[1]
    X_cols = X.reshape(m, n, 1)  # (m, n, 1) one column vector per sample
    Y_cols = Y.reshape(m, k, 1)  # (m, k, 1)
    W_stack = W.T.copy().reshape(k, n, 1)  # (k, n, 1) one weight column per output
    b_col = b.reshape(k, 1)  # (k, 1)
    return X_cols, Y_cols, W_stack, b_col, lam


def gradient(X, Y, W, b, lam):
    m, n, _ = X.shape
    k = W.shape[0]
    W_rows = W.reshape(k, n)  # (k, n)   squeeze the depth axis (reshape keeps k = 1 2-D)
    predicted = W_rows @ X + b  # (m, k, 1) batched: W x_i + b for every sample
    error = (predicted - Y).reshape(m, k)  # (m, k)   squeeze back to one row per sample
    dW = error.T @ X.reshape(m, n) / m + (lam / m) * W_rows  # (k, n)
    db = error.sum(axis=0) / m  # (k,)
    return dW.T, db  # (n, k), (k,)


def logistic_gradient(X, Y, W, b, lam):
    m, n, _ = X.shape
    k = W.shape[0]
    W_rows = W.reshape(k, n)  # (k, n)
    z = W_rows @ X + b  # (m, k, 1) batched: the logits W x_i + b of every sample
    predicted = 0.5 * np.tanh(0.5 * z) + 0.5  # (m, k, 1) σ(z), no overflow for any z
    error = (predicted - Y).reshape(m, k)  # (m, k)
    dW = error.T @ X.reshape(m, n) / m + (lam / m) * W_rows  # (k, n)
    db = error.sum(axis=0) / m  # (k,)
    return dW.T, db  # (n, k), (k,)


def with_params(args, W, b):
    """The prepared layout at a new point (W, b): only W and b are laid out again."""
    X_cols, Y_cols, _, _, lam = args
    n, k = W.shape
    return X_cols, Y_cols, W.T.copy().reshape(k, n, 1), b.reshape(k, 1), lam


LOGISTIC = Implementation(
    name="reshaped-mn1",
    problem="logistic",
    gradient=logistic_gradient,
    prepare=prepare,
    with_params=with_params,
    description="The (m, n, 1) layout's batched matmul, then σ(z) − Y in that layout.",
    cost=Cost(
        passes="2: a batched matmul of m tiny (k, n) @ (n, 1) products, then error.T @ X",
        temporaries="(m, k, 1) logits, z/2, its tanh, × 0.5, + 0.5, − Y (the error)",
        flops="4·m·n·k, half of it in m separate tiny products, plus a tanh per sample and "
        "output: for small n that, not the read of X, bounds the time",
        overhead="reshapes and squeezes; per sample and output, a tiny product and a tanh "
        "(fitted together as one term: both are counted m·k), and the tiny products' time "
        "per multiply-add, fitted",
        elements=x_twice,
        serial_elements=elementwise(16),  # the (m, k) temporaries
        flop_count=lambda m, n, k: matvec_flops(m, n, k) + 3 * m * k,
        fitted=(PER_ELEMENT, PER_SIGMOID),
    ),
)

IMPLEMENTATION = Implementation(
    name="reshaped-mn1",
    gradient=gradient,
    prepare=prepare,
    with_params=with_params,
    description="The forum's (m, n, 1) column-per-sample layout with a batched matmul and squeezes.",
    cost=Cost(
        passes="2: a batched matmul of m tiny (k, n) @ (n, 1) products, then error.T @ X",
        temporaries="(m, k, 1) predicted, + b, − Y (the error), reshaped to (m, k)",
        flops="4·m·n·k, half of it in m separate tiny products",
        overhead="reshapes and squeezes; a per-sample cost for each tiny product, and the tiny "
        "products' time per multiply-add (both fitted)",
        elements=x_twice,
        serial_elements=elementwise(8),  # the (m, k) temporaries
        fitted=(PER_ELEMENT, PER_ROW),
    ),
    also=(LOGISTIC,),
)
