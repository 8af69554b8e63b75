"""The conformance kit catches each kind of misbehaviour with a message that names it."""

from __future__ import annotations

import numpy as np
import pytest

from gradrace import Implementation
from gradrace.implementations import gram, numpy_dot
from gradrace.testing import CHECKS, check_implementation, parametrize_with_checks
from plugins import misbehaving, slips


def failures(impl: Implementation) -> dict[str, str]:
    return {r.check: r.message for r in check_implementation(impl) if not r.passed}


def test_a_correct_implementation_passes_every_check_that_applies():
    report = check_implementation(numpy_dot.IMPLEMENTATION)  # both problems
    assert report.passed and len(report) == 2 * len(CHECKS)
    applicable = 2 * (len(CHECKS) - 1)  # check_with_params: numpy-dot has no with_params
    assert str(report).startswith(
        f"numpy-dot: {applicable}/{applicable} applicable checks passed, 2 skipped"
    )


@pytest.mark.parametrize(
    ("impl", "check", "words"),
    [
        (misbehaving.wrong_shape, "check_output_shapes_and_dtypes", "shape"),
        (misbehaving.wrong_values, "check_agrees_float64", "agreement with the reference"),
        (misbehaving.modifies_inputs, "check_inputs_unchanged", "X, Y, W, b unchanged"),
        (slips.half_lambda_impl, "check_no_classic_slip", "looks like"),
    ],
)
def test_a_misbehaviour_fails_its_check_naming_impl_check_and_case(impl, check, words):
    failed = failures(impl)
    assert check in failed
    assert failed[check].startswith(f"{impl.name}: {check} failed on m=")
    assert words in failed[check]


def test_a_raising_implementation_fails_rather_than_stopping_the_kit():
    report = check_implementation(misbehaving.raises_in_gradient)
    assert len(report) == len(CHECKS) and not report.passed


def test_an_exception_from_a_check_names_the_implementation_and_the_check():
    def raises(args, W, b):
        raise ValueError("no room")

    failed = failures(_gram_with(raises))
    assert failed["check_with_params"] == (
        "gram-variant: check_with_params raised ValueError: no room"
    )


def test_only_the_named_checks_run():
    report = check_implementation(numpy_dot.IMPLEMENTATION, ["check_single_sample"])
    assert [r.check for r in report] == ["check_single_sample", "check_single_sample[logistic]"]
    assert report.passed


def test_nondeterminism_is_caught():
    rng = np.random.default_rng(0)

    def jittery(X, Y, W, b, lam):
        dW, db = numpy_dot.gradient(X, Y, W, b, lam)
        return dW * (1 + 1e-15 * rng.standard_normal()), db

    failed = failures(Implementation("jittery", jittery))
    assert "bit-identical results" in failed["check_deterministic"]


def test_state_cached_across_prepares_is_caught():
    cache = {}

    def prepare(X, Y, W, b, lam):
        cache["lam"] = lam  # one slot for every preparation: the last one wins
        return X, Y, W, b, lam

    def gradient(X, Y, W, b, lam):
        return numpy_dot.gradient(X, Y, W, b, cache["lam"])

    failed = failures(Implementation("stale", gradient, prepare))
    assert "keep its own answer" in failed["check_prepare_again"]


def test_a_kernel_wrong_on_its_first_call_is_a_disagreement_not_stale_state():
    message = failures(slips.half_lambda_impl)["check_prepare_again"]
    assert "expected the reference gradient on the first call after prepare" in message
    assert "a disagreement with the reference, not stale state between calls" in message
    assert "keep its own answer" not in message


def test_stale_state_is_reported_only_after_a_first_call_that_agreed():
    cache = {}

    def prepare(X, Y, W, b, lam):
        cache["lam"] = lam
        return X, Y, W, b, lam

    def gradient(X, Y, W, b, lam):
        return numpy_dot.gradient(X, Y, W, b, cache["lam"])

    message = failures(Implementation("stale", gradient, prepare))["check_prepare_again"]
    assert "keep its own answer after another was prepared" in message
    assert "(the first call on m=30 n=4 k=2 float64 λ=1 agreed)" in message
    assert "not stale state" not in message


def _reads_memory_in_c_order(X, Y, W, b, lam):
    """A kernel's slip: X's memory read as if it were C order (as raw pointers do)."""
    X = np.asarray(X).ravel(order="K").reshape(X.shape)
    return numpy_dot.gradient(X, Y, W, b, lam)


def test_an_implementation_wrong_on_a_fortran_ordered_x_fails_check_input_layouts():
    message = failures(Implementation("c-order-only", _reads_memory_in_c_order))
    message = message["check_input_layouts"]
    assert message.startswith("c-order-only: check_input_layouts failed on m=300 n=5 k=1 float64")
    assert "expected with X in Fortran order (np.asfortranarray): agreement" in message
    assert "disagrees: dW wrong" in message


def _refusing(words: str):
    def gradient(X, Y, W, b, lam):
        if not all(a.flags.c_contiguous for a in (X, Y, W, b)):
            raise ValueError(words)
        return numpy_dot.gradient(X, Y, W, b, lam)

    return gradient


def test_an_error_that_names_the_layout_passes_check_input_layouts():
    impl = Implementation("refuses", _refusing("X, Y, W and b must be C-contiguous"))
    report = check_implementation(impl, ["check_input_layouts"])
    assert report.passed, str(report)


def test_an_error_that_does_not_name_the_layout_fails_check_input_layouts():
    impl = Implementation("obscure", _refusing("No matching definition for argument type(s)"))
    message = failures(impl)["check_input_layouts"]
    assert "it raised ValueError: No matching definition for argument type(s)" in message
    assert "(an error that does not name the layout)" in message


def test_strided_views_reach_the_implementation_with_the_values_of_the_problem():
    seen = []

    def records(X, Y, W, b, lam):
        seen.append(tuple(a.flags.c_contiguous for a in (X, Y, W, b)))
        return numpy_dot.gradient(X, Y, W, b, lam)

    assert check_implementation(Implementation("records", records), ["check_input_layouts"]).passed
    assert (False, True, True, True) in seen and (True, False, False, False) in seen


def _gram_with(with_params):
    return Implementation("gram-variant", gram.gradient, gram.prepare, with_params=with_params)


def test_with_params_that_ignores_the_new_point_is_caught():
    failed = failures(_gram_with(lambda args, W, b: args))
    assert "the reference gradient at the new point" in failed["check_with_params"]


def test_with_params_that_moves_the_prepared_arguments_in_place_is_caught():
    def in_place(args, W, b):
        args[5][...] = W  # overwrites the W that the first prepared arguments hold
        args[6][...] = b
        return args

    def prepare(X, Y, W, b, lam):  # private copies, so that only the prepared W changes
        return gram.prepare(X, Y, W.copy(), b.copy(), lam)

    impl = Implementation("gram-in-place", gram.gradient, prepare, with_params=in_place)
    assert "the point prepared first" in failures(impl)["check_with_params"]


def test_with_params_that_modifies_the_new_point_is_caught():
    def scribbles(args, W, b):
        W[...] = 0
        return gram.IMPLEMENTATION.with_params(args, W.copy(), b)

    failed = failures(_gram_with(scribbles))
    assert "with_params modified them" in failed["check_with_params"]


def test_with_params_is_not_checked_where_there_is_none():
    impl = Implementation("no-hook", gram.gradient, gram.prepare)
    assert check_implementation(impl, ["check_with_params"]).passed


def test_parametrize_makes_one_test_per_implementation_and_check():
    mark = parametrize_with_checks([numpy_dot.IMPLEMENTATION, gram.IMPLEMENTATION])
    argnames, params = mark.args
    assert argnames == ("implementation", "check")
    assert [p.id for p in params] == [
        f"{impl}-{check}"
        for impl in ("numpy-dot", "numpy-dot-logistic", "gram")
        for check in CHECKS
    ]


def test_a_course_function_passes_the_kit_with_its_multi_output_checks_skipped():
    from gradrace import course
    from plugins.learner.lab import compute_gradient_linear_reg

    report = check_implementation(course(compute_gradient_linear_reg, order="db-first"))
    assert report.passed, str(report)
    skipped = {r.check: r.message for r in report if r.skipped}
    assert set(skipped) == {"check_multi_output"}
    assert "does not apply: it handles at most k=1 output(s)" in skipped["check_multi_output"]
    assert "SKIP  check_multi_output" in str(report)


def test_out_buffers_made_in_prepare_pass_every_check():
    from plugins import scratch

    report = check_implementation(scratch.out_buffers)
    assert report.passed and not any(r.skipped for r in report), str(report)


def test_under_pytest_a_check_that_does_not_apply_is_skipped():
    (param,) = [
        p
        for p in parametrize_with_checks([numpy_dot.IMPLEMENTATION]).args[1]
        if p.id == "numpy-dot-check_with_params"
    ]
    impl, check = param.values
    with pytest.raises(pytest.skip.Exception, match="it has no with_params"):
        check(impl)


def test_the_kit_reads_a_plain_function_as_the_command_line_does():
    from pathlib import Path

    from gradrace.bench.registry import _load_module

    lab = _load_module(str(Path(__file__).resolve().parent / "plugins" / "learner" / "lab.py"))
    report = check_implementation(lab.compute_gradient_linear_reg)
    assert report.passed, str(report)
    assert any(r.skipped for r in report)  # the multi-output check does not apply
