import numpy as np
import pytest

from gradrace import ProblemTooLarge, make_problem, validate_inputs
from gradrace.bench import problem as problem_module


def test_make_problem_shapes_dtypes_and_generative_model():
    p = make_problem(50, 4, 3, dtype=np.float32, lam=0.7, seed=5)
    assert (p.X.shape, p.Y.shape, p.W.shape, p.b.shape) == ((50, 4), (50, 3), (4, 3), (3,))
    assert {a.dtype for a in (p.X, p.Y, p.W, p.b, p.W_true, p.b_true)} == {np.dtype(np.float32)}
    assert (p.m, p.n, p.k, p.lam) == (50, 4, 3, 0.7)
    np.testing.assert_allclose(p.Y, p.X @ p.W_true + p.b_true, rtol=1e-5, atol=1e-5)
    assert not np.allclose(p.W, p.W_true)  # the gradient is evaluated away from the optimum


def test_make_problem_is_reproducible_from_the_seed():
    a, b, c = make_problem(20, 3, seed=1), make_problem(20, 3, seed=1), make_problem(20, 3, seed=2)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.Y, b.Y)
    assert not np.array_equal(a.X, c.X)


def test_make_problem_adds_noise_when_asked():
    p = make_problem(200, 3, noise=0.1, seed=3)
    residual = p.Y - (p.X @ p.W_true + p.b_true)
    assert 0.05 < residual.std() < 0.2


def test_make_problem_refuses_sizes_that_do_not_fit(monkeypatch):
    monkeypatch.setattr(problem_module, "available_memory", lambda: 100 * 2**20)
    with pytest.raises(ProblemTooLarge, match=r"m=1,000,000, n=1,000.*needs 8\.02 GB"):
        make_problem(1_000_000, 1_000)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"m": 0, "n": 3}, "m must be at least 1, got 0"),
        ({"m": 5, "n": 2.5}, "n must be a whole number of at least 1, got 2.5"),
        ({"m": 5, "n": 2, "k": 0}, "k must be at least 1, got 0"),
        ({"m": float("inf"), "n": 2}, "m must be a whole number of at least 1, got inf"),
        ({"m": "5", "n": 2}, "m must be a whole number of at least 1, got '5'"),
        ({"m": 5, "n": 2, "lam": "x"}, "lam must be a finite number of at least 0, got 'x'"),
        ({"m": 5, "n": 2, "noise": float("nan")}, "noise must be a finite number of at least 0"),
        ({"m": 5, "n": 2, "seed": -1}, "seed must be at least 0, got -1"),
        ({"m": 5, "n": 2, "dtype": np.int64}, "dtype int64 is not supported"),
        ({"m": 5, "n": 2, "lam": -1.0}, "lam must be a finite number of at least 0"),
    ],
)
def test_make_problem_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_problem(**kwargs)


def _args():
    p = make_problem(6, 3, 2, seed=0)
    return [p.X.copy(), p.Y.copy(), p.W.copy(), p.b.copy(), 1.0]


@pytest.mark.parametrize(
    ("index", "value", "error", "message"),
    [
        (0, np.ones(6), ValueError, r"X must be 2-D, got shape \(6,\)"),
        (
            1,
            np.ones((5, 2)),
            ValueError,
            r"Y must have m = 6 rows to match X \(6, 3\); got \(5, 2\)",
        ),
        (1, np.ones((6, 0)), ValueError, r"k must be at least 1: .*got \(6, 0\)"),
        (
            2,
            np.ones((4, 2)),
            ValueError,
            r"W must have shape \(n, k\) = \(3, 2\) to match X \(6, 3\) and Y \(6, 2\); got \(4, 2\)",
        ),
        (2, np.ones((2, 3)), ValueError, r"W must have shape \(n, k\) = \(3, 2\) .*got \(2, 3\)"),
        (
            3,
            np.ones(3),
            ValueError,
            r"b must have shape \(k,\) = \(2,\) to match Y \(6, 2\); got \(3,\)",
        ),
        (0, np.ones((0, 3)), ValueError, r"X must have at least one row and one column"),
        (0, np.ones((6, 3), dtype=np.int32), TypeError, "X has dtype int32"),
        (2, np.ones((3, 2), dtype=np.float32), TypeError, "must share one dtype"),
        (0, [[1.0]], TypeError, "X must be a numpy array, got list"),
        (4, float("nan"), ValueError, "lam must be a finite number"),
        (4, "1", ValueError, "lam must be a finite number of at least 0, got '1'"),
        (4, None, ValueError, "lam must be a finite number of at least 0, got None"),
    ],
)
def test_validate_inputs_names_the_problem(index, value, error, message):
    args = _args()
    args[index] = value
    with pytest.raises(error, match=message):
        validate_inputs(*args)


def test_validate_inputs_rejects_nan():
    args = _args()
    args[0][2, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        validate_inputs(*args)
