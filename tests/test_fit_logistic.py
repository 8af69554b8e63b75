"""``gradrace fit --problem logistic``: descent on the cross-entropy to the regularized optimum."""

import argparse
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize

from gradrace import Implementation, load_registry, make_problem, reference_cost
from gradrace.fit import add_fit_parser, fit, lipschitz, logistic_optimum, summary, write_plot

PLUGINS = Path(__file__).resolve().parent / "plugins"
TWO = f"{PLUGINS / 'two_problems.py'}:both"
REGISTRY = load_registry([TWO], entry_points=False)
PROBLEM = make_problem(200, 3, 2, lam=2.0, seed=4, problem="logistic")


def _scipy_optimum(problem):
    """The minimizer of the reference cost, by scipy's BFGS on (W, b) flattened."""
    n, k = problem.n, problem.k

    def cost(theta):
        W, b = theta[: n * k].reshape(n, k), theta[n * k :]
        return reference_cost(problem.X, problem.Y, W, b, problem.lam, problem="logistic")

    found = scipy.optimize.minimize(cost, np.zeros(n * k + k), method="BFGS", tol=1e-12)
    return found.x[: n * k].reshape(n, k), found.x[n * k :]


def _fit_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="gradrace")
    add_fit_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["fit", *argv])
    return args.func(args)


def test_the_newton_optimum_is_scipys_minimum_of_the_reference_cost():
    W_star, b_star = logistic_optimum(PROBLEM)
    W, b = _scipy_optimum(PROBLEM)
    assert np.allclose(W_star, W, atol=1e-5) and np.allclose(b_star, b, atol=1e-5)


def test_descent_with_the_logistic_version_converges_to_the_regularized_optimum():
    result = fit(REGISTRY["two-problems"], PROBLEM, report=None)
    assert result.converged and result.ok and result.problem == "logistic"
    W, b = _scipy_optimum(PROBLEM)
    assert np.allclose(result.W, W, atol=1e-5) and np.allclose(result.b, b, atol=1e-5)
    assert result.costs[-1] == pytest.approx(result.cost_star, rel=1e-10)
    rounding = 1e-14 * result.costs[0]  # at the optimum, J's last digits wander
    assert all(b <= a + rounding for a, b in zip(result.costs, result.costs[1:], strict=False))


def test_the_cost_is_the_cross_entropy():
    result = fit(REGISTRY["two-problems"], PROBLEM, iterations=3, report=None)
    zero = reference_cost(PROBLEM.X, PROBLEM.Y, np.zeros((3, 2)), np.zeros(2), 2.0, "logistic")
    assert result.costs[0] == pytest.approx(zero) == pytest.approx(2 * np.log(2))  # k = 2


def test_the_learning_rate_bounds_the_logistic_hessian_by_a_quarter():
    linear = make_problem(200, 3, 2, lam=2.0, seed=4)
    X1 = np.hstack([PROBLEM.X, np.ones((200, 1))])
    top = np.linalg.eigvalsh(X1.T @ X1 / 200 / 4 + np.diag([0.01, 0.01, 0.01, 0.0]))[-1]
    assert lipschitz(PROBLEM) == pytest.approx(top, rel=1e-5)
    assert lipschitz(PROBLEM) < lipschitz(linear)


def test_an_implementation_without_a_logistic_version_cannot_descend():
    impl = load_registry(entry_points=False)["gram"]
    with pytest.raises(ValueError, match="implements linear only; it has no logistic version"):
        fit(impl, PROBLEM, report=None)


def test_summary_and_plot_speak_of_the_logistic_optimum(tmp_path):
    result = fit(REGISTRY["two-problems"], PROBLEM, report=None)
    assert "distance to the regularized logistic optimum (W*, b*)" in summary(result)
    assert write_plot(result, tmp_path / "fit.png").read_bytes()[:4] == b"\x89PNG"


def test_the_command_fits_a_plain_logistic_function(tmp_path, capsys):
    lab = PLUGINS / "learner" / "logistic_lab.py"
    argv = ["--no-entry-points", "--plugin", f"{lab}:compute_gradient_logistic_reg"]
    argv += ["--problem", "logistic", "--m", "60", "--n", "2", "--lam", "1"]
    assert _fit_cli([*argv, "--plot", str(tmp_path / "fit.png")]) == 0
    out = capsys.readouterr().out
    assert "logistic, labels in {0, 1}" in out and "converged after" in out


def test_the_command_refuses_an_unknown_problem(capsys):
    with pytest.raises(SystemExit) as exit_:
        _fit_cli(["--problem", "probit"])
    assert exit_.value.code == 2
    assert "unknown problem 'probit'; use one of linear, logistic" in capsys.readouterr().err


def test_a_logistic_implementation_object_descends():
    def gradient(X, Y, W, b, lam):
        m, r = X.shape[0], 1 / (1 + np.exp(-(X @ W + b))) - Y
        return X.T @ r / m + lam / m * W, r.mean(axis=0)

    impl = Implementation("mine", gradient, problem="logistic")
    assert fit(impl, PROBLEM, report=None).converged
