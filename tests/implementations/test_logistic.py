"""The logistic versions of the built-ins: agreement with the logistic reference, inputs
left alone, and finite gradients without a warning however large the logits.

Tolerances (normwise relative error, ‖x − x_ref‖ / ‖x_ref‖): float64 1e-12, tight, since
every version sums at most a few thousand rows here; float32 1e-4, ten times inside
gradrace's float32 TOLERANCE, for sums and sigmoids in float32 (errors of about 1e-7
per element, measured at about 3e-7 on these cases).
"""

import importlib
import importlib.util
import warnings

import numpy as np
import pytest

from gradrace import make_problem, reference_gradient
from gradrace.implementations import BUILTINS, OPTIONAL

TOLERANCE = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-4}

#: The built-ins with a logistic version, and those that have none (the sigmoid breaks
#: gram's XᵀX algebra; the others are linear-only for now).
WITH_LOGISTIC = {"python-loops", "numpy-dot", "einsum", "reshaped-mn1", "numba", "numba-fused"}
OPTIONAL_WITH_LOGISTIC = {"jax-grad", "torch-manual", "torch-autograd"}


def _optional(name: str):
    """The optional built-in ``name``, or a skip saying which extra installs it."""
    module, libraries, extra = OPTIONAL[name]
    missing = [lib for lib in libraries if importlib.util.find_spec(lib) is None]
    if missing:
        pytest.skip(f'{name} needs {", ".join(missing)}: pip install "gradrace[{extra}]"')
    return importlib.import_module(module).IMPLEMENTATION


NAMES = [impl.name for impl in BUILTINS if "logistic" in impl.problems] + sorted(
    OPTIONAL_WITH_LOGISTIC
)


@pytest.fixture(params=NAMES)
def impl(request):
    """The logistic version of one built-in (optional ones where their library is installed)."""
    name = request.param
    whole = _optional(name) if name in OPTIONAL else next(i for i in BUILTINS if i.name == name)
    version = whole.for_problem("logistic")
    assert version is not None and version.problem == "logistic" and version.name == name
    return version


def relative_error(got, ref) -> float:
    scale = np.linalg.norm(ref)
    return float(np.linalg.norm(np.asarray(got, dtype=np.float64) - ref) / scale)


def assert_agrees(impl, X, Y, W, b, lam, tolerance=None):
    dW, db = impl.compute(X, Y, W, b, lam)
    ref_dW, ref_db = reference_gradient(X, Y, W, b, lam, problem="logistic")
    assert dW.shape == W.shape and db.shape == b.shape
    assert dW.dtype == X.dtype and db.dtype == X.dtype
    tol = tolerance or TOLERANCE[X.dtype]
    assert relative_error(dW, ref_dW) < tol, relative_error(dW, ref_dW)
    assert relative_error(db, ref_db) < tol, relative_error(db, ref_db)


def test_the_expected_built_ins_have_a_logistic_version():
    builtins = {impl.name for impl in BUILTINS if "logistic" in impl.problems}
    assert builtins == WITH_LOGISTIC
    gram = next(impl for impl in BUILTINS if impl.name == "gram")
    assert gram.problems == ("linear",) and gram.for_problem("logistic") is None
    for name in OPTIONAL_WITH_LOGISTIC:  # their modules load without their libraries
        module = importlib.import_module(OPTIONAL[name][0])
        assert module.IMPLEMENTATION.problems == ("linear", "logistic")


def test_logistic_versions_declare_their_cost_with_the_sigmoid_term(impl):
    from gradrace import PER_SIGMOID, on_every_core

    assert impl.cost is not None
    (sigmoid,) = {PER_SIGMOID, on_every_core(PER_SIGMOID)} & set(impl.cost.fitted)
    assert "exp" in impl.cost.flops or "tanh" in impl.cost.flops
    assert impl.cost.at(1000, 10, 2, 8)["terms"][sigmoid.unit] == 2000


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("m", "n", "k"),
    [
        (1, 3, 1),  # a single row
        (7, 1, 1),  # a single feature
        (9, 5, 3),  # a group of rows and a tail, k > 1
        (257, 6, 1),  # one row past a summation block
        (1_031, 13, 4),  # many groups, a tail, several chunks
    ],
)
def test_agrees_with_the_logistic_reference(impl, dtype, m, n, k):
    if impl.applies(k):
        pytest.skip(impl.applies(k))
    p = make_problem(m, n, k, dtype, lam=m / 3, seed=m + n + k, problem="logistic")
    assert_agrees(impl, *p.args)


def test_inputs_are_unchanged(impl):
    p = make_problem(300, 6, 2, seed=4, problem="logistic")
    saved = [a.copy() for a in p.args[:4]]
    impl.compute(*p.args)
    for a, s in zip(p.args[:4], saved, strict=True):
        np.testing.assert_array_equal(a, s)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_logits_up_to_a_thousand_give_finite_gradients_without_warnings(impl, dtype):
    p = make_problem(301, 5, 2, dtype, seed=5, problem="logistic")
    z = p.X @ p.W + p.b  # (m, k)
    centre = z.mean(axis=0)  # (k,)
    scale = 1e3 / np.abs(z - centre).max()
    W = (scale * p.W).astype(dtype)  # (n, k)
    b = (scale * (p.b - centre)).astype(dtype)  # (k,)  logits scale·(z − centre): both signs
    z = p.X @ W + b  # (m, k)
    assert np.abs(z).max() > 999 and z.min() < -100 and z.max() > 100
    # Every floating-point error raises but underflow, which is σ's right answer for z ≪ 0
    # (numpy ignores it by default; under NUMBA_DISABLE_JIT a float32 store of e^−1000 underflows).
    with np.errstate(all="raise", under="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        dW, db = impl.compute(p.X, p.Y, W, b, p.lam)
    assert np.isfinite(dW).all() and np.isfinite(db).all()
    assert_agrees(impl, p.X, p.Y, W, b, p.lam)
