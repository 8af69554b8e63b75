"""Words for what went wrong in a call: what gradrace passed, what came back, where it raised.

A learner's first run of ``gradrace check`` on a function written for another convention
ends in a shape error or an exception inside their own loop; these messages say what
gradrace called the function with, what it expected back, the likely cause, and the
line of the user's file that raised (not gradrace's).
"""

from __future__ import annotations

import linecache
import re
import sysconfig
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np

_GRADRACE = Path(__file__).resolve().parents[1]
_LIBRARIES = tuple(
    Path(p).resolve()
    for p in {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
)


def describe_value(value, depth: int = 3) -> str:
    """A value's kind and shape in a few words: 'ndarray (4,) float64', 'float', '(float, …)'
    (nested at most ``depth`` deep, so a list that holds itself ends)."""
    if isinstance(value, tuple | list):
        if depth <= 0:
            return f"({type(value).__name__}, …)"
        inner = ", ".join(describe_value(v, depth - 1) for v in value[:4])
        return f"({inner}{', …' if len(value) > 4 else ''})"
    if isinstance(value, np.generic):
        return type(value).__name__
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"{type(value).__name__} {tuple(value.shape)} {value.dtype}"
    return type(value).__name__


def _argument(value) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.shape} {value.dtype}"
    return describe_value(value)


def parameter_names(fn: Callable) -> tuple[str, ...]:
    """The names of ``fn``'s positional parameters (() when it has no signature)."""
    import inspect

    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return ()
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return tuple(p.name for p in params if p.kind in kinds)


def describe_call(fn: Callable, args: tuple) -> str:
    """'called f(X (20, 4) float64, y (20,) float64, …, b float, lambda_ float)'."""
    names = parameter_names(fn)
    names = names + tuple(f"arg{i + 1}" for i in range(len(names), len(args)))
    parts = ", ".join(f"{name} {_argument(a)}" for name, a in zip(names, args, strict=False))
    return f"called {getattr(fn, '__name__', type(fn).__name__)}({parts})"


def _is_number(value) -> bool:
    return isinstance(value, int | float | np.number) or (
        isinstance(value, np.ndarray) and value.ndim == 0
    )


def likely_causes(out, n: int, k: int) -> list[str]:
    """What an output that does not fit (dW (n, k), db (k,)) most likely comes from."""
    if not isinstance(out, tuple | list) or len(out) != 2:
        return []
    first, second = out
    if _is_number(first) and np.size(second) == n * k and k == 1:
        return [
            "it returns the course's order (db, dW) with a 1-D dW: for a function "
            "(X, y, w, b, lambda_) -> (dj_db, dj_dw) run with --convention course"
        ]
    causes = []
    shape = lambda a: getattr(a, "shape", None)  # noqa: E731
    if shape(first) == (k,) and shape(second) == (n, k) and (n, k) != (k,):
        causes.append("it returns (db, dW), the other order: return dW, db")
    if isinstance(first, np.ndarray) and first.ndim == 1 and first.size == n * k:
        causes.append(
            f"dW is 1-D: gradrace wants dW of shape ({n}, {k}), e.g. "
            f"dW.reshape({n}, {k}); a function written the course's way (1-D w) is read "
            "as such by --convention course-dw-first, or gradrace.course(fn, order='dw-first')"
        )
    if isinstance(first, np.ndarray) and first.shape == (k, n) and k != n:
        causes.append(f"dW looks transposed: ({k}, {n}) instead of ({n}, {k})")
    if _is_number(second):
        course = (
            (
                ", or, for a function written the course's way (X, y, w, b, lambda_) -> "
                "(dj_dw, dj_db), --convention course-dw-first or "
                "gradrace.course(fn, order='dw-first')"
            )
            if k == 1
            else ""
        )
        causes.append(
            f"db is a {type(second).__name__}, a single number: gradrace wants an "
            f"array of shape ({k},), e.g. np.array([db]){course}"
        )
    return causes


_BROADCAST = re.compile(r"could not be broadcast together with shapes((?: \([\d, ]*\))+)")


def failed_broadcast(exc: BaseException) -> list[tuple[int, ...]]:
    """The shapes numpy named when ``exc`` is its failure to broadcast them ([] if not)."""
    found = _BROADCAST.search(safe_text(exc)) if isinstance(exc, ValueError) else None
    if found is None:
        return []
    groups = re.findall(r"\(([\d, ]*)\)", found.group(1))
    return [tuple(int(d) for d in g.replace(" ", "").split(",") if d) for g in groups]


def broadcast_cause(shapes, m: int, n: int) -> str:
    """The likely cause of arrays of ``shapes`` in a course-style gradient of X (m, n), ''
    if none: a 1-D array and a column combined, which numpy broadcasts into a matrix."""
    two_d = {tuple(s) for s in shapes if len(s) == 2}
    if m == n:
        return ""
    if two_d & {(m, m), (n, m)} and m > 1:  # (m, n) is X's own shape: no sign of a slip
        return (
            f"a ({m},) array and a ({m}, 1) one were combined (such as f_wb - "
            f"y.reshape(-1, 1)), which numpy broadcasts into a ({m}, {m}) matrix of "
            "residuals: keep both 1-D, or both columns"
        )
    if (n, n) in two_d and n > 1:
        return (
            f"a ({n}, 1) column and the ({n},) w were added, which numpy broadcasts into a "
            f"({n}, {n}) matrix: keep dj_dw 1-D, like w (X.T @ err is ({n},) when err is 1-D)"
        )
    return ""


def expected_output(n: int, k: int, dtype) -> str:
    return f"expected back (dW, db): dW ndarray ({n}, {k}) {dtype}, db ndarray ({k},) {dtype}"


def _in_library(filename: str) -> bool:
    path = Path(filename).resolve()
    return any(path.is_relative_to(lib) for lib in _LIBRARIES)


def user_frame(exc: BaseException) -> traceback.FrameSummary | None:
    """The last frame of ``exc``'s traceback in the user's own code: outside gradrace, the
    standard library and installed packages (else the last one outside gradrace)."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith("<")
        and not Path(f.filename).resolve().is_relative_to(_GRADRACE)
    ]
    own = [f for f in frames if not _in_library(f.filename)]
    return (own or frames or [None])[-1]


def _where(frame: traceback.FrameSummary) -> str:
    path = Path(frame.filename)
    try:
        shown = path.resolve().relative_to(Path.cwd())
    except ValueError:
        shown = path
    line = (frame.line or linecache.getline(frame.filename, frame.lineno or 0)).strip()
    return f"{shown}:{frame.lineno}" + (f": {line}" if line else "")


#: Control characters (terminal escapes, newlines; C1 controls; the bidirectional
#: overrides that reorder what a terminal shows) become spaces in text from user code.
_CONTROL = dict.fromkeys(
    [*range(32), *range(127, 160), 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)],
    " ",
)
#: The most characters of an exception's text a message keeps.
MOST_CHARACTERS = 1000


def plain(text: str, most: int = MOST_CHARACTERS) -> str:
    """Text from user code made safe to print and store: one line, at most ``most`` characters."""
    text = str(text).translate(_CONTROL)
    return text if len(text) <= most else f"{text[:most]}… ({len(text):,} characters in all)"


#: The prefix of the module names plugin files are imported under (registry.py).
PLUGIN_MODULE_PREFIX = "gradrace_plugin_"


def safe_text(obj: object) -> str:
    """``str(obj)``, or a note that it could not be had: an exception or a value from
    plugin code may raise when asked for its text, and that must not fail gradrace."""
    try:
        return str(obj)
    except Exception as exc:  # plugin code: anything may come out
        return f"<its text raised {type(exc).__name__}>"


def describe_exception(exc: BaseException) -> str:
    """'ValueError: … (at lab.py:9: dj_dw[j] = dj_dw[j] + err * X[i, j])'."""
    frame = user_frame(exc)
    where = f" (at {plain(_where(frame))})" if frame is not None else ""
    return f"{type(exc).__name__}: {plain(safe_text(exc))}{where}{_stale_cache(exc)}"


def _stale_cache(exc: BaseException) -> str:
    """A hint for numba's cache of a plugin file written under a module name of an earlier
    gradrace (which named a file's module differently in each process)."""
    name = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
    if not (name or "").startswith(PLUGIN_MODULE_PREFIX):
        return ""
    return (
        "; numba's cache beside the plugin file was written under another module name "
        "(by an earlier gradrace): delete that folder's __pycache__ and run again"
    )
