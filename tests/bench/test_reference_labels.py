"""Logistic labels: 0 or 1, or probabilities between them; anything else is refused."""

import numpy as np
import pytest

from gradrace import make_problem, reference_cost, reference_gradient


def test_labels_outside_zero_one_are_refused_naming_one():
    p = make_problem(10, 2, seed=0)  # linear data: Y is real-valued
    with pytest.raises(ValueError, match=r"labels Y in \[0, 1\] .*lie outside, such as"):
        reference_gradient(*p.args, problem="logistic")
    with pytest.raises(ValueError, match="logistic regression needs labels"):
        reference_cost(*p.args, problem="logistic")


def test_soft_labels_are_accepted():
    p = make_problem(10, 2, seed=0, problem="logistic")
    soft = np.full_like(p.Y, 0.3)
    dW, db = reference_gradient(p.X, soft, p.W, p.b, p.lam, problem="logistic")
    assert np.isfinite(dW).all() and np.isfinite(db).all()


def test_gradrace_makes_labels_that_are_zero_or_one():
    p = make_problem(500, 3, 2, problem="logistic")
    assert set(np.unique(p.Y)) == {0.0, 1.0}
