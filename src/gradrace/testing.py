"""The conformance kit: named checks any implementation can be put through with one call.

    from gradrace.testing import check_implementation
    print(check_implementation(my_impl))        # every check, one line each

    @parametrize_with_checks([my_impl])         # one pytest test per (implementation, check)
    def test_conformance(implementation, check):
        check(implementation)

Each check raises ``AssertionError`` whose message names the implementation, the
check, the case and what was expected, the way scikit-learn's ``check_estimator``
checks a third-party estimator. A check that does not apply (``with_params`` checks
for an implementation without one, k > 1 checks for a single-output function) raises
``NotApplicable``: a SKIP in ``check_implementation``'s report, ``pytest.skip`` under
``parametrize_with_checks``. Outputs go through ``impl.call`` (gradient, then unpack),
so a course-convention function is checked like any other.

Each check runs on the problem of the version it is given (``impl.problem``: its cases
are that problem's). ``check_implementation`` and ``parametrize_with_checks`` put every
version through every check, one per problem the implementation declares (``problem=``
and ``also=``); a problem it does not declare is not checked. Results for a problem other
than linear are named with it: ``check_agrees_float64[logistic]``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from gradrace.bench.agreement import OK, TOLERANCE, copy_inputs, evaluate, judge, tolerance, written
from gradrace.bench.grids import Case
from gradrace.bench.implementation import Implementation
from gradrace.bench.problem import Problem

Check = Callable[[Implementation], None]


class NotApplicable(Exception):
    """A check that does not apply to the implementation; the message says why."""


def _applicable(impl: Implementation, check: str, cases: Iterable[Case]) -> list[Case]:
    """The cases ``impl`` handles; NotApplicable when it handles none of them."""
    cases = list(cases)
    kept = [c for c in cases if not impl.applies_to(c.model, c.k)]
    if not kept:
        why = impl.applies_to(cases[0].model, cases[0].k)
        raise NotApplicable(f"{impl.name}: {check} does not apply: it {why}")
    return kept


def _single(impl: Implementation, case: Case) -> Case:
    """``case`` with k = 1 when ``impl`` does not handle its k."""
    return replace(case, k=1) if impl.applies(case.k) else case


def _case(impl: Implementation, m, n, k, dtype="float64", lam=1.0, seed=0) -> Case:
    """A case of ``impl``'s problem."""
    return Case(m, n, k, dtype, lam, seed, model=impl.problem)


def _fail(impl: Implementation, check: str, case: Case, expected: str, got: str) -> None:
    raise AssertionError(
        f"{impl.name}: {check} failed on {case.label}: expected {expected}; got {got}"
    )


def _expect_agreement(impl: Implementation, check: str, cases: Iterable[Case]) -> None:
    for case in _applicable(impl, check, cases):
        outcome = evaluate(impl, case.problem())
        if outcome.status != OK:
            tol = tolerance(case.dtype)
            _fail(
                impl,
                check,
                case,
                f"agreement with the reference within {tol:.0e}",
                f"{outcome.kind}: {outcome.message}",
            )


def _cases(impl, dtype="float64", lam=1.0, shapes=((20, 4, 1), (30, 5, 3))) -> list[Case]:
    return [_case(impl, m, n, k, dtype, lam, seed=7 + m + n + k) for m, n, k in shapes]


def check_agrees_float64(impl: Implementation) -> None:
    """Agrees with the reference in float64 within the documented tolerance."""
    _expect_agreement(impl, "check_agrees_float64", _cases(impl, "float64"))


def check_agrees_float32(impl: Implementation) -> None:
    """Agrees with the reference in float32 within the documented tolerance."""
    _expect_agreement(impl, "check_agrees_float32", _cases(impl, "float32"))


def check_output_shapes_and_dtypes(impl: Implementation) -> None:
    """Returns dW of shape (n, k) and db of shape (k,), both in the input dtype."""
    check = "check_output_shapes_and_dtypes"
    for case in _applicable(impl, check, _cases(impl, "float64") + _cases(impl, "float32")):
        problem = case.problem()
        dW, db = impl.compute(*problem.args)
        for name, a, shape in (("dW", dW, (case.n, case.k)), ("db", db, (case.k,))):
            got = f"{type(a).__name__} {getattr(a, 'shape', '')} {getattr(a, 'dtype', '')}"
            if not isinstance(a, np.ndarray) or a.shape != shape or a.dtype != problem.dtype:
                _fail(
                    impl,
                    "check_output_shapes_and_dtypes",
                    case,
                    f"{name} an ndarray of shape {shape} and dtype {problem.dtype}",
                    got,
                )


def check_single_output(impl: Implementation) -> None:
    """Handles k = 1, the common case."""
    _expect_agreement(impl, "check_single_output", _cases(impl, shapes=((25, 6, 1),)))


def check_multi_output(impl: Implementation) -> None:
    """Handles k > 1 outputs, including k > n and k == n."""
    shapes = ((25, 6, 4), (12, 2, 5), (9, 3, 3))
    _expect_agreement(impl, "check_multi_output", _cases(impl, shapes=shapes))


def check_unregularized(impl: Implementation) -> None:
    """λ = 0: the unregularized gradient (least squares, or the plain cross-entropy)."""
    _expect_agreement(impl, "check_unregularized", _cases(impl, lam=0.0))


def check_regularized(impl: Implementation) -> None:
    """λ > 0, large enough (λ/m = 0.5) that a wrong regularization term shows."""
    cases = [_case(impl, 20, 4, 2, lam=10.0, seed=3), _case(impl, 20, 4, 1, lam=10.0, seed=4)]
    _expect_agreement(impl, "check_regularized", cases)


def check_single_sample(impl: Implementation) -> None:
    """m = 1: one sample."""
    _expect_agreement(impl, "check_single_sample", _cases(impl, shapes=((1, 4, 1), (1, 3, 2))))


def check_single_feature(impl: Implementation) -> None:
    """n = 1: one feature."""
    shapes = ((15, 1, 1), (15, 1, 3))
    _expect_agreement(impl, "check_single_feature", _cases(impl, shapes=shapes))


def check_inputs_unchanged(impl: Implementation) -> None:
    """Neither prepare nor gradient writes into X, Y, W or b (buffers that prepare made
    beyond them are the implementation's own to write)."""
    for case in _applicable(impl, "check_inputs_unchanged", _cases(impl)):
        problem = case.problem()
        before = copy_inputs(problem)
        args = impl.prepare_args(*problem.args)
        impl.call(args)
        impl.call(args)
        changed = written(problem, before, impl.terms)
        if changed:
            _fail(
                impl,
                "check_inputs_unchanged",
                case,
                "X, Y, W, b unchanged",
                f"prepare or gradient wrote into {', '.join(changed)}",
            )


def check_deterministic(impl: Implementation) -> None:
    """Repeated calls on the same prepared data return identical results."""
    for case in _applicable(impl, "check_deterministic", _cases(impl)):
        args = impl.prepare_args(*case.problem().args)
        first = tuple(np.array(a, copy=True) for a in impl.call(args))  # out= buffers are reused
        for _ in range(3):
            again = impl.call(args)
            if not all(
                np.array_equal(a, b, equal_nan=True) for a, b in zip(first, again, strict=True)
            ):
                _fail(
                    impl,
                    "check_deterministic",
                    case,
                    "bit-identical results on every call",
                    "a call that differs from the first",
                )


def check_prepare_again(impl: Implementation) -> None:
    """prepare may be called again on new data: no stale cached state leaks between them.
    Judged only when the first problem's first call agrees: a kernel that is simply wrong
    fails here as a disagreement with the reference, not as stale state."""
    check = "check_prepare_again"
    case_a, case_b = (
        _single(impl, _case(impl, 30, 4, 2, lam=1.0, seed=11)),
        _single(impl, _case(impl, 17, 6, 3, lam=2.0, seed=12)),
    )
    a, b = case_a.problem(), case_b.problem()
    args_a = impl.prepare_args(*a.args)
    first = judge(impl.call(args_a), a)
    if first.status != OK:
        _fail(
            impl,
            check,
            case_a,
            "the reference gradient on the first call after prepare",
            f"{first.kind}: {first.message} (on the first call, before any other problem was "
            "prepared: a disagreement with the reference, not stale state between calls)",
        )
    args_b = impl.prepare_args(*b.args)
    for case, problem, args in ((case_b, b, args_b), (case_a, a, args_a)):
        outcome = judge(impl.call(args), problem)
        if outcome.status != OK:
            _fail(
                impl,
                check,
                case,
                "each prepared problem to keep its own answer after another was prepared "
                f"(the first call on {case_a.label} agreed)",
                f"{outcome.kind}: {outcome.message}",
            )


#: Words by which an error names an input's memory layout: such an error passes
#: ``check_input_layouts``, as a refusal the user can act on.
LAYOUT_WORDS = ("contiguous", "fortran", "c order", "c-order", "layout", "stride", "order=")


def _strided(a: np.ndarray) -> np.ndarray:
    """``a``'s values in a non-contiguous view: every other element along its last axis of
    an array twice as wide, as ``data[:, ::2]`` gives."""
    wide = np.zeros((*a.shape[:-1], 2 * a.shape[-1]), dtype=a.dtype)
    wide[..., ::2] = a
    return wide[..., ::2]


def _layouts(problem: Problem) -> dict[str, Problem]:
    """``problem`` with the same values in the layouts a user's slices have."""
    return {
        "X in Fortran order (np.asfortranarray)": replace(problem, X=np.asfortranarray(problem.X)),
        "X a strided view (X[:, ::2] of a wider array)": replace(problem, X=_strided(problem.X)),
        "Y, W and b strided views ([..., ::2] of wider arrays)": replace(
            problem, Y=_strided(problem.Y), W=_strided(problem.W), b=_strided(problem.b)
        ),
    }


def _layout_failure(impl: Implementation, problem: Problem) -> str:
    """Why ``impl`` (prepared, then called) fails on ``problem``'s layout: '' when it agrees
    with the reference or raises an error that names the layout."""
    try:
        out = impl.call(impl.prepare_args(*problem.args))
    except Exception as exc:
        if any(word in str(exc).lower() for word in LAYOUT_WORDS):
            return ""
        return f"it raised {type(exc).__name__}: {exc} (an error that does not name the layout)"
    outcome = judge(out, problem, terms=impl.terms)
    return "" if outcome.status == OK else f"{outcome.kind}: {outcome.message}"


def check_input_layouts(impl: Implementation) -> None:
    """Inputs that are not C-contiguous — X in Fortran order, strided views such as
    ``X[:, ::2]`` — give the reference gradient, or an error that names the layout (one with
    "contiguous", "Fortran", "stride", ...): users pass slices of their data. More rows
    than a fused kernel's few-rows path, so its main loop sees them too."""
    check = "check_input_layouts"
    shapes = ((300, 5, 1), (300, 5, 2))
    cases = [
        _single(impl, c) for dt in ("float64", "float32") for c in _cases(impl, dt, 1.5, shapes)
    ]
    for case in _applicable(impl, check, cases):
        for layout, problem in _layouts(case.problem()).items():
            got = _layout_failure(impl, problem)
            if got:
                _fail(
                    impl,
                    check,
                    case,
                    f"with {layout}: agreement with the reference within "
                    f"{TOLERANCE[np.dtype(case.dtype)]:.0e}, or an error that names the layout",
                    got,
                )


def check_with_params(impl: Implementation) -> None:
    """Where the implementation has ``with_params``: prepared arguments moved to a new point
    give the gradient at that point, and the arguments moved from still give theirs (it
    must not change them in place). Without ``with_params`` the check does not apply."""
    if impl.prepare is None or impl.with_params is None:
        raise NotApplicable(f"{impl.name}: check_with_params does not apply: it has no with_params")
    for case in _applicable(impl, "check_with_params", _cases(impl) + _cases(impl, "float32")):
        start = case.problem()
        moved = replace(
            start,
            W=(0.25 - 0.5 * start.W).astype(start.dtype),
            b=(start.b + 0.75).astype(start.dtype),
        )
        args = impl.prepare_args(*start.args)
        before = (moved.W.copy(), moved.b.copy())
        for problem, at in ((moved, impl.args_at(args, *moved.args)), (start, args)):
            outcome = judge(impl.call(at), problem)
            if outcome.status != OK:
                where = "the new point" if problem is moved else "the point prepared first"
                _fail(
                    impl,
                    "check_with_params",
                    case,
                    f"the reference gradient at {where}",
                    f"{outcome.kind}: {outcome.message}",
                )
        if not all(np.array_equal(a, b) for a, b in zip(before, (moved.W, moved.b), strict=True)):
            _fail(impl, "check_with_params", case, "W and b unchanged", "with_params modified them")


def check_no_classic_slip(impl: Implementation) -> None:
    """None of the classic derivation slips (missing or halved λ/m, regularized bias, missing
    1/m, transposed W, a flipped sign, a forgotten sigmoid) on cases built to expose them."""
    cases = [_case(impl, 12, 3, 3, lam=6.0, seed=21), _case(impl, 40, 5, 1, lam=20.0, seed=22)]
    for case in _applicable(impl, "check_no_classic_slip", cases):
        outcome = evaluate(impl, case.problem())
        if outcome.status != OK:  # a disagreement's message names the slip it looks like
            _fail(impl, "check_no_classic_slip", case, "the reference gradient", outcome.message)


#: Every check, by name, in the order they run.
CHECKS: dict[str, Check] = {
    fn.__name__: fn
    for fn in (
        check_output_shapes_and_dtypes,
        check_agrees_float64,
        check_agrees_float32,
        check_single_output,
        check_multi_output,
        check_unregularized,
        check_regularized,
        check_single_sample,
        check_single_feature,
        check_inputs_unchanged,
        check_deterministic,
        check_prepare_again,
        check_input_layouts,
        check_with_params,
        check_no_classic_slip,
    )
}


@dataclass(frozen=True)
class CheckResult:
    implementation: str
    check: str
    passed: bool
    message: str = ""
    skipped: bool = False  # the check does not apply (the message says why)

    def __str__(self) -> str:
        mark = "SKIP" if self.skipped else "PASS" if self.passed else "FAIL"
        return f"{mark}  {self.check}" + (f"\n      {self.message}" if self.message else "")


class ConformanceReport(list):
    """The results of every check for one implementation; ``passed`` if every check that
    applies passed."""

    @property
    def passed(self) -> bool:
        return all(r.passed or r.skipped for r in self)

    def __str__(self) -> str:
        head = f"{self[0].implementation}: " if self else ""
        count = sum(r.passed for r in self)
        skipped = sum(r.skipped for r in self)
        if skipped:
            tally = f"{count}/{len(self) - skipped} applicable checks passed, {skipped} skipped"
        else:
            tally = f"{count}/{len(self)} checks passed"
        return "\n".join([f"{head}{tally}", *map(str, self)])


def check_implementation(
    impl: Implementation | Callable, checks: Sequence[str] | None = None
) -> ConformanceReport:
    """Run every check (or those named) on ``impl`` and report each one's result; a plain
    function is read as ``--plugin`` reads it (gradrace's convention or the course's)."""
    if not isinstance(impl, Implementation):
        from gradrace.bench.registry import as_implementation

        name = getattr(impl, "__name__", "")
        impl = as_implementation(impl, name or "the function", f"check_implementation({name})")
    report = ConformanceReport()
    for version in versions(impl):
        for name in checks or CHECKS:
            report.append(_run(version, name))
    return report


def versions(impl: Implementation) -> list[Implementation]:
    """``impl``'s version for each problem it declares, in the order of PROBLEMS."""
    return [impl.for_problem(p) for p in impl.problems]


def check_label(name: str, version: Implementation) -> str:
    """A check's name, with the version's problem when it is not linear."""
    return name if version.problem == "linear" else f"{name}[{version.problem}]"


def _run(version: Implementation, name: str) -> CheckResult:
    label = check_label(name, version)
    try:
        CHECKS[name](version)
        return CheckResult(version.name, label, True)
    except NotApplicable as skip:
        return CheckResult(version.name, label, False, str(skip), skipped=True)
    except Exception as exc:
        message = (
            str(exc)
            if isinstance(exc, AssertionError)
            else f"{version.name}: {label} raised {type(exc).__name__}: {exc}"
        )
        return CheckResult(version.name, label, False, message)


def _skipping(check: Check) -> Check:
    """``check`` calling ``pytest.skip`` where it does not apply (what a test runs)."""

    @functools.wraps(check)
    def run(impl: Implementation) -> None:
        import pytest

        try:
            check(impl)
        except NotApplicable as skip:
            pytest.skip(str(skip))

    return run


def _param_id(version: Implementation, name: str) -> str:
    if version.problem == "linear":
        return f"{version.name}-{name}"
    return f"{version.name}-{version.problem}-{name}"


def parametrize_with_checks(implementations: Iterable[Implementation]):
    """A ``pytest.mark.parametrize`` over (implementation, check): one test per pair, for
    each problem an implementation declares (``implementation`` is then that problem's
    version; the id names the problem when it is not linear); a check that does not apply
    to an implementation is skipped, saying why."""
    import pytest

    params = [
        pytest.param(version, _skipping(check), id=_param_id(version, name))
        for impl in implementations
        for version in versions(impl)
        for name, check in CHECKS.items()
    ]
    return pytest.mark.parametrize(("implementation", "check"), params)
