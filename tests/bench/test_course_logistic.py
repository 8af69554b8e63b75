"""The course's logistic lab: a plain function's problem read from its name, run as written."""

from pathlib import Path

import pytest

import gradrace
from gradrace.bench.agreement import evaluate
from gradrace.bench.check import all_agree, run_check
from gradrace.bench.course import problem_of
from gradrace.bench.grids import Case, check_cases
from gradrace.bench.registry import load_registry
from gradrace.cli import main
from plugins.learner import logistic_lab

LEARNER = Path(__file__).resolve().parents[1] / "plugins" / "learner"
LOGISTIC_LAB = LEARNER / "logistic_lab.py"
LOGISTIC = check_cases(problem=["logistic"])


def lab(name: str, plain_problem: str = "linear"):
    registry = load_registry(
        [f"{LOGISTIC_LAB}:{name}"], entry_points=False, plain_problem=plain_problem
    )
    assert not registry.errors, registry.errors
    return registry[name]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("compute_gradient_logistic_reg", "logistic"),
        ("my_sigmoid_gradient", "logistic"),
        ("compute_gradient_linear_reg", "linear"),
        ("compute_gradient", "linear"),
    ],
)
def test_a_plain_functions_problem_is_read_from_its_name(name, problem):
    def fn(X, y, w, b, lambda_):
        return 0.0, w

    fn.__name__ = name
    assert problem_of(fn) == problem


def test_a_name_that_says_nothing_takes_the_problem_given():
    assert problem_of(logistic_lab.compute_gradient, default="logistic") == "logistic"
    assert lab("compute_gradient", plain_problem="logistic").problems == ("logistic",)


def test_the_name_wins_over_the_problem_given():
    assert problem_of(logistic_lab.compute_gradient_logistic_reg, default="linear") == "logistic"


def test_the_course_logistic_function_as_written_agrees_on_every_logistic_k1_case():
    impl = lab("compute_gradient_logistic_reg")
    assert impl.problems == ("logistic",)
    results = run_check([impl], LOGISTIC)
    assert all_agree(results)
    applicable = results[results["status"] != "n/a"]
    assert set(applicable["k"]) == {1} and len(applicable) == 12


def test_the_course_logistic_function_is_not_applicable_on_linear_cases():
    results = run_check([lab("compute_gradient_logistic_reg")], check_cases())
    assert set(results["status"]) == {"n/a"}
    assert results["message"].str.startswith("implements logistic only").all()


def test_course_can_force_the_problem():
    impl = gradrace.course(logistic_lab.compute_gradient, problem="logistic")
    assert impl.problem == "logistic"
    outcome = evaluate(impl, Case(20, 3, model="logistic").problem())
    assert outcome.status == "ok"
    with pytest.raises(ValueError, match="unknown problem 'probit'; use one of linear, logistic"):
        gradrace.course(logistic_lab.compute_gradient, problem="probit")


@pytest.mark.parametrize(
    ("name", "diagnosis"),
    [
        (
            "sigmoid_forgotten_logistic",
            "sigmoid forgotten: the error is Xw + b − y (linear regression's) instead of "
            "sigmoid(Xw + b) − y",
        ),
        ("sign_flipped_logistic", "sign of the error flipped: y − prediction instead of"),
        ("b_regularized_logistic", "b regularized"),
        ("half_lambda_logistic", "lambda_/(2*m) instead of lambda_/m"),
        ("no_one_over_m_logistic", "1/m factor missing"),
    ],
)
def test_logistic_slips_are_named_in_the_learners_words(name, diagnosis):
    outcome = evaluate(lab(name), Case(20, 4, 1, lam=10.0, seed=1, model="logistic").problem())
    assert outcome.status == "disagrees"
    assert outcome.diagnosis.startswith(diagnosis)


def test_a_logistic_function_checked_as_linear_is_told_so(capsys):
    spec = f"{LOGISTIC_LAB}:compute_gradient"
    assert (
        main(
            [
                "check",
                "--no-entry-points",
                "--no-isolate",
                "--impl",
                "compute_gradient",
                "--plugin",
                spec,
            ]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "this computes the logistic gradient; use --problem logistic" in out


def test_check_problem_logistic_reads_a_function_that_says_nothing_as_logistic(capsys):
    spec = f"{LOGISTIC_LAB}:compute_gradient"
    argv = [
        "check",
        "--no-entry-points",
        "--no-isolate",
        "--impl",
        "compute_gradient",
        "--plugin",
        spec,
        "--problem",
        "logistic",
    ]
    assert main(argv) == 0
    assert "compute_gradient: agrees (12/12 applicable cases)" in capsys.readouterr().out


def test_check_problem_logistic_in_a_worker_reads_it_the_same_way(capsys):
    spec = f"{LOGISTIC_LAB}:compute_gradient"
    argv = [
        "check",
        "--no-entry-points",
        "--impl",
        "compute_gradient",
        "--plugin",
        spec,
        "--problem",
        "logistic",
        "--k",
        "1",
        "--dtype",
        "float64",
    ]
    assert main(argv) == 0
    assert "compute_gradient: agrees (6/6 cases)" in capsys.readouterr().out
