"""Checks of numeric arguments, shared by the Python API and the command line.

Each check returns the value converted (an ``int``, a ``float``, a tuple) or raises
``ValueError`` naming the argument and the rule it breaks, so that ``make_problem(m=0)``
and ``gradrace run --m 0`` are refused with the same words before anything runs.
An empty ``name`` leaves the name out (argparse puts the option in front).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable


def _refuse(name: str, rule: str, value: object, got: str | None) -> ValueError:
    shown = got if got is not None else repr(value)
    return ValueError(f"{name} {rule}, got {shown}".lstrip())


def integer(name: str, value: object, minimum: int = 1, *, got: str | None = None) -> int:
    """``value`` as an int of at least ``minimum``: a whole, finite number (``1e3`` is fine).

    ``got`` is how the value is shown in the error (the text typed, on a command line)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _refuse(name, f"must be a whole number of at least {minimum}", value, got)
    if not math.isfinite(value) or value != int(value):
        raise _refuse(name, f"must be a whole number of at least {minimum}", value, got)
    if value < minimum:
        raise _refuse(name, f"must be at least {minimum}", value, got)
    return int(value)


def number(
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    above: float | None = None,
    got: str | None = None,
) -> float:
    """``value`` as a finite float, at least ``minimum`` or strictly above ``above``."""
    if minimum is not None:
        rule = f"must be a finite number of at least {minimum:g}"
    elif above is not None:
        rule = f"must be a finite number greater than {above:g}"
    else:
        rule = "must be a finite number"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _refuse(name, rule, value, got)
    low = (minimum is not None and value < minimum) or (above is not None and not value > above)
    if not math.isfinite(value) or low:
        raise _refuse(name, rule, value, got)
    return float(value)


def integers(name: str, values: object, minimum: int = 1) -> tuple[int, ...]:
    """A non-empty sequence of whole numbers of at least ``minimum`` (one number is allowed)."""
    if isinstance(values, numbers.Real) and not isinstance(values, bool):
        values = (values,)
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise _refuse(name, "must be a list of whole numbers such as [10, 1000]", values, None)
    values = tuple(values)
    if not values:
        raise ValueError(f"{name} must list at least one size, got an empty list")
    return tuple(integer(name, v, minimum) for v in values)
