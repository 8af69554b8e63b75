"""Loading plugins under protection: each plugin source is imported in a probe process first.

A plugin runs its module's code at import; one that sleeps forever or calls
``os._exit`` would hang or end gradrace if imported first in gradrace's own process.
``load_registry_safely`` therefore imports every plugin source (entry points and
``--plugin`` specs) in a spawned probe process first, one after the other, each within
``timeout`` seconds. A source that hangs or ends the probe becomes a load error
("hung at import (no answer in 60 s)", "exited with code 3 at import"), the probe goes
on with the rest in a fresh process, and only the sources that passed are imported here.
A source that ends a probe in which others ran before it is probed again first in a fresh
one, so that a thread another source left behind cannot get it refused.

Plugin file paths are made absolute before anything is imported, so a plugin that
changes the working directory at import moves no other path.

Cost: one process start per command (~1 s: it imports gradrace and the plugins), while
this process loads the built-ins; nothing when there is no plugin source at all.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from gradrace.bench import registry as _registry
from gradrace.bench.course import GRADRACE, convention_of
from gradrace.bench.interrupt import ignore_ctrl_c
from gradrace.bench.reaper import become_subreaper, end_tree, may_have_children
from gradrace.bench.registry import (
    LoadError,
    Registry,
    as_implementation,
    load_plugin,
    load_registry,
)
from gradrace.bench.stray import Strays

#: Where a plugin that hung or crashed after its import did so: the one call made to tell
#: which convention a plain function follows (``gradrace.bench.course``).
TRIAL = "in the trial call that tells its convention, after its import"
#: The least time the probe gets to import gradrace before its first plugin.
PROBE_STARTUP_FLOOR_S = 30.0


def absolute_plugin(spec: str) -> str:
    """A ``path/to/file.py:attr`` spec with an absolute path, so a resumed run (from another
    folder) and the worker load the same file; module specs are left as they are."""
    target, sep, attr = spec.rpartition(":")
    if sep and (target.endswith(".py") or "/" in target or "\\" in target):
        return f"{Path(target).expanduser().resolve()}:{attr}"
    return spec


def _flush_stdout() -> None:
    if sys.stdout is not None and not sys.stdout.closed:
        sys.stdout.flush()


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Standard output (file descriptor 1, so a compiled library's writes too) sent to
    os.devnull within the block: a plugin's output at import is the parent's to show, once,
    not again from each child process that imports the plugin. Standard error is kept: it
    may tell why a child died."""
    _flush_stdout()
    saved = os.dup(1)
    sink = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(sink, 1)
        yield
    finally:
        _flush_stdout()  # what Python buffered in the block goes to os.devnull too
        os.dup2(saved, 1)
        os.close(saved)
        os.close(sink)


def _probe(conn, sources: list[tuple[str, str | None]], convention: str) -> None:
    """In the probe process: import each source, saying when it starts and ends, and the
    convention its plain function was read in (a trial call, if any, runs here)."""
    ignore_ctrl_c()  # Ctrl-C is the parent's to handle
    become_subreaper()
    may_have_children()
    with quiet_stdout():  # the parent imports what passes, and shows its output there
        _probe_sources(conn, sources, convention)


def _probe_sources(conn, sources: list[tuple[str, str | None]], convention: str) -> None:
    entry_points = {_registry._entry_point_origin(ep): ep for ep in _registry._entry_points()}
    conn.send(("ready",))
    for origin, spec in sources:
        conn.send(("start", origin))
        read_as, strays, stray = None, Strays(), ""
        try:
            if spec is not None:
                _registry._load_module(spec.rpartition(":")[0])  # the import alone, first
                stray = _stray_words(strays, "at import")
                conn.send(("imported", origin))
                read_as = convention_of(load_plugin(spec, convention))  # a trial call, maybe
            elif origin in entry_points:
                ep = entry_points[origin]
                obj = ep.load()
                stray = _stray_words(strays, "at import")
                conn.send(("imported", origin))
                read_as = convention_of(as_implementation(obj, ep.name, origin, convention))
        except BaseException:  # the import here answers only "does it return?"
            pass
        stray = stray or _stray_words(
            strays, "in its trial call (the one that tells its convention)"
        )
        conn.send(("done", origin, read_as, stray))


def _stray_words(strays: Strays, where: str) -> str:
    """Why a source is not loaded: a thread or process it started keeps computing ('' if
    none)."""
    return next((stray.refused(where) for stray in strays.spinning()), "")


def _exit_words(code: int | None) -> str:
    if code is None:
        return "ended"
    if code < 0:
        try:
            return f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class Probe:
    """Imports plugin sources in a spawned process; ``failures()`` says which hung or crashed."""

    def __init__(
        self, sources: list[tuple[str, str | None]], timeout: float, convention: str = "auto"
    ):
        self.pending, self.timeout, self.convention = list(sources), timeout, convention
        self.failed: dict[str, str] = {}
        self.conventions: dict[str, str] = {}  # origin -> what its plain function was read as
        self._start()

    def _start(self) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(
            target=_probe,
            args=(child, self.pending, self.convention),
            name="gradrace-probe",
            daemon=True,
        )
        self._process.start()
        child.close()

    def _stop(self) -> None:
        if self._process.is_alive():
            end_tree(self._process.pid)
        self._process.join(5)
        self._conn.close()

    def _receive(self, limit: float, where: str = "at import"):
        """The next message, or the reason there is none: ('lost', why)."""
        try:
            if self._conn.poll(limit):
                return self._conn.recv()
            return ("lost", f"hung {where} (no answer in {limit:g} s)", False)
        except (EOFError, OSError):
            self._process.join(5)
            return ("lost", f"{_exit_words(self._process.exitcode)} {where}", True)

    def _run_once(self) -> None:
        """Probe ``pending`` in the current process; on a loss, note it and drop what ran."""
        message = self._receive(max(self.timeout, PROBE_STARTUP_FLOOR_S))
        if message[0] == "lost":  # the probe could not even import gradrace: probe no further
            why = f"not loaded: the process that probes plugins did not start ({message[1]})"
            self.failed.update((o, why) for o, _ in self.pending)
            self.pending = []
            return
        first = True
        while self.pending:
            origin = self.pending[0][0]
            message = self._receive(self.timeout)  # ("start", origin)
            if message[0] != "lost":
                message = self._receive(self.timeout)  # ("imported", origin), or done
            if message[0] == "imported":  # a plain function's trial call may run now
                message = self._receive(self.timeout, TRIAL)  # ("done", origin, read as)
            if message[0] == "lost" and message[2] and not first:
                return  # perhaps ended by what a source before it left running: probe it first
            first = False
            self.pending.pop(0)
            if message[0] == "done" and message[2] is not None:
                self.conventions[origin] = message[2]
            if message[0] == "done" and message[3]:
                self.failed[origin] = message[3]
                continue
            if message[0] == "lost":
                self.failed[origin] = message[1]
                return

    def failures(self) -> dict[str, str]:
        """Origin -> why it cannot be imported here; waits for the probe to finish."""
        try:
            while self.pending:
                self._run_once()
                self._stop()
                if self.pending:
                    self._start()
        finally:
            self._stop()
        return self.failed


def plugin_sources(plugins: Sequence[str], entry_points: bool) -> list[tuple[str, str | None]]:
    """(origin, --plugin spec or None for an entry point) of every plugin source."""
    eps = (
        [(_registry._entry_point_origin(ep), None) for ep in _registry._entry_points()]
        if entry_points
        else []
    )
    return eps + [(f"--plugin {spec}", spec) for spec in plugins]


def load_registry_safely(
    plugins: Sequence[str] = (),
    *,
    entry_points: bool = True,
    timeout: float = 60.0,
    convention: str = "auto",
    plain_problem: str = "linear",
) -> Registry:
    """``load_registry`` with every plugin source probed first in a spawned process.

    ``plugins`` file paths are made absolute; a source that hangs longer than ``timeout``
    or ends the probe process is a load error and is not imported here. A plain function
    whose name says no problem is read as ``plain_problem``.
    """
    plugins = tuple(dict.fromkeys(map(absolute_plugin, plugins)))  # each once
    sources = plugin_sources(plugins, entry_points)
    probe = Probe(sources, timeout, convention) if sources else None
    try:
        load_registry((), entry_points=False)  # the built-ins load here while the probe runs
    finally:
        failed = probe.failures() if probe is not None else {}
    # A source the probe imported but could not read is read as gradrace's: no plugin code
    # runs here beyond its import (a trial call happens in the probe only).
    known = {o: GRADRACE for o, _ in sources if o not in failed}
    known.update(probe.conventions if probe is not None else {})
    registry = load_registry(
        plugins,
        entry_points=entry_points,
        skip=failed,
        convention=convention,
        known=known,
        limit_s=timeout,  # what passed the probe may still hang here
        plain_problem=plain_problem,
    )
    registry.errors[:0] = [LoadError(origin, why) for origin, why in failed.items()]
    registry.conventions = known
    return registry
