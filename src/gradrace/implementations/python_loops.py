"""python-loops: the course's per-w_j formula, in pure Python.

For each sample i the prediction error is computed, then each feature j adds its
share err_i · x_ij to ∂J/∂w_j. The regularization term adds (λ/m)·w_j once per
weight: differentiating λ/(2m) Σ_j w_j² with respect to one w_j leaves only that
weight's own term, so the sum over j disappears.

The untimed prepare turns the arrays into lists, so the timed call is plain Python
arithmetic; only the final packing of the (n, k) and (k,) results into arrays of
the input dtype (which the plugin contract requires) touches numpy.

Logistic regression keeps every loop: each sample's prediction becomes σ(z) of its
logit z, and err = σ(z) − y feeds the same per-w_j sums. ``math.exp(-z)`` raises
OverflowError for z below about −709, so the sigmoid takes e^(−|z|), which is at
most 1: 1/(1 + e^(−z)) for z ≥ 0, and e^z/(1 + e^z) for z < 0 — the same value
either way, with no exp that can overflow.
"""

from __future__ import annotations

import math

import numpy as np

from gradrace.bench.implementation import (
    PER_ELEMENT,
    PER_FEATURE,
    PER_ROW,
    PER_SIGMOID,
    Cost,
    Implementation,
)


def prepare(X, Y, W, b, lam):
    """Convert the arrays to nested lists of Python floats (untimed)."""
    return X.tolist(), Y.tolist(), W.tolist(), b.tolist(), float(lam), X.dtype


def gradient(X, Y, W, b, lam, dtype):
    m, n, k = len(X), len(X[0]), len(b)
    dj_dw = [[0.0] * k for _ in range(n)]  # (n, k)
    dj_db = [0.0] * k  # (k,)
    for i in range(m):
        x_i = X[i]  # (n,)
        for c in range(k):
            prediction = b[c]
            for j in range(n):
                prediction += x_i[j] * W[j][c]
            err = prediction - Y[i][c]  # scalar: error of sample i, output c
            for j in range(n):
                dj_dw[j][c] += err * x_i[j]
            dj_db[c] += err
    for j in range(n):
        for c in range(k):
            dj_dw[j][c] = dj_dw[j][c] / m + (lam / m) * W[j][c]  # only w_j's own term
    dj_db = [s / m for s in dj_db]  # the bias is not regularized
    return np.array(dj_dw, dtype=dtype), np.array(dj_db, dtype=dtype)


def sigmoid(z: float) -> float:
    """σ(z) = 1/(1 + e^(−z)) for any float z, through e^(−|z|) so that exp never overflows."""
    e = math.exp(-abs(z))  # in (0, 1]
    return 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)


def logistic_gradient(X, Y, W, b, lam, dtype):
    m, n, k = len(X), len(X[0]), len(b)
    dj_dw = [[0.0] * k for _ in range(n)]  # (n, k)
    dj_db = [0.0] * k  # (k,)
    for i in range(m):
        x_i = X[i]  # (n,)
        for c in range(k):
            z = b[c]
            for j in range(n):
                z += x_i[j] * W[j][c]
            err = sigmoid(z) - Y[i][c]  # scalar: f_wb(x_i) − y_i for output c
            for j in range(n):
                dj_dw[j][c] += err * x_i[j]
            dj_db[c] += err
    for j in range(n):
        for c in range(k):
            dj_dw[j][c] = dj_dw[j][c] / m + (lam / m) * W[j][c]  # only w_j's own term
    dj_db = [s / m for s in dj_db]  # the bias is not regularized
    return np.array(dj_dw, dtype=dtype), np.array(dj_db, dtype=dtype)


def with_params(args, W, b):
    """The prepared lists at a new point (W, b): the data's lists are kept."""
    X, Y, _, _, lam, dtype = args
    return X, Y, W.tolist(), b.tolist(), lam, dtype


LOGISTIC = Implementation(
    name="python-loops",
    problem="logistic",
    gradient=logistic_gradient,
    prepare=prepare,
    with_params=with_params,
    description="Pure Python loops with a sigmoid per sample: the course's logistic formula.",
    cost=Cost(
        passes="2·k, from Python lists: once per output for the logit, once to accumulate",
        temporaries="a boxed Python float for every product; the (n, k) list of lists",
        flops="4·m·n·k, each a bytecode-interpreted multiply-add, plus a math.exp call per "
        "sample and output: for small n that call, not the products, bounds the time",
        overhead="per sample and output, the sigmoid's call and the loop's own cost (fitted "
        "together as one m·k term); per weight, the final loop and packing the (n, k) lists "
        "into an array (fitted)",
        elements=lambda m, n, k: 0.0,  # interpreter-bound: memory traffic is not the cost
        fitted=(PER_ELEMENT, PER_SIGMOID, PER_FEATURE),
    ),
)

IMPLEMENTATION = Implementation(
    name="python-loops",
    gradient=gradient,
    prepare=prepare,
    with_params=with_params,
    description="Pure Python loops over samples i and features j: the course's per-w_j formula.",
    cost=Cost(
        passes="2·k, from Python lists: once per output for the prediction, once to accumulate",
        temporaries="a boxed Python float for every product; the (n, k) list of lists",
        flops="4·m·n·k, each a bytecode-interpreted multiply-add (tens of ns, not a cycle)",
        overhead="per sample and output, the loop's own cost; per weight, the final loop and "
        "packing the (n, k) lists into an array (both fitted)",
        elements=lambda m, n, k: 0.0,  # interpreter-bound: memory traffic is not the cost
        fitted=(PER_ELEMENT, PER_ROW, PER_FEATURE),
    ),
    also=(LOGISTIC,),
)
