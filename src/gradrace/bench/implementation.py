"""The plugin contract: an implementation is data, not a subclass.

    Implementation(name, gradient, prepare=None, description="")

``gradient(*args) -> (dW, db)`` is the timed call. ``args`` is what the untimed
``prepare(X, Y, W, b, lam)`` returns (layout changes, JIT compilation, device
transfer), or ``(X, Y, W, b, lam)`` itself when there is no ``prepare``. ``dW`` must
have shape (n, k) and ``db`` shape (k,), both in the input dtype; inputs must not
be modified.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

GradientFn = Callable[..., tuple[Any, Any]]
PrepareFn = Callable[..., tuple]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


@dataclass(frozen=True)
class Implementation:
    """One way of computing the ridge gradient, as gradrace checks and times it."""

    name: str
    gradient: GradientFn
    prepare: PrepareFn | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(
                f"implementation name {self.name!r} must be a non-empty string of letters, "
                "digits and . _ + - (it is used on the command line and in file names)"
            )
        if not callable(self.gradient):
            raise TypeError(f"implementation {self.name!r}: gradient must be callable")
        if self.prepare is not None and not callable(self.prepare):
            raise TypeError(f"implementation {self.name!r}: prepare must be callable or None")

    def prepare_args(self, X, Y, W, b, lam) -> tuple:
        """The arguments of the timed ``gradient`` call, made by the untimed ``prepare``."""
        if self.prepare is None:
            return (X, Y, W, b, lam)
        args = self.prepare(X, Y, W, b, lam)
        if not isinstance(args, tuple):
            raise TypeError(
                f"implementation {self.name!r}: prepare must return a tuple of the arguments "
                f"of gradient, got {type(args).__name__}"
            )
        return args

    def compute(self, X, Y, W, b, lam) -> tuple[Any, Any]:
        """Prepare and call ``gradient`` once: the untimed convenience for users and tests."""
        return self.gradient(*self.prepare_args(X, Y, W, b, lam))

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
