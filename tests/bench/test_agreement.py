"""The agreement check: statuses for broken outputs, and the classic slips diagnosed by name."""

import numpy as np
import pytest

from gradrace import Implementation, make_problem
from gradrace.bench.agreement import (
    SLIPS,
    TOLERANCE,
    evaluate,
    judge,
    relative_error,
    slip_words,
)
from gradrace.bench.check import all_agree, format_check, run_check
from gradrace.bench.grids import CHECK_CASES, Case
from plugins import misbehaving, slips


def test_every_slip_has_a_deliberately_wrong_implementation():
    covered = set(slips.SLIP_IMPLEMENTATIONS) | set(slips.LOGISTIC_SLIP_IMPLEMENTATIONS)
    assert covered == set(SLIPS)


@pytest.mark.parametrize("slip", list(slips.SLIP_IMPLEMENTATIONS))
def test_each_classic_slip_is_diagnosed_as_that_slip(slip):
    impl = Implementation(name="slip", gradient=slips.SLIP_IMPLEMENTATIONS[slip])
    problem = make_problem(12, 3, 3, lam=6.0, seed=2)  # n == k so the transposes are defined
    outcome = evaluate(impl, problem)
    assert outcome.status == "disagrees"
    assert outcome.diagnosis == slip_words(slip)
    assert f"looks like: {slip_words(slip)}" in outcome.message


@pytest.mark.parametrize("slip", list(slips.LOGISTIC_SLIP_IMPLEMENTATIONS))
def test_each_logistic_slip_is_diagnosed_as_that_slip(slip):
    wrong = slips.LOGISTIC_SLIP_IMPLEMENTATIONS[slip]
    impl = Implementation(name="slip", gradient=wrong, problem="logistic")
    problem = make_problem(12, 3, 3, lam=6.0, seed=2, problem="logistic")
    outcome = evaluate(impl, problem)
    assert outcome.status == "disagrees"
    assert outcome.diagnosis == slip_words(slip)
    assert f"looks like: {slip_words(slip)}" in outcome.message


def test_a_logistic_gradient_checked_as_linear_is_told_to_use_problem_logistic():
    impl = Implementation(name="lab", gradient=slips.logistic_gradient)
    outcome = evaluate(impl, make_problem(20, 4, lam=10.0, seed=1))
    assert outcome.status == "disagrees"
    assert "this computes the logistic gradient; use --problem logistic" in outcome.message


def test_a_forgotten_sigmoid_is_said_in_the_learners_words():
    from gradrace import course

    def compute_gradient_logistic_reg(X, y, w, b, lambda_):
        m = X.shape[0]
        err = X @ w + b - y  # the sigmoid forgotten
        return float(err.mean()), X.T @ err / m + lambda_ / m * w

    outcome = evaluate(
        course(compute_gradient_logistic_reg), Case(20, 3, model="logistic").problem()
    )
    assert outcome.diagnosis == (
        "sigmoid forgotten: the error is Xw + b − y (linear regression's) instead of "
        "sigmoid(Xw + b) − y"
    )
    assert "run it as linear (--problem linear" in outcome.message


def test_a_linear_implementation_is_not_applicable_on_a_logistic_problem():
    impl = Implementation(name="lin", gradient=slips.linear_gradient)
    outcome = evaluate(impl, make_problem(20, 4, seed=1, problem="logistic"))
    assert outcome.status == "n/a"
    assert outcome.message.startswith("implements linear only")


def test_disagreement_names_the_wrong_part():
    impl = Implementation(name="biased", gradient=slips.bias_regularized)
    outcome = evaluate(impl, make_problem(20, 4, lam=10.0, seed=1))
    assert "db wrong (relative error" in outcome.message
    assert "dW agrees" in outcome.message
    assert outcome.err_dW <= TOLERANCE[np.dtype(np.float64)] < outcome.err_db


@pytest.mark.parametrize(
    ("impl", "kind", "message"),
    [
        (misbehaving.raises_in_prepare, "raised", "prepare raised RuntimeError: prepare exploded"),
        (misbehaving.raises_in_gradient, "raised", "gradient raised ZeroDivisionError"),
        (misbehaving.wrong_shape, "wrong-shape", r"dW has shape (8,), expected (4, 2)"),
        (
            misbehaving.wrong_dtype,
            "wrong-dtype",
            "dW has dtype float16, expected the input dtype float64",
        ),
        (misbehaving.returns_nan, "non-finite", "dW contains 1 NaN or infinite value(s)"),
        (misbehaving.returns_inf, "non-finite", "db contains 1 NaN or infinite value(s)"),
        (misbehaving.masks_nan, "non-finite", "dW contains 1 NaN or infinite value(s)"),
        (misbehaving.subclasses, "agrees", ""),
        (misbehaving.unreadable, "wrong-type", "RuntimeError: unreadable result"),
        (misbehaving.modifies_inputs, "modified-input", "modified its input arrays"),
        (misbehaving.wrong_values, "disagrees", "dW wrong"),
    ],
    ids=lambda x: getattr(x, "name", None),
)
def test_broken_outputs_get_their_own_status_and_message(impl, kind, message):
    outcome = evaluate(impl, make_problem(10, 4, 2, seed=0))
    assert outcome.kind == kind
    assert message in outcome.message
    assert outcome.status == {"disagrees": "disagrees", "agrees": "ok"}.get(kind, "error")


def test_transposed_dW_of_the_wrong_shape_is_called_transposed():
    impl = Implementation(name="t", gradient=slips.dW_transposed)
    outcome = evaluate(impl, make_problem(10, 4, 2, seed=0))
    assert outcome.kind == "wrong-shape"
    assert "it looks transposed" in outcome.message


def test_relative_error_is_normwise():
    ref = np.array([3.0, 4.0])
    assert relative_error(ref + [0.0, 0.5], ref) == pytest.approx(0.1)


def test_judge_accepts_the_reference_itself():
    p = make_problem(5, 2, seed=0)
    from gradrace import reference_gradient

    dW, db = reference_gradient(*p.args)
    assert judge((dW, db), p).status == "ok"


def test_check_cases_cover_edges_dtypes_and_lambda():
    assert any(c.m == 1 for c in CHECK_CASES) and any(c.n == 1 for c in CHECK_CASES)
    assert any(c.k > 1 for c in CHECK_CASES) and any(c.n == c.k > 1 for c in CHECK_CASES)
    assert {c.dtype for c in CHECK_CASES} == {"float64", "float32"}
    assert any(c.lam == 0 for c in CHECK_CASES) and all(
        c.lam == 0 or c.lam / c.m >= 0.25 for c in CHECK_CASES
    )


def test_run_check_table_and_verdict():
    good = Implementation(name="good", gradient=misbehaving.plain_gradient)
    cases = [Case(5, 2, 1, "float64", 0.0), Case(7, 3, 3, "float32", 3.5)]
    results = run_check([good, slips.half_lambda_impl], cases)
    assert len(results) == 4 and not all_agree(results)
    assert all_agree(results[results.implementation == "good"])
    text = format_check(results)
    assert "good: agrees (2/2 cases)" in text
    assert "half-lambda: DISAGREES on 1 of 2 cases" in text  # λ = 0 case agrees
    assert "looks like: λ/(2m) instead of λ/m" in text


def test_a_disagreeing_verdict_counts_the_cases_that_disagree_not_those_that_agree():
    cases = [Case(5, 2, 1, "float64", 0.0), Case(5, 2, 1, "float64", 2.5)]
    cases.append(Case(7, 3, 1, "float64", 3.5))  # λ = 0 agrees, the two λ > 0 disagree
    text = format_check(run_check([slips.half_lambda_impl], cases))
    assert "half-lambda: DISAGREES on 2 of 3 cases" in text
    assert "(1/3" not in text


def test_a_verdict_on_cases_that_raised_says_fails_and_how_not_disagrees():
    cases = [Case(5, 2, 1, "float64", 0.0), Case(7, 3, 1, "float64", 3.5)]
    text = format_check(run_check([misbehaving.raises_in_gradient], cases))
    assert f"{misbehaving.raises_in_gradient.name}: FAILS on 2 of 2 cases (2 raised)" in text
    assert "DISAGREES" not in text


def test_output_or_exceptions_gradrace_cannot_print_fail_their_own_plugin_only():
    good = Implementation(name="good", gradient=misbehaving.plain_gradient)
    cases = [Case(5, 2, 1, "float64", 0.0)]
    plugins = [misbehaving.raises_unprintable, misbehaving.holds_itself, good]
    results = run_check(plugins, cases)
    kind = dict(zip(results.implementation, results.kind, strict=True))
    assert kind == {"raises-unprintable": "raised", "holds-itself": "wrong-type", "good": "agrees"}
    text = format_check(results)
    assert "<its text raised RuntimeError>" in text and "(list, …)" in text


def test_a_plugin_that_loosens_the_displayed_tolerances_is_still_judged_by_the_real_ones():
    from types import MappingProxyType

    from gradrace.bench import agreement

    before = dict(agreement.TOLERANCE)
    try:
        results = run_check([misbehaving.loosens_tolerance], [Case(5, 2, 1, "float64", 1.0)])
        assert list(results["status"]) == ["disagrees"]
    finally:  # put the display back for the other tests
        for d in __import__("gc").get_referents(agreement.TOLERANCE):
            if isinstance(d, dict):
                d.update(before)
    assert isinstance(agreement.TOLERANCE, MappingProxyType)


def test_a_disagreeing_verdict_with_cases_not_applicable_counts_applicable_cases():
    one = Implementation(name="one", gradient=slips.half_lambda_impl.gradient, max_outputs=1)
    cases = [Case(5, 2, 1, "float64", 2.5), Case(7, 3, 3, "float64", 3.5)]
    text = format_check(run_check([one], cases))
    assert "one: DISAGREES on 1 of 1 applicable cases" in text


def test_a_plugin_that_modifies_its_inputs_does_not_poison_the_next_one():
    good = Implementation(name="good", gradient=misbehaving.plain_gradient)
    results = run_check([misbehaving.modifies_inputs, good], [Case(20, 3, 2, "float64", 10.0)])
    verdict = dict(zip(results.implementation, results.kind, strict=True))
    assert verdict == {"modifies-inputs": "modified-input", "good": "agrees"}


def test_float32_running_sum_error_is_diagnosed_as_accumulation_not_a_slip():
    from gradrace.bench.agreement import FLOAT32_ACCUMULATION

    problem = make_problem(20_000, 2, 1, dtype=np.float32, lam=1.0, seed=3)
    from gradrace import reference_gradient

    dW, db = reference_gradient(*problem.args)
    noisy = ((dW * (1 + 2e-3)).astype(np.float32), db.astype(np.float32))  # 1e-3 < 2e-3 < m·ε32
    outcome = judge(noisy, problem)
    assert outcome.status == "disagrees" and outcome.diagnosis == FLOAT32_ACCUMULATION


def test_a_call_that_writes_into_W_is_named_and_W_is_restored():
    def writes_W(X, Y, W, b, lam):
        out = misbehaving.plain_gradient(X, Y, W, b, lam)
        W[0, 0] += 1.0
        return out

    problem = make_problem(10, 3, 1, seed=0)
    W = problem.W.copy()
    outcome = evaluate(Implementation(name="w", gradient=writes_W), problem)
    assert outcome.kind == "modified-input" and "it wrote into W" in outcome.message
    assert np.array_equal(problem.W, W)


def test_out_buffers_and_a_lock_made_in_prepare_pass_and_harm_no_one():
    from plugins import scratch

    good = Implementation(name="good", gradient=misbehaving.plain_gradient)
    results = run_check([scratch.out_buffers, scratch.locked, good])
    assert all_agree(results), format_check(results)


def test_a_result_that_changes_on_the_second_call_disagrees():
    from plugins import stateful

    outcome = evaluate(stateful.accumulates, make_problem(9, 3, 2, seed=5))
    assert outcome.status == "disagrees" and outcome.kind == "changed"
    assert outcome.message.startswith(
        "the result changed between calls: the first call agreed, the second on the same "
        "arguments did not: disagrees: dW wrong"
    )


def test_the_course_return_order_in_gradrace_convention_is_named():
    def course_order(X, Y, W, b, lam):
        dW, db = misbehaving.plain_gradient(X, Y, W, b, lam)
        return float(db[0]), dW[:, 0]

    outcome = evaluate(Implementation(name="c", gradient=course_order), make_problem(20, 4, 1))
    assert outcome.kind == "wrong-type"
    assert "likely cause: it returns the course's order (db, dW)" in outcome.message
    assert (
        "called course_order(X (20, 4) float64, Y (20, 1) float64, W (4, 1) float64, "
        "b (1,) float64, lam float)" in outcome.message
    )
    assert (
        "expected back (dW, db): dW ndarray (4, 1) float64, db ndarray (1,) float64, "
        "got (float, ndarray (4,) float64)" in outcome.message
    )
