"""example-dot: the ridge gradient with np.dot, keeping a contiguous copy of Xᵀ.

Copying Xᵀ once in the untimed prepare lets the second product read memory in order;
with_params moves to a new (W, b) without copying Xᵀ again (gradrace fit uses it).
"""

import numpy as np

from gradrace import Implementation, params_at


def prepare(X, Y, W, b, lam):
    return X, np.ascontiguousarray(X.T), Y, W, b, lam


def gradient(X, XT, Y, W, b, lam):
    m = X.shape[0]
    residual = np.dot(X, W) + b - Y  # (m, k)
    dW = np.dot(XT, residual) / m + (lam / m) * W  # (n, k)
    db = residual.mean(axis=0)  # (k,)
    return dW, db


IMPLEMENTATION = Implementation(
    name="example-dot",
    gradient=gradient,
    prepare=prepare,
    with_params=params_at(3, 4),  # W and b sit at positions 3 and 4 of prepare's tuple
    description="Example plugin: np.dot with a contiguous copy of X.T made in prepare.",
)
