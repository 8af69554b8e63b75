"""The agreement check: does an implementation compute the same gradient as the reference?

dW and db are compared with the float64 reference by normwise relative error,
‖x − x_ref‖ / ‖x_ref‖, against a tolerance per dtype (``TOLERANCE``). A
disagreement names the part that is wrong and, where the output matches one of the
classic derivation slips (``SLIPS``), names the slip.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from types import MappingProxyType

import numpy as np

from gradrace.bench.course import is_course, looks_like_course
from gradrace.bench.explain import (
    broadcast_cause,
    describe_call,
    describe_exception,
    describe_value,
    expected_output,
    failed_broadcast,
    likely_causes,
    plain,
    safe_text,
)
from gradrace.bench.implementation import Implementation, Terms
from gradrace.bench.interrupt import PLUGIN_RAISES, pass_on_ctrl_c
from gradrace.bench.problem import Problem
from gradrace.bench.reference import reference_gradient, sigmoid
from gradrace.bench.status import DISAGREES, ERROR, NOT_APPLICABLE, OK, Status


#: Normwise relative error allowed per input dtype. The rounding error of the gradient's
#: sums over m samples is bounded by about m·eps and typically far smaller (blocked or
#: pairwise sums, BLAS): float64 stays under 1e-9 at every size gradrace runs, while every
#: classic slip on the check cases (where λ/m ≥ 0.25) errs by 10⁻² or more. float32 is
#: held to 1e-3: met by every built-in on the default grid, but a naive float32 running
#: sum over 10⁶ samples or more can exceed it — a real loss of accuracy, reported as a
#: disagreement whose diagnosis names float32 accumulation rather than a formula slip.
#: The same tolerances hold for the logistic gradient: a float32 version (two float32 BLAS
#: products and a float32 sigmoid) errs by at most 5.5e-4 on the default grid (at m = 10⁶,
#: n = 1, k = 4, where the linear one errs by 2.5e-4) and by under 1e-5 on the check cases.
def tolerance(dtype: np.dtype) -> float:
    """The tolerance the judge holds ``dtype`` to. Its values live in this function's code,
    which the guard watches (``guard.py``), so plugin code in the same process cannot
    loosen the judge without being caught, as it could a dict it reached through ``gc``."""
    return 1e-8 if np.dtype(dtype) == np.float64 else 1e-3


#: The tolerances, for display (a read-only view; the judge reads ``tolerance``).
TOLERANCE: Mapping[np.dtype, float] = MappingProxyType(
    {np.dtype(t): tolerance(np.dtype(t)) for t in (np.float64, np.float32)}
)


@dataclass(frozen=True)
class Outcome:
    """The verdict on one output: a status, a finer ``kind`` and a readable message."""

    status: Status
    kind: str  # agrees | disagrees | raised | wrong-shape | wrong-dtype | non-finite | ...
    message: str = ""
    err_dW: float = float("nan")
    err_db: float = float("nan")
    diagnosis: str = ""

    @property
    def error(self) -> float:
        """The larger of the two relative errors (NaN when there is no output)."""
        return max(self.err_dW, self.err_db)

    def row_fields(self) -> dict:
        """The verdict as the columns of a results row."""
        return {
            "status": self.status,
            "kind": self.kind,
            "error": self.error,
            "err_dW": self.err_dW,
            "err_db": self.err_db,
            "diagnosis": self.diagnosis,
            "message": self.message,
        }

    @property
    def agrees(self) -> bool:
        return self.status == OK


def failure(kind: str, message: str) -> Outcome:
    return Outcome(ERROR, kind, message)


def relative_error(x: np.ndarray, ref: np.ndarray) -> float:
    """Normwise relative error of ``x`` against ``ref``, computed in float64."""
    diff = np.linalg.norm(np.asarray(x, dtype=np.float64) - ref)
    return float(diff / max(np.linalg.norm(ref), np.finfo(np.float64).tiny))


# -- The classic slips, each a wrong gradient computed from the float64 residual ----------


def _slip_parts(problem: Problem):
    X, Y, W, b = (
        np.asarray(a, dtype=np.float64) for a in (problem.X, problem.Y, problem.W, problem.b)
    )
    return X, Y, W, b, problem.lam, problem.m


def _prediction(p: Problem, X, W, b) -> np.ndarray:
    """The model's prediction: XW + b (linear), σ(XW + b) (logistic)."""
    z = X @ W + b  # (m, k)
    return sigmoid(z) if p.problem == "logistic" else z


def _residual(p: Problem):
    X, Y, W, b, lam, m = _slip_parts(p)
    return X, W, b, lam, m, _prediction(p, X, W, b) - Y  # (m, k)


def _no_regularization(p):
    X, W, b, lam, m, r = _residual(p)
    return X.T @ r / m, r.mean(axis=0)


def _half_lambda(p):
    X, W, b, lam, m, r = _residual(p)
    return X.T @ r / m + lam / (2 * m) * W, r.mean(axis=0)


def _bias_regularized(p):
    X, W, b, lam, m, r = _residual(p)
    return X.T @ r / m + lam / m * W, r.mean(axis=0) + lam / m * b


def _no_one_over_m(p):
    X, W, b, lam, m, r = _residual(p)
    return X.T @ r + lam * W, r.sum(axis=0)


def _no_one_over_m_data(p):
    X, W, b, lam, m, r = _residual(p)
    return X.T @ r + lam / m * W, r.sum(axis=0)


def _no_one_over_m_dW(p):
    X, W, b, lam, m, r = _residual(p)
    return X.T @ r + lam / m * W, r.mean(axis=0)


def _sign_flipped(p):
    X, W, b, lam, m, r = _residual(p)
    return -X.T @ r / m + lam / m * W, -r.mean(axis=0)


def _dW_transposed(p):
    dW, db = reference_gradient(*p.args, problem=p.problem)
    return dW.T, db


def _W_transposed_in_prediction(p):
    X, Y, W, b, lam, m = _slip_parts(p)
    r = _prediction(p, X, W.T, b) - Y  # (m, k)  only defined when n == k
    return X.T @ r / m + lam / m * W, r.mean(axis=0)


def _other_problem(p):
    """The gradient of the other problem on the same data: a sigmoid forgotten in a
    logistic gradient, or a logistic gradient given where the linear one was asked for."""
    X, Y, W, b, lam, m = _slip_parts(p)
    z = X @ W + b  # (m, k)
    r = (z if _logistic(p) else sigmoid(z)) - Y  # (m, k) any Y: no label check here
    return X.T @ r / m + lam / m * W, r.mean(axis=0)


def _logistic(p: Problem) -> bool:
    return p.problem == "logistic"


SIGMOID_FORGOTTEN = "sigmoid forgotten (the linear-regression gradient)"
ONE_OVER_M_DW = "1/m factor missing from dW's data term (db has it)"
LOGISTIC_GIVEN = "this computes the logistic gradient"

#: name -> (wrong gradient, whether it is defined for a problem)
SLIPS: dict[str, tuple[Callable, Callable[[Problem], bool]]] = {
    SIGMOID_FORGOTTEN: (_other_problem, _logistic),
    LOGISTIC_GIVEN: (_other_problem, lambda p: not _logistic(p)),
    "regularization term missing": (_no_regularization, lambda p: p.lam > 0),
    "λ/(2m) instead of λ/m in the regularization term": (_half_lambda, lambda p: p.lam > 0),
    "bias regularized": (_bias_regularized, lambda p: p.lam > 0),
    "1/m factor missing": (_no_one_over_m, lambda p: p.m > 1),
    "1/m factor missing from the data term": (_no_one_over_m_data, lambda p: p.m > 1),
    ONE_OVER_M_DW: (_no_one_over_m_dW, lambda p: p.m > 1),
    "sign of the error flipped": (_sign_flipped, lambda p: True),
    "dW transposed": (_dW_transposed, lambda p: p.n == p.k),
    "transpose of W used in the prediction": (_W_transposed_in_prediction, lambda p: p.n == p.k),
}


#: How each slip is said in an implementation's own ``Terms`` (gradrace's give the names).
SLIP_WORDS: dict[str, str] = {
    SIGMOID_FORGOTTEN: "sigmoid forgotten: the error is {X}{W} + {b} − {Y} (linear "
    "regression's) instead of sigmoid({X}{W} + {b}) − {Y}",
    "λ/(2m) instead of λ/m in the regularization term": "{lam}/(2{mul}m) instead of {lam}/m in the regularization term",
    "bias regularized": "{bias} regularized",
    ONE_OVER_M_DW: "1/m factor missing from {dW}'s data term ({db} has it)",
    "sign of the error flipped": "sign of the error flipped: {Y} − prediction instead of "
    "prediction − {Y}",
    "dW transposed": "{dW} transposed",
    "transpose of W used in the prediction": "transpose of {W} used in the prediction",
}


def slip_words(slip: str, terms: Terms | None = None) -> str:
    """The slip named ``slip`` in the words of ``terms`` (gradrace's by default)."""
    return SLIP_WORDS.get(slip, slip).format(**asdict(terms or Terms()))


#: What to do about a slip that is a problem mix-up rather than a formula slip.
SLIP_HINTS: dict[str, str] = {
    SIGMOID_FORGOTTEN: "this computes the linear-regression gradient: add the sigmoid, or "
    "run it as linear (--problem linear, or declare problem='linear')",
    LOGISTIC_GIVEN: "use --problem logistic (or declare problem='logistic', or "
    "gradrace.course(fn, problem='logistic'))",
}


FLOAT32_ACCUMULATION = "float32 accumulation error (within m·ε of a float32 running sum)"


def diagnose(
    dW, db, problem: Problem, error: float = float("nan"), terms: Terms | None = None
) -> str:
    """Name the classic slip that ``(dW, db)`` matches on ``problem`` (in ``terms``), or
    float32 accumulation when no slip matches and the error is within a float32 sum's bound."""
    tol = tolerance(problem.dtype)
    for name, (slip, applies) in SLIPS.items():
        if not applies(problem):
            continue
        sdW, sdb = slip(problem)
        if relative_error(dW, sdW) <= tol and relative_error(db, sdb) <= tol:
            return slip_words(name, terms)
    if problem.dtype == np.float32 and error <= problem.m * np.finfo(np.float32).eps:
        return FLOAT32_ACCUMULATION
    return ""


# -- Judging one output -----------------------------------------------------------------


def _plain(out):
    """``out`` with a tuple or list subclass made a plain tuple and numpy array subclasses
    made plain arrays, so that no method of the plugin's runs while it is judged (a masked
    array's hidden NaN shows; a subclass's ufuncs never run)."""
    if not isinstance(out, tuple | list):
        return out
    items = tuple.__iter__(out) if isinstance(out, tuple) else list.__iter__(out)
    return tuple(np.asarray(a) if isinstance(a, np.ndarray) else a for a in items)


def _contract_violation(out, problem: Problem) -> Outcome | None:
    n, k, dtype = problem.n, problem.k, problem.dtype
    causes = likely_causes(out, n, k)
    hint = f"; likely cause: {'; '.join(causes)}" if causes else ""
    if not isinstance(out, tuple | list) or len(out) != 2:
        return failure(
            "wrong-type", f"gradient must return a pair (dW, db), got {describe_value(out)}"
        )
    for name, a, shape in (("dW", out[0], (n, k)), ("db", out[1], (k,))):
        if not isinstance(a, np.ndarray):
            return failure(
                "wrong-type", f"{name} must be a numpy array, got {type(a).__name__}{hint}"
            )
        if a.shape != shape:
            transposed = " (it looks transposed)" if name == "dW" and a.shape == (k, n) else ""
            return failure(
                "wrong-shape", f"{name} has shape {a.shape}, expected {shape}{transposed}{hint}"
            )
        if a.dtype != dtype:
            return failure(
                "wrong-dtype", f"{name} has dtype {a.dtype}, expected the input dtype {dtype}"
            )
        bad = ~np.isfinite(a)
        if bad.any():
            return failure(
                "non-finite", f"{name} contains {int(bad.sum())} NaN or infinite value(s)"
            )
    return None


def judge(
    out,
    problem: Problem,
    reference: tuple[np.ndarray, np.ndarray] | None = None,
    terms: Terms | None = None,
) -> Outcome:
    """Compare an implementation's output with the reference gradient of ``problem``;
    a disagreement is worded in ``terms`` (gradrace's by default)."""
    try:
        out = _plain(out)
    except Exception as exc:  # a subclass that breaks when read: the plugin's fault
        return failure("wrong-type", f"its result could not be read: {plain(safe_text(exc))}")
    violation = _contract_violation(out, problem)
    if violation is not None:
        return violation
    words = terms or Terms()
    dW, db = out
    if reference is None:
        reference = reference_gradient(*problem.args, problem=problem.problem)
    ref_dW, ref_db = reference
    tol = tolerance(problem.dtype)
    err_dW, err_db = relative_error(dW, ref_dW), relative_error(db, ref_db)
    if err_dW <= tol and err_db <= tol:
        return Outcome(OK, "agrees", "", err_dW, err_db)
    parts = ((words.dW, err_dW), (words.db, err_db))
    wrong = [f"{part} wrong (relative error {err:.1e})" for part, err in parts if err > tol]
    right = [f"{part} agrees" for part, err in parts if err <= tol]
    slip = diagnose(dW, db, problem, max(err_dW, err_db), terms)
    message = "; ".join(wrong + right) + f" (tolerance {tol:.0e})"
    if slip:
        message += f"; looks like: {slip}"
    hint = next((h for name, h in SLIP_HINTS.items() if slip == slip_words(name, terms)), "")
    if hint:
        message += f"; {hint}"
    return Outcome(DISAGREES, "disagrees", message, err_dW, err_db, slip)


# -- Calling an implementation safely ----------------------------------------------------


def copy_inputs(problem: Problem) -> tuple[np.ndarray, ...]:
    """Copies of the problem's X, Y, W and b, to tell later whether a call wrote into them.

    Only these are compared: what ``prepare`` made beyond them (scratch and ``out=``
    buffers, locks, device handles) is the implementation's to write, and is never copied.
    """
    return tuple(np.array(a, copy=True) for a in (problem.X, problem.Y, problem.W, problem.b))


def written(problem: Problem, saved: tuple, terms: Terms | None = None) -> list[str]:
    """The names (in ``terms``) of the problem's arrays that differ from ``saved``."""
    words = terms or Terms()
    arrays = (problem.X, problem.Y, problem.W, problem.b)
    return [
        name
        for name, a, s in zip((words.X, words.Y, words.W, words.b), arrays, saved, strict=True)
        if not np.array_equal(a, s, equal_nan=True)
    ]


def host_array(x) -> np.ndarray | None:
    """``x`` as a numpy array if it is one of numpy's, torch's, JAX's or CuPy's, else None."""
    if isinstance(x, np.ndarray):
        return x
    library = type(x).__module__.partition(".")[0]
    if library == "torch":
        return x.detach().cpu().numpy()
    if library == "cupy":
        return x.get()
    if library in ("jax", "jaxlib"):
        return np.asarray(x)
    return None


def same(a, b) -> bool:
    """Whether two (nested) argument structures hold equal values, NaNs included.

    Arrays of numpy, torch, JAX or CuPy are compared by value on the host, so a plugin
    can hand its timed call device arrays and still be checked for modifying them.
    """
    ha, hb = host_array(a), host_array(b)
    if ha is not None or hb is not None:
        return (
            ha is not None
            and hb is not None
            and ha.shape == hb.shape
            and ha.dtype == hb.dtype
            and np.array_equal(ha, hb, equal_nan=True)
        )
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    try:
        return bool(a == b)
    except Exception:
        return a is b


@dataclass(frozen=True)
class Checked:
    """An implementation prepared and called twice: the verdict, its arguments, prepare time."""

    outcome: Outcome
    args: tuple | None = None  # the prepared arguments, when the call could be judged
    prepare_s: float | None = None


def restore(problem: Problem, saved: tuple) -> None:
    """Put back input arrays a misbehaving call wrote into, for the implementations after it."""
    for a, s in zip((problem.X, problem.Y, problem.W, problem.b), saved, strict=True):
        np.copyto(a, s)


def _raised(impl: Implementation, args: tuple, exc: Exception, when: str = "") -> Outcome:
    """The outcome of a gradient that raised: where in the user's code, and how it was called."""
    message = (
        f"gradient raised {describe_exception(exc)}{when}; {describe_call(impl.gradient, args)}"
    )
    X = args[0] if args else None
    if is_course(impl) and isinstance(X, np.ndarray) and X.ndim == 2:
        cause = broadcast_cause(failed_broadcast(exc), *X.shape)
        message += f"; likely cause: {cause}" if cause else ""
    if impl.unpack is None and looks_like_course(impl.gradient):
        message += (
            "; its parameters look like the course's (X, y, w, b, lambda_): if it returns "
            "(dj_db, dj_dw), run it with --convention course"
        )
    return failure("raised", message)


def instead_of_writing(impl: Implementation) -> str:
    """What to do instead of writing into an input: a learner's function copies it, a
    plugin writes into buffers its prepare made."""
    if is_course(impl):
        return "work on a copy instead, such as X = X.copy(), or build new arrays"
    return "write into buffers made in prepare instead"


@contextmanager
def _as_when_timed() -> Iterator[None]:
    """The garbage collector off, as ``timeit`` has it in the timed calls: a call judged
    cannot tell itself from a timed one by the collector's state."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def judge_call(
    impl: Implementation, args: tuple, problem: Problem, reference=None, saved=None, when=""
) -> Outcome:
    """Call ``impl`` once on prepared ``args`` and judge the output, never raising.

    ``saved`` (``copy_inputs``) makes a call that wrote into X, Y, W or b an error naming
    them, and puts them back."""
    try:
        with _as_when_timed():
            out = impl.gradient(*args)
    except PLUGIN_RAISES as exc:  # sys.exit in a plugin is its failure, not ours
        pass_on_ctrl_c(exc)
        return _raised(impl, args, exc, when)
    changed = written(problem, saved, impl.terms) if saved is not None else []
    if changed:
        restore(problem, saved)
        return failure(
            "modified-input",
            f"the call modified its input arrays: it wrote into "
            f"{', '.join(changed)}{when} ({instead_of_writing(impl)})",
        )
    called = describe_call(impl.gradient, args)
    if impl.unpack is not None:
        try:
            out = impl.unpack(out, args)
        except Exception as exc:
            return failure("wrong-type", f"{plain(safe_text(exc))}{when}; {called}")
    try:
        outcome = judge(out, problem, reference, impl.terms)
        if outcome.status == ERROR:
            expected = expected_output(problem.n, problem.k, problem.dtype)
            got = describe_value(out)
            outcome = replace(
                outcome, message=f"{outcome.message}{when}; {called}; {expected}, got {got}"
            )
    except Exception as exc:  # code of the returned objects raised while they were read
        reading = describe_exception(exc)
        return failure("wrong-type", f"its result raised {reading} when read{when}; {called}")
    return outcome


def changed_between_calls(later: Outcome, when: str) -> Outcome:
    """A later call's verdict after an earlier call agreed: the result changed."""
    return Outcome(
        DISAGREES,
        "changed",
        f"the result changed between calls: the first call "
        f"agreed, {when} did not: {later.kind}: {later.message}",
        later.err_dW,
        later.err_db,
        later.diagnosis,
    )


def prepare_and_check(
    impl: Implementation,
    problem: Problem,
    reference=None,
    report: Callable[..., None] | None = None,
    saved: tuple | None = None,
) -> Checked:
    """Prepare ``impl`` (timed), call it twice on the same prepared arguments and judge
    both results, never raising.

    A call that wrote into X, Y, W or b is an error, and they are restored; a second call
    that no longer agrees (a buffer never reset, state kept between calls) disagrees.
    """
    report = report or (lambda *event: None)
    saved = saved if saved is not None else copy_inputs(problem)
    report("phase", impl.name, "prepare")
    t0 = time.perf_counter()
    try:
        args = impl.prepare_args(*problem.args)
    except PLUGIN_RAISES as exc:
        pass_on_ctrl_c(exc)
        return Checked(failure("raised", f"prepare raised {describe_exception(exc)}"))
    prepare_s = time.perf_counter() - t0
    if written(problem, saved):
        restore(problem, saved)
        return Checked(failure("modified-input", "prepare modified its input arrays"))
    report("phase", impl.name, "check")
    first = judge_call(impl, args, problem, reference, saved)
    if first.status == ERROR:
        return Checked(first, None, prepare_s)
    if first.status != OK:
        return Checked(first, args, prepare_s)
    when = " on the second call on the same prepared arguments"
    second = judge_call(impl, args, problem, reference, saved, when)
    if second.status == ERROR and second.kind in ("raised", "modified-input"):
        return Checked(second, None, prepare_s)
    if second.status != OK:
        return Checked(
            changed_between_calls(second, "the second on the same arguments"), args, prepare_s
        )
    return Checked(first, args, prepare_s)


def evaluate(impl: Implementation, problem: Problem, reference=None) -> Outcome:
    """Prepare and call ``impl``'s version for ``problem``'s problem twice and judge the
    results, never raising; n/a when it has no version for that problem."""
    version = impl.for_problem(problem.problem)
    if version is None:
        return Outcome(NOT_APPLICABLE, "n/a", impl.applies_to(problem.problem, problem.k))
    return prepare_and_check(version, problem, reference).outcome
