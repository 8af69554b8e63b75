"""Plugins written to misbehave, one per way a real plugin can go wrong.

Loaded by tests with ``--plugin tests/plugins/misbehaving.py:NAME``.
"""

import os
import sys
import time

import numpy as np

from gradrace import Implementation
from gradrace.implementations.numpy_dot import gradient as good_gradient


def _impl(name, gradient, prepare=None):
    return Implementation(
        name=name, gradient=gradient, prepare=prepare, description=f"misbehaves: {name}"
    )


def _raise_prepare(X, Y, W, b, lam):
    raise RuntimeError("prepare exploded")


def _raise_gradient(X, Y, W, b, lam):
    raise ZeroDivisionError("gradient exploded")


def _wrong_shape(X, Y, W, b, lam):
    dW, db = good_gradient(X, Y, W, b, lam)
    return dW.ravel(), db


def _wrong_dtype(X, Y, W, b, lam):
    dW, db = good_gradient(X, Y, W, b, lam)
    return dW.astype(np.float16), db


def _nan(X, Y, W, b, lam):
    dW, db = good_gradient(X, Y, W, b, lam)
    dW[0, 0] = np.nan
    return dW, db


def _inf(X, Y, W, b, lam):
    dW, db = good_gradient(X, Y, W, b, lam)
    db[0] = np.inf
    return dW, db


def _wrong_values(X, Y, W, b, lam):
    dW, db = good_gradient(X, Y, W, b, lam)
    return dW * 1.5, db


def _modifies(X, Y, W, b, lam):
    out = good_gradient(X, Y, W, b, lam)
    X *= 2.0
    return out


def _too_slow(X, Y, W, b, lam):
    time.sleep(2e-6 * X.shape[0] * X.shape[1])  # 2 µs per entry of X: fine small, slow large
    return good_gradient(X, Y, W, b, lam)


def _forever(X, Y, W, b, lam):
    if X.shape[0] >= 1000:
        while True:
            time.sleep(0.05)
    return good_gradient(X, Y, W, b, lam)


def _crash(X, Y, W, b, lam):
    if X.shape[0] >= 1000:
        os._exit(
            99
        )  # what a segfault in compiled code looks like from outside: the process is gone
    return good_gradient(X, Y, W, b, lam)


def _segfault(X, Y, W, b, lam):
    if X.shape[0] >= 1000:
        import ctypes

        ctypes.string_at(0)  # a real SIGSEGV
    return good_gradient(X, Y, W, b, lam)


def _in_timing_rounds() -> bool:
    """Whether gradrace's interleaved timing loop (not the check or calibration) called us."""
    frame = sys._getframe()
    while frame is not None:
        code = frame.f_code
        if code.co_name == "measure" and code.co_filename.endswith("timing.py"):
            return True
        frame = frame.f_back
    return False


def _crash_later(X, Y, W, b, lam):
    if X.shape[0] >= 1000 and _in_timing_rounds():  # passes the check and calibration
        os._exit(98)
    return good_gradient(X, Y, W, b, lam)


class _Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("even its text fails")


def _raise_unprintable(X, Y, W, b, lam):
    raise _Unprintable()


def _holds_itself(X, Y, W, b, lam):
    out: list = []
    out.append(out)
    return out


def _loosen_tolerance(X, Y, W, b, lam):
    import gc

    from gradrace.bench import agreement

    for d in gc.get_referents(agreement.TOLERANCE):  # the dict under the read-only view
        if isinstance(d, dict):
            d.update(dict.fromkeys(d, 1e300))
    return np.zeros_like(W), np.zeros_like(b)


def _masks_nan(X, Y, W, b, lam):
    dW, db = good_gradient(X, Y, W, b, lam)
    dW[0, 0] = np.nan
    return np.ma.masked_invalid(dW), db  # the NaN hidden under a mask


class _NoUfuncs(np.ndarray):
    def __array_ufunc__(self, *args, **kwargs):
        raise RuntimeError("no ufuncs on this subclass")


class _NoLength(tuple):
    def __len__(self):
        raise RuntimeError("no length")


def _subclasses(X, Y, W, b, lam):
    dW, db = good_gradient(X, Y, W, b, lam)
    return _NoLength((dW.view(_NoUfuncs), db.view(_NoUfuncs)))


class _Unreadable:
    def __getattr__(self, name):
        raise RuntimeError("unreadable result")


def _unreadable(X, Y, W, b, lam):
    return _Unreadable(), _Unreadable()


masks_nan = _impl("masks-nan", _masks_nan)
subclasses = _impl("subclasses", _subclasses)
unreadable = _impl("unreadable", _unreadable)
loosens_tolerance = _impl("loosens-tolerance", _loosen_tolerance)
raises_unprintable = _impl("raises-unprintable", _raise_unprintable)
holds_itself = _impl("holds-itself", _holds_itself)
raises_in_prepare = _impl("raises-in-prepare", good_gradient, _raise_prepare)
raises_in_gradient = _impl("raises-in-gradient", _raise_gradient)
wrong_shape = _impl("wrong-shape", _wrong_shape)
wrong_dtype = _impl("wrong-dtype", _wrong_dtype)
returns_nan = _impl("returns-nan", _nan)
returns_inf = _impl("returns-inf", _inf)
wrong_values = _impl("wrong-values", _wrong_values)
modifies_inputs = _impl("modifies-inputs", _modifies)
too_slow = _impl("too-slow", _too_slow)
runs_forever = _impl("runs-forever", _forever)
crashes = _impl("crashes", _crash)
segfaults = _impl("segfaults", _segfault)
crashes_while_timed = _impl("crashes-while-timed", _crash_later)
not_an_implementation = 42


def plain_gradient(X, Y, W, b, lam):
    """A correct plugin written as a plain function."""
    return good_gradient(X, Y, W, b, lam)


duplicate_numpy_dot = Implementation(name="numpy-dot", gradient=good_gradient)


def _prints(X, Y, W, b, lam):
    print("a learner's progress line")
    return good_gradient(X, Y, W, b, lam)


prints = _impl("prints", _prints)


def _interrupt_while_timed(X, Y, W, b, lam):
    """Raises KeyboardInterrupt itself (no Ctrl-C pressed) once timed: its failure, not a stop."""
    if _in_timing_rounds():
        raise KeyboardInterrupt
    return good_gradient(X, Y, W, b, lam)


def _exit_while_timed(X, Y, W, b, lam):
    if _in_timing_rounds():
        sys.exit(3)
    return good_gradient(X, Y, W, b, lam)


interrupts_while_timed = _impl("interrupts-while-timed", _interrupt_while_timed)
exits_while_timed = _impl("exits-while-timed", _exit_while_timed)


def _interrupt(X, Y, W, b, lam):
    raise KeyboardInterrupt


interrupts = _impl("interrupts", _interrupt)
