"""Between rounds: let the threads that the last round left spinning go to sleep.

A parallel library's pool threads keep spinning on their cores for a while after a call
(OpenMP's, as numba and PyTorch use, for milliseconds) so that the next call starts
sooner. In interleaved rounds on few cores, whatever is timed next would run beside them:
dask measured 1.5–2× slower right after numba-fused or PyTorch than after numpy. So a
round starts only once this process's other threads are idle, or after ``MAX_WAIT_S``
(a thread that never stops is a stray, which ``bench.stray`` names). An implementation's
own threads spinning between its own calls within its round are its design, and count.
"""

from __future__ import annotations

import time

from gradrace import _load

#: The longest wait before a round (seconds): OpenMP's default spin is a few milliseconds.
MAX_WAIT_S = 0.03
#: How often the threads' states are read while waiting (seconds).
GAP_S = 0.0002


def until_quiet(max_wait_s: float = MAX_WAIT_S, gap_s: float = GAP_S) -> float:
    """Wait until no other thread of this process is running or runnable, at most
    ``max_wait_s``; return the seconds waited (0 at once where none is, or off Linux)."""
    start = time.perf_counter()
    while _load.own_running() > 1:
        waited = time.perf_counter() - start
        if waited >= max_wait_s:
            return waited
        time.sleep(gap_s)
    return time.perf_counter() - start
