"""python-loops: the course's per-w_j formula, in pure Python.

For each sample i the prediction error is computed, then each feature j adds its
share err_i · x_ij to ∂J/∂w_j. The regularization term adds (λ/m)·w_j once per
weight: differentiating λ/(2m) Σ_j w_j² with respect to one w_j leaves only that
weight's own term, so the sum over j disappears.

The untimed prepare turns the arrays into lists, so the timed call is plain Python
arithmetic; only the final packing of the (n, k) and (k,) results into arrays of
the input dtype (which the plugin contract requires) touches numpy.
"""

from __future__ import annotations

import numpy as np

from gradrace.bench.implementation import PER_ELEMENT, PER_ROW, Cost, Implementation


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


def with_params(args, W, b):
    """The prepared lists at a new point (W, b): the data's lists are kept."""
    X, Y, _, _, lam, dtype = args
    return X, Y, W.tolist(), b.tolist(), lam, dtype


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
        overhead="building the lists, packing the result into arrays",
        elements=lambda m, n, k: 0.0,  # interpreter-bound: memory traffic is not the cost
        fitted=(PER_ELEMENT, PER_ROW),
    ),
)
