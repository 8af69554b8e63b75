"""argparse types for gradrace's command-line options: each refuses a bad value (not a
number, infinite, NaN, out of range, an empty list) with a usage error naming the option,
before anything runs; shared by every subcommand (``cli.py``, ``fit.py``, ``report``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from gradrace.bench import arguments
from gradrace.bench.grids import parse_dtypes, parse_ints, parse_problems


def _as_usage_error(parse: Callable[[str], object], option: str) -> Callable[[str], object]:
    """Turn ``parse``'s ValueError into argparse's usage error (exit status 2)."""

    def wrapped(text: str):
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{option}: ")) from None

    wrapped.__name__ = getattr(parse, "__name__", "value")
    return wrapped


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None


def positive(kind: type = float, zero_allowed: bool = False) -> Callable[[str], object]:
    """An argparse type: a finite number of ``kind`` greater than zero (or at least zero)."""

    def parse(text: str):
        value = _float(text)
        if kind is int:
            return arguments.integer("", value, 0 if zero_allowed else 1, got=repr(text))
        bound = {"minimum": 0.0} if zero_allowed else {"above": 0.0}
        return arguments.number("", value, got=repr(text), **bound)

    return _as_usage_error(parse, "")


def finite(minimum: float | None = None, above: float | None = None) -> Callable[[str], float]:
    """An argparse type: a finite float, at least ``minimum`` or above ``above``."""

    def parse(text: str) -> float:
        return arguments.number("", _float(text), minimum=minimum, above=above, got=repr(text))

    return _as_usage_error(parse, "")


def sizes(option: str) -> Callable[[str], list[int]]:
    """An argparse type: a comma-separated, non-empty list of whole numbers ≥ 1 (1e4 allowed)."""
    return _as_usage_error(lambda text: parse_ints(text, option), option)


def size(option: str) -> Callable[[str], int]:
    """An argparse type: one whole number ≥ 1."""

    def parse(text: str) -> int:
        values = parse_ints(text, option)
        if len(values) != 1:
            raise ValueError(f"{option}: give one number, got {text!r}")
        return values[0]

    return _as_usage_error(parse, option)


def dtypes(option: str = "--dtype") -> Callable[[str], list[str]]:
    """An argparse type: a comma-separated list of float64 and float32."""
    return _as_usage_error(lambda text: parse_dtypes(text, option), option)


def dtype(option: str = "--dtype") -> Callable[[str], str]:
    """An argparse type: float64 or float32."""

    def parse(text: str) -> str:
        values = parse_dtypes(text, option)
        if len(values) != 1:
            raise ValueError(f"{option}: give one dtype, got {text!r}")
        return values[0]

    return _as_usage_error(parse, option)


def problems(option: str = "--problem") -> Callable[[str], list[str]]:
    """An argparse type: a comma-separated list of linear and logistic."""
    return _as_usage_error(lambda text: parse_problems(text, option), option)


def problem(option: str = "--problem") -> Callable[[str], str]:
    """An argparse type: linear or logistic."""

    def parse(text: str) -> str:
        values = parse_problems(text, option)
        if len(values) != 1:
            raise ValueError(f"{option}: give one problem, got {text!r}")
        return values[0]

    return _as_usage_error(parse, option)


def problem_option(
    parser: argparse.ArgumentParser,
    what: str,
    default: str | None = "linear",
    default_words: str | None = None,
) -> None:
    """``--problem``: which gradients to ``what``; names a plain function's problem too."""
    default_words = default_words or (
        "linear, ridge regression" if default else "every problem the implementations compute"
    )
    parser.add_argument(
        "--problem",
        type=problems(),
        default=default,
        metavar="PROBLEMS",
        help=f"{what}: linear (ridge regression), logistic (regularized logistic "
        f"regression), both comma-separated or 'both' (default: {default_words}); a plain "
        "function whose name holds neither 'logistic' nor 'sigmoid' is read as the one "
        "problem given (else linear)",
    )


def convention_option(parser: argparse.ArgumentParser) -> None:
    """``--convention``: how plain functions from --plugin and entry points are called."""
    from gradrace.bench.course import CONVENTIONS

    parser.add_argument(
        "--convention",
        choices=CONVENTIONS,
        default="auto",
        help="how a plain function is called: gradrace's gradient(X, Y, W, b, lam) "
        "-> (dW, db); the course's (X, y, w, b, lambda_) -> (dj_db, dj_dw) "
        "(course) or -> (dj_dw, dj_db) (course-dw-first); auto (default) "
        "tells them apart by parameter names and a trial call",
    )
