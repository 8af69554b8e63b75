"""Ending every process a plugin started, detached ones included.

A plugin may start processes (``subprocess.Popen``, also with ``start_new_session=True``)
that would outlive the run. On Linux, gradrace's worker and probe processes make
themselves child subreapers (``prctl(PR_SET_CHILD_SUBREAPER)``): an orphan among their
descendants is re-parented to them instead of to init, so every process a plugin
started stays in their tree. ``end_tree`` stops such a process, kills its descendants
(again and again, as orphans keep being adopted) and then the process itself.
Elsewhere ``become_subreaper`` does nothing and ``end_tree`` kills the process only.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make this process adopt its orphaned descendants (Linux); whether it worked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def may_have_children() -> None:
    """Let this process, started as a daemon (so that its parent's exit ends it), start
    processes of its own with ``multiprocessing`` (a plugin's ``Pool``): it ends them
    itself (``end_descendants``)."""
    import multiprocessing

    with contextlib.suppress(AssertionError, AttributeError):
        multiprocessing.current_process().daemon = False


def _parents() -> dict[int, int]:
    """pid -> parent pid of every live (not zombie) process, read from /proc."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rpartition(")")[2].split()[:2]  # the name may hold spaces
        if state != "Z":
            out[int(entry.name)] = int(ppid)
    return out


def descendants(pid: int) -> list[int]:
    """The live descendants of ``pid`` (Linux; elsewhere none are known)."""
    if not Path("/proc/self/stat").exists():
        return []
    parents = _parents()
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found, todo = [], list(children.get(pid, []))
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def end_descendants(pid: int, rounds: int = 50) -> None:
    """Kill every descendant of ``pid``, and those it adopts while they die."""
    for _ in range(rounds):
        found = descendants(pid)
        if not found:
            return
        for child in found:
            _kill(child, signal.SIGKILL)
        time.sleep(0.005)  # let them die, and their orphans be adopted


def end_tree(pid: int) -> None:
    """Kill ``pid`` and every descendant it has or adopts while they die."""
    _kill(pid, signal.SIGSTOP)  # it forks no more; orphans are still re-parented to it
    end_descendants(pid)
    _kill(pid, signal.SIGKILL)
