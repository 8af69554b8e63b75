"""gradrace.check and gradrace.race over problems: a logistic function checked as logistic."""

import gradrace
from plugins import two_problems
from plugins.learner.logistic_lab import compute_gradient, compute_gradient_logistic_reg


def test_check_takes_the_problem_from_the_functions_name():
    result = gradrace.check(compute_gradient_logistic_reg, dtype="float64")
    assert result.agrees
    assert set(result.results["problem"]) == {"logistic"}


def test_check_problem_forces_it_for_a_function_whose_name_says_none():
    linear = gradrace.check(compute_gradient, k=1, dtype="float64")
    assert not linear.agrees
    assert "use --problem logistic" in str(linear)
    forced = gradrace.check(gradrace.course(compute_gradient, problem="logistic"), dtype="float64")
    assert forced.agrees


def test_race_times_the_problems_its_functions_compute():
    result = gradrace.race(two_problems.logistic_only, against=["numpy-dot"], m=[50], n=[2])
    assert set(result.results["problem"]) == {"logistic"}
    labels = [label for label, _ in result.table()[1]]
    assert labels == ["logistic m=50 n=2 k=1 float64"]
    assert result.plot_png()[:4] == b"\x89PNG"


def test_race_over_both_problems_keeps_them_apart():
    result = gradrace.race(
        two_problems.both, against=(), m=[50], n=[2], problem=["linear", "logistic"]
    )
    labels = [label for label, _ in result.table()[1]]
    assert labels == ["m=50 n=2 k=1 float64", "logistic m=50 n=2 k=1 float64"]
