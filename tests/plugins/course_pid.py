"""A course-style lab function that writes the pid of each process that calls it to the
file named by ``GRADRACE_TEST_PIDFILE``."""

import os

import numpy as np


def compute_gradient_linear_reg(X, y, w, b, lambda_):
    with open(os.environ["GRADRACE_TEST_PIDFILE"], "a") as f:
        f.write(f"{os.getpid()}\n")
    m = X.shape[0]
    err = X @ w + b - y  # (m,)
    return float(err.mean()), X.T @ err / m + lambda_ / m * np.asarray(w)
