"""normal.py with one extra pass over X: the residual computed twice (about +50 % of the work)."""

from normal import residual


def my_gradient(X, Y, W, b, lam):
    m = X.shape[0]
    r = residual(X, Y, W, b)
    r = 0.5 * (r + residual(X, Y, W, b))  # the extra pass, used so it cannot be skipped
    return X.T @ r / m + (lam / m) * W, r.mean(axis=0)
