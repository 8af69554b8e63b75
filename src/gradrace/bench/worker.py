"""Process isolation: measurements run in a worker process that the run can kill.

A plugin can hang or crash the interpreter (a segfault in compiled code, ``os._exit``).
The run therefore measures in a ``spawn``-ed worker that rebuilds the registry from
the same plugin specs (no data is shipped: the worker regenerates each problem from
its seed). The worker reports every phase it enters (prepare, check, each timing
round of each implementation); if none arrives within ``timeout`` seconds, or the
worker dies, the parent knows which implementation was running, kills the worker,
and raises ``WorkerLost`` naming it. The run then records that implementation as an
error and measures the case again without it in a fresh worker.

The worker also guards what the verdicts rest on: before every phase event (and after
each request) it checks that no plugin replaced a function of numpy's or of
gradrace's judge (``guard.py``); one that did is named as the culprit, its verdict is
discarded, and the worker is replaced so the others are measured in a clean process.
It is a child subreaper (``reaper.py``): processes a plugin starts end with it.

Cost: one process start (~1–2 s, numba's compiled code comes from its cache) per run
and per lost worker, a pipe message and an identity check (~0.7 ms) per phase event.

Start-up (importing gradrace, numba, jax, ... and the plugins) has its own limit,
``startup_limit(timeout)``: the larger of the run's ``--timeout`` and
``STARTUP_FLOOR_S``, as those imports can take seconds on a busy machine.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import time
import traceback
from dataclasses import dataclass

from gradrace.bench.errors import WorkerStartError
from gradrace.bench.grids import Case
from gradrace.bench.guard import Tampered, Watch, defined_in, describe
from gradrace.bench.interrupt import ignore_ctrl_c
from gradrace.bench.measure import Settings, measure_case
from gradrace.bench.reaper import become_subreaper, end_descendants, end_tree, may_have_children
from gradrace.bench.stray import Strays

#: The least time the worker gets to import gradrace and load the plugins (see
#: ``startup_limit``): a longer --timeout raises it, a shorter one does not lower it.
STARTUP_FLOOR_S = 30.0

#: The least time the worker gets to measure the memory bandwidth and BLAS peak.
MACHINE_FLOOR_S = 120.0


def startup_limit(timeout: float) -> float:
    """Seconds the worker may take to start: ``max(timeout, STARTUP_FLOOR_S)``."""
    return max(timeout, STARTUP_FLOOR_S)


#: Environment defaults of the worker (a variable the user set wins). OpenBLAS's idle
#: threads otherwise spin for ~0.1 s after each call, and OpenMP's (PyTorch's pool, and
#: numba's with its OpenMP layer, through GNU libgomp) for ~9 ms; in interleaved rounds on few cores that steals a
#: core from whichever implementation is timed next (a numba kernel measured 1.5–2× slower
#: right after numpy-dot, dask 2× slower right after numba-fused). OpenBLAS's threads sleep
#: at once instead, OpenMP's after a tenth of their spin (~1 ms, far longer than the gap
#: between two calls of one round), and each round waits for them (``bench.settle``).
WORKER_ENV = {"OPENBLAS_THREAD_TIMEOUT": "4", "GOMP_SPINCOUNT": "30000"}
#: Variables a default is not added beside: libgomp lets a set spin count override the
#: wait policy the user chose.
WORKER_ENV_UNLESS = {"GOMP_SPINCOUNT": ("OMP_WAIT_POLICY",)}


def environment_additions(defaults=WORKER_ENV, unless=WORKER_ENV_UNLESS) -> dict[str, str]:
    """The variables of ``defaults`` to add to this process's environment: each where
    neither it nor a variable of ``unless[name]`` (one it would override) is set."""
    return {
        k: v
        for k, v in defaults.items()
        if k not in os.environ and not any(u in os.environ for u in unless.get(k, ()))
    }


@contextlib.contextmanager
def _environment(defaults: dict[str, str], unless=WORKER_ENV_UNLESS):
    """Set ``defaults`` for a child process started inside the block (see
    ``environment_additions``)."""
    added = environment_additions(defaults, unless)
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


class WorkerLost(RuntimeError):
    """The worker hung or died; ``implementation`` is what it was running ('' if none);
    ``alive``, the other implementations that had a thread or process alive in it then
    (one of them may have ended it)."""

    def __init__(self, implementation: str, phase: str, reason: str, alive=()):
        self.implementation, self.phase, self.reason = implementation, phase, reason
        self.alive = tuple(a for a in alive if a != implementation)
        who = f"{implementation!r} ({phase})" if implementation else phase
        super().__init__(f"worker lost while running {who}: {reason}")


class WorkerFailed(RuntimeError):
    """gradrace itself failed in the worker: the message holds its traceback, and
    ``implementation`` what it was running or judging then ('' if nothing), whose output
    or exception may be what gradrace could not handle."""

    def __init__(self, message: str, implementation: str = "", phase: str = ""):
        super().__init__(message)
        self.implementation, self.phase = implementation, phase


#: How a tampering message ends: what the run did about it.
DISCARDED = "its verdict is discarded and the worker measured the others again without it"
#: ... for work left running, with --no-isolate, where no worker can be replaced.
IN_PROCESS = (
    "its verdict is discarded; in gradrace's own process (--no-isolate) what it left "
    "stays, and the timings after it carry it"
)
#: ... and where no implementation could be charged.
UNCHARGED = "no implementation could be charged for it; the case's rows are errors"


def tampered_reason(tampered: Tampered, in_process: bool = False) -> str:
    """The message for an implementation that replaced numpy's or gradrace's functions, or
    left a thread or process computing."""
    stays = in_process and tampered.reason  # replaced functions are put back, threads are not
    done = UNCHARGED if not tampered.implementation else IN_PROCESS if stays else DISCARDED
    if tampered.reason:
        return f"{tampered.reason}; {done}"
    return (
        f"replaced {describe(tampered.replaced)} while it ran (the reference and the verdicts "
        f"must not depend on a plugin); {done}"
    )


def owners(registry) -> dict[str, set[str]]:
    """The files of each registered implementation's code (its gradient's and prepare's),
    to the names of the implementations defined there: who defined a replacement."""
    ours = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # gradrace's own files
    out: dict[str, set[str]] = {}
    for entry in registry:
        impl = entry.implementation
        for fn in (impl.gradient, impl.prepare, *(v.gradient for v in impl.also)):
            where = defined_in(fn) if fn is not None else None
            if where and not os.path.abspath(where).startswith(ours + os.sep):
                out.setdefault(where, set()).add(entry.name)
    return out


#: How often (seconds) the phase events of a request also look for threads left computing.
STRAYS_EVERY_S = 1.0


def _owner(files: dict[str, set[str]] | None, where: list[str | None]) -> str | None:
    """The one implementation whose file is among ``where`` (the first file that has
    owners decides), else None."""
    for file in where:
        found = (files or {}).get(file or "", set())
        if found:
            return next(iter(found)) if len(found) == 1 else None
    return None


def _check_strays(strays: Strays, files, last: list[str]) -> None:
    """Raise Tampered for a thread left computing, charged to the plugin whose file it
    runs in, else to the implementation that had just run when it appeared."""
    for stray in strays.spinning():
        owner = _owner(files, list(stray.files))
        who = owner if owner is not None else stray.first_seen
        if not who:
            phase = f"a {stray.kind} of unknown origin, found after {last[0] or 'gradrace'} ran"
        elif who == last[0]:
            phase = f"a {stray.kind} it started, found after it ran"
        else:
            phase = f"a {stray.kind} it started"
        raise Tampered(who, phase, [], stray.left())


def guarded(
    report,
    watch: Watch,
    files: dict[str, set[str]] | None = None,
    strays: Strays | None = None,
    on_alive=None,
):
    """``report`` that first checks ``watch``: plugin code that ran since the previous
    event (the implementation named there) must not have replaced watched functions.
    Where a replacement was defined in another implementation's file (``files``, from
    ``owners``: a thread it left running, say), that implementation is named instead.
    At the end of a request (the ``("checked",)`` event), and at a phase event when
    ``STRAYS_EVERY_S`` have passed since it last did, it also asks ``strays`` for threads
    left computing. ``on_alive(names)`` hears, when it changes, which implementations have
    threads or processes alive (see ``Strays.alive_of``)."""
    last, looked, alive = ["", "start"], [time.monotonic()], [frozenset()]

    def checked(*event) -> None:
        if strays is not None:
            strays.note(last[0])
            if on_alive is not None and (now := strays.alive_of()) != alive[0]:
                alive[0] = now
                on_alive(sorted(now))
        replaced = watch.changed()
        if replaced:
            found: set[str] = set()
            for replacement in watch.replacements():
                found |= (files or {}).get(defined_in(replacement) or "", set())
            if len(found) == 1 and last[0] not in found:
                (owner,) = found
                raise Tampered(
                    owner, f"its code, found while {last[0] or 'gradrace'} ran", replaced
                )
            raise Tampered(last[0], last[1], replaced)
        if strays is not None and (
            event[0] != "phase" or time.monotonic() - looked[0] >= STRAYS_EVERY_S
        ):
            _check_strays(strays, files, last)
            looked[0] = time.monotonic()
        if event[0] == "phase":  # ("checked",) only asks for the checks
            last[:] = event[1:3]
            report(*event)

    return checked


def _serve(
    conn,
    plugins: tuple[str, ...],
    entry_points: bool,
    threads: int,
    skip: tuple[str, ...] = (),
    convention: str = "auto",
    known: dict[str, str] | None = None,
    plain_problem: str = "linear",
) -> None:
    ignore_ctrl_c()  # Ctrl-C is the parent's to handle
    become_subreaper()
    may_have_children()
    try:
        _serve_requests(
            conn, plugins, entry_points, threads, skip, convention, known, plain_problem
        )
    finally:
        end_descendants(os.getpid())  # processes a plugin started end with the worker


def _serve_requests(
    conn, plugins, entry_points, threads, skip, convention, known, plain_problem
) -> None:
    from gradrace.bench.loading import quiet_stdout
    from gradrace.bench.machine import machine_figures, set_all_threads
    from gradrace.bench.registry import load_registry

    strays = Strays()  # threads alive before any plugin code ran are not strays
    with quiet_stdout():  # output at import is shown once, by the parent; calls' is not hidden
        registry = load_registry(  # the conventions the probe found: no trial call here
            plugins,
            entry_points=entry_points,
            skip=skip,
            convention=convention,
            known=known,
            plain_problem=plain_problem,
        )
    limiter = set_all_threads(threads)  # noqa: F841 - held for the worker's life
    watch, files = Watch(), owners(registry)
    conn.send(("ready",))
    send = lambda *event: conn.send(event)  # noqa: E731
    while True:
        request = conn.recv()
        report = guarded(send, watch, files, strays, lambda names: send("alive", names))
        try:
            if request[0] == "stop":
                return
            if request[0] == "machine":
                reply = machine_figures()
            elif request[0] == "check":
                from gradrace.bench.check import run_check

                _, names, cases = request
                reply = run_check([registry[n] for n in names], cases, report)
            else:
                _, case, names, settings = request
                reply = measure_case(registry, case, names, settings, report=report)
            report("checked")  # the last implementation's code ran since the last event
            conn.send(("done", reply))
        except Tampered as tampered:
            conn.send(
                ("tampered", tampered.implementation, tampered.phase, tampered_reason(tampered))
            )
            return  # this process is no longer clean: the parent starts a fresh one
        except Exception:
            conn.send(("failed", traceback.format_exc()))


@dataclass
class Worker:
    """A measuring process, started lazily and replaced after it is lost."""

    plugins: tuple[str, ...] = ()
    entry_points: bool = True
    threads: int = 1
    timeout: float = 60.0
    convention: str = "auto"  # how plain functions are called, as in the parent
    skip: tuple[str, ...] = ()  # plugin sources (origins) that failed to load in the parent
    known: dict[str, str] | None = None  # origin -> convention its plain function is read in
    plain_problem: str = "linear"  # the problem of a plain function whose name says none

    def __post_init__(self) -> None:
        self._process = None
        self._conn = None
        self._alive: tuple[str, ...] = ()  # implementations with threads alive in it

    def _start(self) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(
            target=_serve,
            name="gradrace-worker",
            daemon=True,
            args=(
                child,
                self.plugins,
                self.entry_points,
                self.threads,
                self.skip,
                self.convention,
                self.known,
                self.plain_problem,
            ),
        )
        with _environment(WORKER_ENV):
            self._process.start()
        child.close()
        limit = startup_limit(self.timeout)
        reason = self._startup_failure(limit)
        if reason:
            self.close()
            raise WorkerStartError(
                f"the measuring worker did not start: {reason} while importing gradrace and the "
                f"plugins (start-up limit {limit:g} s: the larger of --timeout and "
                f"{STARTUP_FLOOR_S:g} s); nothing more could be measured"
            )

    def _startup_failure(self, limit: float) -> str:
        """Why the worker did not report ready within ``limit`` seconds ('' if it did)."""
        try:
            if self._conn.poll(limit):
                self._conn.recv()
                return ""
            return f"no answer within {limit:g} s"
        except (EOFError, OSError):
            self._process.join(5)
            return f"the worker process died ({_describe_exit(self._process.exitcode)})"

    def _wait(self, timeout: float, name: str, phase: str):
        """Receive the next message, or raise WorkerLost after killing the worker."""
        try:
            if self._conn.poll(timeout):
                return self._conn.recv()
            reason = (
                f"no progress for {timeout:g} s (the per-call time limit); the worker was killed"
            )
        except (EOFError, OSError):
            self._process.join(5)
            code = self._process.exitcode
            reason = f"the worker process died ({_describe_exit(code)})"
        alive = self._alive
        self.close()
        raise WorkerLost(name, phase, reason, alive)

    def _request(self, request, on_event=None, timeout: float | None = None):
        if self._process is None or not self._process.is_alive():
            self._start()
        self._conn.send(request)
        name, phase = "", "waiting"
        while True:
            message = self._wait(timeout or self.timeout, name, phase)
            if message[0] == "alive":
                self._alive = tuple(message[1])
            elif message[0] == "phase":
                _, name, phase = message
                if on_event is not None:
                    on_event(name, phase)
            elif message[0] == "done":
                return message[1]
            elif message[0] == "failed":
                raise WorkerFailed(message[1], name, phase)
            elif message[0] == "tampered":
                _, name, phase, reason = message
                self.close()
                raise WorkerLost(name, phase, reason)

    def machine(self) -> dict:
        """Measure the memory-read bandwidth and BLAS peak with the run's threads."""
        return self._request(("machine",), timeout=max(self.timeout, MACHINE_FLOOR_S))

    def check(self, names, cases, on_event=None):
        """Run the agreement check on ``cases`` for the implementations ``names``."""
        return self._request(("check", tuple(names), tuple(cases)), on_event)

    def measure(self, case: Case, names, settings: Settings, on_event=None) -> list[dict]:
        return self._request(("case", case, tuple(names), settings), on_event)

    def close(self) -> None:
        if self._process is not None:
            if self._process.is_alive():
                end_tree(self._process.pid)  # with every process a plugin started
            self._process.join(5)
            self._conn.close()
        self._process = self._conn = None
        self._alive = ()


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "exit status unknown"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class InProcess:
    """The same interface as ``Worker`` without a process: faster to start, no protection."""

    def __init__(self, registry, threads: int = 1):
        from gradrace.bench.machine import set_all_threads

        self.registry = registry
        self._limiter = set_all_threads(threads)
        self._watch, self._files, self._strays = Watch(), owners(registry), Strays()

    def _guarded(self, report, call):
        """Run ``call(guarded report)``; plugin code that replaced watched functions is
        named (WorkerLost) after they are put back."""
        try:
            return call(guarded(report, self._watch, self._files, self._strays))
        except Tampered as tampered:
            self._watch.restore()
            raise WorkerLost(
                tampered.implementation, tampered.phase, tampered_reason(tampered, True)
            ) from None

    def machine(self) -> dict:
        from gradrace.bench.machine import machine_figures

        return machine_figures()

    def check(self, names, cases, on_event=None):
        from gradrace.bench.check import run_check

        impls = [self.registry[n] for n in names]
        report = (lambda *e: on_event(e[1], e[2])) if on_event else (lambda *e: None)
        return self._guarded(report, lambda r: _finished(run_check(impls, cases, r), r))

    def measure(self, case: Case, names, settings: Settings, on_event=None) -> list[dict]:
        report = (lambda *e: on_event(e[1], e[2])) if on_event else (lambda *e: None)
        return self._guarded(
            report, lambda r: _finished(measure_case(self.registry, case, names, settings, r), r)
        )

    def close(self) -> None:
        self._limiter.restore_original_limits()


def _finished(reply, report):
    """``reply``, after a last guard check for the code that ran since the last event."""
    report("checked")
    return reply
