"""``gradrace fit``: gradient descent converges with every agreeing implementation."""

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from gradrace import load_registry, make_problem, reference_gradient
from gradrace.bench.agreement import evaluate
from gradrace.fit import (
    DEFAULT_TOL,
    _report_at,
    add_fit_parser,
    fit,
    lipschitz,
    ridge_optimum,
    summary,
    write_plot,
)

SLIPS = Path(__file__).resolve().parent / "plugins" / "slips.py"
MISBEHAVING = SLIPS.with_name("misbehaving.py")
REGISTRY = load_registry()
#: A small problem with little noise and little regularization, so that the ridge optimum
#: lies close to the generative weights: python-loops and dask descend it in about a second.
PROBLEM = make_problem(40, 3, 2, lam=1e-3, noise=1e-3, seed=3)


def _fit_cli(argv: list[str]) -> int:
    """Run ``gradrace fit`` through the parser add_fit_parser builds."""
    parser = argparse.ArgumentParser(prog="gradrace")
    add_fit_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["fit", *argv])
    return args.func(args)


@pytest.mark.parametrize("name", REGISTRY.names())
def test_descent_converges_and_recovers_the_generative_weights(name):
    impl = REGISTRY[name]
    outcome = evaluate(impl, PROBLEM)
    if not outcome.agrees:
        pytest.skip(f"{name} disagrees with the reference: {outcome.message}")
    result = fit(impl, PROBLEM, tol=1e-7, report=None)
    assert result.converged and result.ok and not result.diverged
    dW, db = result.distance(result.W_star, result.b_star)
    assert dW < 1e-5 and db < 1e-5  # ‖W − W*‖ ≤ κ · tol · ‖W*‖, κ ≈ 30 here
    tW, tb = result.distance(PROBLEM.W_true, PROBLEM.b_true)
    assert tW < 1e-2 and tb < 1e-2
    assert result.W.dtype == PROBLEM.dtype and result.W.shape == (3, 2)
    assert result.iterations_per_s > 0
    assert result.costs[-1] < result.costs[0] and len(result.costs) == result.iterations + 1


@pytest.mark.parametrize("name", ["numpy-dot", "numba"])
def test_descent_converges_in_float32_with_the_default_tolerance(name):
    problem = make_problem(40, 3, 2, dtype="float32", lam=1e-3, noise=1e-3, seed=3)
    result = fit(REGISTRY[name], problem, report=None)
    assert result.converged and result.tol == DEFAULT_TOL[np.dtype("float32")]
    assert result.W.dtype == np.float32 and result.b.dtype == np.float32
    dW, db = result.distance(result.W_star, result.b_star)
    assert dW < 1e-3 and db < 1e-3


def test_learning_rate_is_one_over_the_largest_eigenvalue_of_the_hessian():
    X_aug = np.hstack([PROBLEM.X, np.ones((PROBLEM.m, 1))])  # (m, n+1)
    H = X_aug.T @ X_aug / PROBLEM.m + np.diag([PROBLEM.lam / PROBLEM.m] * PROBLEM.n + [0.0])
    largest = lipschitz(PROBLEM)
    assert largest == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-5)
    result = fit(REGISTRY["numpy-dot"], PROBLEM, iterations=0, report=None)
    assert result.lr == pytest.approx(1 / largest)


def test_the_ridge_optimum_has_zero_gradient():
    W_star, b_star = ridge_optimum(PROBLEM)
    dW, db = reference_gradient(PROBLEM.X, PROBLEM.Y, W_star, b_star, PROBLEM.lam)
    assert np.abs(dW).max() < 1e-12 and np.abs(db).max() < 1e-12


def test_too_large_a_learning_rate_diverges_and_says_so():
    lines = []
    lr = 3 / lipschitz(PROBLEM)
    result = fit(REGISTRY["numpy-dot"], PROBLEM, lr=lr, report=lines.append)
    assert result.diverged and not result.converged and not result.ok
    assert "diverged: lower the learning rate" in lines[-1]
    assert "DIVERGED" in summary(result)


def test_an_iteration_limit_stops_without_converging():
    result = fit(REGISTRY["numpy-dot"], PROBLEM, iterations=5, report=None)
    assert result.iterations == 5 and not result.converged and not result.ok
    assert "NOT converged after 5 iterations" in summary(result)


def test_the_cost_is_reported_at_log_spaced_iterations():
    assert [i for i in range(1, 250) if _report_at(i)] == [1, 2, 5, 10, 20, 50, 100, 200]


def test_a_disagreeing_implementation_is_reported_and_fails():
    from gradrace.bench.registry import load_plugin

    impl = load_plugin(f"{SLIPS}:half_lambda_impl")
    problem = replace(PROBLEM, lam=20.0)  # λ/m = 0.5: the slip shows
    lines = []
    result = fit(impl, problem, report=lines.append)
    assert not result.agrees and not result.ok
    assert any(
        line.startswith("warning: half-lambda disagrees with the reference") for line in lines
    )
    assert "DISAGREES" in summary(result)


def test_the_plot_is_a_png(tmp_path):
    result = fit(REGISTRY["numpy-dot"], PROBLEM, report=None)
    path = write_plot(result, tmp_path / "sub" / "fit.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_prints_the_falling_cost_and_writes_the_plot(tmp_path, capsys):
    plot = tmp_path / "fit.png"
    code = _fit_cli(
        ["--impl", "numpy-dot", "--no-entry-points", "--m", "1e3", "--n", "5", "--plot", str(plot)]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "gradrace fit: numpy-dot on m=1000 n=5 k=1 float64" in out
    assert "learning rate α = " in out and "(1/L, L = " in out
    assert "converged after " in out and " iterations/s (" in out
    assert "distance to the generative weights" in out
    costs = [float(line.split()[1]) for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(costs) > 5 and costs[-1] < costs[0]
    assert f"Plot: {plot}" in out and plot.read_bytes()[:4] == b"\x89PNG"


def test_the_command_exits_1_when_the_descent_does_not_converge(tmp_path, capsys):
    code = _fit_cli(
        [
            "--impl",
            "einsum",
            "--no-entry-points",
            "--iterations",
            "3",
            "--plot",
            str(tmp_path / "p.png"),
        ]
    )
    assert code == 1
    assert "NOT converged after 3 iterations" in capsys.readouterr().out


def test_the_command_names_an_unavailable_implementation(monkeypatch, tmp_path):
    from gradrace import implementations

    monkeypatch.setitem(
        implementations.OPTIONAL,
        "fake-lib",
        ("gradrace.implementations.numpy_dot", ("no_such_library_xyz",), "fake"),
    )
    with pytest.raises(
        ValueError,
        match=r"fake-lib is unavailable: needs no_such_library_xyz: "
        r'pip install "gradrace\[fake\]"',
    ):
        _fit_cli(["--impl", "fake-lib", "--no-entry-points", "--plot", str(tmp_path / "p.png")])


@pytest.mark.parametrize(
    ("option", "value"), [("--lr", "-1"), ("--lr", "0"), ("--tol", "-0.1"), ("--iterations", "-3")]
)
def test_bad_numbers_are_refused_by_the_parser(option, value, capsys):
    with pytest.raises(SystemExit):
        _fit_cli(["--impl", "numpy-dot", option, value])
    assert f"argument {option}: must be" in capsys.readouterr().err


def test_an_implementation_that_raises_is_refused_before_the_descent():
    from gradrace.bench.registry import load_plugin

    impl = load_plugin(f"{MISBEHAVING}:raises_in_gradient")
    with pytest.raises(ValueError, match="cannot be used for a descent: gradient raised"):
        fit(impl, PROBLEM, report=None)


def _counting(impl, calls):
    """impl with its prepare and with_params counted in ``calls``."""

    def prepare(*args):
        calls["prepare"] += 1
        return impl.prepare(*args)

    def with_params(args, W, b):
        calls["with_params"] += 1
        return impl.with_params(args, W, b)

    return replace(impl, prepare=prepare, with_params=with_params if impl.with_params else None)


def test_with_params_lets_the_descent_prepare_once():
    calls = {"prepare": 0, "with_params": 0}
    result = fit(_counting(REGISTRY["gram"], calls), PROBLEM, report=None)
    assert result.converged and result.iterations > 10
    # The agreement check before the descent prepares once more.
    assert calls == {"prepare": 2, "with_params": result.iterations}
    assert result.params_s > 0
    assert "with_params " in summary(result)


def test_without_with_params_the_descent_prepares_every_step():
    calls = {"prepare": 0, "with_params": 0}
    impl = replace(REGISTRY["gram"], with_params=None)
    result = fit(_counting(impl, calls), PROBLEM, report=None)
    assert result.converged
    assert calls == {"prepare": result.iterations + 2, "with_params": 0}
    assert result.params_s == 0


def test_a_nan_gradient_at_a_safe_step_is_blamed_on_the_implementation():
    from gradrace.bench.registry import load_plugin

    impl = load_plugin(f"{SLIPS.with_name('fit_faults.py')}:nan_at_step_5")
    lines = []
    result = fit(impl, PROBLEM, report=lines.append)
    assert result.fault and not result.diverged and not result.ok and result.iterations == 5
    assert all(np.isfinite(result.costs)) and result.costs[-1] < result.costs[0]
    expected = (
        "nan-at-step-5 returned a non-finite gradient (NaN or infinity) at step 5, though the "
        "cost J = "
    )
    assert (
        expected in lines[-1]
        and "the implementation is at fault, not the learning rate" in (lines[-1])
    )
    assert "lower the learning rate" not in "\n".join(lines)
    assert summary(result).startswith("FAILED after 5 iterations: nan-at-step-5 returned")


def test_a_non_finite_gradient_while_the_cost_grows_is_a_divergence():
    from gradrace.fit import FitResult, _non_finite_gradient

    result = FitResult("x", np.zeros((1, 1)), np.zeros(1), lr=2.0, lipschitz=1.0, tol=1e-8)
    result.costs = [1.0, 5.0, 1e200]
    lines = []
    _non_finite_gradient(result, 2, lines.append)
    assert result.diverged and not result.fault
    assert "lower the learning rate (α = 2)" in lines[-1]


@pytest.mark.parametrize(
    ("plot", "message"),
    [
        ("fit.txt", r"--plot .*fit\.txt: \.txt is not an image format; use one of .*\.png"),
        ("fit", r"--plot .*fit: no extension is not an image format"),
        ("missing/fit.png", r"--plot .*fit\.png: the folder .*missing does not exist"),
    ],
)
def test_a_bad_plot_path_is_refused_before_the_descent(tmp_path, plot, message, monkeypatch):
    import gradrace.fit as fit_module

    def no_descent(*args, **kwargs):
        raise AssertionError("the descent ran")

    monkeypatch.setattr(fit_module, "fit", no_descent)
    with pytest.raises(ValueError, match=message):
        _fit_cli(["--impl", "numpy-dot", "--no-entry-points", "--plot", str(tmp_path / plot)])


def test_a_plot_in_a_folder_that_is_not_writable_is_refused_before_the_descent(
    tmp_path, monkeypatch
):
    import gradrace.fit as fit_module

    monkeypatch.setattr(fit_module.os, "access", lambda path, mode: False)  # as if read-only
    with pytest.raises(ValueError, match=r"--plot .*a\.png: the folder .* is not writable"):
        _fit_cli(["--impl", "numpy-dot", "--no-entry-points", "--plot", str(tmp_path / "a.png")])


def test_fit_names_a_bad_learning_rate_in_python():
    with pytest.raises(ValueError, match="lr must be a finite number greater than 0, got nan"):
        fit(REGISTRY["numpy-dot"], PROBLEM, lr=float("nan"), report=None)


def test_a_course_function_descends_on_k1_and_is_refused_beyond():
    lab = Path(__file__).resolve().parent / "plugins" / "learner" / "lab.py"
    from gradrace.bench.registry import load_plugin

    impl = load_plugin(f"{lab}:compute_gradient_linear_reg")
    result = fit(impl, make_problem(30, 3, 1, lam=1.0, seed=1, noise=0.01), report=None)
    assert result.ok
    with pytest.raises(ValueError, match="cannot be used on this problem: it handles at most k=1"):
        fit(impl, make_problem(30, 3, 2, seed=1), report=None)


def test_fit_without_impl_takes_the_one_plugin_given(tmp_path, capsys):
    from pathlib import Path

    from gradrace.cli import main

    lab = Path(__file__).resolve().parent / "plugins" / "learner" / "lab.py"
    plot = tmp_path / "fit.png"
    code = main(
        [
            "fit",
            "--no-entry-points",
            "--plugin",
            f"{lab}:compute_gradient_linear_reg",
            "--m",
            "50",
            "--n",
            "3",
            "--plot",
            str(plot),
        ]
    )
    assert code == 0 and plot.exists()
    assert "gradrace fit: compute_gradient_linear_reg on m=50" in capsys.readouterr().out
    assert main(["fit", "--no-entry-points"]) == 2


def test_an_implementation_unusable_for_a_descent_exits_1_not_as_a_usage_error(capsys):
    from pathlib import Path

    from gradrace.cli import main

    misbehaving = Path(__file__).resolve().parent / "plugins" / "misbehaving.py"
    code = main(
        [
            "fit",
            "--no-entry-points",
            "--plugin",
            f"{misbehaving}:returns_nan",
            "--m",
            "30",
            "--n",
            "3",
        ]
    )
    assert code == 1 and "cannot be used for a descent" in capsys.readouterr().err


def test_a_relative_plot_path_is_where_the_command_started_whatever_a_plugin_does(
    tmp_path, capsys, monkeypatch
):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    plugin = tmp_path / "wanders.py"
    plugin.write_text(
        "import os\n"
        "from gradrace.implementations.numpy_dot import gradient as _g\n"
        f"os.chdir({str(elsewhere)!r})\n"
        "def wanders(X, Y, W, b, lam):\n"
        "    return _g(X, Y, W, b, lam)\n"
    )
    monkeypatch.chdir(tmp_path)
    args = ["--no-entry-points", "--plugin", f"{plugin}:wanders", "--m", "200", "--n", "3"]
    assert _fit_cli([*args, "--plot", "fit.png"]) == 0
    assert (tmp_path / "fit.png").exists() and not (elsewhere / "fit.png").exists()
    assert f"Plot: {tmp_path / 'fit.png'}" in capsys.readouterr().out


@pytest.mark.parametrize("how", ["raise RuntimeError('step 3')", "raise SystemExit(0)"])
def test_a_gradient_that_fails_later_in_the_descent_is_said_not_a_traceback(tmp_path, capsys, how):
    plugin = tmp_path / "later.py"
    plugin.write_text(
        "from gradrace.implementations.numpy_dot import gradient as _g\n"
        "calls = [0]\n"
        "def later(X, Y, W, b, lam):\n"
        "    calls[0] += 1\n"
        "    if calls[0] > 5:\n"
        f"        {how}\n"
        "    return _g(X, Y, W, b, lam)\n"
    )
    args = ["--no-entry-points", "--plugin", f"{plugin}:later", "--m", "200", "--n", "3"]
    assert _fit_cli([*args, "--plot", str(tmp_path / "fit.png")]) == 1
    err = capsys.readouterr().err
    assert "later failed at step" in err and "of the descent" in err
