"""example-dot: the ridge gradient with np.dot, keeping a contiguous copy of Xᵀ.

Copying Xᵀ once in the untimed prepare lets the second product read memory in order.
"""

import numpy as np

from gradrace import Implementation


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
    description="Example plugin: np.dot with a contiguous copy of X.T made in prepare.",
)
