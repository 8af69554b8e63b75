"""A learner's lab file: the course's regularized linear-regression gradient, and slips."""

import numpy as np


def compute_gradient_linear_reg(X, y, w, b, lambda_):
    """Computes the gradient for linear regression (the course's loops, as written)."""
    m, n = X.shape
    dj_dw = np.zeros((n,))
    dj_db = 0.0
    for i in range(m):
        err = (np.dot(X[i], w) + b) - y[i]
        for j in range(n):
            dj_dw[j] = dj_dw[j] + err * X[i, j]
        dj_db = dj_db + err
    dj_dw = dj_dw / m
    dj_db = dj_db / m
    for j in range(n):
        dj_dw[j] = dj_dw[j] + (lambda_ / m) * w[j]
    return dj_db, dj_dw


def dw_first(X, y, w, b, lambda_):
    """Vectorized, returning (dj_dw, dj_db) as many public solutions do."""
    m = X.shape[0]
    err = X @ w + b - y  # (m,)
    return X.T @ err / m + (lambda_ / m) * w, err.mean()


def half_lambda(X, y, w, b, lambda_):
    m = X.shape[0]
    err = X @ w + b - y
    return err.mean(), X.T @ err / m + (lambda_ / (2 * m)) * w


def b_regularized(X, y, w, b, lambda_):
    m = X.shape[0]
    err = X @ w + b - y
    return err.mean() + (lambda_ / m) * b, X.T @ err / m + (lambda_ / m) * w


def no_one_over_m(X, y, w, b, lambda_):
    err = X @ w + b - y
    return err.sum(), X.T @ err + lambda_ * w


def no_regularization(X, y, w, b, lambda_):
    m = X.shape[0]
    err = X @ w + b - y
    return err.mean(), X.T @ err / m


def gradrace_style(X, Y, W, b, lam):
    """gradrace's own convention, with names that read like the course's."""
    m = X.shape[0]
    r = X @ W + b - Y  # (m, k)
    return X.T @ r / m + (lam / m) * W, r.mean(axis=0)


def unnamed(a, c, d, e, f):
    """The course's (dj_dw, dj_db) under names that say nothing."""
    return dw_first(a, c, d, e, f)


def column_dw(X, y, w, b, lambda_):
    """Right values, but dj_dw as a column (n, 1): w - alpha * dj_dw would become (n, n)."""
    m = X.shape[0]
    err = X @ w + b - y  # (m,)
    return err.mean(), (X.T @ err / m + (lambda_ / m) * w).reshape(-1, 1)


def array_db(X, y, w, b, lambda_):
    """Right values, but dj_db as a 1-element array instead of a number."""
    m = X.shape[0]
    err = X @ w + b - y  # (m,)
    return np.array([err.mean()]), X.T @ err / m + (lambda_ / m) * w


def typo(X, y, w, b, lambda_):
    """A typo: Y for y."""
    m = X.shape[0]
    err = X @ w + b - Y  # noqa: F821
    return err.mean(), X.T @ err / m + (lambda_ / m) * w


def column_residual(X, y, w, b, lambda_):
    """The prediction made a column and y left 1-D: numpy broadcasts their difference into
    an (m, m) matrix."""
    m = X.shape[0]
    err = (X @ w + b).reshape(-1, 1) - y  # (m, m), not (m,)
    dj_dw = X.T @ err / m + (lambda_ / m) * w  # (n, m) + (n,): fails unless m = n
    return np.sum(err) / m, dj_dw


def dw_not_averaged(X, y, w, b, lambda_):
    """The course's loops with ``dj_dw = dj_dw / m`` forgotten (``dj_db / m`` kept)."""
    m, n = X.shape
    dj_dw, dj_db = np.zeros(n), 0.0
    for i in range(m):
        err = X[i] @ w + b - y[i]
        for j in range(n):
            dj_dw[j] += err * X[i, j]
        dj_db += err
    dj_db = dj_db / m
    for j in range(n):
        dj_dw[j] += (lambda_ / m) * w[j]
    return dj_db, dj_dw
