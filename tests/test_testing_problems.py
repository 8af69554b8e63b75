"""The conformance kit on implementations that declare problems: each declared problem checked."""

import pytest

from gradrace import Implementation
from gradrace.testing import CHECKS, check_implementation, parametrize_with_checks
from plugins import slips, two_problems


def test_every_check_runs_on_each_declared_problem_and_passes():
    report = check_implementation(two_problems.both)
    assert report.passed, str(report)
    names = [r.check for r in report]
    assert names == [*CHECKS, *(f"{name}[logistic]" for name in CHECKS)]


def test_a_logistic_only_implementation_is_checked_on_logistic_cases_only():
    report = check_implementation(two_problems.logistic_only)
    assert report.passed, str(report)
    assert all(r.check.endswith("[logistic]") for r in report)


def test_a_slip_in_the_logistic_version_fails_there_only():
    wrong = Implementation(
        "half-right",
        slips.linear_gradient,
        also=(Implementation("half-right", slips.linear_gradient, problem="logistic"),),
    )
    report = check_implementation(wrong, ["check_no_classic_slip"])
    linear, logistic = report
    assert linear.passed and not logistic.passed
    assert logistic.check == "check_no_classic_slip[logistic]"
    assert "looks like: sigmoid forgotten" in logistic.message


@parametrize_with_checks([two_problems.both])
def test_parametrized_checks_cover_each_problem(implementation, check, request):
    if "-logistic-" in request.node.callspec.id:
        assert implementation.problem == "logistic"
    else:
        assert implementation.problem == "linear"
    check(implementation)


def test_parametrized_ids_name_the_problem_when_not_linear():
    mark = parametrize_with_checks([two_problems.both])
    ids = [p.id for p in mark.args[1]]
    assert "two-problems-check_agrees_float64" in ids
    assert "two-problems-logistic-check_agrees_float64" in ids
    assert len(ids) == 2 * len(CHECKS)


def test_a_check_given_a_logistic_version_builds_logistic_cases():
    with pytest.raises(AssertionError, match="on logistic m=20 n=4 k=1 float64"):
        CHECKS["check_agrees_float64"](
            Implementation("lin", slips.linear_gradient, problem="logistic")
        )
