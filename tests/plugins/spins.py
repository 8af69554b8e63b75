"""Plugins that leave a thread computing after their calls return.

Loaded by tests with ``--plugin tests/plugins/spins.py:NAME``. The threads stop by
themselves after ``LIMIT_S`` (or when ``stop`` is set), so a test process that kept one
is not slowed for long.
"""

import threading
import time

from gradrace import Implementation
from gradrace.implementations.numpy_dot import gradient as good_gradient

LIMIT_S = 20.0
stop = threading.Event()
_started: list[threading.Thread] = []


def spin() -> None:
    end = time.monotonic() + LIMIT_S
    x = 0
    while not stop.is_set() and time.monotonic() < end:
        x += 1


def _start_once() -> None:
    if not _started:
        thread = threading.Thread(target=spin, name="spinner", daemon=True)
        thread.start()
        _started.append(thread)


def _after_call(X, Y, W, b, lam):
    _start_once()
    return good_gradient(X, Y, W, b, lam)


def _when_timed(X, Y, W, b, lam):
    if X.shape[0] >= 500:  # bigger than every case of the agreement check
        _start_once()
    return good_gradient(X, Y, W, b, lam)


spins_after_call = Implementation(name="spins-after-call", gradient=_after_call)
spins_when_timed = Implementation(name="spins-when-timed", gradient=_when_timed)
