"""The plugin contract: an implementation is data, not a subclass.

    Implementation(name, gradient, prepare=None, description="", with_params=None)

``gradient(*args) -> (dW, db)`` is the timed call. ``args`` is what the untimed
``prepare(X, Y, W, b, lam)`` returns (layout changes, JIT compilation, device
transfer), or ``(X, Y, W, b, lam)`` itself when there is no ``prepare``. ``dW`` must
have shape (n, k) and ``db`` shape (k,), both in the input dtype; inputs must not
be modified.

``with_params(args, W, b) -> args`` is optional, and only for an implementation with a
``prepare``: new arguments for a new point (W, b) on the same data, reusing what
``prepare`` made of X and Y, and leaving ``args``, W and b unchanged (the earlier
arguments must still give the gradient at their point). A descent loop
(``gradrace fit``) calls it every step instead of preparing the data again, which is
what an implementation like ``gram`` (XᵀX once, then O(n²k) per step) is for.

``unpack(out, args) -> (dW, db)`` is optional: it turns what ``gradient`` returned on
``args`` into the pair gradrace judges, outside the timed call (a learner's function
returning ``(dj_db, dj_dw)`` as a number and a 1-D array is timed as written, then
unpacked into the input dtype, which it reads from ``args``).

``terms`` is optional: the words messages use for dW, db, W, λ … (a learner's function
is told "dj_dw wrong", "lambda_/(2*m) instead of lambda_/m", in its own names).

Arguments that ``prepare`` creates beyond X, Y, W, b (scratch buffers, ``out=`` arrays,
locks) may be written by ``gradient``; X, Y, W and b themselves must not be.

Traits travel with the implementation, so a plugin gets everything a built-in gets:
``cost`` (what one call costs by construction, for the report's model), ``precomputes``
(what ``prepare`` computes from X, which takes the implementation out of rankings) and
``max_outputs`` (the largest k it handles; larger cases are shown as not applicable).

``problem`` says which gradient ``gradient`` computes: ``"linear"`` (ridge regression,
the default) or ``"logistic"`` (regularized logistic regression, a sigmoid inside).
``also`` holds the same technique for other problems, under the same name: the
registry files one entry per name and ``for_problem`` picks the version a case needs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gradrace.bench.problem import PROBLEMS

GradientFn = Callable[..., Any]
PrepareFn = Callable[..., tuple]
WithParamsFn = Callable[[tuple, Any, Any], tuple]
UnpackFn = Callable[[Any, tuple], tuple[Any, Any]]
Sizes = Callable[[float, float, float], float]  # (m, n, k) -> a count

#: A name: letters, digits and . _ + -, and at most one version suffix ``@old``, which
#: ``--plugin file.py:ATTR@old`` adds to time two versions of one implementation side by side.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*(@[A-Za-z0-9][A-Za-z0-9_.+-]*)?")
#: The longest name: it heads table columns, plot legends and file names.
MAX_NAME = 80


def matvec_flops(m: float, n: float, k: float) -> float:
    """The flops of a direct gradient: X @ W and Xᵀ @ residual (2·m·n·k each), plus m·k."""
    return 4 * m * n * k + 4 * m * k


def one_pass(m: float, n: float, k: float) -> float:
    """Elements moved by a gradient that reads X once: X, Y and the (m, k) residual."""
    return m * n + 3 * m * k


def x_and_y(m: float, n: float, k: float) -> float:
    """Elements read by a fused gradient: X and Y once, nothing of m rows written (its
    residuals live in registers or a small tile)."""
    return m * n + m * k


def two_passes(m: float, n: float, k: float) -> float:
    """Elements moved by two BLAS products: X twice, and the (m, k) temporaries of
    X @ W, + b, − Y and the sum over the residual."""
    return 2 * m * n + 8 * m * k


def x_twice(m: float, n: float, k: float) -> float:
    """Elements of X read by two passes over it (its temporaries declared apart)."""
    return 2 * m * n


def elementwise(per_sample: int) -> Sizes:
    """``per_sample`` elements moved per sample and output: the (m, k) temporaries of
    numpy's elementwise steps (``serial_elements``)."""
    return lambda m, n, k: per_sample * m * k


@dataclass(frozen=True)
class Term:
    """A cost the model cannot derive from bytes or flops (the interpreter, a per-sample
    loop): its unit in words and its count per call; the time per unit is fitted."""

    unit: str
    count: Callable[[float, float, float, int], float]  # (m, n, k, itemsize) -> units
    #: The units are shared among the cores when the call runs on all of them (a parallel
    #: kernel's own loops); False: they run one after another whatever the call does.
    shared: bool = False
    #: The units are bytes streamed as the read timed beside the call streams X and Y (from
    #: cache or memory alike): the model fits their time as a multiple of that read's.
    streamed: bool = False


def on_every_core(term: Term) -> Term:
    """``term`` for code that splits its units among the cores when it runs in parallel."""
    return dataclasses.replace(term, unit=f"{term.unit}, shared by the cores", shared=True)


def per_parallel_launch(min_work: float) -> Term:
    """One unit per call that runs in parallel (from m·n·k ≥ ``min_work``): waking the
    threads and waiting for the last, a fixed cost the serial calls do not pay."""
    return Term(
        "per parallel launch (threads woken and joined)",
        lambda m, n, k, s: 1.0 if m * n * k >= min_work else 0.0,
    )


#: Terms most implementations that need one use.
PER_ELEMENT = Term("per multiply-add (m·n·k)", lambda m, n, k, s: m * n * k)
PER_ROW = Term("per sample and output (m·k)", lambda m, n, k, s: m * k)
#: Work once per weight and output, whatever m: a final loop over the weights, packing lists.
PER_FEATURE = Term("per feature and output (n·k)", lambda m, n, k, s: n * k)
#: The exp of a logistic gradient's sigmoid, once per sample and output: for small n it,
#: not the read of X, bounds the time.
PER_SIGMOID = Term("per sigmoid (m·k)", lambda m, n, k, s: m * k)


@dataclass(frozen=True)
class Cost:
    """What one gradient call costs by construction, before anything is measured.

    The words go into the report's *why* table; ``elements`` (read or written from
    memory) and ``flop_count`` drive its model: the time is at least bytes ÷ bandwidth
    and flops ÷ peak, on every core when ``parallel`` (and m·n·k ≥ ``serial_below``).
    ``serial_elements`` are moved one step after another on one core (numpy's elementwise
    steps, even between BLAS products on every core): the model adds their time at one
    core's share of the bandwidth, after the rest.
    """

    passes: str  # passes over X, in words
    temporaries: str  # arrays allocated per call, in words
    flops: str  # the arithmetic, in words
    overhead: str  # the fixed per-call cost, in words
    elements: Sizes = one_pass
    flop_count: Sizes = matvec_flops
    parallel: bool = False
    fitted: tuple[Term, ...] = ()
    expected: str = "m¹ n¹"  # how time should grow once the overhead is small
    serial_below: float = 0.0
    serial_elements: Sizes | None = None

    def at(self, m: int, n: int, k: int, itemsize: int) -> dict:
        """The counts of one call on a case, as plain numbers (what a results file keeps)."""
        return {
            "bytes": float(self.elements(m, n, k)) * itemsize,
            "serial_bytes": float(self.serial_elements(m, n, k) if self.serial_elements else 0)
            * itemsize,
            "flops": float(self.flop_count(m, n, k)),
            "parallel": bool(self.parallel and m * n * k >= self.serial_below),
            "terms": {t.unit: float(t.count(m, n, k, itemsize)) for t in self.fitted},
            "shared_terms": [t.unit for t in self.fitted if t.shared],
            "streamed_terms": [t.unit for t in self.fitted if t.streamed],
        }

    def words(self) -> dict:
        return {
            "passes": self.passes,
            "temporaries": self.temporaries,
            "flops": self.flops,
            "overhead": self.overhead,
            "parallel": self.parallel,
            "expected": self.expected,
        }


@dataclass(frozen=True)
class Terms:
    """The words messages use for the problem's parts, so that a diagnosis speaks its
    author's language (the course's ``dj_dw``, ``w``, ``lambda_``) rather than gradrace's."""

    dW: str = "dW"
    db: str = "db"
    X: str = "X"
    Y: str = "Y"
    W: str = "W"
    b: str = "b"
    lam: str = "λ"
    bias: str = "bias"  # the bias in prose ("bias regularized")
    mul: str = ""  # how a product is written: "" (2m) or "*" (2*m)


@dataclass(frozen=True)
class Implementation:
    """One way of computing the ridge gradient, as gradrace checks and times it."""

    name: str
    gradient: GradientFn
    prepare: PrepareFn | None = None
    description: str = ""
    with_params: WithParamsFn | None = None
    unpack: UnpackFn | None = None
    cost: Cost | None = None
    precomputes: str = ""  # what prepare computes from X, in words ('' for none)
    max_outputs: int | None = None  # the largest k handled (None: any)
    terms: Terms | None = None  # the words of messages (None: gradrace's)
    problem: str = "linear"  # the gradient ``gradient`` computes: one of PROBLEMS
    also: tuple[Implementation, ...] = ()  # the same technique for other problems

    def __post_init__(self) -> None:
        name = self.name
        if not isinstance(name, str) or not _NAME.fullmatch(name) or len(name) > MAX_NAME:
            shown = repr(name) if len(repr(name)) <= MAX_NAME + 2 else repr(name)[:40] + "…"
            raise ValueError(
                f"implementation name {shown} must be a non-empty string of at most "
                f"{MAX_NAME} letters, digits and . _ + -, with at most one version suffix "
                "such as @old (it is used on the command line and in file names)"
            )
        if not callable(self.gradient):
            raise TypeError(f"implementation {self.name!r}: gradient must be callable")
        for hook in ("prepare", "with_params", "unpack"):
            if getattr(self, hook) is not None and not callable(getattr(self, hook)):
                raise TypeError(f"implementation {self.name!r}: {hook} must be callable or None")
        if self.with_params is not None and self.prepare is None:
            raise TypeError(
                f"implementation {self.name!r}: with_params moves what prepare made, "
                "so it needs a prepare"
            )
        if self.terms is not None and not isinstance(self.terms, Terms):
            raise TypeError(f"implementation {self.name!r}: terms must be a gradrace Terms or None")
        if self.cost is not None and not isinstance(self.cost, Cost):
            raise TypeError(f"implementation {self.name!r}: cost must be a gradrace.Cost or None")
        if self.max_outputs is not None and (
            not isinstance(self.max_outputs, int) or self.max_outputs < 1
        ):
            raise ValueError(f"implementation {self.name!r}: max_outputs must be an int ≥ 1")
        self._check_problems()

    def _check_problems(self) -> None:
        if self.problem not in PROBLEMS:
            raise ValueError(
                f"implementation {self.name!r}: problem {self.problem!r} is not one of "
                f"{', '.join(PROBLEMS)}"
            )
        seen = {self.problem}
        for other in self.also:
            if not isinstance(other, Implementation) or other.name != self.name or other.also:
                raise TypeError(
                    f"implementation {self.name!r}: also must hold Implementations named "
                    f"{self.name!r} for other problems, each without an also of its own"
                )
            if other.problem in seen:
                raise ValueError(
                    f"implementation {self.name!r}: two versions for problem {other.problem!r}"
                )
            seen.add(other.problem)

    @property
    def problems(self) -> tuple[str, ...]:
        """The problems this implementation computes, in the order of PROBLEMS."""
        mine = {self.problem, *(other.problem for other in self.also)}
        return tuple(p for p in PROBLEMS if p in mine)

    def for_problem(self, problem: str) -> Implementation | None:
        """The version of this implementation for ``problem`` (None when it has none)."""
        for version in (self, *self.also):
            if version.problem == problem:
                return version
        return None

    def applies_to(self, problem: str, k: int) -> str:
        """Why this implementation does not handle a case of ``problem`` with ``k`` outputs
        ('' when it does): it has no version for the problem, or that version's ``applies``."""
        version = self.for_problem(problem)
        if version is None:
            return f"implements {' and '.join(self.problems)} only; it has no {problem} version"
        return version.applies(k)

    def applies(self, k: int) -> str:
        """Why this implementation does not handle ``k`` outputs ('' when it does)."""
        if self.max_outputs is not None and k > self.max_outputs:
            return f"handles at most k={self.max_outputs} output(s); this case has k={k}"
        return ""

    def call(self, args: tuple) -> tuple[Any, Any]:
        """The timed call on prepared ``args``, then ``unpack`` (untimed when timing)."""
        out = self.gradient(*args)
        return out if self.unpack is None else self.unpack(out, args)

    def prepare_args(self, X, Y, W, b, lam) -> tuple:
        """The arguments of the timed ``gradient`` call, made by the untimed ``prepare``."""
        if self.prepare is None:
            return (X, Y, W, b, lam)
        return self._tuple("prepare", self.prepare(X, Y, W, b, lam))

    def args_at(self, args: tuple, X, Y, W, b, lam) -> tuple:
        """The arguments of ``gradient`` at a new point (W, b) on the data ``args`` were
        prepared from: ``with_params`` where there is one, else ``prepare`` again."""
        if self.prepare is None:
            return (X, Y, W, b, lam)
        if self.with_params is None:
            return self.prepare_args(X, Y, W, b, lam)
        return self._tuple("with_params", self.with_params(args, W, b))

    def _tuple(self, hook: str, args) -> tuple:
        if not isinstance(args, tuple):
            raise TypeError(
                f"implementation {self.name!r}: {hook} must return a tuple of the arguments "
                f"of gradient, got {type(args).__name__}"
            )
        return args

    def compute(self, X, Y, W, b, lam) -> tuple[Any, Any]:
        """Prepare and call ``gradient`` once: the untimed convenience for users and tests."""
        return self.call(self.prepare_args(X, Y, W, b, lam))

    @classmethod
    def from_function(cls, fn: GradientFn, name: str | None = None) -> Implementation:
        """Wrap a plain ``gradient(X, Y, W, b, lam)`` function; its docstring's first line
        becomes the description."""
        doc = (fn.__doc__ or "").strip().splitlines()
        return cls(
            name=name or fn.__name__,
            gradient=fn,
            description=doc[0] if doc else "",
        )


def params_at(w_index: int, b_index: int, convert: Callable[[Any], Any] | None = None):
    """A ``with_params`` for prepared arguments that hold W at ``w_index`` and b at
    ``b_index``, as given or passed through ``convert`` (the conversion prepare applies)."""

    def with_params(args: tuple, W, b) -> tuple:
        new = list(args)
        new[w_index], new[b_index] = (W, b) if convert is None else (convert(W), convert(b))
        return tuple(new)

    return with_params
