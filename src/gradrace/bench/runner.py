"""``gradrace run`` as a function: check, then time every implementation over a grid.

Cases run smallest first. Before each, an implementation whose time predicted from
a smaller case (growing with m·n·k) exceeds the budget is skipped with the reason,
so the pure-Python loop never stalls a run. Each finished case is written at once
(``results.py``); ``resume=True`` skips the measurements a folder already holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from gradrace.bench import arguments
from gradrace.bench.busy import assess
from gradrace.bench.cells import neutralised
from gradrace.bench.check import CHECK_CASES, lost_rows
from gradrace.bench.grids import (
    DEFAULT_MAX_ENTRIES,
    QUICK_MAX_ENTRIES,
    Case,
    default_grid,
    for_problems,
    grid,
    quick_grid,
)
from gradrace.bench.interrupt import watching_ctrl_c
from gradrace.bench.loading import absolute_plugin, load_registry_safely
from gradrace.bench.lock import locked
from gradrace.bench.machine import cpu_count, environment
from gradrace.bench.measure import Settings, case_row
from gradrace.bench.outdir import check_out, new_run_folder
from gradrace.bench.problem import PROBLEMS, ensure_fits, problem_bytes
from gradrace.bench.progress import Progress
from gradrace.bench.ranking import rank, unranked
from gradrace.bench.registry import BY_HAND, EP, Registry
from gradrace.bench.results import FORMAT, KEY, ResultsWriter, atomic_write, load_results
from gradrace.bench.resume import check_plugins, stored_config
from gradrace.bench.run_arguments import check_run_arguments, problems
from gradrace.bench.status import DISAGREES, ERROR, NOT_APPLICABLE, OK, SKIPPED
from gradrace.bench.timing import ROUND_TARGET_S, ROUNDS
from gradrace.bench.traits import record
from gradrace.bench.worker import UNCHARGED, InProcess, Worker, WorkerFailed, WorkerLost

#: The ``kind`` of a row whose implementation hung or crashed the worker on that case.
LOST = "lost"
#: The ``kind`` of a skip carried over from a smaller case's skip, of one whose predicted
#: call time is over the budget, and of an implementation that lost the worker before.
INHERITED, OVER_BUDGET, QUARANTINED = "skipped-smaller", "over-budget", "quarantined"


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides what a run measures; stored in the results to resume."""

    cases: tuple[Case, ...]
    implementations: tuple[str, ...]
    plugins: tuple[str, ...] = ()
    entry_points: bool = True
    settings: Settings = field(default_factory=Settings)
    timeout_s: float = 60.0
    isolate: bool = True
    convention: str = "auto"  # how plain functions are called (gradrace.bench.course)
    plain_problem: str = "linear"  # the problem of a plain function whose name says none

    def as_dict(self) -> dict:
        data = asdict(self)
        data["cases"] = [asdict(c) for c in self.cases]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        return cls(
            cases=tuple(Case(**c) for c in data["cases"]),
            implementations=tuple(data["implementations"]),
            plugins=tuple(data["plugins"]),
            entry_points=data["entry_points"],
            settings=Settings(**data["settings"]),
            timeout_s=data["timeout_s"],
            isolate=data["isolate"],
            convention=data.get("convention", "auto"),
            plain_problem=data.get("plain_problem", "linear"),
        )


def build_cases(
    m=None, n=None, k=(1,), dtype=("float64",), quick=False, problem=("linear",)
) -> list[Case]:
    """The grid for the options: explicit ``m``/``n`` lists, or the default or quick grid,
    once for each of ``problem``."""
    return list(for_problems(_sizes(m, n, k, dtype, quick), problem or ("linear",)))


def _sizes(m, n, k, dtype, quick) -> list[Case]:
    k, dtype = tuple(k or (1,)), tuple(dtype or ("float64",))
    if m and n:
        return grid(m, n, k, dtype)
    if m or n:  # one axis given: the other from the default (or quick) grid, with its size cap
        base = (quick_grid if quick else default_grid)(k, dtype)
        cap = QUICK_MAX_ENTRIES if quick else DEFAULT_MAX_ENTRIES
        return grid(
            m or sorted({c.m for c in base}), n or sorted({c.n for c in base}), k, dtype, cap
        )
    return (quick_grid if quick else default_grid)(k, dtype)


def run_problems(cases: Sequence[Case]) -> tuple[str, ...]:
    """The problems ``cases`` hold, in their order (linear when there are none)."""
    return tuple(dict.fromkeys(c.model for c in cases)) or ("linear",)


def plain_problem(problems: Sequence[str]) -> str:
    """The problem a plain function whose name says none is read as: the one problem
    asked for, else linear (with several, such a function is linear, n/a on the rest)."""
    problems = tuple(dict.fromkeys(problems))
    return problems[0] if len(problems) == 1 else "linear"


def check_grid_fits(cases: Sequence[Case]) -> None:
    """Refuse, before anything runs, a grid whose largest case would not fit in memory."""
    worst = max(cases, key=lambda c: problem_bytes(c.m, c.n, c.k, c.dtype))
    x_bytes = worst.m * worst.n * (4 if worst.dtype == "float32" else 8)
    need = problem_bytes(worst.m, worst.n, worst.k, worst.dtype) + 2 * x_bytes  # + copies
    ensure_fits(need, f"the grid's largest case ({worst.label})")


def _predict_skip(name: str, case: Case, done: list[dict], budget_s: float) -> tuple[str, str]:
    """(kind, why) ``name`` should be skipped on ``case``, or ('', ''): skipped when every
    smaller case it was timed on predicts a call over the budget (its median scaled by
    m·n·k; the most favourable counts, so one small case held up by a busy machine does not
    decide alone), or, with none timed, when a smaller case was skipped."""
    smaller = [
        r
        for r in done
        if r["implementation"] == name
        and r["dtype"] == case.dtype
        and r.get("problem", "linear") == case.model
        and r["m"] <= case.m
        and r["n"] <= case.n
        and r["k"] <= case.k
        and r.get("status") in (OK, DISAGREES, SKIPPED)
    ]
    work = case.m * case.n * case.k
    timed = [
        (r["median_s"] * work / (r["m"] * r["n"] * r["k"]), r)
        for r in smaller
        if r["status"] != SKIPPED
    ]
    if timed:
        predicted, base = min(timed, key=lambda pair: pair[0])
        if predicted <= budget_s:
            return "", ""
        return OVER_BUDGET, (
            f"over the budget: a call would take about {predicted:.2g} s (from "
            f"{base['median_s']:.2g} s at m={base['m']:,} n={base['n']:,} k={base['k']}, "
            f"scaled by m·n·k); the budget is {budget_s:g} s (--budget)"
        )
    if not smaller:
        return "", ""
    base = max(smaller, key=lambda r: r["m"] * r["n"] * r["k"])
    if base.get("kind") == INHERITED:
        return INHERITED, base["message"]
    where = f"m={base['m']:,} n={base['n']:,} k={base['k']}"
    return INHERITED, f"skipped at {where}: {base.get('message')}"


class Runner:
    """Carries out one RunConfig, writing into ``out`` as it goes."""

    def __init__(self, config: RunConfig, registry: Registry, writer: ResultsWriter, progress):
        self.config, self.registry, self.writer, self.progress = config, registry, writer, progress
        self.quarantine: dict[str, str] = {  # implementations that hung or crashed the worker
            r["implementation"]: f"lost the worker at m={r['m']:,} n={r['n']:,}: {r['message']}"
            for r in (writer.rows if writer is not None else [])
            if r.get("kind") == LOST
        }
        #: implementations measured in a worker of their own for the rest of the run, and why:
        #: their threads or processes were alive when the worker was lost on another's turn
        #: (kept in the metadata, so that a resumed run keeps them apart too)
        kept = (writer.metadata.get("apart") if writer is not None else None) or {}
        self.apart: dict[str, str] = {
            name: why
            for name, why in kept.items()
            if config.isolate and name in config.implementations and isinstance(why, str) and why
        }
        if config.isolate:
            self.backend = Worker(
                config.plugins,
                config.entry_points,
                config.settings.threads,
                config.timeout_s,
                config.convention,
                tuple(e.source for e in registry.errors),
                dict(registry.conventions),
                config.plain_problem,
            )
        else:
            self.backend = InProcess(registry, config.settings.threads)
        for name in self.quarantine:
            self._exclude(name)

    def _exclude(self, name: str) -> None:
        """Leave a quarantined plugin's source out of the next worker: what it started at
        import (a thread, a process left computing) must not start there again."""
        entry = self.registry.entries.get(name)
        plugin = entry is not None and entry.origin.startswith(BY_HAND + (EP,))
        if plugin and isinstance(self.backend, Worker):
            self.backend.skip = (*self.backend.skip, entry.origin)

    def _quarantine(self, name: str, why: str) -> None:
        self.quarantine[name] = why
        self._exclude(name)

    def machine(self) -> dict:
        """The machine's figures, measured in the worker; an implementation whose import
        left work running there is quarantined, and the worker started again without it."""
        for _ in self.config.implementations:
            try:
                return self.backend.machine()
            except WorkerLost as lost:
                if lost.implementation not in self.config.implementations:
                    raise
                why = f"lost the worker while gradrace measured the machine: {lost.reason}"
                self._quarantine(lost.implementation, why)
        return self.backend.machine()

    def check(self, cases: Sequence[Case] | None = None) -> pd.DataFrame:
        """The agreement check on ``cases`` (default: the check cases of each problem the
        run times)."""
        if cases is None:
            cases = for_problems(CHECK_CASES, run_problems(self.config.cases))
        names = [n for n in self.config.implementations if n not in self.quarantine]
        frames = [
            lost_rows(n, cases, self.quarantine[n])
            for n in self.config.implementations
            if n in self.quarantine
        ]
        frames += self._check(names, cases)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def _check(self, names: list[str], cases, apart: bool = False) -> list[pd.DataFrame]:
        frames: list[pd.DataFrame] = []
        while names:
            try:
                frames.append(self.backend.check(names, cases))
                break
            except WorkerFailed as failed:
                culprit = _culprit(failed.implementation, names)
                frames.append(lost_rows(culprit, cases, _judging_failed(failed)))
                names.remove(culprit)
            except WorkerLost as lost:
                if lost.alive and not apart:
                    for group in self._apart(names, lost, "the agreement check"):
                        frames += self._check(group, cases, True)
                        self._fresh()
                    return frames
                reason = f"{lost.reason} (in {lost.phase})"
                if not lost.implementation and UNCHARGED in lost.reason:  # no one to blame
                    frames += [lost_rows(name, cases, reason) for name in names]
                    break
                culprit = _culprit(lost.implementation, names)
                self._quarantine(culprit, f"lost the worker in the agreement check: {reason}")
                frames.append(lost_rows(culprit, cases, reason))
                names.remove(culprit)
        return frames

    def _measure(self, case: Case, names: list[str], apart: bool = False) -> list[dict]:
        if not apart and any(n in self.apart for n in names):
            return self._kept_apart(case, names)
        rows, names = [], list(names)
        while names:
            on_event = lambda name, phase: self.progress.running(case, name, phase)  # noqa: E731
            try:
                return rows + self.backend.measure(case, names, self.config.settings, on_event)
            except WorkerLost as lost:
                if lost.alive and not apart:
                    return rows + self._measure_apart(case, names, lost)
                message = f"{lost.reason} (in {lost.phase})"
                if lost.implementation not in names:  # a probe's round: no one to blame
                    why = f"the worker was lost while it timed {lost.implementation or 'nothing'}"
                    return rows + self._failed_rows(case, names, f"{why}: {message}")
                rows += self._failed_rows(case, [lost.implementation], message, LOST)
                self._quarantine(lost.implementation, f"lost the worker at {case.label}: {message}")
                names.remove(lost.implementation)
            except WorkerFailed as failed:
                if failed.implementation not in names:
                    return rows + self._failed_rows(case, names, _judging_failed(failed))
                rows += self._failed_rows(case, [failed.implementation], _judging_failed(failed))
                names.remove(failed.implementation)
        return rows

    def _apart(self, names: Sequence[str], lost: WorkerLost, where: str) -> list[list[str]]:
        """``names`` in groups to measure again after ``lost``: those with no thread or
        process alive in the lost worker together, then each that had one alone, so that
        what one left behind cannot end the worker on another's turn (and be charged to
        it); the one that then loses a worker is the one charged. Those with one alive stay
        apart for the rest of the run (``self.apart``)."""
        alive = [n for n in names if n in lost.alive]
        for name in alive:
            self.apart.setdefault(
                name,
                f"measured in a worker of its own since its threads or processes were alive "
                f"when the worker was lost on another's turn ({where}: {lost.reason})",
            )
        if self.writer is not None:
            self.writer.metadata["apart"] = dict(self.apart)
        self.progress.message(
            f"{where}: the worker was lost while {lost.implementation or 'gradrace'} ran "
            f"({lost.reason}), with threads or processes of {', '.join(lost.alive)} alive in "
            "it: measured again apart"
        )
        return [g for g in ([n for n in names if n not in alive], *([n] for n in alive)) if g]

    def _measure_apart(self, case: Case, names: Sequence[str], lost: WorkerLost) -> list[dict]:
        return self._in_groups(case, self._apart(names, lost, case.label))

    def _kept_apart(self, case: Case, names: Sequence[str]) -> list[dict]:
        """``names`` measured as ``_apart`` groups them, each group in a fresh worker, with
        the reason on the rows of those kept apart."""
        alone = [[n] for n in names if n in self.apart]
        return self._in_groups(case, [[n for n in names if n not in self.apart], *alone])

    def _in_groups(self, case: Case, groups: Sequence[list[str]]) -> list[dict]:
        """Each group measured in a fresh worker (the one before may hold what a kept-apart
        one left); those kept apart say why on their rows. A group with none of them is
        measured as any case is, so that another's thread is still found there."""
        rows = []
        for group in groups:
            if group:
                self._fresh()
                rows += self._measure(case, group, apart=any(n in self.apart for n in group))
        self._fresh()
        for row in rows:
            why = self.apart.get(row["implementation"])
            if why:
                note = row.get("message")
                row["message"] = f"{note}; {why}" if note else why
        return rows

    def _fresh(self) -> None:
        """A fresh worker for what comes next: threads a group left cannot reach the next."""
        if isinstance(self.backend, Worker):
            self.backend.close()

    def _failed_rows(
        self, case: Case, names: Sequence[str], message: str, kind: str = "gradrace-failed"
    ) -> list[dict]:
        threads = self.config.settings.threads
        return [case_row(case, n, threads, status=ERROR, kind=kind, message=message) for n in names]

    def run_case(self, case: Case) -> list[dict]:
        threads, budget = self.config.settings.threads, self.config.settings.budget_s
        done = {tuple(r[k] for k in KEY) for r in self.writer.rows}
        todo = [
            n
            for n in self.config.implementations
            if (n, case.m, case.n, case.k, case.dtype, case.model, threads) not in done
        ]
        skipped, measure = [], []
        for name in todo:
            known = name in self.registry
            na = self.registry[name].applies_to(case.model, case.k) if known else ""
            if na:
                skipped.append(
                    case_row(case, name, threads, status=NOT_APPLICABLE, kind="n/a", message=na)
                )
                continue
            if name in self.quarantine:
                kind, why = QUARANTINED, self.quarantine[name]
            else:
                kind, why = _predict_skip(name, case, self.writer.rows, budget)
            if why:
                skipped.append(
                    case_row(case, name, threads, status=SKIPPED, kind=kind, message=why)
                )
            else:
                measure.append(name)
        rows = (self._measure(case, measure) if measure else []) + skipped
        rank(rows, unranked(self.writer.metadata, case.model))
        return rows

    def close(self) -> None:
        self.backend.close()


def _culprit(named: str, names: Sequence[str]) -> str:
    """Whom a lost or failed check blames: the implementation the worker was on, when it
    is one of ``names``, else the first of them (the check runs them in order)."""
    return named if named in names else names[0]


def _judging_failed(failed: WorkerFailed) -> str:
    """A row's message for a case gradrace could not judge, naming what it was doing."""
    last = str(failed).strip().splitlines()[-1]
    during = f" during its {failed.phase}" if failed.implementation and failed.phase else ""
    return f"gradrace failed{during}: {last}"


def default_out() -> Path:
    """A new folder ``reports/<timestamp>-<pid>`` (created: two runs never share one)."""
    return new_run_folder("reports")


@watching_ctrl_c()  # a plugin raising KeyboardInterrupt is its failure, Ctrl-C is the user's
def run(
    *,
    m: Sequence[int] | None = None,
    n: Sequence[int] | None = None,
    k: Sequence[int] = (1,),
    dtype: Sequence[str] = ("float64",),
    impl: Sequence[str] | None = None,
    plugins: Sequence[str] = (),
    entry_points: bool = True,
    threads: int | None = None,
    budget: float = 0.5,
    timeout: float = 60.0,
    quick: bool = False,
    out: str | Path | None = None,
    resume: bool = False,
    isolate: bool = True,
    progress: Progress | None = None,
    convention: str = "auto",
    force: bool = False,
    then: Callable[[pd.DataFrame], object] | None = None,
    problem: Sequence[str] | str | None = None,
) -> pd.DataFrame:
    """Check, then time implementations over a grid; return the results as a DataFrame.

    Results are written to ``out`` (default ``reports/<timestamp>-<pid>``) after every
    case; ``force=True`` overwrites an earlier run's files there. With ``resume=True`` the
    run continues the one stored in ``out`` with its config; its plugins must be given
    again in ``plugins`` (no code named in a results file is imported). One run at a
    time may use ``out`` (``lock.FolderInUse``). ``convention`` says how plain functions
    are called (see ``gradrace.bench.course``); ``problem`` names the problems timed
    ('linear', 'logistic' or both; a plain function whose name says none is read as the
    one problem given, else linear); None: those the implementations given in ``plugins``
    compute, else linear. ``then(results)`` runs while ``out`` is still
    held, so what it writes there (the command line's report) no other run can overwrite.
    """
    m, n, k, dtype, threads, budget, timeout = check_run_arguments(
        m, n, k, dtype, threads, budget, timeout
    )
    chosen = problems("problem", problem) if problem is not None else None
    problem = chosen or ("linear",)
    if threads is not None and threads > cpu_count():
        raise ValueError(
            f"--threads {threads} is more than the {cpu_count()} cores this process may use"
        )
    out = check_out(out if out is not None else default_out(), resume=resume, force=force)
    plugins, registry, config = tuple(dict.fromkeys(map(absolute_plugin, plugins))), None, None
    if not resume:  # plugins are loaded (probed first) before anything is written
        cases = tuple(build_cases(m, n, k, dtype, quick, problem))
        check_grid_fits(cases)
        registry = load_registry_safely(
            plugins,
            entry_points=entry_points,
            timeout=timeout,
            convention=convention,
            plain_problem=(read_as := plain_problem(problem)),
        )
        names = tuple(i.name for i in registry.select(impl))
        if chosen is None and problem != (own := problems_given(registry, names)):
            problem = own
            cases = tuple(build_cases(m, n, k, dtype, quick, problem))
        settings = Settings(
            threads=threads or cpu_count(),
            budget_s=budget,
            round_target_s=0.005 if quick else ROUND_TARGET_S,
            rounds=5 if quick else ROUNDS,
            time_cap_s=0.3 if quick else 1.5,
            max_rounds=15 if quick else 3 * ROUNDS,
        )
        config = RunConfig(
            cases,
            names,
            plugins,
            entry_points,
            settings,
            timeout,
            isolate,
            convention,
            read_as,
        )
    with locked(out):  # checked and read again while no other run can write there
        check_out(out, resume=resume, force=force, held=True)
        previous = load_results(out) if resume else None
        if previous is not None:
            config = resumed_config(previous.attrs["metadata"], out)
            check_plugins(config.plugins, plugins)
        results = execute(config, out, previous, progress=progress, registry=registry)
        if then is not None:
            then(results)
        return results


def problems_given(registry: Registry, names: Sequence[str]) -> tuple[str, ...]:
    """The problems a run of ``names`` times when none is named: those the ones given by
    hand (``--plugin``) compute, so that a learner's logistic function is timed as one;
    linear when none is given."""
    own = [e.implementation for e in registry if e.name in names and e.origin.startswith(BY_HAND)]
    return tuple(p for p in PROBLEMS if any(p in i.problems for i in own)) or ("linear",)


def resumed_config(metadata: dict, out: Path) -> RunConfig:
    """The stored run's config, or a clear error when it cannot be read back."""
    stored = stored_config(metadata, out)
    try:
        return _checked(RunConfig.from_dict(stored))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"{out / 'results.json'}: its run config cannot be read back ({type(exc).__name__}: "
            f"{exc}); it cannot be resumed: start a new run with another --out"
        ) from None


def _checked(config: RunConfig) -> RunConfig:
    """``config`` as read back from a file, after the checks its options get on a command
    line (a results folder can come from anyone): sizes, threads, budget, timeout, rounds."""
    cases, settings = config.cases, config.settings
    sizes = ([c.m for c in cases], [c.n for c in cases], [c.k for c in cases])
    check_run_arguments(
        *sizes,
        [c.dtype for c in cases],
        settings.threads,
        settings.budget_s,
        config.timeout_s,
    )
    problems("problem", [c.model for c in cases])
    for name in ("rounds", "max_rounds"):
        arguments.integer(name, getattr(settings, name))
    for name in ("round_target_s", "time_cap_s", "precision"):
        arguments.number(name, getattr(settings, name), above=0)
    return config


def execute(
    config: RunConfig,
    out: Path,
    previous: pd.DataFrame | None = None,
    progress: Progress | None = None,
    registry: Registry | None = None,
) -> pd.DataFrame:
    """Carry out ``config`` into ``out``, keeping the rows of ``previous``; ``registry``
    is the one loaded from ``config`` (loaded here, plugins probed first, if not given)."""
    check_grid_fits(config.cases)
    if registry is None:
        registry = load_registry_safely(
            config.plugins,
            entry_points=config.entry_points,
            timeout=config.timeout_s,
            convention=config.convention,
            plain_problem=config.plain_problem,
        )
    progress = progress or Progress(len(config.cases))
    for error in registry.errors:
        progress.message(f"plugin not loaded: {error}")
    for name, how in registry.shadowed.items():
        progress.message(f"{name}: {how}")
    metadata = (
        previous.attrs["metadata"]
        if previous is not None
        else {
            **environment(),
            "config": config.as_dict(),
            "load_errors": [str(e) for e in registry.errors],
            "shadowed": dict(registry.shadowed),
            "format": FORMAT,
            "order": registry.names(),
            "implementations": {
                e.name: record(e.implementation, e.origin, config.cases)
                for e in registry
                if e.name in config.implementations
            },
            "unavailable": dict(registry.unavailable),
        }
    )
    rows = previous.to_dict("records") if previous is not None else []
    writer = ResultsWriter(out, metadata, rows)
    runner = Runner(config, registry, writer, progress)
    try:
        if "machine" not in metadata:
            writer.write()  # the folder holds a resumable run from the start
            progress.message("measuring memory bandwidth and BLAS peak ...")
            metadata["machine"] = runner.machine()
            metadata["env"] = metadata["machine"].pop("env")  # as the timing process sees it
            progress.message("agreement check ...")
            check = runner.check()
            atomic_write(out / "check.csv", neutralised(check).to_csv(index=False))
            metadata["check"] = check.astype(object).where(check.notna(), None).to_dict("records")
            writer.write()
        for case in config.cases:
            rows = runner.run_case(case)
            if rows:
                writer.add(rows)
            progress.case_done(case, rows)
        metadata["busy"] = assess(writer.rows, metadata.get("cores") or cpu_count())
        writer.write()
        if metadata["busy"]["warning"]:
            progress.message(metadata["busy"]["warning"])
    finally:
        runner.close()
        progress.close()
    frame = writer.frame()
    frame.attrs["out"] = str(out)
    return frame
