"""gram: precompute XᵀX once, so that every gradient costs O(n²k) whatever m is.

The residual is linear in the data, so its products with X split into statistics of
the data alone and the point (W, b):

    Xᵀ(XW + 1bᵀ − Y) = (XᵀX) W + (Xᵀ1) bᵀ − XᵀY      (n, k)
    1ᵀ(XW + 1bᵀ − Y) = (1ᵀX) W + m·b − 1ᵀY           (k,)

In gradient descent X and Y never change, only W and b do. So ``prepare`` computes
G = XᵀX (n, n), s = Xᵀ1 (n,), C = XᵀY (n, k) and t = 1ᵀY (k,) once, in float64
(float32 data is converted block by block), and each gradient is then one n×n by
n×k product: 2n²k flops, with no pass over X at all.

When it wins. Preparing costs one pass over X with m·n² flops for XᵀX (BLAS runs
it near the machine's peak P); a gradient from the data (numpy-dot, numba-fused)
costs a pass over X that, for few outputs k, is bound by the memory read bandwidth
B: about 8mn/B seconds in float64. A run of T gradients breaks even when

    T ≈ t_prepare / (t_direct − t_gram) ≈ (m·n²/P) / (8mn/B) = n·B / (8P),

which does not depend on m: with B ≈ 40 GB/s and P ≈ 100 GFLOP/s, about n/20
iterations (n = 100: 5; n = 1000: 50). Gradient descent takes hundreds of steps, so
gram wins for tall data (m ≫ n) and moderate n. It loses when n is comparable to m
(2n²k exceeds the 4mnk of a direct gradient once n > 2m), when the data change between
gradients (stochastic mini-batches: each batch would need its own XᵀX), and when n
is so large that the n×n matrix G does not fit in memory. gradrace times only the
gradient call and reports the preparation separately (prepare_s), so read both.

Accuracy. G·W and C nearly cancel when the residual is small (W near the least-squares
solution): the gradient then carries an absolute error of about eps·‖G‖‖W‖ rather than
eps·‖X‖‖R‖. Accumulating the statistics in float64 keeps that far below the
tolerances for the sizes gradrace runs, float32 data included.
"""

from __future__ import annotations

import numpy as np

from gradrace.bench.implementation import Cost, Implementation, params_at
from gradrace.bench.problem import validate_inputs

#: Rows of float32 data converted to float64 at a time while preparing (memory bound).
CONVERT_ROWS = 65_536


def statistics(X, Y):
    """G = XᵀX (n, n), s = Xᵀ1 (n,), C = XᵀY (n, k), t = 1ᵀY (k,), all float64."""
    m, n = X.shape
    k = Y.shape[1]
    if X.dtype == np.float64:
        return X.T @ X, X.sum(axis=0), X.T @ Y, Y.sum(axis=0)
    G, s = np.zeros((n, n)), np.zeros(n)  # (n, n), (n,)
    C, t = np.zeros((n, k)), np.zeros(k)  # (n, k), (k,)
    for start in range(0, m, CONVERT_ROWS):
        Xb = X[start : start + CONVERT_ROWS].astype(np.float64)  # (B, n)
        Yb = Y[start : start + CONVERT_ROWS].astype(np.float64)  # (B, k)
        G += Xb.T @ Xb  # (n, n)
        s += Xb.sum(axis=0)  # (n,)
        C += Xb.T @ Yb  # (n, k)
        t += Yb.sum(axis=0)  # (k,)
    return G, s, C, t


def gradient(G, s, C, t, m, W, b, lam):
    """The timed call: the gradient at (W, b) from the statistics, in O(n²k)."""
    W64 = W.astype(np.float64, copy=False)  # (n, k)
    b64 = b.astype(np.float64, copy=False)  # (k,)
    XtR = G @ W64 + np.outer(s, b64) - C  # (n, k)   Xᵀ R without R
    rsum = s @ W64 + m * b64 - t  # (k,)     1ᵀ R
    dW = XtR / m + (lam / m) * W64  # (n, k)
    db = rsum / m  # (k,)     the bias is not regularized
    return dW.astype(W.dtype, copy=False), db.astype(W.dtype, copy=False)


def prepare(X, Y, W, b, lam):
    """Validate, then compute the statistics of the data once (the slow, untimed part)."""
    validate_inputs(X, Y, W, b, lam)
    G, s, C, t = statistics(X, Y)
    return G, s, C, t, X.shape[0], W, b, float(lam)


def ridge_gradient(X, Y, W, b, lam):
    """Public entry point for one gradient (for many, call prepare once, then gradient)."""
    return gradient(*prepare(X, Y, W, b, lam))


IMPLEMENTATION = Implementation(
    name="gram",
    gradient=gradient,
    prepare=prepare,
    with_params=params_at(5, 6),
    precomputes="XᵀX, Xᵀ1, XᵀY and 1ᵀY",
    description="Precomputes XᵀX, Xᵀ1, XᵀY and 1ᵀY once (prepare); each gradient is "
    "then O(n²k), independent of m.",
    cost=Cost(
        passes="0 per call: XᵀX (n, n) and XᵀY (n, k) were formed once in prepare, O(m·n²)",
        temporaries="(n, k): G @ W",
        flops="2·n²·k per call, independent of m",
        overhead="two small products",
        elements=lambda m, n, k: n * n + 3 * n * k,
        flop_count=lambda m, n, k: 2 * n * n * k + 4 * n * k,
        parallel=True,
        expected="m⁰ n²",
    ),
)
