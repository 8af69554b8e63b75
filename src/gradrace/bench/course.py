"""The course convention: a learner's gradient from Andrew Ng's ML course, run as written.

The course's regularized linear-regression lab writes

    compute_gradient_linear_reg(X, y, w, b, lambda_) -> (dj_db, dj_dw)

with X (m, n), y (m,), w (n,), b a Python float and a single output. ``course`` wraps
such a function as an ordinary ``Implementation``: ``prepare`` makes (X, Y[:, 0],
W[:, 0], float(b[0]), float(λ)), the timed call is the function itself, and ``unpack``
turns its (dj_db, dj_dw) (or (dj_dw, dj_db), the order of many public solutions) into
dW (n, 1) and db (1,) in the input dtype. It handles k = 1 only (``max_outputs``).

``adapt`` is what the registry applies to every plain function: a function whose
parameter names read like the course's (X, y, w, b, lambda_, leniently) and which does
not already return gradrace's (dW (n, k), db (k,)) is called once on a tiny problem in
the course's form, and wrapped as a course function if it returns a number and an
array of n values (n = 3, so the two tell the return order apart).

A plain function declares no problem: its name says it (``problem_of``). The course's
logistic lab writes ``compute_gradient_logistic_reg(X, y, w, b, lambda_)``, so a name
holding "logistic" or "sigmoid" is read as logistic regression; any other name as the
problem the caller gives (``--problem``, when it names one), else linear.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from gradrace.bench.explain import (
    broadcast_cause,
    describe_exception,
    describe_value,
    parameter_names,
)
from gradrace.bench.implementation import Implementation, Terms
from gradrace.bench.problem import check_problem

AUTO, COURSE, DW_FIRST, GRADRACE = "auto", "course", "course-dw-first", "gradrace"
#: The conventions a plain function can be read in (``--convention``).
CONVENTIONS = (AUTO, COURSE, DW_FIRST, GRADRACE)
DB_FIRST_ORDER, DW_FIRST_ORDER = "db-first", "dw-first"
_ORDER_OF = {COURSE: DB_FIRST_ORDER, DW_FIRST: DW_FIRST_ORDER}
_RETURNS = {DB_FIRST_ORDER: "(dj_db, dj_dw)", DW_FIRST_ORDER: "(dj_dw, dj_db)"}
_FLAG = {DB_FIRST_ORDER: COURSE, DW_FIRST_ORDER: DW_FIRST}
COURSE_NAMES = ("X", "y", "w", "b", "lambda_")
DETECTED = "from the parameter names and a trial call"

#: Whether a lower-cased parameter name reads as X, y, w, b, λ in that order.
_READS_AS: tuple[Callable[[str], bool], ...] = (
    lambda s: s.startswith("x") or s in ("features", "data"),
    lambda s: s.startswith("y") or s in ("t", "target", "targets", "labels"),
    lambda s: s.startswith("w") or s in ("theta", "weights"),
    lambda s: s.startswith("b") or s in ("bias", "intercept"),
    lambda s: s.startswith(("lam", "lmb", "lmda", "reg", "l2")),
)


#: Words in a plain function's name that say it computes the logistic gradient.
LOGISTIC_WORDS = ("logistic", "sigmoid")


def problem_of(fn: Callable, name: str = "", default: str = "linear") -> str:
    """The problem a plain function computes as far as its names say: logistic when its
    ``__name__`` or registered ``name`` holds "logistic" or "sigmoid", else ``default``."""
    names = f"{getattr(fn, '__name__', '')} {name}".lower()
    return "logistic" if any(word in names for word in LOGISTIC_WORDS) else check_problem(default)


def check_convention(convention: str) -> str:
    """``convention`` if it is one gradrace knows, else a ValueError naming them."""
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; use one of {', '.join(CONVENTIONS)}")
    return convention


def looks_like_course(fn: Callable) -> bool:
    """Whether ``fn``'s first five parameters read like the course's (X, y, w, b, lambda_)."""
    names = parameter_names(fn)
    return len(names) >= 5 and all(
        reads(name.lower()) for reads, name in zip(_READS_AS, names, strict=False)
    )


def _trial_args() -> tuple:
    """A tiny problem in gradrace's form: m = 5, n = 3, k = 1, float64, λ = 1."""
    rng = np.random.default_rng(20240601)
    X = rng.random((5, 3))  # (m, n)
    return X, rng.random((5, 1)), rng.standard_normal((3, 1)), rng.standard_normal(1), 1.0


def course_args(X, Y, W, b, lam) -> tuple:
    """gradrace's (X, Y, W, b, λ) in the course's form: (X, y, w, b, lambda_), k = 1."""
    return X, Y[:, 0], W[:, 0], float(b[0]), float(lam)


def _moved(args: tuple, W, b) -> tuple:
    """``with_params``: the course's arguments at a new point (W, b) on the same data."""
    return args[0], args[1], W[:, 0], float(b[0]), args[4]


def _size(value) -> int | None:
    """How many numbers ``value`` holds, or None when it is not numbers."""
    try:
        array = np.asarray(value)
    except Exception:
        return None
    return int(array.size) if array.dtype.kind in "fiu" else None


def _sizes(out) -> tuple[int | None, int | None] | None:
    if not isinstance(out, tuple | list) or len(out) != 2:
        return None
    return _size(out[0]), _size(out[1])


def fits_order(out, n: int, order: str) -> bool:
    """Whether ``out`` is (a number, n numbers) in ``order`` (either order when n = 1)."""
    return _sizes(out) == ((1, n) if order == DB_FIRST_ORDER else (n, 1))


def return_order(out, n: int) -> str | None:
    """'db-first' or 'dw-first' when ``out`` is a pair of a number and n ≥ 2 numbers, else None."""
    return {(1, n): DB_FIRST_ORDER, (n, 1): DW_FIRST_ORDER}.get(_sizes(out)) if n > 1 else None


def _fits_gradrace(out, n: int, k: int) -> bool:
    return (
        isinstance(out, tuple | list)
        and len(out) == 2
        and all(isinstance(a, np.ndarray) for a in out)
        and out[0].shape == (n, k)
        and out[1].shape == (k,)
    )


def trial_order(fn: Callable) -> tuple[str | None, str]:
    """Call ``fn`` once in the course's form on a tiny problem: its return order, or None
    and why not."""
    args = _trial_args()
    n = args[0].shape[1]
    try:
        out = fn(*course_args(*args))
    except Exception as exc:
        return None, f"the trial call raised {describe_exception(exc)}"
    order = return_order(out, n)
    if order is None:
        missing = " (no return statement?)" if out is None else ""
        return None, (
            f"the trial call returned {describe_value(out)}{missing}, not a number and {n} numbers"
        )
    return order, ""


@dataclass(frozen=True)
class CourseUnpack:
    """``unpack``: the course's pair, in its order, as gradrace's dW (n, 1) and db (1,)."""

    order: str
    function: str

    def __call__(self, out, args: tuple):
        X = args[0]
        n, dtype = X.shape[1], X.dtype
        if not fits_order(out, n, self.order):
            raise ValueError(self._mismatch(out, X.shape[0], n))
        dj_db, dj_dw = out if self.order == DB_FIRST_ORDER else out[::-1]
        if np.ndim(dj_dw) != 1:
            raise ValueError(
                f"dj_dw has shape {np.shape(dj_dw)}; the course's w has shape ({n},), and "
                f"w - alpha * dj_dw would become {np.shape(np.zeros(n) - np.asarray(dj_dw))}: "
                f"return dj_dw with shape ({n},), like w"
            )
        if np.ndim(dj_db) != 0:
            raise ValueError(
                f"dj_db has shape {np.shape(dj_db)}; the course's b is a number, and "
                "b - alpha * dj_db would turn it into an array: return dj_db as a number"
            )
        dW = np.asarray(dj_dw).reshape(n, 1).astype(dtype)  # (n, 1)
        db = np.asarray(dj_db).reshape(1).astype(dtype)  # (1,)
        return dW, db

    def _mismatch(self, out, m: int, n: int) -> str:
        expected = _RETURNS[self.order]
        message = (
            f"{self.function} returned {describe_value(out)}; expected {expected}: "
            f"dj_db a number and dj_dw an array of shape ({n},)"
        )
        other = return_order(out, n)
        if out is None:
            message += "; likely cause: no return statement (return dj_db, dj_dw)"
        shapes = [np.shape(part) for part in out] if isinstance(out, tuple | list) else []
        cause = broadcast_cause(shapes, m, n)
        message += f"; likely cause: {cause}" if cause else ""
        if other is not None:
            message += (
                f"; likely cause: it returns {_RETURNS[other]}, the other order (run it with "
                f"--convention {_FLAG[other]}, or gradrace.course(fn, order={other!r}))"
            )
        return message


def is_course(impl: Implementation) -> bool:
    """Whether ``impl`` is a course-convention function wrapped by ``course``."""
    return isinstance(impl.unpack, CourseUnpack)


def convention_of(impl: Implementation) -> str:
    """The convention a wrapped plain function was read in: what ``adapt`` would be told
    to get the same Implementation again without a trial call."""
    if is_course(impl):
        return COURSE if impl.unpack.order == DB_FIRST_ORDER else DW_FIRST
    return GRADRACE


def course(
    fn: Callable,
    order: str = "auto",
    name: str | None = None,
    how: str = "",
    problem: str | None = None,
) -> Implementation:
    """Wrap a course-style ``fn(X, y, w, b, lambda_)`` as an Implementation for k = 1.

    ``order`` is 'db-first' (the course's ``(dj_db, dj_dw)``), 'dw-first', or 'auto'
    to tell them apart from one trial call; ``how`` ends the description. ``problem``
    is the gradient it computes ('linear' or 'logistic'; None: from its name, see
    ``problem_of``).
    """
    problem = problem_of(fn, name or "") if problem is None else check_problem(problem)
    if order == AUTO:
        order, why = trial_order(fn)
        if order is None:
            raise ValueError(
                f"cannot tell the return order of {getattr(fn, '__name__', fn)!r}: {why}; "
                "give order='db-first' (dj_db, dj_dw) or order='dw-first' (dj_dw, dj_db)"
            )
        how = how or "from a trial call (gradrace.course)"
    if order not in _RETURNS:
        raise ValueError(f"order must be 'db-first', 'dw-first' or 'auto', got {order!r}")
    function = getattr(fn, "__name__", type(fn).__name__)
    names = parameter_names(fn)
    names = names[:5] if len(names) >= 5 else COURSE_NAMES
    X, y, w, b, lam = names
    return Implementation(
        name=name or function,
        gradient=fn,
        prepare=course_args,
        with_params=_moved,
        unpack=CourseUnpack(order, function),
        description=f"course convention ({', '.join(names)}) -> {_RETURNS[order]}: "
        + (how or f"given to gradrace.course (order={order!r})"),
        max_outputs=1,
        terms=Terms(dW="dj_dw", db="dj_db", X=X, Y=y, W=w, b=b, lam=lam, bias=b, mul="*"),
        problem=problem,
    )


def adapt(
    fn: Callable, name: str, convention: str = AUTO, how: str = "", plain_problem: str = "linear"
) -> Implementation:
    """A plain function as an Implementation, read in ``convention``: gradrace's
    ``gradient(X, Y, W, b, lam) -> (dW, db)``, the course's, or (auto) whichever it is.
    ``how`` says why a convention was given (default: forced by --convention); the
    problem comes from its name, else is ``plain_problem`` (``problem_of``)."""
    check_convention(convention)
    _takes_five(fn, name)
    problem = problem_of(fn, name, plain_problem)
    if convention in _ORDER_OF:
        how = how or f"forced by --convention {convention}"
        return course(fn, _ORDER_OF[convention], name, how, problem)
    if convention == AUTO and looks_like_course(fn):
        order, raised = _detect(fn)
        if order == DW_FIRST_ORDER:
            how = f"{DETECTED} (the course's lab returns (dj_db, dj_dw))"
            return course(fn, order, name, how, problem)
        if order is not None:
            return course(fn, order, name, DETECTED, problem)
        if raised:  # its names are the course's: read it so, and say what went wrong first
            return course(
                fn,
                DB_FIRST_ORDER,
                name,
                f"from the parameter names; {raised}: fix that first (--convention forces one)",
                problem,
            )
    return replace(Implementation.from_function(fn, name=name), problem=problem)


def _takes_five(fn: Callable, name: str) -> None:
    """Refuse, naming it, a function that cannot take the five arguments of a gradient
    (X, Y, W, b, λ): the course's unregularized ``compute_gradient(X, y, w, b)`` above all."""
    import inspect

    try:
        inspect.signature(fn).bind(*range(5))
    except ValueError:  # no signature to read (a builtin, some compiled callables): try it
        return
    except TypeError:
        names = parameter_names(fn)
        raise TypeError(
            f"{name} takes {len(names)} positional argument(s) ({', '.join(names)}), but a "
            "gradient is called with five: (X, Y, W, b, lam), or the course's (X, y, w, b, "
            "lambda_). gradrace checks the regularized gradient; for the course's "
            "unregularized compute_gradient(X, y, w, b), check compute_gradient_linear_reg "
            "(or add a lambda_ parameter and the (lambda_/m)·w term)"
        ) from None


def _detect(fn: Callable) -> tuple[str | None, str]:
    """The course return order of ``fn`` (None when it reads gradrace's arguments fine),
    and why none was found when neither convention's trial call fits ('' otherwise)."""
    args = _trial_args()
    try:
        if _fits_gradrace(fn(*args), args[0].shape[1], 1):
            return None, ""
    except Exception:
        pass
    return trial_order(fn)
