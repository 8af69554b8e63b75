"""Timing in turns, shared by the one-thread kernel scripts here (not a script itself)."""

from __future__ import annotations

import time


def best_in_turns(calls: dict, reps: int, turns: int = 3) -> dict:
    """The best time in seconds of each call in ``calls`` (name -> no-argument callable):
    ``turns`` passes over them, each call warmed, then run ``reps`` times, so a busy
    moment of the machine falls on all of them."""
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(turns):
        for name, fn in calls.items():
            fn()
            for _ in range(reps):
                start = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - start)
    return best
