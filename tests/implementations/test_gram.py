"""gram: statistics prepared once, then gradients at any (W, b) without touching X."""

import numpy as np
import pytest

from gradrace import TOLERANCE, make_problem, reference_gradient
from gradrace.implementations import gram


def assert_agrees(out, X, Y, W, b, lam):
    ref_dW, ref_db = reference_gradient(X, Y, W, b, lam)
    dW, db = out
    assert dW.shape == W.shape and db.shape == b.shape
    assert dW.dtype == X.dtype and db.dtype == X.dtype
    err = max(
        np.linalg.norm(dW - ref_dW) / np.linalg.norm(ref_dW),
        np.linalg.norm(db - ref_db) / np.linalg.norm(ref_db),
    )
    assert err < TOLERANCE[X.dtype]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_statistics_are_the_data_products_in_float64(monkeypatch, dtype):
    monkeypatch.setattr(gram, "CONVERT_ROWS", 7)  # float32 converts in blocks; 50 = 7·7 + 1
    p = make_problem(50, 4, 3, dtype, seed=0)
    G, s, C, t = gram.statistics(p.X, p.Y)
    X, Y = p.X.astype(np.float64), p.Y.astype(np.float64)
    for got, want in ((G, X.T @ X), (s, X.sum(0)), (C, X.T @ Y), (t, Y.sum(0))):
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gradients_along_a_descent_path_reuse_one_preparation(dtype):
    p = make_problem(400, 6, 2, dtype, lam=3.0, seed=1)
    G, s, C, t, m, W, b, lam = gram.prepare(*p.args)
    assert m == 400 and all(a.shape[0] != m for a in (G, s, C))  # nothing of size m is kept
    for _ in range(5):  # a few steps of gradient descent, each gradient from the statistics
        dW, db = gram.gradient(G, s, C, t, m, W, b, lam)
        assert_agrees((dW, db), p.X, p.Y, W, b, lam)
        W, b = (W - 0.05 * dW).astype(p.dtype), (b - 0.05 * db).astype(p.dtype)


def test_inputs_are_unchanged():
    p = make_problem(30, 5, 2, "float32", seed=2)
    saved = [a.copy() for a in p.args[:4]]
    gram.ridge_gradient(*p.args)
    for a, s in zip(p.args[:4], saved, strict=True):
        np.testing.assert_array_equal(a, s)


def test_prepare_validates_its_input():
    p = make_problem(5, 2, seed=3)
    with pytest.raises(ValueError, match="lam"):
        gram.prepare(p.X, p.Y, p.W, p.b, -1.0)
