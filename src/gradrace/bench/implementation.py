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
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

GradientFn = Callable[..., tuple[Any, Any]]
PrepareFn = Callable[..., tuple]
WithParamsFn = Callable[[tuple, Any, Any], tuple]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


@dataclass(frozen=True)
class Implementation:
    """One way of computing the ridge gradient, as gradrace checks and times it."""

    name: str
    gradient: GradientFn
    prepare: PrepareFn | None = None
    description: str = ""
    with_params: WithParamsFn | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(
                f"implementation name {self.name!r} must be a non-empty string of letters, "
                "digits and . _ + - (it is used on the command line and in file names)"
            )
        if not callable(self.gradient):
            raise TypeError(f"implementation {self.name!r}: gradient must be callable")
        for hook in ("prepare", "with_params"):
            if getattr(self, hook) is not None and not callable(getattr(self, hook)):
                raise TypeError(f"implementation {self.name!r}: {hook} must be callable or None")
        if self.with_params is not None and self.prepare is None:
            raise TypeError(
                f"implementation {self.name!r}: with_params moves what prepare made, "
                "so it needs a prepare"
            )

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


def params_at(w_index: int, b_index: int, convert: Callable[[Any], Any] | None = None):
    """A ``with_params`` for prepared arguments that hold W at ``w_index`` and b at
    ``b_index``, as given or passed through ``convert`` (the conversion prepare applies)."""

    def with_params(args: tuple, W, b) -> tuple:
        new = list(args)
        new[w_index], new[b_index] = (W, b) if convert is None else (convert(W), convert(b))
        return tuple(new)

    return with_params
