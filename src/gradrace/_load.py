"""How many cores a parallel kernel may count on now: the cores less what others run.

A parallel region ends when its last thread does. On a machine where other processes
hold the cores (a second benchmark, a build), a thread that the scheduler has parked
holds up the whole region for a scheduler slice, milliseconds, however little work it
has; splitting the work more finely does not help, since the region still waits for
every thread of its team. So a kernel asks, once and untimed (in ``prepare``), how many
threads are running besides itself, and takes no more threads than there are cores
left: on a fully loaded machine, one, which makes its time its fair share of a core
instead of a wait for the slowest thread.

Linux says it directly: the fourth field of ``/proc/loadavg`` counts the threads
runnable at this instant, and ``/proc/self/task/*/stat`` which of them are this
process's (its reader, and pool threads of numba or BLAS still spinning after their last
region); the rest are other work. A few reads a millisecond apart take the least, so a
burst does not count. Elsewhere the 1-minute load average, less one, stands in.

One reading serves every question asked within ``MEMO_S`` seconds, so that the kernels
prepared for one case and the read of X and Y timed beside them decide alike: a kernel
on one thread judged against a floor read on two would look slower than it is.
"""

from __future__ import annotations

import os
import time

LOADAVG = "/proc/loadavg"
TASKS = "/proc/self/task"
#: Reads of the runnable count, this far apart; the least of them counts.
SAMPLES = 5
GAP_S = 0.001
#: A reading of the load is reused for this long (seconds).
MEMO_S = 5.0

_memo: list[float] = []  # [when (monotonic seconds), threads others ran]


def running_now(path: str = LOADAVG) -> int | None:
    """Threads runnable at this instant, this one included, or None where unknown."""
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None


def own_running(tasks: str = TASKS) -> int:
    """This process's threads that are running or runnable now (state R), at least 1."""
    try:
        names = os.listdir(tasks)
    except OSError:
        return 1
    running = 0
    for name in names:
        try:
            with open(os.path.join(tasks, name, "stat"), "rb") as f:
                state = f.read().rpartition(b")")[2].split(maxsplit=1)
        except OSError:
            continue
        running += bool(state) and state[0] == b"R"
    return max(1, running)


def others_now() -> int | None:
    """Threads other processes run at this instant, or None where unknown."""
    count = running_now()
    return None if count is None else max(0, count - own_running())


def others_running(read=others_now, samples: int = SAMPLES, gap_s: float = GAP_S) -> float:
    """Threads that other work keeps running: the least of a few instant counts (``read``);
    the 1-minute load average less one (this process) where there are none."""
    counts = []
    for i in range(samples):
        if i:
            time.sleep(gap_s)
        count = read()
        if count is None:
            break
        counts.append(count)
    if counts:
        return float(min(counts))
    try:
        return max(0.0, os.getloadavg()[0] - 1.0)
    except OSError:
        return 0.0


def recent_others(max_age_s: float = MEMO_S) -> float:
    """``others_running()``, read again only when the last reading is older than
    ``max_age_s``."""
    now = time.monotonic()
    if not _memo or now - _memo[0] > max_age_s:
        _memo[:] = [now, others_running()]
    return _memo[1]


def forget() -> None:
    """Drop the remembered reading: the next question reads the load again."""
    _memo.clear()


def threads_to_use(threads: int, cores: int | None = None, others: float | None = None) -> int:
    """At most ``threads``, and no more than the ``cores`` that ``others`` (threads other
    work runs now; the recent reading when None) leave free: at least one."""
    cores = cores or usable_cores()
    if others is None:
        others = recent_others()
    free = int(cores - others + 0.5)  # a half-busy core still counts as free
    return max(1, min(threads, free))


def usable_cores() -> int:
    """The cores this process may run on (its affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
