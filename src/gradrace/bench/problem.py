"""The benchmark problem: data made like a course lab, and input validation.

``make_problem`` draws X, a generative W and b, and sets Y from them: Y = XW + b
(+ noise) for ridge (linear) regression, or labels in {0, 1} drawn with probability
σ(z) of a centred, unit-scale logit z for logistic regression. It picks a separate
random point (W, b) at which gradients are evaluated, so that the gradient there is
neither zero nor trivially (λ/m)·W.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from gradrace.bench import arguments
from gradrace.units import format_bytes

#: The gradients gradrace knows: ridge (linear) regression and regularized logistic regression.
PROBLEMS = ("linear", "logistic")

SUPPORTED_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))

#: Fraction of the available memory a problem (plus the reference's float64 work) may use.
MEMORY_FRACTION = 0.8


class ProblemTooLarge(MemoryError):
    """Raised before allocating a problem whose arrays would not fit in memory."""


@dataclass(frozen=True, eq=False)
class Problem:
    """One instance of the ridge gradient problem, at the evaluation point (W, b)."""

    X: np.ndarray  # (m, n)
    Y: np.ndarray  # (m, k)
    W: np.ndarray  # (n, k)   point at which the gradient is evaluated
    b: np.ndarray  # (k,)
    lam: float
    W_true: np.ndarray = field(repr=False)  # (n, k) generative weights
    b_true: np.ndarray = field(repr=False)  # (k,)   generative bias
    seed: int = 0
    problem: str = "linear"  # one of PROBLEMS

    @property
    def m(self) -> int:
        return self.X.shape[0]

    @property
    def n(self) -> int:
        return self.X.shape[1]

    @property
    def k(self) -> int:
        return self.Y.shape[1]

    @property
    def dtype(self) -> np.dtype:
        return self.X.dtype

    @property
    def args(self) -> tuple:
        """The arguments of ``gradient(X, Y, W, b, lam)``."""
        return self.X, self.Y, self.W, self.b, self.lam


def available_memory() -> int:
    """Bytes of memory the system can give us now (MemAvailable on Linux)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def problem_bytes(m: int, n: int, k: int = 1, dtype=np.float64) -> int:
    """Bytes needed to hold a problem and check one gradient against the float64 reference."""
    itemsize = np.dtype(dtype).itemsize
    arrays = (m * n + m * k + 2 * n * k + 2 * k) * itemsize
    # The reference works in float64: a copy of X (unless already float64) and a residual.
    reference = (0 if itemsize == 8 else m * n * 8) + 2 * m * k * 8
    return arrays + reference


def ensure_fits(nbytes: int, what: str) -> None:
    """Raise ProblemTooLarge if ``nbytes`` would not fit in the memory available now."""
    limit = int(available_memory() * MEMORY_FRACTION)
    if nbytes > limit:
        raise ProblemTooLarge(
            f"{what} needs {format_bytes(nbytes)}, but only {format_bytes(limit)} "
            f"({MEMORY_FRACTION:.0%} of the memory available) can be used; choose smaller sizes"
        )


def check_dtype(dtype) -> np.dtype:
    """Return ``dtype`` as a supported numpy dtype, or raise naming what is supported."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise ValueError(f"unknown dtype {dtype!r}; use float64 or float32") from exc
    if dt not in SUPPORTED_DTYPES:
        raise ValueError(f"dtype {dt} is not supported; use float64 or float32")
    return dt


def make_problem(
    m: int,
    n: int,
    k: int = 1,
    dtype=np.float64,
    lam: float = 1.0,
    seed: int = 0,
    noise: float = 0.0,
    problem: str = "linear",
) -> Problem:
    """Draw a reproducible problem of m samples, n features and k outputs: ridge
    regression (``problem="linear"``) or logistic regression (``"logistic"``)."""
    m, n, k = (arguments.integer(name, v) for name, v in (("m", m), ("n", n), ("k", k)))
    problem = check_problem(problem)
    dt = check_dtype(dtype)
    lam = arguments.number("lam", lam, minimum=0)
    noise = arguments.number("noise", noise, minimum=0)
    seed = arguments.integer("seed", seed, minimum=0)
    ensure_fits(problem_bytes(m, n, k, dt), f"a problem with m={m:,}, n={n:,}, k={k}, {dt}")

    rng = np.random.default_rng(seed)
    X = rng.random((m, n), dtype=np.float64)  # (m, n) features in [0, 1)
    W_true = rng.standard_normal((n, k))  # (n, k)
    b_true = rng.standard_normal(k)  # (k,)
    logistic = problem == "logistic"
    Y = _labels(rng, X, W_true, b_true) if logistic else X @ W_true + b_true  # (m, k)
    if noise and not logistic:
        Y += noise * rng.standard_normal((m, k))  # (m, k)
    W = rng.standard_normal((n, k))  # (n, k) evaluation point, away from the optimum
    if logistic:
        W *= _logit_scale(n)  # (n, k) logits of order 1, so σ is not saturated
    b = rng.standard_normal(k)  # (k,)
    cast = lambda a: np.ascontiguousarray(a, dtype=dt)  # noqa: E731
    return Problem(
        cast(X), cast(Y), cast(W), cast(b), float(lam), cast(W_true), cast(b_true), seed, problem
    )


def _logit_scale(n: int) -> float:
    """Scales weights so that a logit over n features in [0, 1) has a spread of about 1."""
    return float(np.sqrt(12.0 / n))


def _labels(rng: np.random.Generator, X: np.ndarray, W_true: np.ndarray, b_true: np.ndarray):
    """Labels in {0, 1} drawn with probability σ(z), z a centred logit of unit scale."""
    z = (X - 0.5) @ W_true * _logit_scale(X.shape[1]) + b_true  # (m, k)
    p = 0.5 * (1.0 + np.tanh(0.5 * z))  # (m, k) σ(z), without overflow
    return (rng.random(z.shape) < p).astype(np.float64)  # (m, k)


def check_problem(problem) -> str:
    """Return ``problem`` if gradrace knows it, or raise naming the ones it knows."""
    if problem not in PROBLEMS:
        raise ValueError(f"unknown problem {problem!r}; use one of {', '.join(PROBLEMS)}")
    return problem


def validate_inputs(X, Y, W, b, lam) -> tuple[int, int, int]:
    """Check the arguments of a gradient call; return (m, n, k) or raise naming the argument
    and the rule it breaks (m and n come from X, k from Y)."""
    for name, a, ndim in (("X", X, 2), ("Y", Y, 2), ("W", W, 2), ("b", b, 1)):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{name} must be a numpy array, got {type(a).__name__}")
        if a.ndim != ndim:
            raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
        if a.dtype not in SUPPORTED_DTYPES:
            raise TypeError(f"{name} has dtype {a.dtype}; use float64 or float32")
    _check_shapes(X, Y, W, b)
    m, n = X.shape
    k = Y.shape[1]
    dtypes = {a.dtype for a in (X, Y, W, b)}
    if len(dtypes) > 1:
        raise TypeError(f"X, Y, W and b must share one dtype, got {sorted(map(str, dtypes))}")
    for name, a in (("X", X), ("Y", Y), ("W", W), ("b", b)):
        if not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or infinity")
    arguments.number("lam", lam, minimum=0)
    return m, n, k


def _check_shapes(X, Y, W, b) -> None:
    """Raise naming the first array whose shape does not fit X (m, n) and Y (m, k)."""
    m, n = X.shape
    if m < 1 or n < 1:
        raise ValueError(f"X must have at least one row and one column, got shape {X.shape}")
    if Y.shape[0] != m:
        raise ValueError(f"Y must have m = {m} rows to match X {X.shape}; got {Y.shape}")
    k = Y.shape[1]
    if k < 1:
        raise ValueError(f"k must be at least 1: Y must have a column per output; got {Y.shape}")
    if W.shape != (n, k):
        raise ValueError(
            f"W must have shape (n, k) = {(n, k)} to match X {X.shape} and Y {Y.shape}; "
            f"got {W.shape}"
        )
    if b.shape != (k,):
        raise ValueError(f"b must have shape (k,) = {(k,)} to match Y {Y.shape}; got {b.shape}")
