"""Stray threads: plugin code must not leave a thread computing between its calls.

A thread that a plugin starts and leaves running takes a core, and in Python the GIL,
from whatever is timed next: every other implementation's time would carry it, and the
run would blame "other work". ``Strays`` knows the Python threads alive when it was
made; after each request of the worker, when a newer one has used the CPU since it was
last looked at, gradrace idles for ``WINDOW_S`` and reads that thread's CPU time. One
that kept ``BUSY_SHARE`` of a core or more busy while nothing else ran is a stray: the
frames it is running name the file it comes from, and ``note`` remembers which
implementation had just run when it first appeared.

Threads started outside Python (a plugin's C code, a library's pool) are not seen; the
pools of numba and BLAS sleep between calls.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import threading
import time
from dataclasses import dataclass

#: How long gradrace idles to see whether a new thread computes (seconds).
WINDOW_S = 0.03
#: The share of a core a thread must use in that window to count as computing.
BUSY_SHARE = 0.5
#: CPU time (seconds) a thread must have used since it was last looked at to be probed.
GREW_S = 0.001

_TASKS = "/proc/self/task"
#: Frames here are Python's own (threading's waits): the place shown is the first outside.
_STDLIB = os.path.join(sysconfig.get_paths()["stdlib"], "")


@dataclass(frozen=True)
class Stray:
    """A thread that kept computing while gradrace waited."""

    name: str  # the thread's name
    where: str  # "spin() in spinner.py, line 7": the frame it was running
    files: tuple[str, ...]  # the files of its frames, innermost first
    first_seen: str  # the implementation that had just run when it appeared ("" if none)
    share: float  # the share of a core it used while gradrace idled


def cpu_seconds(native_id: int | None) -> float | None:
    """The CPU time a thread of this process has used, or None (gone, or not Linux)."""
    if native_id is None:
        return None
    base = f"{_TASKS}/{native_id}"
    try:
        with open(f"{base}/schedstat", encoding="ascii") as f:
            return int(f.read().split()[0]) / 1e9  # nanoseconds on the CPU
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"{base}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _frames(ident: int | None) -> list[tuple[str, int, str]]:
    """(file, line, function) of the frames a thread is running, innermost first."""
    frame = sys._current_frames().get(ident) if ident is not None else None
    out = []
    while frame is not None:
        out.append((frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))
        frame = frame.f_back
    return out


class Strays:
    """The Python threads alive now; ``spinning()`` names newer ones that compute."""

    def __init__(self) -> None:
        self._known = {t.ident for t in threading.enumerate()}
        self._first_seen: dict[int | None, str] = {}
        self._cpu: dict[int | None, float] = {}

    def _new(self) -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.ident not in self._known and t.is_alive()]

    def note(self, ran: str) -> None:
        """Remember, for threads not seen before, that ``ran`` had just run."""
        for thread in self._new():
            self._first_seen.setdefault(thread.ident, ran)

    def spinning(self, window_s: float = WINDOW_S, share: float = BUSY_SHARE) -> list[Stray]:
        """The new threads that used at least ``share`` of a core while gradrace idled
        for ``window_s`` (only those that used the CPU since last asked are watched)."""
        self.note("")
        watched = {}
        for thread in self._new():
            used = cpu_seconds(thread.native_id)
            last = self._cpu.get(thread.ident)
            if used is not None and (last is None or used - last >= GREW_S):
                watched[thread] = used
        if not watched:
            return []
        start = time.perf_counter()
        time.sleep(window_s)
        out = []
        for thread, before in watched.items():
            after = cpu_seconds(thread.native_id)
            wall = time.perf_counter() - start
            if after is None:
                continue
            self._cpu[thread.ident] = after
            if (after - before) / wall >= share:
                out.append(self._stray(thread, (after - before) / wall))
                self._known.add(thread.ident)  # named once: in-process it cannot be stopped
        return out

    def _stray(self, thread: threading.Thread, used: float) -> Stray:
        frames = _frames(thread.ident)
        where = thread.name
        if frames:
            ours = [f for f in frames if not f[0].startswith(_STDLIB)] or frames
            file, line, function = ours[0]
            where = f"{function}() in {os.path.basename(file)}, line {line}"
        return Stray(
            name=thread.name,
            where=where,
            files=tuple(dict.fromkeys(f for f, _, _ in frames)),
            first_seen=self._first_seen.get(thread.ident, ""),
            share=min(used, 1.0),
        )
