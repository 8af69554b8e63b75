"""One deliberately wrong implementation per classic derivation slip, for each problem."""

import numpy as np

from gradrace import Implementation


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _linear_prediction(z):
    return z


def _slips(predict):
    """The wrong gradients of one problem, whose prediction is ``predict(XW + b)``."""

    def residual(X, Y, W, b):
        return predict(X @ W + b) - Y  # (m, k)

    def no_regularization(X, Y, W, b, lam):
        r = residual(X, Y, W, b)
        return X.T @ r / X.shape[0], r.mean(axis=0)

    def half_lambda(X, Y, W, b, lam):
        m, r = X.shape[0], residual(X, Y, W, b)
        return X.T @ r / m + lam / (2 * m) * W, r.mean(axis=0)

    def bias_regularized(X, Y, W, b, lam):
        m, r = X.shape[0], residual(X, Y, W, b)
        return X.T @ r / m + lam / m * W, r.mean(axis=0) + lam / m * b

    def no_one_over_m(X, Y, W, b, lam):
        r = residual(X, Y, W, b)
        return X.T @ r + lam * W, r.sum(axis=0)

    def no_one_over_m_data(X, Y, W, b, lam):
        m, r = X.shape[0], residual(X, Y, W, b)
        return X.T @ r + lam / m * W, r.sum(axis=0)

    def no_one_over_m_dW(X, Y, W, b, lam):
        m, r = X.shape[0], residual(X, Y, W, b)
        return X.T @ r + lam / m * W, r.mean(axis=0)

    def sign_flipped(X, Y, W, b, lam):
        m, r = X.shape[0], residual(X, Y, W, b)
        return -X.T @ r / m + lam / m * W, -r.mean(axis=0)

    def dW_transposed(X, Y, W, b, lam):
        m, r = X.shape[0], residual(X, Y, W, b)
        return (X.T @ r / m + lam / m * W).T, r.mean(axis=0)

    def W_transposed(X, Y, W, b, lam):
        m = X.shape[0]
        r = predict(X @ W.T + b) - Y  # (m, k) only valid when n == k
        return X.T @ r / m + lam / m * W, r.mean(axis=0)

    return {
        "regularization term missing": no_regularization,
        "λ/(2m) instead of λ/m in the regularization term": half_lambda,
        "bias regularized": bias_regularized,
        "1/m factor missing": no_one_over_m,
        "1/m factor missing from the data term": no_one_over_m_data,
        "1/m factor missing from dW's data term (db has it)": no_one_over_m_dW,
        "sign of the error flipped": sign_flipped,
        "dW transposed": dW_transposed,
        "transpose of W used in the prediction": W_transposed,
    }


def linear_gradient(X, Y, W, b, lam):
    """The right linear gradient: the sigmoid forgotten when the logistic one was asked for."""
    m, r = X.shape[0], X @ W + b - Y
    return X.T @ r / m + lam / m * W, r.mean(axis=0)


def logistic_gradient(X, Y, W, b, lam):
    """The right logistic gradient: a mix-up when the linear one was asked for."""
    m, r = X.shape[0], _sigmoid(X @ W + b) - Y
    return X.T @ r / m + lam / m * W, r.mean(axis=0)


_LINEAR = _slips(_linear_prediction)
_LOGISTIC = _slips(_sigmoid)

#: slip name in gradrace.bench.agreement.SLIPS -> wrong implementation of the linear gradient
SLIP_IMPLEMENTATIONS = {
    **_LINEAR,
    "this computes the logistic gradient": logistic_gradient,
}

#: slip name -> wrong implementation of the logistic gradient
LOGISTIC_SLIP_IMPLEMENTATIONS = {
    **_LOGISTIC,
    "sigmoid forgotten (the linear-regression gradient)": linear_gradient,
}

no_regularization = _LINEAR["regularization term missing"]
half_lambda = _LINEAR["λ/(2m) instead of λ/m in the regularization term"]
bias_regularized = _LINEAR["bias regularized"]
no_one_over_m = _LINEAR["1/m factor missing"]
no_one_over_m_data = _LINEAR["1/m factor missing from the data term"]
dW_transposed = _LINEAR["dW transposed"]
W_transposed = _LINEAR["transpose of W used in the prediction"]

half_lambda_impl = Implementation(
    name="half-lambda", gradient=half_lambda, description="λ/(2m) slip"
)
