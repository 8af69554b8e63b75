"""A time limit on code that runs in gradrace's own process (a plugin's import).

The probe process imports every plugin first, under a real crash boundary; a plugin that
behaves differently in gradrace's own process can still hang there. ``time_limit`` raises
``TimeLimit`` in the main thread when the time is up (a SIGALRM timer, on Unix); elsewhere
it sets no limit.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class TimeLimit(Exception):
    """The code under ``time_limit`` ran past its limit."""


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise ``TimeLimit`` in the block after ``seconds`` (None, or no SIGALRM: no limit)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not seconds or not usable:
        yield
        return

    def expire(signum, frame):
        raise TimeLimit(f"no answer in {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
