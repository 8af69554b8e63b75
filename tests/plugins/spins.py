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


_children: list = []


def _starts_a_process(X, Y, W, b, lam):
    if not _children:
        import subprocess
        import sys

        code = "import time\nend = time.monotonic() + 20\nwhile time.monotonic() < end: pass"
        _children.append(subprocess.Popen([sys.executable, "-c", code]))
    return good_gradient(X, Y, W, b, lam)


spawns_a_spinner = Implementation(name="spawns-a-spinner", gradient=_starts_a_process)


def gradient(X, Y, W, b, lam):
    """A plain function: its first call, the trial call at load, starts the thread."""
    return _after_call(X, Y, W, b, lam)
