"""The float32 tolerance holds for the logistic gradient, as documented in agreement.py."""

import numpy as np

from gradrace import Implementation
from gradrace.bench.agreement import TOLERANCE, evaluate
from gradrace.bench.grids import CHECK_CASES, Case, for_problems


def float32_logistic(X, Y, W, b, lam):
    """Two float32 BLAS products and a float32 sigmoid: the plain float32 version."""
    m = X.shape[0]
    r = (1 / (1 + np.exp(-(X @ W + b)))).astype(X.dtype) - Y
    return X.T @ r / X.dtype.type(m) + X.dtype.type(lam / m) * W, r.mean(axis=0)


IMPL = Implementation("f32-logistic", float32_logistic, problem="logistic")


def test_a_float32_logistic_gradient_agrees_on_the_check_cases_well_within_tolerance():
    for case in for_problems(CHECK_CASES, ["logistic"]):
        outcome = evaluate(IMPL, case.problem())
        assert outcome.agrees, (case.label, outcome.message)
        if case.dtype == "float32":
            assert outcome.error < 1e-5


def test_the_worst_default_grid_case_stays_within_the_float32_tolerance():
    case = Case(1_000_000, 1, 4, "float32", model="logistic")
    outcome = evaluate(IMPL, case.problem())
    assert outcome.agrees and outcome.error < TOLERANCE[np.dtype(np.float32)]
