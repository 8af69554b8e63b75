"""A learner's lab file: the course's regularized logistic-regression gradient, and slips."""

import numpy as np


def sigmoid(z):
    """The course's sigmoid: 1 / (1 + e^(-z))."""
    return 1 / (1 + np.exp(-z))


def compute_gradient_logistic_reg(X, y, w, b, lambda_):
    """Computes the gradient for logistic regression (the course's loops, as written)."""
    m, n = X.shape
    dj_dw = np.zeros((n,))
    dj_db = 0.0
    for i in range(m):
        f_wb_i = sigmoid(np.dot(X[i], w) + b)
        err_i = f_wb_i - y[i]
        for j in range(n):
            dj_dw[j] = dj_dw[j] + err_i * X[i, j]
        dj_db = dj_db + err_i
    dj_dw = dj_dw / m
    dj_db = dj_db / m
    for j in range(n):
        dj_dw[j] = dj_dw[j] + (lambda_ / m) * w[j]
    return dj_db, dj_dw


def compute_gradient(X, y, w, b, lambda_):
    """The same logistic gradient under a name that says no problem (vectorized)."""
    m = X.shape[0]
    err = 1 / (1 + np.exp(-(X @ w + b))) - y
    return err.mean(), X.T @ err / m + (lambda_ / m) * w


def sigmoid_forgotten_logistic(X, y, w, b, lambda_):
    m = X.shape[0]
    err = X @ w + b - y
    return err.mean(), X.T @ err / m + (lambda_ / m) * w


def sign_flipped_logistic(X, y, w, b, lambda_):
    m = X.shape[0]
    err = y - 1 / (1 + np.exp(-(X @ w + b)))
    return err.mean(), X.T @ err / m + (lambda_ / m) * w


def b_regularized_logistic(X, y, w, b, lambda_):
    m = X.shape[0]
    err = 1 / (1 + np.exp(-(X @ w + b))) - y
    return err.mean() + (lambda_ / m) * b, X.T @ err / m + (lambda_ / m) * w


def half_lambda_logistic(X, y, w, b, lambda_):
    m = X.shape[0]
    err = 1 / (1 + np.exp(-(X @ w + b))) - y
    return err.mean(), X.T @ err / m + (lambda_ / (2 * m)) * w


def no_one_over_m_logistic(X, y, w, b, lambda_):
    err = 1 / (1 + np.exp(-(X @ w + b))) - y
    return err.sum(), X.T @ err + lambda_ * w


def compute_cost_logistic_reg(X, y, w, b, lambda_):
    """The course's cost, for fit's comparison (not a gradient)."""
    m = X.shape[0]
    f = sigmoid(X @ w + b)
    cost = -np.mean(y * np.log(f) + (1 - y) * np.log(1 - f))
    return cost + lambda_ / (2 * m) * float(np.sum(w**2))
