"""The reference gradient is proved right by central finite differences of the cost."""

import numpy as np
import pytest

from gradrace import make_problem, reference_cost, reference_gradient


def finite_difference_gradient(X, Y, W, b, lam, h=1e-6):
    """Central differences of the cost, one parameter at a time."""
    dW, db = np.zeros_like(W), np.zeros_like(b)
    for index in np.ndindex(W.shape):
        Wp, Wm = W.copy(), W.copy()
        Wp[index] += h
        Wm[index] -= h
        dW[index] = (reference_cost(X, Y, Wp, b, lam) - reference_cost(X, Y, Wm, b, lam)) / (2 * h)
    for c in range(b.shape[0]):
        bp, bm = b.copy(), b.copy()
        bp[c] += h
        bm[c] -= h
        db[c] = (reference_cost(X, Y, W, bp, lam) - reference_cost(X, Y, W, bm, lam)) / (2 * h)
    return dW, db


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("lam", [0.0, 2.5])
def test_reference_gradient_matches_finite_differences(k, lam):
    p = make_problem(30, 5, k, lam=lam, seed=4)
    dW, db = reference_gradient(*p.args)
    fd_dW, fd_db = finite_difference_gradient(*p.args)
    np.testing.assert_allclose(dW, fd_dW, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(db, fd_db, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("k", [1, 2])
def test_regularization_term_derivative_is_lambda_over_m_times_W(k):
    """d/dw_j of λ/(2m) Σ w² is (λ/m) w_j: the sum over j disappears."""
    p = make_problem(40, 6, k, lam=0.0, seed=9)
    lam = 3.0
    dW_reg, db_reg = reference_gradient(p.X, p.Y, p.W, p.b, lam)
    dW_plain, db_plain = reference_gradient(p.X, p.Y, p.W, p.b, 0.0)
    np.testing.assert_allclose(dW_reg - dW_plain, lam / p.m * p.W, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(db_reg, db_plain)  # the bias is not regularized
    # and by finite differences of the regularization term alone
    reg = lambda W: lam / (2 * p.m) * np.sum(W**2)  # noqa: E731
    h, W = 1e-6, p.W
    for index in np.ndindex(W.shape):
        Wp, Wm = W.copy(), W.copy()
        Wp[index] += h
        Wm[index] -= h
        assert (reg(Wp) - reg(Wm)) / (2 * h) == pytest.approx(lam / p.m * W[index], rel=1e-6)


def test_reference_accumulates_in_float64_for_float32_input():
    p32 = make_problem(50, 4, 2, dtype=np.float32, seed=1)
    dW, db = reference_gradient(*p32.args)
    assert dW.dtype == np.float64 and db.dtype == np.float64
    as64 = [a.astype(np.float64) for a in p32.args[:4]]
    dW64, db64 = reference_gradient(*as64, p32.lam)
    np.testing.assert_array_equal(dW, dW64)
    np.testing.assert_array_equal(db, db64)


def test_cost_is_zero_at_the_generative_weights_without_noise_or_regularization():
    p = make_problem(25, 3, 2, lam=0.0, seed=2)
    assert reference_cost(p.X, p.Y, p.W_true, p.b_true, 0.0) == pytest.approx(0.0, abs=1e-20)
