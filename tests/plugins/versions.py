"""Two versions of one gradient, for A/B in one run (``--plugin versions.py:ATTR@old``)."""

import numpy as np


def my_numpy(X, Y, W, b, lam):
    m = X.shape[0]
    r = X @ W + b - Y
    return X.T @ r / m + (lam / m) * W, r.mean(axis=0)


def my_numpy_extra_pass(X, Y, W, b, lam):
    np.add.reduce(X, axis=None)  # one extra pass over X
    return my_numpy(X, Y, W, b, lam)
