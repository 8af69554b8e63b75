"""One deliberately wrong implementation per classic derivation slip."""

from gradrace import Implementation


def _residual(X, Y, W, b):
    return X @ W + b - Y  # (m, k)


def no_regularization(X, Y, W, b, lam):
    r = _residual(X, Y, W, b)
    return X.T @ r / X.shape[0], r.mean(axis=0)


def half_lambda(X, Y, W, b, lam):
    m, r = X.shape[0], _residual(X, Y, W, b)
    return X.T @ r / m + lam / (2 * m) * W, r.mean(axis=0)


def bias_regularized(X, Y, W, b, lam):
    m, r = X.shape[0], _residual(X, Y, W, b)
    return X.T @ r / m + lam / m * W, r.mean(axis=0) + lam / m * b


def no_one_over_m(X, Y, W, b, lam):
    r = _residual(X, Y, W, b)
    return X.T @ r + lam * W, r.sum(axis=0)


def no_one_over_m_data(X, Y, W, b, lam):
    m, r = X.shape[0], _residual(X, Y, W, b)
    return X.T @ r + lam / m * W, r.sum(axis=0)


def dW_transposed(X, Y, W, b, lam):
    m, r = X.shape[0], _residual(X, Y, W, b)
    return (X.T @ r / m + lam / m * W).T, r.mean(axis=0)


def W_transposed(X, Y, W, b, lam):
    m = X.shape[0]
    r = X @ W.T + b - Y  # (m, k) only valid when n == k
    return X.T @ r / m + lam / m * W, r.mean(axis=0)


#: slip name in gradrace.bench.agreement.SLIPS -> wrong implementation
SLIP_IMPLEMENTATIONS = {
    "regularization term missing": no_regularization,
    "λ/(2m) instead of λ/m in the regularization term": half_lambda,
    "bias regularized": bias_regularized,
    "1/m factor missing": no_one_over_m,
    "1/m factor missing from the data term": no_one_over_m_data,
    "dW transposed": dW_transposed,
    "transpose of W used in the prediction": W_transposed,
}

half_lambda_impl = Implementation(
    name="half-lambda", gradient=half_lambda, description="λ/(2m) slip"
)
