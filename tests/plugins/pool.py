"""A plugin that computes its gradient in a multiprocessing pool it keeps between calls."""

import multiprocessing

_pool: list = []


def _part(args):
    X, R = args
    return X.T @ R


def gradient(X, Y, W, b, lam):
    if not _pool:
        _pool.append(multiprocessing.get_context("fork").Pool(2))
    m = X.shape[0]
    R = X @ W + b - Y  # (m, k)
    half = m // 2
    parts = _pool[0].map(_part, [(X[:half], R[:half]), (X[half:], R[half:])])
    return (parts[0] + parts[1] + lam * W) / m, R.sum(axis=0) / m
