"""Tamper detection: did plugin code replace a function of numpy's or of gradrace's judge?

A plugin runs in the process that computes the reference, the verdicts and the timings.
One that swaps ``np.einsum``, ``agreement.relative_error`` or ``statistics.median`` would
skew the reference, another implementation's verdict or time, or its own. ``Watch``
records every callable of numpy's main modules, of the standard library's timing modules
and of gradrace's judging and timing modules (with the code and defaults of each Python
function); ``changed()`` names those replaced since, ``restore()`` puts them back.

Only identities are compared (a few thousand ``is`` tests, under a millisecond),
so the check runs before every phase event of the worker. A plugin could still
reach deeper (numpy's C internals, ctypes); this closes the doors a Python plugin
opens by accident or with a one-line monkeypatch.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable

#: Modules watched, when imported: numpy's namespaces the reference and the built-ins
#: call through, and gradrace's modules that compute the reference and judge.
WATCHED = (
    "numpy",
    "numpy.linalg",
    "numpy.linalg._linalg",
    "numpy._core.numeric",
    "numpy._core.fromnumeric",
    "numpy._core.einsumfunc",
    "numpy._core.multiarray",
    "numpy._core.umath",
    "numpy.core.numeric",
    "numpy.core.fromnumeric",
    "numpy.core.einsumfunc",
    "numpy.core.multiarray",
    "numpy.core.umath",
    "numpy.random",
    "builtins",
    "math",
    "time",
    "timeit",
    "statistics",
    "gc",
    "tracemalloc",
    "gradrace._load",
    "gradrace.bench.agreement",
    "gradrace.bench.reference",
    "gradrace.bench.check",
    "gradrace.bench.measure",
    "gradrace.bench.timing",
    "gradrace.bench.stats",
    "gradrace.bench.results",
    "gradrace.bench.machine",
    "gradrace.bench.status",
    "gradrace.bench.problem",
    "gradrace.bench.grids",
    "gradrace.bench.guard",
    "gradrace.bench.stray",
    "gradrace.bench.worker",
)

_IMMUTABLE_TYPE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE


class Tampered(BaseException):
    """Plugin code replaced watched functions (``replaced``), or did other harm that
    ``reason`` says (a thread left computing). A BaseException, so that no
    ``except Exception`` of the measuring code swallows it on its way out."""

    def __init__(self, implementation: str, phase: str, replaced: list[str], reason: str = ""):
        self.implementation, self.phase, self.replaced = implementation, phase, replaced
        self.reason = reason
        harm = reason or f"replaced {describe(replaced)}"
        super().__init__(f"{implementation or 'plugin code'} ({phase}) {harm}")


def describe(replaced: list[str], most: int = 4) -> str:
    """``numpy.einsum, numpy.dot`` — the first few replaced names, and how many more."""
    shown = ", ".join(replaced[:most])
    return shown + (f" and {len(replaced) - most} more" if len(replaced) > most else "")


def _callables(module: types.ModuleType) -> Iterable[tuple[object, str, object]]:
    """The watched names of ``module`` as (owner, name, value): its functions and classes,
    and the methods of the classes it defines (``timeit.Timer.timeit``); for gradrace's
    own modules every public name (a tolerance table is as much the judge as a function)."""
    own = module.__name__.startswith("gradrace.")
    for name, value in list(vars(module).items()):
        public = not name.startswith("_")
        constant = public and isinstance(value, str | int | float | tuple)  # timeit.template
        if (
            (callable(value) or constant or (own and public))
            and not isinstance(value, types.ModuleType)
            and not name.startswith("__")
        ):
            yield module, name, value
            if isinstance(value, type) and _mutable(value) and value.__module__ == module.__name__:
                for attr, method in list(vars(value).items()):
                    if isinstance(method, types.FunctionType | staticmethod | classmethod):
                        yield value, attr, method


class Watch:
    """The identities of the watched callables now; compare and restore later."""

    def __init__(self, modules: Iterable[str] = WATCHED):
        # (owner, its namespace: a class's is a live view, name, value, function, inside)
        self._seen: list[tuple] = []
        for module_name in modules:
            module = sys.modules.get(module_name)
            if module is None:
                continue
            for owner, name, value in _callables(module):
                fn = _function(value)
                self._seen.append((owner, vars(owner), name, value, fn, *_inside(fn)))

    def changed(self) -> list[str]:
        """The qualified names of the watched callables replaced (or whose code or default
        arguments were) since."""
        moved = [
            i
            for i, (_, space, name, value, fn, code, defaults, kwdefaults) in enumerate(self._seen)
            if space.get(name) is not value
            or (
                fn is not None
                and (
                    fn.__code__ is not code
                    or fn.__defaults__ is not defaults
                    or fn.__kwdefaults__ is not kwdefaults
                )
            )
        ]
        out = []
        for owner, _, name, *_ in (self._seen[i] for i in moved):
            where = owner.__name__ if isinstance(owner, types.ModuleType) else _qualified(owner)
            out.append(f"{where}.{name}")
        return sorted(out)

    def replacements(self) -> list[object]:
        """What now stands where a watched callable was replaced (its new code, where only
        that changed): where it was defined may tell whose code replaced it."""
        out = []
        for _, space, name, value, fn, *inside in self._seen:
            now = space.get(name)
            if now is not value:
                out.append(now)
            elif fn is not None and _moved(fn, inside):
                out.append(fn.__code__)
        return out

    def restore(self) -> None:
        """Put every watched callable (and its code and defaults) back as it was."""
        for owner, space, name, value, fn, *inside in self._seen:
            if space.get(name) is not value:
                setattr(owner, name, value)
            if fn is not None and _moved(fn, inside):
                fn.__code__, fn.__defaults__, fn.__kwdefaults__ = inside


def _function(value) -> types.FunctionType | None:
    """The Python function behind ``value`` (a classmethod's or staticmethod's too)."""
    value = value.__func__ if isinstance(value, staticmethod | classmethod) else value
    return value if isinstance(value, types.FunctionType) else None


def _inside(fn: types.FunctionType | None) -> tuple:
    """A function's code and default arguments (Nones for no function)."""
    return (None, None, None) if fn is None else (fn.__code__, fn.__defaults__, fn.__kwdefaults__)


def _moved(fn: types.FunctionType, inside) -> bool:
    """Whether ``fn``'s code or default arguments are no longer ``inside`` (by identity)."""
    return any(a is not b for a, b in zip(_inside(fn), inside, strict=True))


def _mutable(cls: type) -> bool:
    """Whether plugin code could replace a method of ``cls`` (not a C type such as int)."""
    return not cls.__flags__ & _IMMUTABLE_TYPE


def _qualified(cls: type) -> str:
    """``timeit.Timer``: a class by its module and name."""
    return f"{cls.__module__}.{cls.__qualname__}"


def defined_in(obj: object) -> str | None:
    """The file that defined a function, method, class or code object (None if unknown)."""
    code = obj if isinstance(obj, types.CodeType) else getattr(obj, "__code__", None)
    if code is None:
        code = getattr(getattr(obj, "__func__", None), "__code__", None)
    if code is not None:
        return code.co_filename
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    return getattr(module, "__file__", None)
