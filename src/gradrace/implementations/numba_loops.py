"""numba: the same per-sample, per-feature loops as python-loops, compiled by numba.

The loop body is the course's formula unchanged; ``@njit`` turns it into machine
code, so the loops run at C speed with no temporaries at all. Compilation for the
dtype at hand happens in the untimed prepare (its duration is the prepare time
gradrace reports); with ``cache=True`` a later run loads the compiled code from disk.

Logistic regression compiles the same loops with a sigmoid between the dot product
and the accumulation: err = σ(z) − y. The sigmoid is python-loops' e^(−|z|) form
(1/(1 + e) for z ≥ 0, e/(1 + e) below), as a jitted function numba inlines; in
float32 numba calls the float32 exp, and e^(−|z|) ≤ 1 never overflows in either dtype.
"""

from __future__ import annotations

import math

import numpy as np

from gradrace._jit import njit
from gradrace.bench.implementation import (
    PER_ELEMENT,
    PER_ROW,
    PER_SIGMOID,
    Cost,
    Implementation,
    params_at,
)
from gradrace.bench.problem import validate_inputs


@njit
def _gradient_kernel(X, Y, W, b, lam, dW, db):
    m, n = X.shape
    k = W.shape[1]
    for i in range(m):
        for c in range(k):
            err = b[c] - Y[i, c]  # scalar: prediction error of sample i, output c
            for j in range(n):
                err += X[i, j] * W[j, c]
            for j in range(n):
                dW[j, c] += err * X[i, j]  # (n, k) accumulate err_i · x_ij
            db[c] += err  # (k,)
    for j in range(n):
        for c in range(k):
            dW[j, c] = dW[j, c] / m + (lam / m) * W[j, c]  # only w_j's own term
    for c in range(k):
        db[c] = db[c] / m  # the bias is not regularized


@njit
def _sigmoid(z, one):
    """σ(z) in the dtype of z and ``one`` (1 in that dtype), through e^(−|z|) ≤ 1."""
    e = math.exp(-abs(z))
    return one / (one + e) if z >= 0 else e / (one + e)


@njit
def _logistic_kernel(X, Y, W, b, lam, dW, db):
    m, n = X.shape
    k = W.shape[1]
    one = np.ones(1, dtype=X.dtype)[0]  # 1 in the input dtype: float32 stays float32
    for i in range(m):
        for c in range(k):
            z = b[c]  # scalar: the logit of sample i, output c
            for j in range(n):
                z += X[i, j] * W[j, c]
            err = _sigmoid(z, one) - Y[i, c]  # f_wb(x_i) − y_i
            for j in range(n):
                dW[j, c] += err * X[i, j]  # (n, k) accumulate err_i · x_ij
            db[c] += err  # (k,)
    for j in range(n):
        for c in range(k):
            dW[j, c] = dW[j, c] / m + (lam / m) * W[j, c]  # only w_j's own term
    for c in range(k):
        db[c] = db[c] / m  # the bias is not regularized


def gradient(X, Y, W, b, lam, kernel=_gradient_kernel):
    """The timed call: allocate the outputs and run the compiled kernel."""
    dW = np.zeros(W.shape, dtype=X.dtype)  # (n, k)
    db = np.zeros(b.shape, dtype=X.dtype)  # (k,)
    kernel(X, Y, W, b, float(lam), dW, db)
    return dW, db


def logistic_gradient(X, Y, W, b, lam):
    """The timed call of the logistic version: the same, with the logistic kernel."""
    return gradient(X, Y, W, b, lam, _logistic_kernel)


def _prepare(X, Y, W, b, lam, timed):
    """Validate, make the arrays C-contiguous, and compile ``timed`` for their dtype."""
    validate_inputs(X, Y, W, b, lam)
    args = tuple(np.ascontiguousarray(a) for a in (X, Y, W, b)) + (float(lam),)
    timed(args[0][:1], args[1][:1], args[2], args[3], args[4])  # compile (or load cache)
    return args


def prepare(X, Y, W, b, lam):
    """Validate, make the arrays C-contiguous, and compile the kernel for their dtype."""
    return _prepare(X, Y, W, b, lam, gradient)


def logistic_prepare(X, Y, W, b, lam):
    """prepare, compiling the logistic kernel."""
    return _prepare(X, Y, W, b, lam, logistic_gradient)


def ridge_gradient(X, Y, W, b, lam):
    """Public entry point: validate the inputs, then compute the gradient with numba."""
    return gradient(*prepare(X, Y, W, b, lam))


def logistic_regression_gradient(X, Y, W, b, lam):
    """Public entry point: validate the inputs, then compute the logistic gradient with numba."""
    return logistic_gradient(*logistic_prepare(X, Y, W, b, lam))


LOGISTIC = Implementation(
    name="numba",
    problem="logistic",
    gradient=logistic_gradient,
    prepare=logistic_prepare,
    with_params=params_at(2, 3, np.ascontiguousarray),
    description="The course's loops with a sigmoid per sample, compiled with @numba.njit.",
    cost=Cost(
        passes="1: per row a dot product, a sigmoid, then an axpy on the same row (in L1)",
        temporaries="none: only the (n, k) and (k,) outputs",
        flops="4·m·n·k of compiled scalar loops on one core, plus an exp per sample and "
        "output: for small n the exp, not the read of X, bounds the time; each dot product "
        "is one chain of dependent additions, so the model fits its time per multiply-add",
        overhead="one compiled call: type dispatch, two small allocations",
        flop_count=lambda m, n, k: 4 * m * n * k + 8 * m * k,
        fitted=(PER_ELEMENT, PER_SIGMOID),
    ),
)

IMPLEMENTATION = Implementation(
    name="numba",
    gradient=gradient,
    prepare=prepare,
    with_params=params_at(2, 3, np.ascontiguousarray),
    description="The course's per-sample, per-feature loops compiled with @numba.njit.",
    cost=Cost(
        passes="1: per row a dot product, then an axpy on the same row (still in L1)",
        temporaries="none: only the (n, k) and (k,) outputs",
        flops="4·m·n·k of compiled scalar loops on one core: without fastmath each dot "
        "product is one chain of dependent additions, bound by the adder's latency, so the "
        "model fits its time per multiply-add and per row rather than dividing by the peak",
        overhead="one compiled call: type dispatch, two small allocations",
        fitted=(PER_ELEMENT, PER_ROW),
    ),
    also=(LOGISTIC,),
)
