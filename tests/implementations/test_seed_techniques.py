"""What makes each seed implementation the technique it claims to be."""

import numba
import numpy as np
import pytest

from gradrace import make_problem
from gradrace.implementations import numba_loops, python_loops, reshaped_mn1


def test_python_loops_prepare_hands_plain_lists_to_the_timed_call():
    p = make_problem(4, 3, 2, seed=0)
    X, Y, W, b, lam, dtype = python_loops.prepare(*p.args)
    assert all(type(v) is list for v in (X, Y, W, b)) and type(X[0][0]) is float
    assert type(lam) is float and dtype == np.float64


def test_reshaped_mn1_stores_one_column_per_sample():
    p = make_problem(6, 4, 3, seed=0)
    X, Y, W, b, _ = reshaped_mn1.prepare(*p.args)
    assert (X.shape, Y.shape, W.shape, b.shape) == ((6, 4, 1), (6, 3, 1), (3, 4, 1), (3, 1))
    np.testing.assert_array_equal(W[:, :, 0], p.W.T)


def test_numba_public_function_validates_its_input():
    p = make_problem(5, 2, seed=0)
    X = p.X.copy()
    X[0, 0] = np.inf
    try:
        numba_loops.ridge_gradient(X, p.Y, p.W, p.b, p.lam)
    except ValueError as exc:
        assert "X contains NaN or infinity" in str(exc)
    else:
        raise AssertionError("ridge_gradient accepted an infinite X")


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="NUMBA_DISABLE_JIT=1: nothing is compiled")
def test_numba_prepare_compiles_for_the_dtype_at_hand():
    for dtype in (np.float64, np.float32):
        p = make_problem(5, 2, dtype=dtype, seed=0)
        numba_loops.prepare(*p.args)
        signatures = numba_loops._gradient_kernel.signatures
        assert any(str(sig[0].dtype) == np.dtype(dtype).name for sig in signatures)
