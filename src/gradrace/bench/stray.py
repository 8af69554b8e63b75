"""Work left running: plugin code must not leave a thread or process computing.

A thread or process that a plugin starts and leaves running takes a core (a Python
thread also the GIL) from whatever is timed next: every other implementation's time, and
verdict, would carry it, and the run would blame "other work". ``Strays`` knows the
Python threads and the child processes there were when it was made. Asked
(``spinning()``), it reads the CPU time of newer ones that used the CPU since it last
looked, while gradrace idles for ``WINDOW_S``; one that kept ``BUSY_SHARE`` of a core or
more busy, and still does ``CONFIRM_S`` later (a start-up burst is not a stray), is
named: a thread by the frames it runs (which name the plugin file), either by what had
just run when it appeared (``note``).

Threads started outside Python (a plugin's C code, a library's pool) are not seen; the
pools of numba and BLAS sleep between calls. CPU times come from ``/proc`` (Linux).
"""

from __future__ import annotations

import os
import sys
import sysconfig
import threading
import time
from dataclasses import dataclass

from gradrace.bench.explain import plain, safe_text
from gradrace.bench.reaper import descendants

#: How long gradrace idles to see whether a new thread or process computes (seconds).
WINDOW_S = 0.03
#: The share of a core it must use in that window to count as computing: a quarter, so
#: that a stray that other work leaves less than a core, or one that computes in bursts,
#: is still found; pools and heartbeats that sleep between calls use far less.
BUSY_SHARE = 0.25
#: ... and again this long after it was first seen computing (seconds).
CONFIRM_S = 1.0
#: CPU time (seconds) it must have used since it was last looked at to be looked at.
GREW_S = 0.001
#: How long (seconds) ``note`` remembers what ran when.
REMEMBER_S = 300.0

_TASKS = "/proc/self/task"
#: Frames here are Python's own (threading's waits): the place shown is the first outside.
_STDLIB = os.path.join(sysconfig.get_paths()["stdlib"], "")


@dataclass(frozen=True)
class Stray:
    """A thread or process that kept computing while gradrace waited."""

    kind: str  # "thread" or "process"
    where: str  # "spin() in spinner.py, line 7", or "pid 123: python -c …"
    files: tuple[str, ...]  # a thread's frames' files, outermost (where it began) first
    first_seen: str  # the implementation that had just run when it appeared ("" if none)
    share: float  # the cores it used while gradrace idled (1.0: one whole core)

    def busy_words(self) -> str:
        """'97 % of a core', or '2.0 cores'."""
        if self.share > 1.05:
            return f"{self.share:.1f} cores"
        return f"{min(self.share, 1.0) * 100:.0f} % of a core"

    def left(self) -> str:
        """What it does, for code that left it running after its calls."""
        return (
            f"left a {self.kind} running ({self.where}) that kept {self.busy_words()} busy "
            f"while gradrace waited: it would slow every timing beside it"
        )

    def refused(self, when: str) -> str:
        """Why a plugin that started it ``when`` ('at import') is not loaded."""
        return (
            f"started a {self.kind} {when} that keeps computing ({self.where}, "
            f"{self.busy_words()} while gradrace waited): it would slow every timing beside "
            "it, so gradrace did not load it"
        )


def _task_cpu(task: str) -> float | None:
    """The CPU time one task (thread) has used, from its ``schedstat`` or ``stat``."""
    try:
        with open(f"{task}/schedstat", encoding="ascii") as f:
            return int(f.read().split()[0]) / 1e9  # nanoseconds on the CPU
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"{task}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def cpu_seconds(native_id: int | None) -> float | None:
    """The CPU time a thread of this process has used, or None (gone, or not Linux)."""
    return None if native_id is None else _task_cpu(f"{_TASKS}/{native_id}")


def process_cpu_seconds(pid: int) -> float | None:
    """The CPU time all threads of a process have used, or None (gone, or not Linux)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    used = [_task_cpu(f"/proc/{pid}/task/{tid}") for tid in tasks]
    known = [u for u in used if u is not None]
    return sum(known) if known else None


def _started_s(pid: int) -> float | None:
    """When a process started, in seconds since boot (``CLOCK_BOOTTIME``'s scale)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            ticks = int(f.read().rpartition(")")[2].split()[19])
        return (ticks + 0.5) / os.sysconf("SC_CLK_TCK")  # it started within that clock tick
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _children() -> list[int]:
    """The processes the calling thread started (that are alive or not yet waited for)."""
    try:
        with open(f"{_TASKS}/{threading.get_native_id()}/children", encoding="ascii") as f:
            return [int(pid) for pid in f.read().split()]
    except (OSError, ValueError):
        return []


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return int(f.read().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            words = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        words = ""
    words = plain(safe_text(words)) or "?"
    return words if len(words) <= 80 else words[:79] + "…"


def _now() -> float:
    try:
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    except (AttributeError, OSError):
        return time.monotonic()


def _frames(ident: int | None) -> list[tuple[str, int, str]]:
    """(file, line, function) of the frames a thread is running, innermost first."""
    frame = sys._current_frames().get(ident) if ident is not None else None
    out = []
    while frame is not None:
        out.append((frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))
        frame = frame.f_back
    return out


#: Threads and processes born while a plugin source was imported here -> the name it
#: registered (``born_of``): a stray among them is charged to it.
_born: dict = {}


class Strays:
    """The Python threads and child processes there are now; ``spinning()`` names newer
    ones that compute."""

    def __init__(self) -> None:
        self._known: set = {("thread", t.ident) for t in threading.enumerate()}
        self._known |= {("process", pid) for pid in descendants(os.getpid())}
        self._first_seen: dict = {}
        self._cpu: dict = {}  # key -> CPU seconds when last looked at
        self._busy_since: dict = {}  # key -> when first seen computing
        self._ran: list[tuple[float, str]] = []  # (until when, what ran), oldest first

    def _threads(self) -> dict:
        return {
            ("thread", t.ident): t
            for t in threading.enumerate()
            if ("thread", t.ident) not in self._known and t.is_alive()
        }

    def born_of(self, name: str) -> None:
        """Charge the threads and child processes that appeared since this was made (at a
        plugin's import) to ``name``, should they keep computing."""
        for key in self._threads():
            _born.setdefault(key, name)
        for key in self._new_processes():
            _born.setdefault(key, name)

    def note(self, ran: str) -> None:
        """Remember that ``ran`` ran until now, and who had run when new threads appeared."""
        now = _now()
        if self._ran and self._ran[-1][1] == ran:
            self._ran[-1] = (now, ran)
        else:
            self._ran.append((now, ran))
        while self._ran and self._ran[0][0] < now - REMEMBER_S:
            self._ran.pop(0)
        for key in self._threads():
            self._first_seen.setdefault(key, ran)
        for key in self._new_processes():  # one read of /proc: what this thread started
            self._first_seen.setdefault(key, ran)

    def alive_of(self) -> frozenset[str]:
        """The implementations that started the new threads and child processes alive now
        (computing or not: a sleeping one may still end the process), as ``note`` and
        ``born_of`` saw them appear; call after ``note``."""
        keys = [*self._threads(), *self._new_processes()]
        return frozenset(filter(None, map(self._started_by, keys)))

    def _new_processes(self) -> list[tuple[str, int]]:
        """The keys of the child processes started since this was made."""
        return [("process", pid) for pid in _children() if ("process", pid) not in self._known]

    def _started_by(self, key) -> str:
        """What had just run when a thread or process appeared ('' if unknown)."""
        return self._first_seen.get(key) or _born.get(key, "")

    def _process_first_seen(self, pid: int) -> str:
        """What had just run when ``pid``, or the first of its ancestors that ``note`` saw,
        appeared; else what ran when it started (known to a clock tick)."""
        me, ancestor = os.getpid(), pid
        for _ in range(64):
            if ancestor is None or ancestor == me:
                break
            for seen in (self._first_seen, _born):
                if seen.get(("process", ancestor)):
                    return seen[("process", ancestor)]
            ancestor = _parent(ancestor)
        return self._ran_at(_started_s(pid))

    def _ran_at(self, when: float | None) -> str:
        """What ran at ``when`` (seconds since boot), as ``note`` was told ('' if unknown)."""
        for until, ran in self._ran if when is not None else ():
            if until >= when:
                return ran
        return ""

    def _candidates(self) -> dict:
        """key -> (CPU reader, thread or pid) of the new threads and processes."""
        out = {k: (lambda t=t: cpu_seconds(t.native_id), t) for k, t in self._threads().items()}
        for pid in descendants(os.getpid()):
            if ("process", pid) not in self._known:
                out[("process", pid)] = (lambda pid=pid: process_cpu_seconds(pid), pid)
        return out

    def _busy(self, candidates: dict, window_s: float, share: float) -> dict:
        """The candidates that used ``share`` of a core in ``window_s``: key -> cores."""
        before = {key: read() for key, (read, _) in candidates.items()}
        start = time.perf_counter()
        time.sleep(window_s)
        out = {}
        for key, (read, _) in candidates.items():
            after, wall = read(), time.perf_counter() - start
            if after is None or before[key] is None:
                continue
            self._cpu[key] = after
            if (after - before[key]) / wall >= share:
                out[key] = (after - before[key]) / wall
        return out

    def spinning(self, window_s: float = WINDOW_S, share: float = BUSY_SHARE) -> list[Stray]:
        """The new threads and processes that used at least ``share`` of a core while
        gradrace idled for ``window_s``, and again ``CONFIRM_S`` after they were first
        seen doing so (only those that used the CPU since last asked are looked at)."""
        candidates = {}
        for key, (read, what) in self._candidates().items():
            used, last = read(), self._cpu.get(key)
            if used is not None and (last is None or used - last >= GREW_S):
                candidates[key] = (read, what)
        busy = self._busy(candidates, window_s, share) if candidates else {}
        for key in list(self._busy_since):
            if key not in busy:
                del self._busy_since[key]
        if not busy:
            return []
        now = time.monotonic()
        for key in busy:
            self._busy_since.setdefault(key, now)
        wait = max(self._busy_since[key] + CONFIRM_S - now for key in busy)
        if wait > 0:  # a start-up burst ends; a stray keeps computing
            time.sleep(wait)
            busy = self._busy({k: candidates[k] for k in busy}, window_s, share)
        out = [self._stray(key, candidates[key][1], cores) for key, cores in busy.items()]
        self._known.update(busy)  # named once: in gradrace's own process it cannot be ended
        return out

    def _stray(self, key, what, cores: float) -> Stray:
        if key[0] == "process":
            where = f"pid {what}: {_command(what)}"
            return Stray("process", where, (), self._process_first_seen(what), cores)
        frames = _frames(what.ident)
        where = what.name
        if frames:
            ours = [f for f in frames if not f[0].startswith(_STDLIB)] or frames
            file, line, function = ours[0]
            where = f"{function}() in {os.path.basename(file)}, line {line}"
        files = tuple(dict.fromkeys(f for f, _, _ in reversed(frames)))
        first = self._started_by(key)
        return Stray("thread", where, files, first, cores)
