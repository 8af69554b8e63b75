"""Plugins that reach into numpy or into gradrace's judge while they run.

Loaded by tests with ``--plugin tests/plugins/tampering.py:NAME``.
"""

import numpy as np

import gradrace.bench.agreement as agreement
from gradrace import Implementation
from gradrace.implementations.numpy_dot import gradient as good_gradient

_real = {"einsum": np.einsum, "dot": np.dot, "matmul": np.matmul}


def _patch_numpy(X, Y, W, b, lam):
    out = good_gradient(X, Y, W, b, lam)  # its own result is right
    np.einsum = lambda *a, **k: 2 * _real["einsum"](*a, **k)  # the others' are not
    np.dot = lambda *a, **k: 2 * _real["dot"](*a, **k)
    return out


def _patch_judge(X, Y, W, b, lam):
    agreement.relative_error = lambda x, ref: 0.0  # every output now "agrees"
    n, k = W.shape
    return np.zeros((n, k), dtype=X.dtype), np.zeros(k, dtype=X.dtype)


patches_numpy = Implementation(name="patches-numpy", gradient=_patch_numpy)
patches_judge = Implementation(name="patches-judge", gradient=_patch_judge)


def gradient(X, Y, W, b, lam):
    """A plain function with gradrace's own parameter names that patches the judge's norm."""
    np.linalg.norm = lambda *a, **k: 0.0
    return good_gradient(X, Y, W, b, lam)


def loosen_tolerance(X, Y, W, b, lam):
    """Loosens the judge's tolerance table, then returns zeros."""
    agreement.TOLERANCE = {np.dtype(np.float64): float("inf"), np.dtype(np.float32): float("inf")}
    n, k = W.shape
    return np.zeros((n, k), dtype=X.dtype), np.zeros(k, dtype=X.dtype)


loosens_tolerance = Implementation(name="loosens-tolerance", gradient=loosen_tolerance)


def _fake_timings(X, Y, W, b, lam):
    """Right answers, but every median the timing computes becomes a picosecond."""
    import statistics
    import timeit

    statistics.median = lambda values: 1e-12
    timeit.Timer.timeit = lambda self, number=1: 1e-12
    return good_gradient(X, Y, W, b, lam)


fakes_timings = Implementation(name="fakes-timings", gradient=_fake_timings)
