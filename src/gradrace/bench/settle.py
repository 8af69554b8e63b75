"""Between rounds: let the threads that the last round left spinning go to sleep.

A parallel library's pool threads keep spinning on their cores for a while after a call
(OpenMP's, as PyTorch and numba's OpenMP layer use, for milliseconds) so that the next
call starts sooner. In interleaved rounds on few cores, whatever is timed next would run
beside them: dask measured 1.5–2× slower right after numba-fused or PyTorch than after
numpy. So a round starts only once this process's other threads are idle, or after
``MAX_WAIT_S``: a thread that never sleeps (a plugin's, or a library's native pool, which
``bench.stray`` cannot see) then holds the round back no longer, and the case's rows say so
(``held_back``). An implementation's own threads spinning between its own calls within its
round are its design, and count.
"""

from __future__ import annotations

import time

from gradrace import _load

#: The longest wait before a round (seconds): OpenMP's default spin is a few milliseconds.
MAX_WAIT_S = 0.03
#: How often the threads' states are read while waiting (seconds): a read takes tens of µs.
GAP_S = 0.0005


def until_quiet(max_wait_s: float = MAX_WAIT_S, gap_s: float = GAP_S) -> float:
    """Wait until no other thread of this process is running or runnable, at most about
    ``max_wait_s``; return the seconds waited (0 at once where none is, or off Linux)."""
    start = time.perf_counter()
    while _load.own_running() > 1:
        waited = time.perf_counter() - start
        if waited >= max_wait_s:
            return waited
        time.sleep(min(gap_s, max_wait_s - waited))
    return time.perf_counter() - start


def held_back(waited: float, max_wait_s: float = MAX_WAIT_S) -> bool:
    """Whether a wait of ``waited`` seconds ended at the limit, another thread still running."""
    return waited >= max_wait_s
