"""The course convention: recognised, forced, adapted into an Implementation for k = 1."""

from pathlib import Path

import numpy as np
import pytest

import gradrace
from gradrace import make_problem, reference_gradient
from gradrace.bench.agreement import evaluate
from gradrace.bench.check import format_check, run_check
from gradrace.bench.course import adapt, is_course, looks_like_course
from gradrace.bench.grids import Case
from gradrace.bench.registry import load_registry
from gradrace.bench.runner import RunConfig, Runner

LEARNER = Path(__file__).resolve().parents[1] / "plugins" / "learner"
LAB = LEARNER / "lab.py"
DETECTED = (
    "course convention (X, y, w, b, lambda_) -> (dj_db, dj_dw): "
    "from the parameter names and a trial call"
)


def lab(name: str, convention: str = "auto"):
    registry = load_registry([f"{LAB}:{name}"], entry_points=False, convention=convention)
    assert not registry.errors, registry.errors
    return registry[name]


def test_the_course_function_is_recognised_from_its_names_and_a_trial_call():
    impl = lab("compute_gradient_linear_reg")
    assert is_course(impl) and impl.max_outputs == 1
    assert impl.description == DETECTED


def test_the_dw_first_order_of_public_solutions_is_recognised():
    assert lab("dw_first").description == (
        "course convention (X, y, w, b, lambda_) -> (dj_dw, dj_db): "
        "from the parameter names and a trial call (the course's lab returns (dj_db, dj_dw))"
    )


@pytest.mark.parametrize(
    ("name", "words"),
    [
        (
            "column_dw",
            "dj_dw has shape (3, 1); the course's w has shape (3,), and w - alpha * "
            "dj_dw would become (3, 3): return dj_dw with shape (3,), like w",
        ),
        ("array_db", "dj_db has shape (1,); the course's b is a number"),
    ],
)
def test_right_values_in_the_wrong_shape_for_the_course_loop_are_errors(name, words):
    outcome = evaluate(lab(name), Case(20, 3, 1).problem())
    assert outcome.status == "error" and words in outcome.message


def test_a_course_function_that_raises_is_read_as_the_course_and_shows_its_own_error():
    impl = lab("typo")
    assert is_course(impl) and "the trial call raised NameError" in impl.description
    outcome = evaluate(impl, Case(20, 3, 1).problem())
    assert outcome.kind == "raised" and "lab.py" in outcome.message
    assert "--convention course" not in outcome.message


def test_a_gradrace_function_with_course_like_names_stays_gradrace():
    impl = lab("gradrace_style")
    assert not is_course(impl) and impl.max_outputs is None


@pytest.mark.parametrize(
    "names", ["X, y, w, b, lambda_", "X, Y, W, b, lam", "x, y, w, b, lmbda", "X, y, w, b, reg"]
)
def test_parameter_names_are_read_leniently(names):
    fn = eval(f"lambda {names}: None")  # a signature under test
    assert looks_like_course(fn)


def test_names_that_say_nothing_are_not_tried():
    assert not is_course(lab("unnamed"))
    assert not looks_like_course(lambda a, c, d, e, f: None)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_adapter_calls_the_function_as_written_and_unpacks_in_the_input_dtype(dtype):
    impl = lab("compute_gradient_linear_reg")
    problem = make_problem(20, 4, 1, dtype, lam=10.0, seed=1)
    args = impl.prepare_args(*problem.args)
    assert args[1].shape == (20,) and args[2].shape == (4,)
    assert type(args[3]) is float and type(args[4]) is float
    dW, db = impl.call(args)
    assert dW.shape == (4, 1) and db.shape == (1,)
    assert dW.dtype == db.dtype == np.dtype(dtype)
    ref_dW, ref_db = reference_gradient(*problem.args)
    np.testing.assert_allclose(dW, ref_dW, rtol=1e-5)
    np.testing.assert_allclose(db, ref_db, rtol=1e-5)


def test_k_above_one_is_not_applicable_and_the_check_agrees_on_the_rest():
    results = run_check([lab("compute_gradient_linear_reg")])
    assert set(results.loc[results.k > 1, "status"]) == {"n/a"}
    assert set(results.loc[results.k == 1, "status"]) == {"ok"}
    text = format_check(results)
    assert "compute_gradient_linear_reg: agrees (12/12 applicable cases)" in text
    assert "compute_gradient_linear_reg on 12 case(s): handles at most k=1 output(s)" in text


@pytest.mark.parametrize(
    ("name", "words"),
    [
        (
            "half_lambda",
            "dj_dw wrong (relative error 9.6e-02); dj_db agrees (tolerance 1e-08); "
            "looks like: lambda_/(2*m) instead of lambda_/m in the regularization term",
        ),
        ("b_regularized", "looks like: b regularized"),
        ("no_one_over_m", "looks like: 1/m factor missing"),
        ("dw_not_averaged", "looks like: 1/m factor missing from dj_dw's data term (dj_db has it)"),
        ("no_regularization", "looks like: regularization term missing"),
    ],
)
def test_a_slip_is_diagnosed_in_the_learners_terms(name, words):
    outcome = evaluate(lab(name), make_problem(20, 4, 1, lam=10.0, seed=1))
    assert outcome.status == "disagrees"
    assert words in outcome.message


def test_forcing_the_wrong_order_says_which_order_it_returns():
    outcome = evaluate(
        lab("compute_gradient_linear_reg", "course-dw-first"), make_problem(20, 4, 1, seed=1)
    )
    assert outcome.kind == "wrong-type"
    assert outcome.message.startswith(
        "compute_gradient_linear_reg returned (float64, ndarray (4,) float64); expected "
        "(dj_dw, dj_db): dj_db a number and dj_dw an array of shape (4,); likely cause: it "
        "returns (dj_db, dj_dw), the other order (run it with --convention course"
    )
    assert (
        "called compute_gradient_linear_reg(X (20, 4) float64, y (20,) float64, "
        "w (4,) float64, b float, lambda_ float)" in outcome.message
    )


def test_forcing_gradrace_shows_the_learners_line_and_suggests_the_course_convention():
    outcome = evaluate(lab("compute_gradient_linear_reg", "gradrace"), make_problem(20, 4, 1))
    assert outcome.kind == "raised"
    assert "ValueError: setting an array element with a sequence" in outcome.message
    assert "lab.py:14: dj_dw[j] = dj_dw[j] + err * X[i, j])" in outcome.message
    assert "run it with --convention course" in outcome.message


def test_a_forced_convention_reaches_a_function_whose_names_say_nothing():
    impl = lab("unnamed", "course-dw-first")
    assert impl.description == (
        "course convention (a, c, d, e, f) -> (dj_dw, dj_db): forced by --convention "
        "course-dw-first"
    )
    assert evaluate(impl, make_problem(20, 4, 1, lam=3.0)).agrees


def test_gradrace_course_wraps_a_function_in_python():
    from plugins.learner.lab import compute_gradient_linear_reg

    impl = gradrace.course(compute_gradient_linear_reg)
    assert impl.description.endswith("(dj_db, dj_dw): from a trial call (gradrace.course)")
    assert evaluate(impl, make_problem(20, 4, 1, lam=2.0)).agrees
    assert gradrace.course(compute_gradient_linear_reg, order="db-first").max_outputs == 1
    with pytest.raises(ValueError, match="order must be"):
        gradrace.course(compute_gradient_linear_reg, order="backwards")


def test_gradrace_course_refuses_a_function_whose_order_it_cannot_tell():
    with pytest.raises(
        ValueError,
        match=r"the trial call returned NoneType \(no return statement\?\), not a number and 3",
    ):
        gradrace.course(lambda X, y, w, b, lambda_: None, name="f")


def test_an_unknown_convention_is_refused():
    with pytest.raises(ValueError, match="unknown convention 'backwards'"):
        adapt(lambda X, y, w, b, lambda_: None, "f", "backwards")


def test_a_plugin_file_imports_its_sibling_and_the_choice_reaches_the_worker():
    registry = load_registry(
        [f"{LEARNER / 'adapt.py'}:impl", f"{LAB}:unnamed"],
        entry_points=False,
        convention="course-dw-first",
    )
    assert not registry.errors, registry.errors
    names = ("lab-adapted", "unnamed")
    config = RunConfig(
        (),
        names,
        tuple(f"{LEARNER / f}" for f in ("adapt.py:impl", "lab.py:unnamed")),
        entry_points=False,
        timeout_s=120,
        convention="course-dw-first",
    )
    runner = Runner(config, registry, writer=None, progress=None)
    try:
        results = runner.check([Case(20, 4, 1, "float64", 10.0), Case(7, 3, 3, "float32", 3.5)])
    finally:
        runner.close()
    assert list(results.status) == ["ok", "ok", "n/a", "n/a"]


def test_a_function_without_lambda_is_refused_naming_its_parameters():
    from gradrace.bench.course import adapt

    def compute_gradient(X, y, w, b):
        return 0.0, X.T @ (X @ w + b - y)

    with pytest.raises(
        TypeError, match=r"compute_gradient takes 4 positional argument\(s\) \(X, y, w, b\)"
    ):
        adapt(compute_gradient, "compute_gradient")


def test_a_course_function_that_returns_nothing_is_read_as_the_course_and_told_so():
    def compute_gradient_linear_reg(X, y, w, b, lambda_):
        m = X.shape[0]
        dj_dw = X.T @ (X @ w + b - y) / m + lambda_ / m * w  # noqa: F841 (the slip)

    result = gradrace.check(compute_gradient_linear_reg, m=(20,), n=(4,))
    text = str(result)
    assert "likely cause: no return statement (return dj_db, dj_dw)" in text
    assert "compute_gradient_linear_reg(X (20, 4) float64, y (20,) float64" in text


@pytest.mark.parametrize(
    ("m", "n", "words"),
    [
        (20, 4, "a (20,) array and a (20, 1) one were combined (such as f_wb - y.reshape(-1, 1))"),
        (5, 1, "a (5,) array and a (5, 1) one were combined"),
        (1, 3, "a (3, 1) column and the (3,) w were added"),
    ],
)
def test_a_column_combined_with_a_1d_array_is_named_as_the_broadcast_it_makes(m, n, words):
    outcome = evaluate(lab("column_residual"), make_problem(m, n, 1, lam=1.0, seed=1))
    assert outcome.status == "error" and f"likely cause: {words}" in outcome.message
