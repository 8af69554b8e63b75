"""The agreement check: does an implementation compute the same gradient as the reference?

dW and db are compared with the float64 reference by normwise relative error,
‖x − x_ref‖ / ‖x_ref‖, against a tolerance per dtype (``TOLERANCE``). A
disagreement names the part that is wrong and, where the output matches one of the
classic derivation slips (``SLIPS``), names the slip.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradrace.bench.implementation import Implementation
from gradrace.bench.problem import Problem
from gradrace.bench.reference import reference_gradient
from gradrace.bench.status import DISAGREES, ERROR, OK, Status

#: Normwise relative error allowed per input dtype. The rounding error of the gradient's
#: sums over m samples is bounded by about m·eps and typically far smaller (blocked or
#: pairwise sums, BLAS): float64 stays under 1e-9 at every size gradrace runs, while every
#: classic slip on the check cases (where λ/m ≥ 0.25) errs by 10⁻² or more. float32 is
#: held to 1e-3: met by every built-in on the default grid, but a naive float32 running
#: sum over 10⁶ samples or more can exceed it — a real loss of accuracy, reported as a
#: disagreement whose diagnosis names float32 accumulation rather than a formula slip.
TOLERANCE: dict[np.dtype, float] = {np.dtype(np.float64): 1e-8, np.dtype(np.float32): 1e-3}


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


def _no_regularization(p):
    X, Y, W, b, lam, m = _slip_parts(p)
    r = X @ W + b - Y  # (m, k)
    return X.T @ r / m, r.mean(axis=0)


def _half_lambda(p):
    X, Y, W, b, lam, m = _slip_parts(p)
    r = X @ W + b - Y  # (m, k)
    return X.T @ r / m + lam / (2 * m) * W, r.mean(axis=0)


def _bias_regularized(p):
    X, Y, W, b, lam, m = _slip_parts(p)
    r = X @ W + b - Y  # (m, k)
    return X.T @ r / m + lam / m * W, r.mean(axis=0) + lam / m * b


def _no_one_over_m(p):
    X, Y, W, b, lam, m = _slip_parts(p)
    r = X @ W + b - Y  # (m, k)
    return X.T @ r + lam * W, r.sum(axis=0)


def _no_one_over_m_data(p):
    X, Y, W, b, lam, m = _slip_parts(p)
    r = X @ W + b - Y  # (m, k)
    return X.T @ r + lam / m * W, r.sum(axis=0)


def _dW_transposed(p):
    dW, db = reference_gradient(*p.args)
    return dW.T, db


def _W_transposed_in_prediction(p):
    X, Y, W, b, lam, m = _slip_parts(p)
    r = X @ W.T + b - Y  # (m, k)  only defined when n == k
    return X.T @ r / m + lam / m * W, r.mean(axis=0)


#: name -> (wrong gradient, whether it is defined for a problem)
SLIPS: dict[str, tuple[Callable, Callable[[Problem], bool]]] = {
    "regularization term missing": (_no_regularization, lambda p: p.lam > 0),
    "λ/(2m) instead of λ/m in the regularization term": (_half_lambda, lambda p: p.lam > 0),
    "bias regularized": (_bias_regularized, lambda p: p.lam > 0),
    "1/m factor missing": (_no_one_over_m, lambda p: p.m > 1),
    "1/m factor missing from the data term": (_no_one_over_m_data, lambda p: p.m > 1),
    "dW transposed": (_dW_transposed, lambda p: p.n == p.k),
    "transpose of W used in the prediction": (_W_transposed_in_prediction, lambda p: p.n == p.k),
}


FLOAT32_ACCUMULATION = "float32 accumulation error (within m·ε of a float32 running sum)"


def diagnose(dW, db, problem: Problem, error: float = float("nan")) -> str:
    """Name the classic slip that ``(dW, db)`` matches on ``problem``, or float32
    accumulation when no slip matches and the error is within a float32 sum's bound."""
    tol = TOLERANCE[problem.dtype]
    for name, (slip, applies) in SLIPS.items():
        if not applies(problem):
            continue
        sdW, sdb = slip(problem)
        if relative_error(dW, sdW) <= tol and relative_error(db, sdb) <= tol:
            return name
    if problem.dtype == np.float32 and error <= problem.m * np.finfo(np.float32).eps:
        return FLOAT32_ACCUMULATION
    return ""


# -- Judging one output -----------------------------------------------------------------


def _contract_violation(out, problem: Problem) -> Outcome | None:
    n, k, dtype = problem.n, problem.k, problem.dtype
    if not isinstance(out, tuple | list) or len(out) != 2:
        return failure(
            "wrong-type", f"gradient must return a pair (dW, db), got {type(out).__name__}"
        )
    for name, a, shape in (("dW", out[0], (n, k)), ("db", out[1], (k,))):
        if not isinstance(a, np.ndarray):
            return failure("wrong-type", f"{name} must be a numpy array, got {type(a).__name__}")
        if a.shape != shape:
            hint = " (it looks transposed)" if name == "dW" and a.shape == (k, n) else ""
            return failure("wrong-shape", f"{name} has shape {a.shape}, expected {shape}{hint}")
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


def judge(out, problem: Problem, reference: tuple[np.ndarray, np.ndarray] | None = None) -> Outcome:
    """Compare an implementation's output with the reference gradient of ``problem``."""
    violation = _contract_violation(out, problem)
    if violation is not None:
        return violation
    dW, db = out
    ref_dW, ref_db = reference if reference is not None else reference_gradient(*problem.args)
    tol = TOLERANCE[problem.dtype]
    err_dW, err_db = relative_error(dW, ref_dW), relative_error(db, ref_db)
    if err_dW <= tol and err_db <= tol:
        return Outcome(OK, "agrees", "", err_dW, err_db)
    wrong = [
        f"{part} wrong (relative error {err:.1e})"
        for part, err in (("dW", err_dW), ("db", err_db))
        if err > tol
    ]
    right = [f"{part} agrees" for part, err in (("dW", err_dW), ("db", err_db)) if err <= tol]
    slip = diagnose(dW, db, problem, max(err_dW, err_db))
    message = "; ".join(wrong + right) + f" (tolerance {tol:.0e})"
    if slip:
        message += f"; looks like: {slip}"
    return Outcome(DISAGREES, "disagrees", message, err_dW, err_db, slip)


# -- Calling an implementation safely ----------------------------------------------------


def snapshot(obj):
    """A deep copy of prepared arguments, to tell later whether a call modified them."""
    return copy.deepcopy(obj)


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


def describe_exception(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class Checked:
    """An implementation prepared and called once: the verdict, its arguments, prepare time."""

    outcome: Outcome
    args: tuple | None = None  # the prepared arguments, when the call could be judged
    prepare_s: float | None = None


def _restore(originals: tuple, saved: tuple) -> None:
    """Put back input arrays a misbehaving call wrote into, for the implementations after it."""
    for a, s in zip(originals, saved, strict=True):
        if isinstance(a, np.ndarray):
            np.copyto(a, s)


def prepare_and_check(
    impl: Implementation,
    problem: Problem,
    reference=None,
    report: Callable[..., None] | None = None,
) -> Checked:
    """Prepare ``impl`` (timed), call it once and judge the result, never raising.

    The inputs and the prepared arguments are compared before and after the call: a
    call that modified either is an error, and the problem's arrays are restored.
    """
    report = report or (lambda *event: None)
    originals = problem.args
    before = snapshot(originals)
    report("phase", impl.name, "prepare")
    t0 = time.perf_counter()
    try:
        args = impl.prepare_args(*originals)
    except Exception as exc:
        return Checked(failure("raised", f"prepare raised {describe_exception(exc)}"))
    prepare_s = time.perf_counter() - t0
    prepared = snapshot(args)
    report("phase", impl.name, "check")
    try:
        out = impl.call(args)
    except Exception as exc:
        return Checked(
            failure("raised", f"gradient raised {describe_exception(exc)}"), None, prepare_s
        )
    if not same(before, originals) or not same(prepared, args):
        _restore(originals, before)
        return Checked(
            failure("modified-input", "the call modified its input arrays"), None, prepare_s
        )
    return Checked(judge(out, problem, reference), args, prepare_s)


def evaluate(impl: Implementation, problem: Problem, reference=None) -> Outcome:
    """Prepare and call ``impl`` once on ``problem`` and judge the result, never raising."""
    return prepare_and_check(impl, problem, reference).outcome
