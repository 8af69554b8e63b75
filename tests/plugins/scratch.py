"""Plugins whose prepare makes things beyond X, Y, W, b that gradient may write or hold.

``out_buffers`` computes into ``out=`` arrays made once in prepare; ``locked`` holds a
``threading.Lock`` (which cannot be copied) beside its scratch buffer. Both are correct.
"""

import threading

import numpy as np

from gradrace import Implementation, params_at


def _buffers(X, Y, W, b, lam):
    m, k = Y.shape
    scratch = (np.empty((m, k), X.dtype), np.empty(W.shape, X.dtype), np.empty(k, X.dtype))
    return (X, Y, W, b, lam, *scratch)


def _into_buffers(X, Y, W, b, lam, r, dW, db):
    m = X.shape[0]
    np.matmul(X, W, out=r)  # (m, k)
    r += b
    r -= Y
    np.matmul(X.T, r, out=dW)  # (n, k)
    dW /= m
    dW += (lam / m) * W
    np.mean(r, axis=0, out=db)  # (k,)
    return dW, db


def _locked_prepare(X, Y, W, b, lam):
    return (X, Y, W, b, lam, threading.Lock(), np.empty(Y.shape, X.dtype))


def _locked(X, Y, W, b, lam, lock, r):
    with lock:
        np.matmul(X, W, out=r)
        r += b - Y
        m = X.shape[0]
        return X.T @ r / m + (lam / m) * W, r.mean(axis=0)


out_buffers = Implementation(
    name="out-buffers",
    gradient=_into_buffers,
    prepare=_buffers,
    with_params=params_at(2, 3),
    description="writes into out= buffers made in prepare",
)
locked = Implementation(
    name="locked",
    gradient=_locked,
    prepare=_locked_prepare,
    description="a threading.Lock and a scratch buffer in its prepared arguments",
)
