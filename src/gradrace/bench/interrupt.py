"""Ctrl-C told apart from a plugin that raises ``KeyboardInterrupt`` itself.

Both arrive as the same exception. Where gradrace calls plugin code it catches what a
plugin may raise (``PLUGIN_RAISES``) and gives a ``KeyboardInterrupt`` back to the caller
only when the user pressed Ctrl-C (``pressed``): ``watching_ctrl_c`` notes every real
SIGINT while a run lasts. Where nothing notes them (a thread other than the main one) a
``KeyboardInterrupt`` is taken as the user's, as Python takes it; in a worker, which
ignores SIGINT (the parent handles Ctrl-C), one is always the plugin's.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

#: What a call into plugin code may raise and still be the plugin's failure, not gradrace's.
PLUGIN_RAISES = (Exception, SystemExit, KeyboardInterrupt)

_state = {"watching": False, "pressed": False}


def _on_sigint(signum, frame) -> None:
    _state["pressed"] = True
    signal.default_int_handler(signum, frame)  # raises KeyboardInterrupt, as Python does


@contextlib.contextmanager
def watching_ctrl_c() -> Iterator[None]:
    """Note each Ctrl-C (SIGINT) in the block; outside the main thread, or where a handler
    set from C holds SIGINT, change nothing."""
    if threading.current_thread() is not threading.main_thread() or _state["watching"]:
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:  # a handler set from C: it cannot be put back, so leave it
        yield
        return
    if previous is not signal.SIG_IGN:  # ignored (a background job): no Ctrl-C can come
        signal.signal(signal.SIGINT, _on_sigint)
    _state.update(watching=True, pressed=False)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _state.update(watching=False, pressed=False)


def ignore_ctrl_c() -> None:
    """In a worker: Ctrl-C is the parent's to handle, so any KeyboardInterrupt is a plugin's."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _state.update(watching=True, pressed=False)


def pressed(exc: BaseException) -> bool:
    """Whether ``exc`` is the user's Ctrl-C (to pass on), not a plugin's own raise."""
    return isinstance(exc, KeyboardInterrupt) and (_state["pressed"] or not _state["watching"])


def pass_on_ctrl_c(exc: BaseException) -> None:
    """Re-raise ``exc`` when it is the user's Ctrl-C; return when it is the plugin's."""
    if pressed(exc):
        raise exc
